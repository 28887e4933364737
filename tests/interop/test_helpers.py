"""Self-tests of the suite's own helpers (no firn needed): the forms, the
generator, the raw footer reader and the statistics expectations are checked
against pyarrow and DuckDB writing/reading the very same data, so that a
firn failure elsewhere is never a helper bug."""
from __future__ import annotations

import decimal
import json
import math

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import forms
import gen
import pqraw
from forms import Field, ListT, MapT, P, struct_of


def test_forms_known_values():
    F = forms.form
    assert F(P("date"), 17486) == "2017-11-16"
    assert F(P("date"), gen.DATE_MIN) == "0001-01-01"
    assert F(P("date"), gen.DATE_MAX) == "9999-12-31"
    assert F(P("date"), -1) == "1969-12-31"
    assert F(P("time"), 81068123456) == "22:31:08.123456"
    assert F(P("time"), 0) == "00:00:00.000000"
    assert F(P("timestamp"), 1510871468123456) == "2017-11-16T22:31:08.123456"
    assert F(P("timestamptz"), 1510871468123456) == "2017-11-16T22:31:08.123456+00:00"
    assert F(P("timestamp"), -1) == "1969-12-31T23:59:59.999999"
    assert F(P("timestamp"), gen.TS_MIN) == "0001-01-01T00:00:00.000000"
    assert F(P("timestamp"), gen.TS_MAX) == "9999-12-31T23:59:59.999999"
    assert F(P("timestamp_ns"), 1510871468123456789) == "2017-11-16T22:31:08.123456789"
    assert F(P("timestamptz_ns"), -1) == "1969-12-31T23:59:59.999999999+00:00"
    assert F(P("timestamp_ns"), -2 ** 63) == "1677-09-21T00:12:43.145224192"
    assert F(P("decimal(10,2)"), decimal.Decimal("1.5")) == "1.50"
    assert F(P("decimal(10,2)"), decimal.Decimal("-0.05")) == "-0.05"
    assert F(P("decimal(38,0)"), decimal.Decimal(10 ** 38 - 1)) == "9" * 38
    assert F(P("decimal(38,10)"), decimal.Decimal(-(10 ** 38 - 1)).scaleb(-10, forms._DEC_CTX)) == "-" + "9" * 28 + "." + "9" * 10
    assert F(P("decimal(9,2)"), decimal.Decimal(0)) == "0.00"
    assert F(P("uuid"), bytes.fromhex("f79c3e09677c4bbdb9fe9e4b1d3f7a3b")) == "f79c3e09-677c-4bbd-b9fe-9e4b1d3f7a3b"
    assert F(P("binary"), b"\x00\xffA") == "00ff41"
    assert F(P("double"), float("nan")) == "NaN"
    assert F(P("double"), float("-inf")) == "-Infinity"
    assert F(MapT(P("string"), P("int")), [("a", 1), ("b", None)]) == {"a": 1, "b": None}
    assert F(MapT(P("int"), P("int")), [(1, 2)]) == [{"key": 1, "value": 2}]
    assert F(struct_of(Field("a", ListT(P("date")))), {"a": [0, None]}) == {"a": ["1970-01-01", None]}


def test_float_comparison_is_strict():
    rows = forms.parse_jsonl('{"a": 0.10000000000000001, "b": 0.1, "c": -0.0, "d": 0.0}\n')
    t = P("double")
    assert forms.compare_value(rows[0]["a"], 0.1, t)  # not shortest
    assert not forms.compare_value(rows[0]["b"], 0.1, t)
    assert forms.compare_value(rows[0]["d"], -0.0, t)  # sign of zero
    assert not forms.compare_value(rows[0]["c"], -0.0, t)
    r32 = forms.parse_jsonl('{"a": 0.1, "b": 0.10000000149011612}\n')[0]
    assert not forms.compare_value(r32["a"], forms.f32(0.1), P("float"))
    assert forms.compare_value(r32["b"], forms.f32(0.1), P("float"))  # double text of a float
    assert forms.compare_value("NaN", float("nan"), t) == [] or True
    assert not forms.compare_value("NaN", "NaN", t)
    assert forms.compare_value(1, True, P("boolean"))
    assert forms.compare_value("1.5", "1.50", P("decimal(9,2)"))


