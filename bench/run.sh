#!/usr/bin/env bash
# `make bench` (issue 2): firn's Parquet writer and reader against pyarrow on
# TPC-H lineitem at scale factor 1 (6,001,215 rows), same machine, same run,
# single-threaded, zstd and snappy. Prints a markdown report and keeps it in
# bench/out/results.md (raw runs: bench/out/runs.jsonl).
#
#   bench/run.sh BUILD/firn
#
# The build directory is the firn binary's directory: bench_parquet comes
# from there (CMake target), or is compiled here against its libfirn.a.
# Nothing is installed: .venv (pyarrow, tpchgen-cli) is scripts/bootstrap.sh's.
# Environment: BENCH_REPS (default 3; the best run of each is kept),
# BENCH_OUT (default bench/out), BENCH_POOL (pyarrow's memory pool: system,
# the default, is glibc malloc as firn uses; on this project's 2-core VM it
# also made pyarrow as fast as or faster than its own default, mimalloc, or
# jemalloc).
set -euo pipefail

firn=${1:?usage: bench/run.sh path/to/firn}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$(dirname "$firn")" && pwd)
firn=$build/$(basename "$firn")
py=$root/.venv/bin/python
tpchgen=$root/.venv/bin/tpchgen-cli
out=${BENCH_OUT:-$root/bench/out}
reps=${BENCH_REPS:-3}
pool=${BENCH_POOL:-system}
rg_rows=1048576          # pyarrow's row groups (its default, 1 Mi rows)
rg_bytes=$((64 << 20))   # firn's bound, uncompressed bytes: ~1 Mi lineitem rows too

for t in "$py" "$tpchgen"; do
    [ -x "$t" ] || { echo "bench: $t missing; run scripts/bootstrap.sh (make bench does)" >&2; exit 1; }
done
mkdir -p "$out"
log() { printf 'bench: %s\n' "$*" >&2; }

# ---- the driver -------------------------------------------------------
if [ -f "$build/build.ninja" ] && grep -q '^build bench_parquet' "$build/build.ninja"; then
    cmake --build "$build" --target bench_parquet >&2   # the CMake target, brought up to date
    # a private copy: a rebuild of the tree during the run must not change
    # the binary between repetitions
    cp "$build/bench_parquet" "$out/bench_parquet"
    bench=$out/bench_parquet
else
    [ -f "$build/libfirn.a" ] || { echo "bench: $build/libfirn.a missing; build firn first" >&2; exit 1; }
    bench=$out/bench_parquet
    if [ ! -x "$bench" ] || [ "$bench" -ot "$build/libfirn.a" ] || [ "$bench" -ot "$root/bench/bench_parquet.c" ]; then
        log "compiling bench_parquet against $build/libfirn.a"
        gcc -O2 -std=c11 -I"$root/include" "$root/bench/bench_parquet.c" "$build/libfirn.a" \
            $(pkg-config --libs libzstd snappy zlib liblz4 jansson) -lpthread -lm -o "$bench"
    fi
fi

# the library the driver was just linked against
commit_at_start=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "?")
git -C "$root" diff --quiet HEAD -- src include 2>/dev/null || commit_at_start="$commit_at_start + uncommitted changes to src/ or include/"

# ---- inputs (cached) --------------------------------------------------
# tpch/lineitem.parquet: tpchgen-cli's output, as generated.
# lineitem.parquet:        the baseline, written by pyarrow: zstd, row groups
#                          of 1 Mi rows, strings as plain utf8 (tpchgen's
#                          Arrow schema asks for string_view, which firn's
#                          Arrow has not). Read-zstd input and write input.
# lineitem_snappy.parquet: the same table, snappy. Read-snappy input.
# lineitem.arrow:          the same table as an Arrow IPC file: pyarrow's
#                          write runs load it (untimed) without touching the
#                          memory pool they measure.
if [ ! -f "$out/tpch/lineitem.parquet" ]; then
    log "generating TPC-H lineitem SF1 with tpchgen-cli (once) ..."
    "$tpchgen" parquet --scale-factor 1 --tables lineitem --output-dir "$out/tpch" --quiet
fi
stamp=$out/.inputs-v1
if [ ! -f "$stamp" ] || [ "$stamp" -ot "$out/tpch/lineitem.parquet" ]; then
    log "writing the baseline inputs with pyarrow (once) ..."
    rm -f "$stamp"
    (cd "$out" && "$py" - <<'PY'
import pyarrow as pa, pyarrow.ipc as ipc, pyarrow.parquet as pq
t = pq.read_table("tpch/lineitem.parquet")
fields = [pa.field(f.name, pa.string() if f.type in (pa.string_view(), pa.large_string()) else f.type,
                   f.nullable, f.metadata) for f in t.schema]
t = t.cast(pa.schema(fields)).combine_chunks()
assert t.num_rows == 6001215, t.num_rows
for codec, name in (("zstd", "lineitem.parquet"), ("snappy", "lineitem_snappy.parquet")):
    pq.write_table(t, name, compression=codec, use_dictionary=True, row_group_size=1 << 20)
with ipc.new_file("lineitem.arrow", t.schema) as w:
    w.write_table(t, max_chunksize=1 << 20)
PY
    )
    touch "$stamp"
