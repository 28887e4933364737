"""firn import ducklake (issue 15): DuckLake catalogs made by DuckDB's
ducklake extension on SQLite (inserts, deletes, updates, a column added,
partitioned by identity and by year/month/day, inlined deletions) imported
by firn over the very same Parquet files; at every DuckLake snapshot N the
imported table's tag ducklake-snapshot-N reads, through DuckDB's
iceberg_scan, PyIceberg and firn scan, exactly DuckLake's rows AT (VERSION
=> N). Then incremental imports, the refusals (inlined rows, a type
Iceberg lacks, an unknown table, a SQLite file that is no DuckLake
catalog), and firn's maintenance on the imported table leaving DuckLake's
files alone."""
from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb
import pytest

import ice
from firnrun import assert_error
from test_catalog_pg import pg  # noqa: F401 (the PostgreSQL server fixture)


def _load(con, mod, name, tmp):
    """LOADs an extension from its PyPI package. The sqlite package's file
    is named sqlite.duckdb_extension while its entry point is
    sqlite_scanner's: DuckDB derives the entry point from the file name,
    so it is loaded through a link of that name."""
    path = next((Path(mod.__file__).parent / "extensions").rglob("*.duckdb_extension"))
    link = tmp / f"{name}.duckdb_extension"
    if not link.exists():
        link.symlink_to(path)
    con.execute(f"LOAD '{link}'")


class Lake:
    """A DuckLake catalog in SQLite at DIR/meta.sqlite, data under DIR/data."""

    def __init__(self, d: Path, inlining: bool = False, pg_uri: str | None = None):
        """pg_uri: the catalog in that PostgreSQL database instead."""
        import duckdb_extension_ducklake
        import duckdb_extension_postgres_scanner
        import duckdb_extension_sqlite
        d.mkdir(parents=True, exist_ok=True)
        self.dir = d
        self.meta = pg_uri or d / "meta.sqlite"
        self.data = d / "data"
        self.con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
        if pg_uri:
            _load(self.con, duckdb_extension_postgres_scanner, "postgres_scanner", d)
        else:
            _load(self.con, duckdb_extension_sqlite, "sqlite_scanner", d)
        _load(self.con, duckdb_extension_ducklake, "ducklake", d)
        self.con.execute("SET TimeZone='UTC'")
        opts = f"DATA_PATH '{self.data}/'"
        if not inlining:
            opts += ", DATA_INLINING_ROW_LIMIT 0"
        kind = "postgres" if pg_uri else "sqlite"
        self.con.execute(f"ATTACH 'ducklake:{kind}:{self.meta}' AS lake ({opts})")
        self.con.execute("USE lake")

    def sql(self, q: str):
        self.con.execute(q)
        return self.snapshot()

    def snapshot(self) -> int:
        return self.con.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone()[0]

    def table(self, table: str, version: int):
        return self.con.execute(f"SELECT * FROM {table} AT (VERSION => {version})").to_arrow_table()

    def rows(self, table: str, version: int):
        t = self.table(table, version)
        return ice.rows(t), t.column_names

    def files(self) -> set:
        return {p for p in self.data.rglob("*") if p.is_file()}

    def close(self):
        self.con.close()


def import_(run_firn, wh, lake: Lake, name: str, table: str, *extra, check=True):
    return run_firn("--warehouse", wh, "import", "ducklake", lake.meta, name, table, *extra,
                    check=check, timeout=120)


def tags(wh: Path, table: str) -> dict:
    t = ice.catalog(wh).load_table(table)
    return {n: r.snapshot_id for n, r in t.metadata.refs.items() if n.startswith("ducklake-snapshot-")}


