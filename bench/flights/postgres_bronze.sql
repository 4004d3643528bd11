-- PostgreSQL as an ELT warehouse, the extract-load part: raw ("bronze") tables that the loader
-- appends the landed files to with COPY. Run by psql; the loader's COPY statements follow in a
-- generated script (flights_bench.sh), in the same transaction when the tables are new.
CREATE TABLE IF NOT EXISTS bronze_flights (
  date        timestamp,
  delay       bigint,
  distance    bigint,
  origin      text,
  destination text,
  source_file text,
  ingested_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS bronze_airports (
  iata         text,
  name         text,
  city         text,
  state        text,
  country      text,
  latitude     double precision,
  longitude    double precision,
  source_file  text,
  extracted_at timestamptz
);
