#!/usr/bin/env python3
"""The Python module's benchmark (issue 11): lineitem into a pyarrow Table.

  bench/python_scan.py LINEITEM.parquet

  scan:   firn (pyarrow.table(t.scan())) vs PyIceberg to_arrow() vs DuckDB
          iceberg_scan(...).arrow(), all on the one table firn wrote;
  append: a pyarrow Table of lineitem: firn t.append vs PyIceberg append.
Each measurement runs in a process of its own (best of BENCH_REPS, default
3) so that its peak RSS (ru_maxrss, minus the process's RSS before the
work) is its own. BENCH_ROWS limits the rows (default all). Prints a
markdown table."""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "interop"))
REPS = int(os.environ.get("BENCH_REPS", "3"))


def load_input(src: str):
    import pyarrow as pa
    import pyarrow.parquet as pq
    table = pq.read_table(src)
    rows = int(os.environ.get("BENCH_ROWS", "0"))
    if rows:
        table = table.slice(0, rows)
    # Iceberg's types (tpchgen writes int64 line numbers, string views)
    return table.cast(pa.schema([
        pa.field(f.name, pa.int32() if f.name == "l_linenumber" else
                 (pa.string() if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
                  or pa.types.is_string_view(f.type) else f.type))
        for f in table.schema])).combine_chunks()


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def one(mode: str, wh: str, src: str) -> dict:
    """Runs one measurement in this process: seconds and extra peak MB."""
    import pyarrow as pa
    import ice
    data = load_input(src) if mode.startswith("append") else None
    base = rss_kb()
    if mode == "scan-firn":
        import firn
        t = firn.Catalog(warehouse=wh).load_table("b.li")
        t0 = time.perf_counter()
        out = pa.table(t.scan())
    elif mode == "scan-pyiceberg":
        t0 = time.perf_counter()
        out = ice.catalog(Path(wh)).load_table("b.li").scan().to_arrow()
    elif mode == "scan-duckdb":
        import firn
        meta = firn.Catalog(warehouse=wh).load_table("b.li").metadata_location
        con = ice.duck()
        con.execute(f"SET threads={os.cpu_count()}")
        t0 = time.perf_counter()
        out = con.execute(f"SELECT * FROM iceberg_scan('{meta}')").arrow()
        if not isinstance(out, pa.Table):  # DuckDB 1.4+: .arrow() is a reader
            out = out.read_all()
    elif mode == "append-firn":
        import firn
        c = firn.Catalog(warehouse=wh)
        c.create_namespace("b")
        t = c.create_table("b.li", data.schema)
        t0 = time.perf_counter()
        t.append(data)
        out = None
    elif mode == "append-pyiceberg":
        cat = ice.catalog(Path(wh))
        cat.create_namespace("b")
        t = cat.create_table("b.li", schema=data.schema)
        t0 = time.perf_counter()
        t.append(data)
        out = None
    else:
        raise SystemExit(f"unknown mode {mode}")
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"s": secs, "peak_mb": (peak - base) / 1024, "rows": out.num_rows if out is not None else
            data.num_rows}


def measure(mode: str, wh_for, src: str) -> dict:
    runs = []
    for _ in range(REPS):
        wh = wh_for()
        p = subprocess.run([sys.executable, __file__, "--one", mode, str(wh), src],
                           check=True, capture_output=True, text=True)
        runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
    return {"s": min(r["s"] for r in runs), "peak_mb": min(r["peak_mb"] for r in runs),
            "rows": runs[0]["rows"]}


def main():
    if sys.argv[1] == "--one":
        print(json.dumps(one(sys.argv[2], sys.argv[3], sys.argv[4])))
        return
    src = str(Path(sys.argv[1]).resolve())
    work = Path(tempfile.mkdtemp(prefix="firn-bench-python-"))
    count = [0]

    def fresh():
        count[0] += 1
        p = work / f"wh{count[0]}"
        p.mkdir()
        return p

    res = {}
    for m in ("append-firn", "append-pyiceberg"):
        res[m] = measure(m, fresh, src)
    # the scanned table: one firn append (kept from a fresh run)
    scan_wh = fresh()
    subprocess.run([sys.executable, __file__, "--one", "append-firn", str(scan_wh), src],
                   check=True, capture_output=True)
    for m in ("scan-firn", "scan-pyiceberg", "scan-duckdb"):
        res[m] = measure(m, lambda: scan_wh, src)
    n = res["scan-firn"]["rows"]
    assert all(res[m]["rows"] == n for m in res), {m: r["rows"] for m, r in res.items()}
    print(f"lineitem, {n:,} rows; best of {REPS}; peak = extra RSS of the measuring process\n")
    print("| operation | firn | PyIceberg | DuckDB | firn vs PyIceberg |")
    print("|---|---|---|---|---|")
    fmt = lambda r: f"{r['s']:.2f} s, {r['peak_mb']:.0f} MB"  # noqa: E731
    print(f"| scan into a pyarrow Table | {fmt(res['scan-firn'])} | {fmt(res['scan-pyiceberg'])} | "
          f"{fmt(res['scan-duckdb'])} | {res['scan-pyiceberg']['s'] / res['scan-firn']['s']:.1f}x |")
    print(f"| append a pyarrow Table | {fmt(res['append-firn'])} | {fmt(res['append-pyiceberg'])} "
          f"| - | {res['append-pyiceberg']['s'] / res['append-firn']['s']:.1f}x |")
    print("\n" + json.dumps(res))


if __name__ == "__main__":
    main()
