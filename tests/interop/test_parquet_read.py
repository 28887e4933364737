"""pyarrow and DuckDB write, firn reads.

The expected values are what pyarrow reads back from the same file (the
reference), turned into the JSON forms of DESIGN.md section 4.

Matrix:
* pyarrow: dictionary on/off x data page v1/v2 x NONE/SNAPPY/GZIP/ZSTD/LZ4
  (LZ4_RAW), ARROW:schema stored or not, decimals as FLBA or as ints,
  on a table of all Iceberg types at four nesting places plus deep nesting;
* pyarrow column encodings (dictionary off): DELTA_BINARY_PACKED,
  DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT on every leaf
  that allows them, x data page v1/v2;
* small row groups and small pages (v1 and v2), statistics off;
* Arrow types that are not Iceberg types. What firn must print (documented
  expectation): int8/int16/uint8/uint16/uint32 as numbers; uint64 as a
  decimal(20,0), so the unsigned value survives ("18446744073709551615",
  not -1); second/millisecond
  timestamps in the microsecond forms ("…08.123000"); nanosecond timestamps
  with 9 digits; timestamps with a non-UTC zone as UTC instants with
  "+00:00" (Parquet stores them adjusted to UTC); time32[ms] in the 6-digit
  form; large_string/large_binary/large_list and dictionary-typed strings as
  their plain values;
* DuckDB: COPY … (FORMAT parquet) with zstd/snappy/gzip/uncompressed, one of
  them with small row groups, one with PARQUET_VERSION V2; nested STRUCT,
  LIST, MAP (string and integer keys), DECIMAL(9,2)/(18,3)/(38,10), UUID,
  BLOB, DATE, TIME, TIMESTAMP, TIMESTAMPTZ, TIMESTAMP_NS, with NULLs at
  every level.

firn is checked through `parquet cat --format jsonl` (values), `cat` CSV,
`--columns` (incl. a nested column), `--limit`, `parquet schema` (field ids
pyarrow/DuckDB wrote) and `parquet meta --json` (against pyarrow's and the
raw footer's metadata).
"""
from __future__ import annotations

import csv
import io
import json
import math
import random

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import forms
import gen
import pqraw
from firnrun import assert_error
from forms import Field, ListT, MapT, P, struct_of

COMPRESSIONS = ["NONE", "SNAPPY", "GZIP", "ZSTD", "LZ4"]


def base_fields():
    fs = gen.all_types_fields(forms.PRIMITIVE_NAMES)
    return fs + [Field("n_" + f.name, f.type, f.required) for f in gen.nested_fields()[1:]]


def base_rows(seed=11, n=150):
    fields = base_fields()
    g = gen.Gen(seed=seed, null_rate=0.2)
    return fields, gen.id_rows(g.rows(fields[1:], n))


def write_pyarrow(path, fields, rows, ids=True, **kw):
    idmap = forms.assign_ids(fields) if ids else None
    pq.write_table(forms.build_table(fields, rows, idmap), path, **kw)
    return idmap


def reference(path, columns=None):
    """(fields, rows of forms) as pyarrow reads the file."""
    tbl = pq.read_table(path, columns=columns)
    fields = forms.iceberg_fields_of(tbl.schema)
    return fields, forms.table_rows(tbl, fields)


def cat_jsonl(run_firn, path, *args):
    res = run_firn("parquet", "cat", path, "--format", "jsonl", *args, check=False)
    assert res.returncode == 0, f"exit {res.returncode}: {res.shell}\n{res.stderr[-1500:]}"
    try:
        return forms.parse_jsonl(res.stdout), res
    except (ValueError, UnicodeDecodeError) as e:
        raise AssertionError(f"firn output is not JSON Lines ({e}): {res.shell}") from None


def check_cat(run_firn, path, *args, columns=None, limit=None):
    fields, expected = reference(path, columns)
    if limit is not None:
        expected = expected[:limit]
    got, res = cat_jsonl(run_firn, path, *args)
    try:
        forms.assert_rows_equal(got, expected, fields, "firn parquet cat")
    except AssertionError as e:
        raise AssertionError(f"{e}\nreproduce: {res.shell}") from None
    return got


# ------------------------------------------------------- pyarrow matrix

MATRIX = []
for _ci, _c in enumerate(COMPRESSIONS):
    for _d in (True, False):
        for _v in ("1.0", "2.0"):
            MATRIX.append(pytest.param(_c, _d, _v, id=f"{_c}-{'dict' if _d else 'plain'}-v{_v[0]}"))


