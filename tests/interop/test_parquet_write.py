"""firn writes, pyarrow and DuckDB read.

Matrix:
* per type (all 19 primitive types incl. 4 decimals) x dictionary on/off,
  compression rotating over all five codecs: one file with the type required
  and optional at top level, as required/optional struct children, as
  required/optional list elements, as required/optional map values, and an
  all-null column;
* all types in one file (top level, struct child, list element, map value)
  x all five codecs x dictionary on/off;
* deep nesting (structs in lists in structs, lists of lists, maps with
  non-string keys, maps of lists of structs, lists of maps), written with the
  defaults (zstd, dictionary on);
* empty inputs, several row groups, many small pages, a dictionary that
  overflows, CSV input with a schema, inferred CSV/JSONL schemas, Parquet
  input.

Each file is converted once (cached per session) and checked by several
tests: values through pyarrow and through DuckDB, the Arrow schema pyarrow
derives (logical types, nullability, field ids on every field), the raw
Parquet schema (names, repetition, physical and logical types, field ids),
the footer (created_by, codec, statistics, encodings, dictionary pages, page
headers) and DuckDB's parquet_schema/parquet_metadata.
"""
from __future__ import annotations

import csv
import io
import json
import math
import random
import re
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import forms
import gen
import pqraw
from forms import Field, ListT, MapT, P, Prim, StructT, struct_of

CODECS = ["uncompressed", "snappy", "gzip", "zstd", "lz4_raw"]
CODEC_FOOTER = {"uncompressed": "UNCOMPRESSED", "snappy": "SNAPPY", "gzip": "GZIP", "zstd": "ZSTD",
                "lz4_raw": "LZ4_RAW"}
CODEC_PYARROW = {"uncompressed": "UNCOMPRESSED", "snappy": "SNAPPY", "gzip": "GZIP", "zstd": "ZSTD",
                 "lz4_raw": "LZ4"}
DICT_ENCODINGS = {"RLE_DICTIONARY", "PLAIN_DICTIONARY"}
CREATED_BY = re.compile(r"^firn version \d+\.\d+\.\d+\S* \(build [^)]+\)$")


# ------------------------------------------------------------ converting


@dataclass
class Written:
    key: str
    path: object
    fields: list
    rows: list
    ids: dict
    codec: str = "zstd"
    dictionary: bool = True
    cmd: str = ""
    error: str | None = None
    extra: dict = field(default_factory=dict)

    def need(self):
        if self.error:
            pytest.fail(self.error, pytrace=False)
        return self


_CACHE: dict = {}


def convert(run_firn, work_root, key, fields, rows, args=(), codec=None, dictionary=None,
            input_text=None, input_name="in.jsonl", schema=True) -> Written:
    """Writes the input (JSONL of rows unless input_text is given), runs
    firn parquet convert once per key and caches the outcome."""
    if key in _CACHE:
        return _CACHE[key].need()
    d = work_root / "write" / re.sub(r"[^A-Za-z0-9_.-]+", "_", key)
    d.mkdir(parents=True, exist_ok=True)
    inp = d / input_name
    if input_text is None:
        input_text = forms.jsonl_text(fields, rows)
    if isinstance(input_text, bytes):
        inp.write_bytes(input_text)
    else:
        inp.write_text(input_text, encoding="utf-8")
    out = d / "out.parquet"
    argv = ["parquet", "convert", inp, out]
    if schema:
        argv += ["--schema", forms.schema_spec(fields)]
    if codec is not None:
        argv += ["--compression", codec]
    if dictionary is not None:
        argv += ["--dictionary", "on" if dictionary else "off"]
    argv += list(args)
    w = Written(key, out, fields, rows, forms.assign_ids(fields), codec or "zstd",
                True if dictionary is None else dictionary)
    try:
        res = run_firn(*argv, check=False, timeout=120)
        w.cmd = res.shell
        if res.returncode != 0:
            w.error = f"firn parquet convert failed (exit {res.returncode}): {res.shell}\n{res.stderr[-1500:]}"
        elif not out.exists():
            w.error = f"firn parquet convert exited 0 but wrote no file: {res.shell}"
    except AssertionError as e:
        w.error = str(e)
    _CACHE[key] = w
    return w.need()


def repro(w: Written) -> str:
    return f"\nreproduce: {w.cmd}"


# ---------------------------------------------------------------- checks


def check_pyarrow_values(w: Written, rows=None):
    tbl = pq.read_table(w.path)
    assert tbl.column_names == [f.name for f in w.fields], repro(w)
    rows = w.rows if rows is None else rows
    try:
        forms.assert_rows_equal(forms.table_rows(tbl, w.fields), forms.raw_rows_forms(w.fields, rows),
                                w.fields, "pyarrow read")
    except AssertionError as e:
        raise AssertionError(str(e) + repro(w)) from None


def _duckdb_fields(fields):
    """DuckDB reads TIMESTAMP(NANOS, UTC) as microsecond TIMESTAMPTZ: those
    columns are compared through pyarrow only."""
    return [f for f in fields if "timestamptz_ns" not in forms.type_spec(f.type)]


def check_duckdb_values(w: Written, rows=None):
    fs = _duckdb_fields(w.fields)
    cols = ", ".join(f'"{f.name}"' for f in fs)
    con = duckdb.connect()
    tbl = con.sql(f"SELECT {cols} FROM read_parquet('{w.path}')").arrow().read_all()
    rows = w.rows if rows is None else rows
    try:
        forms.assert_rows_equal(forms.table_rows(tbl, fs), forms.raw_rows_forms(fs, rows), fs, "duckdb read")
    except AssertionError as e:
        raise AssertionError(str(e) + repro(w)) from None


