"""scan --format arrow: the Arrow IPC stream format (issue 14). pyarrow's
and Polars' stream readers read it equal to what `scan --format parquet`
wrote, for a table of every type; DuckDB 1.5.5 reads Arrow IPC only through
its `arrow` community extension, which cannot be installed offline, so
pyarrow and Polars are the readers (docs/reference.md says so)."""
from __future__ import annotations

import json
import subprocess

import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from firnrun import assert_error

SCHEMA = ("id long not null, i int, f float, d double, flag boolean, s string, bin binary, "
          "dec decimal(12,3), day date, t time, ts timestamp, tstz timestamptz, u uuid, fx fixed[3], "
          "loc struct<lat: double, lon: double, name: string>, tags list<string>, "
          "attrs map<string, long>, nested list<struct<a: int, b: list<long>>>")


def row(i):
    return {
        "id": i, "i": None if i % 7 == 0 else i * 3 - 50, "f": i / 4, "d": None if i % 5 == 0 else i / 3,
        "flag": None if i % 4 == 3 else i % 2 == 0, "s": None if i % 6 == 0 else f"s{i}" * (i % 4),
        "bin": f"{i:04x}ff", "dec": f"{i * 7 - 100}.{i % 1000:03d}", "day": f"2026-01-{1 + i % 28:02d}",
        "t": f"12:{i % 60:02d}:56.789", "ts": f"2026-02-03T04:05:{i % 60:02d}.123456",
        "tstz": f"2026-02-03T04:05:{i % 60:02d}+00:00",
        "u": f"00000000-0000-0000-0000-{i:012d}", "fx": "0a0b0c",
        "loc": None if i % 5 == 0 else {"lat": i / 3, "lon": None if i % 2 else -i, "name": f"n{i}"},
        "tags": None if i % 3 == 0 else [f"t{i}", None, "x" * (i % 3)],
        "attrs": {"a": i, "b": -i} if i % 2 else {},
        "nested": [{"a": i, "b": [i, i + 1]}, None] if i % 4 else [],
    }


@pytest.fixture
def table(run_firn, tmp_path):
    wh = tmp_path / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "db")
    run_firn("--warehouse", wh, "create", "db.t", "--schema", SCHEMA, "--partition-by", "bucket(3, id)")
    for part in range(2):  # several files, several batches
        p = tmp_path / f"in{part}.jsonl"
        p.write_text("".join(json.dumps(row(i)) + "\n" for i in range(part * 150, part * 150 + 150)))
        run_firn("--warehouse", wh, "append", "db.t", p)
    run_firn("--warehouse", wh, "delete", "db.t", "--where", "id < 30")
    run_firn("--warehouse", wh, "delete", "db.t", "--where", "id IN (77, 201)", "--mode", "merge-on-read")
    return wh


def strip(t: pa.Table) -> pa.Table:
    """Extension columns (arrow.uuid) as their storage, no metadata: the
    values and types compared."""
    cols, fields = [], []
    for c, f in zip(t.columns, t.schema):
        if isinstance(f.type, pa.BaseExtensionType):
            c = pa.chunked_array([ch.storage for ch in c.chunks], f.type.storage_type)
        cols.append(c)
        fields.append(pa.field(f.name, c.type, f.nullable))
    return pa.Table.from_arrays(cols, schema=pa.schema(fields))


def test_stream_reads_as_parquet_does(run_firn, table, tmp_path):
    run_firn("--warehouse", table, "scan", "db.t", "--format", "parquet", "--output", tmp_path / "o.parquet")
    run_firn("--warehouse", table, "scan", "db.t", "--format", "arrow", "--output", tmp_path / "o.arrows")
    want = strip(pq.read_table(tmp_path / "o.parquet"))
    with ipc.open_stream(tmp_path / "o.arrows") as r:
        got_raw = r.read_all()
    got = strip(got_raw)
    assert want.num_rows == 300 - 30 - 2
    assert got.schema.equals(want.schema), (got.schema, want.schema)
    assert got.to_pylist() == want.to_pylist()
    # field ids travel as field metadata; the uuid column is arrow.uuid
    assert got_raw.schema.field("id").metadata[b"PARQUET:field_id"] == b"1"
    assert not got_raw.schema.field("id").nullable and got_raw.schema.field("s").nullable
    assert got_raw.schema.field("u").type == pa.uuid()
    assert got.schema.field("u").type == pa.binary(16)
    # the types themselves, spelled out
    assert got.schema.field("tstz").type == pa.timestamp("us", tz="UTC")
    assert got.schema.field("ts").type == pa.timestamp("us")
    assert got.schema.field("dec").type == pa.decimal128(12, 3)
    assert got.schema.field("t").type == pa.time64("us")
    assert got.schema.field("day").type == pa.date32()
    assert pa.types.is_map(got.schema.field("attrs").type)


def test_stdout_projection_where_limit_and_polars(run_firn, firn_bin, table, tmp_path):
    args = ["--warehouse", table, "scan", "db.t", "--columns", "id,s,loc,tags,attrs,dec,tstz",
            "--where", "id >= 100", "--format", "arrow"]
    out = subprocess.run([firn_bin, *args], capture_output=True, check=True).stdout
    got = ipc.open_stream(pa.py_buffer(out)).read_all()
    run_firn(*args[:-1], "parquet", "--output", tmp_path / "p.parquet")
    want = pq.read_table(tmp_path / "p.parquet")
    assert got.num_rows == want.num_rows > 100
    assert strip(got).to_pylist() == strip(want).to_pylist()
    df = pl.read_ipc_stream(out)
    assert df.height == want.num_rows
    assert df["id"].to_list() == want.column("id").to_pylist()
    assert df["s"].to_list() == want.column("s").to_pylist()
    assert df["tags"].to_list() == want.column("tags").to_pylist()
    # a limit cuts a batch: the slice is written from its offset
    lim = subprocess.run([firn_bin, *args, "--limit", "7"], capture_output=True, check=True).stdout
    got = ipc.open_stream(pa.py_buffer(lim)).read_all()
    assert strip(got).to_pylist() == strip(want).to_pylist()[:7]


def test_empty_result_is_a_schema_and_the_end(run_firn, firn_bin, table):
    out = subprocess.run([firn_bin, "--warehouse", table, "scan", "db.t", "--where", "id < 0", "--format",
                          "arrow"], capture_output=True, check=True).stdout
    got = ipc.open_stream(pa.py_buffer(out)).read_all()
    assert got.num_rows == 0 and "nested" in got.column_names
    assert out[-8:] == b"\xff\xff\xff\xff\x00\x00\x00\x00"
    assert len(out) % 8 == 0


def test_bad_format_is_a_usage_error(run_firn, table):
    r = run_firn("--warehouse", table, "scan", "db.t", "--format", "arrows", check=False)
    assert_error(r, 2, mentions=("arrow",))
