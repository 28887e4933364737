"""firn's Python module: catalogs, tables, Arrow in and out (pyarrow,
Polars, DuckDB), judged by PyIceberg's and DuckDB's readings."""
from __future__ import annotations

import gc
import threading
import time

import duckdb
import polars as pl
import pyarrow as pa
import pytest

import firn
import ice
from tables import ALL_TYPES, all_types


def pyice(wh, ident, **kw):
    return ice.pyiceberg_rows(wh, ident, **kw)


def test_arrow_schema_becomes_spec_text():
    assert firn.schema_spec(ALL_TYPES) == (
        "id long not null, b boolean, i int, f float, d double, dec decimal(10,2), day date, "
        "t time, ts timestamp, tstz timestamptz, s string, bin binary, u uuid, fx fixed[4], "
        "loc struct<lat: double, lon: double not null>, tags list<string>, "
        "attrs map<string, long>")


def test_all_types_read_by_pyarrow_polars_duckdb_equal_pyiceberg(cat, wh):
    t = cat.create_table("db.all", ALL_TYPES)
    t.append(all_types(50))
    t.append(all_types(30, start=50))
    want = pyice(wh, "db.all")
    assert len(want) == 80
    # pyarrow
    assert ice.rows(pa.table(t.scan())) == want
    # DuckDB, reading the scan's stream
    reader = t.scan()
    assert ice.rows(duckdb.sql("select * from reader").to_arrow_table()) == want
    # Polars: uuid comes out as plain binary, so compare without it, and it as bytes
    df = pl.DataFrame(t.scan())
    assert df.height == 80
    no_u = [c for c in ALL_TYPES.names if c != "u"]
    assert ice.rows(df.select(no_u).to_arrow(), None) == \
        ice.rows(pa.table(t.scan(columns=no_u)))
    assert sorted(x for x in df["u"].to_list() if x is not None) == \
        sorted(x.bytes for x in all_types(50)["u"].to_pylist() +
               all_types(30, 50)["u"].to_pylist() if x is not None)


@pytest.mark.parametrize("fv", [2, 3])
def test_deletes_and_updates(cat, wh, fv):
    t = cat.create_table("db.d", "id long not null, s string", format_version=fv)
    t.append(pa.table({"id": pa.array(range(100), pa.int64()),
                       "s": [f"v{i}" for i in range(100)]}))
    info = t.delete("id < 10", mode="merge-on-read")
    assert info["rows"] == 10 and info["delete_files"] == 1
    assert t.update("s = 'x'", where="id >= 95")["rows"] == 5
    got = ice.rows(pa.table(t.scan()))
    assert len(got) == 90 and got[0] == (10, "v10") and got[-1] == (99, "x")
    assert t.count() == 90
    assert t.count("s = 'x'") == 5
    if fv == 2:
        assert got == pyice(wh, "db.d")
    else:  # PyIceberg 0.12 does not read deletion vectors
        assert got == ice.duck_rows(t.metadata_location)


def test_time_travel_refs_and_rollback(cat, wh):
    t = cat.create_table("db.tt", "id long not null")
    s1 = t.append(pa.table({"id": pa.array([1, 2], pa.int64())}))["snapshot_id"]
    t.tag("first")
    s2 = t.append(pa.table({"id": pa.array([3], pa.int64())}))["snapshot_id"]
    assert s1 != s2
    ids = lambda r: sorted(pa.table(r).column("id").to_pylist())  # noqa: E731
    assert ids(t.scan()) == [1, 2, 3]
    assert ids(t.scan(snapshot_id=s1)) == [1, 2]
    assert ids(t.scan(ref="first")) == [1, 2]
    ts1 = [s for s in t.snapshots() if s["snapshot_id"] == s1][0]["timestamp_ms"]
    assert ids(t.scan(as_of=ts1)) == [1, 2]
    assert t.count(snapshot_id=s1) == 2
    assert ice.rows(pa.table(t.scan(snapshot_id=s1))) == pyice(wh, "db.tt", snapshot_id=s1)
    t.branch("dev", s1)
    assert {r["name"]: (r["type"], r["snapshot_id"]) for r in t.describe()["refs"]} == {
        "main": ("branch", s2), "first": ("tag", s1), "dev": ("branch", s1)}
    assert [h["snapshot_id"] for h in t.history()] == [s1, s2]
    t.rollback(s1)
    assert ids(t.scan()) == [1, 2]
    assert t.current_snapshot_id == s1