def _check_arrow_field(af: pa.Field, t, required: bool, path: tuple, ids: dict, errors: list):
    where = ".".join(path)
    if af.nullable == required:
        errors.append(f"{where}: nullable={af.nullable}, expected required={required}")
    want_id = str(ids[path]).encode()
    got_id = (af.metadata or {}).get(b"PARQUET:field_id")
    if got_id != want_id:
        errors.append(f"{where}: PARQUET:field_id {got_id!r}, expected {want_id!r}")
    at = af.type
    if isinstance(t, Prim):
        exp = forms.arrow_type(t)
        if t.base == "uuid":
            ok = (isinstance(at, pa.BaseExtensionType) and at.extension_name == "arrow.uuid") or at == pa.binary(16)
        elif t.base == "string":
            ok = at in (pa.string(), pa.large_string())
        elif t.base == "binary":
            ok = at in (pa.binary(), pa.large_binary())
        else:
            ok = at == exp
        if not ok:
            errors.append(f"{where}: arrow type {at}, expected {exp}")
    elif isinstance(t, StructT):
        if not pa.types.is_struct(at) or [at.field(i).name for i in range(at.num_fields)] != \
                [f.name for f in t.fields]:
            errors.append(f"{where}: arrow type {at}, expected struct of {[f.name for f in t.fields]}")
            return
        for i, f in enumerate(t.fields):
            _check_arrow_field(at.field(i), f.type, f.required, path + (f.name,), ids, errors)
    elif isinstance(t, ListT):
        if not (pa.types.is_list(at) or pa.types.is_large_list(at)):
            errors.append(f"{where}: arrow type {at}, expected a list")
            return
        _check_arrow_field(at.value_field, t.element, t.element_required, path + ("element",), ids, errors)
    elif isinstance(t, MapT):
        if not pa.types.is_map(at):
            errors.append(f"{where}: arrow type {at}, expected a map")
            return
        _check_arrow_field(at.key_field, t.key, True, path + ("key",), ids, errors)
        _check_arrow_field(at.item_field, t.value, t.value_required, path + ("value",), ids, errors)


def check_arrow_schema(w: Written):
    schema = pq.read_schema(w.path)
    errors = []
    if schema.names != [f.name for f in w.fields]:
        errors.append(f"names {schema.names}")
    else:
        for f in w.fields:
            _check_arrow_field(schema.field(f.name), f.type, f.required, (f.name,), w.ids, errors)
    assert not errors, "arrow schema: \n  " + "\n  ".join(errors[:30]) + repro(w)


def expected_logical(t: Prim):
    """(physical, type_length, acceptable thrift LogicalType values)."""
    b = t.base
    unit = {"MILLIS": {1: {}}, "MICROS": {2: {}}, "NANOS": {3: {}}}
    if b == "boolean":
        return "BOOLEAN", None, [None]
    if b == "int":
        return "INT32", None, [None, {10: {1: 32, 2: True}}]
    if b == "long":
        return "INT64", None, [None, {10: {1: 64, 2: True}}]
    if b == "float":
        return "FLOAT", None, [None]
    if b == "double":
        return "DOUBLE", None, [None]
    if b == "decimal":
        phys = forms.decimal_physical(t)
        tl = forms.decimal_flba_len(t.precision) if phys == "FIXED_LEN_BYTE_ARRAY" else None
        return phys, tl, [{5: {1: t.scale, 2: t.precision}}]
    if b == "date":
        return "INT32", None, [{6: {}}]
    if b == "time":
        return "INT64", None, [{7: {1: False, 2: unit["MICROS"]}}]
    if b.startswith("timestamp"):
        u = unit["NANOS"] if b.endswith("_ns") else unit["MICROS"]
        return "INT64", None, [{8: {1: b.startswith("timestamptz"), 2: u}}]
    if b == "string":
        return "BYTE_ARRAY", None, [{1: {}}]
    if b == "uuid":
        return "FIXED_LEN_BYTE_ARRAY", 16, [{14: {}}]
    if b == "fixed":
        return "FIXED_LEN_BYTE_ARRAY", t.length, [None]
    if b == "binary":
        return "BYTE_ARRAY", None, [None]
    raise TypeError(t)


def expected_elements(fields, ids) -> list[dict]:
    """The Parquet schema elements (after the root) the Iceberg mapping
    gives: 3-level lists (list/element), maps (key_value/key/value)."""
    out = []

    def el(name, t, required, path):
        rep = "REQUIRED" if required else "OPTIONAL"
        fid = ids[path]
        if isinstance(t, Prim):
            phys, tl, logical = expected_logical(t)
            out.append(dict(name=name, repetition=rep, type=phys, type_length=tl, field_id=fid,
                            logical=logical, num_children=None))
        elif isinstance(t, StructT):
            out.append(dict(name=name, repetition=rep, type=None, field_id=fid, logical=[None],
                            num_children=len(t.fields)))
            for f in t.fields:
                el(f.name, f.type, f.required, path + (f.name,))
        elif isinstance(t, ListT):
            out.append(dict(name=name, repetition=rep, type=None, field_id=fid, logical=[{3: {}}],
                            num_children=1))
            out.append(dict(name="list", repetition="REPEATED", type=None, field_id=None, logical=[None],
                            num_children=1))
            el("element", t.element, t.element_required, path + ("element",))
        elif isinstance(t, MapT):
            out.append(dict(name=name, repetition=rep, type=None, field_id=fid, logical=[{2: {}}],
                            num_children=1))
            out.append(dict(name="key_value", repetition="REPEATED", type=None, field_id=None,
                            logical=[None], num_children=2))
            el("key", t.key, True, path + ("key",))
            el("value", t.value, t.value_required, path + ("value",))

    for f in fields:
        el(f.name, f.type, f.required, (f.name,))
    return out


