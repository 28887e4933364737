#!/usr/bin/env python3
"""firn import ducklake on a long DuckLake history (issue 15). Not a test.

    bench/import_ducklake.py FIRN [--snapshots 1000] [--rows 100] [--work DIR]

Makes a DuckLake table (catalog in SQLite, DuckDB's ducklake extension,
inlining off) through SNAPSHOTS commits: each inserts ROWS rows (one
Parquet file), and every 10th deletes a few rows of earlier files instead
(DuckLake's delete files). Then firn import ducklake into a fresh
warehouse: wall time and peak RSS (/usr/bin/time -v), the snapshot count,
and DuckDB's first query over iceberg_scan of the imported table; prints a
markdown table."""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb


def load(con, mod, name: str, work: Path):
    """An extension from its PyPI package, by a link named for its entry
    point (the sqlite package's file is sqlite.duckdb_extension)."""
    path = next((Path(mod.__file__).parent / "extensions").rglob("*.duckdb_extension"))
    link = work / f"{name}.duckdb_extension"
    if not link.exists():
        link.symlink_to(path)
    con.execute(f"LOAD '{link}'")


def make_lake(work: Path, snapshots: int, rows: int) -> tuple:
    import duckdb_extension_ducklake
    import duckdb_extension_sqlite
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    load(con, duckdb_extension_sqlite, "sqlite_scanner", work)
    load(con, duckdb_extension_ducklake, "ducklake", work)
    meta = work / "meta.sqlite"
    con.execute(f"ATTACH 'ducklake:sqlite:{meta}' AS lake "
                f"(DATA_PATH '{work}/data/', DATA_INLINING_ROW_LIMIT 0)")
    con.execute("USE lake")
    con.execute("CREATE TABLE t (id BIGINT, v DOUBLE, city VARCHAR)")
    n = 0
    for s in range(snapshots - 1):
        if s % 10 == 9:
            con.execute(f"DELETE FROM t WHERE id % 997 = {s % 997}")
        else:
            con.execute(f"INSERT INTO t SELECT {n} + i, i * 0.5, 'c' || (i % 10) "
                        f"FROM range({rows}) r(i)")
            n += rows
    live = con.execute("SELECT count(*) FROM t").fetchone()[0]
    files = con.execute("SELECT count(*) FROM ducklake_list_files('lake', 't')").fetchone()[0]
    con.close()
    return meta, live, files


def timed(cmd: list) -> tuple:
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{p.stderr[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    return wall, rss, p.stdout


def first_query(metadata: str) -> tuple:
    import duckdb_extension_avro
    import duckdb_extension_iceberg
    t = time.perf_counter()
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    for mod, name in ((duckdb_extension_avro, "avro"), (duckdb_extension_iceberg, "iceberg")):
        p = Path(mod.__file__).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
        con.execute(f"LOAD '{p}'")
    n = con.execute(f"SELECT count(*), sum(v) FROM iceberg_scan('{metadata}')").fetchone()[0]
    return time.perf_counter() - t, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("firn")
    ap.add_argument("--snapshots", type=int, default=1000)
    ap.add_argument("--rows", type=int, default=100)
    ap.add_argument("--work", default="/tmp/firn-bench-ducklake")
    a = ap.parse_args()
    work = Path(a.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    t = time.perf_counter()
    meta, live, files = make_lake(work, a.snapshots, a.rows)
    made = time.perf_counter() - t
    wh = work / "wh"
    subprocess.run([a.firn, "--warehouse", wh, "namespace", "create", "b"], check=True,
                   capture_output=True)
    wall, rss, out = timed([a.firn, "--warehouse", wh, "import", "ducklake", meta, "t", "b.t",
                            "--json"])
    info = json.loads(out)
    desc = json.loads(subprocess.run([a.firn, "--warehouse", wh, "describe", "b.t", "--json"],
                                     check=True, capture_output=True, text=True).stdout)
    q, n = first_query(desc["metadata-location"])
    assert n == live, (n, live)
    print(f"DuckLake table: {a.snapshots} snapshots, {files} live data files, {live:,} live rows "
          f"(made in {made:.1f} s)\n")
    print("| step | time | peak RSS | |")
    print("|---|---|---|---|")
    print(f"| firn import ducklake | {wall:.2f} s | {rss:.0f} MiB | {info['versions']} versions, "
          f"{info['snapshots']} snapshots, {info['files']} files adopted |")
    print(f"| DuckDB's first query (`count(*), sum(v)` over `iceberg_scan`) | {q:.2f} s | | "
          f"{n:,} rows |")


if __name__ == "__main__":
    main()
