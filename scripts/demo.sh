#!/usr/bin/env bash
# `make demo`: what firn does today, on the embedded default.
# Converts a sample CSV to Parquet (types inferred, then with an explicit
# schema), prints the schema and metadata, and reads it back.
set -euo pipefail
firn=${1:-build/firn}
here=$(cd "$(dirname "$0")/.." && pwd)
out=${FIRN_WAREHOUSE:-$here/warehouse}/demo
mkdir -p "$out"
csv=$here/tests/data/demo_trips.csv

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }

step "$firn" parquet convert "$csv" "$out/trips_inferred.parquet"
step "$firn" parquet schema "$out/trips_inferred.parquet"
step "$firn" parquet convert "$csv" "$out/trips.parquet" \
    --schema 'trip_id long not null, city string, started_at timestamp, day date, distance_km double, fare decimal(10,2), paid boolean' \
    --compression zstd
step "$firn" parquet schema "$out/trips.parquet"
step "$firn" parquet meta "$out/trips.parquet"
step "$firn" parquet cat "$out/trips.parquet" --format jsonl --limit 3
step "$firn" parquet cat "$out/trips.parquet" --columns city,fare --limit 5
