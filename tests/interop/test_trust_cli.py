"""Trust in the command line: a command says what really failed, creates
nothing it was not asked to, never writes over its own input, never leaves
half-written files behind, and refuses bad option values as usage errors.
Each test reproduces a defect of the CLI; it failed before the fix."""
from __future__ import annotations

import json
import os
import random
import resource
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

import firnrun
import ice
from firnrun import assert_error

TIMEOUT = 60


def firn(run_firn, wh, *args, **kw):
    return run_firn("--warehouse", wh, *args, **kw)


def make_table(run_firn, wh, table="n.t", rows=5, *create_args):
    firn(run_firn, wh, "namespace", "create", table.rsplit(".", 1)[0])
    firn(run_firn, wh, "create", table, "--schema", "id long, s string", *create_args)
    src = wh.parent / f"rows-{table}.csv"
    src.write_text("id,s\n" + "".join(f"{i},v{i}\n" for i in range(rows)))
    firn(run_firn, wh, "append", table, src)


def tree(root: Path) -> dict:
    """Every file under root with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def run_child(args, env=None, preexec_fn=None, timeout=TIMEOUT) -> firnrun.Result:
    """Runs firn like run_firn does, with a preexec_fn (limits, another user)."""
    cmd = [str(firnrun.firn_path())] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
                       env=dict(os.environ, **(env or {})), preexec_fn=preexec_fn)
    assert p.returncode >= 0, f"firn crashed with signal {-p.returncode}: {cmd}\n{p.stderr[-1000:]!r}"
    return firnrun.Result(cmd, p.returncode, p.stdout, p.stderr)


# ---- 1. what failed, said as it is ------------------------------------------

class ReadOnly:
    """The warehouse as a user who may read but not write it: as root (where
    chmod does not stop anything) the child runs as nobody; otherwise the
    tree is made read-only for the test's own user."""

    def __init__(self, wh: Path):
        self.wh = wh
        self.root = os.geteuid() == 0
        self.opened = []  # (directory, mode before) given search permission

    def _reachable(self, path: Path):
        """nobody must reach the binary and the warehouse: a checkout under
        a 0700 directory (mktemp -d) gets search permission (o+x, not read)
        on the way there, taken back at the end."""
        for d in reversed(Path(path).resolve().parents):
            mode = d.stat().st_mode
            if not mode & 0o001:
                d.chmod(mode | 0o001)
                self.opened.append((d, mode))

    def __enter__(self):
        if not self.root:
            for p in [self.wh, *self.wh.rglob("*")]:
                p.chmod(p.stat().st_mode & ~0o222)
        else:
            self._reachable(firnrun.firn_path())
            self._reachable(self.wh / "catalog.db")
        return self

    def __exit__(self, *exc):
        if not self.root:
            for p in [self.wh, *self.wh.rglob("*")]:
                p.chmod(p.stat().st_mode | 0o200)
        for d, mode in reversed(self.opened):
            d.chmod(mode)

    def run(self, *args) -> firnrun.Result:
        def as_nobody():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        return run_child(["--warehouse", self.wh, *args], preexec_fn=as_nobody if self.root else None)


