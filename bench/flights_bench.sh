#!/usr/bin/env bash
# The flights medallion pipeline (examples/flights) against three other ways of computing the
# same gold tables from the same landed files, all measured in one run on one machine
# (docs/benchmarks.md, "Flights medallion pipeline: medallion vs DuckDB, PostgreSQL, pandas"):
#
#   medallion  `medallion run --memory-limit 3GB` of the example's own spec and SQL
#              (examples/flights/spark-pipeline.yml, transformations/*.sql): Delta tables;
#   duckdb     bare DuckDB SQL (bench/flights/duckdb_*.sql, one `medallion sql -f` process with
#              the same memory_limit), each layer a Parquet file read by the next: the physical
#              limit for medallion's choice of engine;
#   postgres   PostgreSQL 15 as an ELT warehouse, dbt-postgres style (bench/flights/postgres_*.sql):
#              COPY into raw (bronze) tables, incremental INSERT ... SELECT into silver, gold
#              tables rebuilt; a throwaway server on loopback and a unix socket in the work folder;
#   pandas     bench/flights/pandas_pipeline.py (Debian's python3-pandas).
#
#   bench/flights_bench.sh BUILD_DIR [--scale 1|10] [--runs N]
#
# --scale 1 lands flights-3m.parquet (3,000,000 flights, Jan-Jun 2001); --scale 10 lands it ten
# times with the years shifted by 0..9 (30,000,000 flights, 2001-2010), as daily files exactly as
# examples/flights/land.sh lands them (Parquet for the 1st-15th of each month, CSV for the rest),
# plus the airports extract. The last copy's June 30 is held back: the clean ("full") runs read
# everything else, then that day lands and each side runs its incremental path (medallion: `run`
# on the same lakehouse; duckdb: the new day's files to new bronze and silver Parquet files, gold
# recomputed; postgres: the dbt incremental models and the gold tables rebuilt; pandas: the
# script again, recomputing everything). So after the incremental runs, gold covers every flight.
#
# Each side's full run starts from nothing and runs --runs times (default 1), the sides taking
# turns. The script prints wall time, CPU time (user + system, all threads and child processes;
# for postgres plus the server's processes), peak RSS (largest process; for postgres the summed
# Pss of the server's processes, sampled, plus the client's largest process), and each side's
# ratio to medallion. It then compares the gold tables of all four sides after the last full run
# and after the incremental run (every row, numbers rounded to 6 decimals), and the silver and
# quarantine row counts. It exits 1 if any side fails or any gold table differs.
#
# Installs what is missing (apt-get: postgresql-15, python3-pandas, and python3-pyarrow where
# Debian has it; Debian 12 does not, and then pandas_pipeline.py reads the daily Parquet files
# through DuckDB and writes pickle, see there). Everything happens in
# BUILD_DIR/bench/flights_bench/scaleN, removed and rebuilt on every run (scale 10 needs about
# 10 GB of disk).
set -euo pipefail

usage() {
  echo "usage: bench/flights_bench.sh BUILD_DIR [--scale 1|10] [--runs N]" >&2
  exit 2
}
[[ $# -ge 1 ]] || usage
build="$(cd "$1" && pwd)"
shift
scale=1
runs=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --scale) scale="${2:-}"; shift 2 ;;
    --runs) runs="${2:-}"; shift 2 ;;
    *) usage ;;
  esac
done
[[ "$scale" == 1 || "$scale" == 10 ]] || usage
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || usage

source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
helpers="$source_dir/bench/flights"
example="$source_dir/examples/flights"
medallion="$build/src/cli/medallion"
memory_limit="3GB"
python=/usr/bin/python3  # Debian's, which python3-pandas installs into
pg_bin=/usr/lib/postgresql/15/bin

fail() {
  echo "flights_bench: FAILED: $*" >&2
  exit 1
}
[[ -x "$medallion" ]] || fail "no $medallion; build it first"
data="${MEDALLION_BENCH_DATA:-$source_dir/third_party/data}"
flights_3m="$data/flights-3m.parquet"
airports="$data/airports.csv"
for f in "$flights_3m" "$airports"; do
  [[ -f "$f" ]] || fail "no $f (run scripts/bootstrap)"
done

# ---- what the other sides need, installed only when missing ----

