"""Appends merge manifests as Java's merge append does
(commit.manifest.min-count-to-merge, here 3 instead of 100): the merged
manifest keeps the older files as EXISTING with their own sequence
numbers, so deletes committed in between still apply to exactly the rows
they deleted, for firn, PyIceberg and DuckDB."""
from __future__ import annotations

import fastavro
import pytest

import ice


def manifest_list(run_firn, wh, table):
    loc = ice.describe(run_firn, wh, table)["metadata-location"]
    meta = __import__("json").loads(open(loc.removeprefix("file://")).read())
    snap = next(s for s in meta["snapshots"] if s["snapshot-id"] == meta["current-snapshot-id"])
    with open(snap["manifest-list"].removeprefix("file://"), "rb") as f:
        return snap, list(fastavro.reader(f))


@pytest.mark.parametrize("fv", [2, 3])
def test_merge_append_keeps_sequence_numbers(run_firn, tmp, fv):
    wh = tmp / "w"
    run_firn("--warehouse", wh, "namespace", "create", "d")
    run_firn("--warehouse", wh, "create", "d.t", "--schema", "id long not null, v string",
             "--format-version", str(fv), "--property", "commit.manifest.min-count-to-merge=3",
             "--property", "write.delete.mode=merge-on-read")
    for i in range(2):
        p = tmp / f"a{i}.csv"
        p.write_text("id,v\n" + "".join(f"{k},x{k}\n" for k in range(i * 10, i * 10 + 10)))
        run_firn("--warehouse", wh, "append", "d.t", p)
    run_firn("--warehouse", wh, "delete", "d.t", "--where", "id in (0, 2, 4, 6, 8, 10, 12, 14, 16, 18)", "--mode", "merge-on-read")
    # the delete's file must not apply to rows appended after it: re-add even ids
    p = tmp / "b.csv"
    p.write_text("id,v\n" + "".join(f"{k},y{k}\n" for k in range(0, 20, 2)))
    run_firn("--warehouse", wh, "append", "d.t", p)
    snap, ml = manifest_list(run_firn, wh, "d.t")
    # 3 data manifests (two appends and this one): merged into one; the
    # delete manifest is the first of its kind, alone: kept
    data = [m for m in ml if m["content"] == 0]
    dels = [m for m in ml if m["content"] == 1]
    assert len(data) == 1 and len(dels) == 1
    assert data[0]["added_files_count"] == 1 and data[0]["existing_files_count"] == 2
    assert data[0]["min_sequence_number"] == 1 and data[0]["sequence_number"] == 4
    assert snap["summary"]["manifests-created"] == "1"
    assert snap["summary"]["manifests-kept"] == "1"
    assert snap["summary"]["manifests-replaced"] == "3"
    with open(data[0]["manifest_path"].removeprefix("file://"), "rb") as f:
        entries = list(fastavro.reader(f))
    assert [(e["status"], e["sequence_number"]) for e in entries] == [(1, None), (0, 2), (0, 1)]
    want = sorted([(k, f"x{k}") for k in range(1, 20, 2)] + [(k, f"y{k}") for k in range(0, 20, 2)])
    got = ice.firn_rows(run_firn, wh, "d.t")
    assert sorted(tuple(r) for r in got) == want
    loc = ice.describe(run_firn, wh, "d.t")["metadata-location"]
    assert ice.duck_rows(loc) == got
    if fv == 2:
        assert ice.pyiceberg_rows(wh, "d.t") == got
    # the new manifest, merged into another, is gone; old manifests stay
    # (older snapshots list them)
    assert not (ml and any(m["manifest_path"].endswith("-m0.avro") and m["added_snapshot_id"] == snap["snapshot-id"]
                           for m in ml))


def test_merge_append_disabled(run_firn, tmp):
    wh = tmp / "w"
    run_firn("--warehouse", wh, "namespace", "create", "d")
    run_firn("--warehouse", wh, "create", "d.t", "--schema", "id long", "--property",
             "commit.manifest.min-count-to-merge=2", "--property", "commit.manifest-merge.enabled=false")
    p = tmp / "a.csv"
    p.write_text("id\n1\n")
    for _ in range(3):
        run_firn("--warehouse", wh, "append", "d.t", p)
    snap, ml = manifest_list(run_firn, wh, "d.t")
    assert len(ml) == 3
    assert snap["summary"]["manifests-replaced"] == "0" and snap["summary"]["manifests-kept"] == "2"