def test_appends_from_polars_duckdb_pyarrow_read_back_in_pyiceberg_and_duckdb(cat, wh):
    t = cat.create_table("db.in", "id long not null, name string, tags list<string>, "
                                  "price decimal(10,2)")
    t.append(pa.table({"id": pa.array([1], pa.int64()), "name": ["arrow"],
                       "tags": [["a"]], "price": pa.array([None], pa.decimal128(10, 2))}))
    t.append(pa.RecordBatchReader.from_batches(
        pa.schema([("id", pa.int64()), ("name", pa.string())]),
        [pa.record_batch({"id": pa.array([2, 3], pa.int64()), "name": ["r2", "r3"]})]))
    # Polars: string views and large lists
    t.append(pl.DataFrame({"id": [4, 5], "name": ["polars", None], "tags": [["x", "y"], []]}))
    t.append(duckdb.sql("select 6::bigint as id, 'duck' as name, 1.25::decimal(10,2) as price"))
    # one array (__arrow_c_array__)
    t.append(pa.record_batch({"id": pa.array([7], pa.int64()), "name": ["batch"]}))
    want = [(1, "arrow", ["a"], None), (2, "r2", None, None), (3, "r3", None, None),
            (4, "polars", ["x", "y"], None), (5, None, [], None), (6, "duck", None, "1.25"),
            (7, "batch", None, None)]
    assert pyice(wh, "db.in") == want
    assert ice.duck_rows(t.metadata_location) == want
    assert len(t.snapshots()) == 5


def test_overwrite_merge_and_maintenance(cat, wh):
    t = cat.create_table("db.m", "id long not null, v string", partition_by="bucket(4, id)")
    t.append(pa.table({"id": pa.array(range(20), pa.int64()), "v": ["a"] * 20}))
    t.append(pa.table({"id": pa.array(range(20, 40), pa.int64()), "v": ["b"] * 20}))
    t.overwrite(pa.table({"id": pa.array([0, 1], pa.int64()), "v": ["o", "o"]}), where="id < 5")
    assert t.count() == 37
    m = t.merge(pa.table({"id": pa.array([1, 100], pa.int64()), "v": ["m", "new"]}), on="id")
    assert m["rows"] == 1
    assert t.count() == 38
    c = t.compact()
    assert c["files_rewritten"] > 0
    rows = dict(pa.table(t.scan(columns=["id", "v"])).to_pydict()["id"] and
                zip(*pa.table(t.scan()).to_pydict().values()))
    assert rows[1] == "m" and rows[100] == "new" and rows[0] == "o" and 3 not in rows
    assert ice.rows(pa.table(t.scan())) == pyice(wh, "db.m")
    e = t.expire(older_than="2999-01-01T00:00:00Z", retain_last=1)
    assert e["snapshots_expired"] == len([1, 2, 3, 4])  # 5 snapshots, keep the current
    o = t.remove_orphans(dry_run=True)
    assert o["files"] == 0
    mt = t.maintain()
    assert set(mt) == {"files_over_policy", "compact", "expire", "orphans"}
    assert len(t.snapshots()) == 1


def test_schema_and_partition_evolution(cat, wh):
    t = cat.create_table("db.e", "id int not null, name string")
    t.append(pa.table({"id": pa.array([1], pa.int32()), "name": ["a"]}))
    t.add_column("score", "double", doc="points")
    t.rename_column("name", "label")
    t.update_column_type("id", "long")
    t.set_partition_spec("bucket(2, id)")
    t.set_properties({"write.target-file-size-bytes": 1 << 20})
    t.append(pa.table({"id": pa.array([2], pa.int64()), "label": ["b"], "score": [0.5]}))
    assert t.schema_spec == "id long not null, label string, score double"
    got = pa.table(t.scan())
    assert got.schema.names == ["id", "label", "score"]
    assert ice.rows(got) == [(1, "a", None), (2, "b", 0.5)] == pyice(wh, "db.e")
    assert t.describe()["properties"]["write.target-file-size-bytes"] == str(1 << 20)
    t.remove_properties(["write.target-file-size-bytes"])
    t.drop_column("score")
    assert pa.table(t.scan()).schema.names == ["id", "label"]


