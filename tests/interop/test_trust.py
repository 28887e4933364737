"""Trust: no command resurrects rows, and none deletes what is not its
table's. Each test reproduces a defect found by trying firn as a hostile
or careless user would; it failed before the fix."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import ice


def meta_location(run_firn, wh, table) -> str:
    return ice.describe(run_firn, wh, table)["metadata-location"]


@pytest.mark.conformance(("merge-on-read then copy-on-write delete", "PyIceberg"),
                         ("merge-on-read then copy-on-write delete", "DuckDB"))
def test_rewritten_manifest_keeps_old_min_sequence_number(run_firn, tmp):
    """A data manifest rewritten by a copy-on-write delete keeps EXISTING
    entries of older sequence numbers: its manifest-list min_sequence_number
    must be theirs, or PyIceberg skips the older delete manifest and the row
    deleted by merge-on-read comes back."""
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "n")
    run_firn("--warehouse", wh, "create", "n.t", "--schema", "id long, k string", "--partition-by", "k")
    src = tmp / "in.csv"
    src.write_text("id,k\n1,a\n2,a\n3,a\n4,b\n5,b\n")
    run_firn("--warehouse", wh, "append", "n.t", src)
    run_firn("--warehouse", wh, "delete", "n.t", "--where", "id = 1", "--mode", "merge-on-read")
    run_firn("--warehouse", wh, "delete", "n.t", "--where", "id = 4", "--mode", "copy-on-write")
    want = [(2, "a"), (3, "a"), (5, "b")]
    assert ice.firn_rows(run_firn, wh, "n.t") == want
    assert ice.pyiceberg_rows(wh, "n.t") == want
    assert ice.duck_rows(meta_location(run_firn, wh, "n.t")) == want
    # and the field itself: the oldest live entry of each manifest
    import fastavro
    loc = meta_location(run_firn, wh, "n.t").removeprefix("file://")
    meta = json.loads(Path(loc).read_text())
    snap = next(s for s in meta["snapshots"] if s["snapshot-id"] == meta["current-snapshot-id"])
    with open(snap["manifest-list"].removeprefix("file://"), "rb") as f:
        mfs = list(fastavro.reader(f))
    for mf in mfs:
        with open(mf["manifest_path"].removeprefix("file://"), "rb") as f:
            entries = list(fastavro.reader(f))
        live = [e["sequence_number"] if e["sequence_number"] is not None else mf["sequence_number"]
                for e in entries if e["status"] != 2]
        assert mf["min_sequence_number"] == min(live), mf["manifest_path"]


# ---- ownership: no command deletes what is not its table's ----------------

DAYS = 86400


def make(run_firn, wh, table="n.t", rows=6, *extra):
    ns = table.rsplit(".", 1)[0]
    run_firn("--warehouse", wh, "namespace", "create", ns, check=False)
    run_firn("--warehouse", wh, "create", table, "--schema", "id long, k string", *extra)
    src = wh.parent / f"in-{table.replace('/', '_')}.csv"
    src.write_text("id,k\n" + "".join(f"{i},{'ab'[i % 2]}\n" for i in range(rows)))
    run_firn("--warehouse", wh, "append", table, src)


def age_tree(root: Path, seconds: int):
    """Makes every file under root look `seconds` old (as if written then)."""
    import time
    t = time.time() - seconds
    for p in root.rglob("*"):
        if p.is_file():
            os.utime(p, (t, t))


def location(run_firn, wh, table) -> str:
    return ice.describe(run_firn, wh, table)["location"]


def fails(run_firn, *args, code=1) -> str:
    r = run_firn(*args, check=False)
    assert r.returncode == code, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("firn: error: "), r.stderr
    return lines[0]


def test_renamed_table_keeps_its_files_from_the_new_one(run_firn, tmp):
    """rename n.t n.t_old, then create n.t: the new table gets its own
    location, and drop --purge of it leaves n.t_old whole."""
    wh = tmp / "wh"
    make(run_firn, wh)
    run_firn("--warehouse", wh, "rename", "n.t", "n.t_old")
    make(run_firn, wh, "n.t", 3)
    old, new = location(run_firn, wh, "n.t_old"), location(run_firn, wh, "n.t")
    assert old != new and not new.startswith(old + "/") and not old.startswith(new + "/")
    run_firn("--warehouse", wh, "drop", "n.t", "--purge")
    assert len(ice.firn_rows(run_firn, wh, "n.t_old")) == 6
    assert len(ice.pyiceberg_rows(wh, "n.t_old")) == 6
    # and the other way round: remove-orphans on the old one keeps the new one's files
    make(run_firn, wh, "n.t", 3)
    age_tree(wh, 5 * DAYS)
    run_firn("--warehouse", wh, "remove-orphans", "n.t_old")
    assert len(ice.pyiceberg_rows(wh, "n.t")) == 3


@pytest.mark.parametrize("name", ["ok./abs", "ok.a/b", "ok.x\\y", "ok...", "ok.t\x01", "o/k.t", "ok..t"])
def test_names_cannot_leave_their_directory(run_firn, tmp, name):
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "ok")
    fails(run_firn, "--warehouse", wh, "create", name, "--schema", "id long")
    assert not (wh / "abs").exists() and not (Path("/abs")).exists()


def test_locations_never_overlap(run_firn, tmp):
    wh = tmp / "wh"
    make(run_firn, wh, "n.a", 4, "--location", str(tmp / "tables" / "a"))
    for loc in [tmp / "tables" / "a", tmp / "tables" / "a" / "inner", tmp / "tables",
                f"file://{tmp}/tables/a/", f"{tmp}/tables//a/./x/.."]:
        line = fails(run_firn, "--warehouse", wh, "create", "n.b", "--schema", "id long", "--location", loc)
        assert "n.a" in line, line
    # a directory that already holds files is not a new table's
    (tmp / "mine").mkdir()
    (tmp / "mine" / "notes.txt").write_text("keep me")
    line = fails(run_firn, "--warehouse", wh, "create", "n.b", "--schema", "id long", "--location", tmp / "mine")
    assert "not empty" in line
    # a location is stored absolute and normalized
    os.makedirs(tmp / "rel", exist_ok=True)
    run_firn("--warehouse", wh, "create", "n.c", "--schema", "id long", "--location", "rel//c/", cwd=tmp)
    assert location(run_firn, wh, "n.c") == str(tmp / "rel" / "c")
    # register of metadata whose location overlaps another table's is refused
    meta = meta_location(run_firn, wh, "n.a").removeprefix("file://")
    line = fails(run_firn, "--warehouse", wh, "register", "n.copy", meta)
    assert "n.a" in line
    assert len(ice.pyiceberg_rows(wh, "n.a")) == 4


def test_purge_deletes_only_referenced_files(run_firn, tmp):
    """drop --purge removes what the metadata references under the location;
    a file the user put there, and files of a crafted register outside it,
    stay."""
    wh = tmp / "wh"
    loc = tmp / "t"
    make(run_firn, wh, "n.t", 6, "--location", loc)
    run_firn("--warehouse", wh, "delete", "n.t", "--where", "id = 1", "--mode", "merge-on-read")
    (loc / "README.txt").write_text("the user's")
    (loc / "data" / "user.parquet").write_bytes(b"PAR1 not really")
    referenced = [p for p in loc.rglob("*") if p.is_file() and p.name not in ("README.txt", "user.parquet")]
    assert referenced
    out = run_firn("--warehouse", wh, "drop", "n.t", "--purge").stdout
    assert f"purged {len(referenced)} files" in out, out
    assert sorted(p.name for p in loc.rglob("*") if p.is_file()) == ["README.txt", "user.parquet"]
    assert not (loc / "metadata").exists()  # left empty, removed


def test_purge_of_a_crafted_register_keeps_foreign_files(run_firn, tmp):
    """A metadata file registered from elsewhere that references files
    outside its location: purge leaves those."""
    wh = tmp / "wh"
    make(run_firn, wh, "n.src", 5, "--location", tmp / "src")
    meta = json.loads(Path(meta_location(run_firn, wh, "n.src").removeprefix("file://")).read_text())
    run_firn("--warehouse", wh, "drop", "n.src")  # forget it, files stay
    meta["location"] = str(tmp / "crafted")
    (tmp / "crafted" / "metadata").mkdir(parents=True)
    crafted = tmp / "crafted" / "metadata" / "00000-x.metadata.json"
    crafted.write_text(json.dumps(meta))
    run_firn("--warehouse", wh, "register", "n.c", crafted)
    before = sorted(p for p in (tmp / "src").rglob("*") if p.is_file())
    out = run_firn("--warehouse", wh, "drop", "n.c", "--purge").stdout
    assert "kept" in out and "purged 1 files" in out, out
    assert sorted(p for p in (tmp / "src").rglob("*") if p.is_file()) == before


def test_expire_of_a_crafted_register_keeps_foreign_files(run_firn, tmp):
    """Expiry deletes the files only expired snapshots referenced, and of
    those only the ones under the table's location: a registered table
    whose history points into another directory leaves it whole, while
    the files it wrote itself under its own location do go."""
    wh = tmp / "wh"
    make(run_firn, wh, "n.src", 5, "--location", tmp / "src")
    meta = json.loads(Path(meta_location(run_firn, wh, "n.src").removeprefix("file://")).read_text())
    run_firn("--warehouse", wh, "drop", "n.src")  # forget it, files stay
    meta["location"] = str(tmp / "crafted")
    (tmp / "crafted" / "metadata").mkdir(parents=True)
    crafted = tmp / "crafted" / "metadata" / "00000-x.metadata.json"
    crafted.write_text(json.dumps(meta))
    run_firn("--warehouse", wh, "register", "n.c", crafted)
    before = sorted(p for p in (tmp / "src").rglob("*") if p.is_file())
    new = tmp / "new.csv"
    for i in range(3):  # each overwrite leaves the one before it unreferenced
        new.write_text(f"id,k\n{100 + i},z\n")
        run_firn("--warehouse", wh, "overwrite", "n.c", new)
    own = {p for p in (tmp / "crafted" / "data").rglob("*.parquet")}
    assert len(own) == 3
    out = json.loads(run_firn("--warehouse", wh, "expire", "n.c", "--older-than", "2999-01-01T00:00:00",
                              "--retain-last", "1", "--json").stdout)
    assert out["snapshots-expired"] == 3, out
    assert sorted(p for p in (tmp / "src").rglob("*") if p.is_file()) == before
    left = {p for p in (tmp / "crafted" / "data").rglob("*.parquet")}
    assert len(left) == 1 and left < own  # its own expired data files went
    # what is left reads whole in PyIceberg (nothing it needs went)
    assert ice.pyiceberg_rows(wh, "n.c") == ice.firn_rows(run_firn, wh, "n.c")
    assert len(ice.pyiceberg_rows(wh, "n.c")) == 1


def test_remove_orphans_compares_normalized_locations(run_firn, tmp):
    """A table whose location has a trailing slash and a file: scheme, that
    PyIceberg appended to: remove-orphans (default window, files aged)
    removes nothing it references."""
    import pyarrow as pa
    wh = tmp / "wh"
    make(run_firn, wh, "n.src", 5, "--location", tmp / "t")
    mpath = Path(meta_location(run_firn, wh, "n.src").removeprefix("file://"))
    meta = json.loads(mpath.read_text())
    run_firn("--warehouse", wh, "drop", "n.src")
    meta["location"] = f"file://{tmp}/t/"
    odd = mpath.parent / "00009-odd.metadata.json"
    odd.write_text(json.dumps(meta))
    run_firn("--warehouse", wh, "register", "n.t", odd)
    t = ice.catalog(wh).load_table("n.t")
    t.append(pa.table({"id": pa.array([100, 101], pa.int64()), "k": ["p", "q"]}))
    want = ice.pyiceberg_rows(wh, "n.t")
    assert len(want) == 7
    age_tree(tmp / "t", 5 * DAYS)
    run_firn("--warehouse", wh, "remove-orphans", "n.t")
    assert ice.pyiceberg_rows(wh, "n.t") == want
    assert ice.firn_rows(run_firn, wh, "n.t") == want
    run_firn("--warehouse", wh, "append", "n.t", tmp / "wh" / ".." / "in-n.src.csv")
    assert len(ice.pyiceberg_rows(wh, "n.t")) == 12


def test_remove_orphans_refuses_a_recent_cutoff(run_firn, tmp):
    import time
    wh = tmp / "wh"
    make(run_firn, wh)
    stray = Path(location(run_firn, wh, "n.t")) / "data" / "stray.parquet"
    stray.write_bytes(b"x")
    for cutoff in [str(int(time.time() * 1000)), str(int((time.time() - 3600) * 1000)),
                   "2999-01-01T00:00:00"]:
        line = fails(run_firn, "--warehouse", wh, "remove-orphans", "n.t", "--older-than", cutoff)
        assert "24 hours" in line and "--force" in line
    assert stray.exists()
    future = str(int((time.time() + 60) * 1000))
    run_firn("--warehouse", wh, "remove-orphans", "n.t", "--older-than", future, "--force")
    assert not stray.exists()
    assert len(ice.pyiceberg_rows(wh, "n.t")) == 6


def test_files_only_deleted_entries_name_are_orphans(run_firn, tmp):
    """An expire killed after its commit leaves the files it meant to delete;
    the snapshot that removed them still lists them as DELETED entries, which
    are not references: remove-orphans collects them."""
    wh = tmp / "wh"
    make(run_firn, wh, "n.t", 6, "--partition-by", "k")
    run_firn("--warehouse", wh, "delete", "n.t", "--where", "k = 'a'", "--mode", "copy-on-write")
    files = {Path(f["file-path"].removeprefix("file://")).name
             for f in json.loads(run_firn("--warehouse", wh, "files", "n.t", "--json").stdout)}
    data = {p.name: p for p in (Path(location(run_firn, wh, "n.t")) / "data").rglob("*.parquet")}
    gone = [p for n, p in data.items() if n not in files]
    assert len(gone) == 1
    env = dict(os.environ, FIRN_CRASH_AT="after-swap")
    import subprocess
    import time
    now = str(int(time.time() * 1000) + 1000)
    p = subprocess.run([str(ice_firn_bin()), "--warehouse", str(wh), "expire", "n.t", "--retain-last", "1",
                        "--older-than", now],
                       env=env, capture_output=True)
    assert p.returncode == -9, p.stderr
    assert gone[0].exists()  # leaked by the killed expire
    age_tree(wh, 5 * DAYS)
    run_firn("--warehouse", wh, "remove-orphans", "n.t")
    assert not gone[0].exists()
    assert ice.pyiceberg_rows(wh, "n.t") == [(1, "b"), (3, "b"), (5, "b")]


def ice_firn_bin():
    import firnrun
    return firnrun.firn_path()


def test_remove_orphans_never_enters_another_table(run_firn, tmp):
    """A table PyIceberg created inside firn's table's location (an old
    catalog can hold such pairs): remove-orphans of the outer table leaves
    the inner one's files."""
    import pyarrow as pa
    wh = tmp / "wh"
    make(run_firn, wh)
    outer = location(run_firn, wh, "n.t")
    cat = ice.catalog(wh)
    inner = cat.create_table("n.inner", schema=pa.schema([pa.field("x", pa.int64())]),
                             location=f"file://{outer}/nested")
    inner.append(pa.table({"x": pa.array([7, 8], pa.int64())}))
    age_tree(wh, 5 * DAYS)
    run_firn("--warehouse", wh, "remove-orphans", "n.t")
    assert ice.pyiceberg_rows(wh, "n.inner") == [(7,), (8,)]
    assert len(ice.pyiceberg_rows(wh, "n.t")) == 6
    assert (wh / "catalog.db").exists()


