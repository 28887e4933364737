"""Branches and tags that are whole (issue 14): tags and branches created,
moved (--force off the line), fast-forwarded and dropped; rollback to a
ref; writes to a branch (--branch NAME on append, overwrite, merge, delete,
update) that move only that branch; the write-audit-publish pattern end to
end; and the reference engines agree: PyIceberg and DuckDB read firn's
branches, PyIceberg and Spark write to branches that firn reads, and Spark
reads firn's. Also through a REST catalog (firn serve and Iceberg's Java
RESTCatalogServer), and expiry keeps what every branch needs."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
from pathlib import Path

import pyarrow as pa
import pytest

import firnrun
import ice
from firnrun import assert_error
from restserver import firn_server, java_server
from test_spark import spark  # noqa: F401  (the module's Spark session, on this module's spark_wh)

SCHEMA = "id long not null, name string, qty int"


# ---- helpers ------------------------------------------------------------------


def firn(run_firn, wh, *args, check=True):
    return run_firn("--warehouse", wh, *args, check=check)


def fj(run_firn, wh, *args):
    """A firn command's --json output."""
    return json.loads(firn(run_firn, wh, *args, "--json").stdout)


def csv_file(path: Path, rows) -> Path:
    path.write_text("id,name,qty\n" + "".join(f"{i},{n},{q}\n" for i, n, q in rows))
    return path


def rows_of(res) -> list:
    return sorted((r["id"], r["name"], r["qty"]) for r in map(json.loads, res.stdout.splitlines()))


def scan(run_firn, wh, table, *sel) -> list:
    return rows_of(firn(run_firn, wh, "scan", table, "--format", "jsonl", *sel))


def count(run_firn, wh, table, *sel) -> int:
    return int(firn(run_firn, wh, "count", table, *sel).stdout)


def meta(run_firn, wh, table) -> dict:
    return json.loads(Path(ice.describe(run_firn, wh, table)["metadata-location"]).read_text())


def refs(run_firn, wh, table) -> dict:
    return meta(run_firn, wh, table).get("refs", {})


def head(run_firn, wh, table, ref) -> int:
    return refs(run_firn, wh, table)[ref]["snapshot-id"]


def make_table(run_firn, wh, tmp, table="db.t", n=10, fv=2, **kw):
    """A table with one append of rows (i, "n<i>", i) for i < n."""
    firn(run_firn, wh, "namespace", "create", table.rsplit(".", 1)[0], check=False)
    firn(run_firn, wh, "create", table, "--schema", SCHEMA, "--format-version", str(fv), *kw.get("extra", ()))
    rows = [(i, f"n{i}", i) for i in range(n)]
    firn(run_firn, wh, "append", table, csv_file(tmp / f"{table}-base.csv", rows))
    return rows


def pyice_rows(wh, table, ref=None) -> list:
    """PyIceberg's rows of main, or of the snapshot ref names."""
    t = ice.catalog(wh).load_table(table)
    sid = t.snapshot_by_name(ref).snapshot_id if ref else None
    return sorted(tuple(r.values()) for r in t.scan(snapshot_id=sid).to_arrow().to_pylist())


# ---- tags ------------------------------------------------------------------------


def test_tag_create_move_needs_force_and_drop(run_firn, tmp):
    wh = tmp / "wh"
    make_table(run_firn, wh, tmp)
    s0 = ice.describe(run_firn, wh, "db.t")["current-snapshot-id"]
    out = fj(run_firn, wh, "tag", "db.t", "v1")
    assert out == {"ref": "v1", "type": "tag", "action": "created", "snapshot-id": s0,
                   "previous-snapshot-id": None}
    # the same again: nothing changes, nothing is committed
    loc = ice.describe(run_firn, wh, "db.t")["metadata-location"]
    assert fj(run_firn, wh, "tag", "db.t", "v1")["action"] == "unchanged"
    assert "already at snapshot" in firn(run_firn, wh, "tag", "db.t", "v1").stdout
    assert ice.describe(run_firn, wh, "db.t")["metadata-location"] == loc
    firn(run_firn, wh, "append", "db.t", csv_file(tmp / "a.csv", [(100, "x", 1)]))
    s1 = ice.describe(run_firn, wh, "db.t")["current-snapshot-id"]
    # re-pointing an existing tag needs --force; without it nothing moves
    msg = assert_error(firn(run_firn, wh, "tag", "db.t", "v1", check=False), mentions=("v1", "--force"))
    assert str(s0) in msg
    assert head(run_firn, wh, "db.t", "v1") == s0
    out = fj(run_firn, wh, "tag", "db.t", "v1", "--force")
    assert out == {"ref": "v1", "type": "tag", "action": "moved", "snapshot-id": s1, "previous-snapshot-id": s0}
    assert refs(run_firn, wh, "db.t")["v1"] == {"snapshot-id": s1, "type": "tag"}
    out = fj(run_firn, wh, "tag", "db.t", "v1", "--snapshot", s0, "--force")
    assert (out["action"], out["snapshot-id"]) == ("moved", s0)
    assert count(run_firn, wh, "db.t", "--ref", "v1") == 10
    # PyIceberg sees the tag where firn put it
    t = ice.catalog(wh).load_table("db.t")
    assert t.refs()["v1"].snapshot_id == s0 and t.refs()["v1"].snapshot_ref_type == "tag"
    assert len(pyice_rows(wh, "db.t", "v1")) == 10
    # drop: gone from the metadata, the snapshot stays
    out = fj(run_firn, wh, "tag", "db.t", "v1", "--drop")
    assert out == {"ref": "v1", "type": "tag", "action": "dropped", "snapshot-id": None,
                   "previous-snapshot-id": s0}
    m = meta(run_firn, wh, "db.t")
    assert "v1" not in m["refs"] and s0 in {s["snapshot-id"] for s in m["snapshots"]}
    assert "v1" not in ice.catalog(wh).load_table("db.t").refs()
    assert_error(firn(run_firn, wh, "tag", "db.t", "v1", "--drop", check=False), mentions=("no tag", "v1"))
    assert_error(firn(run_firn, wh, "count", "db.t", "--ref", "v1", check=False), mentions=("v1",))
    assert firn(run_firn, wh, "tag", "db.t", "v2").stdout == f"tag v2 created at snapshot {s1}\n"
    assert firn(run_firn, wh, "tag", "db.t", "v2", "--drop").stdout == f"tag v2 dropped (it pointed at snapshot {s1})\n"


