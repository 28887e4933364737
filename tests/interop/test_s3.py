"""Tables on S3 (moto's server on 127.0.0.1, behind a counting,
fault-injecting proxy): firn's whole life cycle on s3:// with a local
SQLite catalog; PyIceberg and DuckDB read what firn wrote and firn reads
PyIceberg's appends; faults are retried or fail cleanly; bad settings give
one error line and write nothing."""
from __future__ import annotations

import itertools
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ice
from firnrun import assert_error
from s3server import KEY, REGION, SECRET, Moto, Proxy, Rule

_ids = itertools.count()


@pytest.fixture(scope="session")
def moto():
    m = Moto()
    yield m
    m.stop()


@pytest.fixture(scope="session")
def proxy(moto):
    p = Proxy(moto.port)
    yield p
    p.stop()


@pytest.fixture
def s3(moto, proxy, tmp):
    """A fresh bucket, and firn(...) running with the warehouse in it and
    the SQLite catalog in tmp, through the proxy."""
    proxy.reset()
    bucket = f"bkt-{next(_ids)}-{tmp.name[-20:].lower().replace('_', '-')}".rstrip("-")[:60]
    moto.client().create_bucket(Bucket=bucket)

    class S3:
        pass
    s = S3()
    s.bucket, s.tmp, s.moto, s.proxy = bucket, tmp, moto, proxy
    s.catalog = tmp / "catalog.db"
    s.wh = f"s3://{bucket}/wh"
    s.conf = ["--conf", f"s3.endpoint={proxy.endpoint}", "--conf", f"s3.access-key-id={KEY}",
              "--conf", f"s3.secret-access-key={SECRET}", "--conf", f"s3.region={REGION}"]
    s.keys = lambda prefix="": sorted(o["Key"] for o in moto.client().list_objects_v2(
        Bucket=bucket, Prefix=prefix).get("Contents", []))
    return s


def boto3_via_proxy(s):
    import boto3
    return boto3.client("s3", endpoint_url=s.proxy.endpoint, aws_access_key_id=KEY,
                        aws_secret_access_key=SECRET, region_name=REGION)


def firn(run_firn, s, *args, **kw):
    return run_firn(*s.conf, "--catalog", f"sqlite:///{s.catalog}", "--warehouse", s.wh, *args, **kw)


def write_csv(path: Path, start: int, n: int):
    with open(path, "w") as f:
        f.write("id,name,qty\n")
        for i in range(start, start + n):
            f.write(f"{i},n{i % 7},{i % 5}\n")
    return path


def count(run_firn, s, *args) -> int:
    return int(firn(run_firn, s, "count", "db.t", *args).stdout.strip())


def make_table(run_firn, s, appends=2, rows=100):
    firn(run_firn, s, "namespace", "create", "db")
    firn(run_firn, s, "create", "db.t", "--schema", "id long not null, name string, qty int",
         "--partition-by", "bucket(2, id)")
    for k in range(appends):
        firn(run_firn, s, "append", "db.t", write_csv(s.tmp / f"in{k}.csv", k * rows, rows))


def snapshots(run_firn, s):
    return json.loads(firn(run_firn, s, "snapshots", "db.t", "--json").stdout)


def describe(run_firn, s):
    return json.loads(firn(run_firn, s, "describe", "db.t", "--json").stdout)