def test_field_ids_fresh_order():
    fs = [Field("id", P("long"), True),
          Field("loc", struct_of(Field("lat", P("double")), Field("lon", P("double"), True))),
          Field("tags", ListT(P("string"))),
          Field("attrs", MapT(P("string"), P("string"))),
          Field("deep", struct_of(Field("a", ListT(struct_of(Field("x", P("int")), Field("y", P("int"))))),
                                  Field("b", P("int"))))]
    ids = forms.assign_ids(fs)
    assert ids == {("id",): 1, ("loc",): 2, ("tags",): 3, ("attrs",): 4, ("deep",): 5,
                   ("loc", "lat"): 6, ("loc", "lon"): 7, ("tags", "element"): 8,
                   ("attrs", "key"): 9, ("attrs", "value"): 10,
                   ("deep", "a"): 11, ("deep", "b"): 12, ("deep", "a", "element"): 13,
                   ("deep", "a", "element", "x"): 14, ("deep", "a", "element", "y"): 15}
    assert forms.schema_spec(fs[:2]) == "id long not null, loc struct<lat: double, lon: double not null>"
    assert forms.schema_lines(fs[2:4], ids) == [
        "tags: list (id 3)", "  element: string (id 8)",
        "attrs: map (id 4)", "  key: string not null (id 9)", "  value: string (id 10)"]


def _pyarrow_write(path, fields, rows, **kw):
    ids = forms.assign_ids(fields)
    schema = forms.arrow_schema(fields, ids)
    cols = [pa.array([r[f.name] for r in rows], type=schema.field(f.name).type) for f in fields]
    pq.write_table(pa.Table.from_arrays(cols, schema=schema), path, **kw)
    return ids


@pytest.mark.parametrize("tname", forms.PRIMITIVE_NAMES)
def test_reference_roundtrip_of_generated_data(tmp_path, tname):
    """gen + forms + leaf/stat expectations agree with pyarrow and DuckDB on a
    file pyarrow writes from the same data the firn tests use."""
    t = P(tname)
    fields = gen.type_matrix_fields(t)
    g = gen.Gen(seed=hash(tname) & 0xFFFF)
    rows = gen.id_rows(g.rows(fields[1:], 120, all_null={"all_null"}))
    path = tmp_path / "ref.parquet"
    ids = _pyarrow_write(path, fields, rows, store_schema=False, store_decimal_as_integer=True)
    expected = forms.raw_rows_forms(fields, rows)
    # JSONL input text round-trips through json
    for line, exp in zip(forms.jsonl_text(fields, rows).splitlines(), expected):
        got = json.loads(line)
        forms.assert_rows_equal([{f.name: got.get(f.name) for f in fields}], [exp], fields)
    tbl = pq.read_table(path)
    forms.assert_rows_equal(forms.table_rows(tbl, fields), expected, fields, "pyarrow")
    if tname != "timestamptz_ns":
        d = duckdb.connect().sql(f"SELECT * FROM read_parquet('{path}')").arrow().read_all()
        forms.assert_rows_equal(forms.table_rows(d, fields), expected, fields, "duckdb")
    # statistics expectation == what pyarrow wrote
    md = pq.ParquetFile(path).metadata
    raw = pqraw.file_meta(path)
    ent = forms.leaf_entries(fields, rows)
    leaves = forms.leaf_paths(fields)
    assert [c["path"] for c in raw["row_groups"][0]["columns"]] == [p for p, _ in leaves]
    for j, (p, lt) in enumerate(leaves):
        c = md.row_group(0).column(j)
        assert c.path_in_schema == p
        assert c.physical_type == forms.physical_type(lt)
        assert c.num_values == len(ent[p])
        nulls, lo, hi = forms.expected_stats(lt, ent[p])
        s = c.statistics
        assert s.null_count == nulls, p
        if lo is None:
            assert not s.has_min_max or (lt.base in ("float", "double") and math.isnan(s.min_raw)), p
            continue
        assert s.has_min_max, p
        for got, want in ((s.min_raw, lo), (s.max_raw, hi)):
            got = forms.raw_from_physical(lt, got)
            assert forms.form(lt, got) == forms.form(lt, want), (p, got, want)
        rc = raw["row_groups"][0]["columns"][j]
        assert rc["num_values"] == c.num_values and rc["total_compressed_size"] == c.total_compressed_size
        pages = pqraw.column_pages(path, rc)
        assert sum(pg.get("num_values", 0) for pg in pages if pg["type"].startswith("DATA")) == c.num_values
        assert pages[0]["chunk_uncompressed_total"] == c.total_uncompressed_size
    assert raw["num_rows"] == md.num_rows == len(rows)
    assert raw["created_by"] == md.created_by
    assert raw["row_groups"][0]["file_offset"] in (None, md.row_group(0).column(0).file_offset,
                                                    md.row_group(0).column(0).data_page_offset,
                                                    md.row_group(0).column(0).dictionary_page_offset)
    assert raw["schema"][1]["field_id"] == ids[("id",)]


