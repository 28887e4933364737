"""The pyarrow side of bench/run.sh: the same reads and writes as
bench_parquet, single-threaded, one JSON line per run.
   bench_pyarrow.py read FILE
   bench_pyarrow.py write IN OUT zstd|snappy ROW_GROUP_ROWS"""
import json
import os
import resource
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq

pa.set_cpu_count(1)
pa.set_io_thread_count(1)
pool = pa.default_memory_pool()


def peak_since(base):
    return pool.max_memory() - base


def main():
    op = sys.argv[1]
    if op == "read":
        path = sys.argv[2]
        base = pool.bytes_allocated()
        t0 = time.perf_counter()
        rows = 0
        f = pq.ParquetFile(path)
        for rg in range(f.num_row_groups):
            # one row group at a time, as firn streams
            rows += f.read_row_group(rg, use_threads=False).num_rows
        s = time.perf_counter() - t0
        print(json.dumps({"engine": "pyarrow", "op": "read", "file": path, "rows": rows,
                          "seconds": round(s, 3), "rows_per_s": round(rows / s),
                          "mb_per_s": round(os.path.getsize(path) / s / 1e6, 1),
                          "peak_bytes": peak_since(base), "pool": pool.backend_name,
                          "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
    elif op == "write":
        src, out, codec, rg_rows = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
        table = pq.read_table(src, use_threads=False)
        base = pool.bytes_allocated()
        t0 = time.perf_counter()
        pq.write_table(table, out, compression=codec, use_dictionary=True, row_group_size=rg_rows)
        s = time.perf_counter() - t0
        size = os.path.getsize(out)
        print(json.dumps({"engine": "pyarrow", "op": "write", "codec": codec, "rows": table.num_rows,
                          "seconds": round(s, 3), "rows_per_s": round(table.num_rows / s),
                          "mb_per_s": round(size / s / 1e6, 1), "file_bytes": size,
                          "peak_bytes": peak_since(base), "pool": pool.backend_name}))
    else:
        sys.exit("usage: bench_pyarrow.py read FILE | write IN OUT CODEC ROW_GROUP_ROWS")


if __name__ == "__main__":
    main()
