"""Spark (pyspark 3.5, Iceberg's Spark runtime) with Iceberg's REST catalog
(`type=rest`) on `firn serve`: Spark creates, writes, deletes, updates and
evolves tables through the server; firn's CLI (as a REST client and on the
server's warehouse directly) and PyIceberg's RestCatalog read each state, and
Spark reads what firn wrote."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import firnrun
from firnrun import REPO, spark_jars
from restserver import firn_server

JARS = REPO / ".venv" / "jars"


@pytest.fixture(scope="module")
def served(work_root):
    wh = work_root / "spark-rest-wh"
    wh.mkdir(parents=True, exist_ok=True)
    with firn_server(firnrun.firn_path(), wh, work_root / "spark-rest-serve.log") as s:
        yield s, wh


@pytest.fixture(scope="module")
def spark(served):
    s, wh = served
    jars = spark_jars()
    from pyspark.sql import SparkSession
    os.environ.setdefault("PYSPARK_PYTHON", str(REPO / ".venv" / "bin" / "python"))
    sp = (SparkSession.builder.master("local[1]").appName("firn-rest")
          .config("spark.jars", ",".join(jars))
          .config("spark.sql.extensions",
                  "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
          .config("spark.sql.catalog.rest", "org.apache.iceberg.spark.SparkCatalog")
          .config("spark.sql.catalog.rest.type", "rest")
          .config("spark.sql.catalog.rest.uri", s.url)
          .config("spark.sql.catalog.rest.cache-enabled", "false")
          .config("spark.sql.shuffle.partitions", "1")
          .config("spark.ui.enabled", "false")
          .config("spark.driver.memory", "1g")
          .getOrCreate())
    sp.sparkContext.setLogLevel("ERROR")
    yield sp
    sp.stop()


def firn_rows(cat: list, table: str) -> list:
    out = firnrun.run(*cat, "scan", table, "--format", "jsonl").stdout
    return sorted(tuple(json.loads(line).values()) for line in out.splitlines() if line.strip())


def spark_rows(spark, table):
    return sorted(tuple(r) for r in spark.sql(f"SELECT * FROM rest.{table}").collect())


@pytest.mark.conformance(("REST catalog: firn serve", "Spark"))
def test_spark_writes_through_firn_serve_and_firn_reads(spark, served, tmp_path):
    s, wh = served
    rest = ["--catalog", s.url]
    local = ["--warehouse", str(wh)]
    spark.sql("CREATE NAMESPACE rest.sp")
    spark.sql("CREATE TABLE rest.sp.t (id BIGINT, name STRING) USING iceberg "
              "PARTITIONED BY (bucket(2, id)) TBLPROPERTIES ('format-version'='2', "
              "'write.delete.mode'='merge-on-read', 'write.update.mode'='merge-on-read')")
    spark.sql("INSERT INTO rest.sp.t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')")
    assert firn_rows(rest, "sp.t") == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
    spark.sql("DELETE FROM rest.sp.t WHERE id = 2")
    spark.sql("UPDATE rest.sp.t SET name = 'cc' WHERE id = 3")
    want = [(1, "a"), (3, "cc"), (4, "d")]
    assert firn_rows(rest, "sp.t") == want
    assert firn_rows(local, "sp.t") == want
    # schema and partition evolution by Spark; firn reads and writes after it
    spark.sql("ALTER TABLE rest.sp.t ADD COLUMN score INT")
    spark.sql("ALTER TABLE rest.sp.t ADD PARTITION FIELD truncate(1, name)")
    spark.sql("INSERT INTO rest.sp.t VALUES (5, 'e', 50)")
    assert firn_rows(rest, "sp.t") == [(1, "a", None), (3, "cc", None), (4, "d", None),
                                       (5, "e", 50)]
    f = tmp_path / "f.csv"
    f.write_text("id,name,score\n6,f,60\n")
    firnrun.run(*rest, "append", "sp.t", f)
    firnrun.run(*rest, "delete", "sp.t", "--where", "id = 1")
    assert spark_rows(spark, "sp.t") == [(3, "cc", None), (4, "d", None), (5, "e", 50),
                                         (6, "f", 60)]
    # firn compacts what Spark's merge-on-read deletes left; Spark reads the result
    firnrun.run(*rest, "compact", "sp.t")
    assert spark_rows(spark, "sp.t") == [(3, "cc", None), (4, "d", None), (5, "e", 50),
                                         (6, "f", 60)]
    # PyIceberg over the same server agrees
    from pyiceberg.catalog import rest as pyrest
    t = pyrest.RestCatalog("firn", uri=s.url).load_table("sp.t")
    got = t.scan().to_arrow().to_pydict()
    assert sorted(zip(got["id"], got["name"], got["score"])) == [
        (3, "cc", None), (4, "d", None), (5, "e", 50), (6, "f", 60)]


def test_firn_tables_through_firn_serve_in_spark(spark, served, tmp_path):
    s, wh = served
    rest = ["--catalog", s.url]
    firnrun.run(*rest, "namespace", "create", "fi")
    firnrun.run(*rest, "create", "fi.e", "--schema", "id long, kind string", "--partition-by",
                "kind", "--format-version", "3")
    f = tmp_path / "e.csv"
    f.write_text("id,kind\n1,x\n2,y\n3,x\n")
    firnrun.run(*rest, "append", "fi.e", f)
    firnrun.run(*rest, "delete", "fi.e", "--where", "id = 2", "--mode", "merge-on-read")
    assert spark_rows(spark, "fi.e") == [(1, "x"), (3, "x")]
    snap = json.loads(firnrun.run(*rest, "snapshots", "fi.e", "--json").stdout)[0]["snapshot-id"]
    firnrun.run(*rest, "tag", "fi.e", "first", "--snapshot", str(snap))
    got = sorted(tuple(r) for r in spark.sql("SELECT * FROM rest.fi.e VERSION AS OF 'first'")
                 .collect())
    assert got == [(1, "x"), (2, "y"), (3, "x")]
    spark.sql("DROP TABLE rest.fi.e PURGE")
    assert firnrun.run(*rest, "tables", "fi").stdout.split() == []