missing=()
[[ -x "$pg_bin/initdb" ]] || missing+=(postgresql-15)
"$python" -c 'import pandas' 2>/dev/null || missing+=(python3-pandas)
if ! "$python" -c 'import pyarrow' 2>/dev/null &&
  apt-cache show python3-pyarrow >/dev/null 2>&1; then
  missing+=(python3-pyarrow)
fi
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "installing ${missing[*]} ..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null ||
    fail "apt-get install ${missing[*]}"
fi
id postgres >/dev/null 2>&1 || fail "no postgres user (the postgresql-15 package creates it)"

work="$build/bench/flights_bench/scale$scale"
landing="$work/landing"
logs="$work/logs"
rm -rf "$work"
mkdir -p "$work" "$logs"
sql() { "$medallion" sql --format csv "$@"; }

# ---- landing, as examples/flights/land.sh does it ----

last_year=$((2000 + scale))
holdout="$last_year-06-30"  # the day the incremental run lands
cp "$example/land.sh" "$work/land.sh"  # it lands into landing/ beside itself
echo "landing the flights (scale $scale) ..."
if [[ "$scale" == 1 ]]; then
  flights="$flights_3m"
else
  flights="$work/flights-x$scale.parquet"
  sql "COPY (SELECT date + to_years(CAST(k AS INTEGER)) AS date, delay, distance, origin, destination
             FROM read_parquet('$flights_3m'), range($scale) AS copies(k))
       TO '$flights' (FORMAT parquet, COMPRESSION snappy)" >/dev/null
fi
"$work/land.sh" "$medallion" "$flights" 2001-01-01 "$last_year-06-29" >"$logs/land.log"
"$work/land.sh" "$medallion" "$flights" "$last_year-07-01" "$last_year-12-31" >>"$logs/land.log"
"$work/land.sh" "$medallion" --airports "$airports" airports_2001-01-01
full_rows="$(sql "SELECT count(*) FROM read_parquet('$flights') WHERE CAST(date AS DATE) <> DATE '$holdout'" | tail -1)"
landed="$(awk -F, '{n += $1; d += $2} END {print n, d}' "$logs/land.log")"
read -r landed_rows landed_days <<<"$landed"
[[ "$landed_rows" == "$full_rows" ]] || fail "landed $landed_rows flights, expected $full_rows"
echo "  $landed_rows flights of $landed_days days in $(find "$landing/flights" -name '*.parquet' | wc -l)" \
  "Parquet and $(find "$landing/flights" -name '*.csv' | wc -l) CSV files, $holdout held back;" \
  "$(du -sh "$landing" | cut -f1) landed"

# ---- measurement ----

# measure LOG [--server-pid PID] CMD...: prints "wall rssKiB rc cpu serverPssKiB serverCpu"
measure() {
  local log="$1"
  shift
  if [[ "${1:-}" == --server-pid ]]; then
    "$python" "$helpers/measure.py" "$log" --server-pid "$2" -- "${@:3}"
  else
    "$python" "$helpers/measure.py" "$log" -- "$@"
  fi
}

