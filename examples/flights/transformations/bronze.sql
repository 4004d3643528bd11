-- Bronze: the files as they land, with where and when each row came in.
-- Flights arrive as daily Parquet files (first half of each month) and daily CSV files (second
-- half): two append flows into one streaming table.
CREATE OR REFRESH STREAMING TABLE bronze_flights
COMMENT 'Raw flight records, one row per landed record';

CREATE FLOW flights_parquet AS INSERT INTO bronze_flights BY NAME
SELECT date, delay, distance, origin, destination,
       _metadata.file_path AS source_file, current_timestamp() AS ingested_at
FROM STREAM read_files('${landing}/flights/parquet', format => 'parquet');

CREATE FLOW flights_csv AS INSERT INTO bronze_flights BY NAME
SELECT CAST(date AS TIMESTAMP_NTZ) AS date, CAST(delay AS BIGINT) AS delay,
       CAST(distance AS BIGINT) AS distance, origin, destination,
       _metadata.file_path AS source_file, current_timestamp() AS ingested_at
FROM STREAM read_files('${landing}/flights/csv', format => 'csv', header => true,
                       schemaHints => 'date TIMESTAMP_NTZ, delay BIGINT, distance BIGINT');

-- Airports: a full extract lands now and then; each one is a new file.
CREATE OR REFRESH STREAMING TABLE bronze_airports
AS SELECT *, _metadata.file_name AS source_file, _metadata.file_modification_time AS extracted_at
FROM STREAM read_files('${landing}/airports', format => 'csv', header => true);
