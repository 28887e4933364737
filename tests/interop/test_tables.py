"""Iceberg tables firn creates and changes, read by PyIceberg (SqlCatalog on
firn's catalog.db) and DuckDB (iceberg_scan on the metadata file); tables
PyIceberg writes, read by firn. Every comparison is of the rows themselves."""
from __future__ import annotations

import csv
import datetime as dt
import json
import random
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ice
from firnrun import assert_error

SCHEMA = ("id long not null, name string, city string, price decimal(10,2), qty int, "
          "score double, ok boolean, day date, ts timestamp, tstz timestamptz")

CITIES = ["Oslo", "Lima", "Pune", "Graz", "Kobe", "Żywiec"]


def make_csv(path: Path, n: int, seed: int, start_id: int = 0):
    rnd = random.Random(seed)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "city", "price", "qty", "score", "ok", "day", "ts", "tstz"])
        for i in range(n):
            base = dt.datetime(1969, 12, 25) + dt.timedelta(seconds=rnd.randrange(0, 3 * 365 * 86400))
            w.writerow([
                start_id + i,
                "" if rnd.random() < 0.1 else f"name-{rnd.randrange(1000)}",
                rnd.choice(CITIES),
                f"{rnd.randrange(-100000, 100000) / 100:.2f}",
                rnd.randrange(-50, 50),
                repr(rnd.uniform(-1e3, 1e3)),
                rnd.choice(["true", "false"]),
                base.date().isoformat(),
                base.isoformat(timespec="microseconds"),
                base.isoformat(timespec="microseconds") + "+00:00",
            ])


@pytest.fixture
def wh(tmp):
    d = tmp / "wh"
    d.mkdir()
    return d


def firn(run_firn, wh, *args, **kw):
    return run_firn("--warehouse", wh, *args, **kw)


def setup_table(run_firn, wh, name="db.t", partition=None, fv=2, rows=300, appends=2):
    firn(run_firn, wh, "namespace", "create", "db", check=False)
    args = ["create", name, "--schema", SCHEMA, "--format-version", str(fv)]
    if partition:
        args += ["--partition-by", partition]
    firn(run_firn, wh, *args)
    for k in range(appends):
        p = wh / f"in-{k}.csv"
        make_csv(p, rows, seed=k, start_id=k * rows)
        firn(run_firn, wh, "append", name, p)


PARTITIONS = [None, "city", "bucket(8, id)", "truncate(2, name)", "year(ts)", "month(tstz)",
              "day(ts)", "hour(tstz)", "day(day)", "truncate(10, qty)", "bucket(4, price), city",
              "truncate(100, price)", "month(day), bucket(3, name)"]


@pytest.mark.conformance(("create + append, every transform", "PyIceberg"), ("create + append, every transform", "DuckDB"))
@pytest.mark.parametrize("partition", PARTITIONS)
def test_pyiceberg_and_duckdb_read_what_firn_wrote(run_firn, wh, partition):
    setup_table(run_firn, wh, partition=partition)
    want = ice.firn_rows(run_firn, wh, "db.t")
    assert len(want) == 600
    assert ice.pyiceberg_rows(wh, "db.t") == want
    loc = ice.describe(run_firn, wh, "db.t")["metadata-location"]
    assert ice.duck_rows(loc) == want
    # firn's rows are the input's: ids 0..599 once each
    assert sorted(r[0] for r in want) == list(range(600))


@pytest.mark.conformance(("format v3 tables", "PyIceberg"), ("format v3 tables", "DuckDB"))
@pytest.mark.parametrize("partition", [None, "day(ts), city"])
def test_format_v3(run_firn, wh, partition):
    setup_table(run_firn, wh, partition=partition, fv=3)
    d = ice.describe(run_firn, wh, "db.t")
    assert d["format-version"] == 3
    want = ice.firn_rows(run_firn, wh, "db.t")
    assert len(want) == 600
    assert ice.duck_rows(d["metadata-location"]) == want
    # PyIceberg 0.12 reads format v3 metadata and these v3 manifests
    assert ice.pyiceberg_rows(wh, "db.t") == want
    meta = json.loads(Path(d["metadata-location"]).read_text())
    assert meta["next-row-id"] == 600
    assert [s["first-row-id"] for s in meta["snapshots"]] == [0, 300]


