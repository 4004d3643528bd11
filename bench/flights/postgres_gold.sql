-- Gold, as dbt-postgres table models: each run rebuilds the tables from all of silver (what
-- medallion's materialized views do). percentile_disc is the same exact percentile as medallion's
-- percentile_approx (DuckDB quantile_disc): the smallest value whose cumulative share is >= p.
BEGIN;
DROP TABLE IF EXISTS gold_daily_origin_delays;
CREATE TABLE gold_daily_origin_delays AS
SELECT flight_date, origin, origin_city, origin_state,
       count(*) AS flights,
       round(avg(delay), 2) AS mean_delay_min,
       percentile_disc(0.95) WITHIN GROUP (ORDER BY delay) AS p95_delay_min,
       round(avg(CASE WHEN delay > 15 THEN 1.0 ELSE 0.0 END), 4) AS share_delayed_15m
FROM silver_flights
GROUP BY flight_date, origin, origin_city, origin_state;
COMMIT;

BEGIN;
DROP TABLE IF EXISTS gold_route_performance;
CREATE TABLE gold_route_performance AS
SELECT origin, destination, concat_ws(' -> ', origin_city, destination_city) AS route,
       count(*) AS flights, max(distance) AS distance,
       round(avg(delay), 2) AS mean_delay_min,
       round(avg(CASE WHEN delay <= 15 THEN 1.0 ELSE 0.0 END), 4) AS on_time_share
FROM silver_flights
GROUP BY origin, destination, origin_city, destination_city;
COMMIT;

BEGIN;
DROP TABLE IF EXISTS gold_monthly_state_on_time;
CREATE TABLE gold_monthly_state_on_time AS
SELECT flight_month, origin_state AS state, count(*) AS flights,
       round(avg(CASE WHEN delay <= 15 THEN 1.0 ELSE 0.0 END), 4) AS on_time_share
FROM silver_flights
GROUP BY flight_month, origin_state;
COMMIT;
