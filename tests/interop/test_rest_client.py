"""firn as a REST catalog client (`--catalog http://...`), against `firn serve`
and against Iceberg's Java reference RESTCatalogServer; and DuckDB and
PyIceberg sharing tables with firn through `firn serve`. What one side wrote,
the others read identically."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pyarrow as pa
import pytest

import firnrun
import ice
from restserver import firn_server, java_server


def write_csv(path: Path, rows, header="id,name") -> Path:
    path.write_text(header + "\n" + "".join(f"{a},{b}\n" for a, b in rows))
    return path


def rows_of(res) -> list:
    """(id, name) tuples of `firn scan --format jsonl`, sorted by id."""
    out = [json.loads(line) for line in res.stdout.splitlines() if line.strip()]
    return sorted((r["id"], r["name"]) for r in out)


def scan(cat: list, table: str, *extra) -> list:
    return rows_of(firnrun.run(*cat, "scan", table, "--format", "jsonl", *extra))


@pytest.fixture
def served(tmp_path):
    wh = tmp_path / "wh"
    with firn_server(firnrun.firn_path(), wh, tmp_path / "serve.log") as s:
        yield s, wh


def duck_attach(url: str, token: str | None = None):
    """DuckDB with httpfs, avro and iceberg loaded from their PyPI packages,
    the REST catalog at url attached as `ice`."""
    import duckdb
    import duckdb_extension_httpfs
    con = ice.duck()
    path = (Path(duckdb_extension_httpfs.__file__).parent / "extensions" / f"v{duckdb.__version__}"
            / "httpfs.duckdb_extension")
    con.execute(f"LOAD '{path}'")
    auth = f", TOKEN '{token}'" if token else ", AUTHORIZATION_TYPE 'none'"
    con.execute(f"ATTACH 'wh' AS ice (TYPE iceberg, ENDPOINT '{url}'{auth})")
    return con


@pytest.mark.conformance(("REST catalog: firn serve", "PyIceberg"), ("REST client: firn against firn serve", "firn"))
def test_cli_life_cycle_through_firn_serve(served, tmp_path):
    s, wh = served
    rest = ["--catalog", s.url]
    local = ["--warehouse", str(wh)]
    firnrun.run(*rest, "namespace", "create", "sales")
    firnrun.run(*rest, "create", "sales.orders", "--schema", "id long, name string",
                "--partition-by", "bucket(4, id)")
    assert firnrun.run(*rest, "tables", "sales").stdout.split() == ["sales.orders"]
    a = write_csv(tmp_path / "a.csv", [(i, f"n{i}") for i in range(1, 11)])
    b = write_csv(tmp_path / "b.csv", [(i, f"m{i}") for i in range(11, 16)])
    firnrun.run(*rest, "append", "sales.orders", a)
    firnrun.run(*rest, "append", "sales.orders", b)
    want = [(i, f"n{i}") for i in range(1, 11)] + [(i, f"m{i}") for i in range(11, 16)]
    assert scan(rest, "sales.orders") == want
    # the server wrote the metadata into its warehouse: the SQL catalog there agrees
    assert scan(local, "sales.orders") == want
    firnrun.run(*rest, "delete", "sales.orders", "--where", "id <= 3")
    firnrun.run(*rest, "update", "sales.orders", "--set", "name = 'x'", "--where", "id = 4")
    m = write_csv(tmp_path / "m.csv", [(5, "merged"), (99, "new")])
    firnrun.run(*rest, "merge", "sales.orders", m, "--on", "id")
    want = sorted([(4, "x"), (5, "merged"), (99, "new")] + [(i, f"n{i}") for i in range(6, 11)]
                  + [(i, f"m{i}") for i in range(11, 16)])
    assert scan(rest, "sales.orders") == want
    firnrun.run(*rest, "compact", "sales.orders")
    assert scan(rest, "sales.orders") == want
    snaps = json.loads(firnrun.run(*rest, "snapshots", "sales.orders", "--json").stdout)
    first = snaps[1]["snapshot-id"]  # after the second append
    firnrun.run(*rest, "tag", "sales.orders", "before", "--snapshot", str(first))
    assert len(scan(rest, "sales.orders", "--ref", "before")) == 15
    firnrun.run(*rest, "alter", "sales.orders", "add-column", "note string")
    firnrun.run(*rest, "rollback", "sales.orders", "--to", str(first))
    assert len(scan(local, "sales.orders")) == 15
    # PyIceberg through the same server reads what firn's client committed
    from pyiceberg.catalog import rest as pyrest
    cat = pyrest.RestCatalog("firn", uri=s.url)
    t = cat.load_table("sales.orders")
    got = sorted(zip(*t.scan().to_arrow().select(["id", "name"]).to_pydict().values()))
    assert got == [(i, f"n{i}") for i in range(1, 11)] + [(i, f"m{i}") for i in range(11, 16)]
    assert [f.name for f in t.schema().fields] == ["id", "name", "note"]
    firnrun.run(*rest, "rename", "sales.orders", "sales.old")
    assert firnrun.run(*rest, "tables", "sales").stdout.split() == ["sales.old"]
    firnrun.run(*rest, "drop", "sales.old", "--purge")
    assert firnrun.run(*rest, "tables", "sales").stdout.split() == []
    assert not list((wh / "sales.db").rglob("*.parquet"))
    firnrun.run(*rest, "namespace", "drop", "sales")


def test_cli_errors_through_firn_serve(served, tmp_path):
    s, _ = served
    rest = ["--catalog", s.url]
    res = firnrun.run(*rest, "create", "nope.t", "--schema", "id long", check=False)
    firnrun.assert_error(res, mentions=["nope"])
    firnrun.run(*rest, "namespace", "create", "n")
    firnrun.run(*rest, "create", "n.t", "--schema", "id long")
    res = firnrun.run(*rest, "create", "n.t", "--schema", "id long", check=False)
    firnrun.assert_error(res, mentions=["exists"])
    res = firnrun.run(*rest, "scan", "n.missing", check=False)
    firnrun.assert_error(res, mentions=["n.missing"])
    res = firnrun.run(*rest, "create", "n.u", "--schema", "id long", "--location",
                      str(tmp_path / "outside"), check=False)
    firnrun.assert_error(res, mentions=["outside the warehouse"])
    res = firnrun.run("--catalog", "http://127.0.0.1:1", "tables", check=False)
    firnrun.assert_error(res, mentions=["/v1/config"])


def test_cli_with_tokens(tmp_path):
    wh = tmp_path / "wh"
    with firn_server(firnrun.firn_path(), wh, tmp_path / "serve.log",
                     extra=["--credential", "etl:s3cret"]) as s:
        res = firnrun.run("--catalog", s.url, "tables", check=False)
        firnrun.assert_error(res, mentions=["401"])
        res = firnrun.run("--catalog", s.url, "--credential", "etl:wrong", "tables", check=False)
        firnrun.assert_error(res, mentions=["401"])
        firnrun.run("--catalog", s.url, "--credential", "etl:s3cret", "namespace", "create", "a")
        assert firnrun.run("--catalog", s.url, "--credential", "etl:s3cret",
                           "namespace", "list").stdout.split() == ["a"]
    with firn_server(firnrun.firn_path(), wh, tmp_path / "serve2.log",
                     extra=["--token", "tok123"]) as s:
        res = firnrun.run("--catalog", s.url, "--token", "bad", "tables", check=False)
        firnrun.assert_error(res, mentions=["401"])
        out = firnrun.run("--catalog", s.url, "--token", "tok123", "namespace", "list").stdout
        assert out.split() == ["a"]


def test_concurrent_clients_lose_nothing(served, tmp_path):
    """Two firn clients append at once through the server: every commit
    lands once (409s are retried by the client with the change recomputed)."""
    s, wh = served
    rest = ["--catalog", s.url]
    firnrun.run(*rest, "namespace", "create", "c")
    firnrun.run(*rest, "create", "c.t", "--schema", "id long, name string")
    errors = []

    def worker(k):
        for i in range(8):
            f = write_csv(tmp_path / f"w{k}-{i}.csv", [(k * 100 + i, f"w{k}")])
            res = firnrun.run(*rest, "append", "c.t", f, check=False, timeout=120)
            if res.returncode != 0:
                errors.append(res.stderr)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = scan(rest, "c.t")
    assert got == sorted((k * 100 + i, f"w{k}") for k in range(2) for i in range(8))
    snaps = json.loads(firnrun.run(*rest, "snapshots", "c.t", "--json").stdout)
    assert len(snaps) == 16


@pytest.mark.conformance(("REST catalog: firn serve", "DuckDB"))
def test_duckdb_and_firn_share_tables_through_firn_serve(served, tmp_path):
    s, wh = served
    rest = ["--catalog", s.url]
    con = duck_attach(s.url)
    con.execute("CREATE SCHEMA ice.dd")
    con.execute("CREATE TABLE ice.dd.x (id BIGINT, name VARCHAR)")
    con.execute("INSERT INTO ice.dd.x VALUES (1, 'one'), (2, 'two'), (3, 'three')")
    assert scan(rest, "dd.x") == [(1, "one"), (2, "two"), (3, "three")]
    con.execute("DELETE FROM ice.dd.x WHERE id = 2")
    assert scan(rest, "dd.x") == [(1, "one"), (3, "three")]
    con.execute("UPDATE ice.dd.x SET name = 'uno' WHERE id = 1")
    assert scan(rest, "dd.x") == [(1, "uno"), (3, "three")]
    con.execute("MERGE INTO ice.dd.x AS t USING (SELECT 3 AS id, 'tres' AS name UNION ALL "
                "SELECT 4, 'four') AS s ON t.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name "
                "WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.name)")
    assert scan(rest, "dd.x") == [(1, "uno"), (3, "tres"), (4, "four")]
    con.execute("ALTER TABLE ice.dd.x ADD COLUMN score INTEGER")
    desc = json.loads(firnrun.run(*rest, "describe", "dd.x", "--json").stdout)
    assert [c["name"] for c in desc["schema"]] == ["id", "name", "score"]
    con.execute("DELETE FROM ice.dd.x WHERE id = 4")
    # firn's writes read back in DuckDB
    firnrun.run(*rest, "append", "dd.x", write_csv(tmp_path / "d.csv", [(7, "seven")]))
    firnrun.run(*rest, "delete", "dd.x", "--where", "id = 3")
    con2 = duck_attach(s.url)
    assert con2.execute("SELECT id, name FROM ice.dd.x ORDER BY id").fetchall() == [
        (1, "uno"), (7, "seven")]
    # a table firn created, DuckDB writes into
    firnrun.run(*rest, "create", "dd.f", "--schema", "id long, name string")
    con2.execute("INSERT INTO ice.dd.f VALUES (10, 'ten')")
    assert scan(rest, "dd.f") == [(10, "ten")]
    assert scan(["--warehouse", str(wh)], "dd.f") == [(10, "ten")]
    con2.execute("DROP TABLE ice.dd.f")
    assert firnrun.run(*rest, "tables", "dd").stdout.split() == ["dd.x"]


@pytest.mark.conformance(("REST client: firn against Java RESTCatalogServer", "PyIceberg"))
def test_cli_against_the_java_reference_server(tmp_path):
    """firn's REST client against Iceberg's own RESTCatalogServer: its
    commits are accepted there and PyIceberg reads them back."""
    wh = tmp_path / "jwh"
    wh.mkdir()
    with java_server(wh, tmp_path / "java.log") as s:
        rest = ["--catalog", s.url]
        firnrun.run(*rest, "namespace", "create", "j")
        firnrun.run(*rest, "create", "j.t", "--schema", "id long, name string",
                    "--partition-by", "id")
        firnrun.run(*rest, "append", "j.t", write_csv(tmp_path / "a.csv", [(1, "a"), (2, "b")]))
        firnrun.run(*rest, "append", "j.t", write_csv(tmp_path / "b.csv", [(3, "c")]))
        firnrun.run(*rest, "delete", "j.t", "--where", "id = 2")
        firnrun.run(*rest, "alter", "j.t", "add-column", "x int")
        assert scan(rest, "j.t") == [(1, "a"), (3, "c")]
        from pyiceberg.catalog import rest as pyrest
        t = pyrest.RestCatalog("java", uri=s.url).load_table("j.t")
        got = t.scan().to_arrow()
        assert sorted(zip(got["id"].to_pylist(), got["name"].to_pylist())) == [(1, "a"), (3, "c")]
        assert [f.name for f in t.schema().fields] == ["id", "name", "x"]
        assert len(t.metadata.snapshots) == 3
        # PyIceberg writes through the Java server; firn reads it
        t.append(pa.table({"id": pa.array([9], pa.int64()), "name": ["z"],
                           "x": pa.array([None], pa.int32())}))
        assert scan(rest, "j.t") == [(1, "a"), (3, "c"), (9, "z")]


def test_purge_through_the_server_deletes_only_the_tables_files(served, tmp_path):
    """DELETE ...?purgeRequested=true deletes the files the table's metadata
    references under its location, and nothing else: not a foreign file in
    its directory, not a neighbour's files, not an input."""
    s, wh = served
    rest = ["--catalog", s.url]
    firnrun.run(*rest, "namespace", "create", "p")
    firnrun.run(*rest, "create", "p.a", "--schema", "id long, name string")
    firnrun.run(*rest, "create", "p.b", "--schema", "id long, name string")
    src = write_csv(tmp_path / "in.csv", [(1, "x"), (2, "y")])
    firnrun.run(*rest, "append", "p.a", src)
    firnrun.run(*rest, "append", "p.b", src)
    loc = json.loads(firnrun.run(*rest, "describe", "p.a", "--json").stdout)["location"]
    foreign = Path(loc) / "data" / "keep-me.parquet"
    foreign.write_bytes(b"not the table's")
    firnrun.run(*rest, "drop", "p.a", "--purge")
    assert foreign.read_bytes() == b"not the table's"
    assert sorted(p.name for p in Path(loc).rglob("*") if p.is_file()) == ["keep-me.parquet"]
    assert src.exists()
    assert scan(rest, "p.b") == [(1, "x"), (2, "y")]
    # pyarrow, not firn's reader, judges the neighbour's data files
    import pyarrow.parquet as pq
    bloc = json.loads(firnrun.run(*rest, "describe", "p.b", "--json").stdout)["location"]
    files = list(Path(bloc).rglob("*.parquet"))
    assert sum(pq.read_table(f).num_rows for f in files) == 2


def test_a_dropped_tables_directory_is_reused_only_through_the_server(served, tmp_path):
    """firn's own create refuses a directory a dropped table left files in (a
    later remove-orphans of the new table would delete them); a REST client
    may name it, as Java's clients do."""
    s, wh = served
    local = ["--warehouse", str(wh)]
    firnrun.run(*local, "namespace", "create", "r")
    loc = wh / "r.db" / "old"
    firnrun.run(*local, "create", "r.old", "--schema", "id long", "--location", loc)
    (tmp_path / "o.csv").write_text("id\n1\n")
    firnrun.run(*local, "append", "r.old", tmp_path / "o.csv")
    firnrun.run(*local, "drop", "r.old")  # no purge: its files stay
    left = sorted(p for p in loc.rglob("*") if p.is_file())
    assert left
    res = firnrun.run(*local, "create", "r.new", "--schema", "id long", "--location", loc,
                      check=False)
    firnrun.assert_error(res, mentions=["not empty"])
    firnrun.run("--catalog", s.url, "create", "r.new", "--schema", "id long", "--location", loc)
    assert all(p.exists() for p in left)