@pytest.mark.parametrize("compression,dictionary,page_version", MATRIX)
def test_pyarrow_matrix(run_firn, tmp, compression, dictionary, page_version):
    store_schema = (COMPRESSIONS.index(compression) + dictionary) % 2 == 0
    as_int = page_version == "2.0"
    fields, rows = base_rows(seed=COMPRESSIONS.index(compression) * 4 + dictionary * 2 + (page_version == "2.0"))
    path = tmp / "f.parquet"
    write_pyarrow(path, fields, rows, compression=compression, use_dictionary=dictionary,
                  data_page_version=page_version, store_schema=store_schema,
                  store_decimal_as_integer=as_int, write_page_index=not dictionary,
                  write_page_checksum=page_version == "2.0")
    check_cat(run_firn, path)


ENCODINGS = {
    "DELTA_BINARY_PACKED": {"INT32", "INT64"},
    "DELTA_LENGTH_BYTE_ARRAY": {"BYTE_ARRAY"},
    "DELTA_BYTE_ARRAY": {"BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"},
    "BYTE_STREAM_SPLIT": {"FLOAT", "DOUBLE", "INT32", "INT64", "FIXED_LEN_BYTE_ARRAY"},
}


@pytest.mark.parametrize("page_version", ["1.0", "2.0"], ids=["v1", "v2"])
@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_pyarrow_encodings(run_firn, tmp, encoding, page_version):
    fields, rows = base_rows(seed=21, n=300)
    probe = tmp / "probe.parquet"
    write_pyarrow(probe, fields, rows, use_dictionary=False, store_decimal_as_integer=True)
    md = pq.ParquetFile(probe).metadata
    cols = {md.row_group(0).column(j).path_in_schema: md.row_group(0).column(j).physical_type
            for j in range(md.num_columns)}
    enc = {p: encoding for p, t in cols.items() if t in ENCODINGS[encoding]}
    assert enc
    path = tmp / "f.parquet"
    write_pyarrow(path, fields, rows, use_dictionary=False, column_encoding=enc, data_page_version=page_version,
                  store_decimal_as_integer=True, compression="SNAPPY")
    md = pq.ParquetFile(path).metadata
    used = [md.row_group(0).column(j).path_in_schema for j in range(md.num_columns)
            if encoding in md.row_group(0).column(j).encodings]
    assert sorted(used) == sorted(enc), "pyarrow did not apply the encoding"
    check_cat(run_firn, path)


@pytest.mark.parametrize("page_version", ["1.0", "2.0"], ids=["v1", "v2"])
def test_pyarrow_small_row_groups_and_pages(run_firn, tmp, page_version):
    fields, rows = base_rows(seed=31, n=400)
    path = tmp / "f.parquet"
    write_pyarrow(path, fields, rows, row_group_size=37, data_page_size=512, write_batch_size=16,
                  data_page_version=page_version, compression="ZSTD")
    md = pq.ParquetFile(path).metadata
    assert md.num_row_groups == 11
    check_cat(run_firn, path)
    # --limit across row-group boundaries
    check_cat(run_firn, path, "--limit", "50", limit=50)
    check_cat(run_firn, path, "--limit", "37", limit=37)


def test_pyarrow_dictionary_fallback_mid_chunk(run_firn, tmp):
    """Dictionary pages then PLAIN pages in one column chunk (the writer's
    dictionary outgrew its limit), with a page index and page CRCs."""
    strings = gen.high_cardinality_strings(9, 3000, width=40)
    tbl = pa.table({"id": pa.array(range(3000), pa.int64()),
                    "s": pa.array([None if i % 17 == 0 else v for i, v in enumerate(strings)]),
                    "l": pa.array([[v[:5], None] if i % 3 else [] for i, v in enumerate(strings)])})
    path = tmp / "f.parquet"
    pq.write_table(tbl, path, use_dictionary=True, dictionary_pagesize_limit=4096, data_page_size=2048,
                   write_page_index=True, write_page_checksum=True, compression="SNAPPY")
    c = pq.ParquetFile(path).metadata.row_group(0).column(1)
    assert c.has_dictionary_page and "PLAIN" in c.encodings and c.has_offset_index
    check_cat(run_firn, path)
    check_cat(run_firn, path, "--columns", "s", "--limit", "2500", columns=["s"], limit=2500)


