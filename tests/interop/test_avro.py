"""firn's Avro container codec judged by fastavro: files fastavro writes
(every codec, Iceberg manifest and manifest-list shaped schemas) are read by
firn and written again by firn; fastavro must read back the same records,
the same header keys, and a schema that keeps Iceberg's field ids."""
import io
import json
import os
import random
import subprocess
from pathlib import Path

import fastavro
import pytest

FIRN_BIN = Path(os.environ.get("FIRN_BIN", Path(__file__).resolve().parents[2] / "build" / "firn"))
TOOL = FIRN_BIN.parent / "avro_tool"

# The shape of an Iceberg v2 manifest entry (spec §2), trimmed: nested
# records, optional unions, a non-string-key map as an array of records with
# logicalType map, bytes bounds, ids on every field.
MANIFEST_ENTRY = {
    "type": "record", "name": "manifest_entry", "fields": [
        {"name": "status", "type": "int", "field-id": 0},
        {"name": "snapshot_id", "type": ["null", "long"], "default": None, "field-id": 1},
        {"name": "sequence_number", "type": ["null", "long"], "default": None, "field-id": 3},
        {"name": "data_file", "field-id": 2, "type": {
            "type": "record", "name": "r2", "fields": [
                {"name": "content", "type": "int", "field-id": 134},
                {"name": "file_path", "type": "string", "field-id": 100},
                {"name": "file_format", "type": "string", "field-id": 101},
                {"name": "partition", "field-id": 102, "type": {
                    "type": "record", "name": "r102", "fields": [
                        {"name": "day", "type": ["null", {"type": "int", "logicalType": "date"}],
                         "default": None, "field-id": 1000},
                        {"name": "id_bucket", "type": ["null", "int"], "default": None, "field-id": 1001}]}},
                {"name": "record_count", "type": "long", "field-id": 103},
                {"name": "file_size_in_bytes", "type": "long", "field-id": 104},
                {"name": "column_sizes", "default": None, "field-id": 108, "type": ["null", {
                    "type": "array", "logicalType": "map", "items": {
                        "type": "record", "name": "k117_v118", "fields": [
                            {"name": "key", "type": "int", "field-id": 117},
                            {"name": "value", "type": "long", "field-id": 118}]}}]},
                {"name": "lower_bounds", "default": None, "field-id": 125, "type": ["null", {
                    "type": "array", "logicalType": "map", "items": {
                        "type": "record", "name": "k126_v127", "fields": [
                            {"name": "key", "type": "int", "field-id": 126},
                            {"name": "value", "type": "bytes", "field-id": 127}]}}]},
                {"name": "split_offsets", "default": None, "field-id": 132,
                 "type": ["null", {"type": "array", "items": "long", "element-id": 133}]},
                {"name": "key_metadata", "type": ["null", "bytes"], "default": None, "field-id": 131},
                {"name": "ratio", "type": ["null", "double"], "default": None, "field-id": 900},
                {"name": "props", "type": {"type": "map", "values": "string", "key-id": 901, "value-id": 902},
                 "field-id": 903},
                {"name": "uuid", "type": ["null", {"type": "fixed", "name": "uuid_fixed", "size": 16,
                                                    "logicalType": "uuid"}], "default": None, "field-id": 904},
            ]}},
    ]}

MANIFEST_FILE = {
    "type": "record", "name": "manifest_file", "fields": [
        {"name": "manifest_path", "type": "string", "field-id": 500},
        {"name": "manifest_length", "type": "long", "field-id": 501},
        {"name": "partition_spec_id", "type": "int", "field-id": 502},
        {"name": "added_snapshot_id", "type": "long", "field-id": 503},
        {"name": "partitions", "default": None, "field-id": 507, "type": ["null", {
            "type": "array", "element-id": 508, "items": {
                "type": "record", "name": "r508", "fields": [
                    {"name": "contains_null", "type": "boolean", "field-id": 509},
                    {"name": "contains_nan", "type": ["null", "boolean"], "default": None, "field-id": 518},
                    {"name": "lower_bound", "type": ["null", "bytes"], "default": None, "field-id": 510},
                    {"name": "upper_bound", "type": ["null", "bytes"], "default": None, "field-id": 511}]}}]},
    ]}


def entries(n, seed):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        out.append({
            "status": rng.choice([0, 1, 2]),
            "snapshot_id": rng.choice([None, rng.randint(-2**63, 2**63 - 1)]),
            "sequence_number": rng.choice([None, i]),
            "data_file": {
                "content": 0,
                "file_path": f"s3://bucket/warehouse/db.db/t/data/{i:05d}-{'é' * (i % 3)}.parquet",
                "file_format": "PARQUET",
                "partition": {"day": rng.choice([None, rng.randint(-1000, 30000)]),
                              "id_bucket": rng.choice([None, rng.randint(0, 15)])},
                "record_count": rng.randint(0, 2**40),
                "file_size_in_bytes": rng.randint(0, 2**40),
                "column_sizes": rng.choice([None, [{"key": k, "value": rng.randint(0, 10**9)}
                                                   for k in range(rng.randint(0, 5))]]),
                "lower_bounds": rng.choice([None, [{"key": k, "value": os.urandom(rng.randint(0, 16))}
                                                   for k in range(rng.randint(0, 4))]]),
                "split_offsets": rng.choice([None, [], [4, 1 << 20, 1 << 40]]),
                "key_metadata": rng.choice([None, b"", os.urandom(8)]),
                "ratio": rng.choice([None, 0.5, -0.0, 1e300, float("inf")]),
                "props": {f"k{j}": "v" * j for j in range(rng.randint(0, 3))},
                "uuid": rng.choice([None, os.urandom(16)]),
            }})
    return out