def test_ref_kinds_and_main_are_kept_apart(run_firn, tmp):
    wh = tmp / "wh"
    make_table(run_firn, wh, tmp)
    firn(run_firn, wh, "tag", "db.t", "t1")
    firn(run_firn, wh, "branch", "db.t", "b1")
    before = refs(run_firn, wh, "db.t")
    assert_error(firn(run_firn, wh, "tag", "db.t", "main", check=False), mentions=("main",))
    assert_error(firn(run_firn, wh, "branch", "db.t", "main", "--drop", check=False),
                 mentions=("main", "cannot be dropped"))
    assert_error(firn(run_firn, wh, "tag", "db.t", "main", "--drop", check=False), mentions=("main",))
    # a name is one kind of ref: no force turns a branch into a tag
    assert_error(firn(run_firn, wh, "tag", "db.t", "b1", "--force", check=False), mentions=("b1", "branch"))
    assert_error(firn(run_firn, wh, "branch", "db.t", "t1", check=False), mentions=("t1", "tag"))
    assert_error(firn(run_firn, wh, "tag", "db.t", "b1", "--drop", check=False),
                 mentions=("b1", "is a branch, not a tag"))
    assert_error(firn(run_firn, wh, "branch", "db.t", "t1", "--drop", check=False),
                 mentions=("t1", "is a tag, not a branch"))
    assert_error(firn(run_firn, wh, "branch", "db.t", "b2", "--snapshot", "123", check=False),
                 mentions=("snapshot 123 does not exist",))
    # metadata is JSON: a name that is not UTF-8 is refused, cleanly
    assert_error(firn(run_firn, wh, "tag", "db.t", os.fsdecode(b"v\xff"), check=False),
                 mentions=("not valid UTF-8",))
    assert refs(run_firn, wh, "db.t") == before
    # usage errors: exit 2, nothing done
    for args in (["tag", "db.t", "x", "--drop", "--force"], ["branch", "db.t", "x", "--drop", "--snapshot", "1"],
                 ["branch", "db.t", "x", "--fast-forward", ""], ["branch", "db.t", "x", "--fast-forward", "b1", "--force"],
                 ["tag", "db.t", "x", "--fast-forward", "b1"], ["append", "db.t", tmp / "db.t-base.csv", "--branch", ""],
                 ["rollback", "db.t", "--to", ""], ["rollback", "db.t", "--to", "99999999999999999999"]):
        res = firn(run_firn, wh, *args, check=False)
        assert res.returncode == 2 and res.stderr.splitlines()[-1].startswith("usage: firn "), (args, res.stderr)
    assert refs(run_firn, wh, "db.t") == before


# ---- branches: moving and fast-forwarding ---------------------------------------------