def test_catalog_namespaces_and_tables(cat, wh):
    cat.create_namespace("a.b", {"owner": "me"})
    assert cat.namespaces() == ["a", "db"]
    assert cat.namespaces("a") == ["a.b"]
    assert cat.namespace_properties("a.b") == {"owner": "me"}
    cat.update_namespace("a.b", set={"x": "1"}, remove=["owner"])
    assert cat.namespace_properties("a.b") == {"x": "1"}
    t = cat.create_table("a.b.t", "id long", properties={"k": "v"})
    t.append(pa.table({"id": pa.array([1, 2], pa.int64())}))
    assert cat.list_tables("a.b") == ["t"]
    cat.rename_table("a.b.t", "db.t2")
    assert cat.list_tables("db") == ["t2"] and cat.table_exists("db.t2")
    meta = cat.load_table("db.t2").metadata_location
    cat.drop_table("db.t2")
    assert not cat.table_exists("db.t2")
    r = cat.register_table("db.back", meta)
    assert r.count() == 2
    info = cat.drop_table("db.back", purge=True)
    assert info["files_deleted"] > 0
    cat.drop_namespace("a.b")
    assert not cat.namespace_exists("a.b")


def test_errors_raise_firn_classes(cat, wh):
    with pytest.raises(firn.NotFound, match="table db.nope does not exist"):
        cat.load_table("db.nope")
    cat.create_table("db.x", "id long not null")
    with pytest.raises(firn.AlreadyExists):
        cat.create_table("db.x", "id long")
    with pytest.raises(firn.ValidationError, match="schema"):
        cat.create_table("db.y", "id lung")
    t = cat.load_table("db.x")
    with pytest.raises(firn.ValidationError):
        t.append(pa.table({"nope": [1]}))
    with pytest.raises(firn.Error) as e:
        t.scan(where="id >")
    assert isinstance(e.value, firn.ValidationError) and e.value.args[1] == -1
    with pytest.raises(firn.NotFound):
        t.rollback(12345)
    with pytest.raises(firn.NotFound):
        cat.drop_namespace("zz")
    assert issubclass(firn.IOError, OSError) and issubclass(firn.CommitFailed, firn.Error)
    # a commit whose requirement fails: another handle moved the table
    t1, t2 = cat.load_table("db.x"), cat.load_table("db.x")
    t1.add_column("a", "int")
    with pytest.raises((firn.CommitFailed, firn.AlreadyExists)):
        t2.add_column("a", "string")
    (wh / "bad.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(firn.ValidationError, match="not an Iceberg SQL catalog"):
        firn.Catalog(warehouse=str(wh), uri=f"sqlite:///{wh}/bad.db")
    with pytest.raises(firn.NotFound, match="no catalog"):
        firn.Catalog(warehouse=str(wh / "none"), read_only=True)
    with pytest.raises(TypeError):
        t.append([1, 2, 3])
    meta = cat.load_table("db.x").metadata_location
    open(meta.removeprefix("file://"), "w").write("{ not json")
    with pytest.raises(firn.CorruptFile):
        cat.load_table("db.x")


def test_scan_hands_over_firns_buffers(cat):
    t = cat.create_table("db.z", "id long not null, s string")
    t.append(pa.table({"id": pa.array(range(1000), pa.int64()), "s": [str(i) for i in range(1000)]}))
    got = pa.table(t.scan())
    assert got.num_rows == 1000 and got.column("id").num_chunks == 1
    noted = firn._last_batch_buffers()
    ids, strs = got.column("id").chunk(0), got.column("s").chunk(0)
    assert noted[0][1] == ids.buffers()[1].address
    assert noted[1][1] == strs.buffers()[1].address
    # the consumer's buffers are not pyarrow's own allocations
    assert pa.total_allocated_bytes() == 0


def test_reader_once_and_dropped_capsule_released(cat):
    t = cat.create_table("db.c", "id long")
    t.append(pa.table({"id": pa.array([1], pa.int64())}))
    r = t.scan()
    pa.table(r)
    with pytest.raises(RuntimeError, match="consumed"):
        pa.table(r)
    gc.collect()
    before = firn._alloc_stats()["live_blocks"]
    for _ in range(50):
        cap = t.scan().__arrow_c_stream__()
        del cap
        t.scan()  # never consumed
    gc.collect()
    assert firn._alloc_stats()["live_blocks"] == before


def test_no_leak_over_10000_scans(cat):
    import tracemalloc
    t = cat.create_table("db.l", "id long not null, s string")
    t.append(pa.table({"id": pa.array(range(100), pa.int64()), "s": ["x"] * 100}))
    for _ in range(200):  # warm caches
        pa.table(t.scan(where="id > 10"))
    gc.collect()
    firn_before = firn._alloc_stats()["live_blocks"]
    tracemalloc.start()
    snap0 = tracemalloc.take_snapshot()
    for i in range(10_000):
        tb = pa.table(t.scan(where="id > 10"))
        assert tb.num_rows == 89
    del tb
    gc.collect()
    snap1 = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in snap1.compare_to(snap0, "filename"))
    assert grown < 256 * 1024, f"Python heap grew {grown} bytes over 10,000 scans"
    assert firn._alloc_stats()["live_blocks"] == firn_before
    assert pa.total_allocated_bytes() == 0