def check_raw_schema(w: Written):
    meta = pqraw.file_meta(w.path)
    got = meta["schema"]
    exp = expected_elements(w.fields, w.ids)
    errors = []
    if got[0]["num_children"] != len(w.fields):
        errors.append(f"root num_children {got[0]['num_children']}, expected {len(w.fields)}")
    if len(got) - 1 != len(exp):
        errors.append(f"{len(got) - 1} schema elements, expected {len(exp)}: "
                      f"{[e['name'] for e in got[1:]]}")
    for g, e in zip(got[1:], exp):
        for k in ("name", "repetition", "type", "field_id", "num_children"):
            gv = g[k] if k != "num_children" or e[k] is not None else g[k]
            if e[k] is None and k == "num_children":
                if g[k] not in (None, 0):
                    errors.append(f"{e['name']}: num_children {g[k]} on a leaf")
                continue
            if gv != e[k]:
                errors.append(f"{e['name']}: {k} {gv!r}, expected {e[k]!r}")
        if "type_length" in e and e["type_length"] is not None and g["type_length"] != e["type_length"]:
            errors.append(f"{e['name']}: type_length {g['type_length']}, expected {e['type_length']}")
        if g["logical"] not in e["logical"]:
            errors.append(f"{e['name']}: logicalType {g['logical']!r}, expected one of {e['logical']!r}")
        if e.get("type") == "FIXED_LEN_BYTE_ARRAY" or (e.get("logical") and e["logical"][0] and 5 in e["logical"][0]):
            lg = e["logical"][0]
            if lg and 5 in lg and (g["precision"], g["scale"]) != (lg[5][2], lg[5][1]):
                errors.append(f"{e['name']}: precision/scale {g['precision']},{g['scale']}")
        if len(errors) > 30:
            break
    assert not errors, "parquet schema:\n  " + "\n  ".join(errors[:30]) + repro(w)


def _rg_rows(w: Written, meta) -> list[list]:
    out, i = [], 0
    for rg in meta["row_groups"]:
        out.append(w.rows[i:i + rg["num_rows"]])
        i += rg["num_rows"]
    return out


def check_footer(w: Written, dict_mode=None, minmax_optional=False):
    """created_by, codec, statistics, encodings, dictionary pages, page
    headers (data page v1), sizes; through pyarrow and the raw footer.
    dict_mode: "on" (every low-cardinality non-boolean column with values
    must be dictionary-encoded), "off" (no dictionary anywhere), "any";
    default from --dictionary. minmax_optional: min/max may be left out
    (as pyarrow does for values over 4 KiB), but must be exact if written."""
    pf = pq.ParquetFile(w.path)
    md = pf.metadata
    meta = pqraw.file_meta(w.path)
    errors = []
    if not CREATED_BY.match(md.created_by or ""):
        errors.append(f"created_by {md.created_by!r}")
    if md.num_rows != len(w.rows) or meta["num_rows"] != len(w.rows):
        errors.append(f"num_rows {md.num_rows}, expected {len(w.rows)}")
    if sum(rg["num_rows"] for rg in meta["row_groups"]) != len(w.rows):
        errors.append("row group num_rows do not add up to num_rows")
    leaves = forms.leaf_paths(w.fields)
    if dict_mode is None:
        dict_mode = "on" if w.dictionary else "off"
    for ri, (rg, rows) in enumerate(zip(meta["row_groups"], _rg_rows(w, meta))):
        ent = forms.leaf_entries(w.fields, rows)
        if len(rg["columns"]) != len(leaves):
            errors.append(f"rg {ri}: {len(rg['columns'])} column chunks, expected {len(leaves)}")
            continue
        pa_rg = md.row_group(ri)
        for j, (p, lt) in enumerate(leaves):
            c = rg["columns"][j]
            pc = pa_rg.column(j)
            where = f"rg {ri} {p}"
            if c["path"] != p:
                errors.append(f"{where}: path_in_schema {c['path']!r}")
                continue
            if c["codec"] != CODEC_FOOTER[w.codec] or pc.compression != CODEC_PYARROW[w.codec]:
                errors.append(f"{where}: codec {c['codec']} / pyarrow {pc.compression}, expected {w.codec}")
            if c["type"] != forms.physical_type(lt):
                errors.append(f"{where}: physical type {c['type']}")
            if c["num_values"] != len(ent[p]):
                errors.append(f"{where}: num_values {c['num_values']}, expected {len(ent[p])}")
            # statistics
            nulls, lo, hi = forms.expected_stats(lt, ent[p])
            s = pc.statistics
            if s is None or not s.has_null_count:
                errors.append(f"{where}: no statistics / null_count")
            else:
                if s.null_count != nulls:
                    errors.append(f"{where}: null_count {s.null_count}, expected {nulls}")
                if lo is None:
                    if s.has_min_max:
                        errors.append(f"{where}: min/max {s.min_raw!r}/{s.max_raw!r} written for a column "
                                      f"without non-null non-NaN values")
                elif not s.has_min_max:
                    if not minmax_optional:
                        errors.append(f"{where}: no min/max")
                else:
                    for what, raw, want in (("min", s.min_raw, lo), ("max", s.max_raw, hi)):
                        gotv = forms.form(lt, forms.raw_from_physical(lt, raw))
                        diff = forms.compare_value(gotv, forms.form(lt, want), lt, f"{where} {what}")
                        errors.extend(diff)
            # pages
            try:
                pages = pqraw.column_pages(w.path, c)
            except Exception as e:  # noqa: BLE001
                errors.append(f"{where}: page headers unreadable: {e}")
                continue
            types = [pg["type"] for pg in pages]
            data = [pg for pg in pages if pg["type"] != "DICTIONARY_PAGE"]
            if any(t not in ("DATA_PAGE", "DICTIONARY_PAGE") for t in types):
                errors.append(f"{where}: page types {sorted(set(types))}, expected data page v1 only")
            if "DICTIONARY_PAGE" in types[1:]:
                errors.append(f"{where}: dictionary page not first")
            has_dict_page = types[:1] == ["DICTIONARY_PAGE"]
            if has_dict_page != (c["dictionary_page_offset"] is not None):
                errors.append(f"{where}: dictionary_page_offset {c['dictionary_page_offset']} but pages {types[:2]}")
            if sum(pg.get("num_values") or 0 for pg in data) != c["num_values"]:
                errors.append(f"{where}: data pages hold {sum(pg.get('num_values') or 0 for pg in data)} "
                              f"values, chunk says {c['num_values']}")
            if pages and pages[0]["chunk_uncompressed_total"] != c["total_uncompressed_size"]:
                errors.append(f"{where}: total_uncompressed_size {c['total_uncompressed_size']}, pages+headers "
                              f"add up to {pages[0]['chunk_uncompressed_total']}")
            page_encs = {pg.get("encoding") for pg in pages}
            if not page_encs <= set(c["encodings"]):
                errors.append(f"{where}: page encodings {page_encs} not all in chunk encodings {c['encodings']}")
            for pg in data:
                if pg.get("def_encoding") not in ("RLE",) or pg.get("rep_encoding") not in ("RLE",):
                    errors.append(f"{where}: level encodings {pg.get('def_encoding')}/{pg.get('rep_encoding')}")
                    break
            non_null = len(ent[p]) - nulls
            if dict_mode == "on":
                if non_null and lt.base != "boolean":
                    if not has_dict_page or not (set(c["encodings"]) & DICT_ENCODINGS):
                        errors.append(f"{where}: dictionary on, low cardinality, but encodings {c['encodings']} "
                                      f"pages {types[:2]}")
                    else:
                        # dictionary pages first; a switch to PLAIN after them is the
                        # fallback (size bound, or a dictionary no smaller than PLAIN
                        # on the first page, as parquet-java decides), never back
                        encs = [pg.get("encoding") for pg in data]
                        n_dict = next((k for k, e in enumerate(encs) if e not in DICT_ENCODINGS), len(encs))
                        if n_dict == 0 or any(e != "PLAIN" for e in encs[n_dict:]):
                            errors.append(f"{where}: data pages not dictionary-encoded: {encs}")
            elif dict_mode == "off":
                if has_dict_page or set(c["encodings"]) & DICT_ENCODINGS or pc.has_dictionary_page:
                    errors.append(f"{where}: --dictionary off but encodings {c['encodings']}, pages {types[:2]}")
                if any(pg.get("encoding") != "PLAIN" for pg in data):
                    errors.append(f"{where}: --dictionary off, data page encodings "
                                  f"{[pg.get('encoding') for pg in data]}, expected PLAIN")
            if len(errors) > 40:
                break
    assert not errors, "footer:\n  " + "\n  ".join(errors[:40]) + repro(w)


