#!/usr/bin/env python3
"""The seed's billion rows (issue 13): a day-partitioned table of
`id long, ts timestamp, k string, v double` built by firn from generated
Parquet input, then the queries a data team runs on it, each timed with its
peak memory, DuckDB's iceberg_scan (and PyIceberg, unless --no-pyiceberg)
answering the same ones on the same table. Every answer is checked against
the others and against what the generator put in.

  bench/billion.py BUILD/firn [--rows 1000000000] [--dir bench/out/billion]

The input (files of 10 M rows) is generated once per row count and kept.
Prints a markdown table and the table's disk use. Targets on the 2-core box
(issue 13): build < 5 min, count < 50 ms, one-day count < 0.5 s, point
lookup < 1 s, one-row delete < 150 ms, the string-equality count faster than
DuckDB's, peak memory < 2 GB throughout."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "interop"))
import ice  # noqa: E402

DAYS = 37
START_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
SPAN_US = DAYS * 86_400_000_000
KEYS = 1000
FILE_ROWS = 10_000_000
SCHEMA = "id long not null, ts timestamp, k string, v double"


def ts_of(ids, rows):
    """START_US + ids * SPAN_US // rows, exactly, without overflowing int64"""
    q, r = divmod(SPAN_US, rows)
    return START_US + ids * q + (ids * r) // rows


def key_of(ids):
    return (ids * 7919) % KEYS


def generate(rows, into: Path):
    """The input files, once: ts grows with id over DAYS days, k one of
    KEYS strings, v a seeded uniform double."""
    stamp = into / f"rows-{rows}"
    if stamp.exists():
        return sorted(into.glob("part-*.parquet"))
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    keys = pa.array([f"k{i}" for i in range(KEYS)], pa.string())
    schema = pa.schema([pa.field("id", pa.int64(), False), ("ts", pa.timestamp("us")), ("k", pa.string()),
                        ("v", pa.float64())])
    rng = np.random.default_rng(13)
    t0 = time.perf_counter()
    for f, lo in enumerate(range(0, rows, FILE_ROWS)):
        ids = np.arange(lo, min(rows, lo + FILE_ROWS), dtype=np.int64)
        k = pa.DictionaryArray.from_arrays(pa.array(key_of(ids).astype(np.int32)), keys)
        t = pa.table({"id": ids, "ts": pa.array(ts_of(ids, rows), pa.timestamp("us")),
                      "k": k.cast(pa.string()), "v": rng.random(len(ids))}, schema=schema)
        pq.write_table(t, into / f"part-{f:05d}.parquet", row_group_size=1 << 20)
    stamp.write_text("")
    print(f"generated {rows:,} rows in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return sorted(into.glob("part-*.parquet"))


def timed(argv, env=None):
    """(seconds, peak RSS MiB, stdout) of one process."""
    tv = "/tmp/firn-billion-time.txt"
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tv, *argv], capture_output=True, text=True,
                       env=env)
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv))}: {p.stderr.strip()}")
    return secs, int(Path(tv).read_text().split()[-1]) / 1024, p.stdout


PEER = r'''
import json, resource, sys, time
kind, meta, query = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
if kind == "duckdb":
    sys.path.insert(0, sys.argv[4])
    import ice
    con = ice.duck()
    con.execute("SET threads=2")
    con.execute("SET enable_progress_bar=false")
    t0 = time.perf_counter()
    q = query.replace("FROM T", f"FROM iceberg_scan('{meta}')", 1)
    if q.startswith("ARROW:"):
        out = con.execute(q[6:]).fetch_arrow_table().num_rows
    else:
        out = con.execute(q).fetchall()[0][0]
else:
    from pyiceberg.table import StaticTable
    from pyiceberg.expressions import parser
    tbl = StaticTable.from_metadata(meta)
    what, where = query.split("|", 1)
    scan = tbl.scan(row_filter=parser.parse(where) if where else "true")
    out = scan.count() if what == "count" else scan.to_arrow().num_rows
print(json.dumps([time.perf_counter() - t0, out]))
'''