def test_life_cycle_on_s3(run_firn, s3):
    s = s3
    make_table(run_firn, s)
    assert count(run_firn, s) == 200
    first = snapshots(run_firn, s)[0]["snapshot-id"]
    assert count(run_firn, s, "--snapshot", str(first)) == 100
    d = describe(run_firn, s)
    assert d["location"] == f"{s.wh}/db.db/t"
    assert d["metadata-location"].startswith(f"{s.wh}/db.db/t/metadata/")
    keys = s.keys("wh/db.db/t/")
    assert any(k.startswith("wh/db.db/t/data/") and k.endswith(".parquet") for k in keys)
    assert not (s.tmp / "s3:").exists()
    # deletes in both modes, update, merge
    firn(run_firn, s, "delete", "db.t", "--where", "id < 10", "--mode", "merge-on-read")
    firn(run_firn, s, "delete", "db.t", "--where", "id >= 190", "--mode", "copy-on-write")
    assert count(run_firn, s) == 180
    firn(run_firn, s, "update", "db.t", "--set", "qty = 100", "--where", "id = 50")
    firn(run_firn, s, "merge", "db.t", write_csv(s.tmp / "m.csv", 195, 10), "--on", "id")
    out = s.tmp / "all.parquet"
    firn(run_firn, s, "scan", "db.t", "--format", "parquet", "--output", out)
    t = pq.read_table(out)
    ids = sorted(t.column("id").to_pylist())
    assert ids == list(range(10, 190)) + list(range(195, 205))
    assert t.filter(pa.compute.equal(t.column("id"), 50)).column("qty").to_pylist() == [100]
    # maintenance: compact, expire, remove-orphans (a stray object goes), maintain
    firn(run_firn, s, "compact", "db.t")
    assert count(run_firn, s) == 190
    s.moto.client().put_object(Bucket=s.bucket, Key="wh/db.db/t/data/stray.parquet", Body=b"x")
    firn(run_firn, s, "expire", "db.t", "--retain-last", "1", "--older-than", "2999-01-01T00:00:00")
    assert len(snapshots(run_firn, s)) == 1
    r = firn(run_firn, s, "remove-orphans", "db.t", "--older-than", "2999-01-01T00:00:00", "--force")
    assert "stray.parquet" in r.stdout
    assert "wh/db.db/t/data/stray.parquet" not in s.keys("wh/")
    firn(run_firn, s, "maintain", "db.t")
    assert count(run_firn, s) == 190
    # every data file the table names is in the bucket, and nothing else under data/
    files = json.loads(firn(run_firn, s, "files", "db.t", "--json").stdout)
    named = sorted(f["file-path"] for f in files)
    assert all(p.startswith(f"s3://{s.bucket}/") for p in named)
    present = set(s.keys("wh/db.db/t/data/"))
    assert {p[len(f"s3://{s.bucket}/"):] for p in named} <= present
    # parquet commands read s3:// files directly; s3a:// names the same object
    r = firn(run_firn, s, "parquet", "schema", named[0].replace("s3://", "s3a://"))
    assert "id: long not null" in r.stdout


def pyiceberg_catalog(s):
    from pyiceberg.catalog.sql import SqlCatalog
    return SqlCatalog("default", uri=f"sqlite:///{s.catalog}", warehouse=s.wh, **{
        "s3.endpoint": s.proxy.endpoint, "s3.access-key-id": KEY, "s3.secret-access-key": SECRET,
        "s3.region": REGION, "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO"})


def test_pyiceberg_reads_and_appends(run_firn, s3):
    s = s3
    make_table(run_firn, s)
    firn(run_firn, s, "delete", "db.t", "--where", "id < 5", "--mode", "merge-on-read")
    want = ice.rows(pq.read_table(scan_to(run_firn, s)))
    cat = pyiceberg_catalog(s)
    t = cat.load_table("db.t")
    assert ice.rows(t.scan().to_arrow()) == want
    extra = pa.table({"id": pa.array([1000, 1001], pa.int64()), "name": ["p", "q"],
                      "qty": pa.array([7, 8], pa.int32())},
                     schema=t.schema().as_arrow())
    t.append(extra)
    assert count(run_firn, s) == 197
    got = ice.rows(pq.read_table(scan_to(run_firn, s, "--where", "id >= 1000")))
    assert got == [(1000, "p", 7), (1001, "q", 8)]
    # and firn appends after PyIceberg
    firn(run_firn, s, "append", "db.t", write_csv(s.tmp / "after.csv", 2000, 3))
    assert len(cat.load_table("db.t").scan().to_arrow()) == 200


def scan_to(run_firn, s, *args):
    out = s.tmp / f"scan-{next(_ids)}.parquet"
    firn(run_firn, s, "scan", "db.t", "--format", "parquet", "--output", out, *args)
    return out


def test_duckdb_reads_firns_table(run_firn, s3):
    s = s3
    make_table(run_firn, s)
    firn(run_firn, s, "delete", "db.t", "--where", "id < 20", "--mode", "merge-on-read")
    want = ice.rows(pq.read_table(scan_to(run_firn, s)))
    import duckdb
    import duckdb_extension_httpfs
    con = ice.duck()
    path = (Path(duckdb_extension_httpfs.__file__).parent / "extensions" / f"v{duckdb.__version__}"
            / "httpfs.duckdb_extension")
    con.execute(f"LOAD '{path}'")
    con.execute(f"CREATE SECRET (TYPE s3, KEY_ID '{KEY}', SECRET '{SECRET}', "
                f"ENDPOINT '127.0.0.1:{s.proxy.port}', URL_STYLE 'path', USE_SSL false, "
                f"REGION '{REGION}')")
    meta = describe(run_firn, s)["metadata-location"]
    got = ice.duck_scan(con, meta)
    assert len(got) == 180
    assert got == want