def check_versions(run_firn, wh, lake: Lake, name: str, table: str, versions) -> int:
    """Every DuckLake snapshot in versions: the tag's rows, read by DuckDB,
    PyIceberg and firn, projected on DuckLake's columns at that version,
    are DuckLake's rows then. Returns how many were compared."""
    refs = tags(wh, table)
    loc = ice.describe(run_firn, wh, table)["metadata-location"]
    con = ice.duck()
    pyt = ice.catalog(wh).load_table(table)
    compared = 0
    for v in versions:
        t = lake.table(name, v)
        # a snapshot that did not change the table (another table's, a
        # flush or a merge of files, which DuckLake records as of the
        # snapshots of their rows) reads as the last one that did
        tagged = [int(k.rsplit("-", 1)[1]) for k in refs]
        earlier = [x for x in tagged if x <= v]
        if not earlier:
            # before the table's first file: nothing to tag
            assert t.num_rows == 0, f"DuckLake snapshot {v} has rows but no tag"
            continue
        tag = f"ducklake-snapshot-{max(earlier)}"
        sid = refs[tag]
        # a version that only changed the schema tags the snapshot before
        # it, whose schema is the one before: a column it lacks is one
        # added then (all null in DuckLake) or renamed or retyped then
        snap_schema = pyt.schemas()[pyt.snapshot_by_id(sid).schema_id]
        names = {f.name for f in snap_schema.fields}
        schema_only = any(refs[k] == sid and int(k.rsplit("-", 1)[1]) < max(earlier)
                          for k in refs)
        cols = [c for c in t.column_names if c in names]
        for c in t.column_names:
            if c not in names:
                assert schema_only or t.column(c).null_count == t.num_rows, f"{c} at {tag}"
        want = ice.rows(t, columns=cols)
        duck = ice.duck_scan(con, loc, sid, columns=cols)
        assert duck == want, f"DuckDB at {tag}"
        py = ice.rows(pyt.scan(snapshot_id=sid).to_arrow(), columns=cols)
        assert py == want, f"PyIceberg at {tag}"
        fr = ice.firn_rows(run_firn, wh, table, "--ref", tag, "--columns", ",".join(cols))
        assert fr == want, f"firn at {tag}"
        compared += 1
    con.close()
    return compared


def history(lake: Lake) -> list:
    """Inserts, deletes (several into one file: cumulative delete files),
    updates, a column added, a file deleted whole; returns the snapshots."""
    s = [lake.sql("CREATE TABLE t (id INTEGER, name VARCHAR, d DATE, ts TIMESTAMP, "
                  "amount DECIMAL(10,2))")]
    s.append(lake.sql("INSERT INTO t SELECT i, 'n' || i, DATE '2021-01-01' + i::INTEGER, "
                      "TIMESTAMP '2021-01-01 00:00:00' + i * INTERVAL 1 HOUR, i / 4 "
                      "FROM range(100) r(i)"))
    s.append(lake.sql("INSERT INTO t SELECT i, NULL, NULL, NULL, NULL FROM range(100, 150) r(i)"))
    s.append(lake.sql("DELETE FROM t WHERE id % 7 = 0"))
    s.append(lake.sql("DELETE FROM t WHERE id % 11 = 0"))
    s.append(lake.sql("UPDATE t SET name = 'u' || id WHERE id BETWEEN 20 AND 30"))
    s.append(lake.sql("ALTER TABLE t ADD COLUMN x BIGINT"))
    s.append(lake.sql("INSERT INTO t VALUES (1000, 'late', DATE '2024-02-29', "
                      "TIMESTAMP '2024-02-29 23:59:59.123456', 1.25, 42)"))
    s.append(lake.sql("DELETE FROM t WHERE id >= 100 AND id < 150"))
    s.append(lake.sql("UPDATE t SET x = id * 2 WHERE id < 10"))
    return s


