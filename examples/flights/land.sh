#!/usr/bin/env bash
# Lands flights as an upstream system would: one file per day, Parquet for the 1st-15th of each
# month and CSV for the rest, under landing/flights/{parquet,csv}/day=YYYY-MM-DD/.
#   land.sh MEDALLION_BIN FLIGHTS_PARQUET FIRST_DAY LAST_DAY      (days as YYYY-MM-DD, inclusive)
#   land.sh MEDALLION_BIN --airports AIRPORTS_CSV NAME            (an airports extract)
set -euo pipefail
BIN="$1"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LANDING="$HERE/landing"
if [[ "$2" == "--airports" ]]; then
  mkdir -p "$LANDING/airports"
  cp "$3" "$LANDING/airports/$4.csv"
  exit 0
fi
FLIGHTS="$2" FIRST="$3" LAST="$4"
mkdir -p "$LANDING/flights/parquet" "$LANDING/flights/csv"
"$BIN" sql "
  CREATE TEMP TABLE batch AS
    SELECT *, strftime(date, '%Y-%m-%d') AS day FROM '$FLIGHTS'
    WHERE date >= DATE '$FIRST' AND date < DATE '$LAST' + INTERVAL 1 DAY;
  COPY (SELECT * FROM batch WHERE dayofmonth(date) <= 15)
    TO '$LANDING/flights/parquet' (FORMAT parquet, PARTITION_BY (day), OVERWRITE_OR_IGNORE,
                                   FILENAME_PATTERN 'flights_{i}');
  COPY (SELECT * FROM batch WHERE dayofmonth(date) > 15)
    TO '$LANDING/flights/csv' (FORMAT csv, HEADER, PARTITION_BY (day), OVERWRITE_OR_IGNORE,
                               FILENAME_PATTERN 'flights_{i}');
  SELECT count(*) AS landed_flights, count(DISTINCT day) AS days FROM batch" --format csv | tail -1