@pytest.mark.conformance(("partition values", "PyIceberg"))
def test_partition_values_match_pyiceberg(run_firn, wh):
    """Every data file's partition tuple equals PyIceberg's transform of the
    file's rows."""
    setup_table(run_firn, wh, partition="bucket(8, id), truncate(3, name), month(ts), day(tstz)")
    from pyiceberg.transforms import BucketTransform, TruncateTransform, MonthTransform, DayTransform
    from pyiceberg.types import LongType, StringType, TimestampType, TimestamptzType
    tbl = ice.catalog(wh).load_table("db.t")
    tasks = list(tbl.scan().plan_files())
    assert tasks
    fns = [BucketTransform(8).transform(LongType()), TruncateTransform(3).transform(StringType()),
           MonthTransform().transform(TimestampType()), DayTransform().transform(TimestamptzType())]
    for task in tasks:
        f = task.file
        data = pq.read_table(f.file_path)
        part = list(f.partition)
        for r in data.to_pylist():
            ts = r["ts"]
            tstz = r["tstz"]
            micros = int((ts - dt.datetime(1970, 1, 1)).total_seconds() * 1_000_000) if ts else None
            micros_tz = int((tstz - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)).total_seconds() * 1_000_000) if tstz else None
            got = [fns[0](r["id"]), fns[1](r["name"]), fns[2](micros), fns[3](micros_tz)]
            assert got == part, (f.file_path, r)


@pytest.mark.conformance(("time travel, tags, branches, rollback", "PyIceberg"), ("time travel, tags, branches, rollback", "DuckDB"))
def test_time_travel(run_firn, wh):
    setup_table(run_firn, wh, partition="city", appends=3, rows=100)
    snaps = ice.snapshots(run_firn, wh, "db.t")
    assert [s["operation"] for s in snaps] == ["append"] * 3
    assert [int(s["summary"]["total-records"]) for s in snaps] == [100, 200, 300]
    loc = ice.describe(run_firn, wh, "db.t")["metadata-location"]
    for k, s in enumerate(snaps):
        sid = s["snapshot-id"]
        want = ice.firn_rows(run_firn, wh, "db.t", "--snapshot", sid)
        assert len(want) == 100 * (k + 1)
        assert ice.pyiceberg_rows(wh, "db.t", snapshot_id=sid) == want
        assert ice.duck_rows(loc, snapshot_id=sid) == want
        count = firn(run_firn, wh, "count", "db.t", "--snapshot", sid).stdout.strip()
        assert int(count) == 100 * (k + 1)
    # --as-of the first snapshot's time, and tags
    t0 = snaps[0]["timestamp-ms"]
    assert int(firn(run_firn, wh, "count", "db.t", "--as-of", t0).stdout) == 100
    firn(run_firn, wh, "tag", "db.t", "first", "--snapshot", snaps[0]["snapshot-id"])
    assert int(firn(run_firn, wh, "count", "db.t", "--ref", "first").stdout) == 100
    firn(run_firn, wh, "branch", "db.t", "dev", "--snapshot", snaps[1]["snapshot-id"])
    assert int(firn(run_firn, wh, "count", "db.t", "--ref", "dev").stdout) == 200
    refs = ice.describe(run_firn, wh, "db.t")["refs"]
    assert refs["first"] == {"type": "tag", "snapshot-id": snaps[0]["snapshot-id"]}
    assert refs["dev"]["type"] == "branch"
    # PyIceberg sees the refs
    tbl = ice.catalog(wh).load_table("db.t")
    assert tbl.metadata.refs["first"].snapshot_id == snaps[0]["snapshot-id"]
    # rollback
    firn(run_firn, wh, "rollback", "db.t", "--to", snaps[1]["snapshot-id"])
    assert int(firn(run_firn, wh, "count", "db.t").stdout) == 200
    assert len(ice.pyiceberg_rows(wh, "db.t")) == 200
    hist = json.loads(firn(run_firn, wh, "history", "db.t", "--json").stdout)
    assert hist[-1]["snapshot-id"] == snaps[1]["snapshot-id"]
    assert [h["is-current-ancestor"] for h in hist] == [True, True, False, True]