def test_branch_moves_forward_freely_and_elsewhere_with_force(run_firn, tmp):
    wh = tmp / "wh"
    make_table(run_firn, wh, tmp)
    sids = [ice.describe(run_firn, wh, "db.t")["current-snapshot-id"]]
    for k in range(2):
        firn(run_firn, wh, "append", "db.t", csv_file(tmp / f"a{k}.csv", [(100 + k, "x", k)]))
        sids.append(ice.describe(run_firn, wh, "db.t")["current-snapshot-id"])
    out = fj(run_firn, wh, "branch", "db.t", "dev", "--snapshot", sids[1])
    assert (out["action"], out["snapshot-id"], out["previous-snapshot-id"]) == ("created", sids[1], None)
    # forward (sids[2] descends from sids[1]): no --force needed
    out = fj(run_firn, wh, "branch", "db.t", "dev", "--snapshot", sids[2])
    assert (out["action"], out["snapshot-id"], out["previous-snapshot-id"]) == ("moved", sids[2], sids[1])
    assert "is already at snapshot" in firn(run_firn, wh, "branch", "db.t", "dev", "--snapshot", sids[2],
                                            "--force").stdout
    # back to an ancestor: not a descendant of the head, needs --force
    msg = assert_error(firn(run_firn, wh, "branch", "db.t", "dev", "--snapshot", sids[0], check=False),
                       mentions=("dev", "--force", "does not descend"))
    assert str(sids[0]) in msg
    assert head(run_firn, wh, "db.t", "dev") == sids[2]
    out = fj(run_firn, wh, "branch", "db.t", "dev", "--snapshot", sids[0], "--force")
    assert (out["action"], out["snapshot-id"]) == ("moved", sids[0])
    assert count(run_firn, wh, "db.t", "--ref", "dev") == 10
    # main moved forward and back the same way; main stays the current snapshot
    firn(run_firn, wh, "rollback", "db.t", "--to", sids[1])
    firn(run_firn, wh, "branch", "db.t", "main", "--snapshot", sids[2])
    assert ice.describe(run_firn, wh, "db.t")["current-snapshot-id"] == sids[2]
    assert_error(firn(run_firn, wh, "branch", "db.t", "main", "--snapshot", sids[0], check=False),
                 mentions=("main", "--force"))
    assert ice.describe(run_firn, wh, "db.t")["current-snapshot-id"] == sids[2]
    # a branch keeps its retention settings when it moves
    firn(run_firn, wh, "branch", "db.t", "kept", "--snapshot", sids[0])
    m = meta(run_firn, wh, "db.t")
    loc = ice.describe(run_firn, wh, "db.t")["metadata-location"]
    m["refs"]["kept"]["min-snapshots-to-keep"] = 7
    Path(loc).write_text(json.dumps(m))
    firn(run_firn, wh, "branch", "db.t", "kept", "--snapshot", sids[2])
    assert refs(run_firn, wh, "db.t")["kept"] == {"snapshot-id": sids[2], "type": "branch", "min-snapshots-to-keep": 7}
    out = fj(run_firn, wh, "branch", "db.t", "kept", "--drop")
    assert (out["action"], out["previous-snapshot-id"]) == ("dropped", sids[2])
    assert "kept" not in refs(run_firn, wh, "db.t")


def test_fast_forward(run_firn, tmp):
    wh = tmp / "wh"
    make_table(run_firn, wh, tmp)
    s0 = ice.describe(run_firn, wh, "db.t")["current-snapshot-id"]
    firn(run_firn, wh, "branch", "db.t", "audit")
    firn(run_firn, wh, "append", "db.t", csv_file(tmp / "a.csv", [(100, "a", 1)]), "--branch", "audit")
    firn(run_firn, wh, "append", "db.t", csv_file(tmp / "b.csv", [(101, "b", 2)]), "--branch", "audit")
    a2 = head(run_firn, wh, "db.t", "audit")
    # a tag does not fast-forward; a missing ref is not found
    firn(run_firn, wh, "tag", "db.t", "t0")
    assert_error(firn(run_firn, wh, "branch", "db.t", "nosuch", "--fast-forward", "audit", check=False),
                 mentions=("nosuch", "does not exist"))
    assert_error(firn(run_firn, wh, "branch", "db.t", "main", "--fast-forward", "nosuch", check=False),
                 mentions=("nosuch",))
    assert_error(firn(run_firn, wh, "branch", "db.t", "t0", "--fast-forward", "audit", check=False),
                 mentions=("t0", "tag"))
    out = fj(run_firn, wh, "branch", "db.t", "main", "--fast-forward", "audit")
    assert out == {"ref": "main", "type": "branch", "action": "fast-forwarded", "snapshot-id": a2,
                   "previous-snapshot-id": s0, "to": "audit"}
    m = meta(run_firn, wh, "db.t")
    assert m["current-snapshot-id"] == a2 and m["snapshot-log"][-1]["snapshot-id"] == a2
    assert count(run_firn, wh, "db.t") == 12
    assert fj(run_firn, wh, "branch", "db.t", "main", "--fast-forward", "audit")["action"] == "unchanged"
    # to a tag, and a branch behind main catching up
    firn(run_firn, wh, "branch", "db.t", "late", "--snapshot", s0)
    out = fj(run_firn, wh, "branch", "db.t", "late", "--fast-forward", "main")
    assert (out["action"], out["snapshot-id"]) == ("fast-forwarded", a2)
    firn(run_firn, wh, "branch", "db.t", "late2", "--snapshot", s0)
    firn(run_firn, wh, "tag", "db.t", "t2")
    assert fj(run_firn, wh, "branch", "db.t", "late2", "--fast-forward", "t2")["snapshot-id"] == a2
    # diverged: both went on from the same snapshot; refused, nothing moves
    firn(run_firn, wh, "append", "db.t", csv_file(tmp / "c.csv", [(200, "c", 3)]))
    firn(run_firn, wh, "append", "db.t", csv_file(tmp / "d.csv", [(300, "d", 4)]), "--branch", "audit")
    before = refs(run_firn, wh, "db.t")
    msg = assert_error(firn(run_firn, wh, "branch", "db.t", "main", "--fast-forward", "audit", check=False),
                       mentions=("main", "audit", "diverged"))
    assert "cannot fast-forward" in msg
    assert refs(run_firn, wh, "db.t") == before
    assert count(run_firn, wh, "db.t") == 13 and count(run_firn, wh, "db.t", "--ref", "audit") == 13


