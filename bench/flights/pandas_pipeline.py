"""The flights pipeline of examples/flights written in pandas, as a data engineer would write it
for one machine: read every landed file, build bronze, silver (with its quarantine) and gold,
and write each as Parquet. Every run recomputes everything from the landing folder.

    pandas_pipeline.py LANDING_DIR OUT_DIR [DUCKDB_CLI...]

Parquet needs pyarrow (Debian: python3-pyarrow, from Debian 13 on; Debian 12 has no Parquet
engine for pandas). Without it, the daily Parquet files are converted to one CSV file by the
DuckDB command line given after OUT_DIR (e.g. `medallion sql`), as part of the run, and the
outputs are written with pickle instead of Parquet. The gold tables are also written as CSV
(gold_*.csv), which is what the benchmark compares.

The semantics are the pipeline's (examples/flights/transformations/*.sql):
  - bronze: the daily Parquet files and the daily CSV files (typed as the schemaHints say), plus
    the airports extracts with their file modification time;
  - silver_airports: the newest extract's row per airport (the SCD type 2 table's current rows);
  - silver_flights: distinct (date, delay, distance, origin, destination), joined to the current
    airports of origin and destination; a failed plausible_delay check quarantines the row, a
    failed known_origin / known_destination / positive_distance check drops it (a check fails
    when its condition is false; a missing value passes);
  - gold: the three materialized views. round() is half away from zero, as in Spark and DuckDB,
    computed exactly from integer sums; the percentile is the exact one medallion uses for
    percentile_approx: the smallest value whose cumulative share is at least p.
"""
import glob
import os
import sys

import subprocess

import numpy as np
import pandas as pd

try:
    import pyarrow  # noqa: F401  (pandas' Parquet engine)
    HAVE_PARQUET = True
except ImportError:
    HAVE_PARQUET = False

FLIGHT_COLUMNS = ["date", "delay", "distance", "origin", "destination"]


CSV_TYPES = {"delay": "int64", "distance": "int64", "origin": str, "destination": str}


def read_flights_csv(path):
    return pd.read_csv(path, dtype=CSV_TYPES, parse_dates=["date"], keep_default_na=False,
                       na_values=[""])


def read_bronze_flights(landing, out, duckdb_cli):
    frames = []
    parquet_files = sorted(glob.glob(os.path.join(landing, "flights", "parquet", "*", "*.parquet")))
    if HAVE_PARQUET:
        for path in parquet_files:
            frame = pd.read_parquet(path, columns=FLIGHT_COLUMNS)
            frame["source_file"] = path
            frames.append(frame)
    elif parquet_files:
        if not duckdb_cli:
            sys.exit("pandas_pipeline: no pyarrow, and no DuckDB command to read Parquet with")
        converted = os.path.join(out, "landed_parquet.csv")
        subprocess.run(duckdb_cli + [
            f"COPY (SELECT {', '.join(FLIGHT_COLUMNS)}, filename AS source_file "
            f"FROM read_parquet('{landing}/flights/parquet/*/*.parquet', filename = true, "
            f"hive_partitioning = false)) TO '{converted}' (FORMAT csv, HEADER true)"],
            check=True, stdout=subprocess.DEVNULL)
        frames.append(pd.read_csv(converted, dtype=dict(CSV_TYPES, source_file=str),
                                  parse_dates=["date"], keep_default_na=False, na_values=[""]))
        os.remove(converted)
    for path in sorted(glob.glob(os.path.join(landing, "flights", "csv", "*", "*.csv"))):
        frame = read_flights_csv(path)
        frame["source_file"] = path
        frames.append(frame)
    bronze = pd.concat(frames, ignore_index=True)
    bronze["ingested_at"] = pd.Timestamp.now(tz="UTC")
    return bronze


def read_bronze_airports(landing):
    frames = []
    for path in sorted(glob.glob(os.path.join(landing, "airports", "*.csv"))):
        frame = pd.read_csv(path, dtype={"iata": str, "name": str, "city": str, "state": str,
                                         "country": str}, keep_default_na=False, na_values=[""])
        frame["source_file"] = os.path.basename(path)
        frame["extracted_at"] = pd.Timestamp(os.path.getmtime(path), unit="s", tz="UTC")
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def round_ratio(numerator, denominator, digits):
    """numerator / denominator rounded half away from zero to `digits` decimals, exactly."""
    scale = 10 ** digits
    numerator = np.asarray(numerator, dtype=np.int64)
    denominator = np.asarray(denominator, dtype=np.int64)
    quotient = (2 * np.abs(numerator) * scale + denominator) // (2 * denominator)
    return np.sign(numerator) * quotient / scale


def percentile_disc(frame, keys, column, p):
    """Per group of `keys`: the smallest `column` value whose cumulative share is >= p."""
    ordered = frame[keys + [column]].sort_values(keys + [column], kind="stable")
    grouped = ordered.groupby(keys, sort=False, dropna=False)
    position = grouped.cumcount()
    size = grouped[column].transform("size")
    wanted = np.maximum(np.ceil(size * p).astype(np.int64), 1) - 1
    picked = ordered[position.to_numpy() == wanted.to_numpy()]
    return picked.rename(columns={column: "p"})


def concat_ws(separator, left, right):
    """Spark's concat_ws of two columns: missing values are skipped."""
    both = left.notna() & right.notna()
    return left.where(~both, left + separator + right).fillna(right)