fi

# ---- the runs ---------------------------------------------------------
load=$(cut -d' ' -f1 /proc/loadavg)
runs=$out/runs.jsonl
: > "$runs"
pyb() { "$py" "$root/bench/bench_pyarrow.py" "$@" --pool "$pool"; }
# Each case is run reps times; firn and pyarrow alternate so that drift in
# the machine's speed hits both alike.
for rep in $(seq "$reps"); do
    log "repetition $rep of $reps"
    for codec in zstd snappy; do
        src=$out/lineitem.parquet
        [ "$codec" = snappy ] && src=$out/lineitem_snappy.parquet
        "$bench" read "$src" >> "$runs"
        pyb read "$src" --api iter_batches >> "$runs"
        pyb read "$src" --api read_table >> "$runs"
    done
    for codec in zstd snappy; do
        "$bench" write "$out/lineitem.parquet" "$out/firn_$codec.parquet" --codec "$codec" \
            --row-group-size "$rg_bytes" >> "$runs"
        pyb write "$out/lineitem.arrow" "$out/pyarrow_$codec.parquet" --codec "$codec" \
            --row-group-rows "$rg_rows" >> "$runs"
    done
done

# ---- correctness: firn's files read back with pyarrow -----------------
log "checking firn's files with pyarrow"
(cd "$out" && "$py" - <<'PY'
import sys
import pyarrow.compute as pc, pyarrow.parquet as pq
src = pq.read_table("lineitem.parquet")
sums = {c: pc.sum(src[c]).as_py() for c in ("l_orderkey", "l_quantity", "l_extendedprice")}
bad = []
for codec in ("zstd", "snappy"):
    name = f"firn_{codec}.parquet"
    f = pq.ParquetFile(name)
    got = f.metadata.row_group(0).column(0).compression
    if got != codec.upper():
        bad.append(f"{name}: compression {got}, wanted {codec.upper()}")
    t = f.read()
    if t.num_rows != src.num_rows:
        bad.append(f"{name}: {t.num_rows} rows, the input has {src.num_rows}")
        continue
    for c, want in sums.items():
        s = pc.sum(t[c]).as_py()
        if s != want:
            bad.append(f"{name}: sum({c}) = {s}, the input's is {want}")
    if t.schema.names != src.schema.names:
        bad.append(f"{name}: columns {t.schema.names}")
    else:
        for c in src.schema.names:
            if not t[c].equals(src[c]):
                bad.append(f"{name}: column {c} differs from the input")
if bad:
    print("bench: FIRN WROTE WRONG DATA:\n  " + "\n  ".join(bad), file=sys.stderr)
    sys.exit(1)
print("bench: firn's zstd and snappy files read back in pyarrow: 6001215 rows, sums of "
      "l_orderkey, l_quantity, l_extendedprice and every column equal to the input's", file=sys.stderr)
PY
)

# ---- the report -------------------------------------------------------
machine_cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
machine_cpus=$(nproc)
machine_mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
export BENCH_MACHINE="$machine_cpu, $machine_cpus cores, $machine_mem RAM, $(uname -sr), $(. /etc/os-release && echo "$PRETTY_NAME")"
export BENCH_VERSIONS="$("$firn" version 2>/dev/null | head -1) at $commit_at_start (${build_type:-?} build, $(gcc -dumpfullversion 2>/dev/null || echo gcc ?), libzstd $(pkg-config --modversion libzstd), snappy $(pkg-config --modversion snappy)); pyarrow $("$py" -c 'import pyarrow; print(pyarrow.__version__)') (memory pool: $pool); $("$tpchgen" --version)"
export BENCH_LOAD=$load BENCH_REPS=$reps BENCH_RG_BYTES=$rg_bytes BENCH_RG_ROWS=$rg_rows
"$py" - "$runs" > "$out/results.md" <<'PY'
import datetime, json, os, sys
from collections import defaultdict

runs = [json.loads(l) for l in open(sys.argv[1])]
best, spread = {}, defaultdict(list)
for r in runs:
    case = "snappy" if "snappy" in (r.get("codec") or r["file"]) else "zstd"
    key = (r["engine"], r["op"], r.get("api", ""), case)
    spread[key].append(r["seconds"])
    if key not in best or r["seconds"] < best[key]["seconds"]:
        best[key] = r
MiB = 2 ** 20
def mib(b): return f"{b / MiB:,.0f}"

print(f"Machine: {os.environ['BENCH_MACHINE']}  ")
print(f"Versions: {os.environ['BENCH_VERSIONS']}  ")
print(f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; load average at start "
      f"{os.environ['BENCH_LOAD']}; best of {os.environ['BENCH_REPS']} runs; single-threaded "
      "(firn has no threads here; pyarrow: set_cpu_count(1), set_io_thread_count(1), use_threads=False).  ")
