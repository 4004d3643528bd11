-- Bronze flights from the batch's daily Parquet files.
COPY (SELECT date, delay, distance, origin, destination, filename AS source_file,
             current_timestamp AS ingested_at
      FROM read_parquet(@PARQUET_FILES@, filename = true, hive_partitioning = false))
  TO '@OUT@/bronze_flights/part-@PART@-parquet.parquet' (FORMAT parquet, COMPRESSION snappy);
