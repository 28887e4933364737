"""firn serve, the Iceberg REST catalog server: started as a process on a
free port over a temporary warehouse, talked to over HTTP (the standard
library's client and raw sockets for what clients would never send), and
by PyIceberg's RestCatalog; firn's own CLI reads what came through it."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

import firnrun

SCHEMA = {"type": "struct", "schema-id": 0, "fields": [
    {"id": 1, "name": "id", "type": "long", "required": True},
    {"id": 2, "name": "name", "type": "string", "required": False}]}


class Server:
    """A running `firn serve`: its port and every stderr line so far."""

    def __init__(self, wh: Path, *args, env=None):
        self.wh = wh
        cmd = [str(firnrun.firn_path()), "--warehouse", str(wh), "serve",
               "--listen", "127.0.0.1:0", *[str(a) for a in args]]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env)
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.port = None
        threading.Thread(target=self._drain, daemon=True).start()
        if not self.ready.wait(15):
            self.proc.kill()
            raise AssertionError(f"firn serve did not say it listens: {self.lines}")
        assert self.port, self.lines

    def _drain(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            if line.startswith("firn serve: listening on http://127.0.0.1:"):
                self.port = int(line.rsplit(":", 1)[1])
                self.ready.set()
        self.ready.set()

    def request(self, method, path, body=None, headers=None, raw=None):
        """(status, headers, parsed JSON body or None)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        conn.request(method, path, body=data, headers=headers or {})
        resp = conn.getresponse()
        text = resp.read()
        conn.close()
        doc = json.loads(text) if text else None
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, doc

    def stop(self, timeout=30) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("firn serve did not stop on SIGTERM") from None
        time.sleep(0.05)
        return rc


@pytest.fixture
def serve(tmp):
    started = []

    def start(*args, wh=None, env=None):
        s = Server(wh or tmp / "wh", *args, env=env)
        started.append(s)
        return s
    yield start
    for s in started:
        if s.proc.poll() is None:
            assert s.stop() == 0, s.lines[-20:]
        assert s.proc.returncode == 0, s.lines[-20:]


def err_type(doc):
    assert set(doc) == {"error"}, doc
    e = doc["error"]
    assert isinstance(e["message"], str) and e["message"] and isinstance(e["code"], int), doc
    return e["type"], e["code"]


# ---- config, namespaces -------------------------------------------------------

def test_config_lists_what_the_server_answers(serve):
    s = serve()
    st, _, doc = s.request("GET", "/v1/config")
    assert st == 200
    assert doc["defaults"] == {} and doc["overrides"] == {}
    eps = set(doc["endpoints"])
    for e in ["GET /v1/{prefix}/namespaces", "POST /v1/{prefix}/namespaces",
              "HEAD /v1/{prefix}/namespaces/{namespace}",
              "POST /v1/{prefix}/namespaces/{namespace}/properties",
              "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
              "POST /v1/{prefix}/namespaces/{namespace}/register",
              "POST /v1/{prefix}/tables/rename", "POST /v1/{prefix}/transactions/commit"]:
        assert e in eps, e
    # views are served (issue 10; test_rest_views.py)
    assert "GET /v1/{prefix}/namespaces/{namespace}/views/{view}" in eps


def test_prefix_is_announced_and_optional(serve):
    s = serve("--prefix", "main")
    st, _, doc = s.request("GET", "/v1/config")
    assert doc["overrides"] == {"prefix": "main"}
    assert s.request("POST", "/v1/main/namespaces", {"namespace": ["p"]})[0] == 200
    assert s.request("GET", "/v1/namespaces/p")[2]["namespace"] == ["p"]
    assert s.request("GET", "/v1/main/namespaces/p")[2]["namespace"] == ["p"]
    assert s.request("GET", "/v1/other/namespaces/p")[0] == 404