def test_pyarrow_without_statistics_and_field_ids(run_firn, tmp):
    fields, rows = base_rows(seed=41, n=100)
    path = tmp / "f.parquet"
    write_pyarrow(path, fields, rows, ids=False, write_statistics=False, compression="GZIP")
    check_cat(run_firn, path)


def test_pyarrow_empty_table(run_firn, tmp):
    fields, _ = base_rows()
    path = tmp / "f.parquet"
    write_pyarrow(path, fields, [])
    got, res = cat_jsonl(run_firn, path)
    assert got == [], res.shell
    res = run_firn("parquet", "cat", path)  # CSV: just the header
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert rows == [[f.name for f in fields]], res.shell


def test_pyarrow_non_iceberg_types(run_firn, tmp):
    n = 6
    tbl = pa.table({
        "i8": pa.array([-128, 127, 0, None, -1, 5], pa.int8()),
        "i16": pa.array([-32768, 32767, 0, None, -1, 5], pa.int16()),
        "u8": pa.array([0, 255, 1, None, 128, 5], pa.uint8()),
        "u16": pa.array([0, 65535, 1, None, 32768, 5], pa.uint16()),
        "u32": pa.array([0, 4294967295, 1, None, 2147483648, 5], pa.uint32()),
        "u64": pa.array([0, 18446744073709551615, 1, None, 9223372036854775808, 5], pa.uint64()),
        "ts_s": pa.array([0, 1510871468, -1, None, 253402300799, -62135596800], pa.timestamp("s")),
        "ts_ms": pa.array([0, 1510871468123, -1, None, 253402300799999, -62135596800000], pa.timestamp("ms")),
        "ts_ns": pa.array([0, 1510871468123456789, -1, None, 2 ** 63 - 1, -2 ** 63], pa.timestamp("ns")),
        "tsz_ms_ny": pa.array([0, 1510871468123, -1, None, 1, 2], pa.timestamp("ms", tz="America/New_York")),
        "tsz_ns": pa.array([0, 1510871468123456789, -1, None, 1, 2], pa.timestamp("ns", tz="UTC")),
        "t_ms": pa.array([0, 81068123, 86399999, None, 1, 2], pa.time32("ms")),
        "ls": pa.array(["a", "", "日本", None, "x" * 100, "b"], pa.large_string()),
        "lb": pa.array([b"a", b"", b"\x00\xff", None, b"z", b"b"], pa.large_binary()),
        "ll": pa.array([[1], [], None, [None, 2], [3, 4, 5], [6]], pa.large_list(pa.int64())),
        "dict": pa.array(["x", "y", "x", None, "z", "x"]).dictionary_encode(),
        "fsl": pa.array([[1, 2], [3, 4], None, [5, None], [7, 8], [9, 0]], pa.list_(pa.int32(), 2)),
    })
    assert tbl.num_rows == n
    path = tmp / "f.parquet"
    pq.write_table(tbl, path)
    check_cat(run_firn, path)
    got, _ = cat_jsonl(run_firn, path)
    # the documented forms, spelled out
    assert got[1]["u64"] == "18446744073709551615"
    assert got[1]["ts_ms"] == "2017-11-16T22:31:08.123000"
    assert got[1]["ts_s"] == "2017-11-16T22:31:08.000000"
    assert got[1]["ts_ns"] == "2017-11-16T22:31:08.123456789"
    assert got[1]["tsz_ms_ny"] == "2017-11-16T22:31:08.123000+00:00"
    assert got[1]["t_ms"] == "22:31:08.123000"


# ------------------------------------------------------------ DuckDB