@pytest.mark.conformance(("import ducklake", "DuckDB"), ("import ducklake", "PyIceberg"))
def test_import_history_every_snapshot(run_firn, tmp):
    lake = Lake(tmp / "lake")
    snaps = history(lake)
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "d")
    import_(run_firn, wh, lake, "t", "d.t")
    versions = range(snaps[0], snaps[-1] + 1)
    assert check_versions(run_firn, wh, lake, "t", "d.t", versions) == len(snaps) - 1
    # the table's present is DuckLake's present, and the files are DuckLake's
    want, _ = lake.rows("t", snaps[-1])
    assert ice.firn_rows(run_firn, wh, "d.t") == want
    files = json.loads(run_firn("--warehouse", wh, "files", "d.t", "--json").stdout)
    data = [f for f in files if f["content"] == "data"]
    assert data and all(str(lake.data) in f["file-path"] for f in data)
    props = ice.catalog(wh).load_table("d.t").properties
    assert props["firn.import.format"] == "ducklake"
    assert props["firn.import.version"] == str(snaps[-1])

    # incremental: more DuckLake writes, brought over after the last import
    more = [lake.sql("INSERT INTO t VALUES (2000, 'inc', NULL, NULL, NULL, 7)"),
            lake.sql("DELETE FROM t WHERE id = 1 OR id = 2000"),
            lake.sql("ALTER TABLE t ADD COLUMN y VARCHAR"),
            lake.sql("INSERT INTO t VALUES (3000, 'y', NULL, NULL, NULL, NULL, 'why')"),
            lake.sql("ALTER TABLE t RENAME COLUMN name TO label"),
            lake.sql("ALTER TABLE t ALTER COLUMN id SET DATA TYPE BIGINT"),
            lake.sql("ALTER TABLE t DROP COLUMN d"),
            lake.sql("INSERT INTO t VALUES (4000000000, 'big', NULL, NULL, NULL, NULL)")]
    before = tags(wh, "d.t")
    import_(run_firn, wh, lake, "t", "d.t", "--incremental")
    after = tags(wh, "d.t")
    assert {k: v for k, v in after.items() if k in before} == before  # history kept
    assert check_versions(run_firn, wh, lake, "t", "d.t", range(snaps[0], more[-1] + 1)) \
        == len(snaps) - 1 + len(more)
    schema = ice.catalog(wh).load_table("d.t").schema()
    assert [(f.field_id, f.name, str(f.field_type)) for f in schema.fields] == [
        (1, "id", "long"), (2, "label", "string"), (4, "ts", "timestamp"),
        (5, "amount", "decimal(10, 2)"), (6, "x", "long"), (7, "y", "string")]
    # nothing new: nothing changes
    meta = ice.describe(run_firn, wh, "d.t")["metadata-location"]
    import_(run_firn, wh, lake, "t", "d.t", "--incremental")
    assert tags(wh, "d.t") == after
    assert ice.describe(run_firn, wh, "d.t")["metadata-location"] == meta
    lake.close()


@pytest.mark.conformance(("import ducklake", "DuckDB"), ("import ducklake", "PyIceberg"))
@pytest.mark.parametrize("partition_by", ["region", "year(d), month(d)", "year(d), month(d), region",
                                          "year(ts), month(ts), day(ts)", "k",
                                          "year(ts), month(ts), day(ts), hour(ts)", "d, tz"])
