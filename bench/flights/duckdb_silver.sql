-- Silver flights of one batch (bronze part @PART@): deduplicated within the batch, enriched with
-- the current airports, checked with the pipeline's expectations. A failed check is a condition
-- that is FALSE (NULL passes). Rows failing plausible_delay are quarantined (even when they also
-- fail a DROP ROW check); rows failing known_origin, known_destination or positive_distance are
-- dropped; not_same_airport only warns.
CREATE TEMP VIEW checked AS
SELECT f.date AS departure, CAST(f.date AS DATE) AS flight_date,
       strftime(f.date, '%Y-%m') AS flight_month,
       f.delay, f.distance, f.origin, f.destination,
       o.city AS origin_city, o.state AS origin_state,
       d.city AS destination_city, d.state AS destination_state
FROM (SELECT DISTINCT date, delay, distance, origin, destination
      FROM read_parquet('@OUT@/bronze_flights/part-@PART@-*.parquet')) f
LEFT JOIN read_parquet('@OUT@/silver_airports.parquet') o ON o.iata = f.origin
LEFT JOIN read_parquet('@OUT@/silver_airports.parquet') d ON d.iata = f.destination;

COPY (SELECT * FROM checked
      WHERE (delay BETWEEN -120 AND 1440) IS NOT FALSE
        AND (origin_state IS NOT NULL) AND (destination_state IS NOT NULL)
        AND (distance > 0) IS NOT FALSE)
  TO '@OUT@/silver_flights/part-@PART@.parquet' (FORMAT parquet, COMPRESSION snappy);

COPY (SELECT *, list_filter(['plausible_delay',
                             CASE WHEN origin_state IS NULL THEN 'known_origin' END,
                             CASE WHEN destination_state IS NULL THEN 'known_destination' END,
                             CASE WHEN (distance > 0) IS FALSE THEN 'positive_distance' END],
                            x -> x IS NOT NULL) AS _failed_expectations,
             current_timestamp AS _quarantined_at
      FROM checked WHERE (delay BETWEEN -120 AND 1440) IS FALSE)
  TO '@OUT@/silver_flights_quarantine/part-@PART@.parquet' (FORMAT parquet, COMPRESSION snappy);
DROP VIEW checked;
