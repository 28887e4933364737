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

from firnrun import REPO, spark_jars

JARS = REPO / ".venv" / "jars"


@pytest.fixture(scope="module")
def spark_wh(work_root):
    wh = work_root / "spark-wh"
    wh.mkdir(parents=True, exist_ok=True)
    return wh


@pytest.fixture(scope="module")
def spark(spark_wh, run_firn):
    jars = spark_jars()
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


@pytest.mark.conformance(("equality deletes committed by Iceberg Java", "Spark"))
def test_firn_applies_equality_deletes_from_java(run_firn, spark, spark_wh, tmp):
    """An equality delete file (pyarrow, field ids) committed by Iceberg's
    Java API (RowDelta) in the Spark JVM: firn drops the matching rows of
    older data files only, as Spark does, and compaction applies them."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    table = "db.e"
    run_firn("--warehouse", spark_wh, "create", table, "--schema", "id long not null, city string, v double")
    p = tmp / "e.csv"
    p.write_text("id,city,v\n" + "".join(f"{i},{['Oslo', 'Lima'][i % 2]},{i}.5\n" for i in range(100)))
    run_firn("--warehouse", spark_wh, "append", table, p)
    eq = spark_wh / "db.db" / "e" / "data" / "eq-deletes-1.parquet"
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False, metadata={"PARQUET:field_id": "1"})])
    pq.write_table(pa.table({"id": pa.array([3, 4, 5, 77], pa.int64())}, schema=schema), eq)
    gw = spark.sparkContext._gateway
    jvm = gw.jvm
    cat = spark._jsparkSession.sessionState().catalogManager().catalog("default").icebergCatalog()
    tbl = cat.loadTable(jvm.org.apache.iceberg.catalog.TableIdentifier.parse(table))
    ids = gw.new_array(jvm.int, 1)
    ids[0] = 1
    df = (jvm.org.apache.iceberg.FileMetadata.deleteFileBuilder(tbl.spec()).ofEqualityDeletes(ids)
          .withPath(str(eq)).withFormat(jvm.org.apache.iceberg.FileFormat.PARQUET)
          .withFileSizeInBytes(eq.stat().st_size).withRecordCount(4).build())
    tbl.newRowDelta().addDeletes(df).commit()
    # rows appended after the delete are not deleted by it (data seq > delete seq)
    p2 = tmp / "e2.csv"
    p2.write_text("id,city,v\n3,Oslo,9.0\n")
    run_firn("--warehouse", spark_wh, "append", table, p2)
    want = spark_rows(spark, table)
    assert sorted(r[0] for r in want) == sorted([i for i in range(100) if i not in (3, 4, 5, 77)] + [3])
    assert firn_rows(run_firn, spark_wh, table) == want
    files = json.loads(run_firn("--warehouse", spark_wh, "files", table, "--json").stdout)
    assert any(f["content"] == "equality-deletes" for f in files)
    run_firn("--warehouse", spark_wh, "compact", table)
    files = json.loads(run_firn("--warehouse", spark_wh, "files", table, "--json").stdout)
    assert all(f["content"] == "data" for f in files)
    assert firn_rows(run_firn, spark_wh, table) == want
    assert spark_rows(spark, table) == want


# ---- snapshot summaries: Java's SnapshotSummary is the oracle -------------

IGNORED_SUMMARY_KEYS = {"engine-name", "engine-version", "manifests-created", "manifests-kept",
                        "manifests-replaced", "entries-processed", "operation"}


def _java_iter(it):
    it = it.iterator()
    while it.hasNext():
        yield it.next()


def java_summary(spark, table, snapshot_id):
    """What Iceberg's Java SnapshotSummary.Builder says for the files the
    snapshot added and removed (Java reads them from firn's manifests), and
    the totals of what is live at the snapshot (Java's own scan planning)."""
    jvm = spark._jvm
    t = jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(spark._jsparkSession, f"default.{table}")
    t.refresh()
    snap = t.snapshot(snapshot_id)
    io = t.io()
    b = jvm.org.apache.iceberg.SnapshotSummary.builder()
    for f in _java_iter(snap.addedDataFiles(io)):
        b.addedFile(t.specs().get(f.specId()), f)
    for f in _java_iter(snap.removedDataFiles(io)):
        b.deletedFile(t.specs().get(f.specId()), f)
    for f in _java_iter(snap.addedDeleteFiles(io)):
        b.addedFile(t.specs().get(f.specId()), f)
    for f in _java_iter(snap.removedDeleteFiles(io)):
        b.deletedFile(t.specs().get(f.specId()), f)
    want = {k: str(v) for k, v in dict(b.build()).items()}
    files = deletes = records = size = pos = eq = 0
    seen = set()
    for task in _java_iter(t.newScan().useSnapshot(snapshot_id).planFiles()):
        df = task.file()
        files += 1
        records += df.recordCount()
        size += df.fileSizeInBytes()
        for d in _java_iter(task.deletes()):
            key = (d.location(), d.contentOffset())
            if key in seen:
                continue
            seen.add(key)
            deletes += 1
            size += jvm.org.apache.iceberg.util.ScanTaskUtil.contentSizeInBytes(d)
            if d.content().toString() == "POSITION_DELETES":
                pos += d.recordCount()
            else:
                eq += d.recordCount()
    want.update({"total-data-files": str(files), "total-delete-files": str(deletes),
                 "total-records": str(records), "total-files-size": str(size),
                 "total-position-deletes": str(pos), "total-equality-deletes": str(eq)})
    return want


@pytest.mark.conformance(("snapshot summaries", "Spark"))
@pytest.mark.parametrize("fv", [2, 3])
def test_summaries_match_java(run_firn, spark, spark_wh, tmp, fv):
    """Every summary firn writes in a sequence of operations carries exactly
    the keys and values Java's SnapshotSummary gives for the same added and
    removed files, and totals equal to what Java plans as live. (Delete
    files that apply to no live data file are not counted by Java's planner,
    so each step leaves none behind.)"""
    table = f"db.sum{fv}"
    load(run_firn, spark_wh, table, fv)
    more = tmp / "more.csv"
    more.write_text("id,city,v\n" + "".join(f"{i},Oslo,{i}.25\n" for i in range(1000, 1010)))
    upsert = tmp / "upsert.csv"
    upsert.write_text("id,city,v\n1,Lima,9.5\n2000,Pune,1.5\n")
    steps = [
        ("append", more),
        ("delete", "--where", "id = 3", "--mode", "merge-on-read"),
        ("delete", "--where", "id = 6", "--mode", "merge-on-read"),
        ("delete", "--where", "id = 4", "--mode", "copy-on-write"),
        ("update", "--set", "v = 0", "--where", "id = 7", "--mode", "merge-on-read"),
        ("update", "--set", "v = 1", "--where", "city = 'Lima'", "--mode", "copy-on-write"),
        ("merge", upsert, "--on", "id"),
        ("delete", "--where", "id >= 1000"),
        ("compact",),
        ("rewrite-manifests",),
    ]
    seen = {s["snapshot-id"] for s in json.loads(run_firn("--warehouse", spark_wh, "snapshots", table, "--json").stdout)}
    for step in steps:
        run_firn("--warehouse", spark_wh, step[0], table, *step[1:])
        snaps = json.loads(run_firn("--warehouse", spark_wh, "snapshots", table, "--json").stdout)
        new = [s for s in snaps if s["snapshot-id"] not in seen]
        assert len(new) == 1, (step, new)
        seen.add(new[0]["snapshot-id"])
        meta = json.loads(Path(json.loads(run_firn("--warehouse", spark_wh, "describe", table, "--json").stdout)
                               ["metadata-location"].removeprefix("file://")).read_text())
        got = next(s["summary"] for s in meta["snapshots"] if s["snapshot-id"] == new[0]["snapshot-id"])
        got = {k: v for k, v in got.items() if k not in IGNORED_SUMMARY_KEYS}
        want = java_summary(spark, table, new[0]["snapshot-id"])
        assert got == want, f"step {step}: firn {got} != Java {want}"


def spark_refs(spark, table):
    return {r["name"]: (r["type"], r["snapshot_id"])
            for r in spark.sql(f"SELECT * FROM default.{table}.refs").collect()}


def firn_refs(run_firn, wh, table):
    loc = json.loads(run_firn("--warehouse", wh, "describe", table, "--json").stdout)["metadata-location"]
    meta = json.loads(Path(loc.removeprefix("file://")).read_text())
    return {k: (v["type"].upper(), v["snapshot-id"]) for k, v in meta["refs"].items()}, meta


@pytest.mark.conformance(("schema, partition, ref and expiry changes, Spark and firn in turn", "Spark"))
@pytest.mark.parametrize("fv", [2, 3])
def test_metadata_changes_alternate_with_spark(run_firn, spark, spark_wh, fv):
    """Each side commits metadata changes on top of the other's: schema
    evolution, partition evolution, tags and branches, expiry and data;
    after every step both read the same rows, schema and refs."""
    table = f"db.meta{fv}"
    wh = spark_wh
    load(run_firn, wh, table, fv)

    def agree(ncols):
        spark.sql(f"REFRESH TABLE default.{table}")
        want = firn_rows(run_firn, wh, table)
        got = spark_rows(spark, table)
        assert got == want
        assert len(spark.table(f"default.{table}").columns) == ncols
        refs, meta = firn_refs(run_firn, wh, table)
        assert spark_refs(spark, table) == refs
        return want, refs, meta

    # firn: schema change, partition evolution, a tag, a branch, data
    run_firn("--warehouse", wh, "alter", table, "add-column", "note string")
    run_firn("--warehouse", wh, "alter", table, "partition-by", "city, bucket(4, id)")
    run_firn("--warehouse", wh, "tag", table, "firn_tag")
    p = wh / f"meta{fv}-a.csv"
    p.write_text("id,city,v,note\n" + "".join(f"{i},Oslo,{i}.25,n{i}\n" for i in range(600, 640)))
    run_firn("--warehouse", wh, "append", table, p)
    run_firn("--warehouse", wh, "branch", table, "firn_branch")
    rows, refs, meta = agree(4)
    assert len(rows) == 640 and {"firn_tag", "firn_branch", "main"} <= set(refs)
    assert len(meta["partition-specs"]) == 2
    assert spark.sql(f"SELECT count(*) FROM default.{table} VERSION AS OF 'firn_tag'").collect()[0][0] == 600

    # Spark: on top of firn's metadata
    spark.sql(f"ALTER TABLE default.{table} ADD COLUMN score int")
    spark.sql(f"ALTER TABLE default.{table} RENAME COLUMN note TO remark")
    spark.sql(f"ALTER TABLE default.{table} ADD PARTITION FIELD truncate(2, remark)")
    spark.sql(f"INSERT INTO default.{table} VALUES (700, 'Lima', 1.0, 'sp', 7), (701, 'Pune', 2.0, NULL, 8)")
    spark.sql(f"ALTER TABLE default.{table} CREATE TAG spark_tag")
    spark.sql(f"ALTER TABLE default.{table} CREATE BRANCH spark_branch")
    spark.sql(f"ALTER TABLE default.{table} SET TBLPROPERTIES ('spark.side'='yes')")
    rows, refs, meta = agree(5)
    assert len(rows) == 642 and {"spark_tag", "spark_branch"} <= set(refs)
    assert meta["properties"]["spark.side"] == "yes"
    assert len(meta["partition-specs"]) == 3
    assert ("700", "Lima", 1.0, "sp", 7) in rows or (700, "Lima", 1.0, "sp", 7) in rows

    # firn on top of Spark's: data, rename, drop a column, a tag, unset a property
    p = wh / f"meta{fv}-b.csv"
    p.write_text("id,city,v,remark,score\n800,Oslo,3.5,fx,9\n")
    run_firn("--warehouse", wh, "append", table, p)
    run_firn("--warehouse", wh, "delete", table, "--where", "id < 10")
    run_firn("--warehouse", wh, "alter", table, "rename-column", "score", "points")
    run_firn("--warehouse", wh, "alter", table, "unset-property", "spark.side")
    run_firn("--warehouse", wh, "tag", table, "firn_tag2")
    rows, refs, meta = agree(5)
    assert len(rows) == 642 + 1 - 10
    assert "spark.side" not in meta["properties"]
    assert spark.table(f"default.{table}").columns[-1] == "points"

    # expiry, each side in turn: refs keep what they point at
    before = len(meta["snapshots"])
    spark.sql(f"ALTER TABLE default.{table} DROP TAG firn_tag")
    spark.sql(f"CALL default.system.expire_snapshots(table => '{table}', "
              f"older_than => TIMESTAMP '2999-01-01 00:00:00', retain_last => 1)")
    rows, refs, meta = agree(5)
    assert "firn_tag" not in refs
    mid = len(meta["snapshots"])
    assert mid < before
    p = wh / f"meta{fv}-c.csv"
    p.write_text("id,city,v,remark,points\n900,Lima,4.5,zz,1\n")
    run_firn("--warehouse", wh, "append", table, p)
    spark.sql(f"ALTER TABLE default.{table} DROP BRANCH spark_branch")
    spark.sql(f"ALTER TABLE default.{table} DROP TAG spark_tag")
    run_firn("--warehouse", wh, "expire", table, "--older-than", "2999-01-01T00:00:00", "--retain-last", "1")
    rows, refs, meta = agree(5)
    assert len(rows) == 642 + 1 - 10 + 1
    live = {s["snapshot-id"] for s in meta["snapshots"]}
    assert {sid for _, sid in refs.values()} <= live
    assert set(refs) == {"main", "firn_branch", "firn_tag2"}
    spark.sql(f"INSERT INTO default.{table} VALUES (901, 'Oslo', 5.5, 'after', 2)")
    rows, refs, meta = agree(5)
    assert len(rows) == 642 + 1 - 10 + 2
