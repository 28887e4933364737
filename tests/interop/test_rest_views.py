"""Views in `firn serve`: the REST spec's view endpoints over HTTP (the
standard library's client) and through PyIceberg's RestCatalog (create_view,
load_view, list_views, view_exists, drop_view), and what the view metadata
files on disk say afterwards."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from restserver import firn_server

SCHEMA = {"type": "struct", "schema-id": 5, "fields": [
    {"id": 3, "name": "id", "type": "int", "required": True, "doc": "unique ID"},
    {"id": 4, "name": "data", "type": "string", "required": True}]}
OTHER = {"type": "struct", "schema-id": 7, "fields": [
    {"id": 1, "name": "some_id", "type": "int", "required": True}]}


def version(sql, dialect="spark", schema_id=5, version_id=1, **extra):
    return {"version-id": version_id, "timestamp-ms": 1700000000000, "schema-id": schema_id,
            "summary": {"engine-name": "test"}, "default-namespace": ["ns"],
            "representations": [{"type": "sql", "sql": sql, "dialect": dialect}], **extra}


class Http:
    def __init__(self, url):
        self.url = url + "/v1/"

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                text = r.read()
                return r.status, json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            text = e.read()
            return e.code, json.loads(text) if text else None

    def ok(self, method, path, body=None, status=200):
        got, res = self.call(method, path, body)
        assert got == status, (method, path, got, res)
        return res


@pytest.fixture
def srv(tmp, firn_bin):
    wh = tmp / "wh"
    wh.mkdir()
    with firn_server(firn_bin, wh, tmp / "serve.log") as s:
        http = Http(s.url)
        http.ok("POST", "namespaces", {"namespace": ["ns"]})
        http.ok("POST", "namespaces", {"namespace": ["other"]})
        s.http = http
        s.wh = wh
        yield s


def create(http, name="v", **extra):
    body = {"name": name, "schema": SCHEMA, "view-version": version("select * from ns.tbl"),
            "properties": {"p": "1"}, **extra}
    return http.ok("POST", "namespaces/ns/views", body)


def test_config_lists_view_endpoints(srv):
    eps = srv.http.ok("GET", "config")["endpoints"]
    for e in ("GET /v1/{prefix}/namespaces/{namespace}/views",
              "POST /v1/{prefix}/namespaces/{namespace}/views",
              "GET /v1/{prefix}/namespaces/{namespace}/views/{view}",
              "HEAD /v1/{prefix}/namespaces/{namespace}/views/{view}",
              "POST /v1/{prefix}/namespaces/{namespace}/views/{view}",
              "DELETE /v1/{prefix}/namespaces/{namespace}/views/{view}",
              "POST /v1/{prefix}/views/rename",
              "POST /v1/{prefix}/namespaces/{namespace}/register-view"):
        assert e in eps


def test_create_load_replace_rename_drop(srv):
    http = srv.http
    res = create(http)
    m = res["metadata"]
    loc = res["metadata-location"]
    assert Path(loc).is_file() and "/ns.db/v/metadata/00000-" in loc
    assert json.loads(Path(loc).read_text()) == m
    assert m["format-version"] == 1 and m["current-version-id"] == 1
    assert [s["schema-id"] for s in m["schemas"]] == [0]
    assert m["versions"][0]["schema-id"] == 0 and m["versions"][0]["version-id"] == 1
    assert m["properties"] == {"p": "1"}
    assert [e["version-id"] for e in m["version-log"]] == [1]
    assert http.ok("GET", "namespaces/ns/views") == {
        "identifiers": [{"namespace": ["ns"], "name": "v"}], "next-page-token": None}
    assert http.ok("GET", "namespaces/ns/tables")["identifiers"] == []
    assert http.call("HEAD", "namespaces/ns/views/v")[0] == 204
    assert http.call("HEAD", "namespaces/ns/views/nope")[0] == 404
    assert http.ok("GET", "namespaces/ns/views/v")["metadata"] == m

    # a replace as Java's client sends it: the schema, a version on it, made current
    uuid = m["view-uuid"]
    commit = {"requirements": [{"type": "assert-view-uuid", "uuid": uuid}], "updates": [
        {"action": "set-properties", "updates": {"replace.drop-dialect.allowed": "true"}},
        {"action": "add-schema", "schema": OTHER},
        {"action": "add-view-version", "view-version": version("select 2", "trino", -1, 2)},
        {"action": "set-current-view-version", "view-version-id": -1}]}
    res2 = http.ok("POST", "namespaces/ns/views/v", commit)
    m2 = res2["metadata"]
    assert "/metadata/00001-" in res2["metadata-location"]
    assert m2["view-uuid"] == uuid and m2["current-version-id"] == 2
    assert [s["schema-id"] for s in m2["schemas"]] == [0, 1]
    assert m2["versions"][1]["schema-id"] == 1
    assert m2["versions"][1]["representations"][0]["dialect"] == "trino"
    assert [e["version-id"] for e in m2["version-log"]] == [1, 2]
    # the same schema and version again, by their ids: both are reused, nothing
    # changes and no file is written
    again = {"updates": [
        {"action": "add-schema", "schema": OTHER},
        {"action": "add-view-version", "view-version": version("select 2", "trino", 1, 2)},
        {"action": "set-current-view-version", "view-version-id": 2}]}
    res3 = http.ok("POST", "namespaces/ns/views/v", again)
    assert res3 == res2
    assert len(list(Path(loc).parent.iterdir())) == 2
    # another view's uuid: the requirement fails
    bad = dict(commit, requirements=[{"type": "assert-view-uuid",
                                      "uuid": "00000000-0000-4000-8000-000000000000"}])
    status, err = http.call("POST", "namespaces/ns/views/v", bad)
    assert status == 409 and err["error"]["type"] == "CommitFailedException"

    http.ok("POST", "views/rename", {"source": {"namespace": ["ns"], "name": "v"},
                                     "destination": {"namespace": ["other"], "name": "w"}},
            status=204)
    assert http.call("GET", "namespaces/ns/views/v")[0] == 404
    assert http.ok("GET", "namespaces/other/views/w")["metadata"] == res3["metadata"]
    http.ok("DELETE", "namespaces/other/views/w", status=204)
    status, err = http.call("DELETE", "namespaces/other/views/w")
    assert status == 404 and err["error"] == {"message": "View does not exist: other.w",
                                              "type": "NoSuchViewException", "code": 404}


def test_java_errors(srv):
    http = srv.http
    create(http)
    status, err = http.call("POST", "namespaces/ns/views", {
        "name": "v", "schema": SCHEMA, "view-version": version("x"), "properties": {}})
    assert status == 409 and err["error"]["message"] == "View already exists: ns.v"
    http.ok("POST", "namespaces/ns/tables", {"name": "t", "schema": SCHEMA})
    status, err = http.call("POST", "namespaces/ns/views", {
        "name": "t", "schema": SCHEMA, "view-version": version("x"), "properties": {}})
    assert status == 409 and err["error"]["message"] == "Table with same name already exists: ns.t"
    status, err = http.call("POST", "namespaces/ns/tables", {"name": "v", "schema": SCHEMA})
    assert status == 409 and err["error"]["message"] == "View with same name already exists: ns.v"
    status, err = http.call("GET", "namespaces/gone/views")
    assert status == 404 and err["error"]["type"] == "NoSuchNamespaceException"
    status, err = http.call("POST", "views/rename", {
        "source": {"namespace": ["ns"], "name": "v"},
        "destination": {"namespace": ["ns"], "name": "t"}})
    assert status == 409 and err["error"]["message"] == \
        "Cannot rename ns.v to ns.t. Table already exists"
    two = version("a", "trino")
    two["representations"].append({"type": "sql", "sql": "b", "dialect": "Trino"})
    status, err = http.call("POST", "namespaces/ns/views", {
        "name": "x", "schema": SCHEMA, "view-version": two, "properties": {}})
    assert status == 400 and err["error"] == {
        "message": "Invalid view version: Cannot add multiple queries for dialect trino",
        "type": "IllegalArgumentException", "code": 400}
    # a table is not a view, and a table's namespace holds no views
    assert http.call("GET", "namespaces/ns/views/t")[0] == 404
    assert [i["name"] for i in http.ok("GET", "namespaces/ns/views")["identifiers"]] == ["v"]


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b"{}", b'{"name": "x"}',
    b'{"name": "x", "schema": 1, "view-version": {}}',
    b'{"name": "x", "schema": {"type": "struct", "fields": []}, "view-version": {}}',
    b'{"name": "x", "schema": {"type": "struct", "fields": [{"id": 1}]}, '
    b'"view-version": {"version-id": 1, "timestamp-ms": 1, "schema-id": 0, '
    b'"default-namespace": ["ns"], "representations": [{"type": "sql", "sql": "s", '
    b'"dialect": "d"}]}, "properties": {}}',
    b'{"name": "x", "schema": {"type": "struct", "fields": []}, "view-version": '
    b'{"version-id": 1, "timestamp-ms": 1, "schema-id": 0, "default-namespace": "ns", '
    b'"representations": []}, "properties": {"a": 1}}',
    b'{"name": "x", "location": "/etc", "schema": {"type": "struct", "fields": []}, '
    b'"view-version": {"version-id": 1, "timestamp-ms": 1, "schema-id": 0, '
    b'"default-namespace": ["ns"], "representations": [{"type": "sql", "sql": "s", '
    b'"dialect": "d"}]}, "properties": {}}',
])
def test_bad_create_bodies_are_400(srv, body):
    req = urllib.request.Request(srv.http.url + "namespaces/ns/views", data=body, method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 400, e.value.read()


@pytest.mark.parametrize("updates", [
    "nope", [1], [{"action": "fly"}],
    [{"action": "set-current-view-version", "view-version-id": 99}],
    [{"action": "set-current-view-version", "view-version-id": -1}],
    [{"action": "add-view-version", "view-version": {"version-id": 2}}],
    [{"action": "add-view-version", "view-version": version("s", schema_id=42)}],
    [{"action": "set-location", "location": "/etc"}],
    [{"action": "set-properties", "updates": {"write.metadata.path": "/etc"}}],
    [{"action": "set-properties", "updates": {"a": None}}],
    [{"action": "assign-uuid", "uuid": "00000000-0000-4000-8000-000000000000"}],
    [{"action": "upgrade-format-version", "format-version": 2}],
])
def test_bad_commits_are_400(srv, updates):
    create(srv.http)
    status, err = srv.http.call("POST", "namespaces/ns/views/v", {"updates": updates})
    assert status == 400, err


def test_register(srv):
    http = srv.http
    res = create(http, properties={"gc.enabled": "false"})
    http.ok("DELETE", "namespaces/ns/views/v", status=204)
    reg = http.ok("POST", "namespaces/ns/register-view",
                  {"name": "r", "metadata-location": res["metadata-location"]})
    assert reg["metadata"] == res["metadata"]
    assert reg["metadata-location"] == res["metadata-location"]
    status, err = http.call("POST", "namespaces/ns/register-view",
                            {"name": "r", "metadata-location": res["metadata-location"]})
    assert status == 409 and err["error"]["message"] == "View already exists: ns.r"
    status, _ = http.call("POST", "namespaces/ns/register-view",
                          {"name": "s", "metadata-location": "/etc/passwd"})
    assert status == 400


def test_pyiceberg(srv):
    from pyiceberg.catalog.rest import RestCatalog
    from pyiceberg.schema import Schema
    from pyiceberg.types import IntegerType, NestedField
    from pyiceberg.view.metadata import SQLViewRepresentation, ViewVersion

    cat = RestCatalog("firn", uri=srv.url)
    schema = Schema(NestedField(1, "id", IntegerType(), required=True))
    vv = ViewVersion(schema_id=0, default_namespace=("ns",), representations=[
        SQLViewRepresentation(type="sql", sql="select id from ns.t", dialect="trino")])
    view = cat.create_view(("ns", "pv"), schema, vv, properties={"k": "v"})
    assert view.metadata.current_version_id == 1
    assert cat.view_exists(("ns", "pv"))
    assert not cat.view_exists(("ns", "nope"))
    assert cat.list_views("ns") == [("ns", "pv")]
    loaded = cat.load_view(("ns", "pv"))
    assert loaded.metadata.properties == {"k": "v"}
    rep = loaded.metadata.versions[0].representations[0]
    assert getattr(rep, "root", rep).sql == "select id from ns.t"
    assert cat.list_tables("ns") == []
    cat.drop_view(("ns", "pv"))
    assert not cat.view_exists(("ns", "pv"))
    assert cat.list_views("ns") == []
