"""Spark (pyspark 3.5 in local mode, Iceberg's Spark runtime and the SQLite
JDBC driver from Maven Central, scripts/fetch_jars.sh) on firn's catalog:
Iceberg's JdbcCatalog over the very catalog.db firn writes. Spark reads
firn's merge-on-read deletes and updates (v2 position deletes, v3 deletion
vectors); Spark writes merge-on-read position deletes that firn reads and
compacts away."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from firnrun import REPO

JARS = REPO / ".venv" / "jars"


@pytest.fixture(scope="module")
def spark_wh(work_root):
    wh = work_root / "spark-wh"
    wh.mkdir(parents=True, exist_ok=True)
    return wh


@pytest.fixture(scope="module")
def spark(spark_wh, run_firn):
    jars = sorted(str(p) for p in JARS.glob("*.jar"))
    assert len(jars) == 2, f"Spark's jars are missing from {JARS}: run scripts/fetch_jars.sh"
    run_firn("--warehouse", spark_wh, "namespace", "create", "db")  # creates catalog.db
    from pyspark.sql import SparkSession
    os.environ.setdefault("PYSPARK_PYTHON", str(REPO / ".venv" / "bin" / "python"))
    s = (SparkSession.builder.master("local[1]").appName("firn-interop")
         .config("spark.jars", ",".join(jars))
         .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
         .config("spark.sql.catalog.default", "org.apache.iceberg.spark.SparkCatalog")
         .config("spark.sql.catalog.default.catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog")
         .config("spark.sql.catalog.default.uri", f"jdbc:sqlite:{spark_wh}/catalog.db")
         .config("spark.sql.catalog.default.jdbc.schema-version", "V1")
         # firn made the tables; Iceberg's table check at start-up leaves a read
         # transaction open on its SQLite connection (a WAL snapshot that never
         # moves on: later firn commits stay invisible), so it is switched off
         .config("spark.sql.catalog.default.jdbc.init-catalog-tables", "false")
         .config("spark.sql.catalog.default.warehouse", str(spark_wh))
         .config("spark.sql.catalog.default.cache-enabled", "false")
         .config("spark.sql.shuffle.partitions", "1")
         .config("spark.ui.enabled", "false")
         .config("spark.driver.memory", "1g")
         .getOrCreate())
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def spark_rows(spark, table):
    return sorted(tuple(r) for r in spark.sql(f"SELECT * FROM default.{table}").collect())


def firn_rows(run_firn, wh, table):
    out = run_firn("--warehouse", wh, "scan", table, "--format", "jsonl").stdout
    return sorted(tuple(json.loads(line).values()) for line in out.splitlines())


def load(run_firn, wh, table, fv):
    run_firn("--warehouse", wh, "create", table, "--schema", "id long not null, city string, v double",
             "--partition-by", "city", "--format-version", str(fv))
    p = wh / f"{table}.csv"
    p.write_text("id,city,v\n" + "".join(f"{i},{['Oslo', 'Lima', 'Pune'][i % 3]},{i}.5\n" for i in range(600)))
    run_firn("--warehouse", wh, "append", table, p)


@pytest.mark.conformance(("delete + update, merge-on-read", "Spark"))
@pytest.mark.parametrize("fv", [2, 3])
def test_spark_reads_firn_row_changes(run_firn, spark, spark_wh, fv):
    table = f"db.f{fv}"
    load(run_firn, spark_wh, table, fv)
    run_firn("--warehouse", spark_wh, "delete", table, "--where", "id < 20")
    run_firn("--warehouse", spark_wh, "update", table, "--set", "v = -1", "--where", "id >= 590")
    run_firn("--warehouse", spark_wh, "delete", table, "--where", "city = 'Pune' and id > 100")
    want = firn_rows(run_firn, spark_wh, table)
    assert len(want) == 600 - 20 - sum(1 for i in range(20, 600) if i % 3 == 2 and i > 100)
    assert spark_rows(spark, table) == want
    kinds = {f["content"] for f in json.loads(run_firn("--warehouse", spark_wh, "files", table, "--json").stdout)}
    assert "position-deletes" in kinds


@pytest.mark.conformance(("Spark's merge-on-read deletes read and compacted", "Spark"))
def test_firn_reads_and_compacts_spark_deletes(run_firn, spark, spark_wh):
    table = "db.s"
    load(run_firn, spark_wh, table, 2)
    spark.sql(f"ALTER TABLE default.{table} SET TBLPROPERTIES ('write.delete.mode'='merge-on-read', "
              "'write.update.mode'='merge-on-read')")
    spark.sql(f"DELETE FROM default.{table} WHERE id < 30")
    spark.sql(f"UPDATE default.{table} SET v = 0.0 WHERE id >= 580")
    want = spark_rows(spark, table)
    assert len(want) == 570
    assert firn_rows(run_firn, spark_wh, table) == want
    files = json.loads(run_firn("--warehouse", spark_wh, "files", table, "--json").stdout)
    assert any(f["content"] == "position-deletes" for f in files)  # Spark wrote merge-on-read
    assert int(run_firn("--warehouse", spark_wh, "count", table).stdout) == 570
    run_firn("--warehouse", spark_wh, "compact", table)
    files = json.loads(run_firn("--warehouse", spark_wh, "files", table, "--json").stdout)
    assert all(f["content"] == "data" for f in files)
    assert firn_rows(run_firn, spark_wh, table) == want
    spark.sql(f"REFRESH TABLE default.{table}")
    assert spark_rows(spark, table) == want
