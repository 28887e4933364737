"""firn maintain's delete policy (DESIGN §5): a data file is compacted when
the share of its rows deleted by merge-on-read passed
firn.compact.delete-ratio, or when more than firn.compact.max-delete-files
delete files apply to it; other files keep their deletes. PyIceberg and
DuckDB read the same rows before and after."""
from __future__ import annotations

import json

import pytest

import ice
from test_deletes import check_all_readers


def firn(run_firn, wh, *args):
    return run_firn("--warehouse", wh, *args).stdout


def files(run_firn, wh):
    return json.loads(firn(run_firn, wh, "files", "d.t", "--json"))


def data_files(run_firn, wh):
    """{partition city: (path, deleted-records)} of the live data files."""
    return {f["partition"].get("city"): (f["file-path"], f["deleted-records"])
            for f in files(run_firn, wh) if f["content"] == "data"}


def maintain(run_firn, wh):
    return json.loads(firn(run_firn, wh, "maintain", "d.t", "--json"))


def create(run_firn, wh, partition, *props):
    firn(run_firn, wh, "namespace", "create", "d")
    args = ["create", "d.t", "--schema", "id long not null, city string, v double",
            "--property", "write.delete.mode=merge-on-read"]
    if partition:
        args += ["--partition-by", partition]
    for p in props:
        args += ["--property", p]
    firn(run_firn, wh, *args)


def append(run_firn, wh, rows):
    p = wh / "in.csv"
    p.write_text("id,city,v\n" + "".join(f"{i},{c},{i * 0.5}\n" for i, c in rows))
    firn(run_firn, wh, "append", "d.t", p)


def test_delete_ratio_compacts_only_the_file_over_it(run_firn, tmp):
    wh = tmp / "wh"
    create(run_firn, wh, "city", "firn.compact.delete-ratio=0.1")
    append(run_firn, wh, [(i, "Oslo" if i < 100 else "Lima") for i in range(200)])
    firn(run_firn, wh, "delete", "d.t", "--where", "id < 20")              # 20% of Oslo's file
    firn(run_firn, wh, "delete", "d.t", "--where", "id >= 100 and id < 105")  # 5% of Lima's file
    before = data_files(run_firn, wh)
    assert before["Oslo"][1] == 20 and before["Lima"][1] == 5
    want = check_all_readers(run_firn, wh)
    assert sorted(r[0] for r in want) == list(range(20, 100)) + list(range(105, 200))
    res = maintain(run_firn, wh)
    assert res["compacted-files"] == 1 and res["compaction-snapshot-id"] != 0
    after = data_files(run_firn, wh)
    assert after["Oslo"][0] != before["Oslo"][0] and after["Oslo"][1] == 0  # rewritten, deletes applied
    assert after["Lima"] == before["Lima"]                                   # kept, with its deletes
    deletes = [f for f in files(run_firn, wh) if f["content"] == "position-deletes"]
    assert len(deletes) == 1 and deletes[0]["partition"] == {"city": "Lima"}
    assert check_all_readers(run_firn, wh) == want


def test_delete_ratio_leaves_files_under_it(run_firn, tmp):
    wh = tmp / "wh"
    create(run_firn, wh, "city")  # the default ratio, 0.1
    append(run_firn, wh, [(i, "Oslo" if i < 100 else "Lima") for i in range(200)])
    firn(run_firn, wh, "delete", "d.t", "--where", "id < 5")
    firn(run_firn, wh, "delete", "d.t", "--where", "id >= 100 and id < 108")
    before = files(run_firn, wh)
    want = check_all_readers(run_firn, wh)
    res = maintain(run_firn, wh)
    assert res["compacted-files"] == 0 and res["compaction-snapshot-id"] == 0
    assert files(run_firn, wh) == before
    assert check_all_readers(run_firn, wh) == want


def test_delete_ratio_property_picks_the_file(run_firn, tmp):
    wh = tmp / "wh"
    create(run_firn, wh, None, "firn.compact.delete-ratio=0.15")
    append(run_firn, wh, [(i, "Oslo") for i in range(100)])
    firn(run_firn, wh, "delete", "d.t", "--where", "id < 10")  # 10%: under 0.15
    assert maintain(run_firn, wh)["compacted-files"] == 0
    firn(run_firn, wh, "delete", "d.t", "--where", "id < 20")  # 20%: over it
    want = check_all_readers(run_firn, wh)
    res = maintain(run_firn, wh)
    assert res["compacted-files"] == 1
    after = files(run_firn, wh)
    assert [(f["content"], f["record-count"], f["deleted-records"]) for f in after] == [("data", 80, 0)]
    assert check_all_readers(run_firn, wh) == want
    assert sorted(r[0] for r in want) == list(range(20, 100))


@pytest.mark.parametrize("limit,compacted", [(1, True), (2, False)])
def test_max_delete_files(run_firn, tmp, limit, compacted):
    wh = tmp / "wh"
    create(run_firn, wh, None, f"firn.compact.max-delete-files={limit}")
    append(run_firn, wh, [(i, "Oslo") for i in range(100)])
    firn(run_firn, wh, "delete", "d.t", "--where", "id = 3")  # 1% each: under the ratio
    firn(run_firn, wh, "delete", "d.t", "--where", "id = 7")
    before = files(run_firn, wh)
    assert [f["content"] for f in before].count("position-deletes") == 2
    want = check_all_readers(run_firn, wh)
    res = maintain(run_firn, wh)
    after = files(run_firn, wh)
    if compacted:
        assert res["compacted-files"] == 1 and res["compaction-snapshot-id"] != 0
        assert [(f["content"], f["record-count"], f["deleted-records"]) for f in after] == [("data", 98, 0)]
        loc = ice.describe(run_firn, wh, "d.t")["metadata-location"]
        assert sorted(r[0] for r in ice.duck_rows(loc)) == [i for i in range(100) if i not in (3, 7)]
    else:
        assert res["compacted-files"] == 0 and after == before
    assert check_all_readers(run_firn, wh) == want
