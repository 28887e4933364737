#!/usr/bin/env python3
"""Selective scans of an unpartitioned lineitem table: firn against DuckDB's
iceberg_scan (2 threads), alternating in pairs in one run (issue 13).

  bench/selective_scan.py BUILD/firn LINEITEM.parquet [--reps 5] [--wh DIR]

firn runs in process through build/bench_tables (the batches materialized
and dropped, as DuckDB's fetch of an Arrow table materializes them); DuckDB
reads the same table by its metadata file. Prints a markdown table: best
and median seconds, the ratio DuckDB / firn of the medians (> 1: firn is
faster), rows, and firn's CPU seconds and peak RSS (/usr/bin/time)."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "interop"))
import ice  # noqa: E402

SCHEMA = ("l_orderkey long, l_partkey long, l_suppkey long, l_linenumber int, "
          "l_quantity decimal(15,2), l_extendedprice decimal(15,2), l_discount decimal(15,2), "
          "l_tax decimal(15,2), l_returnflag string, l_linestatus string, l_shipdate date, "
          "l_commitdate date, l_receiptdate date, l_shipinstruct string, l_shipmode string, "
          "l_comment string")

QUERIES = [
    ("one month of l_shipdate (1.3%)",
     "l_shipdate >= '1995-03-01' and l_shipdate < '1995-04-01'",
     "l_shipdate >= DATE '1995-03-01' AND l_shipdate < DATE '1995-04-01'"),
    ("one week, l_discount > 0.05 (0.13%)",
     "l_shipdate >= '1995-03-01' and l_shipdate < '1995-03-08' and l_discount > 0.05",
     "l_shipdate >= DATE '1995-03-01' AND l_shipdate < DATE '1995-03-08' AND l_discount > 0.05"),
    ("l_shipmode = 'AIR' and l_quantity < 5 (1.2%)",
     "l_shipmode = 'AIR' and l_quantity < 5",
     "l_shipmode = 'AIR' AND l_quantity < 5"),
]




def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("firn")
    ap.add_argument("lineitem")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--wh", default="/tmp/firn-selective")
    a = ap.parse_args()
    firn = str(Path(a.firn).resolve())
    driver = str(Path(firn).parent / "bench_tables")
    wh = Path(a.wh)
    env = dict(os.environ)
    if not (wh / "catalog.db").exists():
        for args in (["namespace", "create", "b"], ["create", "b.li", "--schema", SCHEMA],
                     ["append", "b.li", a.lineitem]):
            subprocess.run([firn, "--warehouse", str(wh), *args], check=True, stdout=subprocess.DEVNULL)
    meta = json.loads(subprocess.run([firn, "--warehouse", str(wh), "describe", "b.li", "--json"],
                                     capture_output=True, text=True, check=True).stdout)["metadata-location"]
    con = ice.duck()
    con.execute("SET threads=2")
    print(f"load average before: {os.getloadavg()[0]:.2f}; {a.reps} pairs; "
          f"firn threads: {env.get('FIRN_THREADS', 'all cores')}\n")
    print("| query | firn best | firn median | DuckDB best | DuckDB median | DuckDB / firn | rows | firn CPU s | firn peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, fw, dw in QUERIES:
        q = f"SELECT * FROM iceberg_scan('{meta}') WHERE {dw}"
        ft, dt, cpu, rss = [], [], [], []
        rows = drows = None
        for _ in range(a.reps):
            tv = wh / "time.txt"
            p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", str(tv), driver, "scan", str(wh),
                                "b.li", fw], capture_output=True, text=True, check=True)
            secs, rows = p.stdout.split()
            u, s_, m = tv.read_text().split()[-3:]
            ft.append(float(secs))
            cpu.append(float(u) + float(s_))
            rss.append(int(m) / 1024)
            t0 = time.perf_counter()
            drows = con.execute(q).to_arrow_table().num_rows
            dt.append(time.perf_counter() - t0)
        assert int(rows) == drows, (label, rows, drows)
        fm, dm = statistics.median(ft), statistics.median(dt)
        print(f"| {label} | {min(ft):.3f} | {fm:.3f} | {min(dt):.3f} | {dm:.3f} | {dm / fm:.2f}x | "
              f"{int(rows):,} | {statistics.median(cpu):.2f} | {max(rss):.0f} |")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