def test_import_partitioned(run_firn, tmp, partition_by):
    lake = Lake(tmp / "lake")
    first = lake.sql("CREATE TABLE p (id INTEGER, region VARCHAR, d DATE, ts TIMESTAMP, k INTEGER, "
                     "tz TIMESTAMPTZ)")
    lake.sql(f"ALTER TABLE p SET PARTITIONED BY ({partition_by})")
    lake.sql("INSERT INTO p SELECT i, ['north', 'south', NULL][i % 3 + 1], "
             "DATE '2020-11-20' + i::INTEGER * 3, TIMESTAMP '2020-12-31 20:00:00' + i * INTERVAL 7 HOUR, "
             "i % 4, TIMESTAMPTZ '2021-06-01 00:00:00+00' + (i % 3) * INTERVAL 90 MINUTE "
             "FROM range(120) r(i)")
    lake.sql("INSERT INTO p VALUES (500, NULL, NULL, NULL, NULL, NULL)")
    lake.sql("DELETE FROM p WHERE id % 5 = 0")
    lake.sql("UPDATE p SET region = 'east', d = d + 400, k = k + 10 WHERE id % 9 = 1")
    last = lake.sql("DELETE FROM p WHERE d < DATE '2021-01-01'")
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "d")
    import_(run_firn, wh, lake, "p", "d.p")
    check_versions(run_firn, wh, lake, "p", "d.p", range(first, last + 1))
    spec = ice.catalog(wh).load_table("d.p").spec()
    got = [(f.name, str(f.transform)) for f in spec.fields]
    finest = {"region": [("region", "identity")], "k": [("k", "identity")],
              "year(d), month(d)": [("d_month", "month")],
              "year(d), month(d), region": [("d_month", "month"), ("region", "identity")],
              "year(ts), month(ts), day(ts)": [("ts_day", "day")],
              "year(ts), month(ts), day(ts), hour(ts)": [("ts_hour", "hour")],
              "d, tz": [("d", "identity"), ("tz", "identity")]}[partition_by]
    assert got == finest
    # partition pruning by the Iceberg partition values
    if partition_by.startswith("year(d)"):
        want = [r for r in lake.rows("p", last)[0] if r[2] is not None and r[2].startswith("2021-03")]
        assert want
        got_rows = ice.firn_rows(run_firn, wh, "d.p", "--where",
                                 "d >= '2021-03-01' AND d < '2021-04-01'")
        assert got_rows == want
    lake.close()


@pytest.mark.conformance(("import ducklake", "DuckDB"), ("import ducklake", "PyIceberg"))
def test_import_month_alone(run_firn, tmp):
    """DuckLake's month(d) alone is the month of the year: a file's Iceberg
    month comes from its min/max of d, and a file with rows of March 2021
    and March 2022 has none."""
    lake = Lake(tmp / "lake")
    first = lake.sql("CREATE TABLE m (id INTEGER, d DATE)")
    lake.sql("ALTER TABLE m SET PARTITIONED BY (month(d))")
    last = lake.sql("INSERT INTO m SELECT i, DATE '2021-01-01' + i::INTEGER * 2 FROM range(150) r(i)")
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "d")
    import_(run_firn, wh, lake, "m", "d.m")
    check_versions(run_firn, wh, lake, "m", "d.m", range(first, last + 1))
    assert [str(f.transform) for f in ice.catalog(wh).load_table("d.m").spec().fields] == ["month"]
    lake.sql("INSERT INTO m VALUES (1000, DATE '2022-03-05'), (1001, DATE '2021-03-06')")
    assert_error(import_(run_firn, wh, lake, "m", "d.m2", check=False),
                 mentions=("rows of several Iceberg month(d) partitions in one file",))
    _no_table(run_firn, wh, "d.m2")
    lake.close()