def duck_s3(s):
    """DuckDB with httpfs and an S3 secret for the proxy."""
    import duckdb
    import duckdb_extension_httpfs
    con = ice.duck()
    path = (Path(duckdb_extension_httpfs.__file__).parent / "extensions" / f"v{duckdb.__version__}"
            / "httpfs.duckdb_extension")
    con.execute(f"LOAD '{path}'")
    con.execute(f"CREATE SECRET (TYPE s3, KEY_ID '{KEY}', SECRET '{SECRET}', "
                f"ENDPOINT '127.0.0.1:{s.proxy.port}', URL_STYLE 'path', USE_SSL false, "
                f"REGION '{REGION}')")
    return con


def test_duckdb_and_pyiceberg_write_through_firn_serve(run_firn, firn_bin, s3):
    """firn serve over the S3 warehouse: DuckDB ATTACHes it and inserts,
    PyIceberg's RestCatalog appends, firn deletes; each reads the others'."""
    from restserver import FIRN_READY, _serve
    s = s3
    make_table(run_firn, s, appends=1)
    # DuckDB 1.5.5 takes the table's S3 settings from the load-table answer
    # (without keys there it signed nothing: 403), so the keys are vended
    argv = [str(firn_bin), *s.conf, "serve", "--listen", "127.0.0.1:0", "--warehouse", s.wh,
            "--catalog", f"sqlite:///{s.catalog}", "--vend-credentials"]
    with _serve(argv, s.tmp / "serve.log", FIRN_READY, 30) as srv:
        con = duck_s3(s)
        con.execute(f"ATTACH 'wh' AS lake (TYPE iceberg, ENDPOINT '{srv.url}', "
                    "AUTHORIZATION_TYPE 'none')")
        assert con.execute("SELECT count(*) FROM lake.db.t").fetchone()[0] == 100
        con.execute("INSERT INTO lake.db.t VALUES (5000, 'duck', 1), (5001, 'duck', 2)")
        assert count(run_firn, s) == 102
        r = firn(run_firn, s, "scan", "db.t", "--where", "name = 'duck'", "--format", "jsonl")
        assert sorted(json.loads(l)["id"] for l in r.stdout.splitlines()) == [5000, 5001]
        from pyiceberg.catalog.rest import RestCatalog
        cat = RestCatalog("rest", uri=srv.url, **{"s3.access-key-id": KEY,
                                                   "s3.secret-access-key": SECRET,
                                                   "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO"})
        t = cat.load_table("db.t")
        assert len(t.scan().to_arrow()) == 102
        t.append(pa.table({"id": pa.array([6000], pa.int64()), "name": ["py"],
                           "qty": pa.array([3], pa.int32())}, schema=t.schema().as_arrow()))
        firn(run_firn, s, "delete", "db.t", "--where", "id < 50", "--mode", "merge-on-read")
        assert count(run_firn, s) == 53
        con2 = duck_s3(s)
        con2.execute(f"ATTACH 'wh' AS lake (TYPE iceberg, ENDPOINT '{srv.url}', "
                     "AUTHORIZATION_TYPE 'none')")
        got = sorted(r[0] for r in con2.execute("SELECT id FROM lake.db.t WHERE id >= 5000").fetchall())
        assert got == [5000, 5001, 6000]
        assert con2.execute("SELECT count(*) FROM lake.db.t").fetchone()[0] == 53
        assert len(cat.load_table("db.t").scan().to_arrow()) == 53
    # every file is the table's, in the bucket
    files = json.loads(firn(run_firn, s, "files", "db.t", "--json").stdout)
    assert all(f["file-path"].startswith(f"s3://{s.bucket}/wh/db.db/t/") for f in files)


