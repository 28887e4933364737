"""The SQL catalog on PostgreSQL: a real server from Debian's packages,
started and stopped by these tests (scripts/pg_server.sh). firn's tables in
it are read by PyIceberg's SqlCatalog (psycopg2) and DuckDB; eight
processes commit to one table concurrently."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

import ice
from firnrun import REPO, assert_error


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def pg():
    d = Path(tempfile.mkdtemp(prefix="firn-pg-"))
    script = REPO / "scripts" / "pg_server.sh"
    p = subprocess.run(["bash", str(script), "start", str(d), str(free_port())],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"PostgreSQL did not start: {p.stderr}"
    uri = p.stdout.strip().splitlines()[-1]
    yield uri
    subprocess.run(["bash", str(script), "stop", str(d)], capture_output=True, timeout=120)
    shutil.rmtree(d, ignore_errors=True)


def sqlalchemy_uri(uri: str) -> str:
    return uri.replace("postgresql://", "postgresql+psycopg2://", 1)


@pytest.mark.conformance(("PostgreSQL catalog", "PyIceberg"), ("PostgreSQL catalog", "DuckDB"))
def test_tables_in_postgresql(run_firn, tmp, pg):
    wh = tmp / "wh"

    def firn(*args, **kw):
        return run_firn("--warehouse", wh, "--catalog", pg, *args, **kw)
    firn("namespace", "create", "pgns", "--property", "owner=pg")
    firn("create", "pgns.t", "--schema", "id long not null, city string, v double",
         "--partition-by", "city")
    for k in range(2):
        p = tmp / f"in{k}.csv"
        p.write_text("id,city,v\n" + "".join(f"{k * 100 + i},{['Oslo', 'Lima'][i % 2]},{i}.5\n" for i in range(100)))
        firn("append", "pgns.t", p)
    out = tmp / "out.parquet"
    firn("scan", "pgns.t", "--format", "parquet", "--output", out)
    import pyarrow.parquet as pq
    want = ice.rows(pq.read_table(out))
    assert len(want) == 200
    cat = ice.catalog(wh, uri=sqlalchemy_uri(pg))
    assert ("pgns",) in cat.list_namespaces()
    assert cat.load_namespace_properties("pgns")["owner"] == "pg"
    tbl = cat.load_table("pgns.t")
    assert ice.rows(tbl.scan().to_arrow()) == want
    assert ice.duck_rows(tbl.metadata_location) == want
    assert firn("tables").stdout.split() == ["pgns.t"]
    # the SQLite catalog of the same warehouse is another catalog: no such table there
    assert_error(run_firn("--warehouse", wh, "describe", "pgns.t", check=False))
    # a bad URI is one error line
    assert_error(run_firn("--warehouse", wh, "--catalog", "postgresql://nobody@127.0.0.1:1/x",
                          "tables", check=False), mentions=["PostgreSQL"])


@pytest.mark.conformance(("8 concurrent writers, PostgreSQL", "PyIceberg"))
def test_concurrent_appends_postgresql(run_firn, tmp, pg, firn_bin):
    wh = tmp / "wh"

    def firn(*args, **kw):
        return run_firn("--warehouse", wh, "--catalog", pg, *args, **kw)
    firn("namespace", "create", "conc")
    firn("create", "conc.c", "--schema", "w int not null, k int not null",
         "--property", "commit.retry.num-retries=200", "--property", "commit.retry.min-wait-ms=5",
         "--property", "commit.retry.max-wait-ms=200")
    script = (
        "set -e\n"
        "for k in $(seq 1 50); do printf 'w,k\\n%s,%s\\n' $1 $k > $TMPD/in-$1-$k.csv; "
        f"'{firn_bin}' --warehouse '{wh}' --catalog '{pg}' append conc.c $TMPD/in-$1-$k.csv > /dev/null; done\n")
    wh.mkdir(parents=True, exist_ok=True)
    procs = [subprocess.Popen(["bash", "-c", script, "x", str(w)], env={"TMPD": str(wh), "PATH": "/usr/bin:/bin"},
                              stderr=subprocess.PIPE) for w in range(8)]
    outs = [p.communicate(timeout=600)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, outs
    snaps = json.loads(firn("snapshots", "conc.c", "--json").stdout)
    assert len(snaps) == 400
    tbl = ice.catalog(wh, uri=sqlalchemy_uri(pg)).load_table("conc.c")
    got = sorted(ice.rows(tbl.scan().to_arrow()))
    assert got == sorted((w, k) for w in range(8) for k in range(1, 51))