@pytest.mark.parametrize("leftover_shm", [False, True], ids=["clean", "shm-left-by-a-reader"])
def test_read_only_warehouse_reads_and_says_why_writes_fail(run_firn, tmp, leftover_shm):
    """On a warehouse the user cannot write, read commands work (the
    catalog opens read-only, even where SQLite cannot make its -shm file)
    and a write says "permission denied" with the path, never "not an
    Iceberg SQL catalog", which invites a destructive fix."""
    wh = tmp / "wh"
    make_table(run_firn, wh, rows=5)
    want = ice.firn_rows(run_firn, wh, "n.t")
    if leftover_shm:  # a read-only reader with write access leaves -wal and -shm behind
        con = sqlite3.connect(f"file:{wh / 'catalog.db'}?mode=ro", uri=True)
        assert con.execute("SELECT count(*) FROM iceberg_tables").fetchone() == (1,)
        con.close()
        assert (wh / "catalog.db-shm").exists()
    before = tree(wh)
    src = tmp / "more.csv"
    src.write_text("id,s\n9,x\n")
    with ReadOnly(wh) as ro:
        assert ro.run("count", "n.t").stdout == "5\n"
        assert ro.run("tables").stdout == "n.t\n"
        assert ro.run("namespace", "list").stdout == "n\n"
        assert json.loads(ro.run("describe", "n.t", "--json").stdout)["table"] == "n.t"
        res = ro.run("scan", "n.t", "--format", "jsonl")
        assert res.returncode == 0, res.stderr
        assert sorted(json.loads(line)["id"] for line in res.stdout.splitlines()) == [0, 1, 2, 3, 4]
        for args in (["append", "n.t", src], ["namespace", "create", "m"], ["delete", "n.t", "--where", "id = 1"]):
            msg = assert_error(ro.run(*args), 1, mentions=["catalog.db"])
            assert "permission denied" in msg.lower(), msg
            assert "not an Iceberg SQL catalog" not in msg
    assert tree(wh) == before
    assert ice.firn_rows(run_firn, wh, "n.t") == want


def test_corrupt_and_foreign_catalog_files(run_firn, tmp):
    """"not an Iceberg SQL catalog" only for a file that is not SQLite or
    lacks the tables; a damaged catalog says it is damaged. Read commands
    never change the file."""
    garbage = tmp / "garbage.db"
    garbage.write_bytes(bytes(random.Random(3).getrandbits(8) for _ in range(8192)))
    other = tmp / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE iceberg_tables (x INT)")
    con.commit()
    con.close()
    for db in (garbage, other):
        before = db.read_bytes()
        for cmd in (["tables"], ["count", "n.t"], ["namespace", "list"]):
            res = run_firn("--catalog", f"sqlite://{db}", *cmd, check=False)
            assert_error(res, 1, mentions=[str(db), "not an Iceberg SQL catalog"])
        assert db.read_bytes() == before
    # a real catalog with the page of iceberg_tables overwritten
    wh = tmp / "wh"
    make_table(run_firn, wh)
    db = wh / "catalog.db"
    con = sqlite3.connect(db)
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'iceberg_tables'").fetchone()[0]
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    data = bytearray(db.read_bytes())
    data[(root - 1) * size:root * size] = b"\xff" * size
    db.write_bytes(bytes(data))
    for cmd in (["count", "n.t"], ["tables"], ["describe", "n.t"]):
        msg = assert_error(firn(run_firn, wh, *cmd, check=False), 1, mentions=[str(db)])
        assert "damaged" in msg and "not an Iceberg SQL catalog" not in msg, msg
    assert db.read_bytes() == bytes(data)


def test_locked_catalog_says_locked(run_firn, tmp):
    """A catalog another process holds exclusively: "database is locked"
    with the path after FIRN_LOCK_TIMEOUT seconds (0 here), not a hang and
    not "not an Iceberg SQL catalog"."""
    wh = tmp / "wh"
    make_table(run_firn, wh)
    con = sqlite3.connect(wh / "catalog.db", isolation_level=None)
    try:
        con.execute("PRAGMA locking_mode=EXCLUSIVE")
        con.execute("BEGIN EXCLUSIVE")
        con.execute("SELECT count(*) FROM iceberg_tables").fetchone()
        for cmd in (["count", "n.t"], ["tables"], ["append", "n.t", tmp / "rows-n.t.csv"]):
            res = run_child(["--warehouse", wh, *cmd], env={"FIRN_LOCK_TIMEOUT": "0"}, timeout=30)
            msg = assert_error(res, 1, mentions=[str(wh / "catalog.db"), "locked"])
            assert "not an Iceberg SQL catalog" not in msg
    finally:
        con.execute("ROLLBACK")
        con.close()
    assert firn(run_firn, wh, "count", "n.t").stdout == "5\n"


# ---- 2. a mistyped --warehouse creates nothing ------------------------------