def test_import_types(run_firn, tmp):
    lake = Lake(tmp / "lake")
    lake.sql("CREATE TABLE ty (b BOOLEAN, i8 TINYINT, i16 SMALLINT, i64 BIGINT, u8 UTINYINT, "
             "u16 USMALLINT, u32 UINTEGER, f FLOAT, g DOUBLE, dec DECIMAL(18,3), s VARCHAR, "
             "bl BLOB, dt DATE, tm TIME, ts TIMESTAMP, tz TIMESTAMPTZ, "
             "st STRUCT(a INTEGER, b VARCHAR), li INTEGER[], mp MAP(VARCHAR, DOUBLE))")
    last = lake.sql("INSERT INTO ty VALUES (true, -8, -16, -64, 255, 65535, 4294967295, 1.5, "
                    "2.25, 123456789012.345, 'str', '\\xAA\\x00'::BLOB, DATE '2000-02-29', "
                    "TIME '12:34:56.789', TIMESTAMP '2001-02-03 04:05:06', "
                    "TIMESTAMPTZ '2001-02-03 04:05:06+00', {'a': 1, 'b': 'x'}, [1, 2, NULL], "
                    "MAP {'k': 1.5}), "
                    "(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
                    "NULL, NULL, NULL, NULL, NULL, NULL, NULL)")
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "d")
    import_(run_firn, wh, lake, "ty", "d.ty")
    schema = ice.catalog(wh).load_table("d.ty").schema()
    types = {f.name: str(f.field_type) for f in schema.fields}
    assert types["u8"] == "int" and types["u16"] == "int" and types["u32"] == "long"
    assert types["dec"] == "decimal(18, 3)" and types["tz"] == "timestamptz"
    assert check_versions(run_firn, wh, lake, "ty", "d.ty", [last]) == 1
    # a table of another schema than main
    lake.sql("CREATE SCHEMA s2")
    first = lake.sql("CREATE TABLE s2.o (id INTEGER)")
    last = lake.sql("INSERT INTO s2.o VALUES (7), (8)")
    import_(run_firn, wh, lake, "s2.o", "d.o")
    assert check_versions(run_firn, wh, lake, "s2.o", "d.o", range(first, last + 1)) == 1
    lake.close()


def test_import_inlined_deletions(run_firn, tmp):
    """With inlining on (DuckLake's default), rows inserted in bulk go to a
    file and a few deletions stay in the catalog: those are imported as
    position deletes."""
    lake = Lake(tmp / "lake", inlining=True)
    first = lake.sql("CREATE TABLE t (id INTEGER, v VARCHAR)")
    lake.sql("INSERT INTO t SELECT i, 'v' || i FROM range(500) r(i)")
    lake.sql("INSERT INTO t SELECT i, 'w' || i FROM range(500, 900) r(i)")
    lake.sql("DELETE FROM t WHERE id IN (3, 600, 601)")
    last = lake.sql("DELETE FROM t WHERE id = 4")
    import sqlite3
    db = sqlite3.connect(lake.meta)
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master "
                                      "WHERE name LIKE 'ducklake_inlined_delete_%'")]
    assert len(names) == 1 and db.execute(f"SELECT count(*) FROM {names[0]}").fetchone()[0] == 4
    db.close()
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "d")
    import_(run_firn, wh, lake, "t", "d.t")
    assert check_versions(run_firn, wh, lake, "t", "d.t", range(first, last + 1)) == 4
    lake.close()


def test_incremental_after_merge_refused(run_firn, tmp):
    """A merge of files after an import dates the merged file back to its
    rows' snapshots: the history the import adopted is gone, and an
    incremental import says so instead of importing wrong."""
    lake = Lake(tmp / "lake")
    lake.sql("CREATE TABLE t (id INTEGER)")
    lake.sql("INSERT INTO t VALUES (1)")
    lake.sql("INSERT INTO t VALUES (2)")
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "d")
    import_(run_firn, wh, lake, "t", "d.t")
    before = ice.describe(run_firn, wh, "d.t")["metadata-location"]
    lake.con.execute("CALL ducklake_merge_adjacent_files('lake')")
    lake.sql("INSERT INTO t VALUES (3)")
    assert_error(import_(run_firn, wh, lake, "t", "d.t", "--incremental", check=False),
                 mentions=("rewrote files of snapshots already imported",))
    assert ice.describe(run_firn, wh, "d.t")["metadata-location"] == before
    # imported anew, it is right
    import_(run_firn, wh, lake, "t", "d.t2")
    assert ice.firn_rows(run_firn, wh, "d.t2") == [(1,), (2,), (3,)]
    lake.close()


