#!/usr/bin/env python3
"""Compaction of 1,000 small files: firn's compact against Spark's
rewrite_data_files (pyspark 3.5 local[1], Iceberg's Spark runtime, the
same catalog.db through Iceberg's JdbcCatalog), on two copies of the same
table built by firn. DuckDB 1.5.5's iceberg extension has no
rewrite-data-files function, so it is not in the race.

  bench/bench_compact.py BUILD/firn"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def firn(exe, wh, *args):
    return subprocess.run([exe, "--warehouse", str(wh), *map(str, args)], check=True,
                          capture_output=True, text=True).stdout


def build(exe, wh, work):
    firn(exe, wh, "namespace", "create", "b")
    firn(exe, wh, "create", "b.s", "--schema", "id long, v double, s string",
         "--property", "write.target-file-size-bytes=1")
    for k in range(10):
        firn(exe, wh, "append", "b.s", work / f"s{k}.csv")
    firn(exe, wh, "alter", "b.s", "set-property", "write.target-file-size-bytes=536870912")
    return len(json.loads(firn(exe, wh, "files", "b.s", "--json")))


def main():
    exe = str(Path(sys.argv[1]).resolve())
    work = Path(tempfile.mkdtemp(prefix="firn-bench-compact-"))
    for k in range(10):
        (work / f"s{k}.csv").write_text("id,v,s\n" + "".join(f"{k * 100000 + i},{i}.5,x{i}\n" for i in range(100000)))
    a, b = work / "firn", work / "spark"
    n_a, n_b = build(exe, a, work), build(exe, b, work)
    t0 = time.perf_counter()
    firn(exe, a, "compact", "b.s")
    tf = time.perf_counter() - t0
    after = len(json.loads(firn(exe, a, "files", "b.s", "--json")))

    from pyspark.sql import SparkSession
    jars = sorted(str(p) for p in (REPO / ".venv" / "jars").glob("*.jar"))
    spark = (SparkSession.builder.master("local[1]").config("spark.jars", ",".join(jars))
             .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
             .config("spark.sql.catalog.default", "org.apache.iceberg.spark.SparkCatalog")
             .config("spark.sql.catalog.default.catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog")
             .config("spark.sql.catalog.default.uri", f"jdbc:sqlite:{b}/catalog.db")
             .config("spark.sql.catalog.default.jdbc.schema-version", "V1")
             .config("spark.sql.catalog.default.jdbc.init-catalog-tables", "false")
             .config("spark.sql.catalog.default.warehouse", str(b))
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.sql("SELECT count(*) FROM default.b.s").collect()  # warm: JVM, catalog, classes
    t0 = time.perf_counter()
    res = spark.sql("CALL default.system.rewrite_data_files(table => 'b.s')").collect()
    ts = time.perf_counter() - t0
    spark_after = spark.sql("SELECT count(*) FROM default.b.s.files").collect()[0][0]
    spark.stop()
    line = (f"| compact {n_a:,} small files (1,000,000 rows) | firn {tf:.2f} s → {after} file(s) | "
            f"Spark rewrite_data_files {ts:.2f} s → {spark_after} file(s) (rewritten: {res[0][0]}) | "
            f"**{ts / tf:.1f}×** |")
    print(line)
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "compact.md").write_text(line + "\n")


if __name__ == "__main__":
    main()