DUCK_SELECT = """
SELECT
  i::BIGINT AS id,
  CASE WHEN i % 7 = 3 THEN NULL ELSE (i * 7919) % 200000 - 100000 END::INTEGER AS c_int,
  CASE WHEN i % 5 = 1 THEN NULL WHEN i = 0 THEN -9223372036854775808 WHEN i = 1 THEN 9223372036854775807
       ELSE i * 1234567890123 END::BIGINT AS c_long,
  (i % 300 - 150)::SMALLINT AS c_small,
  CASE WHEN i % 9 = 0 THEN NULL WHEN i % 9 = 1 THEN 'NaN'::DOUBLE WHEN i % 9 = 2 THEN -0.0::DOUBLE
       ELSE i / 7.0 END::DOUBLE AS c_double,
  (i / 3.0)::FLOAT AS c_float,
  CASE WHEN i % 4 = 0 THEN NULL ELSE ((i % 500) * 12345.67 - 40000)::DECIMAL(9,2) END AS c_dec9,
  CASE WHEN i = 2 THEN 999999999999999.999 ELSE (i * 98765.4321)::DECIMAL(18,3) END AS c_dec18,
  CASE WHEN i = 3 THEN -9999999999999999999999999999.9999999999::DECIMAL(38,10)
       ELSE (i * 1234567.0123456789)::DECIMAL(38,10) END AS c_dec38,
  CASE WHEN i % 6 = 0 THEN NULL ELSE 'str-' || i || '-ü日本😀' END AS c_string,
  CASE WHEN i % 8 = 0 THEN NULL ELSE ('\\x' || lpad(to_hex(i), 2, '0') || '\\x00\\xFF')::BLOB END AS c_blob,
  (DATE '2000-01-01' + INTERVAL (i * 37 - 5000) DAY)::DATE AS c_date,
  CASE WHEN i = 4 THEN DATE '0001-01-01' WHEN i = 5 THEN DATE '9999-12-31' ELSE DATE '1970-01-01' END AS c_date_edge,
  (TIME '00:00:00' + INTERVAL (i * 7919123) MICROSECOND) AS c_time,
  (TIMESTAMP '2017-11-16 22:31:08.123456' + INTERVAL (i * 86400123457) MICROSECOND) AS c_ts,
  (TIMESTAMPTZ '1969-12-31 23:59:59.999999+00' + INTERVAL (i * 3600000001) MICROSECOND) AS c_tstz,
  make_timestamp_ns(1510871468123456789 + i * 1000000001) AS c_ts_ns,
  CASE WHEN i % 10 = 0 THEN NULL ELSE md5(i::VARCHAR)::UUID END AS c_uuid,
  i % 3 = 0 AS c_bool,
  CASE WHEN i % 11 = 0 THEN NULL
       ELSE {'a': CASE WHEN i % 2 = 0 THEN NULL ELSE i END, 'b': 'x' || i,
             'c': {'d': CASE WHEN i % 3 = 0 THEN NULL ELSE (i * 1.5)::DECIMAL(10,2) END}} END AS c_struct,
  CASE WHEN i % 12 = 0 THEN NULL WHEN i % 12 = 1 THEN []::INTEGER[]
       ELSE [i, NULL, i + 1]::INTEGER[] END AS c_list,
  CASE WHEN i % 13 = 0 THEN NULL
       ELSE [{'k': i, 'v': ['p', NULL]}, NULL, {'k': NULL, 'v': NULL}] END AS c_list_struct,
  CASE WHEN i % 14 = 0 THEN NULL WHEN i % 14 = 1 THEN MAP {}::MAP(VARCHAR, INTEGER)
       ELSE MAP {'k' || i: i, 'z': NULL} END AS c_map,
  CASE WHEN i % 15 = 0 THEN NULL ELSE MAP {i: 'v' || i, -i - 1: NULL} END AS c_map_int,
FROM range(0, {n}) t(i)
"""

DUCK_CASES = [
    pytest.param("zstd", "", id="zstd"),
    pytest.param("snappy", ", ROW_GROUP_SIZE 2048", id="snappy-rowgroups"),
    # (full-range INTEGERs are kept out: DuckDB's V2 DELTA_BINARY_PACKED of
  # int32 deltas that overflow 32 bits is unreadable for pyarrow 26)
  pytest.param("gzip", ", PARQUET_VERSION V2", id="gzip-v2"),
    pytest.param("uncompressed", "", id="uncompressed"),
]


def duckdb_file(path, compression, extra="", n=350):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    select = DUCK_SELECT.replace("{n}", str(n))
    con.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet, COMPRESSION {compression}{extra})")


@pytest.mark.parametrize("compression,extra", DUCK_CASES)
def test_duckdb_written(run_firn, tmp, compression, extra):
    path = tmp / "duck.parquet"
    duckdb_file(path, compression, extra, n=5000 if "ROW_GROUP_SIZE" in extra else 350)
    md = pq.ParquetFile(path).metadata
    assert md.row_group(0).column(0).compression.upper() in (compression.upper(), "UNCOMPRESSED")
    if "ROW_GROUP_SIZE" in extra:
        assert md.num_row_groups >= 2
    check_cat(run_firn, path)


def test_duckdb_values_match_duckdb(tmp):
    """Guards the reference: pyarrow's reading of the DuckDB file agrees
    with DuckDB's own."""
    path = tmp / "duck.parquet"
    duckdb_file(path, "zstd", n=60)
    fields, expected = reference(path)
    fs = [f for f in fields if f.name != "c_uuid"]
    tbl = duckdb.connect().sql(f"SELECT * FROM read_parquet('{path}')").arrow().read_all()
    forms.assert_rows_equal(forms.table_rows(tbl.drop_columns(["c_uuid"]), fs),
                            [{k: v for k, v in r.items() if k != "c_uuid"} for r in expected], fs)