@pytest.mark.parametrize("cmd", [
    ["tables"], ["scan", "n.t"], ["count", "n.t"], ["describe", "n.t"], ["namespace", "list"],
    ["namespace", "describe", "n"], ["snapshots", "n.t"], ["history", "n.t"], ["files", "n.t"],
    ["append", "n.t", "{src}"], ["drop", "n.t"], ["delete", "n.t", "--where", "id = 1"],
    ["expire", "n.t", "--dry-run"], ["namespace", "drop", "n"], ["rename", "n.t", "n.u"],
], ids=lambda c: "_".join(c[:2]).replace("{src}", "FILE"))
def test_missing_warehouse_is_not_created(run_firn, tmp, cmd):
    src = tmp / "in.csv"
    src.write_text("id\n1\n")
    wh = tmp / "wherehouse"  # the typo
    args = [str(src) if a == "{src}" else a for a in cmd]
    assert_error(firn(run_firn, wh, *args, check=False), 1, mentions=[f"no catalog at {wh}"])
    assert not wh.exists()
    db = tmp / "nowhere" / "c.db"
    assert_error(run_firn("--catalog", f"sqlite://{db}", *args, check=False), 1, mentions=[f"no catalog at {db}"])
    assert not db.parent.exists()
    assert sorted(p.name for p in tmp.iterdir()) == ["in.csv"]


def test_commands_that_create_may_create_the_warehouse(run_firn, tmp):
    wh = tmp / "fresh" / "wh"
    firn(run_firn, wh, "namespace", "create", "n")
    assert (wh / "catalog.db").is_file()
    assert firn(run_firn, wh, "namespace", "list").stdout == "n\n"
    assert firn(run_firn, wh, "tables").stdout == ""


# ---- 3. error lines are printable text -------------------------------------

HOSTILE = b"\x1b[31m\x07bad\xff\xfe\xc3(\r\n\x00x\x9b\xc2\x9b"  # ... a C1 control, valid UTF-8


def test_error_lines_escape_control_bytes_and_invalid_utf8(run_firn, tmp):
    """Names and file contents in a message come out escaped (\\xNN): one
    line of valid, printable UTF-8, whatever the bytes were; valid UTF-8
    text stays as it is."""
    name = os.fsdecode(HOSTILE.replace(b"\x00", b"") + "é".encode())
    missing = tmp / name
    src = tmp / "in.csv"
    src.write_bytes(b"id\n" + HOSTILE.replace(b"\n", b"").replace(b"\r", b"") + b"\n")
    wh = tmp / "wh"
    make_table(run_firn, wh)
    cases = [
        ["parquet", "cat", missing],
        ["parquet", "convert", src, tmp / "o.parquet", "--schema", "id long"],
        ["--warehouse", wh, "describe", "n." + name],
        ["--warehouse", wh, "append", "n.t", missing],
        ["--warehouse", wh, "scan", "n.t", "--where", name + " = 1"],
    ]
    for args in cases:
        res = run_firn(*args, check=False)
        assert_error(res, 1)
        line = res.stderr_bytes.decode("utf-8")  # strict: no invalid bytes
        assert all(c >= " " and c != "\x7f" and not "\x80" <= c <= "\x9f" for c in line[:-1]), repr(line)
        assert "\\x1b" in line or "\\xff" in line, repr(line)
    # the escapes name the bytes; valid UTF-8 text is kept
    line = run_firn("parquet", "cat", missing, check=False).stderr_bytes.decode("utf-8")
    assert "\\x1b[31m\\x07bad\\xff\\xfe\\xc3(\\x0d\\x0ax\\x9b\\xc2\\x9bé" in line, repr(line)


# ---- 4. usage errors ----------------------------------------------------------

