"""Writes the seed corpus of the parquet reader fuzz target: small files from
pyarrow covering the encodings, page versions, codecs and nesting firn reads.
Run with .venv/bin/python; the output is committed (tests/fuzz/corpus/parquet)."""
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "parquet")
os.makedirs(out, exist_ok=True)

n = 40
table = pa.table({
    "i": pa.array([i if i % 7 else None for i in range(n)], pa.int32()),
    "l": pa.array([i * 1_000_003 for i in range(n)], pa.int64()),
    "d": pa.array([i / 3 for i in range(n)], pa.float64()),
    "s": pa.array([f"v{i % 5}" if i % 4 else None for i in range(n)], pa.string()),
    "b": pa.array([i % 3 == 0 for i in range(n)], pa.bool_()),
    "dec": pa.array([None] + [__import__("decimal").Decimal(i * 101) / 100 for i in range(n - 1)], pa.decimal128(12, 2)),
    "ts": pa.array(range(n), pa.timestamp("us", tz="UTC")),
    "lst": pa.array([[j for j in range(i % 4)] if i % 5 else None for i in range(n)], pa.list_(pa.int64())),
    "st": pa.array([{"a": i, "b": str(i)} if i % 6 else None for i in range(n)],
                   pa.struct([("a", pa.int32()), ("b", pa.string())])),
    "m": pa.array([[("k", i)] if i % 3 else [] for i in range(n)], pa.map_(pa.string(), pa.int32())),
})
variants = {
    "plain_v1_none": dict(use_dictionary=False, compression="NONE"),
    "dict_v1_snappy": dict(use_dictionary=True, compression="SNAPPY"),
    "dict_v2_zstd": dict(use_dictionary=True, compression="ZSTD", data_page_version="2.0"),
    "plain_v2_gzip": dict(use_dictionary=False, compression="GZIP", data_page_version="2.0"),
    "lz4": dict(use_dictionary=True, compression="LZ4"),
}
for name, kw in variants.items():
    pq.write_table(table, os.path.join(out, name + ".parquet"), row_group_size=16, **kw)
flat = table.select(["i", "l", "d", "s"])
pq.write_table(flat, os.path.join(out, "delta.parquet"), use_dictionary=False, compression="NONE",
               column_encoding={"i": "DELTA_BINARY_PACKED", "l": "DELTA_BINARY_PACKED",
                                "d": "BYTE_STREAM_SPLIT", "s": "DELTA_BYTE_ARRAY"})
pq.write_table(flat.select(["s"]), os.path.join(out, "delta_length.parquet"), use_dictionary=False,
               compression="NONE", column_encoding={"s": "DELTA_LENGTH_BYTE_ARRAY"})
pq.write_table(table.slice(0, 0), os.path.join(out, "empty.parquet"))