# ------------------------------------------ projection, limit, CSV


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    d = tmp_path_factory.mktemp("sample")
    fields, rows = base_rows(seed=51, n=120)
    path = d / "sample.parquet"
    write_pyarrow(path, fields, rows, row_group_size=50)
    return path


def test_cat_columns_projection(run_firn, sample):
    cols = ["n_outer", "c_long", "m_string", "id", "st"]
    got = check_cat(run_firn, sample, "--columns", ",".join(cols), columns=cols)
    assert list(got[0].keys()) == cols


def test_cat_columns_and_limit(run_firn, sample):
    cols = ["l_decimal_38_10", "c_timestamptz_ns"]
    check_cat(run_firn, sample, "--columns", ",".join(cols), "--limit", "3", columns=cols, limit=3)


@pytest.mark.parametrize("limit", [0, 1, 49, 50, 51, 120, 1000])
def test_cat_limit(run_firn, sample, limit):
    got, res = cat_jsonl(run_firn, sample, "--limit", str(limit), "--columns", "id")
    assert [r["id"] for r in got] == list(range(min(limit, 120))), res.shell


def test_cat_unknown_column(run_firn, sample):
    res = run_firn("parquet", "cat", sample, "--columns", "id,no_such_column", check=False)
    assert_error(res, 1, mentions=["no_such_column"])


def _csv_form(cell: str, t):
    """A CSV cell back into the JSON form (numbers keep their text)."""
    if cell == "":
        return None
    if not isinstance(t, forms.Prim):
        return json.loads(cell, parse_float=forms.FloatText, parse_int=forms.IntText)
    b = t.base
    if b == "boolean":
        return {"true": True, "false": False}.get(cell, cell)
    if b in ("int", "long"):
        try:
            return forms.IntText(cell)
        except ValueError:
            return cell
    if b in ("float", "double"):
        if cell in ("NaN", "Infinity", "-Infinity"):
            return cell
        try:
            return forms.FloatText(cell)
        except ValueError:
            return cell
    return cell


def test_cat_csv_default_format(run_firn, tmp):
    fields, rows = base_rows(seed=61, n=120)
    for r in rows:  # an empty cell is NULL: keep empty strings/binaries out of the CSV check
        for f in fields:
            if isinstance(f.type, forms.Prim) and r[f.name] in ("", b""):
                r[f.name] = "e" if f.type.base == "string" else b"\x02"
    path = tmp / "f.parquet"
    write_pyarrow(path, fields, rows)
    rf, expected = reference(path)
    res = run_firn("parquet", "cat", path)
    table = list(csv.reader(io.StringIO(res.stdout, newline="")))
    assert table[0] == [f.name for f in rf], res.shell
    got = [{f.name: _csv_form(cell, f.type) for f, cell in zip(rf, line)} for line in table[1:]]
    assert all(len(line) == len(rf) for line in table), res.shell
    try:
        forms.assert_rows_equal(got, expected, rf, "firn parquet cat (csv)")
    except AssertionError as e:
        raise AssertionError(f"{e}\nreproduce: {res.shell}") from None


def test_cat_csv_quoting(run_firn, tmp):
    vals = ['plain', 'comma,inside', 'quote"inside', 'new\nline', 'cr\r\nlf', ' space ', '']
    tbl = pa.table({"s": pa.array(vals + [None]), "n": pa.array(list(range(len(vals) + 1)))})
    path = tmp / "q.parquet"
    pq.write_table(tbl, path)
    res = run_firn("parquet", "cat", path, "--format", "csv")
    table = list(csv.reader(io.StringIO(res.stdout, newline="")))
    assert table[0] == ["s", "n"]
    assert [r[0] for r in table[1:-2]] == vals[:-1], res.shell
    assert table[-1] == ["", str(len(vals))], res.shell
    # a NULL is an empty cell; nothing else may print as one
    raw_lines = res.stdout.split("\n")
    assert raw_lines[-1] == "" and raw_lines[-2] == f",{len(vals)}", res.shell


# --------------------------------------------------------- schema


def _schema_lines(run_firn, path):
    res = run_firn("parquet", "schema", path)
    return [line for line in res.stdout.split("\n") if line.strip()], res