def save(frame, out, name):
    """Writes a table as Parquet, or with pickle when pandas has no Parquet engine."""
    if HAVE_PARQUET:
        frame.to_parquet(os.path.join(out, name + ".parquet"), index=False)
    else:
        frame.to_pickle(os.path.join(out, name + ".pkl"))


def save_gold(frame, out, name):
    save(frame, out, name)
    frame.to_csv(os.path.join(out, name + ".csv"), index=False, date_format="%Y-%m-%d")


def main(landing, out, duckdb_cli):
    os.makedirs(out, exist_ok=True)

    # ---- bronze ----
    bronze = read_bronze_flights(landing, out, duckdb_cli)
    save(bronze, out, "bronze_flights")
    airports = read_bronze_airports(landing)
    save(airports, out, "bronze_airports")

    # ---- silver ----
    current = (airports.sort_values("extracted_at", kind="stable")
               .drop_duplicates("iata", keep="last")
               [["iata", "name", "city", "state", "country", "latitude", "longitude"]])
    save(current, out, "silver_airports")

    flights = bronze[FLIGHT_COLUMNS].drop_duplicates()
    lookup = current[["iata", "city", "state"]]
    flights = flights.merge(
        lookup.rename(columns={"iata": "origin", "city": "origin_city", "state": "origin_state"}),
        on="origin", how="left")
    flights = flights.merge(
        lookup.rename(columns={"iata": "destination", "city": "destination_city",
                               "state": "destination_state"}),
        on="destination", how="left")
    year_month = flights["date"].dt.year * 100 + flights["date"].dt.month
    month_names = {v: f"{v // 100:04d}-{v % 100:02d}" for v in year_month.unique()}
    silver = pd.DataFrame({
        "departure": flights["date"],
        "flight_date": flights["date"].dt.normalize(),
        "flight_month": year_month.map(month_names),
        "delay": flights["delay"],
        "distance": flights["distance"],
        "origin": flights["origin"],
        "destination": flights["destination"],
        "origin_city": flights["origin_city"],
        "origin_state": flights["origin_state"],
        "destination_city": flights["destination_city"],
        "destination_state": flights["destination_state"],
    })
    quarantined = silver["delay"].notna() & ~silver["delay"].between(-120, 1440)
    dropped = (silver["origin_state"].isna() | silver["destination_state"].isna()
               | (silver["distance"].notna() & (silver["distance"] <= 0)))
    quarantine = silver[quarantined].copy()
    quarantine["_quarantined_at"] = pd.Timestamp.now(tz="UTC")
    save(quarantine, out, "silver_flights_quarantine")
    silver = silver[~quarantined & ~dropped].reset_index(drop=True)
    save(silver, out, "silver_flights")
    pd.DataFrame({"silver_rows": [len(silver)], "quarantined_rows": [len(quarantine)]}).to_csv(
        os.path.join(out, "silver_counts.csv"), index=False)

    # ---- gold ----
    silver["is_delayed_15m"] = (silver["delay"] > 15).astype(np.int64)
    silver["is_on_time"] = (silver["delay"] <= 15).astype(np.int64)

    keys = ["flight_date", "origin", "origin_city", "origin_state"]
    daily = (silver.groupby(keys, dropna=False)
             .agg(flights=("delay", "size"), delay_sum=("delay", "sum"),
                  delay_count=("delay", "count"), delayed=("is_delayed_15m", "sum"))
             .reset_index())
    daily = daily.merge(percentile_disc(silver, keys, "delay", 0.95), on=keys, how="left")
    gold_daily = pd.DataFrame({
        "flight_date": daily["flight_date"], "origin": daily["origin"],
        "origin_city": daily["origin_city"], "origin_state": daily["origin_state"],
        "flights": daily["flights"],
        "mean_delay_min": round_ratio(daily["delay_sum"], daily["delay_count"], 2),
        "p95_delay_min": daily["p"],
        "share_delayed_15m": round_ratio(daily["delayed"], daily["flights"], 4),
    })
    save_gold(gold_daily, out, "gold_daily_origin_delays")

    keys = ["origin", "destination", "origin_city", "destination_city"]
    routes = (silver.groupby(keys, dropna=False)
              .agg(flights=("delay", "size"), distance=("distance", "max"),
                   delay_sum=("delay", "sum"), delay_count=("delay", "count"),
                   on_time=("is_on_time", "sum"))
              .reset_index())
    gold_routes = pd.DataFrame({
        "origin": routes["origin"], "destination": routes["destination"],
        "route": concat_ws(" -> ", routes["origin_city"], routes["destination_city"]),
        "flights": routes["flights"], "distance": routes["distance"],
        "mean_delay_min": round_ratio(routes["delay_sum"], routes["delay_count"], 2),
        "on_time_share": round_ratio(routes["on_time"], routes["flights"], 4),
    })
    save_gold(gold_routes, out, "gold_route_performance")

    monthly = (silver.groupby(["flight_month", "origin_state"], dropna=False)
               .agg(flights=("delay", "size"), on_time=("is_on_time", "sum"))
               .reset_index())
    gold_monthly = pd.DataFrame({
        "flight_month": monthly["flight_month"], "state": monthly["origin_state"],
        "flights": monthly["flights"],
        "on_time_share": round_ratio(monthly["on_time"], monthly["flights"], 4),
    })
    save_gold(gold_monthly, out, "gold_monthly_state_on_time")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: pandas_pipeline.py LANDING_DIR OUT_DIR [DUCKDB_CLI...]")
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