WHERES = [
    ("city = 'Oslo'", lambda r: r["city"] == "Oslo"),
    ("id < 100 or id >= 550", lambda r: r["id"] < 100 or r["id"] >= 550),
    ("price > 500.5 and ok", lambda r: r["price"] > 500.5 and r["ok"]),
    ("name is null", lambda r: r["name"] is None),
    ("name like 'name-1%'", lambda r: r["name"] is not None and r["name"].startswith("name-1")),
    ("ts >= '1971-01-01' and ts < '1971-02-01'",
     lambda r: dt.datetime(1971, 1, 1) <= r["ts"] < dt.datetime(1971, 2, 1)),
    ("city in ('Lima', 'Kobe') and not (qty > 10)", lambda r: r["city"] in ("Lima", "Kobe") and not r["qty"] > 10),
    ("day = '1970-06-01'", lambda r: r["day"] == dt.date(1970, 6, 1)),
    ("qty not in (1, 2, 3) and score > 0", lambda r: r["qty"] not in (1, 2, 3) and r["score"] > 0),
]


@pytest.mark.conformance(("scan --where / count", "pyarrow"))
@pytest.mark.parametrize("partition", [None, "city", "day(ts)", "bucket(4, id)"])
def test_where_matches_pyarrow(run_firn, wh, partition):
    setup_table(run_firn, wh, partition=partition)
    all_rows = pq.read_table(ice_firn_parquet(run_firn, wh)).to_pylist()
    for text, pred in WHERES:
        if pred is None:
            continue
        want = ice.rows(pa.Table.from_pylist([r for r in all_rows if pred(r)],
                                             schema=pq.read_schema(ice_firn_parquet(run_firn, wh))))
        got = ice.firn_rows(run_firn, wh, "db.t", "--where", text)
        assert got == want, text
        n = int(firn(run_firn, wh, "count", "db.t", "--where", text).stdout)
        assert n == len(want), text


def ice_firn_parquet(run_firn, wh):
    out = wh / "all.parquet"
    if not out.exists():
        firn(run_firn, wh, "scan", "db.t", "--format", "parquet", "--output", out)
    return out


def test_count_from_metadata(run_firn, wh):
    setup_table(run_firn, wh, partition="city")
    assert int(firn(run_firn, wh, "count", "db.t").stdout) == 600
    # the partition column decides every file: same answer from metadata
    n = int(firn(run_firn, wh, "count", "db.t", "--where", "city = 'Oslo'").stdout)
    rows = ice.pyiceberg_rows(wh, "db.t")
    assert n == sum(1 for r in rows if r[2] == "Oslo")


