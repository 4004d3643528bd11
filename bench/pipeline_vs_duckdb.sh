#!/usr/bin/env bash
# A declarative pipeline on a real dataset against bare DuckDB running the same SQL steps and
# writing Parquet (docs/benchmarks.md, "Declarative pipelines"; the limit is 1.2x).
#
#   bench/pipeline_vs_duckdb.sh BUILD_DIR [RUNS]        (RUNS: clean runs of each side, default 3)
#
# The data is flights-3m.parquet (3,000,000 flights of 2001: date TIMESTAMP, delay, distance
# BIGINT, origin, destination VARCHAR) and airports.csv beside it, from third_party/data
# (scripts/bootstrap fetches them; $MEDALLION_BENCH_DATA names another folder). The flights land
# as one snappy Parquet file per month, then each side runs the same steps from nothing:
#
#   bronze  every landed row, plus the file name            (medallion: streaming table,
#                                                            STREAM read_files(parquet))
#   silver  typed columns; rows failing two checks dropped  (streaming table with expectations:
#                                                            2 DROP ROW, 1 warning)
#   airports  the airports of the CSV file                  (materialized view, read_files(csv))
#   gold    daily delay stats per origin with p95; route     (3 materialized views)
#           counts with the origin's state; monthly on-time
#           share per origin
#
# (a) medallion: `medallion run` of that pipeline on an empty lakehouse (Delta tables);
# (b) DuckDB: one `medallion sql -f` script doing the same steps with COPY ... TO Parquet (snappy,
#     as the Delta writer), each step reading the previous step's Parquet file.
# The two sides alternate, RUNS times each; the script prints each run, the medians, the ratio
# medallion / DuckDB of the wall times (the target) and of the CPU times (user + system of all
# threads, which a busy machine disturbs less), and the peak RSS of each process (getrusage of the
# child: the figure /usr/bin/time -v prints as "Maximum resident set size"). Then, on the
# lakehouse of the last medallion run, it times RUNS incremental runs (one more small file landed
# before each) and RUNS runs with nothing new. It fails (exit 1) if the two sides' silver and gold
# tables differ (row counts, and every row compared with EXCEPT ALL), or if any run fails.
#
# Everything happens in BUILD_DIR/bench/pipeline_vs_duckdb, removed and rebuilt on every run.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: bench/pipeline_vs_duckdb.sh BUILD_DIR [RUNS]" >&2
  exit 2
fi
build="$(cd "$1" && pwd)"
runs="${2:-3}"
medallion="$build/src/cli/medallion"
source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ ! -x "$medallion" ]]; then
  echo "pipeline_vs_duckdb: no $medallion; build it first" >&2
  exit 1
fi
data="${MEDALLION_BENCH_DATA:-$source_dir/third_party/data}"
vega="$data/node_modules/vega-datasets/data"  # where the npm package vega-datasets keeps them
if [[ ! -f "$data/flights-3m.parquet" && -f "$vega/flights-3m.parquet" ]]; then
  data="$vega"
fi
flights="$data/flights-3m.parquet"
airports="$data/airports.csv"
for f in "$flights" "$airports"; do
  if [[ ! -f "$f" ]]; then
    echo "pipeline_vs_duckdb: no $f (run scripts/bootstrap)" >&2
    exit 1
  fi
done

work="$build/bench/pipeline_vs_duckdb"
rm -rf "$work"
mkdir -p "$work/landing/flights" "$work/landing/airports" "$work/pipeline/transformations" \
  "$work/logs"
landing="$work/landing"
lakehouse="$work/pipeline/lakehouse"
duck="$work/duckdb"

fail() {
  echo "pipeline_vs_duckdb: FAILED: $*" >&2
  exit 1
}

sql() { "$medallion" sql --format csv "$@"; }

# ---- landing: one Parquet file per month, and the airports CSV ----

echo "landing the flights (one Parquet file per month) ..."
landing_sql=""
for month in 1 2 3 4 5 6 7; do
  landing_sql+="COPY (SELECT * FROM read_parquet('$flights') WHERE month(date) = $month) TO
    '$landing/flights/flights-2001-$(printf %02d $month).parquet' (FORMAT parquet, COMPRESSION snappy);"