# ---- rollback to a ref -----------------------------------------------------------------


def test_rollback_to_tag_or_branch(run_firn, tmp):
    wh = tmp / "wh"
    make_table(run_firn, wh, tmp)
    s0 = ice.describe(run_firn, wh, "db.t")["current-snapshot-id"]
    firn(run_firn, wh, "tag", "db.t", "before")
    firn(run_firn, wh, "branch", "db.t", "old")
    firn(run_firn, wh, "append", "db.t", csv_file(tmp / "a.csv", [(100, "a", 1)]))
    s1 = ice.describe(run_firn, wh, "db.t")["current-snapshot-id"]
    out = fj(run_firn, wh, "rollback", "db.t", "--to", "before")
    assert out == {"snapshot-id": s0, "previous-snapshot-id": s1, "changed": True}
    assert ice.describe(run_firn, wh, "db.t")["current-snapshot-id"] == s0
    assert count(run_firn, wh, "db.t") == 10 and len(pyice_rows(wh, "db.t")) == 10
    assert "already the current one" in firn(run_firn, wh, "rollback", "db.t", "--to", "old").stdout
    # forward again by id (an ancestor? no: s1 descends from s0, so it is refused)
    assert_error(firn(run_firn, wh, "rollback", "db.t", "--to", s1, check=False), mentions=("not an ancestor",))
    firn(run_firn, wh, "branch", "db.t", "main", "--snapshot", s1)
    # a branch that went on from main is no rollback target: fast-forward names the way
    firn(run_firn, wh, "branch", "db.t", "audit")
    firn(run_firn, wh, "append", "db.t", csv_file(tmp / "b.csv", [(101, "b", 2)]), "--branch", "audit")
    assert_error(firn(run_firn, wh, "rollback", "db.t", "--to", "audit", check=False),
                 mentions=("audit", "not an ancestor", "--fast-forward"))
    for name in ("nosuch", "123xyz"):  # not numbers: ref names (no longer usage errors)
        assert_error(firn(run_firn, wh, "rollback", "db.t", "--to", name, check=False),
                     mentions=(f"no branch or tag named '{name}'",))
    assert_error(firn(run_firn, wh, "rollback", "db.t", "--to", "1234567", check=False),
                 mentions=("snapshot 1234567 does not exist",))
    assert ice.describe(run_firn, wh, "db.t")["current-snapshot-id"] == s1
    # a ref whose name is a number: a snapshot id first, then the ref
    firn(run_firn, wh, "tag", "db.t", "2024", "--snapshot", s0)
    assert fj(run_firn, wh, "rollback", "db.t", "--to", "2024")["snapshot-id"] == s0
    assert count(run_firn, wh, "db.t") == 10


# ---- writes to a branch ------------------------------------------------------------------


@pytest.mark.conformance(("write-audit-publish (branch writes, fast-forward)", "PyIceberg"),
                         ("write-audit-publish (branch writes, fast-forward)", "DuckDB"))
def test_write_audit_publish(run_firn, tmp):
    """Append to branch audit: main unchanged, scan --ref audit sees the
    new rows, fast-forward main to audit, main has them; PyIceberg and
    DuckDB read each ref as firn does."""
    wh = tmp / "wh"
    base = make_table(run_firn, wh, tmp)
    m0 = meta(run_firn, wh, "db.t")
    s0 = m0["current-snapshot-id"]
    firn(run_firn, wh, "branch", "db.t", "audit")
    new = [(100 + i, f"new{i}", i) for i in range(5)]
    out = fj(run_firn, wh, "append", "db.t", csv_file(tmp / "new.csv", new), "--branch", "audit")
    assert (out["added-records"], out["branch"]) == (5, "audit")
    a1 = out["snapshot-id"]
    m1 = meta(run_firn, wh, "db.t")
    snap = {s["snapshot-id"]: s for s in m1["snapshots"]}[a1]
    assert snap["parent-snapshot-id"] == s0 and snap["summary"]["operation"] == "append"
    assert snap["summary"]["total-records"] == "15"
    # main is where it was: current snapshot, its ref and the snapshot log
    assert m1["current-snapshot-id"] == s0 and m1["refs"]["main"]["snapshot-id"] == s0
    assert m1["snapshot-log"] == m0["snapshot-log"]
    assert m1["refs"]["audit"] == {"snapshot-id": a1, "type": "branch"}
    assert count(run_firn, wh, "db.t") == 10
    assert scan(run_firn, wh, "db.t") == base
    assert scan(run_firn, wh, "db.t", "--ref", "audit") == sorted(base + new)
    assert count(run_firn, wh, "db.t", "--ref", "audit", "--where", "id >= 100") == 5
    # the reference readers agree on both refs
    assert pyice_rows(wh, "db.t") == base
    assert pyice_rows(wh, "db.t", "audit") == sorted(base + new)
    t = ice.catalog(wh).load_table("db.t")
    assert t.refs()["audit"].snapshot_id == a1 and t.current_snapshot().snapshot_id == s0
    loc = ice.describe(run_firn, wh, "db.t")["metadata-location"]
    assert sorted(r[0] for r in ice.duck_rows(loc)) == [r[0] for r in base]
    assert sorted(r[0] for r in ice.duck_rows(loc, snapshot_id=a1)) == sorted(r[0] for r in base + new)
    # audit: check the branch, then publish
    assert count(run_firn, wh, "db.t", "--ref", "audit", "--where", "name IS NULL") == 0
    firn(run_firn, wh, "branch", "db.t", "main", "--fast-forward", "audit")
    assert count(run_firn, wh, "db.t") == 15
    assert scan(run_firn, wh, "db.t") == sorted(base + new)
    assert pyice_rows(wh, "db.t") == sorted(base + new)
    loc = ice.describe(run_firn, wh, "db.t")["metadata-location"]
    assert len(ice.duck_rows(loc)) == 15
    hist = json.loads(firn(run_firn, wh, "history", "db.t", "--json").stdout)
    assert [h["snapshot-id"] for h in hist] == [s0, a1]