def test_schema_with_field_ids(run_firn, tmp):
    fields, rows = base_rows(seed=71, n=20)
    path = tmp / "f.parquet"
    ids = write_pyarrow(path, fields, rows)
    # the ids pyarrow wrote, per DuckDB's independent reading of the footer
    written = {name: fid for name, fid in duckdb.connect().sql(
        f"SELECT name, field_id FROM parquet_schema('{path}')").fetchall()}
    assert written["c_long"] == ids[("c_long",)]
    got, res = _schema_lines(run_firn, path)
    want = forms.schema_lines(fields, ids)
    assert got == want, f"{res.shell}\n" + "\n".join(
        f"  got {g!r}\n want {w!r}" for g, w in zip(got, want) if g != w)


def test_schema_without_field_ids(run_firn, tmp):
    fields, rows = base_rows(seed=72, n=20)
    path = tmp / "f.parquet"
    write_pyarrow(path, fields, rows, ids=False)
    got, res = _schema_lines(run_firn, path)
    assert got == forms.schema_lines(fields, None), res.shell


def test_schema_required_fields(run_firn, tmp):
    fields = [Field("id", P("long"), True), Field("n", P("decimal(10,2)")),
              Field("l", ListT(P("string"), True), True),
              Field("m", MapT(P("int"), struct_of(Field("a", P("date"), True)), True)),
              Field("t", P("timestamptz")), Field("f", P("fixed[4]"), True), Field("u", P("uuid"))]
    path = tmp / "f.parquet"
    ids = write_pyarrow(path, fields, [{"id": 1, "n": None, "l": [], "m": None, "t": None, "f": b"abcd", "u": None}])
    got, res = _schema_lines(run_firn, path)
    assert got == forms.schema_lines(fields, ids), res.shell
    assert got[:4] == ["id: long not null (id 1)", "n: decimal(10,2) (id 2)", "l: list not null (id 3)",
                       "  element: string not null (id 8)"], res.shell


def test_schema_duckdb_file(run_firn, tmp):
    path = tmp / "duck.parquet"
    duckdb_file(path, "zstd", n=10)
    fields = forms.iceberg_fields_of(pq.read_schema(path))
    got, res = _schema_lines(run_firn, path)
    assert got == forms.schema_lines(fields, None), res.shell


# ----------------------------------------------------------- meta


def expected_meta(path):
    """firn parquet meta --json as the contract describes it, from pyarrow's
    metadata and the raw footer."""
    md = pq.ParquetFile(path).metadata
    raw = pqraw.file_meta(path)
    schema = pq.read_schema(path)
    leaf_types = dict(forms.leaf_paths(forms.iceberg_fields_of(schema)))
    leaf_ids = {}
    # field ids of leaf schema elements, in leaf order
    leaves = [e for e in raw["schema"][1:] if e["num_children"] in (None, 0) and e["type"] is not None]
    for j, e in enumerate(leaves):
        leaf_ids[j] = e["field_id"]
    rgs = []
    for i in range(md.num_row_groups):
        rg = md.row_group(i)
        rrg = raw["row_groups"][i]
        cols = []
        for j in range(rg.num_columns):
            c = rg.column(j)
            rc = rrg["columns"][j]
            lt = leaf_types[c.path_in_schema]
            st = None
            if c.is_stats_set and c.statistics is not None:
                s = c.statistics
                st = {"null_count": s.null_count if s.has_null_count else None,
                      "min": forms.form(lt, forms.raw_from_physical(lt, s.min_raw)) if s.has_min_max else None,
                      "max": forms.form(lt, forms.raw_from_physical(lt, s.max_raw)) if s.has_min_max else None}
            cols.append({"path": c.path_in_schema, "field_id": leaf_ids[j], "physical_type": c.physical_type,
                         "encodings": sorted(rc["encodings"]), "compression": rc["codec"],
                         "num_values": c.num_values, "total_compressed_size": c.total_compressed_size,
                         "total_uncompressed_size": c.total_uncompressed_size,
                         "data_page_offset": c.data_page_offset,
                         "dictionary_page_offset": c.dictionary_page_offset if c.has_dictionary_page else None,
                         "statistics": st, "_type": lt})
        rgs.append({"num_rows": rg.num_rows, "total_byte_size": rg.total_byte_size,
                    "total_compressed_size": rrg["total_compressed_size"], "file_offset": rrg["file_offset"],
                    "columns": cols})
    return {"created_by": md.created_by, "version": raw["version"], "num_rows": md.num_rows,
            "num_row_groups": md.num_row_groups, "key_value_metadata": raw["key_value_metadata"],
            "row_groups": rgs}