@pytest.mark.conformance(("schema and partition evolution", "PyIceberg"), ("schema and partition evolution", "DuckDB"))
def test_schema_evolution(run_firn, wh):
    setup_table(run_firn, wh, partition="city", appends=1, rows=200)
    s1 = ice.snapshots(run_firn, wh, "db.t")[-1]["snapshot-id"]
    firn(run_firn, wh, "alter", "db.t", "add-column", "extra string")
    firn(run_firn, wh, "alter", "db.t", "rename-column", "name", "label")
    firn(run_firn, wh, "alter", "db.t", "drop-column", "score")
    firn(run_firn, wh, "alter", "db.t", "alter-column", "qty", "long")
    firn(run_firn, wh, "alter", "db.t", "alter-column", "price", "decimal(12,2)")
    firn(run_firn, wh, "alter", "db.t", "set-property", "owner=ops")
    firn(run_firn, wh, "alter", "db.t", "alter-column", "city", "optional")
    firn(run_firn, wh, "alter", "db.t", "sort-by", "id desc nulls last")
    p = wh / "new.csv"
    p.write_text("id,label,city,price,qty,ok,day,ts,tstz,extra\n"
                 "1000,fresh,Oslo,12.34,5000000000,true,2024-01-01,2024-01-01T00:00:00,"
                 "2024-01-01T00:00:00+00:00,hello\n")
    firn(run_firn, wh, "append", "db.t", p)
    d = ice.describe(run_firn, wh, "db.t")
    names = [f["name"] for f in d["schema"]]
    assert names == ["id", "label", "city", "price", "qty", "ok", "day", "ts", "tstz", "extra"]
    assert d["properties"]["owner"] == "ops"
    assert d["sort-order"] == [{"source": "id", "transform": "identity", "direction": "desc",
                                "null-order": "nulls-last"}]
    pyt = ice.catalog(wh).load_table("db.t")
    assert [f.name for f in pyt.schema().fields] == names
    assert str(pyt.sort_order().fields[0].direction).lower().endswith("desc")
    want = ice.firn_rows(run_firn, wh, "db.t")
    assert len(want) == 201
    assert ice.pyiceberg_rows(wh, "db.t") == want
    assert ice.duck_rows(d["metadata-location"]) == want
    new = [r for r in want if r[0] == 1000][0]
    assert new[1] == "fresh" and new[4] == 5000000000 and new[-1] == "hello"
    old = [r for r in want if r[0] != 1000]
    assert all(r[-1] is None for r in old)
    # the old snapshot reads with its own schema, in all readers
    old_rows = ice.firn_rows(run_firn, wh, "db.t", "--snapshot", s1)
    assert len(old_rows) == 200 and len(old_rows[0]) == 10
    assert ice.pyiceberg_rows(wh, "db.t", snapshot_id=s1) == old_rows
    # partition evolution
    firn(run_firn, wh, "alter", "db.t", "partition-by", "bucket(4, id)")
    firn(run_firn, wh, "append", "db.t", p)
    assert int(firn(run_firn, wh, "count", "db.t", "--where", "id = 1000").stdout) == 2
    assert len(ice.pyiceberg_rows(wh, "db.t")) == 202
    assert len(ice.duck_rows(ice.describe(run_firn, wh, "db.t")["metadata-location"])) == 202


def test_alter_rejects_what_the_spec_forbids(run_firn, wh):
    setup_table(run_firn, wh, partition="city", appends=1, rows=10)
    before = ice.describe(run_firn, wh, "db.t")["metadata-location"]
    bad = [
        ("alter-column", "qty", "string"),
        ("alter-column", "score", "float"),
        ("alter-column", "price", "decimal(12,3)"),
        ("drop-column", "city"),
        ("drop-column", "nope"),
        ("add-column", "id long"),
        ("add-column", "req long not null"),
        ("rename-column", "name", "city"),
        ("partition-by", "hour(day)"),
        ("partition-by", "bucket(4, nope)"),
    ]
    for args in bad:
        res = firn(run_firn, wh, "alter", "db.t", *args, check=False)
        assert_error(res)
    assert ice.describe(run_firn, wh, "db.t")["metadata-location"] == before