# ---- wrong answers of merge and overwrite ----------------------------------

@pytest.mark.parametrize("mode", ["merge-on-read", "copy-on-write"])
@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_merge_keeps_the_columns_the_input_lacks(run_firn, tmp, mode, fmt):
    import pyarrow as pa
    import pyarrow.parquet as pq
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "n")
    run_firn("--warehouse", wh, "create", "n.t", "--schema", "id long not null, name string, score long not null")
    src = tmp / "base.csv"
    src.write_text("id,name,score\n1,Ann,10\n2,Bob,20\n3,Cid,30\n4,Dag,40\n")
    run_firn("--warehouse", wh, "append", "n.t", src)

    def write(name, cols):
        t = pa.table(cols)
        p = tmp / f"{name}.{fmt}"
        if fmt == "parquet":
            pq.write_table(t, p)
        elif fmt == "csv":
            import pyarrow.csv as pc
            pc.write_csv(t, p)
        else:
            p.write_text("".join(json.dumps(r) + "\n" for r in t.to_pylist()))
        return p

    # matched rows keep score; name comes from the input
    up = write("up", {"id": pa.array([2, 3], pa.int64()), "name": ["Bea", None]})
    run_firn("--warehouse", wh, "merge", "n.t", up, "--on", "id", "--mode", mode)
    want = [(1, "Ann", 10), (2, "Bea", 20), (3, None, 30), (4, "Dag", 40)]
    assert ice.firn_rows(run_firn, wh, "n.t") == want
    assert ice.pyiceberg_rows(wh, "n.t") == want
    assert ice.duck_rows(meta_location(run_firn, wh, "n.t")) == want
    # a new key cannot take a required value the input lacks
    bad = write("bad", {"id": pa.array([1, 9], pa.int64()), "name": ["A", "New"]})
    line = fails(run_firn, "--warehouse", wh, "merge", "n.t", bad, "--on", "id", "--mode", mode)
    assert "score" in line and "required" in line
    assert ice.firn_rows(run_firn, wh, "n.t") == want
    # optional columns the input lacks: matched keep, inserted get NULL
    run_firn("--warehouse", wh, "alter", "n.t", "add-column", "note string")
    up2 = write("up2", {"id": pa.array([4, 7], pa.int64()), "score": pa.array([44, 70], pa.int64())})
    run_firn("--warehouse", wh, "merge", "n.t", up2, "--on", "id", "--mode", mode)
    want = [(1, "Ann", 10, None), (2, "Bea", 20, None), (3, None, 30, None), (4, "Dag", 44, None),
            (7, None, 70, None)]
    assert ice.firn_rows(run_firn, wh, "n.t") == want
    assert ice.pyiceberg_rows(wh, "n.t") == want
    assert ice.duck_rows(meta_location(run_firn, wh, "n.t")) == want


