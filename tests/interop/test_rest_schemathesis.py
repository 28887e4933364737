"""schemathesis (property-based requests generated from the REST spec's
OpenAPI file, tests/interop/data/rest-catalog-open-api-1.11.0.yaml) against
`firn serve`, bounded in examples and time: no response is a 5xx, none
breaks the connection, and every response is valid against the spec."""
from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import firnrun
from firnrun import REPO
from restserver import firn_server

SPEC = Path(__file__).parent / "data" / "rest-catalog-open-api-1.11.0.yaml"


@pytest.mark.conformance(("REST catalog: firn serve", "schemathesis"))
def test_generated_requests_get_valid_answers(tmp_path):
    wh = tmp_path / "wh"
    with firn_server(firnrun.firn_path(), wh, tmp_path / "serve.log") as s:
        # a namespace and a table, so that generated names sometimes exist
        firnrun.run("--catalog", s.url, "namespace", "create", "accounting")
        firnrun.run("--catalog", s.url, "create", "accounting.sales", "--schema", "id long")
        st = REPO / ".venv" / "bin" / "st"
        p = subprocess.run(
            [str(st), "run", str(SPEC), "--url", s.url,
             "--checks", "not_a_server_error,response_schema_conformance",
             "--max-examples", "8", "--max-time", "75", "--workers", "1",
             "--generation-deterministic", "--report", "junit",
             "--report-dir", str(tmp_path / "st")],
            capture_output=True, text=True, timeout=300, cwd=tmp_path)  # its .schemathesis/
        out = p.stdout + p.stderr
        reports = list((tmp_path / "st").glob("*.xml"))
        assert reports, out[-3000:]
        cases = list(ET.parse(reports[0]).getroot().iter("testcase"))
        failed = [c.get("name") for c in cases if c.find("failure") is not None
                  or c.find("error") is not None]
        assert len(cases) >= 25, out[-3000:]
        assert failed == [], out[-6000:]
        assert p.returncode == 0, out[-3000:]
        assert s.proc.poll() is None, "the server died"
        # and it still answers
        assert firnrun.run("--catalog", s.url, "tables", "accounting").stdout.split() == [
            "accounting.sales"]