def test_row_changes_on_a_branch_plan_on_its_files(run_firn, tmp):
    """delete, update, merge and overwrite --branch read the branch's
    snapshot (files main does not have), decide copy-on-write and
    merge-on-read on its files, and leave main alone."""
    wh = tmp / "wh"
    base = make_table(run_firn, wh, tmp)
    firn(run_firn, wh, "branch", "db.t", "b")
    main0 = meta(run_firn, wh, "db.t")["current-snapshot-id"]
    # overwrite on the branch: its rows are 100..103 only
    out = fj(run_firn, wh, "overwrite", "db.t", csv_file(tmp / "o.csv", [(100 + i, "o", i) for i in range(4)]),
             "--branch", "b")
    assert out["branch"] == "b" and out["files-rewritten"] + out["files-removed"] >= 1
    want = [(100 + i, "o", i) for i in range(4)]
    assert scan(run_firn, wh, "db.t", "--ref", "b") == want
    # one row of the branch's 4-row file: below the 0.5 threshold, merge-on-read
    out = fj(run_firn, wh, "delete", "db.t", "--where", "id = 100", "--branch", "b")
    assert (out["deleted-rows"], out["delete-files"], out["files-rewritten"], out["branch"]) == (1, 1, 0, "b")
    want = want[1:]
    # 2 of its 3 live rows: copy-on-write (main's file would not even match)
    out = fj(run_firn, wh, "delete", "db.t", "--where", "id IN (101, 102)", "--branch", "b")
    assert (out["deleted-rows"], out["files-rewritten"]) == (2, 1)
    want = want[2:]
    assert scan(run_firn, wh, "db.t", "--ref", "b") == want == [(103, "o", 3)]
    res = firn(run_firn, wh, "update", "db.t", "--set", "qty = qty", "--where", "id = 103", "--branch", "b")
    assert "on branch b: snapshot" in res.stdout
    # the same delete on main matches nothing there
    assert fj(run_firn, wh, "delete", "db.t", "--where", "id = 103")["snapshot-id"] == 0
    out = fj(run_firn, wh, "update", "db.t", "--set", "qty = qty + 10", "--where", "id = 103", "--branch", "b")
    assert (out["rows"], out["branch"]) == (1, "b")
    out = fj(run_firn, wh, "merge", "db.t", csv_file(tmp / "m.csv", [(103, "m", 0), (104, "m", 1)]), "--on", "id",
             "--branch", "b")
    assert out["branch"] == "b"
    want = [(103, "m", 0), (104, "m", 1)]
    assert scan(run_firn, wh, "db.t", "--ref", "b") == want
    assert pyice_rows(wh, "db.t", "b") == want
    # main never moved; each branch snapshot's parent is the branch's previous head
    m = meta(run_firn, wh, "db.t")
    assert m["current-snapshot-id"] == main0 and scan(run_firn, wh, "db.t") == base
    chain, sid = [], m["refs"]["b"]["snapshot-id"]
    by_id = {s["snapshot-id"]: s for s in m["snapshots"]}
    while sid in by_id:
        chain.append(by_id[sid]["summary"]["operation"])
        sid = by_id[sid].get("parent-snapshot-id")
    # (a copy-on-write delete writes data: Java calls that an overwrite too)
    assert chain == ["overwrite", "overwrite", "overwrite", "overwrite", "delete", "overwrite", "append"]
    # --branch main is the default
    out = fj(run_firn, wh, "delete", "db.t", "--where", "id = 0", "--branch", "main")
    assert out["branch"] == "main" and count(run_firn, wh, "db.t") == 9


def test_writes_to_a_missing_branch_or_a_tag_fail(run_firn, tmp):
    wh = tmp / "wh"
    make_table(run_firn, wh, tmp)
    firn(run_firn, wh, "tag", "db.t", "t1")
    data = sorted(p.name for p in (wh / "db.db" / "t").rglob("*") if p.is_file())
    m0 = meta(run_firn, wh, "db.t")
    f = csv_file(tmp / "a.csv", [(100, "a", 1)])
    for args in (["append", "db.t", f], ["overwrite", "db.t", f], ["merge", "db.t", f, "--on", "id"],
                 ["delete", "db.t", "--where", "id = 1"], ["update", "db.t", "--set", "qty = 0", "--where", "id = 1"]):
        assert_error(firn(run_firn, wh, *args, "--branch", "audit", check=False),
                     mentions=("branch 'audit' does not exist", "firn branch"))
        assert_error(firn(run_firn, wh, *args, "--branch", "t1", check=False), mentions=("'t1' is a tag",))
    assert meta(run_firn, wh, "db.t") == m0
    assert sorted(p.name for p in (wh / "db.db" / "t").rglob("*") if p.is_file()) == data


