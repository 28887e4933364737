"""The memory budget of a partitioned append (issue 13).

firn.write.memory-budget-bytes bounds what the open data files of one write
hold in their buffered row groups together: past it, the file holding the
most writes its rows out as a row group early. A month-partitioned append of
an input many times the budget must stay within it (peak RSS of the firn
process, from wait4), write the same files with 1 and 2 threads, and read
back in DuckDB and pyarrow as the input."""
from __future__ import annotations

import binascii
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import firnrun
import ice

MIB = 1 << 20
# an AddressSanitizer build (make asan) pays shadow memory and redzones on
# what it holds: the allowance above the floor is 4 times as large there
def _sanitized() -> bool:
    try:
        return b"__asan_init" in firnrun.firn_path().read_bytes()
    except OSError:  # no binary: the tests fail when they run it
        return False


SANITIZED = _sanitized()
RSS_FACTOR = 4 if SANITIZED else 1
ROWS = 1_200_000
BUDGET = 8 * MIB
MONTHS = 16
SCHEMA = "id long not null, d date, k string, c string, v double"


def make_input(path: Path) -> pa.Table:
    """1,200,000 rows over 16 months: 64 hex digits per row that zstd cannot
    shrink much (some 90 MB of Arrow data, about 60 MB written), in row
    groups of 16,384 rows so that reading the input costs little memory."""
    rng = np.random.default_rng(13)
    ids = np.arange(ROWS, dtype=np.int64)
    days = (rng.integers(0, MONTHS, ROWS) * 30.44 + rng.integers(0, 28, ROWS)).astype(np.int32) + 18262
    hexed = binascii.hexlify(rng.bytes(ROWS * 32))
    offsets = np.arange(ROWS + 1, dtype=np.int32) * 64
    c = pa.Array.from_buffers(pa.string(), ROWS, [None, pa.py_buffer(offsets), pa.py_buffer(hexed)])
    k = pa.array([f"key-{i % 997}" for i in range(ROWS)])
    v = rng.normal(size=ROWS)
    v[::50] = np.nan
    t = pa.table({
        "id": pa.array(ids),
        "d": pa.array(days, pa.date32()),
        "k": k,
        "c": c,
        "v": pa.array(v, mask=(ids % 7 == 3)),
    })
    pq.write_table(t, path, row_group_size=16_384, compression="zstd")
    return t


