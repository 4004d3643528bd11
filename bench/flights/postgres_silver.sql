-- Silver, as dbt-postgres models would build it: silver_airports is a table model (rebuilt),
-- silver_flights and its quarantine are incremental models: each run inserts what bronze
-- received after the watermark of the previous run (dbt's is_incremental() filter), deduplicated
-- within that batch, enriched with the current airports and checked with the pipeline's
-- expectations (a check fails when its condition is FALSE; NULL passes).
BEGIN;
DROP TABLE IF EXISTS silver_airports;
CREATE TABLE silver_airports AS
SELECT DISTINCT ON (iata) iata, name, city, state, country, latitude, longitude
FROM bronze_airports
ORDER BY iata, extracted_at DESC;
CREATE UNIQUE INDEX silver_airports_iata ON silver_airports (iata);
COMMIT;

BEGIN;
CREATE TABLE IF NOT EXISTS etl_watermark (model text PRIMARY KEY, high_water timestamptz);
CREATE TABLE IF NOT EXISTS silver_flights (
  departure         timestamp,
  flight_date       date,
  flight_month      text,
  delay             bigint,
  distance          bigint,
  origin            text,
  destination       text,
  origin_city       text,
  origin_state      text,
  destination_city  text,
  destination_state text
);
CREATE TABLE IF NOT EXISTS silver_flights_quarantine (
  LIKE silver_flights,
  _failed_expectations text[],
  _quarantined_at      timestamptz
);

CREATE TEMP VIEW silver_batch AS
SELECT f.date AS departure, f.date::date AS flight_date, to_char(f.date, 'YYYY-MM') AS flight_month,
       f.delay, f.distance, f.origin, f.destination,
       o.city AS origin_city, o.state AS origin_state,
       d.city AS destination_city, d.state AS destination_state
FROM (SELECT DISTINCT date, delay, distance, origin, destination
      FROM bronze_flights
      WHERE ingested_at > coalesce((SELECT high_water FROM etl_watermark
                                    WHERE model = 'silver_flights'), '-infinity')) f
LEFT JOIN silver_airports o ON o.iata = f.origin
LEFT JOIN silver_airports d ON d.iata = f.destination;

INSERT INTO silver_flights
SELECT * FROM silver_batch
WHERE (delay BETWEEN -120 AND 1440) IS NOT FALSE
  AND origin_state IS NOT NULL AND destination_state IS NOT NULL
  AND (distance > 0) IS NOT FALSE;

INSERT INTO silver_flights_quarantine
SELECT *, array_remove(ARRAY['plausible_delay',
                             CASE WHEN origin_state IS NULL THEN 'known_origin' END,
                             CASE WHEN destination_state IS NULL THEN 'known_destination' END,
                             CASE WHEN (distance > 0) IS FALSE THEN 'positive_distance' END],
                       NULL),
       now()
FROM silver_batch
WHERE (delay BETWEEN -120 AND 1440) IS FALSE;

INSERT INTO etl_watermark
SELECT 'silver_flights', max(ingested_at) FROM bronze_flights
ON CONFLICT (model) DO UPDATE SET high_water = excluded.high_water;
DROP VIEW silver_batch;
COMMIT;