USAGE = [
    ["rollback", "n.t", "--to", ""], ["rollback", "n.t", "--to", "99999999999999999999"],
    ["delete", "n.t", "--where", "id = 1", "--mode", "bogus"],
    ["update", "n.t", "--set", "s = 'x'", "--where", "id = 1", "--mode", "bogus"],
    ["merge", "n.t", "{src}", "--on", "id", "--mode", "bogus"],
    ["tag", "n.t", ""], ["branch", "n.t", ""], ["tag", "n.t", "x", "--snapshot", "abc"],
    ["tag", "n.t", "x", "--snapshot", "-3"], ["branch", "n.t", "x", "--snapshot", "1e3"],
    ["alter", "n.t", "set-property", "=v"], ["alter", "n.t", "unset-property", ""],
    ["alter", "n.t", "frobnicate", "x"],
    ["scan", "n.t", "--limit", "ten"], ["scan", "n.t", "--limit", "-1"], ["scan", "n.t", "--limit", "5 "],
    ["scan", "n.t", "--limit", "+5"], ["scan", "n.t", "--snapshot", "12a"], ["scan", "n.t", "--format", "xml"],
    ["scan", "n.t", "--as-of", "yesterday"], ["scan", "n.t", "--ref", ""],
    ["count", "n.t", "--snapshot", "0x10"], ["files", "n.t", "--snapshot", "x"],
    ["expire", "n.t", "--retain-last", "0"], ["expire", "n.t", "--retain-last", "2x"],
    ["expire", "n.t", "--older-than", "soon"], ["remove-orphans", "n.t", "--older-than", "soon"],
    ["compact", "n.t", "--target-file-size", "0"], ["compact", "n.t", "--target-file-size", "abc"],
    ["compact", "n.t", "--target-file-size", "-5"], ["compact", "n.t", "--target-file-size", "99999999999999999999"],
    ["compact", "n.t", "--target-file-size", "9000000000g"],
    ["create", "n.u", "--schema", "id long", "--format-version", "4"],
    ["create", "n.u", "--schema", "id long", "--format-version", "2x"],
    ["create", "n.u", "--schema", "id long", "--property", "=v"],
    ["namespace", "create", "m", "--property", "novalue"], ["namespace", "frob"],
    ["append", "n.t", "{src}", "--format", "xml"],
    ["parquet", "cat", "{src}", "--limit", "1 "], ["parquet", "convert", "{src}", "{out}", "--page-size", "0"],
    ["parquet", "convert", "{src}", "{out}", "--row-group-size", "1q"],
]


@pytest.mark.parametrize("args", USAGE, ids=lambda a: "_".join(x or "EMPTY" for x in a).replace(" ", "+")[:60])
def test_bad_option_values_are_usage_errors(run_firn, tmp, args):
    """Exit 2 with the command's usage line, and nothing done: no value is
    read as 0 or silently cut (strtoll's leniency)."""
    wh = tmp / "wh"
    make_table(run_firn, wh)
    src = tmp / "rows-n.t.csv"
    argv = [str(src) if a == "{src}" else str(tmp / "out.parquet") if a == "{out}" else a for a in args]
    before = tree(wh)
    res = firn(run_firn, wh, *argv, check=False)
    assert res.returncode == 2, f"{res.shell}: exit {res.returncode}\n{res.stderr}"
    lines = res.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("firn: error: ") and lines[1].startswith("usage: firn "), res.stderr
    assert tree(wh) == before
    assert not (tmp / "out.parquet").exists()


def test_every_command_answers_help(run_firn, tmp):
    for cmd in ("scan", "rollback", "append", "namespace", "alter"):
        res = run_firn(cmd, "--help")
        assert res.stdout.startswith(f"usage: firn {cmd} "), res.stdout
    assert run_firn("parquet", "convert", "--help").stdout.startswith("usage: firn parquet convert IN OUT")


