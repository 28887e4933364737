#!/usr/bin/env python3
"""Appends at 1 and 2 threads, with their peak memory (issue 13: parallel
encode and bounded partitioned appends). Not a test.

    bench/append_threads.py FIRN INPUT.parquet [--baseline OLD_FIRN] [--reps N]
                            [--budget BYTES]...

For each table shape (unpartitioned; month(l_shipdate)), each binary (FIRN,
and OLD_FIRN when given: the same runs before the change) and each thread
count (--threads 1, 2), REPS appends of INPUT (TPC-H lineitem, as
bench/run.sh caches it in bench/out/tpch/lineitem.parquet) into a fresh
table, the runs of one shape alternating. Each --budget adds month-partitioned
runs with firn.write.memory-budget-bytes set to it. Prints a markdown table:
best and median wall time, the paired ratio 1 thread / 2 threads, the
median CPU time (user + system), peak RSS
(ru_maxrss of the firn process, from wait4: this script imports nothing
large, so the child's copy of it before exec is small), and the 1-minute
load average before each run (the machine may be shared)."""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCHEMA = ("l_orderkey long, l_partkey long, l_suppkey long, l_linenumber int, "
          "l_quantity decimal(15,2), l_extendedprice decimal(15,2), l_discount decimal(15,2), "
          "l_tax decimal(15,2), l_returnflag string, l_linestatus string, l_shipdate date, "
          "l_commitdate date, l_receiptdate date, l_shipinstruct string, l_shipmode string, "
          "l_comment string")


def run(cmd: list) -> None:
    p = subprocess.run(cmd, capture_output=True)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{p.stderr.decode()}")


def append_once(firn: str, inp: str, part: str | None, threads: int, props: list,
                work: Path) -> tuple[float, int, float, float]:
    """(seconds, peak RSS bytes, load average before, CPU seconds) of one append."""
    wh = work / "wh"
    shutil.rmtree(wh, ignore_errors=True)
    run([firn, "--warehouse", wh, "namespace", "create", "b"])
    args = [firn, "--warehouse", wh, "create", "b.li", "--schema", SCHEMA]
    if part:
        args += ["--partition-by", part]
    for p in props:
        args += ["--property", p]
    run(args)
    load = os.getloadavg()[0]
    cmd = [firn, "--warehouse", str(wh), "--threads", str(threads), "append", "b.li", inp]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    err = p.stderr.read().decode()
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"append failed: {' '.join(cmd)}\n{err}")
    shutil.rmtree(wh, ignore_errors=True)
    return secs, usage.ru_maxrss * 1024, load, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("firn")
    ap.add_argument("input")
    ap.add_argument("--baseline")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--budget", type=int, action="append", default=[])
    a = ap.parse_args()
    bins = [("new", os.path.abspath(a.firn))]
    if a.baseline:
        bins.append(("old", os.path.abspath(a.baseline)))
    shapes = [("unpartitioned", None, []), ("month(l_shipdate)", "month(l_shipdate)", [])]
    for b in a.budget:
        shapes.append((f"month(l_shipdate), budget {b >> 20} MiB", "month(l_shipdate)",
                       [f"firn.write.memory-budget-bytes={b}"]))
    work = Path(tempfile.mkdtemp(prefix="append_threads-"))
    print(f"input {a.input}, {a.reps} runs each, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} CPUs\n")
    print("| table | binary | threads | best s | median s | 1t/2t (paired, median) | CPU s (median) | peak RSS MiB | load avg |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    try:
        for label, part, props in shapes:
            for name, firn in bins:
                if name == "old" and props:
                    continue  # the old binary has no budget
                res = {1: [], 2: []}
                for _ in range(a.reps):
                    for t in (1, 2):
                        res[t].append(append_once(firn, a.input, part, t, props, work))
                ratios = [x[0] / y[0] for x, y in zip(res[1], res[2])]
                for t in (1, 2):
                    secs = sorted(r[0] for r in res[t])
                    rss = max(r[1] for r in res[t]) >> 20
                    loads = "–".join(f"{lo:.1f}" for lo in (min(r[2] for r in res[t]),
                                                             max(r[2] for r in res[t])))
                    ratio = f"{statistics.median(ratios):.2f}×" if t == 2 else ""
                    cpu = statistics.median(r[3] for r in res[t])
                    print(f"| {label} | {name} | {t} | {secs[0]:.2f} | {statistics.median(secs):.2f} | "
                          f"{ratio} | {cpu:.2f} | {rss} | {loads} |", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