def test_four_threads_scan_while_two_append(cat, wh):
    t = cat.create_table("db.th", "id long not null, w int")
    t.append(pa.table({"id": pa.array(range(1000), pa.int64()), "w": pa.array([0] * 1000, pa.int32())}))
    errors, counts, appended = [], [], []
    stop = threading.Event()

    def scanner():
        try:
            while not stop.is_set():
                tb = pa.table(t.scan())
                n = tb.num_rows
                # each snapshot is 1000 + 10 * appends rows
                assert n >= 1000 and (n - 1000) % 10 == 0, n
                counts.append(n)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    def appender(w):
        try:
            tt = cat.load_table("db.th")
            for k in range(8):
                tt.append(pa.table({"id": pa.array(range(10), pa.int64()),
                                    "w": pa.array([w] * 10, pa.int32())}))
                appended.append(1)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    scanners = [threading.Thread(target=scanner) for _ in range(4)]
    appenders = [threading.Thread(target=appender, args=(w,)) for w in (1, 2)]
    for th in scanners + appenders:
        th.start()
    for th in appenders:
        th.join()
    stop.set()
    for th in scanners:
        th.join()
    assert errors == []
    assert len(appended) == 16 and len(counts) >= 4
    assert t.refresh().count() == 1160
    assert ice.rows(pa.table(t.scan())) == pyice(wh, "db.th")


def test_plan_tasks_read_independently(cat, wh):
    t = cat.create_table("db.p", "id long not null, s string", partition_by="bucket(3, id)")
    t.append(pa.table({"id": pa.array(range(60), pa.int64()), "s": [str(i) for i in range(60)]}))
    tasks = t.plan()
    assert len(tasks) == 3 and sum(k.record_count for k in tasks) == 60
    import pickle
    parts = [pa.table(pickle.loads(pickle.dumps(k)).read()) for k in tasks]
    assert sorted(i for p in parts for i in p.column("id").to_pylist()) == list(range(60))
    only = [pa.table(k.read()).column_names for k in t.plan(columns=["s"])]
    assert only == [["s"]] * 3
    # a task with deletes reads on its own, the deletes applied
    t.delete("id = 4", mode="merge-on-read")
    tasks = t.plan()
    assert sorted(k.deleted_records for k in tasks) == [0, 0, 1]
    got = sorted(i for k in tasks for i in pa.table(k.read()).column("id").to_pylist())
    assert got == [i for i in range(60) if i != 4]
    # where prunes by partition (bucket of an equality) and applies in the read
    one = t.plan(where="id = 7")
    assert len(one) == 1
    assert pa.table(one[0].read()).column("id").to_pylist() == [7]
    # time travel: the plan of an older snapshot reads that snapshot's rows,
    # even after later commits
    first = t.snapshots()[0]["snapshot_id"]
    old = t.plan(snapshot_id=first)
    t.delete("id < 30", mode="copy-on-write")
    assert sorted(i for k in old for i in pa.table(k.read()).column("id").to_pylist()) == \
        list(range(60))
    assert sum(pa.table(k.read()).num_rows for k in t.plan()) == 30


def test_plan_prunes_by_metrics_and_identity_partitions(cat):
    t = cat.create_table("db.pp", "day string not null, v long not null", partition_by="day")
    for d in ("a", "b", "c"):
        t.append(pa.table({"day": [d] * 10, "v": pa.array(range(10), pa.int64())}))
    assert len(t.plan()) == 3
    assert [k.partition for k in t.plan(where="day = 'b'")] == [{"day": '"b"'}]
    assert t.plan(where="v > 100") == []
    assert t.plan(where="day = 'zz'") == []
    empty = cat.create_table("db.pe", "v long")
    assert empty.plan() == []
    with pytest.raises(firn.Error):
        t.plan(where="nope > 1")


