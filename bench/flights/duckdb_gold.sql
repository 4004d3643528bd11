-- Gold: the three materialized views, recomputed over every silver part. percentile_approx is
-- medallion's quantile_disc (exact: the smallest value whose cumulative share is at least p).
CREATE TEMP VIEW silver AS SELECT * FROM read_parquet('@OUT@/silver_flights/*.parquet');

COPY (SELECT flight_date, origin, origin_city, origin_state,
             count(*) AS flights,
             round(avg(delay), 2) AS mean_delay_min,
             quantile_disc(delay, 0.95) AS p95_delay_min,
             round(avg(CASE WHEN delay > 15 THEN 1.0 ELSE 0.0 END), 4) AS share_delayed_15m
      FROM silver
      GROUP BY flight_date, origin, origin_city, origin_state)
  TO '@OUT@/gold_daily_origin_delays.parquet' (FORMAT parquet, COMPRESSION snappy);

COPY (SELECT origin, destination, concat_ws(' -> ', origin_city, destination_city) AS route,
             count(*) AS flights, max(distance) AS distance,
             round(avg(delay), 2) AS mean_delay_min,
             round(avg(CASE WHEN delay <= 15 THEN 1.0 ELSE 0.0 END), 4) AS on_time_share
      FROM silver
      GROUP BY origin, destination, origin_city, destination_city)
  TO '@OUT@/gold_route_performance.parquet' (FORMAT parquet, COMPRESSION snappy);

COPY (SELECT flight_month, origin_state AS state, count(*) AS flights,
             round(avg(CASE WHEN delay <= 15 THEN 1.0 ELSE 0.0 END), 4) AS on_time_share
      FROM silver
      GROUP BY flight_month, origin_state)
  TO '@OUT@/gold_monthly_state_on_time.parquet' (FORMAT parquet, COMPRESSION snappy);
DROP VIEW silver;