done
sql "$landing_sql" >/dev/null
cp "$airports" "$landing/airports/airports.csv"
landed_rows="$(sql "SELECT count(*) FROM read_parquet('$landing/flights/*.parquet')" | tail -1)"
[[ "$landed_rows" == 3000000 ]] || fail "landed $landed_rows rows, expected 3000000"

# ---- (a) the pipeline ----

cat >"$work/pipeline/spark-pipeline.yml" <<EOF
name: flights
libraries:
  - glob:
      include: transformations/**
configuration:
  landing: $landing
EOF

cat >"$work/pipeline/transformations/bronze.sql" <<'EOF'
-- Bronze: the flights as they land, one Parquet file per month, fed incrementally.
CREATE OR REFRESH STREAMING TABLE bronze_flights
COMMENT 'Flights as landed'
AS SELECT *, _metadata.file_name AS source_file
FROM STREAM read_files('${landing}/flights', format => 'parquet');

-- The airports, read in full at each refresh.
CREATE OR REFRESH MATERIALIZED VIEW silver_airports
AS SELECT iata, name AS airport, city, coalesce(state, 'unknown') AS state
FROM read_files('${landing}/airports', format => 'csv', header => true);
EOF

cat >"$work/pipeline/transformations/silver.sql" <<'EOF'
-- Silver: typed flights; implausible delays and rows without a route are dropped.
CREATE OR REFRESH STREAMING TABLE silver_flights (
  CONSTRAINT valid_route EXPECT (origin IS NOT NULL AND destination IS NOT NULL
                                 AND origin <> destination) ON VIOLATION DROP ROW,
  CONSTRAINT plausible_delay EXPECT (delay_minutes BETWEEN -60 AND 1440) ON VIOLATION DROP ROW,
  CONSTRAINT known_distance EXPECT (distance_miles BETWEEN 1 AND 5000)
)
COMMENT 'Typed, checked flights'
AS SELECT
  date AS departure,
  to_date(date) AS flight_date,
  CAST(delay AS INT) AS delay_minutes,
  CAST(distance AS INT) AS distance_miles,
  origin,
  destination,
  concat_ws('-', origin, destination) AS route
FROM STREAM(bronze_flights);
EOF

cat >"$work/pipeline/transformations/gold.sql" <<'EOF'
-- Gold: what people chart.
CREATE OR REFRESH MATERIALIZED VIEW gold_daily_delays
COMMENT 'Delay statistics per origin airport and day'
AS SELECT origin, flight_date,
  count(*) AS flights,
  round(avg(delay_minutes), 2) AS avg_delay,
  percentile_approx(delay_minutes, 0.95) AS p95_delay,
  max(delay_minutes) AS max_delay
FROM silver_flights
GROUP BY origin, flight_date;

CREATE OR REFRESH MATERIALIZED VIEW gold_routes
COMMENT 'Flights per route, with the state of the origin airport'
AS SELECT f.route, f.origin, f.destination, coalesce(a.state, 'unknown') AS origin_state,
  count(*) AS flights,
  sum(f.distance_miles) AS total_miles,
  count_if(f.delay_minutes > 15) AS delayed_flights
FROM silver_flights f LEFT JOIN silver_airports a ON f.origin = a.iata
GROUP BY f.route, f.origin, f.destination, coalesce(a.state, 'unknown');

CREATE OR REFRESH MATERIALIZED VIEW gold_monthly_on_time
COMMENT 'Share of flights at most 15 minutes late, per origin and month'
AS SELECT date_format(flight_date, 'yyyy-MM') AS month, origin,
  count(*) AS flights,
  sum(CASE WHEN delay_minutes <= 15 THEN 1 ELSE 0 END) AS on_time,
  round(sum(CASE WHEN delay_minutes <= 15 THEN 1 ELSE 0 END) / count(*), 4) AS on_time_share
FROM silver_flights
GROUP BY date_format(flight_date, 'yyyy-MM'), origin;
EOF

# ---- (b) the same steps in DuckDB SQL, each step reading the previous step's Parquet ----

cat >"$work/duckdb.sql" <<EOF
SET TimeZone = 'UTC';
COPY (SELECT * EXCLUDE (filename), NULL::VARCHAR AS _rescued_data,
        parse_filename(filename) AS source_file
      FROM read_parquet('$landing/flights/*.parquet', filename = true))
  TO '$duck/bronze_flights.parquet' (FORMAT parquet, COMPRESSION snappy);
COPY (SELECT iata, name AS airport, city, coalesce(state, 'unknown') AS state
      FROM read_csv('$landing/airports/airports.csv', header = true))
  TO '$duck/silver_airports.parquet' (FORMAT parquet, COMPRESSION snappy);
COPY (SELECT
        date AS departure,
        CAST(date AS DATE) AS flight_date,
        CAST(delay AS INTEGER) AS delay_minutes,
        CAST(distance AS INTEGER) AS distance_miles,
        origin,
        destination,
        concat_ws('-', origin, destination) AS route
      FROM read_parquet('$duck/bronze_flights.parquet')
      WHERE (origin IS NOT NULL AND destination IS NOT NULL AND origin <> destination) IS NOT FALSE
        AND (CAST(delay AS INTEGER) BETWEEN -60 AND 1440) IS NOT FALSE)
  TO '$duck/silver_flights.parquet' (FORMAT parquet, COMPRESSION snappy);
COPY (SELECT origin, flight_date,
        count(*) AS flights,
        round(avg(delay_minutes), 2) AS avg_delay,
        quantile_disc(delay_minutes, 0.95) AS p95_delay,
        max(delay_minutes) AS max_delay
      FROM read_parquet('$duck/silver_flights.parquet')
      GROUP BY origin, flight_date)
  TO '$duck/gold_daily_delays.parquet' (FORMAT parquet, COMPRESSION snappy);
COPY (SELECT f.route, f.origin, f.destination, coalesce(a.state, 'unknown') AS origin_state,
        count(*) AS flights,
        sum(f.distance_miles) AS total_miles,
        count_if(f.delay_minutes > 15) AS delayed_flights
      FROM read_parquet('$duck/silver_flights.parquet') f
        LEFT JOIN read_parquet('$duck/silver_airports.parquet') a ON f.origin = a.iata
      GROUP BY f.route, f.origin, f.destination, coalesce(a.state, 'unknown'))
  TO '$duck/gold_routes.parquet' (FORMAT parquet, COMPRESSION snappy);
COPY (SELECT strftime(flight_date, '%Y-%m') AS month, origin,
        count(*) AS flights,
        sum(CASE WHEN delay_minutes <= 15 THEN 1 ELSE 0 END) AS on_time,
        round(sum(CASE WHEN delay_minutes <= 15 THEN 1 ELSE 0 END) / count(*), 4) AS on_time_share
      FROM read_parquet('$duck/silver_flights.parquet')
      GROUP BY strftime(flight_date, '%Y-%m'), origin)
  TO '$duck/gold_monthly_on_time.parquet' (FORMAT parquet, COMPRESSION snappy);
EOF

# ---- timing ----

# measure LOG CMD...: runs CMD (output to LOG), prints "<wall s> <peak RSS KiB> <exit code> <CPU s>"
# (the CPU time is user + system, of all the process's threads).
measure() {
  python3 -c '
import resource, subprocess, sys, time
with open(sys.argv[1], "w") as log:
    start = time.monotonic()
    rc = subprocess.call(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT)
    wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{wall:.3f} {usage.ru_maxrss} {rc} {usage.ru_utime + usage.ru_stime:.3f}")
' "$@"
}

run_medallion() {  # run_medallion LOG: one `medallion run` in the pipeline folder
  (cd "$work/pipeline" && measure "$1" "$medallion" run)
}

declare -a med_times med_rss med_cpu duck_times duck_rss duck_cpu
report() {  # report SIDE N WALL RSS CPU
  printf '  %-28s run %d: %8.2f s  (CPU %6.2f s)   peak RSS %6d MiB\n' "$1" "$2" "$3" "$5" \
    $(($4 / 1024))
}
record() {  # record SIDE N "wall rss rc cpu" LOG
  local side="$1" n="$2" wall rss rc cpu
  read -r wall rss rc cpu <<<"$3"
  [[ "$rc" == 0 ]] || { cat "$4" >&2; fail "$side run $n exited with $rc (log above)"; }
  report "$side" "$n" "$wall" "$rss" "$cpu"
  if [[ "$side" == medallion* ]]; then med_times+=("$wall"); med_rss+=("$rss"); med_cpu+=("$cpu")
  else duck_times+=("$wall"); duck_rss+=("$rss"); duck_cpu+=("$cpu"); fi
}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GB RAM;" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg); $("$medallion" --version | tr '\n' ' ')"
echo "clean runs ($runs of each, alternating):"
for ((i = 1; i <= runs; i++)); do
  if ((i % 2 == 1)); then order="medallion duckdb"; else order="duckdb medallion"; fi
  for side in $order; do
    if [[ "$side" == medallion ]]; then
      rm -rf "$lakehouse"
      record "medallion run (clean)" "$i" "$(run_medallion "$work/logs/medallion-$i.log")" \
        "$work/logs/medallion-$i.log"
    else
      rm -rf "$duck" && mkdir -p "$duck"
      record "duckdb sql (same steps)" "$i" \
        "$(measure "$work/logs/duckdb-$i.log" "$medallion" sql -f "$work/duckdb.sql")" \
        "$work/logs/duckdb-$i.log"
    fi
  done
done
med_median="$(median "${med_times[@]}")"
duck_median="$(median "${duck_times[@]}")"
ratio="$(awk -v a="$med_median" -v b="$duck_median" 'BEGIN {printf "%.2f", a / b}')"
cpu_ratio="$(awk -v a="$(median "${med_cpu[@]}")" -v b="$(median "${duck_cpu[@]}")" \
  'BEGIN {printf "%.2f", a / b}')"

# ---- the two sides must agree ----

echo "checking that medallion's tables equal DuckDB's ..."
table() { echo "delta.\`$lakehouse/default/$1\`"; }
check_sql=""
for t in silver_flights silver_airports gold_daily_delays gold_routes gold_monthly_on_time; do
  m="$(table "$t")"
  d="read_parquet('$duck/$t.parquet')"
  check_sql+="SELECT '$t' AS tbl, (SELECT count(*) FROM $m) AS medallion_rows,
    (SELECT count(*) FROM $d) AS duckdb_rows,
    (SELECT count(*) FROM (FROM $m EXCEPT ALL FROM $d)) AS only_medallion,
    (SELECT count(*) FROM (FROM $d EXCEPT ALL FROM $m)) AS only_duckdb UNION ALL "
done
check_sql="${check_sql% UNION ALL }"
check="$(sql "$check_sql")"
echo "$check" | column -t -s,
echo "$check" | tail -n +2 | while IFS=, read -r t mrows drows only_m only_d; do
  if [[ "$mrows" != "$drows" || "$only_m" != 0 || "$only_d" != 0 || "$mrows" == 0 ]]; then
    fail "$t differs: medallion $mrows rows, DuckDB $drows rows, $only_m only in medallion," \
      "$only_d only in DuckDB"
  fi
done
sums="$(sql "SELECT (SELECT count(*) FROM $(table bronze_flights)) AS bronze_rows,
  (SELECT count(*) FROM read_parquet('$duck/bronze_flights.parquet')) AS duckdb_bronze_rows,
  (SELECT sum(flights) FROM $(table gold_daily_delays)) AS daily_flights,
  (SELECT sum(flights) FROM read_parquet('$duck/gold_daily_delays.parquet')) AS duckdb_daily_flights,
  (SELECT sum(total_miles) FROM $(table gold_routes)) AS route_miles,
  (SELECT sum(total_miles)::BIGINT FROM read_parquet('$duck/gold_routes.parquet')) AS duckdb_route_miles,
  (SELECT sum(on_time) FROM $(table gold_monthly_on_time)) AS on_time,
  (SELECT sum(on_time)::BIGINT FROM read_parquet('$duck/gold_monthly_on_time.parquet')) AS duckdb_on_time")"
echo "$sums" | column -t -s,
IFS=, read -r b_m b_d f_m f_d miles_m miles_d ot_m ot_d <<<"$(echo "$sums" | tail -1)"
[[ "$b_m" == "$b_d" && "$b_m" == 3000000 && "$f_m" == "$f_d" && "$miles_m" == "$miles_d" &&
   "$ot_m" == "$ot_d" ]] || fail "counts and sums differ"
# Column types may differ where DuckDB's Parquet writer has no type for a value (a HUGEINT sum
# is written as DOUBLE, Delta's writer makes it BIGINT); the rows above are compared by value.
echo "  equal."
echo
echo "flows of the last clean medallion run:"
sed -n '/^  flow /,/^$/p' "$work/logs/medallion-$runs.log"

# ---- incremental runs and runs with nothing new, on the last clean run's lakehouse ----

declare -a inc_times noop_times inc_rss noop_rss inc_cpu noop_cpu
echo "incremental runs (one more file of 10,000 flights landed before each):"
for ((i = 1; i <= runs; i++)); do
  sql "COPY (SELECT date + INTERVAL ($i) YEAR AS date, delay, distance, origin, destination
             FROM read_parquet('$flights') LIMIT 10000)
       TO '$landing/flights/flights-late-$i.parquet' (FORMAT parquet, COMPRESSION snappy)" >/dev/null
  read -r wall rss rc cpu <<<"$(run_medallion "$work/logs/incremental-$i.log")"
  [[ "$rc" == 0 ]] || { cat "$work/logs/incremental-$i.log" >&2; fail "incremental run $i"; }
  grep -q 'bronze_flights .*1 new file' "$work/logs/incremental-$i.log" ||
    fail "incremental run $i did not read exactly one new file (see $work/logs/incremental-$i.log)"
  report "medallion run (1 new file)" "$i" "$wall" "$rss" "$cpu"
  inc_times+=("$wall"); inc_rss+=("$rss"); inc_cpu+=("$cpu")
done
echo "flows of the last incremental run:"
sed -n '/^  flow /,/^$/p' "$work/logs/incremental-$runs.log"
echo "runs with nothing new:"
for ((i = 1; i <= runs; i++)); do
  read -r wall rss rc cpu <<<"$(run_medallion "$work/logs/noop-$i.log")"
  [[ "$rc" == 0 ]] || { cat "$work/logs/noop-$i.log" >&2; fail "no-op run $i"; }
  if grep -q '^  COMPLETED' "$work/logs/noop-$i.log"; then
    fail "no-op run $i recomputed something (see $work/logs/noop-$i.log)"
  fi
  report "medallion run (nothing new)" "$i" "$wall" "$rss" "$cpu"
  noop_times+=("$wall"); noop_rss+=("$rss"); noop_cpu+=("$cpu")
done
expected_rows=$((3000000 + runs * 10000))
bronze_rows="$(sql "SELECT count(*) FROM $(table bronze_flights)" | tail -1)"
[[ "$bronze_rows" == "$expected_rows" ]] ||
  fail "bronze_flights has $bronze_rows rows after the incremental runs, expected $expected_rows"

max() { printf '%s\n' "$@" | sort -n | tail -1; }
echo
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %10s %10s %14s\n' "medians of $runs runs" "wall" "CPU" "peak RSS (max)"
summary() {  # summary TITLE TIMES CPUS RSSES (each a space-separated list)
  # shellcheck disable=SC2086
  printf '%-44s %8.2f s %8.2f s %10d MiB\n' "$1" "$(median $2)" "$(median $3)" \
    $(($(max $4) / 1024))
}
summary "medallion run, clean lakehouse" "${med_times[*]}" "${med_cpu[*]}" "${med_rss[*]}"
summary "DuckDB, the same steps to Parquet" "${duck_times[*]}" "${duck_cpu[*]}" "${duck_rss[*]}"
summary "medallion run, 1 new file (10,000 rows)" "${inc_times[*]}" "${inc_cpu[*]}" "${inc_rss[*]}"
summary "medallion run, nothing new" "${noop_times[*]}" "${noop_cpu[*]}" "${noop_rss[*]}"
verdict="$(awk -v r="$ratio" 'BEGIN {print (r <= 1.2) ? "ok" : "OVER (> 1.2)"}')"
echo "ratio medallion / DuckDB (clean runs): $ratio wall, $cpu_ratio CPU  $verdict"
