"""firn.Catalog(uri="http://...") against `firn serve` (the REST catalog),
with a credential; what the module commits there PyIceberg reads."""
from __future__ import annotations

import pyarrow as pa
import pytest

import firn
import firnrun
import ice
from restserver import firn_server


def test_rest_catalog_with_credential(tmp_path):
    wh = tmp_path / "wh"
    with firn_server(firnrun.firn_path(), wh, tmp_path / "serve.log",
                     extra=["--credential", "etl:s3cret"]) as s:
        with pytest.raises(firn.Error, match="401"):
            firn.Catalog(uri=s.url).namespaces()
        c = firn.Catalog(uri=s.url, credential="etl:s3cret")
        c.create_namespace("r")
        t = c.create_table("r.t", "id long not null, s string")
        t.append(pa.table({"id": pa.array([1, 2, 3], pa.int64()), "s": ["a", "b", "c"]}))
        t.delete("id = 2")
        assert ice.rows(pa.table(t.scan())) == [(1, "a"), (3, "c")]
        assert c.list_tables("r") == ["t"]
    # the server's warehouse: its SQL catalog and files, read by PyIceberg
    assert ice.pyiceberg_rows(wh, "r.t") == [(1, "a"), (3, "c")]