@pytest.mark.conformance(("import ducklake", "DuckDB"), ("import ducklake", "PyIceberg"))
def test_import_flushed_and_merged_files(run_firn, tmp):
    """Files holding rows of several snapshots (DuckLake's flush of inlined
    rows, its merge of adjacent files; _ducklake_internal_snapshot_id says
    which row came when): at each earlier snapshot the later rows are
    position-deleted, so every snapshot still reads right."""
    lake = Lake(tmp / "lake", inlining=True)
    first = lake.sql("CREATE TABLE t (id INTEGER, v VARCHAR)")
    lake.sql("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    lake.sql("INSERT INTO t VALUES (3, 'c')")
    lake.sql("DELETE FROM t WHERE id = 2")
    lake.con.execute("CALL ducklake_flush_inlined_data('lake')")
    lake.sql("INSERT INTO t SELECT i, 'x' FROM range(100, 200) r(i)")
    lake.sql("INSERT INTO t SELECT i, 'y' FROM range(200, 300) r(i)")
    lake.con.execute("CALL ducklake_merge_adjacent_files('lake')")
    lake.sql("DELETE FROM t WHERE id % 10 = 3")
    last = lake.sql("INSERT INTO t SELECT i, 'z' FROM range(300, 340) r(i)")
    import sqlite3
    db = sqlite3.connect(lake.meta)
    partial = db.execute("SELECT count(*) FROM ducklake_data_file "
                         "WHERE partial_max IS NOT NULL AND end_snapshot IS NULL").fetchone()[0]
    db.close()
    assert partial == 2  # the flushed rows, the merged files
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "d")
    import_(run_firn, wh, lake, "t", "d.t")
    check_versions(run_firn, wh, lake, "t", "d.t", range(first, last + 1))
    lake.close()


def _no_table(run_firn, wh, table):
    res = run_firn("--warehouse", wh, "describe", table, check=False)
    assert res.returncode == 1


def test_refusals(run_firn, tmp):
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "d")
    # rows still inlined in the catalog (inlining on, a few rows)
    lake = Lake(tmp / "inl", inlining=True)
    lake.sql("CREATE TABLE t (id INTEGER)")
    lake.sql("INSERT INTO t VALUES (1), (2), (3)")
    msg = assert_error(import_(run_firn, wh, lake, "t", "d.a", check=False),
                       mentions=("main.t", "inlined"))
    assert "3 rows" in msg
    _no_table(run_firn, wh, "d.a")
    # after flushing them to a file, the same table imports
    lake.con.execute("CALL ducklake_flush_inlined_data('lake')")
    import_(run_firn, wh, lake, "t", "d.a")
    assert ice.firn_rows(run_firn, wh, "d.a") == [(1,), (2,), (3,)]
    lake.close()

    lake = Lake(tmp / "types")
    lake.sql("CREATE TABLE j (id INTEGER, doc JSON)")
    lake.sql("INSERT INTO j VALUES (1, '{\"a\": 1}')")
    lake.sql("CREATE TABLE iv (id INTEGER, span INTERVAL)")
    lake.sql("CREATE TABLE big (id UBIGINT)")
    lake.sql("CREATE TABLE dflt (id INTEGER, c INTEGER DEFAULT 3)")
    lake.sql("INSERT INTO dflt (id) VALUES (1)")
    lake.sql("ALTER TABLE dflt ADD COLUMN x INTEGER DEFAULT 5")
    assert_error(import_(run_firn, wh, lake, "dflt", "d.dflt", check=False),
                 mentions=("column x", "added with a default"))
    assert_error(import_(run_firn, wh, lake, "j", "d.j", check=False),
                 mentions=("column doc", "json"))
    assert_error(import_(run_firn, wh, lake, "iv", "d.iv", check=False),
                 mentions=("column span", "interval"))
    assert_error(import_(run_firn, wh, lake, "big", "d.big", check=False),
                 mentions=("column id", "uint64"))
    assert_error(import_(run_firn, wh, lake, "nope", "d.n", check=False),
                 mentions=("no table main.nope",))
    assert_error(import_(run_firn, wh, lake, "other.j", "d.n2", check=False),
                 mentions=("no table other.j",))
    for t in ("d.j", "d.iv", "d.big", "d.dflt", "d.n", "d.n2"):
        _no_table(run_firn, wh, t)
    lake.close()

    # a SQLite file that is no DuckLake catalog (firn's own catalog), and a
    # file that is no database at all
    for path in (wh / "catalog.db", tmp / "notes.txt"):
        if not path.exists():
            path.write_text("just some text, not a database of any kind\n" * 20)
        res = run_firn("--warehouse", wh, "import", "ducklake", path, "t", "d.x", check=False)
        assert_error(res, mentions=("not a DuckLake catalog",))
        _no_table(run_firn, wh, "d.x")


