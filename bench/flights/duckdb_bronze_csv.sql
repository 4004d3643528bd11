-- Bronze flights from the batch's daily CSV files, typed as the pipeline's schemaHints say.
COPY (SELECT date, delay, distance, origin, destination, filename AS source_file,
             current_timestamp AS ingested_at
      FROM read_csv(@CSV_FILES@, header = true, filename = true, hive_partitioning = false,
                    columns = {'date': 'TIMESTAMP', 'delay': 'BIGINT', 'distance': 'BIGINT',
                               'origin': 'VARCHAR', 'destination': 'VARCHAR'}))
  TO '@OUT@/bronze_flights/part-@PART@-csv.parquet' (FORMAT parquet, COMPRESSION snappy);