declare -A wall cpu rss  # key: "<side> <full|incremental>", value: space-separated per run
record() {  # record SIDE KIND "wall rss rc cpu server_kib server_cpu" LOG
  local side="$1" kind="$2" w r rc c sk sc
  read -r w r rc c sk sc <<<"$3"
  [[ "$rc" == 0 ]] || { tail -30 "$4" >&2; fail "$side $kind run exited with $rc (log: $4)"; }
  c="$(awk -v a="$c" -v b="$sc" 'BEGIN {printf "%.2f", a + b}')"
  r=$((r + sk))
  wall["$side $kind"]+="$w "
  cpu["$side $kind"]+="$c "
  rss["$side $kind"]+="$r "
  printf '  %-10s %-12s %9.2f s   CPU %8.2f s   peak RSS %7d MiB%s\n' "$side" "$kind" "$w" "$c" \
    $((r / 1024)) "$([[ "$sk" != 0 ]] && echo " (server $((sk / 1024)) MiB)")"
}
median() { printf '%s\n' $1 | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
largest() { printf '%s\n' $1 | sort -n | tail -1; }

# ---- (1) medallion: the example pipeline ----

project="$work/medallion"
mkdir -p "$project"
cp -r "$example/transformations" "$project/"
sed "s|^  landing: .*|  landing: $landing|" "$example/spark-pipeline.yml" >"$project/spark-pipeline.yml"
grep -q "landing: $landing" "$project/spark-pipeline.yml" || fail "could not point the spec at $landing"
run_medallion() {  # run_medallion KIND N
  local log="$logs/medallion-$1-$2.log"
  [[ "$1" == full ]] && rm -rf "$project/lakehouse" "$project/.tmp"
  record medallion "$1" "$(cd "$project" && measure "$log" "$medallion" run \
    --memory-limit "$memory_limit")" "$log"
}

# ---- (2) bare DuckDB ----

duck="$work/duckdb"
# duck_script PART PARQUET_FILES CSV_FILES WITH_AIRPORTS > script: the steps of one batch.
duck_script() {
  local part="$1" parquet_files="$2" csv_files="$3" with_airports="$4"
  echo "SET memory_limit = '$memory_limit'; SET temp_directory = '$duck/.tmp';"
  {
    [[ "$with_airports" == yes ]] && cat "$helpers/duckdb_bronze_airports.sql"
    [[ -n "$parquet_files" ]] && cat "$helpers/duckdb_bronze_parquet.sql"
    [[ -n "$csv_files" ]] && cat "$helpers/duckdb_bronze_csv.sql"
    cat "$helpers/duckdb_silver.sql" "$helpers/duckdb_gold.sql"
  } | sed -e "s|@LANDING@|$landing|g" -e "s|@OUT@|$duck|g" -e "s|@PART@|$part|g" \
    -e "s|@PARQUET_FILES@|$parquet_files|g" -e "s|@CSV_FILES@|$csv_files|g"
}
duck_script 0 "'$landing/flights/parquet/*/*.parquet'" "'$landing/flights/csv/*/*.csv'" yes \
  >"$work/duckdb-full.sql"
run_duckdb() {  # run_duckdb KIND N
  local log="$logs/duckdb-$1-$2.log"
  if [[ "$1" == full ]]; then
    rm -rf "$duck"
    mkdir -p "$duck/bronze_flights" "$duck/silver_flights" "$duck/silver_flights_quarantine"
  fi
  record duckdb "$1" "$(measure "$log" "$medallion" sql -f "$work/duckdb-$1.sql")" "$log"
}

# ---- (3) PostgreSQL 15, a throwaway cluster ----

pg="$work/postgres"
mkdir -p "$pg/export"
chown postgres "$pg"
pg_port=$((20000 + RANDOM % 20000))
pg_stop() {
  if [[ -f "$pg/data/postmaster.pid" ]]; then
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
}
trap pg_stop EXIT
runuser -u postgres -- "$pg_bin/initdb" -D "$pg/data" -A trust -U postgres -E UTF8 --locale=C \
  --no-sync >"$logs/initdb.log" 2>&1 || { cat "$logs/initdb.log" >&2; fail "initdb"; }
# A tuned single-node warehouse on this machine: 2 GB of shared buffers, generous sort/hash
# memory, parallel query on both cores, no WAL for tables created and filled in one transaction
# (wal_level = minimal, what dbt's table models do), checkpoints spaced out. Commits are durable
# (fsync and synchronous_commit stay on), as medallion's Delta commits are.
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w \
  -o "-p $pg_port -k $pg -c listen_addresses=127.0.0.1 -c shared_buffers=2GB -c work_mem=256MB \
      -c maintenance_work_mem=1GB -c effective_cache_size=12GB -c max_parallel_workers_per_gather=2 \
      -c wal_level=minimal -c max_wal_senders=0 -c max_wal_size=16GB -c checkpoint_timeout=1h" \
  start >/dev/null || { cat "$pg/server.log" >&2; fail "PostgreSQL did not start"; }
pg_pid="$(head -1 "$pg/data/postmaster.pid")"
psql_cmd=("$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg" -p "$pg_port" -U postgres)
export PGOPTIONS="-c client_min_messages=warning"

# pg_script KIND PARQUET_FILES CSV_FILES WITH_AIRPORTS: writes $pg/KIND.sh, the run of one batch:
# a loader (the daily Parquet files converted to CSV by DuckDB into a pipe, as PostgreSQL cannot
# read Parquet; the CSV files with server-side COPY), then the silver and gold models.
pg_script() {
  local kind="$1" parquet_files="$2" csv_files="$3" with_airports="$4" load="$pg/load-$1.sql"
  local fifo="$pg/parquet-$kind.pipe"
  {
    echo "BEGIN;"
    echo "\\i $helpers/postgres_bronze.sql"
    if [[ -n "$parquet_files" ]]; then
      echo "\\copy bronze_flights (date, delay, distance, origin, destination, source_file) FROM '$fifo' (FORMAT csv, HEADER true)"
    fi
    local f
    for f in $csv_files; do
      echo "ALTER TABLE bronze_flights ALTER COLUMN source_file SET DEFAULT '$f';"
      echo "COPY bronze_flights (date, delay, distance, origin, destination) FROM '$f' (FORMAT csv, HEADER true);"
    done
    echo "ALTER TABLE bronze_flights ALTER COLUMN source_file DROP DEFAULT;"
    if [[ "$with_airports" == yes ]]; then
      for f in "$landing"/airports/*.csv; do
        echo "ALTER TABLE bronze_airports ALTER COLUMN source_file SET DEFAULT '$(basename "$f")',"
        echo "  ALTER COLUMN extracted_at SET DEFAULT to_timestamp($(stat -c %Y "$f"));"
        echo "COPY bronze_airports (iata, name, city, state, country, latitude, longitude) FROM '$f' (FORMAT csv, HEADER true);"
      done
      echo "ALTER TABLE bronze_airports ALTER COLUMN source_file DROP DEFAULT, ALTER COLUMN extracted_at DROP DEFAULT;"
    fi
    echo "COMMIT;"
  } >"$load"
  {
    echo "set -euo pipefail"
    echo "stamp() { echo \"== \$1 \$(date +%s.%N)\"; }"
    echo "stamp load"
    if [[ -n "$parquet_files" ]]; then
      echo "rm -f '$fifo' && mkfifo -m 0600 '$fifo'"
      echo "'$medallion' sql \"COPY (SELECT date, delay, distance, origin, destination, filename FROM read_parquet($parquet_files, filename = true, hive_partitioning = false)) TO '$fifo' (FORMAT csv, HEADER true)\" >/dev/null &"
      echo "converter=\$!"
      echo "trap 'kill \$converter 2>/dev/null || true' EXIT  # if psql fails before reading the pipe"
    fi
    printf '%q ' "${psql_cmd[@]}"
    echo "-d flights -f '$load'"
    [[ -n "$parquet_files" ]] && echo "wait \$converter"
    echo "stamp silver"
    printf '%q ' "${psql_cmd[@]}"
    echo "-d flights -f '$helpers/postgres_silver.sql'"
    echo "stamp gold"
    printf '%q ' "${psql_cmd[@]}"
    echo "-d flights -f '$helpers/postgres_gold.sql'"
    echo "stamp end"
  } >"$pg/$kind.sh"
}
pg_script full "'$landing/flights/parquet/*/*.parquet'" \
  "$(find "$landing/flights/csv" -name '*.csv' | sort | tr '\n' ' ')" yes
run_postgres() {  # run_postgres KIND N
  local log="$logs/postgres-$1-$2.log"
  if [[ "$1" == full ]]; then
    "${psql_cmd[@]}" -d postgres -c "DROP DATABASE IF EXISTS flights" -c "CREATE DATABASE flights"
    "${psql_cmd[@]}" -d postgres -c "CHECKPOINT"
  fi
  record postgres "$1" "$(measure "$log" --server-pid "$pg_pid" bash "$pg/$1.sh")" "$log"
}
pg_export() {
  local t
  for t in gold_daily_origin_delays gold_route_performance gold_monthly_state_on_time; do
    "${psql_cmd[@]}" -d flights -c "\\copy (SELECT * FROM $t) TO '$pg/export/$t.csv' (FORMAT csv, HEADER true)"
  done
  "${psql_cmd[@]}" -d flights -c "\\copy (SELECT (SELECT count(*) FROM silver_flights) AS silver_rows, (SELECT count(*) FROM silver_flights_quarantine) AS quarantined_rows) TO '$pg/export/silver_counts.csv' (FORMAT csv, HEADER true)"
}

# ---- (4) pandas ----

pandas_out="$work/pandas"
run_pandas() {  # run_pandas KIND N: every run recomputes everything
  local log="$logs/pandas-$1-$2.log"
  rm -rf "$pandas_out"
  record pandas "$1" "$(measure "$log" "$python" "$helpers/pandas_pipeline.py" "$landing" \
    "$pandas_out" "$medallion" sql)" "$log"
}

# ---- the full runs ----

echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM;" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$("$medallion" --version | head -1); PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}');" \
  "pandas $("$python" -c 'import pandas; print(pandas.__version__)')"
sides=(medallion duckdb postgres pandas)
echo "full runs ($runs of each, taking turns):"
for ((i = 1; i <= runs; i++)); do
  for ((s = 0; s < ${#sides[@]}; s++)); do
    side="${sides[$(((s + i - 1) % ${#sides[@]}))]}"
    "run_$side" full "$i"
  done
done

# ---- the gold tables must agree ----

# Columns of each gold table, as name:kind. Kinds: key (a grouping column, text), date (a
# grouping column), int, round2 / round4 (a value rounded to 2 / 4 decimals by the SQL).
# Rows are matched on their grouping columns; int columns must be equal; a rounded column must be
# equal to 6 decimals, or else differ by one unit of its last decimal: a tie (a mean such as
# -97 / 40 = -2.425) that PostgreSQL (numeric) and pandas (exact integer arithmetic) round away
# from zero, while medallion and DuckDB round the nearest double (-2.42499999...) down. Those
# rows are counted and reported as "ties"; any other difference fails the benchmark.
declare -A gold_columns=(
  [gold_daily_origin_delays]="flight_date:date origin:key origin_city:key origin_state:key flights:int mean_delay_min:round2 p95_delay_min:int share_delayed_15m:round4"
  [gold_route_performance]="origin:key destination:key route:key flights:int distance:int mean_delay_min:round2 on_time_share:round4"
  [gold_monthly_state_on_time]="flight_month:key state:key flights:int on_time_share:round4"
)
gold_source() {  # gold_source SIDE TABLE: a relation for `medallion sql`
  case "$1" in
    medallion) echo "delta.\`$project/lakehouse/default/$2\`" ;;
    duckdb) echo "read_parquet('$duck/$2.parquet')" ;;
    postgres) echo "read_csv('$pg/export/$2.csv', header = true, all_varchar = true)" ;;
    pandas) echo "read_csv('$pandas_out/$2.csv', header = true, all_varchar = true)" ;;
  esac
}
# compare_table SIDE TABLE: one row: table, side, medallion rows, side rows, rows equal, ties,
# rows that differ (or are missing on one side).
compare_table() {
  local side="$1" t="$2" exprs=() keys=() equal=() near=() spec name kind
  for spec in ${gold_columns[$t]}; do
    name="${spec%%:*}" kind="${spec##*:}"
    case "$kind" in
      date) exprs+=("CAST($name AS DATE) AS $name"); keys+=("$name") ;;
      key) exprs+=("CAST($name AS VARCHAR) AS $name"); keys+=("$name") ;;
      int)
        exprs+=("CAST($name AS BIGINT) AS $name")
        equal+=("m.$name IS NOT DISTINCT FROM s.$name"); near+=("m.$name IS NOT DISTINCT FROM s.$name") ;;
      round*)
        local unit="1e-${kind#round}"
        exprs+=("round(CAST($name AS DOUBLE), 6) AS $name")
        equal+=("m.$name IS NOT DISTINCT FROM s.$name")
        near+=("abs(m.$name - s.$name) <= $unit * 1.000001") ;;
    esac
  done
  local IFS=,
  local select_m="SELECT ${exprs[*]}, true AS present FROM $(gold_source medallion "$t")"
  local select_s="SELECT ${exprs[*]}, true AS present FROM $(gold_source "$side" "$t")"
  local on="" k
  for k in "${keys[@]}"; do on+="${on:+ AND }m.$k IS NOT DISTINCT FROM s.$k"; done
  local all_equal="" all_near="" e
  for e in "${equal[@]}"; do all_equal+="${all_equal:+ AND }$e"; done
  for e in "${near[@]}"; do all_near+="${all_near:+ AND }$e"; done
  echo "SELECT '$t', '$side', count(m.present), count(s.present),
      count(*) FILTER (WHERE m.present AND s.present AND $all_equal),
      count(*) FILTER (WHERE m.present AND s.present AND NOT ($all_equal) AND ($all_near)),
      count(*) FILTER (WHERE m.present IS NULL OR s.present IS NULL OR NOT ($all_near))
    FROM ($select_m) m FULL JOIN ($select_s) s ON $on"
}
compare_gold() {  # compare_gold WHEN: all sides against medallion; fails on any difference
  echo "comparing the gold tables ($1) ..."
  pg_export
  local q="" t side
  for t in gold_daily_origin_delays gold_route_performance gold_monthly_state_on_time; do
    for side in duckdb postgres pandas; do
      q+="$(compare_table "$side" "$t") UNION ALL "
    done
  done
  local counts="SELECT (SELECT count(*) FROM delta.\`$project/lakehouse/default/silver_flights\`),
    (SELECT count(*) FROM delta.\`$project/lakehouse/default/silver_flights_quarantine\`),
    (SELECT count(*) FROM read_parquet('$duck/silver_flights/*.parquet')),
    (SELECT count(*) FROM read_parquet('$duck/silver_flights_quarantine/*.parquet')),
    (SELECT silver_rows || ',' || quarantined_rows FROM read_csv('$pg/export/silver_counts.csv')),
    (SELECT silver_rows || ',' || quarantined_rows FROM read_csv('$pandas_out/silver_counts.csv'))"
  local result
  result="$(sql "${q% UNION ALL }")" || fail "the comparison query failed"
  { echo "gold_table,side,medallion_rows,side_rows,equal,ties,differ"; echo "$result" | tail -n +2; } |
    column -t -s, | sed 's/^/  /'
  local bad=0 tbl sd mrows srows equal ties differ
  while IFS=, read -r tbl sd mrows srows equal ties differ; do
    if [[ "$mrows" != "$srows" || "$differ" != 0 || "$mrows" == 0 ]]; then
      echo "  $tbl: $sd differs from medallion" >&2
      bad=1
    fi
  done < <(echo "$result" | tail -n +2)
  local silver
  silver="$(sql "$counts" | tail -1 | tr -d '"')"
  IFS=, read -r ms mq ds dq ps pq as aq <<<"$silver"
  echo "  silver_flights rows / quarantined: medallion $ms / $mq, duckdb $ds / $dq," \
    "postgres $ps / $pq, pandas $as / $aq"
  [[ "$ms" == "$ds" && "$ms" == "$ps" && "$ms" == "$as" && "$mq" == "$dq" && "$mq" == "$pq" &&
     "$mq" == "$aq" ]] || bad=1
  [[ "$bad" == 0 ]] || fail "the sides disagree ($1); see above"
  echo "  all four agree."
}
compare_gold "after the full runs"

# ---- the incremental runs: one new day lands ----

"$work/land.sh" "$medallion" "$flights" "$holdout" "$holdout" >"$logs/land-incremental.log"
new_day_dir="day=$holdout"
new_files() {  # new_files FORMAT: the new day's landed files of that format, one per line
  local dir="$landing/flights/$1/$new_day_dir"
  if [[ -d "$dir" ]]; then find "$dir" -name "*.$1" | sort; fi
}
new_parquet="$(new_files parquet | sed "s/.*/'&'/" | paste -sd,)"
new_csv="$(new_files csv | paste -sd' ')"
echo "incremental: landed $(cut -d, -f1 "$logs/land-incremental.log") flights of $holdout" \
  "($([[ -n "$new_parquet" ]] && echo Parquet || echo CSV))"
duck_script 1 "${new_parquet:+[$new_parquet]}" \
  "$([[ -n "$new_csv" ]] && echo "[$(echo "$new_csv" | sed "s/[^ ]*/'&'/g; s/ /,/g")]")" no \
  >"$work/duckdb-incremental.sql"
pg_script incremental "${new_parquet:+[$new_parquet]}" "$new_csv" no
run_medallion incremental 1
grep -q 'flights_\(parquet\|csv\) .*1 new file' "$logs/medallion-incremental-1.log" ||
  fail "medallion's incremental run did not read exactly one new file ($logs/medallion-incremental-1.log)"
run_duckdb incremental 1
run_postgres incremental 1
run_pandas incremental 1
compare_gold "after the incremental runs"

# ---- summary ----

echo
echo "flows of medallion's last full run and of its incremental run:"
sed -n '/^  flow /,/^$/p' "$logs/medallion-full-$runs.log"
sed -n '/^  flow /,/^$/p' "$logs/medallion-incremental-1.log"
echo "postgres steps of the last full run (s): $(awk '/^== / {if (p) printf "%s %.1f  ", n, $3 - p; n = $2; p = $3}' \
  "$logs/postgres-full-$runs.log")"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
total_rows=$((full_rows + $(cut -d, -f1 "$logs/land-incremental.log")))
printf 'scale %s: full runs on %s flights (median of %s), incremental run on 1 new day (%s flights in total)\n' \
  "$scale" "$full_rows" "$runs" "$total_rows"
printf '%-10s %-12s %10s %10s %14s %16s %15s\n' side run wall CPU "peak RSS" "wall / medallion" \
  "CPU / medallion"
for kind in full incremental; do
  base="$(median "${wall[medallion $kind]}")"
  cpu_base="$(median "${cpu[medallion $kind]}")"
  for side in "${sides[@]}"; do
    w="$(median "${wall[$side $kind]}")"
    c="$(median "${cpu[$side $kind]}")"
    printf '%-10s %-12s %8.2f s %8.2f s %10d MiB %15.2fx %14.2fx\n' "$side" "$kind" "$w" "$c" \
      $(($(largest "${rss[$side $kind]}") / 1024)) \
      "$(awk -v a="$w" -v b="$base" 'BEGIN {print a / b}')" \
      "$(awk -v a="$c" -v b="$cpu_base" 'BEGIN {print a / b}')"
  done
done
full_med="$(median "${wall[medallion full]}")"
inc_med="$(median "${wall[medallion incremental]}")"
echo
echo "targets:"
verdict() { awk -v x="$1" -v op="$2" -v y="$3" 'BEGIN {ok = (op == "<=") ? x <= y : x >= y; print ok ? "met" : "MISSED"}'; }
r="$(awk -v a="$full_med" -v b="$(median "${wall[duckdb full]}")" 'BEGIN {printf "%.2f", a / b}')"
echo "  medallion / DuckDB (full):            ${r}x  (<= 1.2: $(verdict "$r" '<=' 1.2))"
for side in postgres pandas; do
  r="$(awk -v a="$(median "${wall[$side full]}")" -v b="$full_med" 'BEGIN {printf "%.1f", a / b}')"
  printf '  %-37s %sx  (>= 10: %s)\n' "$side / medallion (full):" "$r" "$(verdict "$r" '>=' 10)"
done
r="$(awk -v a="$full_med" -v b="$inc_med" 'BEGIN {printf "%.1f", a / b}')"
echo "  medallion full / incremental:         ${r}x  (>= 20: $(verdict "$r" '>=' 20))"
echo "  (in CPU time: medallion / DuckDB $(awk -v a="$(median "${cpu[medallion full]}")" \
  -v b="$(median "${cpu[duckdb full]}")" 'BEGIN {printf "%.2f", a / b}')x, postgres / medallion" \
  "$(awk -v a="$(median "${cpu[postgres full]}")" -v b="$(median "${cpu[medallion full]}")" \
  'BEGIN {printf "%.1f", a / b}')x, pandas / medallion $(awk -v a="$(median "${cpu[pandas full]}")" \
  -v b="$(median "${cpu[medallion full]}")" 'BEGIN {printf "%.1f", a / b}')x, full / incremental" \
  "$(awk -v a="$(median "${cpu[medallion full]}")" -v b="$(median "${cpu[medallion incremental]}")" \
  'BEGIN {printf "%.1f", a / b}')x)"
peak_mib=$(($(largest "${rss[medallion full]}") / 1024))
echo "  medallion peak RSS (full):            $peak_mib MiB  (<= 4096 at scale 10: $(verdict "$peak_mib" '<=' 4096))"