def test_branch_history_survives_main_compaction_and_expiry(run_firn, tmp):
    """delete on a branch, then compact main: each ref reads its own rows;
    expire keeps every branch's head and the files it needs, and once the
    branch is dropped its snapshots and files go."""
    wh = tmp / "wh"
    firn(run_firn, wh, "namespace", "create", "db")
    firn(run_firn, wh, "create", "db.t", "--schema", SCHEMA)
    rows = []
    for k in range(3):
        part = [(k * 10 + i, f"k{k}", i) for i in range(10)]
        firn(run_firn, wh, "append", "db.t", csv_file(tmp / f"p{k}.csv", part))
        rows += part
    firn(run_firn, wh, "branch", "db.t", "audit")
    out = fj(run_firn, wh, "delete", "db.t", "--where", "id IN (1, 2)", "--branch", "audit",
             "--mode", "merge-on-read")
    assert out["delete-files"] == 1
    audit_rows = [r for r in rows if r[0] not in (1, 2)]
    out = fj(run_firn, wh, "compact", "db.t")
    assert out["files-rewritten"] == 3
    assert len(json.loads(firn(run_firn, wh, "files", "db.t", "--json").stdout)) == 1
    files_audit = json.loads(firn(run_firn, wh, "files", "db.t", "--ref", "audit", "--json").stdout)
    assert sorted(f["content"] for f in files_audit) == ["data"] * 3 + ["position-deletes"]
    assert scan(run_firn, wh, "db.t") == sorted(rows)
    assert scan(run_firn, wh, "db.t", "--ref", "audit") == sorted(audit_rows)
    # expire everything it may: both heads stay, and every file each reads
    firn(run_firn, wh, "expire", "db.t", "--older-than", "2999-01-01", "--retain-last", "1")
    m = meta(run_firn, wh, "db.t")
    kept = {s["snapshot-id"] for s in m["snapshots"]}
    assert kept == {m["refs"]["main"]["snapshot-id"], m["refs"]["audit"]["snapshot-id"]}
    assert all(Path(f["file-path"].removeprefix("file://")).exists() for f in files_audit)
    assert scan(run_firn, wh, "db.t", "--ref", "audit") == sorted(audit_rows)
    assert pyice_rows(wh, "db.t", "audit") == sorted(audit_rows)
    assert scan(run_firn, wh, "db.t") == sorted(rows)
    # main went on (compaction): the branch cannot be fast-forwarded onto it
    assert_error(firn(run_firn, wh, "branch", "db.t", "main", "--fast-forward", "audit", check=False),
                 mentions=("diverged",))
    # dropped, the branch holds nothing back: its snapshot and its files go
    firn(run_firn, wh, "branch", "db.t", "audit", "--drop")
    out = fj(run_firn, wh, "expire", "db.t", "--older-than", "2999-01-01", "--retain-last", "1")
    assert out["snapshots-expired"] == 1
    assert not any(Path(f["file-path"].removeprefix("file://")).exists() for f in files_audit)
    assert scan(run_firn, wh, "db.t") == sorted(rows)


def test_branch_writes_in_format_3_use_deletion_vectors(run_firn, tmp):
    wh = tmp / "wh"
    base = make_table(run_firn, wh, tmp, fv=3)
    firn(run_firn, wh, "branch", "db.t", "b")
    out = fj(run_firn, wh, "delete", "db.t", "--where", "id = 3", "--branch", "b")
    assert out["delete-files"] == 1
    files = json.loads(firn(run_firn, wh, "files", "db.t", "--ref", "b", "--json").stdout)
    assert any(f["file-path"].endswith(".puffin") for f in files)
    m = meta(run_firn, wh, "db.t")
    want = [r for r in base if r[0] != 3]
    assert scan(run_firn, wh, "db.t", "--ref", "b") == want and scan(run_firn, wh, "db.t") == base
    # row lineage: next-row-id advances for commits to any branch
    firn(run_firn, wh, "append", "db.t", csv_file(tmp / "a.csv", [(100, "a", 1)]), "--branch", "b")
    m2 = meta(run_firn, wh, "db.t")
    assert m2["next-row-id"] == m["next-row-id"] + 1
    assert pyice_rows(wh, "db.t", "b") == sorted(want + [(100, "a", 1)])


# ---- PyIceberg writes to a firn branch, firn to a PyIceberg one --------------------------------