@pytest.mark.parametrize("rule", [
    Rule("PUT", "/wh/db.db/t/data/", 500, count=2),
    Rule("PUT", "/metadata/", 503, code="SlowDown", count=2),
    Rule("GET", "/metadata/", 500, count=1),
    Rule("HEAD", "/wh/", 503, count=1, code="SlowDown"),
    Rule("GET", "/data/", 503, count=3, code="SlowDown"),
    Rule("PUT", "/wh/db.db/t/", "drop", count=1),
    Rule("GET", "/", "drop", count=1, skip=1),
    Rule("GET", "/", 429, count=1, code="TooManyRequests"),
], ids=["put-500", "put-slowdown", "get-500", "head-slowdown", "get-data-slowdown", "put-drop", "get-drop", "get-429"])
def test_faults_are_retried(run_firn, s3, rule):
    s = s3
    make_table(run_firn, s, appends=1)
    s.proxy.add(rule)
    firn(run_firn, s, "append", "db.t", write_csv(s.tmp / "more.csv", 500, 50))
    assert count(run_firn, s) == 150
    ids = [json.loads(l)["id"] for l in
           firn(run_firn, s, "scan", "db.t", "--format", "jsonl").stdout.splitlines()]
    assert sorted(ids) == list(range(100)) + list(range(500, 550))
    assert rule.fired >= 1, f"the rule never matched: {s.proxy.counts.log}"


def test_connections_are_reused(run_firn, s3):
    """Connections stay open for the next request, on one pool for all of
    firn's threads: one at a time, every request of a command goes over
    one connection; with reads side by side (files read ahead, manifests
    fetched together) each connection still serves several."""
    s = s3
    make_table(run_firn, s, appends=1)
    for args in (["scan", "db.t", "--format", "jsonl"], ["count", "db.t", "--where", "qty = 1"]):
        s.proxy.counts = type(s.proxy.counts)()
        firn(run_firn, s, "--threads", "1", *args)
        n = sum(s.proxy.counts.requests.values())
        assert n >= 4 and s.proxy.counts.connections == 1, (args[0], n, s.proxy.counts.log)
    for k in range(1, 4):
        firn(run_firn, s, "append", "db.t", write_csv(s.tmp / f"more{k}.csv", 1000 * k, 50))
    for args in (["scan", "db.t", "--format", "jsonl"], ["delete", "db.t", "--where", "id < 5"],
                 ["append", "db.t", write_csv(s.tmp / "more.csv", 500, 50)]):
        s.proxy.counts = type(s.proxy.counts)()
        firn(run_firn, s, "--threads", "2", *args)
        n = sum(s.proxy.counts.requests.values())
        assert n >= 8, s.proxy.counts.log
        assert s.proxy.counts.connections <= n // 2, (args[0], n, s.proxy.counts.connections)


def test_written_files_are_not_asked_for_their_size(run_firn, s3):
    """An append and a merge-on-read delete know the sizes of the files they
    wrote: no HEAD of a data or delete file, and the sizes recorded are the
    objects' own."""
    s = s3
    make_table(run_firn, s, appends=1)
    s.proxy.counts = type(s.proxy.counts)()
    firn(run_firn, s, "append", "db.t", write_csv(s.tmp / "more.csv", 500, 50))
    firn(run_firn, s, "delete", "db.t", "--where", "id < 3", "--mode", "merge-on-read")
    heads = [l for l in s.proxy.counts.log if l[0] == "HEAD" and "/data/" in l[1]]
    assert heads == []
    c = s.moto.client()
    files = json.loads(firn(run_firn, s, "files", "db.t", "--json").stdout)
    assert any(f["content"] != "data" for f in files)
    for f in files:
        key = f["file-path"].split(f"s3://{s.bucket}/", 1)[1]
        assert c.head_object(Bucket=s.bucket, Key=key)["ContentLength"] == f["file-size-in-bytes"]


def test_a_put_that_always_fails_leaves_the_table_as_it_was(run_firn, s3):
    s = s3
    make_table(run_firn, s, appends=1)
    before = describe(run_firn, s)["metadata-location"]
    s.proxy.add(Rule("PUT", "/wh/db.db/t/", 503, count=None, code="SlowDown"))
    r = firn(run_firn, s, "--conf", "s3.retries=3", "append", "db.t",
             write_csv(s.tmp / "more.csv", 500, 50), check=False)
    msg = assert_error(r, 1, mentions=("PUT 503 SlowDown",))
    assert f"s3://{s.bucket}/wh/db.db/t/" in msg
    s.proxy.reset()
    assert describe(run_firn, s)["metadata-location"] == before
    assert count(run_firn, s) == 100


