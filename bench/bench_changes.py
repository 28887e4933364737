#!/usr/bin/env python3
"""Issue 4's row-level benchmarks (a first set), firn against PyIceberg on
the same machine in the same run. Prints a markdown report
(bench/out/changes.md).

  bench/bench_changes.py BUILD/firn LINEITEM.parquet

  1. delete 0.01% of the rows of a 12M-row table (lineitem SF1 appended
     twice): firn merge-on-read vs PyIceberg's delete (copy-on-write);
  2. update 1% and 60% of the rows of a 6M-row table: auto (the impact
     rule) vs forced merge-on-read vs forced copy-on-write, the update and
     the full scan after it;
  3. merge (upsert) 100k rows into the 6M-row table vs PyIceberg's upsert;
  4. compact 1,000 small files (firn alone);
  5. the scan as delete files pile up: 1, 10, 100 delete files per data
     file, v2 position deletes vs v3 deletion vectors.
Env: BENCH_REPS (default 1)."""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "interop"))
import ice  # noqa: E402

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

SCHEMA = ("l_orderkey long, l_partkey long, l_suppkey long, l_linenumber int, "
          "l_quantity decimal(15,2), l_extendedprice decimal(15,2), l_discount decimal(15,2), "
          "l_tax decimal(15,2), l_returnflag string, l_linestatus string, l_shipdate date, "
          "l_commitdate date, l_receiptdate date, l_shipinstruct string, l_shipmode string, "
          "l_comment string")


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def firn(exe, wh, *args):
    return subprocess.run([exe, "--warehouse", str(wh), *map(str, args)], check=True,
                          capture_output=True, text=True).stdout


def scan_s(driver, wh, table):
    out = subprocess.run([driver, "scan", str(wh), table], check=True, capture_output=True,
                         text=True).stdout.split()
    return float(out[0]), int(out[1])


