-- Gold: what people chart.

CREATE OR REFRESH MATERIALIZED VIEW gold_daily_origin_delays
COMMENT 'Per origin airport and day: flights, mean and p95 delay, share delayed over 15 minutes'
AS SELECT flight_date, origin, origin_city, origin_state,
          count(*) AS flights,
          round(avg(delay), 2) AS mean_delay_min,
          percentile_approx(delay, 0.95) AS p95_delay_min,
          round(avg(CASE WHEN delay > 15 THEN 1.0 ELSE 0.0 END), 4) AS share_delayed_15m
FROM silver_flights
GROUP BY flight_date, origin, origin_city, origin_state;

CREATE OR REFRESH MATERIALIZED VIEW gold_route_performance
AS SELECT origin, destination, concat_ws(' -> ', origin_city, destination_city) AS route,
          count(*) AS flights, max(distance) AS distance,
          round(avg(delay), 2) AS mean_delay_min,
          round(avg(CASE WHEN delay <= 15 THEN 1.0 ELSE 0.0 END), 4) AS on_time_share
FROM silver_flights
GROUP BY origin, destination, origin_city, destination_city;

CREATE OR REFRESH MATERIALIZED VIEW gold_monthly_state_on_time
AS SELECT flight_month, origin_state AS state, count(*) AS flights,
          round(avg(CASE WHEN delay <= 15 THEN 1.0 ELSE 0.0 END), 4) AS on_time_share
FROM silver_flights
GROUP BY flight_month, origin_state;