def test_many_properties_and_input_files(run_firn, tmp):
    """More than 64 --property options and more than 255 input files: all
    of them count (the CLI's arrays were fixed-size)."""
    wh = tmp / "wh"
    props = [f"--property=p{i}=v{i}" for i in range(100)]
    firn(run_firn, wh, "namespace", "create", "n", *[a for i in range(70) for a in ("--property", f"k{i}=w{i}")])
    ns = json.loads(firn(run_firn, wh, "namespace", "describe", "n", "--json").stdout)["properties"]
    assert {k: v for k, v in ns.items() if k.startswith("k")} == {f"k{i}": f"w{i}" for i in range(70)}
    firn(run_firn, wh, "create", "n.t", "--schema", "id long", *props)
    got = ice.describe(run_firn, wh, "n.t")["properties"]
    assert {k: v for k, v in got.items() if k.startswith("p")} == {f"p{i}": f"v{i}" for i in range(100)}
    files = []
    for i in range(300):
        f = tmp / "in" / f"{i}.csv"
        f.parent.mkdir(exist_ok=True)
        f.write_text(f"id\n{i}\n")
        files.append(f)
    firn(run_firn, wh, "append", "n.t", *files)
    assert firn(run_firn, wh, "count", "n.t").stdout == "300\n"
    firn(run_firn, wh, "overwrite", "n.t", *files[:280], "--where", "id >= 0")
    assert firn(run_firn, wh, "count", "n.t").stdout == "280\n"
    assert sorted(r[0] for r in ice.pyiceberg_rows(wh, "n.t")) == list(range(280))


def test_commit_that_keeps_losing_says_it_gave_up(run_firn, tmp):
    """A commit whose every compare-and-swap loses says so on its last try,
    naming the table and the attempts; the attempts leave no files."""
    wh = tmp / "wh"
    make_table(run_firn, wh, "n.t", 3, "--property", "commit.retry.num-retries=2",
               "--property", "commit.retry.min-wait-ms=1", "--property", "commit.retry.max-wait-ms=2")
    before = tree(wh / "n.db")
    con = sqlite3.connect(wh / "catalog.db")  # every swap now changes no row: another writer "won"
    con.execute("CREATE TRIGGER always_lose BEFORE UPDATE ON iceberg_tables BEGIN SELECT RAISE(IGNORE); END")
    con.commit()
    con.close()
    res = firn(run_firn, wh, "append", "n.t", tmp / "rows-n.t.csv", check=False)
    assert_error(res, 1, mentions=["n.t: gave up after 3 attempts: the table changed concurrently"])
    assert tree(wh / "n.db") == before
    assert firn(run_firn, wh, "count", "n.t").stdout == "3\n"


# ---- 5. no command writes to one of its own inputs ----------------------------

def test_convert_never_writes_over_its_input(run_firn, tmp):
    """convert X X deleted X (a 66 MB CSV was lost). The same file by any
    name (itself, a symbolic link, a hard link) is refused, X intact."""
    x = tmp / "x.csv"
    x.write_text("id,s\n" + "".join(f"{i},{i * i}\n" for i in range(20000)))
    data = x.read_bytes()
    (tmp / "sym.csv").symlink_to("x.csv")
    os.link(x, tmp / "hard.csv")
    for a, b in (("x.csv", "x.csv"), ("x.csv", "sym.csv"), ("sym.csv", "x.csv"), ("x.csv", "hard.csv"),
                 ("hard.csv", "sym.csv")):
        res = run_firn("parquet", "convert", tmp / a, tmp / b, "--format", "csv", check=False)
        assert_error(res, 1, mentions=["same file"])
        assert x.read_bytes() == data
    assert sorted(p.name for p in tmp.iterdir()) == ["hard.csv", "sym.csv", "x.csv"]


def test_failed_convert_leaves_existing_output_untouched(run_firn, tmp):
    out = tmp / "out.parquet"
    out.write_bytes(b"precious")
    bad = tmp / "bad.csv"
    bad.write_text("id\n" + "".join(f"{i}\n" for i in range(50000)) + "oops\n")
    assert_error(run_firn("parquet", "convert", bad, out, "--schema", "id long", check=False), 1, mentions=["oops"])
    assert out.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp.iterdir()) == ["bad.csv", "out.parquet"]
    good = tmp / "good.csv"
    good.write_text("id\n1\n2\n")
    run_firn("parquet", "convert", good, out, "--schema", "id long")
    import pyarrow.parquet as pq
    assert pq.read_table(out).column("id").to_pylist() == [1, 2]
    assert sorted(p.name for p in tmp.iterdir()) == ["bad.csv", "good.csv", "out.parquet"]


