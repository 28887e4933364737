#!/usr/bin/env python3
"""`make bench-commit`: the latency of a one-row `firn append` commit against
the length of the table's history (issue: commit latency independent of
history).

    .venv/bin/python bench/commit_latency.py BUILD/firn [--points 1,100,1000] [--reps 30]
        [--compare OTHER/firn]

Builds one table by appending 1-row CSV files (one snapshot each) until it
has each point's number of snapshots; there it times --reps one-row appends
(the whole `firn append` process, as a user runs it). Each timed append
starts from the same history: the catalog database is restored from a copy
taken at the point before every timed run, so the table's metadata pointer
goes back to the N-snapshot metadata file (the timed runs' files stay on disk
as orphans, which no commit reads). Prints a markdown table of p50 and p99 in
milliseconds, wall and CPU (user + system; steadier when the machine is
shared), the metadata file's size and the number of manifests in the
current snapshot's list at each point (appends merge manifests as Java's
merge append does, once 100 are there: at a multiple of 99 snapshots, 1,089 say,
the timed commit merges 100 manifests into one). With --compare, a
second binary (say, a build of an older commit) is timed on the same history,
its runs interleaved with the first's so that both see the same load.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time


def run(firn, wh, *args):
    subprocess.run([firn, "--warehouse", wh, *args], check=True, stdout=subprocess.DEVNULL)


def timed(firn, wh, *args):
    """Wall and CPU (user + system) milliseconds of one firn process."""
    t = time.perf_counter()
    p = subprocess.Popen([firn, "--warehouse", wh, *args], stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = (time.perf_counter() - t) * 1000.0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"bench-commit: firn {' '.join(args)} failed ({p.returncode})")
    return wall, (ru.ru_utime + ru.ru_stime) * 1000.0


def percentile(xs, p):
    """Nearest-rank percentile (p in 0..100) of xs."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def current_metadata(wh):
    meta = os.path.join(wh, "b.db", "t", "metadata")
    files = [f for f in os.listdir(meta) if f.endswith(".metadata.json")]
    newest = max(files, key=lambda f: os.path.getmtime(os.path.join(meta, f)))
    return os.path.join(meta, newest)


def manifest_count(wh):
    """Manifests in the current snapshot's list (fastavro, as the tests read Avro)."""
    import json
    import fastavro
    with open(current_metadata(wh)) as f:
        meta = json.load(f)
    snap = next(s for s in meta["snapshots"] if s["snapshot-id"] == meta["current-snapshot-id"])
    with open(snap["manifest-list"].removeprefix("file://"), "rb") as f:
        return sum(1 for _ in fastavro.reader(f))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("firn")
    ap.add_argument("--points", default="1,100,1000")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--dir", default=None, help="work directory (default: a temporary one)")
    ap.add_argument("--compare", default=None, help="another firn to time on the same history")
    a = ap.parse_args()
    firn = os.path.abspath(a.firn)
    bins = [firn] + ([os.path.abspath(a.compare)] if a.compare else [])
    points = sorted(int(x) for x in a.points.split(","))
    work = a.dir or tempfile.mkdtemp(prefix="firn-commit-")
    os.makedirs(work, exist_ok=True)
    # private copies: a rebuild during the run must not change (or remove) them
    names = bins
    bins = []
    for i, exe in enumerate(names):
        bins.append(os.path.join(work, f"firn-{i}"))
        shutil.copy2(exe, bins[-1])
    wh = os.path.join(work, "w")
    shutil.rmtree(wh, ignore_errors=True)
    row = os.path.join(work, "row.csv")
    with open(row, "w") as f:
        f.write("id,s\n1,a\n")
    firn = bins[0]
    run(firn, wh, "namespace", "create", "b")
    run(firn, wh, "create", "b.t", "--schema", "id long, s string")
    db = os.path.join(wh, "catalog.db")
    saved = os.path.join(work, "catalog.db.saved")
    have = 0
    results = []
    t0 = time.time()
    for n in points:
        while have < n:
            run(firn, wh, "append", "b.t", row)
            have += 1
        print(f"bench-commit: {n} snapshots built ({time.time() - t0:.0f} s)", file=sys.stderr)
        size = os.path.getsize(current_metadata(wh))
        manifests = manifest_count(wh)
        shutil.copyfile(db, saved)
        wall = [[] for _ in bins]
        cpu = [[] for _ in bins]
        for _ in range(a.reps):
            for b, exe in enumerate(bins):
                shutil.copyfile(saved, db)
                w, c = timed(exe, wh, "append", "b.t", row)
                wall[b].append(w)
                cpu[b].append(c)
        shutil.copyfile(saved, db)
        for b in range(len(bins)):
            results.append((b, n, size, manifests, percentile(wall[b], 50), percentile(wall[b], 99),
                            percentile(cpu[b], 50), percentile(cpu[b], 99)))
    print(f"one-row `firn append` commit, {a.reps} runs per point (CPU: user + system)\n")
    print("| firn | snapshots in history | metadata.json | manifests | p50 ms | p99 ms | CPU p50 ms "
          "| CPU p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for b, n, size, nm, p50, p99, c50, c99 in sorted(results):
        print(f"| {names[b]} | {n:,} | {size / 1024:,.0f} KB | {nm} | {p50:.1f} | {p99:.1f} | {c50:.1f} "
              f"| {c99:.1f} |")
    print()
    for b in range(len(bins)):
        rows = [r for r in results if r[0] == b]
        for r in rows[1:]:
            print(f"{names[b]}: at {r[1]:,} / at {rows[0][1]:,}: p50 {r[4] / rows[0][4]:.2f}x, "
                  f"CPU p50 {r[6] / rows[0][6]:.2f}x")
    if not a.dir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