def test_multipart_upload(run_firn, s3):
    """A data file above the part size goes up in parts and reads back."""
    s = s3
    firn(run_firn, s, "namespace", "create", "db")
    firn(run_firn, s, "create", "db.t", "--schema", "id long not null, name string, qty int",
         "--property", "write.parquet.compression-codec=uncompressed")
    p = s.tmp / "big.csv"
    with open(p, "w") as f:
        f.write("id,name,qty\n")
        for i in range(400000):
            f.write(f"{i},{'x' * 8}{i:08d},{i % 1000}\n")
    firn(run_firn, s, "--conf", "s3.multipart.part-size=5242880", "append", "db.t", p, timeout=300)
    posts = [l for l in s.proxy.counts.log if l[0] == "POST" and "uploads" in l[1]]
    assert posts, "no multipart upload was started"
    assert count(run_firn, s) == 400000
    r = firn(run_firn, s, "scan", "db.t", "--where", "id = 399999", "--format", "jsonl")
    assert json.loads(r.stdout) == {"id": 399999, "name": "xxxxxxxx00399999", "qty": 999}


def test_failed_multipart_is_aborted(run_firn, s3):
    s = s3
    firn(run_firn, s, "namespace", "create", "db")
    firn(run_firn, s, "create", "db.t", "--schema", "id long not null, name string",
         "--property", "write.parquet.compression-codec=uncompressed")
    p = s.tmp / "big.csv"
    with open(p, "w") as f:
        f.write("id,name\n")
        for i in range(400000):
            f.write(f"{i},{'y' * 16}{i:08d}\n")
    s.proxy.add(Rule("POST", "uploadId=", 500, count=None))
    r = firn(run_firn, s, "--conf", "s3.multipart.part-size=5242880", "--conf", "s3.retries=2",
             "append", "db.t", p, check=False, timeout=300)
    assert_error(r, 1, mentions=("POST 500",))
    s.proxy.reset()
    ups = s.moto.client().list_multipart_uploads(Bucket=s.bucket).get("Uploads", [])
    assert ups == []
    assert count(run_firn, s) == 0


def test_bad_settings_one_line_nothing_written(run_firn, s3, tmp):
    s = s3
    base = ["--conf", f"s3.access-key-id={KEY}", "--conf", f"s3.secret-access-key={SECRET}"]
    cat = ["--catalog", f"sqlite:///{tmp}/c2.db"]
    # a missing bucket: reading from it names the object and the status
    r = run_firn("--conf", f"s3.endpoint={s.proxy.endpoint}", *base, "parquet", "schema",
                 "s3://no-such-bucket-here/x.parquet", check=False)
    assert_error(r, 1, mentions=("s3://no-such-bucket-here/x.parquet", "GET 404 NoSuchBucket"))
    # creating a table in a warehouse whose bucket is missing: the listing's
    # own error (not "no free location"), and no table in the catalog
    ep = ["--conf", f"s3.endpoint={s.proxy.endpoint}", *base, *cat,
          "--warehouse", "s3://no-such-bucket-here/wh"]
    run_firn(*ep, "namespace", "create", "nb")
    r = run_firn(*ep, "create", "nb.t", "--schema", "id long", check=False)
    assert_error(r, 1, mentions=("NoSuchBucket",))
    assert "no free location" not in r.stderr
    assert run_firn(*ep, "tables", "nb").stdout.strip() == ""
    # an unreachable endpoint (nothing listens on the port): the table stays
    make_table(run_firn, s, appends=1)
    keys = s.keys()
    from s3server import free_port
    r = run_firn("--conf", f"s3.endpoint=http://127.0.0.1:{free_port()}", "--conf", "s3.retries=2",
                 *base, "--catalog", f"sqlite:///{s.catalog}", "--warehouse", s.wh, "append", "db.t",
                 write_csv(tmp / "x.csv", 0, 5), check=False)
    assert_error(r, 1, mentions=(f"s3://{s.bucket}/wh/db.db/t/", "connect"))
    assert s.keys() == keys
    assert count(run_firn, s) == 100
    # a warehouse in a bucket without --catalog: one line, no local "s3:" folder
    r = run_firn("--warehouse", s.wh, "tables", check=False, cwd=tmp)
    assert_error(r, 1, mentions=("needs --catalog",))
    r = run_firn("serve", "--listen", "127.0.0.1:0", "--warehouse", s.wh, check=False, cwd=tmp)
    assert_error(r, 1, mentions=("needs --catalog",))
    assert not (tmp / "s3:").exists()
    # bad property values
    r = run_firn("--conf", "s3.path-style-access=perhaps", "tables", check=False)
    assert_error(r, 1, mentions=("s3.path-style-access",))
    r = run_firn("--conf", "novalue", "tables", check=False)
    assert r.returncode == 2