def compare_meta(got, exp) -> list[str]:
    errors = []
    for k in ("created_by", "version", "num_rows", "num_row_groups", "key_value_metadata"):
        if got.get(k) != exp[k]:
            errors.append(f"{k}: {str(got.get(k))[:200]!r}, expected {str(exp[k])[:200]!r}")
    grgs = got.get("row_groups")
    if not isinstance(grgs, list) or len(grgs) != len(exp["row_groups"]):
        return errors + [f"row_groups: {str(grgs)[:200]}"]
    for i, (g, e) in enumerate(zip(grgs, exp["row_groups"])):
        for k in ("num_rows", "total_byte_size", "file_offset"):
            if g.get(k) != e[k]:
                errors.append(f"rg {i} {k}: {g.get(k)!r}, expected {e[k]!r}")
        tcs = e["total_compressed_size"]
        if tcs is None:
            tcs = sum(c["total_compressed_size"] for c in e["columns"])
        if g.get("total_compressed_size") != tcs:
            errors.append(f"rg {i} total_compressed_size: {g.get('total_compressed_size')!r}, expected {tcs}")
        gcols = g.get("columns") or []
        if len(gcols) != len(e["columns"]):
            errors.append(f"rg {i}: {len(gcols)} columns, expected {len(e['columns'])}")
            continue
        for gc, ec in zip(gcols, e["columns"]):
            where = f"rg {i} {ec['path']}"
            for k in ("path", "field_id", "physical_type", "compression", "num_values", "total_compressed_size",
                      "total_uncompressed_size", "data_page_offset", "dictionary_page_offset"):
                if gc.get(k, "<missing>") != ec[k]:
                    errors.append(f"{where} {k}: {gc.get(k, '<missing>')!r}, expected {ec[k]!r}")
            if not isinstance(gc.get("encodings"), list) or sorted(gc["encodings"]) != ec["encodings"]:
                errors.append(f"{where} encodings: {gc.get('encodings')!r}, expected {ec['encodings']!r}")
            gs, es = gc.get("statistics", "<missing>"), ec["statistics"]
            if es is None or gs is None:
                if gs is not es:
                    errors.append(f"{where} statistics: {gs!r}, expected {es!r}")
                continue
            if not isinstance(gs, dict) or gs.get("null_count", "<missing>") != es["null_count"]:
                errors.append(f"{where} statistics: {gs!r}, expected {es!r}")
                continue
            for k in ("min", "max"):
                errors.extend(forms.compare_value(gs.get(k, "<missing>"), es[k], ec["_type"], f"{where} {k}"))
        if len(errors) > 30:
            break
    return errors


def run_meta(run_firn, path):
    res = run_firn("parquet", "meta", path, "--json", check=False)
    assert res.returncode == 0, f"{res.shell}\n{res.stderr}"
    try:
        got = json.loads(res.stdout, parse_float=forms.FloatText, parse_int=forms.IntText)
    except ValueError as e:
        raise AssertionError(f"not JSON ({e}): {res.shell}\n{res.stdout[:500]}") from None
    return got, res


@pytest.mark.parametrize("variant", ["pyarrow-rowgroups", "pyarrow-plain-v2", "pyarrow-nostats", "duckdb",
                                     "pyarrow-flba-decimals"])
def test_meta_json(run_firn, tmp, variant):
    path = tmp / "f.parquet"
    if variant == "duckdb":
        duckdb_file(path, "snappy", ", ROW_GROUP_SIZE 2048", n=5000)
    else:
        fields, rows = base_rows(seed=81, n=200)
        kw = {"pyarrow-rowgroups": dict(row_group_size=64, store_decimal_as_integer=True),
              "pyarrow-plain-v2": dict(use_dictionary=False, data_page_version="2.0", compression="LZ4",
                                       store_decimal_as_integer=True),
              "pyarrow-nostats": dict(write_statistics=False, compression="GZIP"),
              "pyarrow-flba-decimals": dict(compression="NONE", store_schema=False)}[variant]
        write_pyarrow(path, fields, rows, ids=variant != "pyarrow-nostats", **kw)
    got, res = run_meta(run_firn, path)
    errors = compare_meta(got, expected_meta(path))
    assert not errors, f"{res.shell}\n  " + "\n  ".join(errors[:30])