def test_operations_after_import_leave_ducklake_files(run_firn, tmp):
    lake = Lake(tmp / "lake")
    snaps = history(lake)
    files = lake.files()
    want = lake.rows("t", snaps[-1])[0]
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "d")
    import_(run_firn, wh, lake, "t", "d.t")
    run_firn("--warehouse", wh, "delete", "d.t", "--where", "id < 50")
    run_firn("--warehouse", wh, "delete", "d.t", "--where", "id = 60", "--mode", "copy-on-write")
    run_firn("--warehouse", wh, "compact", "d.t")
    # without the tags every snapshot but the last expires: the DuckLake
    # files only they referenced are outside the table, and stay
    for tag in tags(wh, "d.t"):
        run_firn("--warehouse", wh, "tag", "d.t", tag, "--drop")
    res = json.loads(run_firn("--warehouse", wh, "expire", "d.t", "--retain-last", "1",
                              "--older-than", "now", "--json").stdout)
    assert res["snapshots-expired"] >= len(snaps) - 1
    run_firn("--warehouse", wh, "remove-orphans", "d.t", "--older-than", "now", "--force")
    live = json.loads(run_firn("--warehouse", wh, "files", "d.t", "--json").stdout)
    assert live and all(str(lake.data) not in f["file-path"] for f in live)  # all compacted
    assert ice.firn_rows(run_firn, wh, "d.t") == [r for r in want if r[0] >= 50 and r[0] != 60]
    assert lake.files() == files and all(f.exists() for f in files)
    assert lake.rows("t", snaps[-1])[0] == want  # DuckLake reads its table as before
    lake.close()


@pytest.mark.conformance(("import ducklake", "DuckDB"), ("import ducklake", "PyIceberg"))
def test_import_from_postgresql(run_firn, tmp, pg):
    """The same history in a DuckLake catalog kept in PostgreSQL (firn reads
    it through libpq), and a partitioned table."""
    lake = Lake(tmp / "lake", pg_uri=pg)
    snaps = history(lake)
    first = lake.sql("CREATE TABLE p (id INTEGER, d DATE)")
    lake.sql("ALTER TABLE p SET PARTITIONED BY (year(d), month(d))")
    lake.sql("INSERT INTO p SELECT i, DATE '2021-01-01' + i::INTEGER * 5 FROM range(200) r(i)")
    last = lake.sql("DELETE FROM p WHERE id % 3 = 0")
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "d")
    import_(run_firn, wh, lake, "t", "d.t")
    assert check_versions(run_firn, wh, lake, "t", "d.t", range(snaps[0], snaps[-1] + 1)) \
        == len(snaps) - 1
    import_(run_firn, wh, lake, "p", "d.p")
    check_versions(run_firn, wh, lake, "p", "d.p", range(first, last + 1))
    more = lake.sql("INSERT INTO t VALUES (5000, 'pg', NULL, NULL, NULL, 1)")
    import_(run_firn, wh, lake, "t", "d.t", "--incremental")
    assert f"ducklake-snapshot-{more}" in tags(wh, "d.t")
    assert check_versions(run_firn, wh, lake, "t", "d.t", [more]) == 1
    assert_error(import_(run_firn, wh, lake, "nope", "d.n", check=False),
                 mentions=("no table main.nope",))
    lake.close()