def test_overwrite_refuses_rows_outside_its_filter(run_firn, tmp):
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "n")
    run_firn("--warehouse", wh, "create", "n.t", "--schema", "id long, k string", "--partition-by", "k")
    src = tmp / "base.csv"
    src.write_text("id,k\n1,a\n2,a\n3,b\n")
    run_firn("--warehouse", wh, "append", "n.t", src)
    bad = tmp / "bad.csv"
    bad.write_text("id,k\n10,a\n3,b\n11,a\n")
    line = fails(run_firn, "--warehouse", wh, "overwrite", "n.t", bad, "--where", "k = 'a'")
    assert "1 input rows do not match" in line and "input row 2" in line, line
    assert ice.pyiceberg_rows(wh, "n.t") == [(1, "a"), (2, "a"), (3, "b")]
    good = tmp / "good.csv"
    good.write_text("id,k\n10,a\n11,a\n")
    run_firn("--warehouse", wh, "overwrite", "n.t", good, "--where", "k = 'a'")
    want = [(3, "b"), (10, "a"), (11, "a")]
    assert sorted(ice.pyiceberg_rows(wh, "n.t")) == want
    assert sorted(ice.duck_rows(meta_location(run_firn, wh, "n.t"))) == want


@pytest.mark.parametrize("mode", ["copy-on-write", "merge-on-read"])
def test_failed_row_change_on_a_full_disk_leaves_nothing(run_firn, tmp, mode):
    """A delete whose metadata write fails (the file-size limit stands in for
    a full disk) removes the data, delete and manifest files it wrote: the
    swap surely did not happen (the catalog still points at the old
    metadata)."""
    import resource
    import signal
    import subprocess
    import firnrun
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "n")
    run_firn("--warehouse", wh, "create", "n.t", "--schema", "id long, k string",
             "--property", "padding=" + "p" * 80000)
    src = tmp / "in.csv"
    src.write_text("id,k\n" + "".join(f"{i},x{i}\n" for i in range(10)))
    run_firn("--warehouse", wh, "append", "n.t", src)
    before = sorted(p for p in wh.rglob("*") if p.is_file() and "catalog.db" not in p.name)

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
    p = subprocess.run([str(firnrun.firn_path()), "--warehouse", str(wh), "delete", "n.t", "--where", "id < 8",
                        "--mode", mode], preexec_fn=limit, capture_output=True)
    assert p.returncode == 1, p.stderr
    assert len(p.stderr.decode().strip().splitlines()) == 1, p.stderr
    after = sorted(p for p in wh.rglob("*") if p.is_file() and "catalog.db" not in p.name)
    assert after == before
    assert len(ice.pyiceberg_rows(wh, "n.t")) == 10


