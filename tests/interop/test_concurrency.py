"""Concurrency and kill -9: appenders and deleters commit beside
remove-orphans (default window), expire and compaction, each firn command
its own process, on one table, for a bounded number of operations. Each
worker logs what it committed; at the end no row is lost, duplicated or
resurrected (a committed append's rows are there unless a committed delete
removed them; a committed delete's rows are gone; a command killed midway
took effect whole or not at all), firn, DuckDB and PyIceberg (v2; v3 deletion
vectors are beyond PyIceberg 0.12) read the same rows, and no file the
metadata references is missing. The second variant SIGKILLs random
processes at random moments and injects FIRN_CRASH_AT at random steps;
then the same checks, and the next append works."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time

import pytest

import ice
import model
from firnrun import assert_error
from test_crash import STEPS

TABLE = model.TABLE  # model.Runner's checks read this table
APPENDERS, APPENDS, DELETES, CHUNK = 3, 12, 10, 5


class Pool:
    """The running firn processes, for the killer."""

    def __init__(self):
        self.lock = threading.Lock()
        self.procs = set()

    def run(self, argv, env):
        p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        with self.lock:
            self.procs.add(p)
        try:
            out, err = p.communicate(timeout=120)
        finally:
            with self.lock:
                self.procs.discard(p)
        return p.returncode, out, err

    def kill_one(self, rng):
        with self.lock:
            procs = sorted(self.procs, key=lambda p: p.pid)
        if procs:
            try:
                rng.choice(procs).send_signal(signal.SIGKILL)
            except ProcessLookupError:
                pass


def outcome(rc, err, argv):
    """committed | failed | unknown (killed: took effect whole or not at all)."""
    if rc == 0:
        return "committed"
    if rc == -signal.SIGKILL:
        return "unknown"
    res = type("R", (), {"returncode": rc, "stderr": err.decode(errors="replace"), "shell": " ".join(argv)})
    assert_error(res)  # a failure keeps the error contract
    return "failed"


def setup_table(run_firn, wh, fv):
    run_firn("--warehouse", wh, "namespace", "create", "m")
    run_firn("--warehouse", wh, "create", TABLE, "--schema", "w long not null, k long not null",
             "--partition-by", "bucket(2, k)", "--format-version", str(fv),
             "--property", "commit.retry.num-retries=200", "--property", "commit.retry.min-wait-ms=2",
             "--property", "commit.retry.max-wait-ms=50")
    seed = wh / "seed.csv"
    seed.write_text("w,k\n" + "".join(f"-1,{k}\n" for k in range(DELETES * CHUNK)))
    run_firn("--warehouse", wh, "append", TABLE, seed)


def race(wh, firn_bin, rng, crash: bool):
    """Runs the workers; returns the log: (kind, rows, outcome) per
    row-changing command."""
    pool = Pool()
    log, lock = [], threading.Lock()
    fb = str(firn_bin)
    done = threading.Event()

    def env_for(r):
        env = dict(os.environ)
        env.pop("FIRN_CRASH_AT", None)
        if crash and r.random() < 0.2:
            env["FIRN_CRASH_AT"] = r.choice(STEPS)
        return env

    def record(kind, rows, argv, rc, out, err):
        with lock:
            log.append((kind, rows, outcome(rc, err, argv)))

    def appender(w):
        r = random.Random(f"{rng.random()}-{w}")
        for i in range(APPENDS):
            rows = [(w, i * 10 + j) for j in range(3)]
            p = wh / f"a-{w}-{i}.csv"
            p.write_text("w,k\n" + "".join(f"{a},{b}\n" for a, b in rows))
            argv = [fb, "--warehouse", str(wh), "append", TABLE, str(p)]
            record("append", rows, argv, *pool_run(argv, env_for(r)))

    def deleter():
        r = random.Random(f"{rng.random()}-d")
        for i in range(DELETES):
            rows = [(-1, k) for k in range(i * CHUNK, i * CHUNK + CHUNK)]
            mode = r.choice(["merge-on-read", "copy-on-write", "auto"])
            argv = [fb, "--warehouse", str(wh), "delete", TABLE, "--where",
                    f"w = -1 and k >= {i * CHUNK} and k < {i * CHUNK + CHUNK}", "--mode", mode]
            record("delete", rows, argv, *pool_run(argv, env_for(r)))
            with lock:  # and a row an append committed
                done_rows = [x for kind, rows_, o in log if kind == "append" and o == "committed" for x in rows_]
                gone = {x for kind, rows_, o in log if kind == "delete" for x in rows_}
            cand = [x for x in done_rows if x not in gone]
            if cand:
                w, k = r.choice(cand)
                argv = [fb, "--warehouse", str(wh), "delete", TABLE, "--where", f"w = {w} and k = {k}"]
                record("delete", [(w, k)], argv, *pool_run(argv, env_for(r)))

    def maintainer(args):
        r = random.Random(f"{rng.random()}-{args[0]}")
        while not done.is_set():
            argv = [fb, "--warehouse", str(wh), *args]
            rc, _, err = pool_run(argv, env_for(r))
            outcome(rc, err, argv)
            time.sleep(0.02)

    def pool_run(argv, env):
        return pool.run(argv, env)

    errors = []

    def guarded(fn):
        def run(*a):
            try:
                fn(*a)
            except BaseException as e:  # reported by the test, not lost in the thread
                errors.append(e)
                done.set()
        return run

    workers = [threading.Thread(target=guarded(appender), args=(w,)) for w in range(APPENDERS)]
    workers.append(threading.Thread(target=guarded(deleter)))
    maint = [threading.Thread(target=guarded(maintainer), args=(a,)) for a in (
        ["compact", TABLE],
        ["expire", TABLE, "--retain-last", "3", "--older-than", "9999999999999"],
        ["remove-orphans", TABLE],
        ["rewrite-manifests", TABLE])]
    for t in workers + maint:
        t.start()
    if crash:
        while any(t.is_alive() for t in workers):
            time.sleep(rng.uniform(0.02, 0.15))
            pool.kill_one(rng)
    for t in workers:
        t.join(timeout=150)
    done.set()
    for t in maint:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in workers + maint), "a worker did not finish"
    if errors:
        raise errors[0]
    return log


def check_end(run_firn, wh, fv, log):
    r = model.Runner(wh, {"fv": fv, "spec": "", "threshold": None}, run=run_firn)
    want_present, want_absent, unknown = set(), set(), []
    for kind, rows, o in log:
        if kind == "append" and o == "committed":
            want_present.update(rows)
        elif kind == "append" and o == "failed":
            want_absent.update(rows)
        elif kind == "append":
            unknown.append(rows)
    deleted, maybe_deleted = set(), set()
    for kind, rows, o in log:
        if kind != "delete":
            continue
        if o == "committed":
            deleted.update(rows)
        elif o == "unknown":
            unknown.append(rows)
            maybe_deleted.update(rows)
    seed_rows = {(-1, k) for k in range(DELETES * CHUNK)}
    want_present = (want_present | seed_rows) - deleted - maybe_deleted
    want_absent |= deleted
    rows = ice.firn_rows(run_firn, wh, TABLE)
    loc = r.meta_loc()
    assert ice.duck_scan(r.duck, loc) == rows
    if fv == 2:  # PyIceberg 0.12 does not read v3 deletion vectors
        assert ice.pyiceberg_rows(wh, TABLE) == rows
    counts = {}
    for x in rows:
        counts[x] = counts.get(x, 0) + 1
    dup = {x: n for x, n in counts.items() if n > 1}
    assert not dup, f"duplicated rows: {dup}"
    lost = sorted(want_present - set(counts))
    assert not lost, f"lost rows (committed, never deleted): {lost}"
    back = sorted(want_absent & set(counts))
    assert not back, f"rows a committed delete (or a failed append) removed are there: {back}"
    for rows_ in unknown:  # a killed command took effect whole or not at all
        there = [x in counts for x in rows_]
        assert all(there) or not any(there), f"a killed command took effect in part: {rows_} {there}"
    known = want_present | want_absent | {x for rs in unknown for x in rs}
    stray = sorted(set(counts) - known)
    assert not stray, f"rows nobody wrote: {stray}"
    problems = model.check_metadata(r, r.metadata(loc))
    assert not problems, "\n".join(problems)
    return rows


@pytest.mark.conformance(("concurrent writers and maintenance", "PyIceberg"),
                         ("concurrent writers and maintenance", "DuckDB"))
@pytest.mark.parametrize("fv", [2, 3])
def test_writers_beside_maintenance(run_firn, tmp, firn_bin, fv):
    wh = tmp / "wh"
    setup_table(run_firn, wh, fv)
    log = race(wh, firn_bin, random.Random(fv), crash=False)
    assert all(o == "committed" for _, _, o in log), [x for x in log if x[2] != "committed"]
    assert sum(1 for kind, _, _ in log if kind == "append") == APPENDERS * APPENDS
    check_end(run_firn, wh, fv, log)


@pytest.mark.conformance(("kill -9 of writers and maintenance", "PyIceberg"),
                         ("kill -9 of writers and maintenance", "DuckDB"))
@pytest.mark.parametrize("fv", [2, 3])
def test_kill_minus_nine(run_firn, tmp, firn_bin, fv):
    wh = tmp / "wh"
    setup_table(run_firn, wh, fv)
    log = race(wh, firn_bin, random.Random(100 + fv), crash=True)
    assert any(o == "unknown" for _, _, o in log), "nothing was killed"
    rows = check_end(run_firn, wh, fv, log)
    # the table takes the next append
    p = wh / "next.csv"
    p.write_text("w,k\n99,1\n99,2\n")
    run_firn("--warehouse", wh, "append", TABLE, p)
    after = ice.firn_rows(run_firn, wh, TABLE)
    assert sorted(after) == sorted(rows + [(99, 1), (99, 2)])
    r = model.Runner(wh, {"fv": fv, "spec": "", "threshold": None}, run=run_firn)
    assert not model.check_metadata(r, r.metadata(r.meta_loc()))
