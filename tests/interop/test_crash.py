"""Crash safety: the fault-injection switch FIRN_CRASH_AT kills firn with
SIGKILL (as kill -9 would) at each step of an append's commit. Afterwards
firn, PyIceberg and DuckDB read the table at exactly the old or the new
version, and no file the metadata references is missing."""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

import ice

STEPS = ["after-data-file", "after-manifest", "after-manifest-list", "after-metadata",
         "before-swap", "after-swap"]


def referenced_files(wh: Path, table: str) -> list:
    tbl = ice.catalog(wh).load_table(table)
    out = [tbl.metadata_location]
    for s in tbl.metadata.snapshots:
        out.append(s.manifest_list)
        for m in s.manifests(tbl.io):
            out.append(m.manifest_path)
    for task in tbl.scan().plan_files():
        out.append(task.file.file_path)
    return out


@pytest.mark.conformance(("crash-safe commit", "PyIceberg"), ("crash-safe commit", "DuckDB"))
@pytest.mark.parametrize("step", STEPS)
def test_crash_during_append(run_firn, tmp, firn_bin, step):
    wh = tmp / "wh"
    wh.mkdir()
    run_firn("--warehouse", wh, "namespace", "create", "db")
    run_firn("--warehouse", wh, "create", "db.t", "--schema", "id long, s string",
             "--partition-by", "bucket(2, id)")
    first = wh / "a.csv"
    first.write_text("id,s\n" + "".join(f"{i},x{i}\n" for i in range(10)))
    run_firn("--warehouse", wh, "append", "db.t", first)
    second = wh / "b.csv"
    second.write_text("id,s\n" + "".join(f"{i},y{i}\n" for i in range(10, 15)))
    env = dict(os.environ, FIRN_CRASH_AT=step)
    p = subprocess.run([str(firn_bin), "--warehouse", str(wh), "append", "db.t", str(second)],
                       env=env, capture_output=True, timeout=60)
    assert p.returncode == -signal.SIGKILL, (step, p.returncode, p.stderr)
    n = int(run_firn("--warehouse", wh, "count", "db.t").stdout)
    expect = 15 if step == "after-swap" else 10
    assert n == expect, step
    assert len(ice.pyiceberg_rows(wh, "db.t")) == expect
    loc = ice.describe(run_firn, wh, "db.t")["metadata-location"]
    assert len(ice.duck_rows(loc)) == expect
    for f in referenced_files(wh, "db.t"):
        assert Path(f.removeprefix("file://")).exists(), (step, f)
    # and the table takes the next append as usual
    run_firn("--warehouse", wh, "append", "db.t", second)
    assert int(run_firn("--warehouse", wh, "count", "db.t").stdout) == expect + 5


@pytest.mark.conformance(("crash-safe delete, compact, expire", "PyIceberg"),
                         ("crash-safe delete, compact, expire", "DuckDB"))
@pytest.mark.parametrize("op", ["delete-mor", "delete-cow", "compact", "expire"])
@pytest.mark.parametrize("step", STEPS)
def test_crash_during_row_changes(run_firn, tmp, firn_bin, step, op):
    wh = tmp / "wh"
    wh.mkdir()
    run_firn("--warehouse", wh, "namespace", "create", "db")
    run_firn("--warehouse", wh, "create", "db.t", "--schema", "id long, s string",
             "--partition-by", "bucket(2, id)")
    for k in range(2):
        p = wh / f"a{k}.csv"
        p.write_text("id,s\n" + "".join(f"{i},x{i}\n" for i in range(k * 20, k * 20 + 20)))
        run_firn("--warehouse", wh, "append", "db.t", p)
    run_firn("--warehouse", wh, "delete", "db.t", "--where", "id = 0")  # a delete file to compact
    args = {"delete-mor": ["delete", "db.t", "--where", "id = 7"],
            "delete-cow": ["delete", "db.t", "--where", "id < 30", "--mode", "copy-on-write"],
            "compact": ["compact", "db.t"],
            "expire": ["expire", "db.t", "--retain-last", "1", "--older-than", "9999999999999"]}[op]
    old = int(run_firn("--warehouse", wh, "count", "db.t").stdout)
    new = {"delete-mor": old - 1, "delete-cow": 39 - 29, "compact": old, "expire": old}[op]
    env = dict(os.environ, FIRN_CRASH_AT=step)
    p = subprocess.run([str(firn_bin), "--warehouse", str(wh), *args], env=env, capture_output=True,
                       timeout=60)
    reached = p.returncode == -signal.SIGKILL
    assert reached or p.returncode == 0, (step, op, p.returncode, p.stderr)
    n = int(run_firn("--warehouse", wh, "count", "db.t").stdout)
    assert n in (old, new), (step, op, n)
    if step == "after-swap" and reached:
        assert n == new
    assert len(ice.pyiceberg_rows(wh, "db.t")) == n
    loc = ice.describe(run_firn, wh, "db.t")["metadata-location"]
    assert len(ice.duck_rows(loc)) == n
    for f in referenced_files(wh, "db.t"):
        assert Path(f.removeprefix("file://")).exists(), (step, op, f)