f = best[("firn", "read", "stream", "zstd")]
print(f"Data: TPC-H lineitem SF1, {f['rows']:,} rows, 16 columns (4 int, 4 decimal(15,2), 3 date, 5 string); "
      f"read inputs written by pyarrow with row groups of {f['row_group_rows_max']:,} rows "
      f"({mib(f['row_group_bytes_max'])} MiB uncompressed each).\n")

print("| operation | firn rows/s | pyarrow rows/s | firn MB/s | pyarrow MB/s | **firn/pyarrow** | "
      "firn peak MiB | pyarrow peak MiB | firn peak / row group |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
ratios = {}
for op in ("read", "write"):
    for codec in ("zstd", "snappy"):
        fr = best[("firn", op, "stream" if op == "read" else "", codec)]
        pr = best[("pyarrow", op, "iter_batches" if op == "read" else "", codec)]
        ratio = pr["seconds"] / fr["seconds"]
        ratios[(op, codec)] = ratio
        rg = fr["row_group_bytes_max"] if op == "read" else int(os.environ["BENCH_RG_BYTES"])
        what = "read (stream by row group)" if op == "read" else "write"
        print(f"| {what}, {codec} | {fr['rows_per_s']:,.0f} | {pr['rows_per_s']:,.0f} | "
              f"{fr['mb_per_s']:.1f} | {pr['mb_per_s']:.1f} | **{ratio:.2f}** | {mib(fr['peak_bytes'])} | "
              f"{mib(pr['peak_bytes'])} | {fr['peak_bytes'] / rg:.2f} |")
print()
print("firn/pyarrow is pyarrow's time over firn's (> 1: firn faster). MB/s is the Parquet file's size over "
      "the time. Peak memory: firn's, every byte libfirn allocated through its allocator hook "
      "(malloc_usable_size); pyarrow's, its memory pool's max_memory() during the run; for writes, above "
      "what the in-memory input held. \"Row group\" is the read file's largest row group, uncompressed, "
      "for reads, and the writer's bound for writes "
      f"({mib(int(os.environ['BENCH_RG_BYTES']))} MiB; pyarrow: {int(os.environ['BENCH_RG_ROWS']):,} rows).\n")

print("Details:\n")
print("| run | seconds, best (all runs) | CPU s | file MB | row groups | peak MiB | largest batch MiB (Arrow nbytes) | ru_maxrss MiB |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
order = [("read", "stream"), ("read", "iter_batches"), ("read", "read_table"), ("write", "")]
for codec in ("zstd", "snappy"):
    for op, api in order:
        for eng in ("firn", "pyarrow"):
            r = best.get((eng, op, api, codec))
            if r is None:
                continue
            label = f"{eng} {op} {codec}" + (f" ({api})" if api else "")
            extra = ""
            if op == "write" and eng == "firn":
                extra = f" (close {r['close_seconds']:.2f} s, of which fsync {r['fsync_seconds']:.2f} s)"
            if op == "write" and eng == "pyarrow":
                extra = f" (+ fsync {r['fsync_seconds']:.2f} s, not timed)"
            batch = "–"
            if "batch_nbytes_max" in r:
                batch = f"{mib(r['batch_nbytes_max'])} ({mib(r['batch_bytes_max'])} allocated)"
            elif "batch_bytes_max" in r:
                batch = mib(r["batch_bytes_max"])
            allruns = "/".join(f"{x:.2f}" for x in spread[(eng, op, api, codec)])
            print(f"| {label} | {r['seconds']:.2f} ({allruns}){extra} | {r['cpu_seconds']:.2f} | {r['file_bytes'] / 1e6:.1f} | "
                  f"{r['row_groups']} × ≤{r['row_group_rows_max']:,} rows | {mib(r['peak_bytes'])} | {batch} | "
                  f"{r['maxrss_kb'] / 1024:,.0f} |")
print()
fw = best[("firn", "write", "", "zstd")]
pw = best[("pyarrow", "write", "", "zstd")]
fr = best[("firn", "read", "stream", "zstd")]
pr = best[("pyarrow", "read", "iter_batches", "zstd")]
print(f"A decoded row group is bigger than the Parquet row group: {fr['row_group_rows_max']:,} rows take "
      f"{mib(fr['batch_nbytes_max'])} MiB as Arrow arrays (a decimal(15,2) takes 16 bytes in Arrow, 7 in this "
      f"file; dictionary-encoded strings are expanded) against {mib(fr['row_group_bytes_max'])} MiB uncompressed in "
      f"the file. firn's read peak is {fr['peak_bytes'] / fr['batch_nbytes_max']:.2f}× that Arrow size "
      f"(pyarrow's {pr['peak_bytes'] / pr['batch_bytes_max']:.2f}×); firn's batch buffers are allocated at "
      f"{mib(fr['batch_bytes_max'])} MiB for {mib(fr['batch_nbytes_max'])} MiB of content.\n")
print(f"In-memory input of the write runs: firn {mib(fw['input_bytes'])} MiB (batches from firn's reader), "
      f"pyarrow {mib(pw['input_bytes'])} MiB (Table.nbytes); ru_maxrss includes it.")
PY
cat "$out/results.md"
