#!/usr/bin/env bash
# `make demo`: the life cycle of an Iceberg table on the embedded catalog
# (SQLite at $FIRN_WAREHOUSE/catalog.db, default ./warehouse): create a
# partitioned table, append twice, scan with a filter, travel back to the
# first snapshot, add a column, append again; delete a few rows
# (merge-on-read), update one day's rows (copy-on-write, picked by the
# impact-ratio rule), travel back to before the delete, compact, expire,
# show the history. Then the Parquet tools on one of the table's data files.
set -euo pipefail
firn=${1:-build/firn}
here=$(cd "$(dirname "$0")/.." && pwd)
export FIRN_WAREHOUSE=${FIRN_WAREHOUSE:-$here/warehouse}
data=$here/tests/data

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }

# start from a clean demo table (other tables in the warehouse are kept)
"$firn" drop demo.trips --purge >/dev/null 2>&1 || true
"$firn" namespace create demo >/dev/null 2>&1 || true

step "$firn" create demo.trips \
    --schema 'trip_id long not null, city string, started_at timestamp, day date, distance_km double, fare decimal(10,2), paid boolean' \
    --partition-by 'month(started_at), bucket(2, city)'
step "$firn" append demo.trips "$data/demo_trips_1.csv"
step "$firn" append demo.trips "$data/demo_trips_2.csv"
step "$firn" scan demo.trips --where "city = 'Oslo' and fare > 10" --columns trip_id,city,started_at,fare
step "$firn" count demo.trips
first=$("$firn" snapshots demo.trips --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["snapshot-id"])')
step "$firn" count demo.trips --snapshot "$first"
step "$firn" scan demo.trips --snapshot "$first" --limit 5
step "$firn" alter demo.trips add-column 'tip decimal(10,2)'
step "$firn" append demo.trips "$data/demo_trips_3.csv"
step "$firn" scan demo.trips --where 'trip_id > 39' --format jsonl
# row-level changes: a few rows (merge-on-read), most of one partition
# (copy-on-write, chosen per file by the impact-ratio rule)
before=$("$firn" snapshots demo.trips --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["snapshot-id"])')
step "$firn" delete demo.trips --where "trip_id in (3, 5)"
step "$firn" update demo.trips --set 'fare = fare * 1.1, paid = true' --where 'distance_km > 2'
step "$firn" files demo.trips
step "$firn" count demo.trips
step "$firn" count demo.trips --snapshot "$before"
step "$firn" compact demo.trips
step "$firn" snapshots demo.trips
step "$firn" history demo.trips
step "$firn" expire demo.trips --retain-last 3 --older-than "$(date -u +%Y-%m-%dT%H:%M:%S)"
step "$firn" describe demo.trips
file=$("$firn" files demo.trips --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["file-path"])')
step "$firn" parquet schema "$file"