def test_wrong_keys_or_region_one_line_nothing_written(run_firn, s3):
    """The proxy checks signatures as S3 does: the right keys pass; a wrong
    secret, an unknown key id and a wrong region are each one error line
    naming the object and S3's answer, not retried, and nothing changes."""
    s = s3
    make_table(run_firn, s, appends=1)
    s.proxy.auth = (KEY, SECRET, REGION)
    firn(run_firn, s, "append", "db.t", write_csv(s.tmp / "ok.csv", 500, 5))
    assert count(run_firn, s) == 105
    keys, before = s.keys(), describe(run_firn, s)["metadata-location"]
    for conf, answer in [("s3.secret-access-key=wrong", "403 SignatureDoesNotMatch"),
                         ("s3.access-key-id=nobody", "403 InvalidAccessKeyId"),
                         ("s3.region=eu-west-1", "400 AuthorizationHeaderMalformed")]:
        s.proxy.counts = type(s.proxy.counts)()
        r = firn(run_firn, s, "--conf", conf, "append", "db.t", write_csv(s.tmp / "x.csv", 900, 5),
                 check=False)
        msg = assert_error(r, 1, mentions=(answer, f"s3://{s.bucket}/wh/db.db/t/metadata/"))
        if "region" in conf:
            assert "eu-west-1" in msg and "us-east-1" in msg
        assert sum(s.proxy.counts.requests.values()) == 1, "a refusal is not retried"
    assert s.keys() == keys
    assert describe(run_firn, s)["metadata-location"] == before
    assert count(run_firn, s) == 105


def test_a_stalled_request_is_retried(run_firn, s3):
    """A GET that stalls (no byte for longer than s3.request-timeout) is
    given up and tried again; one that always stalls fails the command
    cleanly."""
    import time
    s = s3
    make_table(run_firn, s, appends=1)
    rule = Rule("GET", "/data/", "stall", seconds=20, count=1)
    s.proxy.add(rule)
    t0 = time.monotonic()
    r = firn(run_firn, s, "--conf", "s3.request-timeout=1", "scan", "db.t", "--format", "jsonl")
    assert time.monotonic() - t0 < 15, "the stalled GET was waited out, not retried"
    assert sorted(json.loads(l)["id"] for l in r.stdout.splitlines()) == list(range(100))
    assert rule.fired == 1
    before = describe(run_firn, s)["metadata-location"]
    s.proxy.add(Rule("PUT", "/data/", "stall", seconds=8, count=None))
    r = firn(run_firn, s, "--conf", "s3.request-timeout=1", "--conf", "s3.retries=2", "append",
             "db.t", write_csv(s.tmp / "more.csv", 500, 5), check=False)
    assert_error(r, 1, mentions=(f"s3://{s.bucket}/wh/db.db/t/data/", "PUT"))
    s.proxy.reset()
    assert describe(run_firn, s)["metadata-location"] == before
    assert count(run_firn, s) == 100


def test_serve_hands_out_storage_settings(run_firn, firn_bin, s3):
    """firn serve over a warehouse on S3: load-table config has the
    endpoint, region and addressing (no credentials); PyIceberg's
    RestCatalog and firn as a REST client reach the files with only their
    own keys."""
    import urllib.request
    from restserver import FIRN_READY, _serve
    s = s3
    make_table(run_firn, s, appends=1)
    argv = [str(firn_bin), *s.conf, "serve", "--listen", "127.0.0.1:0", "--warehouse", s.wh,
            "--catalog", f"sqlite:///{s.catalog}"]
    with _serve(argv, s.tmp / "serve.log", FIRN_READY, 30) as srv:
        with urllib.request.urlopen(f"{srv.url}/v1/namespaces/db/tables/t") as r:
            ans = json.loads(r.read())
        assert ans["config"] == {"s3.endpoint": s.proxy.endpoint, "s3.region": REGION,
                                 "client.region": REGION, "s3.path-style-access": "true"}
        assert not any("key" in k or "token" in k for k in ans["config"])
        from pyiceberg.catalog.rest import RestCatalog
        cat = RestCatalog("rest", uri=srv.url, **{"s3.access-key-id": KEY,
                                                   "s3.secret-access-key": SECRET,
                                                   "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO"})
        t = cat.load_table("db.t")
        assert len(t.scan().to_arrow()) == 100
        # firn through the server: the endpoint comes from the answer
        r = run_firn("--conf", f"s3.access-key-id={KEY}", "--conf", f"s3.secret-access-key={SECRET}",
                     "--catalog", srv.url, "count", "db.t")
        assert r.stdout.strip() == "100"