def test_namespace_crud_multi_level_and_errors(serve):
    s = serve()
    st, _, doc = s.request("POST", "/v1/namespaces", {"namespace": ["acct"],
                                                      "properties": {"owner": "hank"}})
    assert (st, doc) == (200, {"namespace": ["acct"], "properties": {"owner": "hank"}})
    st, _, doc = s.request("POST", "/v1/namespaces", {"namespace": ["acct"]})
    assert st == 409 and err_type(doc) == ("AlreadyExistsException", 409)
    assert s.request("POST", "/v1/namespaces", {"namespace": ["acct", "tax"]})[0] == 200
    assert s.request("POST", "/v1/namespaces", {"namespace": ["acct", "tax", "paid"]})[0] == 200
    st, _, doc = s.request("GET", "/v1/namespaces/acct%1Ftax")
    assert (st, doc) == (200, {"namespace": ["acct", "tax"], "properties": {}})
    assert s.request("GET", "/v1/namespaces")[2] == {"namespaces": [["acct"]],
                                                     "next-page-token": None}
    assert s.request("GET", "/v1/namespaces?parent=acct")[2]["namespaces"] == [["acct", "tax"]]
    assert s.request("GET", "/v1/namespaces?parent=acct%1Ftax")[2]["namespaces"] == [
        ["acct", "tax", "paid"]]
    st, _, doc = s.request("GET", "/v1/namespaces?parent=nope")
    assert st == 404 and err_type(doc) == ("NoSuchNamespaceException", 404)
    assert s.request("HEAD", "/v1/namespaces/acct%1Ftax")[0] == 204
    assert s.request("HEAD", "/v1/namespaces/nope")[0] == 404
    st, _, doc = s.request("GET", "/v1/namespaces/nope")
    assert st == 404 and err_type(doc) == ("NoSuchNamespaceException", 404)
    st, _, doc = s.request("DELETE", "/v1/namespaces/nope")
    assert st == 404 and err_type(doc)[0] == "NoSuchNamespaceException"
    # a level holding the separator firn uses inside, or empty
    for bad in ["a.b", "", " "[:0]]:
        st, _, doc = s.request("POST", "/v1/namespaces", {"namespace": ["acct", bad]})
        assert st == 400 and err_type(doc) == ("BadRequestException", 400), bad
    assert s.request("GET", "/v1/namespaces/acct%1F")[0] == 400
    assert s.request("DELETE", "/v1/namespaces/acct%1Ftax%1Fpaid")[0] == 204
    assert s.request("HEAD", "/v1/namespaces/acct%1Ftax%1Fpaid")[0] == 404
    # the first commands of firn see the same catalog
    out = firnrun.run("--warehouse", s.wh, "namespace", "list").stdout.split()
    assert out == ["acct"]


def test_namespace_paging(serve):
    s = serve()
    names = [f"n{i:02d}" for i in range(7)]
    for n in reversed(names):
        assert s.request("POST", "/v1/namespaces", {"namespace": [n]})[0] == 200
    got, token, pages = [], "", 0
    while True:
        q = urllib.parse.urlencode({"pageToken": token, "pageSize": 3})
        st, _, doc = s.request("GET", f"/v1/namespaces?{q}")
        assert st == 200
        got += [ns[0] for ns in doc["namespaces"]]
        pages += 1
        token = doc["next-page-token"]
        if token is None:
            break
    assert got == names and pages == 3
    assert len(s.request("GET", "/v1/namespaces")[2]["namespaces"]) == 7
    for bad in ["0", "-1", "x", ""]:
        assert s.request("GET", f"/v1/namespaces?pageSize={bad}")[0] == 400, bad


def test_namespace_properties(serve):
    s = serve()
    s.request("POST", "/v1/namespaces", {"namespace": ["p"], "properties": {"a": "1", "b": "2"}})
    st, _, doc = s.request("POST", "/v1/namespaces/p/properties",
                           {"updates": {"c": "3", "a": "10"}, "removals": ["b", "zz"]})
    assert st == 200
    assert sorted(doc["updated"]) == ["a", "c"] and doc["removed"] == ["b"] and doc["missing"] == ["zz"]
    assert s.request("GET", "/v1/namespaces/p")[2]["properties"] == {"a": "10", "c": "3"}
    st, _, doc = s.request("POST", "/v1/namespaces/p/properties",
                           {"updates": {"a": "1"}, "removals": ["a"]})
    assert st == 422
    st, _, doc = s.request("POST", "/v1/namespaces/p/properties", {"updates": {"a": 1}})
    assert st == 400 and err_type(doc)[0] == "BadRequestException"
    st, _, doc = s.request("POST", "/v1/namespaces/q/properties", {"updates": {"a": "1"}})
    assert st == 404 and err_type(doc)[0] == "NoSuchNamespaceException"


# ---- auth -------------------------------------------------------------------------

def test_static_token(serve):
    s = serve("--token", "s3cret-t0ken")
    for headers in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer s3cret-t0ke"},
                    {"Authorization": "Basic czNjcmV0LXQwa2Vu"}]:
        st, h, doc = s.request("GET", "/v1/config", headers=headers)
        assert st == 401 and err_type(doc) == ("NotAuthorizedException", 401), headers
        assert h.get("www-authenticate") == "Bearer"
    ok = {"Authorization": "Bearer s3cret-t0ken"}
    assert s.request("GET", "/v1/config", headers=ok)[0] == 200
    assert s.request("POST", "/v1/namespaces", {"namespace": ["x"]})[0] == 401
    assert s.request("POST", "/v1/namespaces", {"namespace": ["x"]}, headers=ok)[0] == 200
    assert s.request("HEAD", "/v1/namespaces/x")[0] == 401


def token_request(s, fields, headers=None):
    h = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    return s.request("POST", "/v1/oauth/tokens", raw=urllib.parse.urlencode(fields), headers=h)