@pytest.mark.conformance(("branch writes read by the other side", "PyIceberg"))
def test_pyiceberg_and_firn_write_each_others_branches(run_firn, tmp):
    wh = tmp / "wh"
    base = make_table(run_firn, wh, tmp)
    firn(run_firn, wh, "branch", "db.t", "audit")
    t = ice.catalog(wh).load_table("db.t")
    arrow_schema = t.schema().as_arrow()
    t.append(pa.table({"id": [500, 501], "name": ["py", "py"], "qty": [1, 2]}, schema=arrow_schema),
             branch="audit")
    assert count(run_firn, wh, "db.t") == 10
    assert scan(run_firn, wh, "db.t", "--ref", "audit") == sorted(base + [(500, "py", 1), (501, "py", 2)])
    firn(run_firn, wh, "append", "db.t", csv_file(tmp / "a.csv", [(600, "fi", 3)]), "--branch", "audit")
    firn(run_firn, wh, "delete", "db.t", "--where", "id = 500", "--branch", "audit")
    want = sorted(base + [(501, "py", 2), (600, "fi", 3)])
    assert pyice_rows(wh, "db.t", "audit") == want
    # a branch PyIceberg made, firn writes to and publishes
    t = ice.catalog(wh).load_table("db.t")
    t.manage_snapshots().create_branch(t.current_snapshot().snapshot_id, "py_branch").commit()
    firn(run_firn, wh, "append", "db.t", csv_file(tmp / "b.csv", [(700, "fb", 4)]), "--branch", "py_branch")
    assert pyice_rows(wh, "db.t", "py_branch") == sorted(base + [(700, "fb", 4)])
    firn(run_firn, wh, "branch", "db.t", "main", "--fast-forward", "py_branch")
    assert pyice_rows(wh, "db.t") == sorted(base + [(700, "fb", 4)])


# ---- through a REST catalog -------------------------------------------------------------------


def rest_wap(cat, tmp, table):
    firnrun.run(*cat, "namespace", "create", table.split(".")[0])
    firnrun.run(*cat, "create", table, "--schema", SCHEMA)
    firnrun.run(*cat, "append", table, csv_file(tmp / "r0.csv", [(i, "r", i) for i in range(5)]))
    firnrun.run(*cat, "branch", table, "audit")
    firnrun.run(*cat, "append", table, csv_file(tmp / "r1.csv", [(10, "a", 1), (11, "a", 2)]), "--branch", "audit")
    firnrun.run(*cat, "delete", table, "--where", "id = 0", "--branch", "audit")
    assert int(firnrun.run(*cat, "count", table).stdout) == 5
    assert int(firnrun.run(*cat, "count", table, "--ref", "audit").stdout) == 6
    firnrun.run(*cat, "branch", table, "main", "--fast-forward", "audit")
    assert int(firnrun.run(*cat, "count", table).stdout) == 6
    firnrun.run(*cat, "tag", table, "v1")
    firnrun.run(*cat, "append", table, csv_file(tmp / "r2.csv", [(20, "m", 1)]))
    assert_error(firnrun.run(*cat, "tag", table, "v1", check=False), mentions=("v1", "--force"))
    firnrun.run(*cat, "branch", table, "audit", "--drop")
    firnrun.run(*cat, "rollback", table, "--to", "v1")
    assert int(firnrun.run(*cat, "count", table).stdout) == 6
    d = json.loads(firnrun.run(*cat, "describe", table, "--json").stdout)
    sid = d["current-snapshot-id"]
    assert d["refs"] == {"main": {"type": "branch", "snapshot-id": sid}, "v1": {"type": "tag", "snapshot-id": sid}}
    return d


def test_branches_through_firn_serve(tmp):
    wh = tmp / "wh"
    with firn_server(firnrun.firn_path(), wh, tmp / "serve.log") as s:
        rest_wap(["--catalog", s.url], tmp, "r.t")


def test_branches_through_java_rest_server(tmp):
    """Iceberg's own RESTCatalogServer accepts firn's branch commits
    (assert-ref-snapshot-id on the branch, set-snapshot-ref,
    remove-snapshot-ref)."""
    with java_server(tmp / "jwh", tmp / "java.log") as s:
        rest_wap(["--catalog", s.url], tmp, "j.t")


# ---- Spark ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark_wh(work_root):
    """This module's own warehouse for the Spark session (test_spark has its own)."""
    wh = work_root / "refs-spark-wh"
    wh.mkdir(parents=True, exist_ok=True)
    return wh


def spark_ids(spark, sql):
    return sorted(r[0] for r in spark.sql(sql).collect())