def manifests(n, seed):
    rng = random.Random(seed)
    return [{"manifest_path": f"/w/metadata/m{i}.avro", "manifest_length": rng.randint(0, 2**31),
             "partition_spec_id": rng.randint(0, 5), "added_snapshot_id": rng.randint(0, 2**62),
             "partitions": rng.choice([None, [{"contains_null": rng.random() < 0.5,
                                               "contains_nan": rng.choice([None, False, True]),
                                               "lower_bound": rng.choice([None, b"\x00\x01"]),
                                               "upper_bound": rng.choice([None, os.urandom(4)])}
                                              for _ in range(rng.randint(0, 3))]])} for i in range(n)]


def tool(*args):
    assert TOOL.exists(), f"{TOOL} missing: build the project first"
    res = subprocess.run([str(TOOL), *map(str, args)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout


def read_fastavro(path):
    with open(path, "rb") as f:
        rd = fastavro.reader(f)
        return list(rd), dict(rd.metadata), rd.writer_schema


def walk_ids(schema, found):
    if isinstance(schema, dict):
        for k in ("field-id", "element-id", "key-id", "value-id"):
            if k in schema:
                found.add((k, schema[k]))
        for v in schema.values():
            walk_ids(v, found)
    elif isinstance(schema, list):
        for v in schema:
            walk_ids(v, found)
    return found


@pytest.mark.parametrize("codec", ["null", "deflate", "snappy", "zstandard"])
@pytest.mark.parametrize("kind", ["manifest", "manifest_list"])
def test_fastavro_to_firn_to_fastavro(tmp_path, codec, kind):
    schema, records = ((MANIFEST_ENTRY, entries(2500, 7)) if kind == "manifest"
                       else (MANIFEST_FILE, manifests(1800, 8)))
    meta = {"schema": json.dumps({"type": "struct", "fields": []}), "partition-spec": "[]",
            "partition-spec-id": "0", "format-version": "2", "content": "data",
            "snapshot-id": "123", "parent-snapshot-id": "null"}
    src = tmp_path / "in.avro"
    with open(src, "wb") as f:
        fastavro.writer(f, fastavro.parse_schema(schema), records, codec=codec, metadata=dict(meta),
                        sync_interval=16000)
    assert tool("count", src).strip() == str(len(records))
    for out_codec in ("null", "deflate", "snappy", "zstandard"):
        out = tmp_path / f"out-{out_codec}.avro"
        tool("copy", src, out, out_codec)
        got, got_meta, got_schema = read_fastavro(out)
        want, _, want_schema = read_fastavro(src)
        assert got == want
        assert got_meta["avro.codec"] == out_codec
        for k, v in meta.items():
            assert got_meta[k] == v, k
        # Iceberg's ids survive the round trip through firn's schema JSON
        assert walk_ids(json.loads(got_meta["avro.schema"]), set()) == \
            walk_ids(json.loads(read_raw_schema(src)), set())


def read_raw_schema(path):
    with open(path, "rb") as f:
        rd = fastavro.reader(f)
        return rd.metadata["avro.schema"]


def test_empty_container(tmp_path):
    src = tmp_path / "empty.avro"
    with open(src, "wb") as f:
        fastavro.writer(f, fastavro.parse_schema(MANIFEST_FILE), [], codec="deflate")
    assert tool("count", src).strip() == "0"
    out = tmp_path / "out.avro"
    tool("copy", src, out, "deflate")
    assert read_fastavro(out)[0] == []


def test_corrupt_input_fails_cleanly(tmp_path):
    src = tmp_path / "in.avro"
    with open(src, "wb") as f:
        fastavro.writer(f, fastavro.parse_schema(MANIFEST_ENTRY), entries(200, 3), codec="deflate")
    data = src.read_bytes()
    rng = random.Random(11)
    for k in range(60):
        bad = bytearray(data[:rng.randint(0, len(data))] if k % 2 else data)
        if k % 2 == 0:
            for _ in range(3):
                bad[rng.randrange(len(bad))] ^= 1 << rng.randrange(8)
        p = tmp_path / f"bad{k}.avro"
        p.write_bytes(bytes(bad))
        res = subprocess.run([str(TOOL), "count", str(p)], capture_output=True, text=True, timeout=20)
        assert res.returncode in (0, 1), (k, res.returncode, res.stderr)  # never a signal
        if res.returncode == 1:
            assert res.stderr.startswith("avro_tool: ") and res.stderr.count("\n") == 1, res.stderr