def duckdb_elements(fields, ids):
    return [(e["name"], e["field_id"], e["repetition"]) for e in expected_elements(fields, ids)]


def check_duckdb_meta(w: Written):
    con = duckdb.connect()
    got = con.sql(f"SELECT name, field_id, repetition_type FROM parquet_schema('{w.path}')").fetchall()
    exp = duckdb_elements(w.fields, w.ids)
    errors = []
    if [(n, f, r) for n, f, r in got[1:]] != exp:
        for g, e in zip(got[1:], exp):
            if tuple(g) != e:
                errors.append(f"parquet_schema {tuple(g)}, expected {e}")
        if len(got) - 1 != len(exp):
            errors.append(f"parquet_schema has {len(got) - 1} elements, expected {len(exp)}")
    rows = con.sql(f"SELECT row_group_id, path_in_schema, num_values, stats_null_count, compression, "
                   f"row_group_num_rows FROM parquet_metadata('{w.path}') ORDER BY row_group_id, column_id"
                   ).fetchall()
    leaves = forms.leaf_paths(w.fields)
    meta = pqraw.file_meta(w.path)
    rg_rows = _rg_rows(w, meta)
    ents = [forms.leaf_entries(w.fields, r) for r in rg_rows]
    if len(rows) != len(leaves) * len(meta["row_groups"]):
        errors.append(f"parquet_metadata: {len(rows)} rows")
    for rgid, path, nv, nc, comp, rgn in rows:
        p = path.replace(", ", ".")
        ent = ents[rgid][p]
        lt = dict(leaves)[p]
        nulls, _, _ = forms.expected_stats(lt, ent)
        if nv != len(ent) or nc != nulls or comp != CODEC_FOOTER[w.codec] or rgn != len(rg_rows[rgid]):
            errors.append(f"parquet_metadata rg {rgid} {p}: num_values {nv} null_count {nc} {comp} rows {rgn}, "
                          f"expected {len(ent)} {nulls} {CODEC_FOOTER[w.codec]} {len(rg_rows[rgid])}")
    # min/max of top-level long/int/date/string columns as DuckDB renders them
    for f in w.fields:
        if isinstance(f.type, Prim) and f.type.base in ("int", "long", "date", "string", "decimal"):
            if len(meta["row_groups"]) != 1:
                break
            r = con.sql(f"SELECT min(\"{f.name}\")::VARCHAR, max(\"{f.name}\")::VARCHAR FROM read_parquet('{w.path}')"
                        ).fetchone()
            s = con.sql(f"SELECT stats_min_value, stats_max_value FROM parquet_metadata('{w.path}') "
                        f"WHERE path_in_schema = '{f.name}'").fetchone()
            if r[0] is not None and tuple(s) != tuple(r):
                errors.append(f"{f.name}: duckdb stats min/max {s}, data min/max {r}")
    assert not errors, "duckdb metadata:\n  " + "\n  ".join(errors[:30]) + repro(w)


# ------------------------------------------------------- per-type matrix

PER_TYPE = []
for _i, _name in enumerate(forms.PRIMITIVE_NAMES):
    for _d in (True, False):
        PER_TYPE.append(pytest.param(_name, _d, CODECS[(_i * 2 + _d) % 5],
                                     id=f"{_name}-{'dict' if _d else 'plain'}-{CODECS[(_i * 2 + _d) % 5]}"))


