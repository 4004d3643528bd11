-- Silver: typed, deduplicated, conformed.

-- The airport dimension: the latest extract's attributes per airport.
CREATE OR REFRESH MATERIALIZED VIEW silver_airports
AS SELECT iata, name, city, state, country,
          CAST(latitude AS DOUBLE) AS latitude, CAST(longitude AS DOUBLE) AS longitude
FROM (
  SELECT *, row_number() OVER (PARTITION BY iata ORDER BY extracted_at DESC, source_file DESC) AS rn
  FROM bronze_airports
) WHERE rn = 1;

-- Flights, deduplicated within each landed batch and enriched with both airports.
-- Unknown airports and non-positive distances are dropped; implausible delays (earlier than
-- two hours ahead of schedule, or more than a day late) are quarantined for review.
CREATE OR REFRESH STREAMING TABLE silver_flights (
  CONSTRAINT known_origin EXPECT (origin_state IS NOT NULL) ON VIOLATION DROP ROW,
  CONSTRAINT known_destination EXPECT (destination_state IS NOT NULL) ON VIOLATION DROP ROW,
  CONSTRAINT positive_distance EXPECT (distance > 0) ON VIOLATION DROP ROW,
  CONSTRAINT plausible_delay EXPECT (delay BETWEEN -120 AND 1440) ON VIOLATION QUARANTINE,
  CONSTRAINT not_same_airport EXPECT (origin <> destination)
)
PARTITIONED BY (flight_month)
AS SELECT f.date AS departure, to_date(f.date) AS flight_date,
          date_format(f.date, 'yyyy-MM') AS flight_month,
          f.delay, f.distance, f.origin, f.destination,
          o.city AS origin_city, o.state AS origin_state,
          d.city AS destination_city, d.state AS destination_state
FROM (SELECT DISTINCT date, delay, distance, origin, destination FROM STREAM(bronze_flights)) f
LEFT JOIN silver_airports o ON o.iata = f.origin
LEFT JOIN silver_airports d ON d.iata = f.destination;