def main():
    exe = str(Path(sys.argv[1]).resolve())
    driver = str(Path(exe).parent / "bench_tables")
    src = Path(sys.argv[2]).resolve()
    work = Path(tempfile.mkdtemp(prefix="firn-bench-changes-"))
    t = pq.read_table(src)
    t = t.cast(pa.schema([pa.field(f.name, pa.int32() if f.name == "l_linenumber" else
                                   (pa.string() if pa.types.is_large_string(f.type) else f.type))
                          for f in t.schema]))
    inp = work / "lineitem.parquet"
    pq.write_table(t, inp, compression="zstd")
    lines = []

    def line(text):
        lines.append(text)
        print(text, flush=True)

    base = work / "base"
    firn(exe, base, "namespace", "create", "b")
    firn(exe, base, "create", "b.li", "--schema", SCHEMA)
    firn(exe, base, "append", "b.li", inp)
    n6 = t.num_rows

    # 1. delete 0.01% of 12M rows
    d1 = work / "del"
    firn(exe, d1, "namespace", "create", "b")
    firn(exe, d1, "create", "b.li", "--schema", SCHEMA)
    firn(exe, d1, "append", "b.li", inp)
    firn(exe, d1, "append", "b.li", inp)
    where = "l_orderkey <= 300"
    n_del = 2 * pc.sum(pc.less_equal(t.column("l_orderkey"), 300)).as_py()
    tf, _ = timed(lambda: firn(exe, d1, "delete", "b.li", "--where", where))
    p1 = work / "del-py"
    firn(exe, p1, "namespace", "create", "b")
    firn(exe, p1, "create", "b.li", "--schema", SCHEMA)
    firn(exe, p1, "append", "b.li", inp)
    firn(exe, p1, "append", "b.li", inp)
    from pyiceberg.expressions import LessThanOrEqual
    tbl = ice.catalog(p1).load_table("b.li")
    tp, _ = timed(lambda: tbl.delete(delete_filter=LessThanOrEqual("l_orderkey", 300)))
    line(f"| delete {n_del:,} of {2 * n6:,} rows (0.01%) | firn {tf:.2f} s (merge-on-read) | "
                 f"PyIceberg {tp:.2f} s (copy-on-write) | **{tp / tf:.0f}×** |")

    # 2. updates: 1% and 60%, three modes
    for share, wh_ in ((0.01, "l_discount = 0.05 and l_quantity < 6"), (0.6, "l_discount >= 0.04")):
        for mode in ("auto", "merge-on-read", "copy-on-write"):
            d = work / f"upd-{share}-{mode}"
            firn(exe, d, "namespace", "create", "b")
            firn(exe, d, "create", "b.li", "--schema", SCHEMA, "--property",
                 "write.target-file-size-bytes=67108864")
            firn(exe, d, "append", "b.li", inp)
            tu, out = timed(lambda: firn(exe, d, "update", "b.li", "--set", "l_tax = l_tax + 0.01",
                                         "--where", wh_, "--mode", mode, "--json"))
            info = json.loads(out)
            ts, rows = scan_s(driver, d, "b.li")
            line(f"| update {info['rows']:,} rows ({share:.0%}), {mode} | {tu:.2f} s "
                         f"({info['files-rewritten']} rewritten, {info['delete-files']} with deletes) | "
                         f"full scan after: {ts:.2f} s | |")
            shutil.rmtree(d)

    # 3. merge 100k rows
    d3 = work / "merge"
    firn(exe, d3, "namespace", "create", "b")
    firn(exe, d3, "create", "b.li", "--schema", SCHEMA)
    firn(exe, d3, "append", "b.li", inp)
    up = t.slice(0, 100_000)
    up = up.set_column(up.schema.get_field_index("l_comment"), "l_comment",
                       pa.array(["merged"] * up.num_rows))
    upf = work / "up.parquet"
    pq.write_table(up, upf)
    tf, _ = timed(lambda: firn(exe, d3, "merge", "b.li", upf, "--on", "l_orderkey,l_linenumber"))
    p3 = work / "merge-py"
    firn(exe, p3, "namespace", "create", "b")
    firn(exe, p3, "create", "b.li", "--schema", SCHEMA)
    firn(exe, p3, "append", "b.li", inp)
    # PyIceberg's upsert in its own process: it has crashed (SIGSEGV) here
    code = ("import sys, time, pyarrow.parquet as pq; sys.path.insert(0, %r); import ice; "
            "t = ice.catalog(__import__('pathlib').Path(%r)).load_table('b.li'); "
            "up = pq.read_table(%r).cast(t.schema().as_arrow()); t0 = time.perf_counter(); "
            "t.upsert(up, join_cols=['l_orderkey', 'l_linenumber']); print(time.perf_counter() - t0)"
            ) % (str(HERE.parent / "tests" / "interop"), str(p3), str(upf))
    pr = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
    if pr.returncode == 0:
        tp = float(pr.stdout.split()[-1])
        line(f"| merge (upsert) 100,000 rows into {n6:,} | firn {tf:.2f} s | PyIceberg upsert {tp:.2f} s | "
             f"**{tp / tf:.1f}×** |")
    else:
        line(f"| merge (upsert) 100,000 rows into {n6:,} | firn {tf:.2f} s | PyIceberg upsert failed "
             f"(exit {pr.returncode}) | |")

    # 4. compact 1,000 small files
    d4 = work / "small"
    firn(exe, d4, "namespace", "create", "b")
    firn(exe, d4, "create", "b.s", "--schema", "id long, v double, s string")
    for k in range(10):
        csv = work / f"s{k}.csv"
        csv.write_text("id,v,s\n" + "".join(f"{k * 100000 + i},{i}.5,x{i}\n" for i in range(100000)))
    firn(exe, d4, "alter", "b.s", "set-property", "write.target-file-size-bytes=1")
    for k in range(10):
        firn(exe, d4, "append", "b.s", work / f"s{k}.csv")
    nfiles = len(json.loads(firn(exe, d4, "files", "b.s", "--json")))
    firn(exe, d4, "alter", "b.s", "set-property", "write.target-file-size-bytes=536870912")
    tc, _ = timed(lambda: firn(exe, d4, "compact", "b.s"))
    after = len(json.loads(firn(exe, d4, "files", "b.s", "--json")))
    line(f"| compact {nfiles:,} small files (1M rows) into {after} | {tc:.2f} s | "
                 f"(DuckDB/Spark comparison: not run yet) | |")

    # 5. scans as deletes pile up
    for fv in (2, 3):
        d = work / f"pile-{fv}"
        firn(exe, d, "namespace", "create", "b")
        firn(exe, d, "create", "b.li", "--schema", SCHEMA, "--format-version", fv)
        firn(exe, d, "append", "b.li", inp)
        t0, _ = scan_s(driver, d, "b.li")
        done = 0
        for target in (1, 10, 100):
            while done < target:
                firn(exe, d, "delete", "b.li", "--where", f"l_orderkey = {done * 997 + 1}",
                     "--mode", "merge-on-read")
                done += 1
            ts, rows = scan_s(driver, d, "b.li")
            line(f"| full scan, v{fv}, after {target} merge-on-read deletes "
                         f"({'DV' if fv == 3 else 'position files'}) | {ts:.2f} s | no deletes: {t0:.2f} s | "
                         f"{ts / t0:.2f}× slower |")
        shutil.rmtree(d)

    head = [f"Machine: {platform.machine()}, {os.cpu_count()} cores; lineitem rows: {n6:,}.", "",
            "| measurement | firn | reference | ratio |", "|---|---|---|---|"]
    report = "\n".join(head + lines) + "\n"
    print(report)
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "changes.md").write_text(report)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
