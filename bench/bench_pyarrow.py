"""The pyarrow side of bench/run.sh (issue 2): the same reads and writes as
bench/bench_parquet.c, single-threaded, one JSON line per run.

    bench_pyarrow.py read FILE [--api iter_batches|read_table] [--pool P]
    bench_pyarrow.py write IN OUT --codec zstd|snappy --row-group-rows N [--pool P]

read, api iter_batches (default): streams FILE row group by row group
    (ParquetFile.iter_batches, batch_size = the largest row group's rows,
    so one batch per row group, as firn's stream) and drops each batch.
read, api read_table: pq.read_table(FILE, use_threads=False), the whole
    table at once.
write: loads IN (untimed; an Arrow IPC file, or Parquet), then times
    pq.write_table(table, OUT, compression=codec, use_dictionary=True,
    row_group_size=N). seconds_with_fsync adds an fsync of OUT, which
    firn's writer does in close.

Memory: everything pyarrow allocates goes to one pool, P (default
"system": glibc malloc, the allocator firn uses; pyarrow's own default on
Linux, mimalloc, was not faster here). P is made Arrow's C++ default pool
(ARROW_DEFAULT_MEMORY_POOL, set before pyarrow loads: pa.set_memory_pool
alone does not reach the Parquet writer's allocations). peak_bytes is P's
max_memory() minus its bytes_allocated() when the timed phase began.
max_memory() cannot be reset, so a write run loads its input from an Arrow
IPC file (IN ending in .arrow) through a pyarrow.OSFile bound to another
pool: P is untouched until the write starts. (With a Parquet IN the load
goes through P and peak_bytes is only a lower bound; "peak_exact" says
which.) ru_maxrss is the whole process, interpreter and input table included."""
import argparse
import json
import os
import resource
import sys
import time

POOLS = ("mimalloc", "jemalloc", "system")


def maxrss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def rg_facts(md):
    rgs = [md.row_group(i) for i in range(md.num_row_groups)]
    return {"row_groups": md.num_row_groups,
            "row_group_rows_max": max((g.num_rows for g in rgs), default=0),
            "row_group_bytes_max": max((g.total_byte_size for g in rgs), default=0)}


def emit(d):
    print(json.dumps(d), flush=True)


def do_read(args, pool):
    path = args.file
    base = pool.bytes_allocated()
    c0, t0 = cpu_seconds(), time.perf_counter()
    batch_max = 0
    if args.api == "iter_batches":
        f = pq.ParquetFile(path)
        md = f.metadata
        batch = max(md.row_group(i).num_rows for i in range(md.num_row_groups))
        rows = 0
        for b in f.iter_batches(batch_size=batch, use_threads=False):
            rows += b.num_rows
            batch_max = max(batch_max, b.nbytes)
            del b
        f.close()
    else:
        t = pq.read_table(path, use_threads=False)
        rows = t.num_rows
        batch_max = t.nbytes
        md = None
        del t
    s, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    peak = pool.max_memory() - base
    if md is None:
        md = pq.ParquetFile(path).metadata
    size = os.path.getsize(path)
    emit({"engine": "pyarrow", "op": "read", "api": args.api, "file": path, "rows": rows,
          "seconds": round(s, 4), "cpu_seconds": round(cpu, 4), "rows_per_s": round(rows / s),
          "mb_per_s": round(size / s / 1e6, 2), "file_bytes": size, "peak_bytes": peak,
          "batch_bytes_max": batch_max, **rg_facts(md), "pool": pool.backend_name,
          "maxrss_kb": maxrss_kb()})


def do_write(args, pool):
    # untimed: the input in memory, from a pool other than the measured one
    exact = args.input.endswith(".arrow")
    if exact:
        other = pa.system_memory_pool() if args.pool != "system" else pa.mimalloc_memory_pool()
        with pa.OSFile(args.input, memory_pool=other) as f:
            table = pa.ipc.open_file(f).read_all()
        exact = pool.max_memory() < (1 << 20)  # the IPC reader's own few bytes
    else:
        table = pq.read_table(args.input, use_threads=False)
    base = pool.bytes_allocated()
    c0, t0 = cpu_seconds(), time.perf_counter()
    pq.write_table(table, args.output, compression=args.codec, use_dictionary=True,
                   row_group_size=args.row_group_rows)
    s, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    peak = pool.max_memory() - base
    t1 = time.perf_counter()
    fd = os.open(args.output, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    fsync_s = time.perf_counter() - t1
    size = os.path.getsize(args.output)
    md = pq.ParquetFile(args.output).metadata
    if md.num_rows != table.num_rows:
        sys.exit(f"bench_pyarrow: {args.output}: {md.num_rows} rows written, {table.num_rows} given")
    emit({"engine": "pyarrow", "op": "write", "codec": args.codec, "file": args.output,
          "rows": table.num_rows, "seconds": round(s, 4), "cpu_seconds": round(cpu, 4),
          "fsync_seconds": round(fsync_s, 4), "seconds_with_fsync": round(s + fsync_s, 4),
          "rows_per_s": round(table.num_rows / s), "mb_per_s": round(size / s / 1e6, 2),
          "file_bytes": size, "peak_bytes": peak, "input_bytes": table.nbytes,
          "row_group_rows": args.row_group_rows, **rg_facts(md), "pool": pool.backend_name,
          "peak_exact": exact,
          "maxrss_kb": maxrss_kb()})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="op", required=True)
    r = sub.add_parser("read")
    r.add_argument("file")
    r.add_argument("--api", choices=["iter_batches", "read_table"], default="iter_batches")
    r.add_argument("--pool", choices=POOLS, default="system")
    w = sub.add_parser("write")
    w.add_argument("input")
    w.add_argument("output")
    w.add_argument("--codec", choices=["zstd", "snappy"], required=True)
    w.add_argument("--row-group-rows", type=int, required=True)
    w.add_argument("--pool", choices=POOLS, default="system")
    args = ap.parse_args()

    global pa, pq
    os.environ["ARROW_DEFAULT_MEMORY_POOL"] = args.pool
    import pyarrow as pa
    import pyarrow.ipc  # noqa: F401
    import pyarrow.parquet as pq
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    pool = pa.default_memory_pool()
    if pool.backend_name != args.pool:
        sys.exit(f"bench_pyarrow: memory pool {pool.backend_name}, wanted {args.pool}")
    if args.op == "read":
        do_read(args, pool)
    else:
        do_write(args, pool)


if __name__ == "__main__":
    main()
