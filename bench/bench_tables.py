#!/usr/bin/env python3
"""Issue 3's table benchmarks, firn against PyIceberg and DuckDB's iceberg
extension on the same machine in the same run (single-threaded where the
engine allows it). Prints a markdown report (bench/out/tables.md).

  bench/bench_tables.py BUILD/firn LINEITEM.parquet

Measures:
  1. append lineitem into an unpartitioned and a partitioned table
     (month(l_shipdate)): firn vs PyIceberg, rows/s;
  2. full scan and a selective filtered scan: firn (to Parquet, and a count)
     vs DuckDB iceberg_scan (threads=1) vs PyIceberg to_arrow;
  3. planning a filtered scan of a table with 10,000 data files in 100
     snapshots: firn count --where (plans, then counts from metadata) vs
     PyIceberg plan_files;
  4. latency of a one-row append commit on the SQLite catalog.
Env: BENCH_REPS (default 3; the best run is kept), BENCH_ROWS (rows of
lineitem to use; default all)."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "interop"))
import ice  # noqa: E402

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

REPS = int(os.environ.get("BENCH_REPS", "3"))


def best(fn, reps=REPS):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def run(firn, wh, *args):
    subprocess.run([firn, "--warehouse", str(wh), *map(str, args)], check=True,
                   stdout=subprocess.DEVNULL)


SCHEMA = ("l_orderkey long, l_partkey long, l_suppkey long, l_linenumber int, "
          "l_quantity decimal(15,2), l_extendedprice decimal(15,2), l_discount decimal(15,2), "
          "l_tax decimal(15,2), l_returnflag string, l_linestatus string, l_shipdate date, "
          "l_commitdate date, l_receiptdate date, l_shipinstruct string, l_shipmode string, "
          "l_comment string")


def inproc(driver, *args):
    """bench_tables (bench/bench_tables.c): seconds and rows of one in-process run."""
    out = subprocess.run([driver, *map(str, args)], check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), int(out[1])


def best_inproc(driver, *args, reps=REPS):
    runs = [inproc(driver, *args) for _ in range(reps)]
    return min(r[0] for r in runs), runs[0][1]


def main():
    firn = str(Path(sys.argv[1]).resolve())
    driver = str(Path(firn).parent / "bench_tables")
    src = Path(sys.argv[2]).resolve()
    rows_limit = int(os.environ.get("BENCH_ROWS", "0"))
    work = Path(tempfile.mkdtemp(prefix="firn-bench-tables-"))
    table = pq.read_table(src)
    if rows_limit:
        table = table.slice(0, rows_limit)
    # the table's types, as Iceberg sees them (tpchgen writes int64 keys)
    table = table.cast(pa.schema([
        pa.field(f.name, pa.int32() if f.name == "l_linenumber" else
                 (pa.string() if pa.types.is_string(f.type) or pa.types.is_large_string(f.type) else f.type))
        for f in table.schema]))
    inp = work / "lineitem.parquet"
    pq.write_table(table, inp, compression="zstd")
    n = table.num_rows
    results = {"rows": n}
    lines = []

    # 1. append
    for part in (None, "month(l_shipdate)"):
        label = "partitioned month(l_shipdate)" if part else "unpartitioned"

        def firn_append():
            wh = work / "wh-firn"
            subprocess.run(["rm", "-rf", str(wh)], check=True)
            run(firn, wh, "namespace", "create", "b")
            args = ["create", "b.li", "--schema", SCHEMA]
            if part:
                args += ["--partition-by", part]
            run(firn, wh, *args)
            run(firn, wh, "append", "b.li", inp)

        def py_append():
            wh = work / "wh-py"
            subprocess.run(["rm", "-rf", str(wh)], check=True)
            wh.mkdir()
            cat = ice.catalog(wh)
            cat.create_namespace("b")
            from pyiceberg.partitioning import PartitionField, PartitionSpec
            from pyiceberg.transforms import MonthTransform
            t = cat.create_table("b.li", schema=table.schema)
            if part:
                with t.update_spec() as u:
                    u.add_field("l_shipdate", MonthTransform(), "l_shipdate_month")
                t = cat.load_table("b.li")
            t.append(pq.read_table(inp))

        tf = best(firn_append)
        tp = best(py_append, reps=max(1, REPS - 1))
        results[f"append {label}"] = {"firn_s": tf, "pyiceberg_s": tp}
        lines.append(f"| append lineitem, {label} | {tf:.2f} s ({n / tf / 1e6:.2f} M rows/s) | "
                     f"PyIceberg {tp:.2f} s | **{tp / tf:.1f}×** |")

    # 2. scans on the (last, partitioned) firn table
    wh = work / "wh-firn"
    meta = json.loads(subprocess.run([firn, "--warehouse", str(wh), "describe", "b.li", "--json"],
                                     capture_output=True, text=True, check=True).stdout)["metadata-location"]
    where_firn = "l_shipdate >= '1995-03-01' and l_shipdate < '1995-03-08' and l_discount > 0.05"
    out = work / "scan.parquet"
    con = ice.duck()
    cat = ice.catalog(wh)
    from pyiceberg.expressions import And, GreaterThan, GreaterThanOrEqual, LessThan
    pyf = And(And(GreaterThanOrEqual("l_shipdate", "1995-03-01"), LessThan("l_shipdate", "1995-03-08")),
              GreaterThan("l_discount", 0.05))
    for label, wf, dq, pf in (
            ("full scan", None, f"SELECT * FROM iceberg_scan('{meta}')", None),
            ("selective scan (1 week, discount > 0.05)", where_firn,
             f"SELECT * FROM iceberg_scan('{meta}') WHERE l_shipdate >= DATE '1995-03-01' AND "
             f"l_shipdate < DATE '1995-03-08' AND l_discount > 0.05", pyf)):
        # firn in-process, batches materialized and dropped (as to_arrow and
        # fetch_arrow_table materialize): the same work, no output format
        tf, got = best_inproc(driver, "scan", wh, "b.li", *([wf] if wf else []))
        td = best(lambda: con.execute(dq).to_arrow_table())
        dn = con.execute(f"SELECT count(*) FROM ({dq})").fetchone()[0]
        tp = best(lambda: cat.load_table("b.li").scan(**({"row_filter": pf} if pf else {})).to_arrow(),
                  reps=max(1, REPS - 1))
        assert got == dn, (label, got, dn)
        results[label] = {"firn_s": tf, "duckdb_s": td, "pyiceberg_s": tp, "rows": got}
        lines.append(f"| {label} ({got:,} rows) | {tf:.2f} s | DuckDB {td:.2f} s, PyIceberg {tp:.2f} s | "
                     f"**{td / tf:.2f}×** DuckDB, **{tp / tf:.1f}×** PyIceberg |")

    # 3. planning over 10,000 files in 100 snapshots
    wh3 = work / "wh-plan"
    run(firn, wh3, "namespace", "create", "p")
    run(firn, wh3, "create", "p.t", "--schema", "id long, day date, v double",
        "--partition-by", "day(day)", "--property", "write.target-file-size-bytes=1")
    for s in range(100):
        csvp = work / f"plan-{s}.csv"
        with open(csvp, "w") as f:
            f.write("id,day,v\n")
            for k in range(100):
                i = s * 100 + k
                f.write(f"{i},{time.strftime('%Y-%m-%d', time.gmtime(i * 86400))},{k}.5\n")
        run(firn, wh3, "append", "p.t", csvp)
    where = "day = '1983-09-15'"
    tf, _ = best_inproc(driver, "count", wh3, "p.t", where)
    from pyiceberg.expressions import EqualTo
    tp = best(lambda: list(ice.catalog(wh3).load_table("p.t").scan(row_filter=EqualTo("day", "1983-09-15")).plan_files()),
              reps=max(1, REPS - 1))
    results["plan 10k files"] = {"firn_s": tf, "pyiceberg_s": tp}
    lines.append(f"| load + plan + count a filtered scan, 10,000 files in 100 snapshots | {tf * 1000:.1f} ms | "
                 f"PyIceberg plan_files {tp * 1000:.0f} ms | **{tp / tf:.1f}×** |")

    # 4. one-row append latency
    one = work / "one.csv"
    one.write_text("id,day,v\n1,2020-01-01,1.0\n")
    lat = []
    for _ in range(20):
        t0 = time.perf_counter()
        run(firn, wh3, "append", "p.t", one)
        lat.append(time.perf_counter() - t0)
    lat.sort()
    results["one-row append"] = {"median_s": lat[len(lat) // 2], "best_s": lat[0]}
    lines.append(f"| one-row append commit, SQLite catalog (whole process) | median {lat[len(lat) // 2] * 1000:.1f} ms, "
                 f"best {lat[0] * 1000:.1f} ms | target < 20 ms | |")

    head = [f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
            f"lineitem rows: {n:,}; best of {REPS} (PyIceberg: {max(1, REPS - 1)}).", "",
            "| measurement | firn | reference | ratio |", "|---|---|---|---|"]
    report = "\n".join(head + lines) + "\n"
    print(report)
    outdir = HERE / "out"
    outdir.mkdir(exist_ok=True)
    (outdir / "tables.md").write_text(report)
    (outdir / "tables.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
