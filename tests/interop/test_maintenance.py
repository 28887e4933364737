"""Maintenance (issue 4): compaction applies and drops deletes and merges
small files; expire removes snapshots and exactly the files only they
used. PyIceberg and DuckDB read the same rows after each step; compaction
racing appends and deletes loses and resurrects nothing."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import ice
from firnrun import assert_error
from test_deletes import check_all_readers, delete, make


def files(run_firn, wh, *extra):
    return json.loads(run_firn("--warehouse", wh, "files", "d.t", "--json", *extra).stdout)


@pytest.mark.conformance(("compact", "PyIceberg"), ("compact", "DuckDB"))
@pytest.mark.parametrize("fv", [2, 3])
def test_compact_applies_deletes_and_merges(run_firn, tmp, fv):
    wh = tmp / "wh"
    make(run_firn, wh, fv)
    for k in range(3):  # more small files per partition
        p = wh / f"more{k}.csv"
        p.write_text("id,city,v,note\n" + "".join(f"{1000 + k * 10 + i},Oslo,{i}.0,x\n" for i in range(10)))
        run_firn("--warehouse", wh, "append", "d.t", p)
    delete(run_firn, wh, "id < 30")
    want = check_all_readers(run_firn, wh, pyiceberg=fv == 2)
    n_before = len(files(run_firn, wh))
    out = json.loads(run_firn("--warehouse", wh, "compact", "d.t", "--json").stdout)
    assert out["files-rewritten"] >= 6
    after = files(run_firn, wh)
    assert all(f["content"] == "data" for f in after)  # deletes applied and dropped
    assert len(after) == 3 and len(after) < n_before     # one file per partition
    assert check_all_readers(run_firn, wh) == want
    snaps = ice.snapshots(run_firn, wh, "d.t")
    assert snaps[-1]["operation"] == "replace"
    # nothing left to do: no snapshot
    out = json.loads(run_firn("--warehouse", wh, "compact", "d.t", "--json").stdout)
    assert out["snapshot-id"] == 0 and len(ice.snapshots(run_firn, wh, "d.t")) == len(snaps)


@pytest.mark.conformance(("expire", "PyIceberg"), ("expire", "DuckDB"))
def test_expire_keeps_what_live_snapshots_need(run_firn, tmp):
    wh = tmp / "wh"
    make(run_firn, wh, 2)
    first = ice.snapshots(run_firn, wh, "d.t")[0]["snapshot-id"]
    delete(run_firn, wh, "id < 100")
    # time travel to before the delete returns the deleted rows
    assert len(ice.firn_rows(run_firn, wh, "d.t", "--snapshot", first)) == 900
    run_firn("--warehouse", wh, "compact", "d.t")
    tbl = ice.catalog(wh).load_table("d.t")
    old_files = {t.file.file_path for t in tbl.scan(snapshot_id=first).plan_files()}
    dry = json.loads(run_firn("--warehouse", wh, "expire", "d.t", "--retain-last", "1",
                              "--older-than", "9999999999999", "--dry-run", "--json").stdout)
    assert dry["snapshots-expired"] == 2 and dry["dry-run"]
    assert all(Path(f).exists() for f in old_files)
    res = json.loads(run_firn("--warehouse", wh, "expire", "d.t", "--retain-last", "1",
                              "--older-than", "9999999999999", "--json").stdout)
    assert res["snapshots-expired"] == 2 and res["files-deleted"] == dry["files-deleted"]
    snaps = ice.snapshots(run_firn, wh, "d.t")
    assert len(snaps) == 1
    assert not any(Path(f).exists() for f in old_files)  # only the expired snapshots used them
    assert_error(run_firn("--warehouse", wh, "scan", "d.t", "--snapshot", first, check=False))
    rows = check_all_readers(run_firn, wh)
    assert len(rows) == 800
    for f in files(run_firn, wh):
        assert Path(f["file-path"]).exists()
    # a tag keeps its snapshot
    make(run_firn, tmp / "wh2", 2)
    wh2 = tmp / "wh2"
    s0 = ice.snapshots(run_firn, wh2, "d.t")[0]["snapshot-id"]
    run_firn("--warehouse", wh2, "tag", "d.t", "keep", "--snapshot", s0)
    delete(run_firn, wh2, "id < 10")
    run_firn("--warehouse", wh2, "expire", "d.t", "--retain-last", "1", "--older-than", "9999999999999")
    assert len(ice.firn_rows(run_firn, wh2, "d.t", "--ref", "keep")) == 900


def test_compaction_races_appends_and_deletes(run_firn, tmp, firn_bin):
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "d")
    run_firn("--warehouse", wh, "create", "d.t", "--schema", "w int not null, k int not null",
             "--property", "commit.retry.num-retries=100", "--property", "commit.retry.min-wait-ms=5",
             "--property", "commit.retry.max-wait-ms=100")
    seed = wh / "seed.csv"
    seed.write_text("w,k\n" + "".join(f"-1,{k}\n" for k in range(100)))
    run_firn("--warehouse", wh, "append", "d.t", seed)
    fb, w = str(firn_bin), str(wh)
    appender = ("set -e; for k in $(seq 1 15); do printf 'w,k\\n%s,%s\\n' $1 $k > $D/a-$1-$k.csv; "
                f"'{fb}' --warehouse '{w}' append d.t $D/a-$1-$k.csv >/dev/null; done")
    deleter = ("set -e; for i in $(seq 0 9); do "
               f"'{fb}' --warehouse '{w}' delete d.t --where \"w = -1 and k >= $((i*5)) and k < $((i*5+5))\" >/dev/null; done")
    compactor = f"set -e; for i in $(seq 1 6); do '{fb}' --warehouse '{w}' compact d.t >/dev/null; done"
    env = {"D": str(wh), "PATH": "/usr/bin:/bin"}
    procs = [subprocess.Popen(["bash", "-c", appender, "x", str(i)], env=env, stderr=subprocess.PIPE)
             for i in range(3)]
    procs.append(subprocess.Popen(["bash", "-c", deleter], env=env, stderr=subprocess.PIPE))
    procs.append(subprocess.Popen(["bash", "-c", compactor], env=env, stderr=subprocess.PIPE))
    errs = [p.communicate(timeout=600)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 5, errs
    want = sorted([(-1, k) for k in range(50, 100)] + [(i, k) for i in range(3) for k in range(1, 16)])
    assert sorted(ice.firn_rows(run_firn, wh, "d.t")) == want
    assert sorted(ice.pyiceberg_rows(wh, "d.t")) == want
    run_firn("--warehouse", wh, "compact", "d.t")
    assert sorted(ice.duck_rows(ice.describe(run_firn, wh, "d.t")["metadata-location"])) == want


@pytest.mark.conformance(("rewrite-manifests, remove-orphans, maintain", "PyIceberg"),
                         ("rewrite-manifests, remove-orphans, maintain", "DuckDB"))
def test_rewrite_manifests_orphans_maintain(run_firn, tmp):
    import os
    import time
    wh = tmp / "wh"
    make(run_firn, wh, 2)
    for k in range(4):
        p = wh / f"m{k}.csv"
        p.write_text("id,city,v,note\n" + "".join(f"{5000 + k * 10 + i},Lima,{i}.0,m\n" for i in range(10)))
        run_firn("--warehouse", wh, "append", "d.t", p)
    delete(run_firn, wh, "id < 5")
    want = check_all_readers(run_firn, wh)
    tbl = ice.catalog(wh).load_table("d.t")
    before = len([m for m in tbl.current_snapshot().manifests(tbl.io) if m.content == 0])
    out = run_firn("--warehouse", wh, "rewrite-manifests", "d.t").stdout
    tbl = ice.catalog(wh).load_table("d.t")
    after = len([m for m in tbl.current_snapshot().manifests(tbl.io) if m.content == 0])
    assert after == 1 < before, out
    assert check_all_readers(run_firn, wh) == want
    # orphans: an old stray file goes, a young one and every referenced file stay
    data = wh / "d.db" / "t" / "data"
    old, young = data / "old-stray.parquet", data / "young-stray.parquet"
    old.write_bytes(b"x")
    young.write_bytes(b"y")
    t_old = time.time() - 5 * 86400
    os.utime(old, (t_old, t_old))
    dry = json.loads(run_firn("--warehouse", wh, "remove-orphans", "d.t", "--dry-run", "--json").stdout)
    assert dry["orphans"] == 1 and old.exists()
    res = json.loads(run_firn("--warehouse", wh, "maintain", "d.t", "--json").stdout)
    assert res["orphans-removed"] == 1 and not old.exists() and young.exists()
    assert res["compacted-files"] >= 2
    assert check_all_readers(run_firn, wh) == want


def test_compaction_keeps_the_sort_order(run_firn, tmp):
    import pyarrow.parquet as pq
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "d")
    run_firn("--warehouse", wh, "create", "d.t", "--schema", "id long not null, city string, v double",
             "--partition-by", "city", "--sort-by", "v desc nulls last, id")
    for k in range(4):
        p = wh / f"s{k}.csv"
        p.write_text("id,city,v\n" + "".join(f"{k * 100 + i},{['Oslo', 'Lima'][i % 2]},{(i * 37 + k) % 50 if i % 9 else ''}\n"
                                            for i in range(100)))
        run_firn("--warehouse", wh, "append", "d.t", p)
    tbl = ice.catalog(wh).load_table("d.t")
    assert {t.file.sort_order_id for t in tbl.scan().plan_files()} == {0}  # appends are not sorted
    want = ice.rows(tbl.scan().to_arrow())
    run_firn("--warehouse", wh, "compact", "d.t")
    tbl = ice.catalog(wh).load_table("d.t")
    tasks = list(tbl.scan().plan_files())
    assert len(tasks) == 2
    for t in tasks:
        assert t.file.sort_order_id == tbl.sort_order().order_id
        rows = pq.read_table(t.file.file_path).to_pylist()
        keys = [(r["v"] is None, -(r["v"] or 0), r["id"]) for r in rows]
        assert keys == sorted(keys)  # v desc, nulls last, then id
    assert ice.rows(tbl.scan().to_arrow()) == want
