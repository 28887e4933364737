#!/usr/bin/env python3
"""firn import delta on a long Delta history (issue 15). Not a test.

    bench/import_delta.py FIRN [--versions 1000] [--files-per-version 10] [--rows 100]
                          [--work DIR]

Makes a Delta table of VERSIONS commits, each adding FILES_PER_VERSION small
Parquet files of ROWS rows (written with pyarrow, the _delta_log JSON
written directly, as delta-rs writes it: protocol, metaData, add with stats,
commitInfo), partitioned by a string column with 10 values. Every 10th
version also removes one earlier file, so the history holds deletes too.
Then:
  - firn import delta into a fresh warehouse: wall time and peak RSS
    (/usr/bin/time -v), and the snapshot count;
  - DuckDB's first query (count(*) and a sum over iceberg_scan of the
    imported table's metadata) after the import;
  - the alternative: the Delta table's latest rows read with deltalake and
    appended to a new Iceberg table with PyIceberg (SqlCatalog), then the
    same DuckDB query;
and prints a markdown table."""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def make_delta(root: Path, versions: int, per: int, rows: int) -> int:
    log = root / "_delta_log"
    log.mkdir(parents=True)
    schema = {"type": "struct", "fields": [
        {"name": "id", "type": "long", "nullable": True, "metadata": {}},
        {"name": "v", "type": "double", "nullable": True, "metadata": {}},
        {"name": "city", "type": "string", "nullable": True, "metadata": {}}]}
    live = []
    n_files = 0
    t0 = 1_700_000_000_000
    for ver in range(versions):
        acts = [{"commitInfo": {"timestamp": t0 + ver * 1000, "operation": "WRITE"}}]
        if ver == 0:
            acts.append({"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}})
            acts.append({"metaData": {"id": str(uuid.uuid4()), "format": {"provider": "parquet", "options": {}},
                                      "schemaString": json.dumps(schema), "partitionColumns": ["city"],
                                      "configuration": {}, "createdTime": t0}})
        for k in range(per):
            city = f"c{(ver * per + k) % 10}"
            rel = f"city={city}/part-{ver:05d}-{k:03d}.parquet"
            f = root / rel
            f.parent.mkdir(exist_ok=True)
            first = (ver * per + k) * rows
            pq.write_table(pa.table({"id": pa.array(range(first, first + rows), pa.int64()),
                                     "v": pa.array([i * 0.5 for i in range(rows)], pa.float64())}), f)
            stats = {"numRecords": rows, "minValues": {"id": first}, "maxValues": {"id": first + rows - 1},
                     "nullCount": {"id": 0, "v": 0}}
            acts.append({"add": {"path": rel, "partitionValues": {"city": city}, "size": f.stat().st_size,
                                 "modificationTime": t0 + ver * 1000, "dataChange": True,
                                 "stats": json.dumps(stats)}})
            live.append((rel, city, f.stat().st_size))
            n_files += 1
        if ver % 10 == 9:
            rel, city, size = live.pop(0)
            acts.append({"remove": {"path": rel, "partitionValues": {"city": city}, "size": size,
                                    "deletionTimestamp": t0 + ver * 1000, "dataChange": True}})
        (log / f"{ver:020d}.json").write_text("".join(json.dumps(a) + "\n" for a in acts))
    return n_files


def timed(cmd: list) -> tuple:
    """Wall seconds and peak RSS (MiB) of cmd under /usr/bin/time -v."""
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"{cmd} failed: {p.stderr[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    return wall, rss, p.stdout


def duck_first_query(metadata: str) -> tuple:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "interop"))
    import ice
    t = time.perf_counter()
    con = ice.duck()
    n, s = con.execute(f"SELECT count(*), sum(v) FROM iceberg_scan('{metadata}')").fetchone()
    return time.perf_counter() - t, n, s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("firn")
    ap.add_argument("--versions", type=int, default=1000)
    ap.add_argument("--files-per-version", type=int, default=10)
    ap.add_argument("--rows", type=int, default=100)
    ap.add_argument("--work", default="bench/out/import_delta")
    a = ap.parse_args()
    work = Path(a.work).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    src, wh = work / "delta", work / "wh"
    t = time.perf_counter()
    n_files = make_delta(src, a.versions, a.files_per_version, a.rows)
    made = time.perf_counter() - t
    firn = str(Path(a.firn).resolve())
    subprocess.run([firn, "--warehouse", wh, "namespace", "create", "db"], check=True)
    wall, rss, out = timed([firn, "--warehouse", str(wh), "import", "delta", str(src), "db.t", "--json"])
    info = json.loads(out)
    d = json.loads(subprocess.run([firn, "--warehouse", wh, "describe", "db.t", "--json"], check=True,
                                  capture_output=True, text=True).stdout)
    q_import, n1, s1 = duck_first_query(d["metadata-location"])

    # the alternative: copy the rows into a new Iceberg table with PyIceberg
    from deltalake import DeltaTable
    from pyiceberg.catalog.sql import SqlCatalog
    wh2 = work / "wh-copy"
    wh2.mkdir()
    t = time.perf_counter()
    data = DeltaTable(str(src)).to_pyarrow_table()
    cat = SqlCatalog("default", uri=f"sqlite:///{wh2}/catalog.db", warehouse=f"file://{wh2}")
    cat.create_namespace("db")
    tbl = cat.create_table("db.t", schema=data.schema)
    tbl.append(data)
    copy = time.perf_counter() - t
    q_copy, n2, s2 = duck_first_query(tbl.metadata_location)
    assert (n1, s1) == (n2, s2), ((n1, s1), (n2, s2))
    print(f"Delta table: {a.versions} versions, {n_files} files of {a.rows} rows "
          f"({n1} live rows), made in {made:.1f} s\n")
    print("| step | wall | peak RSS | result |")
    print("|---|---|---|---|")
    print(f"| firn import delta | {wall:.2f} s | {rss:.0f} MiB | {info['snapshots']} snapshots, "
          f"{info['files']} files adopted |")
    print(f"| DuckDB first query after the import | {q_import:.2f} s | | count {n1} |")
    print(f"| import + first query | {wall + q_import:.2f} s | | |")
    print(f"| PyIceberg: read with deltalake, append to a new table | {copy:.2f} s | | 1 snapshot, "
          f"history lost |")
    print(f"| DuckDB first query after the copy | {q_copy:.2f} s | | count {n2} |")
    print(f"| copy + first query | {copy + q_copy:.2f} s | | |")


if __name__ == "__main__":
    main()