@pytest.mark.conformance(("nested types", "PyIceberg"))
def test_nested_types(run_firn, wh):
    firn(run_firn, wh, "namespace", "create", "db")
    firn(run_firn, wh, "create", "db.n", "--schema",
         "id long not null, tags list<string>, attrs map<string, long>, "
         "loc struct<lat: double, lon: double>, u uuid, b binary, f fixed[3], t time",
         "--partition-by", "truncate(2, id)")
    p = wh / "n.jsonl"
    with open(p, "w") as f:
        for i in range(50):
            f.write(json.dumps({
                "id": i, "tags": [f"t{i}", None] if i % 3 else None,
                "attrs": {"a": i, "b": -i} if i % 2 else {},
                "loc": {"lat": i / 3, "lon": None} if i % 5 else None,
                "u": f"00000000-0000-0000-0000-{i:012d}", "b": f"{i:02x}ff", "f": "0a0b0c",
                "t": "12:34:56.789"}) + "\n")
    firn(run_firn, wh, "append", "db.n", p)
    want = ice.firn_rows(run_firn, wh, "db.n")
    assert len(want) == 50
    got = ice.pyiceberg_rows(wh, "db.n")
    assert [r[:4] for r in got] == [r[:4] for r in want]
    firn(run_firn, wh, "alter", "db.n", "add-column", "loc.alt double")
    firn(run_firn, wh, "alter", "db.n", "rename-column", "loc.lat", "latitude")
    rows = ice.pyiceberg_rows(wh, "db.n")
    assert len(rows) == 50
    assert ice.firn_rows(run_firn, wh, "db.n", "--columns", "id,loc") == ice.rows(
        ice.catalog(wh).load_table("db.n").scan(selected_fields=("id", "loc")).to_arrow())


@pytest.mark.conformance(("firn reads and appends to PyIceberg tables", "PyIceberg"))
def test_firn_reads_what_pyiceberg_wrote(run_firn, wh):
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.transforms import DayTransform, IdentityTransform
    from pyiceberg.types import (DoubleType, LongType, NestedField, StringType, StructType,
                                 TimestampType, ListType)
    cat = ice.catalog(wh)
    cat.create_namespace("py")
    schema = Schema(
        NestedField(1, "id", LongType(), required=True),
        NestedField(2, "city", StringType()),
        NestedField(3, "ts", TimestampType()),
        NestedField(4, "v", DoubleType()),
        NestedField(5, "pt", StructType(NestedField(6, "x", DoubleType()), NestedField(7, "y", DoubleType()))),
        NestedField(8, "tags", ListType(9, StringType())),
    )
    spec = PartitionSpec(PartitionField(2, 1000, IdentityTransform(), "city"),
                         PartitionField(3, 1001, DayTransform(), "ts_day"))
    tbl = cat.create_table("py.t", schema=schema, partition_spec=spec)
    arrow_schema = tbl.schema().as_arrow()  # PyIceberg assigns fresh ids

    def batch(k):
        return pa.Table.from_pylist([{
            "id": k * 100 + i, "city": CITIES[i % 4], "ts": dt.datetime(2026, 1, 1 + i % 5, i % 24),
            "v": i * 1.5, "pt": {"x": float(i), "y": None}, "tags": ["a", str(i)]} for i in range(100)],
            schema=arrow_schema)
    tbl.append(batch(0))
    tbl.append(batch(1))
    with tbl.update_schema() as u:
        u.add_column("note", StringType())
        u.rename_column("v", "value")
    tbl = cat.load_table("py.t")
    tbl.append(pa.Table.from_pylist([{"id": 999, "city": "Oslo", "ts": dt.datetime(2026, 2, 1),
                                      "value": 1.0, "pt": None, "tags": None, "note": "x"}],
                                    schema=tbl.schema().as_arrow()))
    tbl = cat.load_table("py.t")
    want = ice.rows(tbl.scan().to_arrow())
    assert len(want) == 201
    assert ice.firn_rows(run_firn, wh, "py.t") == want
    for s in tbl.metadata.snapshots:
        assert ice.firn_rows(run_firn, wh, "py.t", "--snapshot", s.snapshot_id) == \
            ice.rows(tbl.scan(snapshot_id=s.snapshot_id).to_arrow())
    got = ice.firn_rows(run_firn, wh, "py.t", "--where", "city = 'Lima' and id < 150")
    assert got == [r for r in want if r[1] == "Lima" and r[0] < 150]
    # and firn appends to it: PyIceberg reads both writers' rows
    p = wh / "more.csv"
    p.write_text("id,city,ts,value,note\n5000,Pune,2026-03-01T00:00:00,2.5,firn\n")
    firn(run_firn, wh, "append", "py.t", p)
    assert len(ice.rows(cat.load_table("py.t").scan().to_arrow())) == 202


