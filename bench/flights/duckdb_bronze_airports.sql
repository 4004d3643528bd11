-- Bronze airports: every landed extract, with its file name and modification time (what
-- medallion's _metadata.file_name / file_modification_time give).
COPY (SELECT a.* EXCLUDE (filename), parse_filename(a.filename) AS source_file,
             b.last_modified AS extracted_at
      FROM read_csv('@LANDING@/airports/*.csv', header = true, filename = true) a
      JOIN read_blob('@LANDING@/airports/*.csv') b ON b.filename = a.filename)
  TO '@OUT@/bronze_airports.parquet' (FORMAT parquet, COMPRESSION snappy);

-- The current version of each airport: the row of the newest extract (what the SCD type 2
-- table's rows with __END_AT IS NULL hold).
COPY (SELECT iata, name, city, state, country, CAST(latitude AS DOUBLE) AS latitude,
             CAST(longitude AS DOUBLE) AS longitude
      FROM read_parquet('@OUT@/bronze_airports.parquet')
      QUALIFY row_number() OVER (PARTITION BY iata ORDER BY extracted_at DESC) = 1)
  TO '@OUT@/silver_airports.parquet' (FORMAT parquet, COMPRESSION snappy);