def per_type_file(run_firn, work_root, tname, dictionary, codec) -> Written:
    t = P(tname)
    fields = gen.type_matrix_fields(t)
    g = gen.Gen(seed=1000 + forms.PRIMITIVE_NAMES.index(tname))
    rows = gen.id_rows(g.rows(fields[1:], 200, all_null={"all_null"}))
    return convert(run_firn, work_root, f"type-{tname}-{dictionary}-{codec}", fields, rows,
                   codec=codec, dictionary=dictionary)


@pytest.mark.parametrize("tname,dictionary,codec", PER_TYPE)
def test_type_values_pyarrow(run_firn, work_root, tname, dictionary, codec):
    check_pyarrow_values(per_type_file(run_firn, work_root, tname, dictionary, codec))


@pytest.mark.parametrize("tname,dictionary,codec", PER_TYPE)
def test_type_values_duckdb(run_firn, work_root, tname, dictionary, codec):
    if tname == "timestamptz_ns":
        # DuckDB has no nanosecond TIMESTAMPTZ; compare its micro truncation
        w = per_type_file(run_firn, work_root, tname, dictionary, codec)
        con = duckdb.connect()
        got = con.sql(f"SELECT epoch_us(top_req) FROM read_parquet('{w.path}')").fetchall()
        want = [r["top_req"] // 1000 for r in w.rows]
        # DuckDB maps the extreme INT64 values to infinities; compare the rest
        # (and truncates toward zero where we floor: allow 1 microsecond)
        bad = [(i, g[0], x) for i, (g, x) in enumerate(zip(got, want))
               if abs(x) < 9_000_000_000_000_000 and (g[0] is None or abs(g[0] - x) > 1)]
        assert len(got) == len(w.rows) and not bad, f"{bad[:5]}" + repro(w)
        return
    check_duckdb_values(per_type_file(run_firn, work_root, tname, dictionary, codec))


@pytest.mark.parametrize("tname,dictionary,codec", PER_TYPE)
def test_type_arrow_schema(run_firn, work_root, tname, dictionary, codec):
    check_arrow_schema(per_type_file(run_firn, work_root, tname, dictionary, codec))


@pytest.mark.parametrize("tname,dictionary,codec", PER_TYPE)
def test_type_parquet_schema(run_firn, work_root, tname, dictionary, codec):
    check_raw_schema(per_type_file(run_firn, work_root, tname, dictionary, codec))


@pytest.mark.parametrize("tname,dictionary,codec", PER_TYPE)
def test_type_footer(run_firn, work_root, tname, dictionary, codec):
    check_footer(per_type_file(run_firn, work_root, tname, dictionary, codec))


@pytest.mark.parametrize("tname,dictionary,codec", PER_TYPE)
def test_type_duckdb_metadata(run_firn, work_root, tname, dictionary, codec):
    check_duckdb_meta(per_type_file(run_firn, work_root, tname, dictionary, codec))


# ------------------------------------------- all types x codec x dictionary

ALL = [pytest.param(c, d, id=f"{c}-{'dict' if d else 'plain'}") for c in CODECS for d in (True, False)]


def all_types_file(run_firn, work_root, codec, dictionary) -> Written:
    fields = gen.all_types_fields(forms.PRIMITIVE_NAMES)
    g = gen.Gen(seed=7 + CODECS.index(codec) * 2 + dictionary)
    rows = gen.id_rows(g.rows(fields[1:], 150))
    return convert(run_firn, work_root, f"all-{codec}-{dictionary}", fields, rows, codec=codec,
                   dictionary=dictionary)


@pytest.mark.parametrize("codec,dictionary", ALL)
def test_all_types_values(run_firn, work_root, codec, dictionary):
    w = all_types_file(run_firn, work_root, codec, dictionary)
    check_pyarrow_values(w)
    check_duckdb_values(w)


@pytest.mark.parametrize("codec,dictionary", ALL)
def test_all_types_schema(run_firn, work_root, codec, dictionary):
    w = all_types_file(run_firn, work_root, codec, dictionary)
    check_arrow_schema(w)
    check_raw_schema(w)


@pytest.mark.parametrize("codec,dictionary", ALL)
def test_all_types_footer(run_firn, work_root, codec, dictionary):
    w = all_types_file(run_firn, work_root, codec, dictionary)
    check_footer(w)
    check_duckdb_meta(w)


# ------------------------------------------------------------ nesting


def nested_file(run_firn, work_root) -> Written:
    fields = gen.nested_fields()
    g = gen.Gen(seed=4242, null_rate=0.2)
    rows = gen.id_rows(g.rows(fields[1:], 300))
    # defaults: no --compression, no --dictionary (zstd, dictionary on)
    return convert(run_firn, work_root, "nested-defaults", fields, rows)


def test_nested_values_pyarrow(run_firn, work_root):
    check_pyarrow_values(nested_file(run_firn, work_root))


def test_nested_values_duckdb(run_firn, work_root):
    check_duckdb_values(nested_file(run_firn, work_root))


def test_nested_schema(run_firn, work_root):
    w = nested_file(run_firn, work_root)
    check_arrow_schema(w)
    check_raw_schema(w)


def test_nested_footer_defaults_zstd_dictionary(run_firn, work_root):
    w = nested_file(run_firn, work_root)
    check_footer(w)
    check_duckdb_meta(w)


def test_nested_nulls_at_every_level_are_present(run_firn, work_root):
    """Guards the generator: the nested data really has nulls at each level."""
    w = nested_file(run_firn, work_root)
    outer = [r["outer"] for r in w.rows]
    assert any(o is None for o in outer)
    assert any(o and o["items"] is None for o in outer)
    assert any(o and o["items"] == [] for o in outer)
    assert any(o and o["items"] and any(i is None for i in o["items"]) for o in outer)
    assert any(o and o["items"] and any(i and i["tags"] and None in i["tags"] for i in o["items"]) for o in outer)
    assert any(r["m_long"] and any(v is None for _, v in r["m_long"]) for r in w.rows)
    check_pyarrow_values(w)


# -------------------------------------------------------- edge files


def test_empty_jsonl_gives_valid_empty_file(run_firn, work_root):
    fields = gen.all_types_fields(["long", "string", "decimal(38,10)", "timestamptz", "uuid"])
    w = convert(run_firn, work_root, "empty-jsonl", fields, [], input_text="")
    tbl = pq.read_table(w.path)
    assert tbl.num_rows == 0 and tbl.column_names == [f.name for f in fields], repro(w)
    check_arrow_schema(w)
    check_raw_schema(w)
    md = pq.ParquetFile(w.path).metadata
    assert md.num_rows == 0 and md.created_by.startswith("firn version"), repro(w)
    assert all(md.row_group(i).num_rows > 0 for i in range(md.num_row_groups)), "empty row group" + repro(w)
    assert duckdb.connect().sql(f"SELECT count(*) FROM read_parquet('{w.path}')").fetchone()[0] == 0


def test_empty_csv_header_only(run_firn, work_root):
    fields = [Field("id", P("long"), True), Field("name", P("string")), Field("d", P("date"))]
    w = convert(run_firn, work_root, "empty-csv", fields, [], input_text="id,name,d\n", input_name="in.csv")
    tbl = pq.read_table(w.path)
    assert tbl.num_rows == 0 and tbl.schema.field("id").type == pa.int64() and not tbl.schema.field("id").nullable
    assert duckdb.connect().sql(f"SELECT count(*) FROM read_parquet('{w.path}')").fetchone()[0] == 0


def test_single_row_all_nulls(run_firn, work_root):
    fields = gen.all_types_fields(forms.PRIMITIVE_NAMES)
    rows = [{"id": 0, **{f.name: None for f in fields[1:]}}]
    w = convert(run_firn, work_root, "one-null-row", fields, rows)
    check_pyarrow_values(w)
    check_duckdb_values(w)
    check_footer(w)


def test_multiple_row_groups(run_firn, work_root):
    fields = [Field("id", P("long"), True), Field("v", P("long")), Field("s", P("string")),
              Field("l", ListT(P("int")))]
    rng = random.Random(99)
    rows = [{"id": i, "v": None if rng.random() < 0.1 else rng.randint(-2 ** 63, 2 ** 63 - 1),
             "s": f"s{rng.getrandbits(40):x}", "l": [rng.randint(-5, 5) for _ in range(rng.randint(0, 3))]}
            for i in range(40000)]
    w = convert(run_firn, work_root, "row-groups", fields, rows, codec="uncompressed",
                args=["--row-group-size", "65536"])
    md = pq.ParquetFile(w.path).metadata
    # ~1 MB of encoded data at 64 KiB per row group
    assert md.num_row_groups >= 4, f"{md.num_row_groups} row groups for ~1MB at --row-group-size 65536" + repro(w)
    sizes = [md.row_group(i).total_byte_size for i in range(md.num_row_groups)]
    assert all(md.row_group(i).num_rows > 0 for i in range(md.num_row_groups)), repro(w)
    assert max(sizes[:-1]) <= 8 * 65536, f"row group sizes {sizes}" + repro(w)
    meta = pqraw.file_meta(w.path)
    offs = [rg["columns"][0]["data_page_offset"] for rg in meta["row_groups"]]
    assert offs == sorted(offs), repro(w)
    check_pyarrow_values(w)
    check_duckdb_values(w)
    check_footer(w, dict_mode="any")  # high cardinality: dictionary optional
    check_duckdb_meta(w)


@pytest.mark.parametrize("dictionary", [True, False], ids=["dict", "plain"])
def test_small_pages(run_firn, work_root, dictionary):
    fields = [Field("id", P("long"), True), Field("s", P("string")), Field("l", ListT(P("string"))),
              Field("d", P("double"))]
    rng = random.Random(5)
    rows = [{"id": i, "s": None if i % 7 == 0 else f"value-{rng.randint(0, 30)}",
             "l": None if i % 11 == 0 else [f"e{rng.randint(0, 9)}" for _ in range(rng.randint(0, 4))],
             "d": rng.choice([1.5, -0.0, float("nan"), None, 2.25])} for i in range(20000)]
    w = convert(run_firn, work_root, f"small-pages-{dictionary}", fields, rows, dictionary=dictionary,
                args=["--page-size", "1024"])
    meta = pqraw.file_meta(w.path)
    for c in meta["row_groups"][0]["columns"]:
        pages = [p for p in pqraw.column_pages(w.path, c) if p["type"] != "DICTIONARY_PAGE"]
        data_bytes = sum(p["uncompressed_page_size"] for p in pages)
        want = max(2, data_bytes // 4096)
        assert len(pages) >= want, (f"{c['path']}: {len(pages)} data pages for {data_bytes} bytes with "
                                    f"--page-size 1024" + repro(w))
        big = [p["uncompressed_page_size"] for p in pages if p["uncompressed_page_size"] > 4 * 1024]
        assert not big, f"{c['path']}: pages of {big[:5]} bytes with --page-size 1024" + repro(w)
    check_pyarrow_values(w)
    check_duckdb_values(w)
    check_footer(w)


def test_dictionary_overflow_falls_back_to_plain(run_firn, work_root):
    strings = gen.high_cardinality_strings(3, 48000)  # ~3 MB of distinct values
    fields = [Field("id", P("long"), True), Field("hi", P("string")), Field("lo", P("string"))]
    rows = [{"id": i, "hi": s, "lo": f"k{i % 5}"} for i, s in enumerate(strings)]
    w = convert(run_firn, work_root, "dict-overflow", fields, rows)
    meta = pqraw.file_meta(w.path)
    assert len(meta["row_groups"]) == 1, repro(w)
    cols = {c["path"]: c for c in meta["row_groups"][0]["columns"]}
    hi_pages = [p for p in pqraw.column_pages(w.path, cols["hi"]) if p["type"] != "DICTIONARY_PAGE"]
    assert "PLAIN" in cols["hi"]["encodings"] and any(p["encoding"] == "PLAIN" for p in hi_pages), (
        f"hi encodings {cols['hi']['encodings']}" + repro(w))
    dict_pages = [p for p in pqraw.column_pages(w.path, cols["hi"]) if p["type"] == "DICTIONARY_PAGE"]
    assert sum(p["uncompressed_page_size"] for p in dict_pages) <= 4 << 20, repro(w)
    lo_pages = [p for p in pqraw.column_pages(w.path, cols["lo"]) if p["type"] != "DICTIONARY_PAGE"]
    assert all(p["encoding"] in DICT_ENCODINGS for p in lo_pages), repro(w)
    check_pyarrow_values(w)
    check_duckdb_values(w)
    check_footer(w, dict_mode="any")


# ------------------------------------------------------ other inputs


def _csv_cell(t, v) -> str:
    if v is None:
        return ""
    f = forms.form(t, v)
    if isinstance(f, bool):
        return "true" if f else "false"
    if isinstance(f, float):
        return repr(f)
    return str(f)


def test_csv_input_with_schema(run_firn, work_root):
    names = [n for n in forms.PRIMITIVE_NAMES]
    fields = [Field("id", P("long"), True)] + [Field(f"c_{gen.safe_name(n)}", P(n)) for n in names]
    g = gen.Gen(seed=31)
    rows = gen.id_rows(g.rows(fields[1:], 120))
    for r in rows:  # an empty cell is NULL in CSV: no empty strings/binaries here
        for f in fields:
            if r[f.name] in ("", b""):
                r[f.name] = "x" if f.type.base == "string" else b"\x01"
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow([f.name for f in fields])
    for r in rows:
        wr.writerow([_csv_cell(f.type, r[f.name]) for f in fields])
    w = convert(run_firn, work_root, "csv-schema", fields, rows, input_text=buf.getvalue(), input_name="in.csv")
    check_pyarrow_values(w)
    check_duckdb_values(w)
    check_arrow_schema(w)


def test_csv_inferred_types(run_firn, work_root, tmp):
    text = ("i,f,b,d,ts,s\n"
            "1,1.5,true,2017-11-16,2017-11-16T22:31:08.123456,hello\n"
            "-9223372036854775808,-0.25,false,1969-12-31,1970-01-01T00:00:00.000001,\"a,b\"\n"
            ",,,,,\n"
            "9223372036854775807,1e300,true,0001-01-01,2000-02-29T12:00:00.000000,日本\n")
    fields = [Field("i", P("long")), Field("f", P("double")), Field("b", P("boolean")), Field("d", P("date")),
              Field("ts", P("timestamp")), Field("s", P("string"))]
    rows = [
        {"i": 1, "f": 1.5, "b": True, "d": 17486, "ts": 1510871468123456, "s": "hello"},
        {"i": -2 ** 63, "f": -0.25, "b": False, "d": -1, "ts": 1, "s": "a,b"},
        {},
        {"i": 2 ** 63 - 1, "f": 1e300, "b": True, "d": gen.DATE_MIN, "ts": 951825600000000, "s": "日本"},
    ]
    w = convert(run_firn, work_root, "csv-infer", fields, rows, input_text=text, input_name="in.csv", schema=False)
    schema = pq.read_schema(w.path)
    assert [(f.name, f.type, f.nullable) for f in schema] == [
        ("i", pa.int64(), True), ("f", pa.float64(), True), ("b", pa.bool_(), True), ("d", pa.date32(), True),
        ("ts", pa.timestamp("us"), True), ("s", pa.string(), True)], f"{schema}" + repro(w)
    check_pyarrow_values(w)
    check_duckdb_values(w)


def test_jsonl_inferred_types(run_firn, work_root):
    objs = [{"i": 1, "f": 1.5, "b": True, "s": "x"}, {"i": None, "f": -2.0, "b": False},
            {"i": -7, "f": None, "s": "ü"}]
    text = "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs)
    fields = [Field("i", P("long")), Field("f", P("double")), Field("b", P("boolean")), Field("s", P("string"))]
    rows = [{"i": 1, "f": 1.5, "b": True, "s": "x"}, {"i": None, "f": -2.0, "b": False, "s": None},
            {"i": -7, "f": None, "b": None, "s": "ü"}]
    w = convert(run_firn, work_root, "jsonl-infer", fields, rows, input_text=text, schema=False)
    schema = pq.read_schema(w.path)
    assert [(f.name, f.type) for f in schema] == [("i", pa.int64()), ("f", pa.float64()), ("b", pa.bool_()),
                                                   ("s", pa.string())], f"{schema}" + repro(w)
    check_pyarrow_values(w)


def test_jsonl_map_as_key_value_array_and_format_flag(run_firn, work_root):
    """Maps with string keys may also come as [{"key","value"}] arrays;
    --format jsonl overrides the extension."""
    fields = [Field("id", P("long"), True), Field("m", MapT(P("string"), P("int"))),
              Field("n", MapT(P("int"), P("string"), True))]
    rows = [{"id": 0, "m": [("a", 1), ("b", None)], "n": [(1, "x"), (-2, "y")]},
            {"id": 1, "m": [], "n": None}, {"id": 2, "m": None, "n": []}]
    text = ('{"id": 0, "m": [{"key": "a", "value": 1}, {"key": "b", "value": null}], '
            '"n": [{"key": 1, "value": "x"}, {"key": -2, "value": "y"}]}\n'
            '{"id": 1, "m": {}, "n": null}\n'
            '{"id": 2, "n": []}\n')
    w = convert(run_firn, work_root, "jsonl-kv-maps", fields, rows, input_text=text, input_name="in.txt",
                args=["--format", "jsonl"])
    check_pyarrow_values(w)
    check_duckdb_values(w)


def test_parquet_input_roundtrip(run_firn, work_root, tmp):
    """A pyarrow-written file converted by firn keeps every value and type."""
    fields = gen.all_types_fields(forms.PRIMITIVE_NAMES)
    g = gen.Gen(seed=77)
    rows = gen.id_rows(g.rows(fields[1:], 100))
    ids = forms.assign_ids(fields)
    tbl = forms.build_table(fields, rows, ids)
    src = tmp / "src.parquet"
    pq.write_table(tbl, src, store_decimal_as_integer=True)
    out = tmp / "out.parquet"
    res = run_firn("parquet", "convert", src, out, "--compression", "snappy", check=False, timeout=120)
    assert res.returncode == 0, res.shell + "\n" + res.stderr
    w = Written("pq-roundtrip", out, fields, rows, ids, "snappy", True, res.shell)
    check_pyarrow_values(w)
    check_duckdb_values(w)
    check_raw_schema(w)
    check_footer(w)


def test_nested_small_row_groups_and_pages(run_firn, work_root):
    """Repetition levels split across many pages and row groups. (PLAIN
    values: with a dictionary, 16 KiB row groups are mostly dictionary and
    the index pages stay under 512 bytes, as in pyarrow.)"""
    fields = gen.nested_fields()
    g = gen.Gen(seed=4343, null_rate=0.2)
    rows = gen.id_rows(g.rows(fields[1:], 3000))
    w = convert(run_firn, work_root, "nested-small-rg-pages", fields, rows, codec="snappy",
                args=["--row-group-size", "16384", "--page-size", "512", "--dictionary", "off"])
    md = pq.ParquetFile(w.path).metadata
    total = sum(md.row_group(i).total_byte_size for i in range(md.num_row_groups))
    sizes = [md.row_group(i).total_byte_size for i in range(md.num_row_groups)]
    # megabytes of data at 16 KiB per row group: many row groups, most near
    # the bound (a single row of big nested lists can pass it on its own)
    median = sorted(sizes)[len(sizes) // 2]
    assert md.num_row_groups >= 3 and median <= 4 * 16384, (
        f"{md.num_row_groups} row group(s) of {sizes} bytes ({total} in all) "
        f"with --row-group-size 16384" + repro(w))
    meta = pqraw.file_meta(w.path)
    multi = [c["path"] for c in meta["row_groups"][0]["columns"]
             if len([p for p in pqraw.column_pages(w.path, c) if p["type"] == "DATA_PAGE"]) > 1]
    assert multi, "no column chunk with several pages" + repro(w)
    check_pyarrow_values(w)
    check_duckdb_values(w)
    check_footer(w, dict_mode="any")
    check_duckdb_meta(w)


def test_large_values_and_long_extremes(run_firn, work_root):
    """Values bigger than a page; min/max that are long strings/binaries
    must be exact in the statistics."""
    fields = [Field("id", P("long"), True), Field("s", P("string")), Field("b", P("binary")),
              Field("l", ListT(P("string")))]
    big = "z" * 70000 + "é"
    rows = [{"id": 0, "s": "a", "b": b"\x00", "l": ["x" * 100000]},
            {"id": 1, "s": big, "b": bytes(range(256)) * 400, "l": []},
            {"id": 2, "s": None, "b": b"\xff" * 5000, "l": None},
            {"id": 3, "s": "m" * 300, "b": b"", "l": ["", "y"]}]
    w = convert(run_firn, work_root, "large-values", fields, rows, args=["--page-size", "1024"])
    check_pyarrow_values(w)
    check_duckdb_values(w)
    check_footer(w, dict_mode="any", minmax_optional=True)


def test_csv_crlf_bom_quoted_header_no_final_newline(run_firn, work_root):
    text = ('\ufeff"id","label","when"\r\n'
            '1,"multi\r\nline",2017-11-16T22:31:08.123456+00:00\r\n'
            '2,"say ""hi""",\r\n'
            '3,,1969-12-31T23:59:59.999999+00:00')
    fields = [Field("id", P("long"), True), Field("label", P("string")), Field("when", P("timestamptz"))]
    rows = [{"id": 1, "label": "multi\r\nline", "when": 1510871468123456},
            {"id": 2, "label": 'say "hi"', "when": None},
            {"id": 3, "label": None, "when": -1}]
    w = convert(run_firn, work_root, "csv-crlf-bom", fields, rows, input_text=text.encode("utf-8"),
                input_name="in.csv")
    check_pyarrow_values(w)


def test_jsonl_escapes_and_number_forms(run_firn, work_root):
    text = ('{"id": 1, "s": "caf\\u00e9 \\ud83d\\ude00 \\"q\\" \\\\ \\/ \\b\\f\\n\\r\\t", "d": 1, "f": -0.0}\n'
            '{"id": 2, "s": "\\u0000nul", "d": 1E2, "f": 1e-45}\n'
            '{"s": null, "id": 3, "d": -1.5e+300, "f": "-Infinity"}\n')
    fields = [Field("id", P("long"), True), Field("s", P("string")), Field("d", P("double")),
              Field("f", P("float"))]
    rows = [{"id": 1, "s": 'café 😀 "q" \\ / \b\f\n\r\t', "d": 1.0, "f": -0.0},
            {"id": 2, "s": "\x00nul", "d": 100.0, "f": forms.f32(1e-45)},
            {"id": 3, "s": None, "d": -1.5e300, "f": float("-inf")}]
    w = convert(run_firn, work_root, "jsonl-escapes", fields, rows, input_text=text)
    check_pyarrow_values(w)