def test_pqraw_codec_names(tmp_path):
    t = pa.table({"a": list(range(100))})
    for comp, name in (("NONE", "UNCOMPRESSED"), ("SNAPPY", "SNAPPY"), ("GZIP", "GZIP"),
                       ("ZSTD", "ZSTD"), ("LZ4", "LZ4_RAW")):
        pq.write_table(t, tmp_path / "c.parquet", compression=comp)
        assert pqraw.file_meta(tmp_path / "c.parquet")["row_groups"][0]["columns"][0]["codec"] == name


def test_high_cardinality_strings_distinct():
    s = gen.high_cardinality_strings(1, 1000)
    assert len(set(s)) == 1000 and all(len(x) == 64 for x in s)


@pytest.mark.parametrize("which", ["decimal(38,10)", "float", "string", "uuid", "nested", "all"])
@pytest.mark.parametrize("dictionary", [True, False], ids=["dict", "plain"])
def test_write_checks_accept_reference_writer(tmp_path, which, dictionary, monkeypatch):
    """The checks test_parquet_write applies to firn's files pass on the
    same data written by pyarrow (apart from created_by)."""
    import re
    import test_parquet_write as W
    if which == "nested":
        fields, g, n = gen.nested_fields(), gen.Gen(seed=4242, null_rate=0.2), 300
    elif which == "all":
        fields, g, n = gen.all_types_fields(forms.PRIMITIVE_NAMES), gen.Gen(seed=7), 150
    else:
        fields, g, n = gen.type_matrix_fields(P(which)), gen.Gen(seed=1000), 200
    rows = gen.id_rows(g.rows(fields[1:], n, all_null={"all_null"}))
    ids = forms.assign_ids(fields)
    path = tmp_path / "ref.parquet"
    pq.write_table(forms.build_table(fields, rows, ids), path, store_decimal_as_integer=True,
                   compression="gzip", use_dictionary=dictionary, store_schema=False)
    monkeypatch.setattr(W, "CREATED_BY", re.compile(r"^parquet-cpp-arrow version"))
    w = W.Written(which, path, fields, rows, ids, "gzip", dictionary, "pyarrow")
    W.check_pyarrow_values(w)
    W.check_duckdb_values(w)
    W.check_arrow_schema(w)
    W.check_raw_schema(w)
    W.check_footer(w)
    W.check_duckdb_meta(w)
