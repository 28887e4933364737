#!/usr/bin/env bash
# `make bench`: firn's Parquet codec vs pyarrow on TPC-H lineitem SF1, same
# machine, same run, single-threaded. Prints a markdown report and keeps it
# in bench/out/results.md. Usage: bench/run.sh path/to/firn
set -euo pipefail
firn=${1:-build/firn}
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$(dirname "$firn")" && pwd)
py=$here/.venv/bin/python
out=$here/bench/out
reps=${BENCH_REPS:-3}
mkdir -p "$out"
cd "$out"

if [ ! -f lineitem.parquet ]; then
    echo "generating TPC-H lineitem SF1 ..." >&2
    "$here/.venv/bin/tpchgen-cli" parquet -s 1 --tables lineitem --output-dir "$out" >&2
fi
for codec in zstd snappy; do
    [ -f "lineitem_$codec.parquet" ] || "$py" -c "
import pyarrow as pa, pyarrow.parquet as pq
pq.write_table(pq.read_table('lineitem.parquet'), 'lineitem_$codec.parquet', compression='$codec')"
done

best() { # best of N runs of a command printing one JSON line: the fastest
    local i line bestline="" bests=""
    for i in $(seq "$reps"); do
        line=$("$@")
        s=$(printf '%s' "$line" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
        if [ -z "$bests" ] || "$py" -c "import sys; sys.exit(0 if $s < $bests else 1)"; then
            bests=$s; bestline=$line
        fi
    done
    printf '%s\n' "$bestline"
}

rg_rows=1048576           # pyarrow's default row group
rg_bytes=$((64 << 20))    # firn's bound (uncompressed bytes), about the same row groups
: > runs.jsonl
for codec in zstd snappy; do
    echo "read $codec ..." >&2
    best "$build/bench_parquet" read "lineitem_$codec.parquet" >> runs.jsonl
    best "$py" "$here/bench/bench_pyarrow.py" read "lineitem_$codec.parquet" >> runs.jsonl
    echo "write $codec ..." >&2
    best "$build/bench_parquet" write lineitem.parquet "firn_$codec.parquet" "$codec" "$rg_bytes" >> runs.jsonl
    best "$py" "$here/bench/bench_pyarrow.py" write lineitem.parquet "pyarrow_$codec.parquet" "$codec" "$rg_rows" >> runs.jsonl
done

# firn's files must read back in pyarrow with the source's rows and sums
"$py" - <<'PY'
import pyarrow.compute as pc, pyarrow.parquet as pq
src = pq.read_table("lineitem.parquet", columns=["l_orderkey", "l_quantity", "l_extendedprice", "l_comment"])
for codec in ("zstd", "snappy"):
    t = pq.read_table(f"firn_{codec}.parquet", columns=src.column_names)
    assert t.num_rows == src.num_rows, (codec, t.num_rows, src.num_rows)
    for c in ("l_orderkey", "l_quantity", "l_extendedprice"):
        assert pc.sum(t[c]).as_py() == pc.sum(src[c]).as_py(), (codec, c)
    assert t["l_comment"].cast("string").equals(src["l_comment"].cast("string")), codec
PY

"$py" - "$out/runs.jsonl" > results.md <<'PY'
import json, platform, subprocess, sys, datetime
import pyarrow
runs = [json.loads(l) for l in open(sys.argv[1])]
def get(engine, op, key, val):
    return next(r for r in runs if r["engine"] == engine and r["op"] == op and (r.get("codec") == val or val in r.get("file", "")))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
mem = int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))) // 1024 // 1024
firn_ver = subprocess.run([sys.argv[0].replace("python", "python")], capture_output=True) if False else None
print(f"Machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, {mem} GiB; "
      f"pyarrow {pyarrow.__version__}; {datetime.date.today()}; single-threaded; best of the runs.\n")
print("| op | codec | firn rows/s | pyarrow rows/s | firn MB/s | pyarrow MB/s | ratio firn/pyarrow | firn peak MiB | pyarrow peak MiB |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for op in ("read", "write"):
    for codec in ("zstd", "snappy"):
        f = get("firn", op, "codec", codec); p = get("pyarrow", op, "codec", codec)
        print(f"| {op} | {codec} | {f['rows_per_s']:,} | {p['rows_per_s']:,} | {f['mb_per_s']} | {p['mb_per_s']} | "
              f"**{p['seconds'] / f['seconds']:.2f}** | {f['peak_bytes'] / 2**20:.0f} | {p['peak_bytes'] / 2**20:.0f} |")
rf = get("firn", "read", "codec", "zstd")
print(f"\nRead peak memory against the largest row group: firn {rf['peak_bytes'] / 2**20:.0f} MiB for row groups of "
      f"{rf['max_row_group_bytes'] / 2**20:.0f} MiB uncompressed ({rf['peak_bytes'] / rf['max_row_group_bytes']:.2f}x).")
PY
cat results.md
