"""The Iceberg REST Compatibility Kit (RESTCompatibilityKitSuite of
iceberg-open-api 1.11.0 from Maven Central, run by JUnit's console launcher
without Gradle: scripts/fetch_rck.sh, scripts/run_rck.sh).

First against Iceberg's own Java reference server (RESTCatalogServer on a
JdbcCatalog over SQLite), which proves the harness: the kit finds its tests,
runs them and they pass. Then against `firn serve`: every test that does not
skip itself (an assumption about optional catalog features) must pass."""
from __future__ import annotations

import json
import os
from pathlib import Path
import pytest

from restserver import firn_server, java_server, run_rck

# The kit has 157 tests in 1.11.0 (CatalogTests and ViewCatalogTests through
# RESTCompatibilityKitCatalogTests and ...ViewCatalogTests); against the Java
# server 144 pass, 12 abort on assumptions (nested namespaces, names with a dot or
# a slash, the empty namespace) and 1 is disabled.
MIN_TESTS = 150
FIRN_RCK_SETTINGS = ("-Drck.requires-namespace-create=true",)
FIRN_SERVE_OPTIONS = ("--allow-location", "/tmp")


def _check(res, server_log):
    summary = res.output[-4000:]
    assert res.counts.get("found", 0) >= MIN_TESTS, summary
    assert res.counts.get("failed") == 0, (
        f"RCK failures: {res.failed_tests}\n{summary}\nserver log: {server_log}")
    assert res.counts.get("successful", 0) > 0, summary
    assert res.returncode == 0, summary
    # every test the launcher started ended as passed or as skipped by its own assumption
    assert res.counts["successful"] + res.counts.get("aborted", 0) == res.counts["started"], summary


def test_rck_against_java_reference_server(tmp):
    wh = tmp / "wh"
    with java_server(wh, tmp / "java-server.log") as srv:
        res = run_rck(srv.url + "/", wh, tmp / "rck")
    _check(res, srv.log)
    # the harness really ran the kit's tests, not an empty suite
    assert res.counts["successful"] >= 140, res.output
    assert res.tests.get("testBasicCreateTable()") == "ok", sorted(res.tests)[:20]
    assert res.tests.get("basicCreateView()") == "ok", sorted(res.tests)[:20]


@pytest.mark.conformance(("REST catalog: firn serve", "Iceberg RCK"))
def test_rck_against_firn_serve(tmp, firn_bin):
    wh = tmp / "wh"
    wh.mkdir()
    # the kit creates tables at fixed places outside any warehouse (file:/tmp/ns/tbl,
    # file:/tmp/newdb/newtable): the operator allows them, as one would a data lake's root
    with firn_server(firn_bin, wh, tmp / "firn-serve.log", extra=FIRN_SERVE_OPTIONS) as srv:
        # firn, like most catalogs, creates no namespace implicitly: the kit's own
        # setting makes its tests create the namespaces they use
        res = run_rck(srv.url + "/", wh, tmp / "rck", FIRN_RCK_SETTINGS)
    out = os.environ.get("FIRN_CONFORMANCE_OUT")
    if out:  # make conformance: the kit's summary goes into docs/conformance.md
        Path(out).with_name("rck-summary.json").write_text(json.dumps({
            "counts": res.counts, "seconds": round(res.seconds),
            "not_ok": {k: v for k, v in sorted(res.tests.items()) if v != "ok"}}, indent=1))
    _check(res, srv.log)