def test_scan_output_is_never_a_file_of_the_table(run_firn, tmp):
    """scan --output over one of the files the scan reads (a data file, the
    metadata file) is refused; the table reads as before."""
    wh = tmp / "wh"
    make_table(run_firn, wh)
    want = ice.firn_rows(run_firn, wh, "n.t")
    data = json.loads(firn(run_firn, wh, "files", "n.t", "--json").stdout)[0]["file-path"]
    meta = ice.describe(run_firn, wh, "n.t")["metadata-location"]
    link = tmp / "alias.parquet"
    link.symlink_to(data.removeprefix("file://"))
    for target, fmt in ((data.removeprefix("file://"), "parquet"), (link, "csv"), (meta.removeprefix("file://"), "jsonl")):
        before = Path(target).read_bytes()
        res = firn(run_firn, wh, "scan", "n.t", "--format", fmt, "--output", target, check=False)
        assert_error(res, 1, mentions=["same file"])
        assert Path(target).read_bytes() == before
    assert ice.firn_rows(run_firn, wh, "n.t") == want
    assert ice.pyiceberg_rows(wh, "n.t") == want
    out = tmp / "out.csv"
    out.write_text("old")
    firn(run_firn, wh, "scan", "n.t", "--format", "csv", "--output", out)
    assert out.read_text().splitlines()[0] == "id,s" and len(out.read_text().splitlines()) == 6


# ---- 6. a failed write leaves no partial files --------------------------------

def limited(nbytes):
    """preexec_fn: files may not grow past nbytes (writes fail with EFBIG, as
    on a full disk, instead of killing the process)."""
    def f():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return f


def big_csv(path: Path, small_rows: int):
    rnd = random.Random(5)
    rows = "".join(f"{i},{rnd.getrandbits(64):x}\n" for i in range(small_rows))
    big = "".join(f"{rnd.getrandbits(64):016x}" for _ in range(12000))  # ~190 KB, incompressible
    path.write_text("id,s\n" + rows + f"999999,{big}\n")


@pytest.mark.parametrize("cmd", ["append", "overwrite", "merge"])
def test_failed_write_removes_its_data_files(run_firn, tmp, cmd):
    """Files roll at a 1-byte target: several are complete before the one
    that hits the size limit. None of them may stay; the table reads as
    before; the message names the cause."""
    wh = tmp / "wh"
    make_table(run_firn, wh, "n.t", 4, "--property", "write.target-file-size-bytes=1")
    want = ice.firn_rows(run_firn, wh, "n.t")
    src = tmp / "big.csv"
    big_csv(src, 3000)
    before = tree(wh / "n.db")
    extra = {"append": [], "overwrite": ["--where", "id >= 0"], "merge": ["--on", "id"]}[cmd]
    res = run_child(["--warehouse", wh, cmd, "n.t", src, *extra], preexec_fn=limited(64 * 1024))
    assert_error(res, 1, mentions=["File too large"])
    assert tree(wh / "n.db") == before
    assert ice.firn_rows(run_firn, wh, "n.t") == want
    assert ice.pyiceberg_rows(wh, "n.t") == want


def test_failed_commit_removes_the_written_files(run_firn, tmp):
    """The data files are written, the metadata file is not (it is larger
    than the limit): an I/O error before the swap, so nothing was published
    and nothing may stay."""
    wh = tmp / "wh"
    make_table(run_firn, wh, "n.t", 4, "--property", "padding=" + "p" * 80000)
    want = ice.firn_rows(run_firn, wh, "n.t")
    src = tmp / "more.csv"
    src.write_text("id,s\n100,x\n101,y\n")
    before = tree(wh / "n.db")
    res = run_child(["--warehouse", wh, "append", "n.t", src], preexec_fn=limited(64 * 1024))
    assert_error(res, 1, mentions=["File too large"])
    assert tree(wh / "n.db") == before
    assert ice.firn_rows(run_firn, wh, "n.t") == want