# A fresh small interpreter starts firn and reports its peak RSS: wait4 on a
# child forked from this process would count this process's memory too (a
# forked child's RSS before exec is a copy of its parent's).
LAUNCHER = """
import os, subprocess, sys
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL)
_, status, usage = os.wait4(p.pid, 0)
open(sys.argv[1], "w").write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(tmp: Path, *args) -> tuple[int, str]:
    """Runs firn: (its peak RSS in bytes, its stdout). Fails on a non-zero
    exit or a signal."""
    cmd = [str(firnrun.firn_path())] + [str(a) for a in args]
    rss_file = tmp / "maxrss"
    p = subprocess.run([sys.executable, "-c", LAUNCHER, str(rss_file)] + cmd,
                       capture_output=True, timeout=120)
    assert p.returncode == 0, f"firn exited {p.returncode}: {cmd}\n{p.stderr.decode()[-2000:]}"
    return int(rss_file.read_text()) * 1024, p.stdout.decode()


def create(run_firn, wh: Path, *props: str) -> None:
    run_firn("--warehouse", wh, "namespace", "create", "db")
    args = ["--warehouse", wh, "create", "db.t", "--schema", SCHEMA, "--partition-by", "month(d)"]
    for p in props:
        args += ["--property", p]
    run_firn(*args)


def data_files(wh: Path) -> dict:
    """Partition directory -> (bytes, row groups) of its one data file."""
    out = {}
    for f in sorted((wh / "db.db" / "t" / "data").rglob("*.parquet")):
        part = f.parent.name
        assert part not in out, f"two files in {part}"
        out[part] = (f.read_bytes(), pq.ParquetFile(f).metadata.num_row_groups)
    return out


def same_table(got: pa.Table, want: pa.Table) -> None:
    got = got.sort_by("id")
    assert got.num_rows == want.num_rows
    for name in want.column_names:
        g = got.column(name).combine_chunks()
        w = want.column(name).combine_chunks()
        if g.type != w.type:
            g = g.cast(w.type)
        if pa.types.is_floating(w.type):  # NaN equals NaN here
            assert g.is_nan().fill_null(False).equals(w.is_nan().fill_null(False)), name
            g = pc.if_else(g.is_nan(), 0.0, g)
            w = pc.if_else(w.is_nan(), 0.0, w)
        assert g.equals(w), f"column {name} differs"


@pytest.fixture(scope="module")
def input_file(work_root):
    d = work_root / "test_write_budget"
    d.mkdir(parents=True, exist_ok=True)
    path = d / "in.parquet"
    return path, make_input(path)


def test_partitioned_append_stays_within_the_budget(run_firn, tmp, input_file):
    path, want = input_file
    raw = want.nbytes
    assert raw >= 10 * BUDGET  # the input is many times the budget

    # the floor: the same input appended unpartitioned, nothing buffered for long
    floor_wh = tmp / "floor"
    run_firn("--warehouse", floor_wh, "namespace", "create", "db")
    run_firn("--warehouse", floor_wh, "create", "db.t", "--schema", SCHEMA,
             "--property", "firn.write.memory-budget-bytes=1")
    floor, _ = run_measured(tmp, "--warehouse", floor_wh, "--threads", "1", "append", "db.t", path)

    files = {}
    for threads in (1, 2):
        wh = tmp / f"budget-{threads}"
        create(run_firn, wh, f"firn.write.memory-budget-bytes={BUDGET}")
        rss, out = run_measured(tmp, "--warehouse", wh, "--threads", threads, "append", "db.t", path)
        assert f"appended {ROWS} rows in {MONTHS} files" in out
        # the open files' buffers stay within the budget: the process within
        # the floor, the budget and a little for the fan-out's batches
        assert rss <= floor + RSS_FACTOR * (BUDGET + 16 * MIB), (rss, floor)
        files[threads] = data_files(wh)
    # one file per partition, written the same with any number of threads
    assert len(files[1]) == MONTHS
    assert files[1].keys() == files[2].keys()
    for part in files[1]:
        assert files[1][part] == files[2][part], part
    # the budget ended row groups early: some files have several
    assert max(n for _, n in files[1].values()) > 1

    # without it (the default, 512 MiB) the same append holds far more
    wh = tmp / "default"
    create(run_firn, wh)
    rss_default, _ = run_measured(tmp, "--warehouse", wh, "--threads", "1", "append", "db.t", path)
    assert rss_default > floor + 4 * BUDGET, (rss_default, floor)
    assert max(n for _, n in data_files(wh).values()) == 1

    # what was written reads back as the input: DuckDB and pyarrow
    wh = tmp / "budget-2"
    loc = ice.describe(run_firn, wh, "db.t")["metadata-location"]
    con = ice.duck()
    got = con.execute(f"SELECT id, d, k, c, v FROM iceberg_scan('{loc}')").to_arrow_table()
    same_table(got, want)
    parts = [pq.read_table(f) for f in sorted((wh / "db.db" / "t" / "data").rglob("*.parquet"))]
    same_table(pa.concat_tables(parts), want)


def test_the_budget_is_checked_when_set(run_firn, tmp):
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "db")
    for bad in ("0", "-5", "lots", "1.5"):
        r = run_firn("--warehouse", wh, "create", f"db.t{bad.replace('.', '_').replace('-', 'm')}",
                     "--schema", SCHEMA, "--property", f"firn.write.memory-budget-bytes={bad}",
                     check=False)
        assert r.returncode == 1, bad
        assert "firn.write.memory-budget-bytes" in r.stderr, r.stderr
    run_firn("--warehouse", wh, "create", "db.t", "--schema", SCHEMA)
    r = run_firn("--warehouse", wh, "alter", "db.t", "set-property",
                 "firn.write.memory-budget-bytes=x", check=False)
    assert r.returncode == 1
    run_firn("--warehouse", wh, "alter", "db.t", "set-property",
             "firn.write.memory-budget-bytes=1048576")
    assert ice.describe(run_firn, wh, "db.t")["properties"]["firn.write.memory-budget-bytes"] == "1048576"
