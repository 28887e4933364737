"""Progress for long work (issue 14): one line on standard error, redrawn
with \\r and cleared at the end, only when standard error is a terminal
(a pseudo-terminal here), never with --quiet or FIRN_PROGRESS=0, forced by
FIRN_PROGRESS=1; standard output stays exact."""
from __future__ import annotations

import os
import re
import subprocess
import threading

import pytest

CLEAR = "\r\x1b[K"


def run_tty(firn_bin, *args, env_extra=None):
    """Runs firn with standard error on a pseudo-terminal and standard
    output on a pipe: (exit code, stdout bytes, what the terminal got)."""
    master, slave = os.openpty()
    env = {k: v for k, v in os.environ.items() if k != "FIRN_PROGRESS"}
    env.update(env_extra or {})
    p = subprocess.Popen([str(firn_bin), *map(str, args)], stdout=subprocess.PIPE, stderr=slave,
                         stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []

    def read_tty():
        while True:
            try:
                b = os.read(master, 65536)
            except OSError:  # EIO: the terminal's last holder closed it
                return
            if not b:
                return
            chunks.append(b)
    t = threading.Thread(target=read_tty, daemon=True)
    t.start()
    out = p.stdout.read()  # standard output drained while the terminal is read
    p.wait(timeout=120)
    t.join(timeout=30)
    os.close(master)
    return p.returncode, out, b"".join(chunks).decode()


def run_plain(firn_bin, *args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "FIRN_PROGRESS"}
    env.update(env_extra or {})
    return subprocess.run([str(firn_bin), *map(str, args)], capture_output=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=120)


def frames(tty: str) -> list[str]:
    """The lines drawn: the text between \\r and the erase-to-end."""
    return [f for f in re.findall(r"\r([^\r\x1b]*)\x1b\[K", tty) if f]


@pytest.fixture
def wh(run_firn, tmp_path):
    wh = tmp_path / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "db")
    run_firn("--warehouse", wh, "create", "db.t", "--schema", "id long, s string, v double",
             "--property", "write.target-file-size-bytes=100000000")
    big = tmp_path / "big.csv"
    with open(big, "w") as f:
        f.write("id,s,v\n")
        for i in range(300_000):
            f.write(f"{i},name{i % 1000},{i / 7}\n")
    return wh


def test_append_shows_progress_on_a_terminal_and_clears_it(firn_bin, wh, tmp_path):
    rc, out, tty = run_tty(firn_bin, "--warehouse", wh, "append", "db.t", tmp_path / "big.csv")
    assert rc == 0
    assert out.decode().startswith("appended 300000 rows in 1 files")
    fs = frames(tty)
    assert fs and all(f.startswith("firn append: ") for f in fs), tty[:500]
    last = int(re.match(r"firn append: (\d+) rows, [\d.]+ (B|KiB|MiB)", fs[-1]).group(1))
    assert 0 < last <= 300_000
    assert tty.endswith(CLEAR)  # cleared: the terminal's line is empty again
    assert "\n" not in tty


def test_parquet_input_has_a_total_and_an_estimate_field(run_firn, firn_bin, wh, tmp_path):
    run_firn("--warehouse", wh, "append", "db.t", tmp_path / "big.csv")
    pq = tmp_path / "t.parquet"
    run_firn("--warehouse", wh, "scan", "db.t", "--format", "parquet", "--output", pq)
    rc, _, tty = run_tty(firn_bin, "--warehouse", wh, "append", "db.t", pq)
    assert rc == 0
    fs = frames(tty)
    assert fs and re.search(r"\d+ of 300000 rows, .* \((\d+)%", fs[-1]), fs


def test_no_progress_off_a_terminal_or_when_quiet(firn_bin, wh, tmp_path):
    csv = tmp_path / "big.csv"
    r = run_plain(firn_bin, "--warehouse", wh, "append", "db.t", csv)
    assert r.returncode == 0 and r.stderr == b""  # standard error a pipe: nothing
    for args in (["--quiet", "--warehouse", wh, "append", "db.t", csv],
                 ["--warehouse", wh, "append", "db.t", csv, "--quiet"]):
        rc, out, tty = run_tty(firn_bin, *args)
        assert rc == 0 and tty == "" and out.startswith(b"appended 300000 rows")
    rc, _, tty = run_tty(firn_bin, "--warehouse", wh, "append", "db.t", csv, env_extra={"FIRN_PROGRESS": "0"})
    assert rc == 0 and tty == ""
    # FIRN_PROGRESS=1 forces it on a pipe too
    r = run_plain(firn_bin, "--warehouse", wh, "append", "db.t", csv, env_extra={"FIRN_PROGRESS": "1"})
    assert r.returncode == 0 and frames(r.stderr.decode())


def test_scan_to_stdout_stays_exact_csv(firn_bin, wh, tmp_path):
    assert run_plain(firn_bin, "--warehouse", wh, "append", "db.t", tmp_path / "big.csv").returncode == 0
    want = run_plain(firn_bin, "--warehouse", wh, "scan", "db.t", "--format", "csv").stdout
    rc, out, tty = run_tty(firn_bin, "--warehouse", wh, "scan", "db.t", "--format", "csv")
    assert rc == 0 and out == want
    assert len(out.splitlines()) == 300_001
    fs = frames(tty)
    assert fs and all(re.match(r"firn scan: \d+ of 300000 rows", f) for f in fs), fs
    assert tty.endswith(CLEAR)
    # to a file as well, and the file is the same CSV
    rc, out, tty = run_tty(firn_bin, "--warehouse", wh, "scan", "db.t", "--format", "csv", "--output",
                           tmp_path / "o.csv")
    assert rc == 0 and out == b"" and (tmp_path / "o.csv").read_bytes() == want and frames(tty)


def test_compact_and_expire_report_files(run_firn, firn_bin, wh, tmp_path):
    small = tmp_path / "small.csv"
    for k in range(4):
        small.write_text("id,s,v\n" + "".join(f"{k * 10 + i},x,{i}\n" for i in range(10)))
        run_firn("--warehouse", wh, "append", "db.t", small)
    rc, out, tty = run_tty(firn_bin, "--warehouse", wh, "compact", "db.t")
    assert rc == 0 and out.startswith(b"compacted 4 files")
    fs = frames(tty)
    assert fs and re.match(r"firn compact \(rewrite\): [1-4] of 4 files, \d+ of 40 rows", fs[0]), fs
    assert tty.endswith(CLEAR)
    rc, out, tty = run_tty(firn_bin, "--warehouse", wh, "expire", "db.t", "--older-than", "now",
                           "--retain-last", "1")
    assert rc == 0 and b"\n4 snapshots expired, " in out  # the appends' 4 of 6; compact's stays
    fs = frames(tty)
    assert fs and re.match(r"firn expire: \d+ of \d+ files", fs[-1]), (fs, out)
