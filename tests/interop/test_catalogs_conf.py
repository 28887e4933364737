"""Catalog names and PyIceberg's configuration: one catalog.db holding
several catalogs (--catalog-name, FIRN_CATALOG_NAME, firn serve's), each
seeing only its own namespaces and tables, as PyIceberg's SqlCatalog(NAME)
does; the catalogs of ~/.pyiceberg.yaml ($PYICEBERG_HOME first) and of
PYICEBERG_CATALOG__NAME__KEY variables reached by firn --catalog-name NAME,
below flags and FIRN_* variables; a malformed file is one error line; and
firn location, against PyIceberg's metadata location."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

import firnrun
from restserver import firn_server


def run(*args, env=None, cwd=None, check=True) -> firnrun.Result:
    """firn with args in a clean environment: no FIRN_* or PYICEBERG_*
    variables but those of env, and HOME an empty directory unless env
    gives one."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FIRN_", "PYICEBERG_"))}
    base["HOME"] = str(EMPTY_HOME)
    base.update(env or {})
    cmd = [str(firnrun.firn_path())] + [str(a) for a in args]
    p = subprocess.run(cmd, env=base, cwd=cwd, capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    res = firnrun.Result(cmd, p.returncode, p.stdout, p.stderr)
    assert p.returncode >= 0, f"firn crashed: {res.shell}\n{res.stderr}"
    if check:
        assert p.returncode == 0, f"firn exited {p.returncode}: {res.shell}\n{res.stderr}"
    return res


EMPTY_HOME = Path("/nonexistent-home")


@pytest.fixture(autouse=True)
def empty_home(tmp):
    global EMPTY_HOME
    EMPTY_HOME = tmp / "empty-home"
    EMPTY_HOME.mkdir()
    yield


def lines(res) -> list:
    return res.stdout.split()


def csv(path: Path, ids) -> Path:
    path.write_text("id,name\n" + "".join(f"{i},n{i}\n" for i in ids))
    return path


def make_table(tmp, wh, name, table, ids, *extra):
    ns = table.rsplit(".", 1)[0]
    run("--warehouse", wh, "--catalog-name", name, *extra, "namespace", "create", ns)
    run("--warehouse", wh, "--catalog-name", name, *extra, "create", table, "--schema", "id long, name string")
    run("--warehouse", wh, "--catalog-name", name, *extra, "append", table,
        csv(tmp / f"{name}-{table}.csv", ids))


def pyiceberg_catalog(name, wh):
    from pyiceberg.catalog.sql import SqlCatalog
    return SqlCatalog(name, uri=f"sqlite:///{wh}/catalog.db", warehouse=f"file://{wh}")


# ---- several catalogs in one catalog.db -------------------------------------

def test_two_catalog_names_in_one_catalog_db_see_only_their_own(tmp):
    wh = tmp / "wh"
    make_table(tmp, wh, "default", "db.t", range(3))
    make_table(tmp, wh, "prod", "db.t", range(10))          # the same name, another catalog
    make_table(tmp, wh, "prod", "sales.orders", range(5))
    assert lines(run("--warehouse", wh, "tables")) == ["db.t"]
    assert lines(run("--warehouse", wh, "--catalog-name", "prod", "tables")) == ["db.t", "sales.orders"]
    # PyIceberg's (SQLAlchemy's) four-slash form of an absolute path works in --catalog too
    assert lines(run("--catalog", f"sqlite:///{wh}/catalog.db", "--catalog-name", "prod", "tables")) == [
        "db.t", "sales.orders"]
    assert lines(run("--warehouse", wh, "--catalog-name=prod", "namespace", "list")) == ["db", "sales"]
    assert lines(run("--warehouse", wh, "namespace", "list")) == ["db"]
    assert run("--warehouse", wh, "count", "db.t").stdout.strip() == "3"
    assert run("--warehouse", wh, "--catalog-name", "prod", "count", "db.t").stdout.strip() == "10"
    assert run("--warehouse", wh, "count", "db.t", env={"FIRN_CATALOG_NAME": "prod"}).stdout.strip() == "10"
    # a flag wins over the variable
    assert run("--warehouse", wh, "--catalog-name", "default", "count", "db.t",
               env={"FIRN_CATALOG_NAME": "prod"}).stdout.strip() == "3"
    # an unknown name opens the same file and finds nothing (as PyIceberg does)
    assert run("--warehouse", wh, "--catalog-name", "nosuch", "tables").stdout == ""
    firnrun.assert_error(run("--warehouse", wh, "--catalog-name", "nosuch", "count", "db.t", check=False),
                         mentions=["db.t"])
    # dropping in one catalog leaves the other's table of the same name
    run("--warehouse", wh, "--catalog-name", "prod", "drop", "db.t")
    assert lines(run("--warehouse", wh, "--catalog-name", "prod", "tables")) == ["sales.orders"]
    assert run("--warehouse", wh, "count", "db.t").stdout.strip() == "3"
    with sqlite3.connect(wh / "catalog.db") as db:
        rows = sorted(db.execute("SELECT catalog_name, table_namespace, table_name FROM iceberg_tables"))
        names = {r[0] for r in db.execute("SELECT catalog_name FROM iceberg_namespace_properties")}
    assert rows == [("default", "db", "t"), ("prod", "sales", "orders")]
    assert names == {"default", "prod"}


def test_an_empty_catalog_name_is_a_usage_error(tmp):
    res = run("--warehouse", tmp / "wh", "--catalog-name", "", "tables", check=False)
    firnrun.assert_error(res, code=2, mentions=["--catalog-name"])


def test_pyiceberg_sqlcatalog_of_the_name_sees_firns_tables(tmp):
    wh = tmp / "wh"
    make_table(tmp, wh, "prod", "db.t", range(7))
    prod, default = pyiceberg_catalog("prod", wh), pyiceberg_catalog("default", wh)
    assert prod.list_tables("db") == [("db", "t")]
    assert default.list_namespaces() == []
    t = prod.load_table("db.t")
    assert sorted(t.scan().to_arrow()["id"].to_pylist()) == list(range(7))
    loc = run("--warehouse", wh, "--catalog-name", "prod", "location", "db.t").stdout
    assert loc == t.metadata_location + "\n"
    # PyIceberg writes to prod; firn's prod sees it, its default does not
    import pyarrow as pa
    t.append(pa.table({"id": pa.array([100], pa.int64()), "name": ["py"]}))
    assert run("--warehouse", wh, "--catalog-name", "prod", "count", "db.t").stdout.strip() == "8"
    assert run("--warehouse", wh, "tables").stdout == ""
    pyiceberg_catalog("other", wh).create_namespace("o")
    assert lines(run("--warehouse", wh, "--catalog-name", "other", "namespace", "list")) == ["o"]


def test_firn_serve_serves_one_catalog_name(tmp):
    wh = tmp / "wh"
    make_table(tmp, wh, "default", "db.d", range(2))
    make_table(tmp, wh, "prod", "db.p", range(4))
    with firn_server(firnrun.firn_path(), wh, tmp / "serve.log", extra=("--catalog-name", "prod")) as s:
        assert lines(run("--catalog", s.url, "tables")) == ["db.p"]
        assert run("--catalog", s.url, "count", "db.p").stdout.strip() == "4"
        from pyiceberg.catalog import load_catalog
        rest = load_catalog("r", type="rest", uri=s.url)
        assert rest.list_tables("db") == [("db", "p")]
        run("--catalog", s.url, "create", "db.new", "--schema", "x int")
    assert lines(run("--warehouse", wh, "--catalog-name", "prod", "tables")) == ["db.new", "db.p"]
    assert lines(run("--warehouse", wh, "tables")) == ["db.d"]


# ---- firn location -----------------------------------------------------------

def test_location_text_and_json(tmp):
    wh = tmp / "wh"
    make_table(tmp, wh, "default", "db.t", range(3))
    t = pyiceberg_catalog("default", wh).load_table("db.t")
    assert run("--warehouse", wh, "location", "db.t").stdout == t.metadata_location + "\n"
    got = json.loads(run("--warehouse", wh, "location", "db.t", "--json").stdout)
    assert got == {"table": "db.t", "metadata-location": t.metadata_location, "location": t.location()}
    # pyiceberg location prints the table's own location
    out = subprocess.run([str(firnrun.REPO / ".venv" / "bin" / "pyiceberg"), "--uri",
                          f"sqlite:///{wh}/catalog.db", "location", "db.t"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.strip() == got["location"]
    # a commit moves it
    run("--warehouse", wh, "delete", "db.t", "--where", "id = 1")
    after = run("--warehouse", wh, "location", "db.t").stdout.strip()
    assert after != t.metadata_location and after.endswith(".metadata.json")
    firnrun.assert_error(run("--warehouse", wh, "location", "db.nosuch", check=False), mentions=["db.nosuch"])
    assert run("--warehouse", wh, "location", check=False).returncode == 2


# ---- PyIceberg's configuration -------------------------------------------------

def yaml(dir: Path, text: str) -> Path:
    dir.mkdir(parents=True, exist_ok=True)
    p = dir / ".pyiceberg.yaml"
    p.write_text(text)
    return p


def two_warehouses(tmp):
    a, b = tmp / "wa", tmp / "wb"
    make_table(tmp, a, "default", "db.a", range(2))
    make_table(tmp, b, "lake", "db.b", range(5))
    return a, b


def test_pyiceberg_yaml_catalogs_reached_by_name(tmp):
    a, b = two_warehouses(tmp)
    home = tmp / "home"
    yaml(home, f"""# PyIceberg's catalogs
catalog:
  default:
    uri: sqlite:///{a}/catalog.db
    warehouse: file://{a}
  Lake:                       # names and keys are case-insensitive
    URI: "sqlite:///{b}/catalog.db"
    warehouse: '{b}'
    type: sql
""")
    env = {"HOME": str(home)}
    assert lines(run("tables", env=env)) == ["db.a"]
    assert lines(run("--catalog-name", "lake", "tables", env=env)) == ["db.b"]
    assert lines(run("tables", env={**env, "FIRN_CATALOG_NAME": "lake"})) == ["db.b"]
    # PyIceberg agrees
    code = ("from pyiceberg.catalog import load_catalog\n"
            "print(load_catalog('lake').list_tables('db'))")
    py = subprocess.run([str(firnrun.REPO / ".venv" / "bin" / "python"), "-c", code], env={
        **{k: v for k, v in os.environ.items() if not k.startswith("PYICEBERG_")}, **env},
        capture_output=True, text=True, timeout=60, check=True)
    assert py.stdout.strip() == "[('db', 'b')]"
    # writes go to the catalog's warehouse
    run("--catalog-name", "lake", "create", "db.c", "--schema", "x int", env=env)
    assert (b / "db.db" / "c" / "metadata").is_dir()
    # flags and FIRN_* win: the file is not read then
    assert lines(run("--warehouse", b, "--catalog-name", "lake", "tables", env=env)) == ["db.b", "db.c"]
    assert lines(run("--catalog-name", "lake", "tables", env={**env, "FIRN_WAREHOUSE": str(a)})) == []
    assert lines(run("--catalog", f"sqlite://{a}/catalog.db", "tables", env=env)) == ["db.a"]
    # an unknown name is firn's own default catalog (./warehouse), not an error
    cwd = tmp / "cwd"
    cwd.mkdir()
    res = run("--catalog-name", "nosuch", "tables", env=env, cwd=cwd, check=False)
    firnrun.assert_error(res, mentions=["no catalog at warehouse/catalog.db"])


def test_pyiceberg_home_wins_then_home_then_the_current_directory(tmp):
    a, b = two_warehouses(tmp)
    conf = lambda wh: f"catalog:\n  lake:\n    uri: sqlite:///{wh}/catalog.db\n"  # noqa: E731
    yaml(tmp / "home", conf(a))
    yaml(tmp / "pyhome", conf(b))
    yaml(tmp / "cwd", conf(b))
    assert lines(run("--catalog-name", "lake", "tables", env={
        "HOME": str(tmp / "home"), "PYICEBERG_HOME": str(tmp / "pyhome")})) == ["db.b"]
    # the first file found is the only one read
    assert lines(run("--catalog-name", "lake", "tables", env={"HOME": str(tmp / "home")},
                     cwd=tmp / "cwd")) == []  # home's lake is a's catalog.db, no 'lake' tables
    assert lines(run("--catalog-name", "lake", "tables", cwd=tmp / "cwd")) == ["db.b"]
    # SQLAlchemy's sqlite:///REL is relative to the current directory
    (tmp / "cwd" / ".pyiceberg.yaml").write_text("catalog:\n  lake:\n    uri: sqlite:///../wb/catalog.db\n")
    assert lines(run("--catalog-name", "lake", "tables", cwd=tmp / "cwd")) == ["db.b"]


def test_environment_variable_catalogs(tmp):
    a, b = two_warehouses(tmp)
    env = {"PYICEBERG_CATALOG__LAKE__URI": f"sqlite:///{b}/catalog.db"}
    assert lines(run("--catalog-name", "lake", "tables", env=env)) == ["db.b"]
    # over the file's value
    yaml(tmp / "home", f"catalog:\n  lake:\n    uri: sqlite:///{a}/catalog.db\n")
    assert lines(run("--catalog-name", "lake", "tables", env={**env, "HOME": str(tmp / "home")})) == ["db.b"]
    assert lines(run("--catalog-name", "lake", "tables", env={"HOME": str(tmp / "home")})) == []
    # the default catalog from variables, lower-cased as PyIceberg reads them
    assert lines(run("tables", env={"pyiceberg_catalog__default__uri": f"sqlite:///{a}/catalog.db"})) == ["db.a"]
    # s3.* keys reach firn's storage settings (PYICEBERG_CATALOG__LAKE__S3__RETRIES is s3.retries)
    res = run("--catalog-name", "lake", "tables", check=False,
              env={**env, "PYICEBERG_CATALOG__LAKE__S3__RETRIES": "many"})
    firnrun.assert_error(res, mentions=["s3.retries"])
    # an explicit --conf wins over the catalog's key (which is then not even read)
    assert lines(run("--conf", "s3.retries=3", "--catalog-name", "lake", "tables",
                     env={**env, "PYICEBERG_CATALOG__LAKE__S3__RETRIES": "many"})) == ["db.b"]


def test_rest_catalog_with_token_from_the_config(tmp):
    wh = tmp / "wh"
    make_table(tmp, wh, "default", "db.t", range(6))
    with firn_server(firnrun.firn_path(), wh, tmp / "serve.log", extra=("--token", "s3cret")) as s:
        home = tmp / "home"
        yaml(home, f"catalog:\n  rest:\n    uri: {s.url}\n    token: s3cret\n")
        assert run("--catalog-name", "rest", "count", "db.t", env={"HOME": str(home)}).stdout.strip() == "6"
        yaml(home, f"catalog:\n  rest:\n    uri: {s.url}\n    token: wrong\n")
        res = run("--catalog-name", "rest", "count", "db.t", env={"HOME": str(home)}, check=False)
        firnrun.assert_error(res)
        # FIRN_TOKEN wins over the file's token
        assert run("--catalog-name", "rest", "count", "db.t",
                   env={"HOME": str(home), "FIRN_TOKEN": "s3cret"}).stdout.strip() == "6"


@pytest.mark.parametrize("text,mentions", [
    ("catalog:\n  lake:\n\turi: x\n", [".pyiceberg.yaml:3", "tab"]),
    ("catalog:\n  lake:\n    - uri: x\n", [".pyiceberg.yaml:3", "list"]),
    ("catalog:\n  lake:\n    uri: 'sqlite:///x\n", [".pyiceberg.yaml:3", "quote"]),
    ("catalog:\n  lake:\n    uri: a\n    uri: b\n", [".pyiceberg.yaml:4", "twice"]),
    ("catalog:\n  lake:\n    uri: a\n      more: b\n", [".pyiceberg.yaml:4", "indent"]),
    ("catalog:\n  lake: {uri: a}\n", [".pyiceberg.yaml:2", "flow"]),
    ("catalog:\n  lake:\n    uri\n", [".pyiceberg.yaml:3", "key: value"]),
    ("catalog: lake\n", ["catalog"]),
    ("catalog:\n  lake: sqlite:///x\n", ["catalog.lake", "map"]),
    ("catalog:\n  lake:\n    type: glue\n    uri: x\n", ["glue"]),
    ("catalog:\n  lake:\n    warehouse: /tmp/x\n", ["lake", "no uri"]),
])
def test_a_bad_configuration_is_one_error_line(tmp, text, mentions):
    home = tmp / "home"
    p = yaml(home, text)
    res = run("--catalog-name", "lake", "tables", env={"HOME": str(home)}, check=False)
    msg = firnrun.assert_error(res, mentions=mentions)
    assert str(p) in msg or "catalog" in msg
    # not read by commands that open no catalog, nor when the catalog is given
    firnrun.assert_error(run("--catalog-name", "lake", "nosuch", env={"HOME": str(home)}, check=False),
                         code=2, mentions=["unknown command"])
    assert run("--catalog-name", "lake", "version", env={"HOME": str(home)}).stdout.startswith("firn ")
    run("--warehouse", tmp / "wh", "--catalog-name", "lake", "namespace", "create", "n", env={"HOME": str(home)})
    assert run("--warehouse", tmp / "wh", "--catalog-name", "lake", "namespace", "list",
               env={"HOME": str(home)}).stdout == "n\n"


def test_help_documents_the_catalog_settings():
    env = run("help", "environment").stdout
    for v in ("FIRN_WAREHOUSE", "FIRN_CATALOG", "FIRN_CATALOG_NAME", "FIRN_TOKEN", "PYICEBERG_HOME",
              "PYICEBERG_CATALOG__NAME__KEY", ".pyiceberg.yaml"):
        assert v in env, f"firn help environment does not mention {v}"
    assert "--catalog-name NAME" in run("--help").stdout
    assert "  --catalog-name NAME" in run("serve", "--help").stdout
    assert run("location", "--help").stdout.startswith("usage: firn location TABLE [--json]\n")


@pytest.fixture(scope="module")
def pg():
    """A PostgreSQL server from Debian's packages (scripts/pg_server.sh)."""
    import shutil
    import socket
    import tempfile
    d = Path(tempfile.mkdtemp(prefix="firn-pgconf-"))
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    script = firnrun.REPO / "scripts" / "pg_server.sh"
    p = subprocess.run(["bash", str(script), "start", str(d), str(port)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, f"PostgreSQL did not start: {p.stderr}"
    yield p.stdout.strip().splitlines()[-1]
    subprocess.run(["bash", str(script), "stop", str(d)], capture_output=True, timeout=120)
    shutil.rmtree(d, ignore_errors=True)


def test_pyiceberg_postgresql_catalogs_by_name(tmp, pg):
    """PyIceberg's SQLAlchemy URI (postgresql+psycopg2://) in .pyiceberg.yaml:
    firn and PyIceberg reach the same catalogs of one PostgreSQL database."""
    wh = tmp / "wh"
    home = tmp / "home"
    sa = pg.replace("postgresql://", "postgresql+psycopg2://", 1)
    yaml(home, f"catalog:\n  pga:\n    uri: {sa}\n    warehouse: file://{wh}\n"
               f"  pgb:\n    uri: {sa}\n    warehouse: file://{wh}\n")
    env = {"HOME": str(home)}
    for name, n in (("pga", 3), ("pgb", 5)):
        run("--catalog-name", name, "namespace", "create", "db", env=env)
        run("--catalog-name", name, "create", "db.t", "--schema", "id long, name string", env=env)
        run("--catalog-name", name, "append", "db.t", csv(tmp / f"{name}.csv", range(n)), env=env)
    assert run("--catalog-name", "pga", "count", "db.t", env=env).stdout.strip() == "3"
    assert run("--catalog-name", "pgb", "count", "db.t", env=env).stdout.strip() == "5"
    code = ("from pyiceberg.catalog import load_catalog\n"
            "for n in ('pga', 'pgb'):\n"
            "    print(n, load_catalog(n).load_table('db.t').scan().to_arrow().num_rows)")
    py = subprocess.run([str(firnrun.REPO / ".venv" / "bin" / "python"), "-c", code], env={
        **{k: v for k, v in os.environ.items() if not k.startswith("PYICEBERG_")}, **env},
        capture_output=True, text=True, timeout=60)
    assert py.returncode == 0, py.stderr[-3000:]
    assert py.stdout.split("\n")[:2] == ["pga 3", "pgb 5"]
