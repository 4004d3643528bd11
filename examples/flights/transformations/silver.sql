-- Silver: typed, deduplicated, conformed.

-- The airport dimension, with history (SCD type 2): each airports extract is a set of change
-- events; a changed attribute closes the airport's current version and opens a new one.
CREATE OR REFRESH STREAMING TABLE silver_airports
COMMENT 'Airports, one row per version (__START_AT, __END_AT)';

CREATE FLOW airports_history AS AUTO CDC INTO silver_airports
FROM STREAM(bronze_airports)
KEYS (iata)
SEQUENCE BY extracted_at
COLUMNS * EXCEPT (source_file, extracted_at, _rescued_data)
STORED AS SCD TYPE 2;

-- The current version of each airport.
CREATE TEMPORARY VIEW current_airports
AS SELECT iata, name, city, state, country,
          CAST(latitude AS DOUBLE) AS latitude, CAST(longitude AS DOUBLE) AS longitude
FROM silver_airports WHERE __END_AT IS NULL;

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
LEFT JOIN current_airports o ON o.iata = f.origin
LEFT JOIN current_airports d ON d.iata = f.destination;