@pytest.mark.parametrize("dictionary", [True, False])
def test_int96_sub_microseconds_are_not_dropped_silently(run_firn, tmp, dictionary):
    """INT96 (Spark's and Hive's old timestamps) carries nanoseconds: going
    into a microsecond column, non-zero sub-microsecond digits are an error
    unless --truncate-timestamps."""
    import datetime as dt
    import pyarrow as pa
    import pyarrow.parquet as pq
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "n")
    run_firn("--warehouse", wh, "create", "n.t", "--schema", "id long, ts timestamptz")
    ns = [1_700_000_000_123_456_000, 1_700_000_000_123_456_789, 1_700_000_000_123_456_000]
    t = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "ts": pa.array(ns, pa.timestamp("ns", "UTC"))})
    p = tmp / "int96.parquet"
    pq.write_table(t, p, use_deprecated_int96_timestamps=True, use_dictionary=dictionary)
    assert pq.ParquetFile(p).schema.column(1).physical_type == "INT96"
    line = fails(run_firn, "--warehouse", wh, "append", "n.t", p)
    assert "row 1" in line and "sub-microsecond" in line, line
    assert ice.firn_rows(run_firn, wh, "n.t") == []
    run_firn("--warehouse", wh, "append", "n.t", p, "--truncate-timestamps")
    want = [(i + 1, (dt.datetime(2023, 11, 14, 22, 13, 20, 123456)).isoformat(timespec="microseconds") + "+00:00")
            for i in range(3)]
    assert ice.firn_rows(run_firn, wh, "n.t") == want
    assert ice.pyiceberg_rows(wh, "n.t") == want
    ok = tmp / "whole.parquet"
    pq.write_table(t.slice(0, 1), ok, use_deprecated_int96_timestamps=True, use_dictionary=dictionary)
    run_firn("--warehouse", wh, "append", "n.t", ok)  # whole microseconds need no flag
    assert len(ice.firn_rows(run_firn, wh, "n.t")) == 4


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_convert_infers_nanoseconds_instead_of_dropping_them(run_firn, tmp, fmt):
    import pyarrow as pa
    import pyarrow.parquet as pq
    src = tmp / f"in.{fmt}"
    if fmt == "csv":
        src.write_text("id,ts\n1,2026-01-01T00:00:00.123456789\n2,2026-01-01T00:00:00.5\n")
    else:
        src.write_text('{"id": 1, "ts": "2026-01-01T00:00:00.123456789"}\n{"id": 2, "ts": "2026-01-01T00:00:00.5"}\n')
    out = tmp / "out.parquet"
    run_firn("parquet", "convert", src, out)
    t = pq.read_table(out)
    assert t.schema.field("ts").type == pa.timestamp("ns")
    assert t.column("ts").cast(pa.int64()).to_pylist() == [1767225600123456789, 1767225600500000000]
    # whole microseconds stay a microsecond timestamp
    src.write_text("id,ts\n1,2026-01-01T00:00:00.123456\n" if fmt == "csv" else
                   '{"id": 1, "ts": "2026-01-01T00:00:00.123456"}\n')
    out.unlink()
    run_firn("parquet", "convert", src, out)
    assert pq.read_table(out).schema.field("ts").type == pa.timestamp("us")