def test_serve_vends_credentials_only_when_told(run_firn, firn_bin, s3):
    import urllib.request
    from restserver import FIRN_READY, _serve
    s = s3
    make_table(run_firn, s, appends=1)
    argv = [str(firn_bin), *s.conf, "serve", "--listen", "127.0.0.1:0", "--warehouse", s.wh,
            "--catalog", f"sqlite:///{s.catalog}", "--vend-credentials"]
    with _serve(argv, s.tmp / "serve.log", FIRN_READY, 30) as srv:
        with urllib.request.urlopen(f"{srv.url}/v1/namespaces/db/tables/t") as r:
            conf = json.loads(r.read())["config"]
        assert conf["s3.access-key-id"] == KEY and conf["s3.secret-access-key"] == SECRET
        assert "s3.session-token" not in conf
        # a client with no keys of its own reads with the vended ones
        from pyiceberg.catalog.rest import RestCatalog
        t = RestCatalog("rest", uri=srv.url, **{"py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO"}
                        ).load_table("db.t")
        assert len(t.scan().to_arrow()) == 100
        r = run_firn("--catalog", srv.url, "count", "db.t")
        assert r.stdout.strip() == "100"


def test_kill_during_multipart_leaves_the_table(run_firn, firn_bin, s3):
    """kill -9 (FIRN_CRASH_AT) after a part went up: the table stays at its
    version, and remove-orphans clears any complete file the append left."""
    import os
    import subprocess
    s = s3
    firn(run_firn, s, "namespace", "create", "db")
    firn(run_firn, s, "create", "db.t", "--schema", "id long not null, name string, qty int",
         "--property", "write.parquet.compression-codec=uncompressed")
    firn(run_firn, s, "append", "db.t", write_csv(s.tmp / "in0.csv", 0, 100))
    before = describe(run_firn, s)["metadata-location"]
    keys_before = set(s.keys())
    p = s.tmp / "big.csv"
    with open(p, "w") as f:
        f.write("id,name,qty\n")
        for i in range(400000):
            f.write(f"{i},{'z' * 8}{i:08d},{i % 1000}\n")
    env = dict(os.environ, FIRN_CRASH_AT="s3-part-uploaded")
    r = subprocess.run([str(firn_bin), *s.conf, "--conf", "s3.multipart.part-size=5242880",
                        "--catalog", f"sqlite:///{s.catalog}", "--warehouse", s.wh, "append", "db.t",
                        str(p)], env=env, capture_output=True, timeout=300)
    assert r.returncode == -9, r.stderr
    assert describe(run_firn, s)["metadata-location"] == before
    assert count(run_firn, s) == 100
    uploads = lambda: boto3_via_proxy(s).list_multipart_uploads(Bucket=s.bucket).get("Uploads", [])
    left = uploads()
    assert len(left) == 1 and left[0]["Key"].startswith("wh/db.db/t/data/"), left
    # an upload elsewhere in the bucket is not the table's
    other = boto3_via_proxy(s).create_multipart_upload(Bucket=s.bucket, Key="wh/db.db/t2/data/x.parquet")
    # inside the safety window it stays (too young), and a dry run keeps it
    r = firn(run_firn, s, "remove-orphans", "db.t", "--json")
    assert json.loads(r.stdout)["aborted-uploads"] == 0 and len(uploads()) == 2
    r = firn(run_firn, s, "remove-orphans", "db.t", "--older-than", "2999-01-01T00:00:00", "--force",
             "--dry-run", "--json")
    assert json.loads(r.stdout)["aborted-uploads"] == 1 and len(uploads()) == 2
    r = firn(run_firn, s, "remove-orphans", "db.t", "--older-than", "2999-01-01T00:00:00", "--force")
    assert "1 incomplete uploads aborted" in r.stdout
    assert [u["UploadId"] for u in uploads()] == [other["UploadId"]]
    assert set(s.keys()) == keys_before
    assert count(run_firn, s) == 100