def peer(kind, meta, query):
    secs, rss, out = timed([sys.executable, "-c", PEER, kind, meta, query, str(HERE.parent / "tests" / "interop")])
    inner, value = json.loads(out.strip().splitlines()[-1])
    return inner, rss, value


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("firn")
    ap.add_argument("--rows", type=int, default=1_000_000_000)
    ap.add_argument("--dir", default=str(HERE / "out" / "billion"))
    ap.add_argument("--no-pyiceberg", action="store_true")
    a = ap.parse_args()
    rows = a.rows
    firn = str(Path(a.firn).resolve())
    base = Path(a.dir)
    files = generate(rows, base / "input")
    wh = base / "wh"
    shutil.rmtree(wh, ignore_errors=True)

    def f(*args):
        return timed([firn, "--quiet", "--warehouse", str(wh), *map(str, args)])

    class Results(list):
        def append(self, r):
            super().append(r)
            print("  ", r, file=sys.stderr, flush=True)

    results = Results()  # (step, firn s, firn MiB, duckdb s, pyiceberg s, answer)

    f("namespace", "create", "b")
    f("create", "b.t", "--schema", SCHEMA, "--partition-by", "day(ts)")
    secs, rss, _ = f("append", "b.t", *files)
    results.append(("append (build)", secs, rss, None, None, f"{rows:,} rows"))
    meta = f("location", "b.t")[2].strip()

    day = 5
    d0 = START_US + day * 86_400_000_000
    lo_id = -(-(d0 - START_US) * rows // SPAN_US)  # first id of the day
    hi_id = -(-(d0 + 86_400_000_000 - START_US) * rows // SPAN_US)
    day_iso = time.strftime("%Y-%m-%d", time.gmtime(d0 / 1e6))
    next_iso = time.strftime("%Y-%m-%d", time.gmtime(d0 / 1e6 + 86400))
    day_where = f"ts >= '{day_iso}T00:00:00' and ts < '{next_iso}T00:00:00'"
    duck_day = f"ts >= TIMESTAMP '{day_iso} 00:00:00' AND ts < TIMESTAMP '{next_iso} 00:00:00'"
    ice_day = f"ts >= '{day_iso}T00:00:00' and ts < '{next_iso}T00:00:00'"
    point = rows // 3 + 7
    # ids with key_of(id) == 42: one residue c mod KEYS (7919 is prime to KEYS)
    c = 42 * pow(7919, -1, KEYS) % KEYS
    k42 = (rows - c + KEYS - 1) // KEYS if c < rows else 0

    queries = [
        ("count", ["count", "b.t"], "SELECT count(*) FROM T", "count|", rows),
        ("one-day count", ["count", "b.t", "--where", day_where], f"SELECT count(*) FROM T WHERE {duck_day}",
         f"count|{ice_day}", hi_id - lo_id),
        ("point lookup id = x", ["count", "b.t", "--where", f"id = {point}"],
         f"SELECT count(*) FROM T WHERE id = {point}", f"count|id = {point}", 1),
        ("count k = 'k42' over every row", ["count", "b.t", "--where", "k = 'k42'"],
         "SELECT count(*) FROM T WHERE k = 'k42'", "count|k = 'k42'", k42),
    ]
    for label, fargs, dq, iq, want in queries:
        secs, rss, out = f(*fargs)
        got = int(out.strip())
        dsecs, _, dval = peer("duckdb", meta, dq)
        isecs = None
        if not a.no_pyiceberg:
            isecs, _, ival = peer("pyiceberg", meta, iq)
            assert ival == got, (label, got, ival)
        assert got == dval and (want is None or got == want), (label, got, dval, want)
        results.append((label, secs, rss, dsecs, isecs, f"{got:,}"))

    # a one-day scan, read to its end (Arrow IPC to /dev/null)
    secs, rss, _ = timed([firn, "--quiet", "--warehouse", str(wh), "scan", "b.t", "--where", day_where,
                          "--format", "arrow", "--output", "/dev/null"])
    dsecs, _, dval = peer("duckdb", meta, f"ARROW:SELECT * FROM T WHERE {duck_day}")
    results.append(("one-day scan", secs, rss, dsecs, None, f"{dval:,} rows"))

    secs, rss, _ = f("delete", "b.t", "--where", f"id = {point}")
    results.append(("one-row delete", secs, rss, None, None, ""))
    n_upd = max(1, rows // 10000)
    secs, rss, _ = f("update", "b.t", "--set", "v = 0.0", "--where",
                     f"id >= {lo_id} and id < {lo_id + n_upd}")
    results.append(("0.01% update", secs, rss, None, None, f"{n_upd:,} rows"))
    secs, rss, _ = f("compact", "b.t", "--where", day_where)
    results.append(("one-day compaction", secs, rss, None, None, ""))
    secs, rss, out = f("count", "b.t")
    assert int(out.strip()) == rows - 1, out
    secs, rss, out = f("count", "b.t", "--where", "v = 0.0")
    assert int(out.strip()) >= n_upd - 1, out

    du = subprocess.run(["du", "-sb", str(wh)], capture_output=True, text=True).stdout.split()[0]
    n_files = len(list(wh.glob("b.db/t/data/**/*.parquet")))
    load = os.getloadavg()[0]
    print(f"\n{rows:,} rows; table {int(du) / 1e9:.2f} GB on disk, {n_files} Parquet files; "
          f"load average after: {load:.2f}\n")
    print("| step | firn | firn peak RSS | DuckDB (2 threads) | PyIceberg | DuckDB / firn | answer |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for step, s_, m, d, i, ans in results:
        ds = f"{d:.3f} s" if d is not None else ""
        is_ = f"{i:.3f} s" if i is not None else ""
        ratio = f"{d / s_:.2f}x" if d is not None else ""
        print(f"| {step} | {s_:.3f} s | {m:.0f} MiB | {ds} | {is_} | {ratio} | {ans} |")


if __name__ == "__main__":
    main()