@pytest.mark.conformance(("write-audit-publish (branch writes, fast-forward)", "Spark"))
def test_spark_reads_firn_branches_and_writes_its_own(run_firn, spark, spark_wh, tmp):  # noqa: F811
    wh = spark_wh
    base = make_table(run_firn, wh, tmp, "db.refs", n=20)
    firn(run_firn, wh, "tag", "db.refs", "first")
    firn(run_firn, wh, "branch", "db.refs", "audit")
    firn(run_firn, wh, "append", "db.refs", csv_file(tmp / "a.csv", [(100, "a", 1), (101, "a", 2)]),
         "--branch", "audit")
    firn(run_firn, wh, "delete", "db.refs", "--where", "id = 5", "--branch", "audit")
    firn(run_firn, wh, "update", "db.refs", "--set", "qty = 99", "--where", "id = 6", "--branch", "audit")
    firn_audit = scan(run_firn, wh, "db.refs", "--ref", "audit")
    t = "default.db.refs"
    spark.sql(f"REFRESH TABLE {t}")
    ids_main = [r[0] for r in base]
    ids_audit = sorted(r[0] for r in firn_audit)
    assert spark_ids(spark, f"SELECT id FROM {t}") == ids_main
    assert spark_ids(spark, f"SELECT id FROM {t} VERSION AS OF 'audit'") == ids_audit
    assert spark_ids(spark, f"SELECT id FROM {t}.branch_audit") == ids_audit
    assert spark_ids(spark, f"SELECT id FROM {t}.tag_first") == ids_main
    assert spark.sql(f"SELECT qty FROM {t}.branch_audit WHERE id = 6").collect()[0][0] == 99
    # Spark writes to firn's branch; firn reads it and publishes it
    spark.sql(f"INSERT INTO {t}.branch_audit VALUES (200, 'spark', 7), (201, 'spark', 8)")
    assert count(run_firn, wh, "db.refs") == 20
    got = scan(run_firn, wh, "db.refs", "--ref", "audit")
    assert got == sorted(firn_audit + [(200, "spark", 7), (201, "spark", 8)])
    firn(run_firn, wh, "branch", "db.refs", "main", "--fast-forward", "audit")
    spark.sql(f"REFRESH TABLE {t}")
    assert spark_ids(spark, f"SELECT id FROM {t}") == sorted(r[0] for r in got)
    # a branch Spark created, firn writes to; Spark reads firn's write
    spark.sql(f"ALTER TABLE {t} CREATE BRANCH sb")
    firn(run_firn, wh, "append", "db.refs", csv_file(tmp / "b.csv", [(300, "fb", 1)]), "--branch", "sb")
    spark.sql(f"REFRESH TABLE {t}")
    assert 300 in spark_ids(spark, f"SELECT id FROM {t}.branch_sb")
    assert 300 not in spark_ids(spark, f"SELECT id FROM {t}")
    # Spark's own fast-forward procedure on firn's branch agrees with firn's refs
    spark.sql("CALL default.system.fast_forward('db.refs', 'main', 'sb')")
    assert head(run_firn, wh, "db.refs", "main") == head(run_firn, wh, "db.refs", "sb")
    assert count(run_firn, wh, "db.refs") == len(got) + 1


# ---- concurrent writers on main and on a branch ------------------------------------------------


@pytest.mark.parametrize("via", ["sql", "rest"])
def test_concurrent_writers_on_main_and_a_branch(run_firn, tmp, via):
    """Appenders on main and on branch audit, and a deleter on audit, each
    its own process, through the SQL catalog or firn serve: every commit
    lands on its own ref (a race lost to a commit on the other ref, which
    took the table's next sequence number, is retried on the winner's
    metadata), nothing crosses over."""
    wh = tmp / "wh"
    base = make_table(run_firn, wh, tmp, n=4, extra=("--property", "commit.retry.num-retries=50",
                                                       "--property", "commit.retry.min-wait-ms=5",
                                                       "--property", "commit.retry.max-wait-ms=200"))
    firn(run_firn, wh, "branch", "db.t", "audit")
    errors, lock = [], threading.Lock()
    server = firn_server(firnrun.firn_path(), wh, tmp / "serve.log") if via == "rest" else contextlib.nullcontext()
    with server as srv:
        cat = ["--catalog", srv.url] if srv else ["--warehouse", str(wh)]

        def run(args):
            p = subprocess.run([str(firnrun.firn_path()), *cat, *args], capture_output=True, text=True,
                               timeout=120)
            if p.returncode != 0:
                with lock:
                    errors.append(p.stderr)

        def worker(name, ref, start):
            for k in range(6):
                rows = [(start + 10 * k + i, name, k) for i in range(3)]
                run(["append", "db.t", str(csv_file(tmp / f"{name}-{k}.csv", rows))]
                    + (["--branch", ref] if ref != "main" else []))

        def deleter():
            for k in range(4):
                run(["delete", "db.t", "--where", f"id = {k}", "--branch", "audit"])

        threads = [threading.Thread(target=worker, args=("m1", "main", 1000)),
                   threading.Thread(target=worker, args=("m2", "main", 2000)),
                   threading.Thread(target=worker, args=("a1", "audit", 3000)),
                   threading.Thread(target=deleter)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    assert errors == []
    on_main = [(s + 10 * k + i, n, k) for n, s in (("m1", 1000), ("m2", 2000)) for k in range(6) for i in range(3)]
    on_audit = [(3000 + 10 * k + i, "a1", k) for k in range(6) for i in range(3)]
    assert scan(run_firn, wh, "db.t") == sorted(base + on_main)
    assert scan(run_firn, wh, "db.t", "--ref", "audit") == sorted(on_audit)  # base ids 0..3 deleted
    m = meta(run_firn, wh, "db.t")
    by_id = {s["snapshot-id"]: s for s in m["snapshots"]}

    def line(sid):
        out = []
        while sid in by_id:
            out.append(sid)
            sid = by_id[sid].get("parent-snapshot-id")
        return out
    main_line, audit_line = line(m["refs"]["main"]["snapshot-id"]), line(m["refs"]["audit"]["snapshot-id"])
    assert len(main_line) == 13 and len(audit_line) == 11
    assert set(main_line) & set(audit_line) == {main_line[-1]}  # only the base append is shared
    assert len({s["sequence-number"] for s in m["snapshots"]}) == len(m["snapshots"])
    assert pyice_rows(wh, "db.t", "audit") == sorted(on_audit)
