"""firn import delta: Delta tables written by the deltalake package (delta-rs),
imported by firn, then every imported snapshot (by its delta-version-N tag)
read by DuckDB's iceberg_scan, PyIceberg and firn itself, and compared with
the Delta table at that version as deltalake and DuckDB's delta_scan read
it. Also: incremental imports, firn's operations on the imported table
(the Delta files stay where and as they are), and the refusals."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ice
from firnrun import assert_error

def _dl():
    """deltalake must be installed (scripts/requirements.txt): a missing
    reference client fails the test."""
    import deltalake as dl  # noqa: F401
    return dl


def delta_con():
    """DuckDB with the delta extension from its PyPI package."""
    import duckdb
    import duckdb_extension_delta
    con = ice.duck()
    path = (Path(duckdb_extension_delta.__file__).parent / "extensions" / f"v{duckdb.__version__}"
            / "delta.duckdb_extension")
    con.execute(f"LOAD '{path}'")
    return con


def by_name(table: pa.Table) -> list:
    """Rows with the columns in name order (Delta's schema evolution may
    reorder them)."""
    return ice.rows(table.select(sorted(table.column_names)))


def delta_rows(path: Path, version: int) -> list:
    return by_name(_dl().DeltaTable(str(path), version=version).to_pyarrow_table())


def delta_scan_rows(con, path: Path, version: int) -> list:
    return by_name(con.execute(f"SELECT * FROM delta_scan('{path}', version => {version})")
                   .to_arrow_table())


def firn_rows(run_firn, wh: Path, table: str, *args) -> list:
    out = wh / f".scan-{abs(hash((table,) + args))}.parquet"
    run_firn("--warehouse", wh, "scan", table, "--format", "parquet", "--output", out, *args)
    t = pq.read_table(out)
    out.unlink()
    return by_name(t)


def pyiceberg_rows(wh: Path, table: str, snapshot_id: int) -> list:
    """PyIceberg's scan through its batch reader: delta-rs writes strings as
    string_view in some files, which PyIceberg's to_arrow cannot concatenate
    with plain strings; the batch reader casts every file to one schema."""
    r = ice.catalog(wh).load_table(table).scan(snapshot_id=snapshot_id).to_arrow_batch_reader()
    return by_name(pa.Table.from_batches(list(r), r.schema))


def tags(run_firn, wh: Path, table: str) -> dict:
    """delta-version-N → snapshot id."""
    d = ice.describe(run_firn, wh, table)
    refs = d["refs"]
    if isinstance(refs, dict):
        refs = [dict(v, name=k) for k, v in refs.items()]
    return {r["name"]: r["snapshot-id"] for r in refs if r["name"].startswith("delta-version-")}


def typed(n0: int, n: int) -> pa.Table:
    """Rows of most Delta types."""
    import datetime as dt
    import decimal
    ids = list(range(n0, n0 + n))
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "small": pa.array([i % 100 for i in ids], pa.int16()),
        "i": pa.array([i * 7 for i in ids], pa.int32()),
        "name": pa.array([f"n{i}" if i % 5 else None for i in ids], pa.string()),
        "amount": pa.array([i / 4 for i in ids], pa.float64()),
        "flag": pa.array([i % 2 == 0 for i in ids], pa.bool_()),
        "d": pa.array([dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in ids], pa.date32()),
        "ts": pa.array([dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=i)
                        for i in ids], pa.timestamp("us", tz="UTC")),
        "ntz": pa.array([dt.datetime(2026, 2, 1) + dt.timedelta(seconds=i) for i in ids],
                        pa.timestamp("us")),
        "price": pa.array([decimal.Decimal(f"{i}.25") for i in ids], pa.decimal128(10, 2)),
        "raw": pa.array([bytes([i % 256, 1]) for i in ids], pa.binary()),
        "tags": pa.array([[f"t{i}", "x"] for i in ids], pa.list_(pa.string())),
        "loc": pa.array([{"lat": i * 1.0, "lon": -i * 1.0} for i in ids],
                        pa.struct([("lat", pa.float64()), ("lon", pa.float64())])),
    })


def parted(n0: int, n: int, cities=("Oslo", "Lima", "Pune")) -> pa.Table:
    import datetime as dt
    ids = list(range(n0, n0 + n))
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "city": pa.array([cities[i % len(cities)] if i % 11 else None for i in ids], pa.string()),
        "day": pa.array([dt.date(2026, 3, 1 + i % 3) for i in ids], pa.date32()),
        "v": pa.array([i * 1.5 for i in ids], pa.float64()),
    })


@pytest.fixture(scope="module")
def deltas(work_root):
    """Delta tables made by deltalake: name → (path, the versions it has)."""
    dl = _dl()
    from deltalake import DeltaTable, write_deltalake
    root = work_root / "delta-src"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    out = {}

    # unpartitioned, many types: append, delete, overwrite, schema merge,
    # a property set (no files), a checkpoint, an append after it
    p = root / "plain"
    write_deltalake(str(p), typed(0, 20))                                    # 0
    write_deltalake(str(p), typed(20, 10), mode="append")                    # 1
    DeltaTable(str(p)).delete("id < 5")                                      # 2
    DeltaTable(str(p)).delete("id >= 25 AND id < 27")                        # 3
    write_deltalake(str(p), typed(100, 8), mode="overwrite")                 # 4
    extra = typed(200, 5).append_column("note", pa.array(["a", None, "c", "d", "e"]))
    write_deltalake(str(p), extra, mode="append", schema_mode="merge")       # 5
    DeltaTable(str(p)).alter.set_table_properties({"delta.logRetentionDuration": "interval 30 days"})  # 6
    DeltaTable(str(p)).create_checkpoint()
    write_deltalake(str(p), typed(300, 3).append_column("note", pa.array(["z"] * 3)),
                    mode="append")                                           # 7
    out["plain"] = p

    # partitioned by a string (with nulls) and a date
    p = root / "part"
    write_deltalake(str(p), parted(0, 30), partition_by=["city", "day"])     # 0
    write_deltalake(str(p), parted(30, 20, ("Oslo", "Rome")), mode="append")  # 1
    DeltaTable(str(p)).delete("city = 'Lima'")                               # 2
    DeltaTable(str(p)).delete("id % 2 = 0 AND city = 'Oslo'")                # 3
    write_deltalake(str(p), parted(100, 10, ("Pune",)), mode="overwrite",
                    predicate="city = 'Pune'")                               # 4
    DeltaTable(str(p)).create_checkpoint()
    write_deltalake(str(p), parted(80, 9), mode="append")                    # 5
    out["part"] = p

    # partition values of many types (Delta keeps them as strings in the log)
    import datetime as dt
    import decimal
    p = root / "ptypes"
    t = pa.table({
        "id": [1, 2, 3],
        "ts": pa.array([dt.datetime(2026, 1, 1, 10, 30, tzinfo=dt.timezone.utc),
                        dt.datetime(2026, 1, 2, 0, 0, 0, 123456, tzinfo=dt.timezone.utc), None],
                       pa.timestamp("us", tz="UTC")),
        "n": pa.array([5, 6, None], pa.int32()),
        "b": [True, False, True],
        "dec": pa.array([decimal.Decimal("1.25"), decimal.Decimal("3.50"), None], pa.decimal128(6, 2)),
        "ntz": pa.array([dt.datetime(2026, 3, 1, 1, 2, 3), dt.datetime(2026, 3, 1, 1, 2, 3, 500), None],
                        pa.timestamp("us")),
        "d": pa.array([dt.date(2026, 5, 1), None, dt.date(2026, 5, 3)], pa.date32()),
    })
    write_deltalake(str(p), t, partition_by=["ts", "n", "b", "dec", "ntz", "d"])   # 0
    write_deltalake(str(p), t.slice(0, 1), mode="append")                          # 1
    out["ptypes"] = p

    # early JSON commits cleaned up after a checkpoint: the import starts
    # there (one snapshot for the checkpoint's state)
    p = root / "cleaned"
    for k in range(4):
        write_deltalake(str(p), parted(k * 10, 10), mode="append", partition_by=["city"])  # 0..3
    DeltaTable(str(p)).delete("id = 3")                                      # 4
    DeltaTable(str(p)).create_checkpoint()
    write_deltalake(str(p), parted(100, 5), mode="append")                   # 5
    DeltaTable(str(p)).delete("id = 101")                                    # 6
    for v in range(5):
        (p / "_delta_log" / f"{v:020d}.json").unlink()
    out["cleaned"] = p
    return out


def latest(path: Path) -> int:
    return _dl().DeltaTable(str(path)).version()


@pytest.fixture(scope="module")
def imported(deltas, work_root, run_firn):
    """The three Delta tables imported into one warehouse."""
    wh = work_root / "delta-wh"
    shutil.rmtree(wh, ignore_errors=True)
    run_firn("--warehouse", wh, "namespace", "create", "db")
    for name, path in deltas.items():
        res = run_firn("--warehouse", wh, "import", "delta", path, f"db.{name}", "--json")
        info = json.loads(res.stdout)
        assert info["table"] == f"db.{name}" and info["format"] == "delta"
        assert info["source"] == str(path) and info["incremental"] is False
        assert info["last-version"] == latest(path)
    return wh


@pytest.mark.conformance(("import delta, every version", "PyIceberg"),
                         ("import delta, every version", "DuckDB"))
@pytest.mark.parametrize("name", ["plain", "part", "ptypes", "cleaned"])
def test_every_imported_version_reads_as_delta(deltas, imported, run_firn, name):
    wh, path, table = imported, deltas[name], f"db.{name}"
    ml = ice.describe(run_firn, wh, table)["metadata-location"]
    found = tags(run_firn, wh, table)
    first = 4 if name == "cleaned" else 0  # cleaned: its checkpoint (version 4) on
    assert sorted(found) == sorted(f"delta-version-{v}" for v in range(first, latest(path) + 1))
    con, dcon = ice.duck(), delta_con()
    for v in range(first, latest(path) + 1):
        sid = found[f"delta-version-{v}"]
        want = delta_rows(path, v)
        assert want == delta_scan_rows(dcon, path, v), f"deltalake and delta_scan differ at {v}"
        assert firn_rows(run_firn, wh, table, "--ref", f"delta-version-{v}") == want, f"firn, version {v}"
        assert by_name(con.execute(f"SELECT * FROM iceberg_scan('{ml}', snapshot_from_id={sid})")
                       .to_arrow_table()) == want, f"DuckDB, version {v}"
        assert pyiceberg_rows(wh, table, sid) == want, f"PyIceberg, version {v}"


def test_snapshots_follow_the_delta_history(deltas, imported, run_firn):
    wh = imported
    snaps = ice.snapshots(run_firn, wh, "db.plain")
    ops = [s.get("operation") for s in snaps]
    # deltalake's deletes rewrite the files they touch (overwrite snapshots);
    # version 6 sets a property: no snapshot, its tag on version 5's
    assert ops == ["append", "append", "overwrite", "overwrite", "overwrite", "append", "append"]
    # a delete of whole partitions only removes files
    part = [s.get("operation") for s in ice.snapshots(run_firn, wh, "db.part")]
    assert part[:3] == ["append", "append", "delete"]
    found = tags(run_firn, wh, "db.plain")
    assert found["delta-version-6"] == found["delta-version-5"]
    d = ice.describe(run_firn, wh, "db.plain")
    props = d["properties"]
    assert props["firn.import.format"] == "delta"
    assert props["firn.import.version"] == str(latest(deltas["plain"]))
    mapping = json.loads(props["schema.name-mapping.default"])
    assert {m["names"][0] for m in mapping} >= {"id", "name", "ts", "note", "loc", "tags"}
    # the snapshots carry Delta's commit times: time travel by time works
    hist = _dl().DeltaTable(str(deltas["plain"])).history()
    by_version = {h["version"]: h["timestamp"] for h in hist}
    s1 = [s for s in snaps if s["snapshot-id"] == found["delta-version-1"]][0]
    assert s1["timestamp-ms"] == by_version[1]
    want = delta_rows(deltas["plain"], 1)
    assert firn_rows(run_firn, wh, "db.plain", "--as-of", str(by_version[1])) == want
    # the Delta files stay outside the table: nothing was copied
    files = json.loads(run_firn("--warehouse", wh, "files", "db.plain", "--json").stdout)
    data = [f for f in files if f.get("content", "data") in ("data", 0)]
    assert data and all(str(deltas["plain"]) in f["file-path"] for f in data)


def test_cleaned_log_keeps_commit_times(deltas, imported, run_firn):
    """The checkpoint's snapshot takes its files' time (a checkpoint has no
    commitInfo), so the later versions keep Delta's commit times and time
    travel by time still finds them."""
    p, wh = deltas["cleaned"], imported
    hist = {h["version"]: h["timestamp"] for h in _dl().DeltaTable(str(p)).history()}
    found = tags(run_firn, wh, "db.cleaned")
    snaps = {s["snapshot-id"]: s["timestamp-ms"] for s in ice.snapshots(run_firn, wh, "db.cleaned")}
    for v in (5, 6):
        assert snaps[found[f"delta-version-{v}"]] == hist[v]
        assert firn_rows(run_firn, wh, "db.cleaned", "--as-of", str(hist[v])) == delta_rows(p, v)
    assert snaps[found["delta-version-4"]] < hist[5]


def test_partition_columns_come_from_the_log(deltas, imported, run_firn):
    wh = imported
    want = [r for r in delta_rows(deltas["part"], latest(deltas["part"])) if r[0] == "Oslo"]
    assert firn_rows(run_firn, wh, "db.part", "--where", "city = 'Oslo'") == want
    n = json.loads(run_firn("--warehouse", wh, "count", "db.part", "--where", "city IS NULL",
                            "--json").stdout)["count"]
    assert n == sum(1 for r in delta_rows(deltas["part"], latest(deltas["part"])) if r[0] is None) > 0


def test_maps(work_root, run_firn):
    """A map column: firn and PyIceberg read it through the name mapping
    (key, value). DuckDB's iceberg_scan is left out: delta-rs names the
    repeated group of a new table's first files "entries" (pyarrow's name),
    later ones "key_value", and DuckDB 1.5.5 cannot map the former."""
    from deltalake import write_deltalake
    p = work_root / "delta-maps"
    wh = work_root / "delta-maps-wh"
    shutil.rmtree(p, ignore_errors=True)
    shutil.rmtree(wh, ignore_errors=True)
    t = pa.table({"id": pa.array([1, 2, 3], pa.int64()),
                  "attrs": pa.array([[("k", 1), ("j", -1)], [], None], pa.map_(pa.string(), pa.int64()))})
    write_deltalake(str(p), t)
    write_deltalake(str(p), t.slice(0, 1), mode="append")
    run_firn("--warehouse", wh, "namespace", "create", "db")
    run_firn("--warehouse", wh, "import", "delta", p, "db.t")
    found = tags(run_firn, wh, "db.t")
    for v in (0, 1):
        want = delta_rows(p, v)
        assert firn_rows(run_firn, wh, "db.t", "--ref", f"delta-version-{v}") == want
        assert pyiceberg_rows(wh, "db.t", found[f"delta-version-{v}"]) == want


@pytest.mark.conformance(("import delta --incremental", "DuckDB"))
def test_incremental_import(work_root, run_firn):
    from deltalake import DeltaTable, write_deltalake
    p = work_root / "delta-inc"
    wh = work_root / "delta-inc-wh"
    shutil.rmtree(p, ignore_errors=True)
    shutil.rmtree(wh, ignore_errors=True)
    write_deltalake(str(p), parted(0, 10), partition_by=["city"])
    write_deltalake(str(p), parted(10, 10), mode="append")
    run_firn("--warehouse", wh, "namespace", "create", "db")
    run_firn("--warehouse", wh, "import", "delta", p, "db.t")
    before = tags(run_firn, wh, "db.t")
    write_deltalake(str(p), parted(20, 5), mode="append")
    DeltaTable(str(p)).delete("id < 3")
    extra = parted(30, 4).append_column("w", pa.array([1, 2, 3, 4], pa.int32()))
    write_deltalake(str(p), extra, mode="append", schema_mode="merge")
    res = run_firn("--warehouse", wh, "import", "delta", p, "db.t", "--incremental", "--json")
    info = json.loads(res.stdout)
    assert (info["versions"], info["snapshots"], info["last-version"]) == (3, 3, 4)
    after = tags(run_firn, wh, "db.t")
    assert {k: after[k] for k in before} == before
    ml = ice.describe(run_firn, wh, "db.t")["metadata-location"]
    con = ice.duck()
    for v in range(5):
        want = delta_rows(p, v)
        assert firn_rows(run_firn, wh, "db.t", "--ref", f"delta-version-{v}") == want
        assert by_name(con.execute(f"SELECT * FROM iceberg_scan('{ml}', snapshot_from_id="
                                   f"{after[f'delta-version-{v}']})").to_arrow_table()) == want
    res = run_firn("--warehouse", wh, "import", "delta", p, "db.t", "--incremental")
    assert "up to date with version 4" in res.stdout
    assert len(ice.snapshots(run_firn, wh, "db.t")) == 5


def delta_files(path: Path) -> dict:
    return {f: f.stat().st_size for f in path.rglob("*") if f.is_file()}


def test_operations_keep_the_delta_files(work_root, run_firn):
    from deltalake import DeltaTable, write_deltalake
    p = work_root / "delta-ops"
    wh = work_root / "delta-ops-wh"
    shutil.rmtree(p, ignore_errors=True)
    shutil.rmtree(wh, ignore_errors=True)
    for k in range(3):
        write_deltalake(str(p), parted(k * 20, 20), mode="append", partition_by=["city"])
    DeltaTable(str(p)).delete("id = 5")
    files = delta_files(p)
    delta_before = delta_rows(p, latest(p))
    run_firn("--warehouse", wh, "namespace", "create", "db")
    run_firn("--warehouse", wh, "import", "delta", p, "db.t")
    run_firn("--warehouse", wh, "delete", "db.t", "--where", "id < 10", "--mode", "merge-on-read")
    run_firn("--warehouse", wh, "delete", "db.t", "--where", "id >= 50", "--mode", "copy-on-write")
    csv = wh / "more.csv"
    csv.write_text("id,city,day,v\n1000,Oslo,2026-03-01,1.0\n1001,,2026-03-02,2.0\n")
    run_firn("--warehouse", wh, "append", "db.t", csv)
    run_firn("--warehouse", wh, "compact", "db.t")
    run_firn("--warehouse", wh, "expire", "db.t", "--older-than", "now", "--retain-last", "1")
    run_firn("--warehouse", wh, "remove-orphans", "db.t", "--older-than", "now", "--force")
    want = [r for r in delta_before if 10 <= r[2] < 50]  # (city, day, id, v)
    want += [(None, "2026-03-02", 1001, 2.0), ("Oslo", "2026-03-01", 1000, 1.0)]
    got = firn_rows(run_firn, wh, "db.t")
    assert got == sorted(want, key=lambda t: json.dumps(t, sort_keys=True, default=str))
    loc = ice.describe(run_firn, wh, "db.t")["location"]
    live = json.loads(run_firn("--warehouse", wh, "files", "db.t", "--json").stdout)
    assert all(f["file-path"].startswith(loc) for f in live)  # compaction wrote into the table
    assert delta_files(p) == files  # every Delta file is still there, unchanged
    assert delta_rows(p, latest(p)) == delta_before
    run_firn("--warehouse", wh, "drop", "db.t", "--purge")
    assert delta_files(p) == files


# ---- refusals ---------------------------------------------------------------


def _edit_log(path: Path, version: int, fn):
    f = path / "_delta_log" / f"{version:020d}.json"
    lines = [json.loads(x) for x in f.read_text().splitlines() if x.strip()]
    f.write_text("".join(json.dumps(a) + "\n" for a in fn(lines)))


def _with_meta(lines, edit):
    for a in lines:
        if "metaData" in a:
            edit(a["metaData"])
    return lines


def make_refused(kind: str, p: Path):
    from deltalake import write_deltalake
    write_deltalake(str(p), parted(0, 10))
    if kind == "deletion vectors":
        def add_dv(lines):
            for a in lines:
                if "add" in a:
                    a["add"]["deletionVector"] = {"storageType": "u", "pathOrInlineDv": "ab^-aqEH.-t@S}K{vb[*k^",
                                                  "offset": 1, "sizeInBytes": 36, "cardinality": 2}
                if "protocol" in a:
                    a["protocol"] = {"minReaderVersion": 3, "minWriterVersion": 7,
                                     "readerFeatures": ["deletionVectors"],
                                     "writerFeatures": ["deletionVectors"]}
            return lines
        _edit_log(p, 0, add_dv)
    elif kind == "column mapping":
        _edit_log(p, 0, lambda ls: _with_meta(ls, lambda m: m["configuration"].update(
            {"delta.columnMapping.mode": "name", "delta.columnMapping.maxColumnId": "4"})))
    elif kind == "generated column":
        def gen(m):
            s = json.loads(m["schemaString"])
            s["fields"][3]["metadata"]["delta.generationExpression"] = "id * 1.5"
            m["schemaString"] = json.dumps(s)
        _edit_log(p, 0, lambda ls: _with_meta(ls, gen))
    elif kind in ("reader feature", "type widening", "reader version"):
        proto = {"reader feature": {"minReaderVersion": 3, "minWriterVersion": 7,
                                    "readerFeatures": ["fancyNewThing"], "writerFeatures": []},
                 "type widening": {"minReaderVersion": 3, "minWriterVersion": 7,
                                   "readerFeatures": ["typeWidening"], "writerFeatures": ["typeWidening"]},
                 "reader version": {"minReaderVersion": 4, "minWriterVersion": 7}}[kind]

        def feat(lines):
            for a in lines:
                if "protocol" in a:
                    a["protocol"] = proto
            return lines
        _edit_log(p, 0, feat)
    elif kind == "corrupt":
        write_deltalake(str(p), parted(10, 5), mode="append")
        f = p / "_delta_log" / f"{1:020d}.json"
        f.write_text(f.read_text() + '{"add": {"path": "x.parquet", \n')
    elif kind == "missing file":
        next(p.glob("*.parquet")).unlink()
    elif kind == "not delta":
        shutil.rmtree(p / "_delta_log")


REFUSALS = {
    "deletion vectors": ["deletion vectors"],
    "column mapping": ["column mapping mode name"],
    "generated column": ["generated column v"],
    "reader feature": ["reader feature fancyNewThing"],
    "type widening": ["type widening"],
    "reader version": ["reader version 4"],
    "corrupt": ["line 2"],
    "missing file": ["missing"],
    "not delta": ["not a Delta table"],
}


@pytest.mark.parametrize("kind", sorted(REFUSALS))
def test_refusals(work_root, run_firn, kind):
    p = work_root / f"delta-refused-{kind.replace(' ', '-')}"
    wh = work_root / f"delta-refused-wh-{kind.replace(' ', '-')}"
    shutil.rmtree(p, ignore_errors=True)
    shutil.rmtree(wh, ignore_errors=True)
    make_refused(kind, p)
    run_firn("--warehouse", wh, "namespace", "create", "db")
    before = run_firn("--warehouse", wh, "tables", "db").stdout
    res = run_firn("--warehouse", wh, "import", "delta", p, "db.t", check=False)
    assert_error(res, 1, REFUSALS[kind])
    assert run_firn("--warehouse", wh, "tables", "db").stdout == before
    assert not (wh / "db.db" / "t").exists() or not any((wh / "db.db" / "t").rglob("*.json"))


def test_deletion_vectors_enabled_but_unused_import(work_root, run_firn):
    """deltalake declares the deletionVectors (and variantType) reader
    features when asked, but its deletes rewrite files: nothing to refuse."""
    from deltalake import DeltaTable, write_deltalake
    p = work_root / "delta-dv-unused"
    wh = work_root / "delta-dv-unused-wh"
    shutil.rmtree(p, ignore_errors=True)
    shutil.rmtree(wh, ignore_errors=True)
    write_deltalake(str(p), parted(0, 10), configuration={"delta.enableDeletionVectors": "true"})
    DeltaTable(str(p)).delete("id = 2")
    run_firn("--warehouse", wh, "namespace", "create", "db")
    run_firn("--warehouse", wh, "import", "delta", p, "db.t")
    # deltalake's pyarrow reader refuses the feature: DuckDB's delta_scan reads it
    assert firn_rows(run_firn, wh, "db.t") == delta_scan_rows(delta_con(), p, 1)
    assert len(firn_rows(run_firn, wh, "db.t")) == 9


def test_usage_errors(run_firn, work_root):
    assert_error(run_firn("import", check=False), 2)
    assert_error(run_firn("import", "delta", "/x", check=False), 2)
    assert_error(run_firn("import", "parquet", "/x", "db.t", check=False), 2)
    assert "--incremental" in run_firn("import", "delta", "--help").stdout


# ---- Spark ------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark_import(work_root, run_firn, deltas):
    """A Spark session on a warehouse holding the imported 'part' table."""
    import os
    from firnrun import REPO, spark_jars
    wh = work_root / "delta-spark-wh"
    shutil.rmtree(wh, ignore_errors=True)
    run_firn("--warehouse", wh, "namespace", "create", "db")
    run_firn("--warehouse", wh, "import", "delta", deltas["part"], "db.part")
    jars = spark_jars()
    from pyspark.sql import SparkSession
    os.environ.setdefault("PYSPARK_PYTHON", str(REPO / ".venv" / "bin" / "python"))
    s = (SparkSession.builder.master("local[1]").appName("firn-import")
         .config("spark.jars", ",".join(jars))
         .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
         .config("spark.sql.catalog.default", "org.apache.iceberg.spark.SparkCatalog")
         .config("spark.sql.catalog.default.catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog")
         .config("spark.sql.catalog.default.uri", f"jdbc:sqlite:{wh}/catalog.db")
         .config("spark.sql.catalog.default.jdbc.schema-version", "V1")
         .config("spark.sql.catalog.default.jdbc.init-catalog-tables", "false")
         .config("spark.sql.catalog.default.warehouse", str(wh))
         .config("spark.sql.catalog.default.cache-enabled", "false")
         .config("spark.sql.session.timeZone", "UTC")
         .config("spark.sql.shuffle.partitions", "1")
         .config("spark.ui.enabled", "false")
         .config("spark.driver.memory", "1g")
         .getOrCreate())
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def spark_rows(spark, sql):
    df = spark.sql(sql)
    return by_name(pa.Table.from_pylist([r.asDict() for r in df.collect()]))


@pytest.mark.conformance(("import delta, every version", "Spark"))
def test_spark_reads_the_imported_table(spark_import, deltas):
    p = deltas["part"]
    assert spark_rows(spark_import, "SELECT * FROM default.db.part") == delta_rows(p, latest(p))
    assert spark_rows(spark_import, "SELECT * FROM default.db.part VERSION AS OF 'delta-version-2'") \
        == delta_rows(p, 2)


def test_multi_part_checkpoint(work_root, run_firn):
    """A checkpoint in two parts (the protocol's multi-part form; deltalake
    writes single-part ones, so one is split here), with metaData in the
    second part and the commits before it cleaned up."""
    from deltalake import DeltaTable, write_deltalake
    import pyarrow.compute as pc
    p = work_root / "delta-multipart"
    wh = work_root / "delta-multipart-wh"
    shutil.rmtree(p, ignore_errors=True)
    shutil.rmtree(wh, ignore_errors=True)
    for k in range(3):
        write_deltalake(str(p), parted(k * 10, 10), mode="append", partition_by=["city"])
    DeltaTable(str(p)).create_checkpoint()
    write_deltalake(str(p), parted(50, 4), mode="append")
    log = p / "_delta_log"
    single = log / f"{2:020d}.checkpoint.parquet"
    t = pq.read_table(single)
    t = t.take(pc.sort_indices(pc.is_valid(t["metaData"]).cast(pa.int8())))  # metaData last
    half = t.num_rows // 2
    for i, part in enumerate((t.slice(0, half), t.slice(half))):
        pq.write_table(part, log / f"{2:020d}.checkpoint.{i + 1:010d}.{2:010d}.parquet")
    single.unlink()
    last = json.loads((log / "_last_checkpoint").read_text())
    (log / "_last_checkpoint").write_text(json.dumps(dict(last, parts=2)))
    for v in range(3):
        (log / f"{v:020d}.json").unlink()
    run_firn("--warehouse", wh, "namespace", "create", "db")
    run_firn("--warehouse", wh, "import", "delta", p, "db.t")
    found = tags(run_firn, wh, "db.t")
    assert sorted(found) == ["delta-version-2", "delta-version-3"]
    dcon = delta_con()
    for v in (2, 3):
        want = delta_scan_rows(dcon, p, v)
        assert len(want) == 30 + 4 * (v - 2)
        assert firn_rows(run_firn, wh, "db.t", "--ref", f"delta-version-{v}") == want


def test_incremental_after_local_changes_is_refused(work_root, run_firn):
    """Once firn rewrote the files a new Delta version removes, the two
    histories have diverged: the incremental import says so and changes
    nothing."""
    from deltalake import DeltaTable, write_deltalake
    p = work_root / "delta-diverged"
    wh = work_root / "delta-diverged-wh"
    shutil.rmtree(p, ignore_errors=True)
    shutil.rmtree(wh, ignore_errors=True)
    write_deltalake(str(p), parted(0, 10))
    write_deltalake(str(p), parted(10, 10), mode="append")
    run_firn("--warehouse", wh, "namespace", "create", "db")
    run_firn("--warehouse", wh, "import", "delta", p, "db.t")
    run_firn("--warehouse", wh, "compact", "db.t")
    DeltaTable(str(p)).delete("id = 3")
    before = ice.snapshots(run_firn, wh, "db.t")
    res = run_firn("--warehouse", wh, "import", "delta", p, "db.t", "--incremental", check=False)
    assert_error(res, 1, ["changed since it was imported"])
    assert ice.snapshots(run_firn, wh, "db.t") == before
    assert ice.describe(run_firn, wh, "db.t")["properties"]["firn.import.version"] == "1"