def test_oauth_client_credentials_and_expiry(serve):
    s = serve("--credential", "app:pa55", "--token-ttl", "1")
    st, _, doc = token_request(s, {"grant_type": "client_credentials", "client_id": "app",
                                   "client_secret": "nope"})
    assert st == 401 and doc["error"] == "invalid_client"
    st, _, doc = token_request(s, {"grant_type": "password", "client_id": "app",
                                   "client_secret": "pa55"})
    assert st == 400 and doc["error"] == "unsupported_grant_type"
    st, _, doc = token_request(s, {"grant_type": "client_credentials", "client_id": "app",
                                   "client_secret": "pa55", "scope": "catalog"})
    assert st == 200
    assert doc["token_type"] == "bearer" and doc["expires_in"] == 1
    assert doc["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    tok = doc["access_token"]
    assert len(tok) == 64
    auth = {"Authorization": f"Bearer {tok}"}
    assert s.request("GET", "/v1/config")[0] == 401
    assert s.request("GET", "/v1/config", headers=auth)[0] == 200
    # HTTP Basic carries the client too
    import base64
    basic = {"Authorization": "Basic " + base64.b64encode(b"app:pa55").decode()}
    st, _, doc2 = token_request(s, {"grant_type": "client_credentials"}, headers=basic)
    assert st == 200 and doc2["access_token"] != tok
    time.sleep(1.3)
    st, _, doc = s.request("GET", "/v1/config", headers=auth)
    assert st == 401 and err_type(doc)[0] == "NotAuthorizedException"


# ---- hostile input -------------------------------------------------------------

def raw_exchange(port, data: bytes, timeout=10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        out = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                out += chunk
                if b"\r\n\r\n" in out and b"Connection: close" not in out and len(out) > 12:
                    head, _, body = out.partition(b"\r\n\r\n")
                    cl = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                    if cl and len(body) >= int(cl[0].split(b":")[1]):
                        break
        except (ConnectionResetError, socket.timeout):
            pass
    return out


def status_of(resp: bytes) -> int:
    assert resp.startswith(b"HTTP/1.1 "), resp[:200]
    return int(resp[9:12])


def test_hostile_requests_get_4xx_and_the_server_keeps_answering(serve):
    s = serve()
    s.request("POST", "/v1/namespaces", {"namespace": ["ok"]})
    cases = [
        ("POST", "/v1/namespaces", "{not json", 400),
        ("POST", "/v1/namespaces", "[1, 2]", 400),
        ("POST", "/v1/namespaces", '{"namespace": "ok2"}', 400),
        ("POST", "/v1/namespaces", '{"namespace": [1]}', 400),
        ("POST", "/v1/namespaces", '{"namespace": ["a\\u0000b"]}', 400),
        ("POST", "/v1/namespaces", '{"namespace": ["x"], "properties": {"k": ["v"]}}', 400),
        ("GET", "/v1/namespaces/..%2F..", None, 400),
        ("GET", "/v1/namespaces/%2E%2E", None, 400),
        ("GET", "/v1/namespaces/a%00b", None, 400),
        ("GET", "/v1/namespaces/%zz", None, 400),
        ("GET", "/v1/namespaces/%4", None, 400),
        ("GET", "/v1/namespaces/" + "x" * 300, None, 400),
        ("GET", "/v1/namespaces/ok/tables/..%2Fetc", None, 400),
        ("POST", "/v1/namespaces/ok/tables", '{"name": "../../x", "schema": {}}', 400),
        ("POST", "/v1/namespaces/ok/tables", '{"name": 5}', 400),
        ("POST", "/v1/tables/rename", '{"source": {"namespace": ["ok"]}}', 400),
        ("GET", "/v1/nothing", None, 404),
        ("GET", "/v2/config", None, 404),
        ("GET", "/", None, 404),
        ("PUT", "/v1/namespaces", None, 405),
        ("DELETE", "/v1/config", None, 405),
        ("GET", "/v1/namespaces?pageSize=99999999999999999999", None, 400),
        ("GET", "/v1/namespaces/ok/tables/t?snapshots=some", None, 400),
        ("DELETE", "/v1/namespaces/ok/tables/t?purgeRequested=maybe", None, 400),
    ]
    for method, path, body, want in cases:
        st, h, doc = s.request(method, path, raw=body,
                               headers={"Content-Type": "application/json"} if body else None)
        assert st == want, (method, path, body, st, doc)
        assert err_type(doc)[1] == want, (path, doc)
        if want == 405:
            assert "allow" in h, h
    # a declared body over the bound: 413 before it is read
    resp = raw_exchange(s.port, b"POST /v1/namespaces HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Length: 9000000\r\nContent-Type: application/json\r\n\r\n{")
    assert status_of(resp) == 413
    # a chunked body over the bound: read, dropped, 413
    chunk = b"x" * (1 << 20)
    data = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(9)) + b"0\r\n\r\n"
    resp = raw_exchange(s.port, b"POST /v1/namespaces HTTP/1.1\r\nHost: x\r\n"
                        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + data, timeout=30)
    assert status_of(resp) == 413
    # garbage that is not HTTP, and an overlong request line
    raw_exchange(s.port, b"\x00\xff\r\n\r\n")
    resp = raw_exchange(s.port, b"GET /v1/" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert resp == b"" or 400 <= status_of(resp) < 500
    # still serving, and nothing was created by any of it
    assert s.request("GET", "/v1/namespaces")[2]["namespaces"] == [["ok"]]
    assert s.proc.poll() is None
    assert sorted(p.name for p in s.wh.iterdir() if not p.name.startswith("catalog.db")) == []


def test_access_log_and_sigterm_with_a_request_in_flight(serve):
    s = serve()
    assert s.request("GET", "/v1/namespaces?parent=")[0] == 200
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=20)
    body = b'{"namespace": ["late"]}'
    sock.sendall(b"POST /v1/namespaces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(body) + body[:5])
    time.sleep(0.3)
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert s.proc.poll() is None, "stopped with a request in flight"
    sock.sendall(body[5:])
    resp = b""
    while b"\r\n\r\n" not in resp:
        chunk = sock.recv(4096)
        if not chunk:
            break
        resp += chunk
    sock.close()
    assert status_of(resp) == 200
    assert s.proc.wait(20) == 0
    assert any(l.startswith("GET /v1/namespaces?parent= 200 ") and l.endswith(" ms")
               for l in s.lines), s.lines
    assert any(l.startswith("POST /v1/namespaces 200 ") for l in s.lines), s.lines
    assert firnrun.run("--warehouse", s.wh, "namespace", "list").stdout.split() == ["late"]


# ---- tables ------------------------------------------------------------------------

def create_table(s, ns, name, **extra):
    return s.request("POST", f"/v1/namespaces/{ns}/tables",
                     {"name": name, "schema": SCHEMA, **extra})


def test_tables_create_load_etag_commit_drop(serve):
    s = serve()
    s.request("POST", "/v1/namespaces", {"namespace": ["db"]})
    st, _, doc = create_table(s, "db", "t", properties={"owner": "me"})
    assert st == 200, doc
    loc = doc["metadata-location"]
    meta = doc["metadata"]
    assert meta["location"] == str(s.wh / "db.db" / "t") or meta["location"].endswith("/db.db/t")
    assert [f["name"] for f in meta["schemas"][0]["fields"]] == ["id", "name"]
    assert meta["properties"]["owner"] == "me"
    st, _, doc = create_table(s, "db", "t")
    assert st == 409 and err_type(doc)[0] == "AlreadyExistsException"
    st, _, doc = create_table(s, "nope", "t")
    assert st == 404 and err_type(doc)[0] == "NoSuchNamespaceException"
    # load and its ETag
    st, h, doc = s.request("GET", "/v1/namespaces/db/tables/t")
    assert st == 200 and doc["metadata-location"] == loc
    etag = h["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2
    st, h2, doc = s.request("GET", "/v1/namespaces/db/tables/t", headers={"If-None-Match": etag})
    assert st == 304 and doc is None and h2["etag"] == etag
    assert s.request("GET", "/v1/namespaces/db/tables/t?snapshots=refs")[0] == 200
    assert s.request("HEAD", "/v1/namespaces/db/tables/t")[0] == 204
    assert s.request("HEAD", "/v1/namespaces/db/tables/u")[0] == 404
    st, _, doc = s.request("GET", "/v1/namespaces/db/tables/u")
    assert st == 404 and err_type(doc)[0] == "NoSuchTableException"
    # a commit, and one whose requirement fails
    uuid = meta["table-uuid"]
    st, _, doc = s.request("POST", "/v1/namespaces/db/tables/t", {
        "requirements": [{"type": "assert-table-uuid", "uuid": uuid}],
        "updates": [{"action": "set-properties", "updates": {"k": "v"}}]})
    assert st == 200, doc
    assert doc["metadata"]["properties"]["k"] == "v" and doc["metadata-location"] != loc
    st, _, doc = s.request("POST", "/v1/namespaces/db/tables/t", {
        "requirements": [{"type": "assert-table-uuid",
                          "uuid": "00000000-0000-0000-0000-000000000000"}],
        "updates": [{"action": "set-properties", "updates": {"k": "w"}}]})
    assert st == 409 and err_type(doc)[0] == "CommitFailedException"
    st, _, doc = s.request("POST", "/v1/namespaces/db/tables/t", {
        "requirements": [], "updates": [{"action": "no-such-update"}]})
    assert st == 400
    st, h3, _ = s.request("GET", "/v1/namespaces/db/tables/t", headers={"If-None-Match": etag})
    assert st == 200 and h3["etag"] != etag
    assert firnrun.run("--warehouse", s.wh, "describe", "db.t").stdout.count("k") >= 1
    # listing with paging
    for n in ["t2", "t3"]:
        assert create_table(s, "db", n)[0] == 200
    st, _, doc = s.request("GET", "/v1/namespaces/db/tables?pageToken=&pageSize=2")
    assert [i["name"] for i in doc["identifiers"]] == ["t", "t2"]
    assert doc["identifiers"][0]["namespace"] == ["db"]
    st, _, doc = s.request("GET", "/v1/namespaces/db/tables?pageSize=2&pageToken="
                           + urllib.parse.quote(doc["next-page-token"]))
    assert [i["name"] for i in doc["identifiers"]] == ["t3"] and doc["next-page-token"] is None
    # a namespace with tables is not dropped
    st, _, doc = s.request("DELETE", "/v1/namespaces/db")
    assert st == 409 and err_type(doc)[0] == "NamespaceNotEmptyException"
    # drop with purge: the files go
    assert s.request("DELETE", "/v1/namespaces/db/tables/t3?purgeRequested=true")[0] == 204
    assert not any((s.wh / "db.db" / "t3").rglob("*.json"))
    assert s.request("DELETE", "/v1/namespaces/db/tables/t3")[0] == 404
    assert s.request("POST", "/v1/namespaces/db/tables/t/metrics",
                     {"report-type": "scan-report"})[0] == 204


def test_stage_create_then_commit(serve):
    s = serve()
    s.request("POST", "/v1/namespaces", {"namespace": ["db"]})
    st, _, doc = create_table(s, "db", "staged", **{"stage-create": True})
    assert st == 200, doc
    assert doc.get("metadata-location") is None
    assert s.request("HEAD", "/v1/namespaces/db/tables/staged")[0] == 404
    meta = doc["metadata"]
    updates = [
        {"action": "assign-uuid", "uuid": meta["table-uuid"]},
        {"action": "upgrade-format-version", "format-version": meta["format-version"]},
        {"action": "add-schema", "schema": meta["schemas"][0]},
        {"action": "set-current-schema", "schema-id": -1},
        {"action": "add-spec", "spec": meta["partition-specs"][0]},
        {"action": "set-default-spec", "spec-id": -1},
        {"action": "add-sort-order", "sort-order": meta["sort-orders"][0]},
        {"action": "set-default-sort-order", "sort-order-id": -1},
        {"action": "set-location", "location": meta["location"]},
    ]
    st, _, doc = s.request("POST", "/v1/namespaces/db/tables/staged", {
        "requirements": [{"type": "assert-create"}], "updates": updates})
    assert st == 200, doc
    assert s.request("HEAD", "/v1/namespaces/db/tables/staged")[0] == 204
    st, _, doc = s.request("POST", "/v1/namespaces/db/tables/staged", {
        "requirements": [{"type": "assert-create"}], "updates": updates})
    assert st == 409 and err_type(doc)[0] == "CommitFailedException"


def test_rename_register_and_confinement(serve, tmp):
    s = serve()
    for ns in ["a", "b"]:
        s.request("POST", "/v1/namespaces", {"namespace": [ns]})
    assert create_table(s, "a", "t")[0] == 200
    assert create_table(s, "a", "other")[0] == 200
    ren = {"source": {"namespace": ["a"], "name": "t"}, "destination": {"namespace": ["b"], "name": "u"}}
    assert s.request("POST", "/v1/tables/rename", ren)[0] == 204
    assert s.request("HEAD", "/v1/namespaces/b/tables/u")[0] == 204
    assert s.request("HEAD", "/v1/namespaces/a/tables/t")[0] == 404
    st, _, doc = s.request("POST", "/v1/tables/rename", ren)
    assert st == 404 and err_type(doc)[0] == "NoSuchTableException"
    st, _, doc = s.request("POST", "/v1/tables/rename", {
        "source": {"namespace": ["a"], "name": "other"}, "destination": {"namespace": ["b"], "name": "u"}})
    assert st == 409 and err_type(doc)[0] == "AlreadyExistsException"
    st, _, doc = s.request("POST", "/v1/tables/rename", {
        "source": {"namespace": ["a"], "name": "other"}, "destination": {"namespace": ["zz"], "name": "u"}})
    assert st == 404 and err_type(doc)[0] == "NoSuchNamespaceException"
    # register: drop u (files kept), register its metadata file as a.back
    loc = s.request("GET", "/v1/namespaces/b/tables/u")[2]["metadata-location"]
    assert s.request("DELETE", "/v1/namespaces/b/tables/u")[0] == 204
    st, _, doc = s.request("POST", "/v1/namespaces/a/register",
                           {"name": "back", "metadata-location": loc})
    assert st == 200, doc
    assert doc["metadata-location"] == loc
    assert s.request("HEAD", "/v1/namespaces/a/tables/back")[0] == 204
    # nothing outside the warehouse: a location, a metadata file
    outside = tmp / "outside"
    outside.mkdir()
    st, _, doc = create_table(s, "a", "esc", location=str(outside / "t"))
    assert st == 400, doc
    st, _, doc = create_table(s, "a", "esc2", location=str(s.wh / ".." / "outside" / "t2"))
    assert st == 400, doc
    st, _, doc = s.request("POST", "/v1/namespaces/a/register",
                           {"name": "etc", "metadata-location": "/etc/passwd"})
    assert 400 <= st < 500, doc
    assert not any(outside.iterdir())


def err_message(doc, type_):
    assert err_type(doc)[0] == type_, doc
    return doc["error"]["message"]


def test_errors_in_javas_words(serve):
    """Java's REST clients and the REST Compatibility Kit match the messages
    of Java's catalogs: firn serve words its 404s, 409s and failed
    requirements as they do."""
    s = serve()
    assert s.request("POST", "/v1/namespaces", {"namespace": ["db"]})[0] == 200
    st, _, doc = s.request("POST", "/v1/namespaces", {"namespace": ["db"]})
    assert st == 409 and err_message(doc, "AlreadyExistsException") == "Namespace already exists: db"
    for method, path in [("GET", "/v1/namespaces/nope"), ("GET", "/v1/namespaces/nope/tables"),
                         ("GET", "/v1/namespaces?parent=nope"), ("DELETE", "/v1/namespaces/nope")]:
        st, _, doc = s.request(method, path)
        assert st == 404, (method, path, doc)
        assert err_message(doc, "NoSuchNamespaceException") == "Namespace does not exist: nope"
    st, _, doc = s.request("POST", "/v1/namespaces/nope/properties", {"updates": {"a": "b"}})
    assert st == 404 and err_message(doc, "NoSuchNamespaceException") == "Namespace does not exist: nope"
    st, _, doc = create_table(s, "nope", "t")
    assert st == 404 and err_message(doc, "NoSuchNamespaceException") == "Namespace does not exist: nope"
    meta = create_table(s, "db", "t")[2]["metadata"]
    st, _, doc = create_table(s, "db", "t")
    assert st == 409 and err_message(doc, "AlreadyExistsException") == "Table already exists: db.t"
    st, _, doc = s.request("GET", "/v1/namespaces/db/tables/u")
    assert st == 404 and err_message(doc, "NoSuchTableException") == "Table does not exist: db.u"
    st, _, doc = s.request("GET", "/v1/namespaces/nope/tables/u")
    assert st == 404 and err_message(doc, "NoSuchTableException") == "Table does not exist: nope.u"
    st, _, doc = s.request("DELETE", "/v1/namespaces/db/tables/u")
    assert st == 404 and err_message(doc, "NoSuchTableException") == "Table does not exist: db.u"
    # rename: a missing source, a taken destination, a missing destination namespace
    assert create_table(s, "db", "v")[0] == 200

    def rename(src, dst_ns, dst):
        return s.request("POST", "/v1/tables/rename", {
            "source": {"namespace": ["db"], "name": src},
            "destination": {"namespace": [dst_ns], "name": dst}})
    st, _, doc = rename("gone", "db", "w")
    assert st == 404 and err_message(doc, "NoSuchTableException") == "Table does not exist: db.gone"
    st, _, doc = rename("t", "db", "v")
    assert st == 409 and err_message(doc, "AlreadyExistsException") == "Table already exists: db.v"
    st, _, doc = rename("t", "zz", "v")
    assert st == 404 and err_message(doc, "NoSuchNamespaceException") == "Namespace does not exist: zz"
    # register over an existing name: 409 before the metadata file is looked at
    st, _, doc = s.request("POST", "/v1/namespaces/db/register",
                           {"name": "t", "metadata-location": "/etc/passwd"})
    assert st == 409 and err_message(doc, "AlreadyExistsException") == "Table already exists: db.t"
    # requirements, as Java's UpdateRequirement words them
    commit = lambda req: s.request("POST", "/v1/namespaces/db/tables/t", {  # noqa: E731
        "requirements": [req], "updates": []})
    other = "00000000-0000-4000-8000-000000000000"
    for req, want in [
        ({"type": "assert-table-uuid", "uuid": other},
         f"Requirement failed: UUID does not match: expected {meta['table-uuid']} != {other}"),
        ({"type": "assert-create"}, "Requirement failed: table already exists"),
        ({"type": "assert-last-assigned-field-id", "last-assigned-field-id": 1},
         "Requirement failed: last assigned field id changed: expected id 1 != 2"),
        ({"type": "assert-current-schema-id", "current-schema-id": 3},
         "Requirement failed: current schema changed: expected id 3 != 0"),
        ({"type": "assert-last-assigned-partition-id", "last-assigned-partition-id": 1000},
         "Requirement failed: last assigned partition id changed: expected id 1000 != 999"),
        ({"type": "assert-default-spec-id", "default-spec-id": 1},
         "Requirement failed: default partition spec changed: expected id 1 != 0"),
        ({"type": "assert-default-sort-order-id", "default-sort-order-id": 1},
         "Requirement failed: default sort order changed: expected id 1 != 0"),
        ({"type": "assert-ref-snapshot-id", "ref": "main", "snapshot-id": 5},
         "Requirement failed: branch or tag main is missing, expected 5"),
    ]:
        st, _, doc = commit(req)
        assert st == 409 and err_message(doc, "CommitFailedException") == want, (req, doc)


def test_missing_metadata_file_is_404_not_found(serve):
    s = serve()
    s.request("POST", "/v1/namespaces", {"namespace": ["db"]})
    loc = create_table(s, "db", "t")[2]["metadata-location"]
    os.rename(loc, loc + ".moved")
    t0 = time.monotonic()
    st, _, doc = s.request("GET", "/v1/namespaces/db/tables/t")
    assert time.monotonic() - t0 < 5
    assert st == 404, doc
    assert err_message(doc, "NotFoundException") == f"Failed to open input stream for file: {loc}"
    # the table is still there: only its metadata file is gone
    assert s.request("HEAD", "/v1/namespaces/db/tables/t")[0] == 204


def test_allow_location(serve, tmp):
    lake = tmp / "lake"
    lake.mkdir()
    s = serve("--allow-location", f"file:{lake}/")
    s.request("POST", "/v1/namespaces", {"namespace": ["db"]})
    # file:/… (one slash) is the local path; the table keeps it as given
    st, _, doc = create_table(s, "db", "t", location=f"file:{lake}/t/")
    assert st == 200, doc
    assert doc["metadata"]["location"] == f"file:{lake}/t"
    assert Path(doc["metadata-location"].removeprefix("file:")).is_file()
    assert doc["metadata-location"].startswith(str(lake / "t" / "metadata")) or \
        doc["metadata-location"].startswith(f"file:{lake}/t/metadata/")
    # still confined: elsewhere, the root itself, through "..", inside a live table
    outside = tmp / "outside"
    for where in [outside / "t", lake, lake / ".." / "outside" / "t2"]:
        st, _, doc = create_table(s, "db", "esc", location=str(where))
        assert st == 400, (where, doc)
    st, _, doc = create_table(s, "db", "nested", location=str(lake / "t" / "sub"))
    assert st == 409 and "overlaps the location of db.t" in doc["error"]["message"], doc
    assert not outside.exists()
    # a dropped table's leftovers (its metadata/) may be reused, as in Java
    assert s.request("DELETE", "/v1/namespaces/db/tables/t")[0] == 204
    left = sorted(p.name for p in (lake / "t" / "metadata").iterdir())
    st, _, doc = create_table(s, "db", "t2", location=str(lake / "t"))
    assert st == 200, doc
    now = sorted(p.name for p in (lake / "t" / "metadata").iterdir())
    assert set(left) < set(now)  # the old files are untouched
    # a directory with anything else in it is not a table's to take
    (lake / "mine").mkdir()
    (lake / "mine" / "notes.txt").write_text("keep me")
    st, _, doc = create_table(s, "db", "t3", location=str(lake / "mine"))
    assert st == 409 and "is not empty" in doc["error"]["message"], doc
    (lake / "meta-only" / "metadata").mkdir(parents=True)
    (lake / "meta-only" / "metadata" / "x.avro").write_text("x")
    st, _, doc = create_table(s, "db", "t4", location=str(lake / "meta-only"))
    assert st == 409, doc
    assert (lake / "mine" / "notes.txt").read_text() == "keep me"
    # firn's CLI reads the table through the location as it was given
    out = firnrun.run("--warehouse", s.wh, "describe", "db.t2").stdout
    assert str(lake / "t") in out


@pytest.mark.parametrize("bad", ["relative/dir", "/", "s3://bucket"])
def test_allow_location_refuses_what_is_no_confinement(tmp, bad):
    p = subprocess.run([str(firnrun.firn_path()), "--warehouse", str(tmp / "wh"), "serve",
                        "--listen", "127.0.0.1:0", "--allow-location", bad],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, p
    assert "allowed location" in p.stderr, p.stderr


def test_transaction_commit_is_all_or_nothing(serve):
    s = serve()
    s.request("POST", "/v1/namespaces", {"namespace": ["tx"]})
    uuids = {}
    for n in ["x", "y"]:
        uuids[n] = create_table(s, "tx", n)[2]["metadata"]["table-uuid"]

    def change(n, uuid, value):
        return {"identifier": {"namespace": ["tx"], "name": n},
                "requirements": [{"type": "assert-table-uuid", "uuid": uuid}],
                "updates": [{"action": "set-properties", "updates": {"v": value}}]}
    st, _, doc = s.request("POST", "/v1/transactions/commit", {"table-changes": [
        change("x", uuids["x"], "1"), change("y", uuids["y"], "1")]})
    assert st == 204, doc
    st, _, doc = s.request("POST", "/v1/transactions/commit", {"table-changes": [
        change("x", uuids["x"], "2"), change("y", uuids["x"], "2")]})
    assert st == 409 and err_type(doc)[0] == "CommitFailedException"
    for n in ["x", "y"]:
        props = s.request("GET", f"/v1/namespaces/tx/tables/{n}")[2]["metadata"]["properties"]
        assert props["v"] == "1", (n, props)


def test_pyiceberg_rest_catalog_round_trip(serve):
    pa = pytest.importorskip("pyarrow")
    rest = pytest.importorskip("pyiceberg.catalog.rest")
    s = serve("--credential", "py:secret")
    cat = rest.RestCatalog("firn", uri=f"http://127.0.0.1:{s.port}", credential="py:secret")
    cat.create_namespace("py")
    assert ("py",) in cat.list_namespaces()
    t = cat.create_table("py.events", schema=pa.schema([
        pa.field("id", pa.int64(), nullable=False), pa.field("city", pa.string())]))
    t.append(pa.table({"id": pa.array([1, 2, 3], pa.int64()), "city": ["oslo", "lima", None]},
                      schema=t.schema().as_arrow()))
    t.append(pa.table({"id": pa.array([4], pa.int64()), "city": ["kyiv"]},
                      schema=t.schema().as_arrow()))
    again = cat.load_table("py.events")
    rows = sorted(again.scan().to_arrow().to_pylist(), key=lambda r: r["id"])
    assert rows == [{"id": 1, "city": "oslo"}, {"id": 2, "city": "lima"},
                    {"id": 3, "city": None}, {"id": 4, "city": "kyiv"}]
    assert len(again.metadata.snapshots) == 2
    # firn's CLI reads what PyIceberg wrote through the server
    out = firnrun.run("--warehouse", s.wh, "scan", "py.events", "--format", "csv").stdout
    lines = out.strip().splitlines()
    assert lines[0] == "id,city"
    assert sorted(lines[1:]) == ["1,oslo", "2,lima", "3,", "4,kyiv"]
    assert cat.table_exists("py.events")
    cat.drop_table("py.events")
    assert not cat.table_exists("py.events")


def test_idempotency_key_replays_final_answers(serve):
    s = serve()
    st, _, cfg = s.request("GET", "/v1/config")
    assert cfg["idempotency-key-lifetime"] == "PT30M"
    key = {"Idempotency-Key": "017f22e2-79b0-7cc3-98c4-dc0c0c07398f"}
    # a namespace created twice with one key: the second is the first's answer
    st1, _, _ = s.request("POST", "/v1/namespaces", {"namespace": ["idem"], "properties": {}},
                          headers=key)
    st2, _, _ = s.request("POST", "/v1/namespaces", {"namespace": ["idem"], "properties": {}},
                          headers=key)
    assert (st1, st2) == (200, 200)
    st3, _, doc = s.request("POST", "/v1/namespaces", {"namespace": ["idem"], "properties": {}})
    assert st3 == 409
    create_table(s, "idem", "t")
    path = "/v1/namespaces/idem/tables/t"
    body = {"requirements": [], "updates": [{"action": "set-properties", "updates": {"k": "1"}}]}
    ck = {"Idempotency-Key": "017f22e2-79b0-7cc3-98c4-dc0c0c073990"}
    st, _, first = s.request("POST", path, body, headers=ck)
    assert st == 200
    st, _, again = s.request("POST", path, body, headers=ck)
    assert st == 200 and again["metadata-location"] == first["metadata-location"]
    st, _, now = s.request("GET", path)
    assert now["metadata-location"] == first["metadata-location"]  # committed once
    # another key commits again
    st, _, second = s.request("POST", path, body,
                              headers={"Idempotency-Key": "017f22e2-79b0-7cc3-98c4-dc0c0c073991"})
    assert st == 200 and second["metadata-location"] != first["metadata-location"]
    # a final 4xx is replayed too, even once the request would succeed
    uuid = now["metadata"]["table-uuid"]
    bad = {"requirements": [{"type": "assert-table-uuid", "uuid": "00000000-0000-0000-0000-"
                                                                  "000000000000"}],
           "updates": [{"action": "set-properties", "updates": {"k": "2"}}]}
    fk = {"Idempotency-Key": "017f22e2-79b0-7cc3-98c4-dc0c0c073992"}
    st, _, _ = s.request("POST", path, bad, headers=fk)
    assert st == 409
    good = {"requirements": [{"type": "assert-table-uuid", "uuid": uuid}],
            "updates": [{"action": "set-properties", "updates": {"k": "2"}}]}
    st, _, _ = s.request("POST", path, good, headers=fk)
    assert st == 409
    st, _, now = s.request("GET", path)
    assert now["metadata"]["properties"]["k"] == "1"