def test_bad_input(run_firn, wh):
    setup_table(run_firn, wh, appends=1, rows=10)
    loc = ice.describe(run_firn, wh, "db.t")["metadata-location"]
    cases = [
        (["scan", "db.nope"], ["db.nope"]),
        (["scan", "db.t", "--where", "nope = 1"], ["nope"]),
        (["scan", "db.t", "--where", "id = 'abc'"], ["id"]),
        (["scan", "db.t", "--where", "id = = 3"], ["where"]),
        (["scan", "db.t", "--columns", "id,nope"], ["nope"]),
        (["scan", "db.t", "--snapshot", "12345"], ["12345"]),
        (["create", "db.t", "--schema", "id long"], ["exists"]),
        (["create", "db.x", "--schema", "id lng"], ["schema"]),
        (["create", "nons.x", "--schema", "id long"], ["nons"]),
        (["create", "db.y", "--schema", "id long", "--partition-by", "day(id)"], []),
        (["create", "db.y", "--schema", "t timestamp_ns"], ["format version 3"]),
    ]
    for args, mentions in cases:
        assert_error(firn(run_firn, wh, *args, check=False), mentions=mentions)
    bad = wh / "bad.csv"
    bad.write_text("id,qty\n1,notanumber\n")
    assert_error(firn(run_firn, wh, "append", "db.t", bad, check=False), mentions=["bad.csv"])
    bad.write_text("id,qty\n,3\n")
    assert_error(firn(run_firn, wh, "append", "db.t", bad, check=False))
    assert ice.describe(run_firn, wh, "db.t")["metadata-location"] == loc
    # corrupt metadata: one clear line, not a crash
    Path(loc).write_text("{not json")
    assert_error(firn(run_firn, wh, "scan", "db.t", check=False), mentions=["metadata"])
    # a catalog database that is not a catalog
    other = wh.parent / "notcat"
    other.mkdir()
    (other / "catalog.db").write_text("hello, I am not SQLite")
    assert_error(run_firn("--warehouse", other, "tables", check=False))


@pytest.mark.conformance(("namespaces, rename, drop, register", "PyIceberg"))
def test_namespaces_and_tables(run_firn, wh):
    firn(run_firn, wh, "namespace", "create", "a", "--property", "owner=me")
    firn(run_firn, wh, "namespace", "create", "a.b")
    assert firn(run_firn, wh, "namespace", "list").stdout.split() == ["a"]
    assert firn(run_firn, wh, "namespace", "list", "a").stdout.split() == ["a.b"]
    d = json.loads(firn(run_firn, wh, "namespace", "describe", "a", "--json").stdout)
    assert d["properties"] == {"owner": "me"}
    firn(run_firn, wh, "create", "a.b.t", "--schema", "x int")
    firn(run_firn, wh, "create", "a.t2", "--schema", "x int")
    assert firn(run_firn, wh, "tables").stdout.split() == ["a.t2", "a.b.t"]
    assert_error(firn(run_firn, wh, "namespace", "drop", "a.b", check=False))
    firn(run_firn, wh, "rename", "a.b.t", "a.t3")
    assert ice.catalog(wh).load_table("a.t3").name() == ("a", "t3")
    assert ("a", "b") in ice.catalog(wh).list_namespaces("a")
    assert ice.catalog(wh).load_namespace_properties("a") == {"owner": "me"}
    firn(run_firn, wh, "drop", "a.t3", "--purge")
    assert_error(firn(run_firn, wh, "describe", "a.t3", check=False))
    loc = ice.describe(run_firn, wh, "a.t2")["metadata-location"]
    firn(run_firn, wh, "drop", "a.t2")
    firn(run_firn, wh, "register", "a.t4", loc)
    assert ice.describe(run_firn, wh, "a.t4")["schema"][0]["name"] == "x"