def test_stage_append_then_one_commit(cat, wh):
    t = cat.create_table("db.st", "id long not null, day string not null", partition_by="day")
    before = len(t.snapshots())
    w1 = cat.load_table("db.st")
    w2 = cat.load_table("db.st")
    s1, c1 = w1.stage_append(pa.table({"id": pa.array([1, 2], pa.int64()), "day": ["a", "b"]}))
    s2, c2 = w2.stage_append(pa.table({"id": pa.array([3], pa.int64()), "day": ["a"]}))
    assert (c1["added_records"], c1["added_files"], c2["added_files"]) == (2, 2, 1)
    assert c1["snapshot_id"] == 0 and "/metadata/staged-" in s1
    assert t.refresh().count() == 0  # nothing committed yet
    info = t.append_staged([s1, s2])
    assert (info["added_records"], info["added_files"]) == (3, 3)
    t.refresh()
    assert len(t.snapshots()) == before + 1
    assert sorted(r["id"] for r in pa.table(t.scan()).to_pylist()) == [1, 2, 3]
    assert ice.rows(pa.table(t.scan())) == pyice(wh, "db.st")
    # the staged manifests are gone; the committed files are the staged ones
    import os
    assert not os.path.exists(s1) and not os.path.exists(s2)
    # a staged manifest commits once only
    with pytest.raises(firn.Error):
        t.append_staged([s1])


def test_append_staged_refuses_what_is_not_the_tables(cat, wh, tmp_path):
    import os
    import shutil
    t = cat.create_table("db.sr", "id long not null")
    other = cat.create_table("db.sr2", "id long not null")
    s, _ = other.stage_append(pa.table({"id": pa.array([1], pa.int64())}))
    with pytest.raises(firn.ValidationError):
        t.append_staged([s])  # another table's staged manifest
    copy = tmp_path / "staged-x-m0.avro"
    shutil.copy(s, copy)
    with pytest.raises(firn.ValidationError):
        t.append_staged([str(copy)])  # outside the table's metadata folder
    # refused manifests are not the table's: neither is deleted
    assert t.refresh().count() == 0 and os.path.exists(s) and copy.exists()
    assert other.refresh().count() == 0
    # the schema changed after staging: the commit is refused, nothing lands
    s3, _ = t.stage_append(pa.table({"id": pa.array([5], pa.int64())}))
    t.add_column("x", "string")
    with pytest.raises(firn.CommitFailed):
        t.append_staged([s3])
    assert t.refresh().count() == 0
    # never committed: orphans that remove_orphans clears
    info = t.remove_orphans(older_than="2999-01-01T00:00:00", force=True)
    assert not os.path.exists(s3) and info["files"] >= 2  # the manifest and its data file


def test_gil_is_released_while_firn_works(cat):
    """While one thread appends and scans a large table, another runs
    Python: it could not if libfirn's calls held the GIL."""
    t = cat.create_table("db.gil", "a long not null, s string")
    n = 1_500_000
    data = pa.table({"a": pa.array(range(n), pa.int64()),
                     "s": pa.array([f"s{i % 1000}" for i in range(n)])})
    done = threading.Event()
    result = {}

    def run(fn):
        done.clear()

        def work():
            result["out"] = fn()
            done.set()
        th = threading.Thread(target=work)
        ticks = 0
        t0 = time.perf_counter()
        th.start()
        while not done.is_set():
            ticks += 1
        th.join()
        return ticks / (time.perf_counter() - t0)

    free = run(lambda: time.sleep(0.3))  # the loop's rate beside a thread that waits
    # append: the stream is pyarrow's, the encoding and commit firn's. A
    # call holding the GIL would leave the loop one switch interval (5 ms).
    rate = run(lambda: t.append(data))
    assert result["out"]["added_records"] == n
    assert rate > 0.2 * free, (rate, free)
    # a filtered count decodes a column
    rate = run(lambda: t.count("s = 's7'"))
    assert result["out"] == n // 1000
    assert rate > 0.2 * free, (rate, free)
    # and a held GIL is seen: sorted() of a large list keeps it throughout
    big = [float((i * 7919) % 1000003) for i in range(2_000_000)]
    assert run(lambda: sorted(big)) < 0.1 * free
