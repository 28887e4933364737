"""Spark on firn's tables in S3 (moto on 127.0.0.1): Iceberg's S3FileIO from
the iceberg-aws-bundle jar, `s3.endpoint` and `s3.path-style-access=true`,
through Iceberg's JdbcCatalog on firn's SQLite catalog and through
`firn serve` (which vends the storage settings and, when told, the keys).
Spark reads firn's appends, deletes and updates; firn reads Spark's inserts
and merge-on-read deletes; each reads the other's compaction."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import firnrun
from firnrun import REPO, spark_jars
from restserver import FIRN_READY, _serve
from s3server import KEY, REGION, SECRET, Moto

BUCKET = "spark-s3"


@pytest.fixture(scope="module")
def moto():
    m = Moto()
    m.client().create_bucket(Bucket=BUCKET)
    yield m
    m.stop()


@pytest.fixture(scope="module")
def site(moto, work_root):
    """The warehouse s3://spark-s3/wh with its SQLite catalog on disk, and
    the firn arguments that reach it."""
    d = work_root / "spark-s3"
    d.mkdir(parents=True, exist_ok=True)
    conf = ["--conf", f"s3.endpoint={moto.endpoint}", "--conf", f"s3.access-key-id={KEY}",
            "--conf", f"s3.secret-access-key={SECRET}", "--conf", f"s3.region={REGION}"]

    class Site:
        pass
    s = Site()
    s.dir, s.conf, s.moto = d, conf, moto
    s.wh = f"s3://{BUCKET}/wh"
    s.catalog = d / "catalog.db"
    s.args = [*conf, "--catalog", f"sqlite:///{s.catalog}", "--warehouse", s.wh]
    firnrun.run(*s.args, "namespace", "create", "db")
    return s


def s3_props(prefix: str, endpoint: str, keys: bool = True) -> dict:
    p = {f"{prefix}.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
         f"{prefix}.s3.endpoint": endpoint, f"{prefix}.s3.path-style-access": "true",
         f"{prefix}.client.region": REGION}
    if keys:
        p[f"{prefix}.s3.access-key-id"] = KEY
        p[f"{prefix}.s3.secret-access-key"] = SECRET
    return p


@pytest.fixture(scope="module")
def server(site):
    """firn serve over the same catalog, vending the keys: Spark's REST
    catalog below is given none of its own."""
    argv = [str(firnrun.firn_path()), *site.conf, "serve", "--listen", "127.0.0.1:0",
            "--warehouse", site.wh, "--catalog", f"sqlite:///{site.catalog}", "--vend-credentials"]
    with _serve(argv, site.dir / "serve.log", FIRN_READY, 30) as srv:
        yield srv


@pytest.fixture(scope="module")
def spark(site, server):
    from pyspark.sql import SparkSession
    firnrun.fresh_spark_jvm()  # an earlier module's JVM lacks the AWS bundle
    os.environ.setdefault("PYSPARK_PYTHON", str(REPO / ".venv" / "bin" / "python"))
    # the AWS SDK must find its keys in the catalog properties (or the
    # REST answer), never in this environment
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        assert k not in os.environ, f"{k} is set: the test would not show where Spark's keys come from"
    b = (SparkSession.builder.master("local[1]").appName("firn-spark-s3")
         .config("spark.jars", ",".join(spark_jars(aws=True)))
         .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
         .config("spark.sql.catalog.default", "org.apache.iceberg.spark.SparkCatalog")
         .config("spark.sql.catalog.default.catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog")
         .config("spark.sql.catalog.default.uri", f"jdbc:sqlite:{site.catalog}")
         .config("spark.sql.catalog.default.jdbc.schema-version", "V1")
         .config("spark.sql.catalog.default.jdbc.init-catalog-tables", "false")
         .config("spark.sql.catalog.default.warehouse", site.wh)
         .config("spark.sql.catalog.default.cache-enabled", "false")
         .config("spark.sql.catalog.rest", "org.apache.iceberg.spark.SparkCatalog")
         .config("spark.sql.catalog.rest.type", "rest")
         .config("spark.sql.catalog.rest.uri", server.url)
         .config("spark.sql.catalog.rest.cache-enabled", "false")
         .config("spark.sql.catalog.rest.io-impl", "org.apache.iceberg.aws.s3.S3FileIO")
         .config("spark.sql.shuffle.partitions", "1")
         .config("spark.ui.enabled", "false")
         .config("spark.driver.memory", "1g")
         # the SDK's default checksums on uploads are not needed by moto
         .config("spark.driver.extraJavaOptions", "-Daws.requestChecksumCalculation=when_required "
                 "-Daws.responseChecksumValidation=when_required"))
    for k, v in s3_props("spark.sql.catalog.default", site.moto.endpoint).items():
        b = b.config(k, v)
    s = b.getOrCreate()
    s.sparkContext.setLogLevel("ERROR")
    yield s
    firnrun.fresh_spark_jvm()  # the modules after this one start their own


def firn(site, *args):
    return firnrun.run(*site.args, *args)


def firn_rows(site, table, *args):
    out = firn(site, "scan", table, "--format", "jsonl", *args).stdout
    return sorted(tuple(json.loads(line).values()) for line in out.splitlines())


def spark_rows(spark, cat, table, where=""):
    return sorted(tuple(r) for r in spark.sql(f"SELECT * FROM {cat}.{table} {where}").collect())


def csv(site, name, rows):
    p = site.dir / name
    p.write_text("id,city,v\n" + "".join(f"{i},{c},{v}\n" for i, c, v in rows))
    return p


def keys(site, prefix):
    c = site.moto.client()
    return sorted(o["Key"] for o in c.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


CITIES = ["Oslo", "Lima", "Pune"]


# JdbcCatalog keeps its tables under the Spark catalog's name: "default",
# as firn does
@pytest.mark.parametrize("cat", ["default", "rest"])
def test_spark_and_firn_share_s3_tables(site, spark, cat):
    """The same life cycle through each catalog: firn creates, appends,
    deletes and updates; Spark reads that, inserts and deletes (merge-on-
    read position deletes); firn reads Spark's changes and compacts; Spark
    reads the compacted table and its history."""
    t = f"db.life_{cat}"
    firn(site, "create", t, "--schema", "id long not null, city string, v double",
         "--partition-by", "city", "--property", "write.delete.mode=merge-on-read")
    rows = [(i, CITIES[i % 3], i + 0.5) for i in range(300)]
    firn(site, "append", t, csv(site, f"{cat}0.csv", rows))
    firn(site, "delete", t, "--where", "id < 10")
    firn(site, "update", t, "--set", "v = -1", "--where", "id >= 290")
    want = sorted((i, c, -1.0 if i >= 290 else v) for i, c, v in rows if i >= 10)
    assert firn_rows(site, t) == want
    assert spark_rows(spark, cat, t) == want
    # Spark writes into the same table in S3
    spark.sql(f"INSERT INTO {cat}.{t} VALUES (1000, 'Oslo', 1.25), (1001, 'Rome', 2.5)")
    spark.sql(f"DELETE FROM {cat}.{t} WHERE id BETWEEN 100 AND 109")
    want = sorted([r for r in want if not 100 <= r[0] <= 109] + [(1000, "Oslo", 1.25), (1001, "Rome", 2.5)])
    assert spark_rows(spark, cat, t) == want
    assert firn_rows(site, t) == want
    files = json.loads(firn(site, "files", t, "--json").stdout)
    assert any(f["content"] != "data" for f in files), "Spark's delete was merge-on-read"
    # everything is in the bucket, under the table's location
    assert all(f["file-path"].startswith(f"s3://{BUCKET}/wh/db.db/life_{cat}/") for f in files)
    assert keys(site, f"wh/db.db/life_{cat}/data/")
    firn(site, "compact", t)
    assert firn_rows(site, t) == want
    assert spark_rows(spark, cat, t) == want
    files = json.loads(firn(site, "files", t, "--json").stdout)
    assert all(f["content"] == "data" for f in files)
    # time travel in Spark to firn's first snapshot
    first = json.loads(firn(site, "snapshots", t, "--json").stdout)[0]["snapshot-id"]
    old = sorted(tuple(r) for r in spark.sql(
        f"SELECT * FROM {cat}.{t} VERSION AS OF {first}").collect())
    assert old == sorted(rows)


def test_spark_creates_firn_reads(site, spark):
    """A table Spark creates in S3 (through the REST catalog, with the keys
    firn serve vends) is firn's to read, change and expire."""
    t = "db.from_spark"
    spark.sql(f"CREATE TABLE rest.{t} (id BIGINT, name STRING) USING iceberg "
              "TBLPROPERTIES ('format-version'='2')")
    spark.sql(f"INSERT INTO rest.{t} VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    spark.sql(f"INSERT INTO rest.{t} VALUES (4, 'd')")
    assert firn_rows(site, t) == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
    firn(site, "delete", t, "--where", "id = 2")
    firn(site, "expire", t, "--older-than", "2999-01-01T00:00:00", "--retain-last", "1")
    assert spark_rows(spark, "default", t) == [(1, "a"), (3, "c"), (4, "d")]
    assert spark_rows(spark, "rest", t) == [(1, "a"), (3, "c"), (4, "d")]
    assert len(json.loads(firn(site, "snapshots", t, "--json").stdout)) == 1