@pytest.mark.conformance(("append CSV / JSON Lines / Parquet / stdin", "PyIceberg"))
def test_append_formats_and_stdin(run_firn, wh):
    setup_table(run_firn, wh, appends=0)
    p = wh / "a.csv"
    make_csv(p, 20, seed=7)
    pqf = wh / "a.parquet"
    firn(run_firn, wh, "scan", "db.t", "--format", "parquet", "--output", pqf)  # empty table
    assert pq.read_table(pqf).num_rows == 0
    firn(run_firn, wh, "append", "db.t", "-", input=p.read_bytes())
    firn(run_firn, wh, "scan", "db.t", "--format", "parquet", "--output", pqf)
    jl = wh / "a.jsonl"
    jl.write_text(firn(run_firn, wh, "scan", "db.t", "--format", "jsonl").stdout)
    firn(run_firn, wh, "append", "db.t", pqf, jl)
    rows = ice.pyiceberg_rows(wh, "db.t")
    assert len(rows) == 60
    snaps = ice.snapshots(run_firn, wh, "db.t")
    assert len(snaps) == 2 and snaps[1]["summary"]["added-records"] == "40"
    # a pyarrow-written Parquet file with other integer widths
    t = pa.table({"id": pa.array([1, 2], pa.int64()), "qty": pa.array([3, 4], pa.int64())})
    pq.write_table(t, wh / "pa.parquet")
    firn(run_firn, wh, "append", "db.t", wh / "pa.parquet")
    assert len(ice.pyiceberg_rows(wh, "db.t")) == 62


def test_rolling_files_and_compression(run_firn, wh):
    firn(run_firn, wh, "namespace", "create", "db")
    firn(run_firn, wh, "create", "db.r", "--schema", SCHEMA, "--property",
         "write.target-file-size-bytes=20000", "--property", "write.parquet.compression-codec=snappy")
    p = wh / "big.csv"
    make_csv(p, 5000, seed=3)
    firn(run_firn, wh, "append", "db.r", p)
    files = json.loads(firn(run_firn, wh, "files", "db.r", "--json").stdout)
    assert len(files) > 3
    assert sum(f["record-count"] for f in files) == 5000
    md = pq.ParquetFile(files[0]["file-path"]).metadata
    assert md.row_group(0).column(0).compression == "SNAPPY"
    assert len(ice.pyiceberg_rows(wh, "db.r")) == 5000


@pytest.mark.conformance(("manifest metrics", "PyIceberg"))
def test_manifest_metrics_match_the_data(run_firn, wh):
    setup_table(run_firn, wh, partition="city", appends=1, rows=300)
    tbl = ice.catalog(wh).load_table("db.t")
    for task in tbl.scan().plan_files():
        f = task.file
        data = pq.read_table(f.file_path)
        assert f.record_count == data.num_rows
        assert f.null_value_counts[2] == data.column("name").null_count
        from pyiceberg.conversions import from_bytes
        from pyiceberg.types import LongType, StringType
        ids = data.column("id").to_pylist()
        assert from_bytes(LongType(), f.lower_bounds[1]) == min(ids)
        assert from_bytes(LongType(), f.upper_bounds[1]) == max(ids)
        names = [n for n in data.column("name").to_pylist() if n is not None]
        if names:
            assert from_bytes(StringType(), f.lower_bounds[2]) == min(names)[:16]