def test_meta_json_min_max_forms(run_firn, tmp):
    """Statistics print in the cat forms: one row group, known extremes."""
    fields = [Field("d", P("decimal(38,10)")), Field("ts", P("timestamptz")), Field("u", P("uuid")),
              Field("b", P("binary")), Field("x", P("double")), Field("s", P("string")), Field("dt", P("date"))]
    rows = [{"d": gen._decimal(-(10 ** 38 - 1), 10), "ts": 1510871468123456, "u": b"\x00" * 16, "b": b"\x00\x01",
             "x": -0.0, "s": "é", "dt": gen.DATE_MIN},
            {"d": gen._decimal(5, 10), "ts": -1, "u": b"\xff" * 16, "b": b"\xff", "x": float("nan"), "s": "a",
             "dt": gen.DATE_MAX},
            {"d": None, "ts": None, "u": None, "b": None, "x": 0.0, "s": None, "dt": None}]
    path = tmp / "f.parquet"
    write_pyarrow(path, fields, rows, use_dictionary=False)
    got, res = run_meta(run_firn, path)
    stats = {c["path"]: c["statistics"] for c in got["row_groups"][0]["columns"]}
    want = {"d": ("-9999999999999999999999999999.9999999999", "0.0000000005"),
            "ts": ("1969-12-31T23:59:59.999999+00:00", "2017-11-16T22:31:08.123456+00:00"),
            "u": ("00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"),
            "b": ("0001", "ff"), "s": ("a", "é"), "dt": ("0001-01-01", "9999-12-31")}
    for k, (lo, hi) in want.items():
        assert (stats[k]["min"], stats[k]["max"], stats[k]["null_count"]) == (lo, hi, 1), (k, stats[k], res.shell)
    x = stats["x"]
    assert x["null_count"] == 0 and x["min"] == 0 and x["max"] == 0, (x, res.shell)
    assert math.copysign(1, x["min"]) == -1 and math.copysign(1, x["max"]) == 1, (x, res.shell)


def test_meta_text(run_firn, tmp):
    fields, rows = base_rows(seed=91, n=30)
    path = tmp / "f.parquet"
    write_pyarrow(path, fields, rows)
    res = run_firn("parquet", "meta", path)
    assert res.stdout.strip() and "30" in res.stdout and "parquet-cpp-arrow" in res.stdout, res.shell
    with pytest.raises(ValueError):
        json.loads(res.stdout)


def test_meta_and_cat_on_firn_independent_random_tables(run_firn, tmp):
    """A few seeds of random flat tables in one go (cheap breadth)."""
    for seed in range(4):
        rng = random.Random(seed)
        names = rng.sample(forms.PRIMITIVE_NAMES, 6)
        fields = [Field(f"c{i}_{gen.safe_name(n)}", P(n), rng.random() < 0.3) for i, n in enumerate(names)]
        g = gen.Gen(seed=seed, null_rate=0.3, pool_randoms=40)
        rows = g.rows(fields, 80)
        path = tmp / f"r{seed}.parquet"
        write_pyarrow(path, fields, rows, use_dictionary=rng.random() < 0.5,
                      compression=rng.choice(COMPRESSIONS), data_page_version=rng.choice(["1.0", "2.0"]))
        check_cat(run_firn, path)
        got, res = run_meta(run_firn, path)
        errors = compare_meta(got, expected_meta(path))
        assert not errors, f"{res.shell}\n  " + "\n  ".join(errors[:30])


@pytest.mark.parametrize("args", [["--dictionary", "on", "--compression", "lz4_raw"],
                                  ["--dictionary", "off", "--compression", "gzip", "--page-size", "700"]],
                         ids=["dict-lz4", "plain-gzip-small-pages"])
def test_cat_of_firn_written_file(run_firn, tmp, args):
    """firn reads its own files as pyarrow reads them."""
    fields, rows = base_rows(seed=101, n=400)
    src = tmp / "in.jsonl"
    src.write_text(forms.jsonl_text(fields, rows), encoding="utf-8")
    path = tmp / "f.parquet"
    run_firn("parquet", "convert", src, path, "--schema", forms.schema_spec(fields), *args)
    check_cat(run_firn, path)
    check_cat(run_firn, path, "--columns", "n_outer,c_uuid", "--limit", "123", columns=["n_outer", "c_uuid"],
              limit=123)
    got, res = run_meta(run_firn, path)
    errors = compare_meta(got, expected_meta(path))
    assert not errors, f"{res.shell}\n  " + "\n  ".join(errors[:30])
