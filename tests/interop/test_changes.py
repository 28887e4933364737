"""update, merge (upsert) and overwrite (issue 4): each one snapshot; the
rows firn reads are the expected ones, and PyIceberg (v2) and DuckDB (v2,
v3) read the same."""
from __future__ import annotations

import json

import pytest

import ice
from firnrun import assert_error
from test_deletes import check_all_readers, make


def firn_json(run_firn, wh, *args):
    return json.loads(run_firn("--warehouse", wh, *args, "--json").stdout)


@pytest.mark.conformance(("update", "PyIceberg"), ("update", "DuckDB"))
@pytest.mark.parametrize("fv", [2, 3])
def test_update_both_modes(run_firn, tmp, fv):
    wh = tmp / "wh"
    make(run_firn, wh, fv)
    before = {r[0]: r for r in ice.firn_rows(run_firn, wh, "d.t")}
    # a few rows per file: merge-on-read
    r = firn_json(run_firn, wh, "update", "d.t", "--set", "v = v * 2 + 1, note = 'upd'", "--where", "id < 12")
    assert r["rows"] == 12 and r["delete-files"] == 3 and r["files-rewritten"] == 0
    # most of one partition: copy-on-write
    r = firn_json(run_firn, wh, "update", "d.t", "--set", "v = -1", "--where", "city = 'Pune' and id > 30")
    assert r["files-rewritten"] == 1
    rows = check_all_readers(run_firn, wh, pyiceberg=fv == 2)
    assert len(rows) == 900
    got = {x[0]: x for x in rows}
    for i in range(900):
        old = before[i]
        if i < 12:
            assert got[i] == (i, old[1], old[2] * 2 + 1, "upd"), i
        elif old[1] == "Pune" and i > 30:
            assert got[i] == (i, old[1], -1.0, old[3]), i
        else:
            assert got[i] == old, i
    assert ice.snapshots(run_firn, wh, "d.t")[-1]["operation"] == "overwrite"
    # bad SETs change nothing
    n = len(ice.snapshots(run_firn, wh, "d.t"))
    for bad in ["nope = 1", "v = 'x'", "id = NULL", "city = city + 1", "v ="]:
        assert_error(run_firn("--warehouse", wh, "update", "d.t", "--set", bad, "--where", "id = 1",
                              check=False))
    assert len(ice.snapshots(run_firn, wh, "d.t")) == n


@pytest.mark.conformance(("merge (upsert)", "PyIceberg"), ("merge (upsert)", "DuckDB"))
@pytest.mark.parametrize("fv", [2, 3])
def test_merge_upsert(run_firn, tmp, fv):
    wh = tmp / "wh"
    make(run_firn, wh, fv)
    up = wh / "up.csv"
    up.write_text("id,city,v,note\n" + "".join(f"{i},Oslo,{i}.5,merged\n" for i in range(0, 1800, 100)))
    r = firn_json(run_firn, wh, "merge", "d.t", up, "--on", "id")
    rows = check_all_readers(run_firn, wh, pyiceberg=fv == 2)
    ids = [x[0] for x in rows]
    assert len(ids) == len(set(ids)) == 900 + 9
    got = {x[0]: x for x in rows}
    for i in range(0, 1800, 100):
        assert got[i] == (i, "Oslo", i + 0.5, "merged")
    dup = wh / "dup.csv"
    dup.write_text("id,city,v,note\n5,a,1,x\n5,b,2,y\n")
    assert_error(run_firn("--warehouse", wh, "merge", "d.t", dup, "--on", "id", check=False),
                 mentions=["more than once"])
    assert_error(run_firn("--warehouse", wh, "merge", "d.t", up, "--on", "nope", check=False),
                 mentions=["nope"])
    nokey = wh / "nokey.csv"
    nokey.write_text("id,city,v\n1,Oslo,1.0\n")
    assert_error(run_firn("--warehouse", wh, "merge", "d.t", nokey, "--on", "id,note", check=False),
                 mentions=["note"])


@pytest.mark.conformance(("overwrite", "PyIceberg"), ("overwrite", "DuckDB"))
def test_overwrite(run_firn, tmp):
    wh = tmp / "wh"
    make(run_firn, wh, 2)
    new = wh / "new.csv"
    new.write_text("id,city,v,note\n5000,Lima,1.0,new\n5001,Lima,2.0,new\n")
    firn_json(run_firn, wh, "overwrite", "d.t", new, "--where", "city = 'Lima'")
    rows = check_all_readers(run_firn, wh)
    lima = sorted(x[0] for x in rows if x[1] == "Lima")
    assert lima == [5000, 5001] and len(rows) == 600 + 2
    firn_json(run_firn, wh, "overwrite", "d.t", new)
    assert sorted(x[0] for x in check_all_readers(run_firn, wh)) == [5000, 5001]