@pytest.mark.conformance(("8 concurrent writers, SQLite", "PyIceberg"))
def test_concurrent_appends(run_firn, wh, firn_bin):
    firn(run_firn, wh, "namespace", "create", "db")
    # eight writers on one table: more retries than the default 4, shorter waits
    firn(run_firn, wh, "create", "db.c", "--schema", "w int not null, k int not null",
         "--property", "commit.retry.num-retries=200", "--property", "commit.retry.min-wait-ms=5",
         "--property", "commit.retry.max-wait-ms=200")
    script = (
        "set -e\n"
        "for k in $(seq 1 50); do printf 'w,k\\n%s,%s\\n' $1 $k > $TMPD/in-$1-$k.csv; "
        f"'{firn_bin}' --warehouse '{wh}' append db.c $TMPD/in-$1-$k.csv > /dev/null; done\n")
    procs = [subprocess.Popen(["bash", "-c", script, "x", str(w)], env={"TMPD": str(wh), "PATH": "/usr/bin:/bin"},
                              stderr=subprocess.PIPE) for w in range(8)]
    outs = [p.communicate(timeout=600)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, outs
    snaps = ice.snapshots(run_firn, wh, "db.c")
    assert len(snaps) == 400
    rows = ice.pyiceberg_rows(wh, "db.c")
    assert sorted(rows) == sorted((w, k) for w in range(8) for k in range(1, 51))


@pytest.mark.conformance(("read format v1 tables", "PyIceberg"))
def test_firn_reads_format_v1(run_firn, wh):
    from pyiceberg.schema import Schema
    from pyiceberg.types import LongType, NestedField, StringType
    cat = ice.catalog(wh)
    cat.create_namespace("old")
    schema = Schema(NestedField(1, "id", LongType(), required=False), NestedField(2, "s", StringType()))
    tbl = cat.create_table("old.t", schema=schema, properties={"format-version": "1"})
    arrow_schema = tbl.schema().as_arrow()
    tbl.append(pa.Table.from_pylist([{"id": i, "s": f"v{i}"} for i in range(10)], schema=arrow_schema))
    tbl = cat.load_table("old.t")
    tbl.append(pa.Table.from_pylist([{"id": 10, "s": "w"}], schema=arrow_schema))
    tbl = cat.load_table("old.t")
    assert tbl.metadata.format_version == 1
    assert ice.firn_rows(run_firn, wh, "old.t") == ice.rows(tbl.scan().to_arrow())
    first = tbl.metadata.snapshots[0].snapshot_id
    assert len(ice.firn_rows(run_firn, wh, "old.t", "--snapshot", first)) == 10
    # firn does not write v1: one clear error, nothing changed
    p = wh / "x.csv"
    p.write_text("id,s\n1,x\n")
    assert_error(firn(run_firn, wh, "append", "old.t", p, check=False), mentions=["version 1"])


def test_missing_and_corrupt_files(run_firn, wh):
    setup_table(run_firn, wh, partition="city", appends=1, rows=20)
    tbl = ice.catalog(wh).load_table("db.t")
    manifest = tbl.current_snapshot().manifests(tbl.io)[0].manifest_path
    data = next(iter(tbl.scan().plan_files())).file.file_path
    Path(data).rename(data + ".gone")
    assert_error(firn(run_firn, wh, "scan", "db.t", check=False), mentions=["missing"])
    Path(data + ".gone").rename(data)
    Path(manifest).write_bytes(b"Obj\x01garbage")
    assert_error(firn(run_firn, wh, "scan", "db.t", check=False), mentions=[Path(manifest).name])
    assert_error(firn(run_firn, wh, "count", "db.t", check=False))
    Path(manifest).unlink()
    assert_error(firn(run_firn, wh, "files", "db.t", check=False), mentions=["missing"])
