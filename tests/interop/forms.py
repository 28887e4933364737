"""Iceberg types, raw values and their JSON single-value forms.

Everything the interop tests compare goes through this module:

* a tiny Iceberg type model (``Prim``, ``StructT``, ``ListT``, ``MapT``) that
  renders the SPEC syntax of ``firn parquet convert --schema`` and the lines of
  ``firn parquet schema``, and assigns field ids the way Iceberg assigns fresh
  ids;
* "raw" Python values per Iceberg type (ints for temporal types in the
  Iceberg unit, ``bytes`` for uuid/fixed/binary, ``Decimal`` for decimals,
  ``dict``/``list``/list of ``(key, value)`` pairs for nested values);
* ``form(t, raw)``: the JSON form of DESIGN.md section 4 (what ``firn parquet
  cat --format jsonl`` must print);
* ``arrow_raw`` / ``arrow_forms``: the same from a pyarrow array (read by
  pyarrow or exported by DuckDB) -- the reference side of every comparison;
* ``assert_rows_equal``: compares firn's parsed output with expected forms
  (floats numerically and as shortest text, NaN by ``math.isnan``, -0.0 by
  sign, decimals/uuids/hex/timestamps as exact strings).
"""
from __future__ import annotations

import base64
import datetime as _dt
import decimal
import json
import math
import re
import struct
import uuid as _uuid
from dataclasses import dataclass, field as _dc_field
from typing import Any

import pyarrow as pa

_DEC_CTX = decimal.Context(prec=200)

# ---------------------------------------------------------------- types


@dataclass(frozen=True)
class Prim:
    name: str  # "long", "decimal(10,2)", "fixed[4]", "timestamptz_ns", ...

    @property
    def base(self) -> str:
        return re.sub(r"[\[(].*", "", self.name)

    @property
    def precision(self) -> int:
        return int(re.match(r"decimal\((\d+),\s*(\d+)\)", self.name).group(1))

    @property
    def scale(self) -> int:
        return int(re.match(r"decimal\((\d+),\s*(\d+)\)", self.name).group(2))

    @property
    def length(self) -> int:
        return int(re.match(r"fixed\[(\d+)\]", self.name).group(1))


@dataclass(frozen=True)
class Field:
    name: str
    type: Any
    required: bool = False


@dataclass(frozen=True)
class StructT:
    fields: tuple


@dataclass(frozen=True)
class ListT:
    element: Any
    element_required: bool = False


@dataclass(frozen=True)
class MapT:
    key: Any
    value: Any
    value_required: bool = False


def P(name: str) -> Prim:
    return Prim(name)


def struct_of(*fields: Field) -> StructT:
    return StructT(tuple(fields))


PRIMITIVE_NAMES = [
    "boolean", "int", "long", "float", "double",
    "decimal(9,2)", "decimal(18,4)", "decimal(38,10)", "decimal(38,0)",
    "date", "time", "timestamp", "timestamptz", "timestamp_ns", "timestamptz_ns",
    "string", "uuid", "fixed[4]", "binary",
]


def type_spec(t) -> str:
    """Iceberg type syntax of t (as accepted by --schema)."""
    if isinstance(t, Prim):
        return t.name
    if isinstance(t, StructT):
        return "struct<" + ", ".join(
            f"{f.name}: {type_spec(f.type)}{' not null' if f.required else ''}" for f in t.fields) + ">"
    if isinstance(t, ListT):
        return f"list<{type_spec(t.element)}{' not null' if t.element_required else ''}>"
    if isinstance(t, MapT):
        return (f"map<{type_spec(t.key)}, {type_spec(t.value)}"
                f"{' not null' if t.value_required else ''}>")
    raise TypeError(t)


def schema_spec(fields) -> str:
    return ", ".join(f"{f.name} {type_spec(f.type)}{' not null' if f.required else ''}" for f in fields)


# ------------------------------------------------------------- field ids


def assign_ids(fields) -> dict:
    """Iceberg fresh ids: {path tuple: id}. A struct's fields get ids first,
    then each field's type is visited in order; a list's element takes one id
    then is visited; a map's key then value take ids, then key and value are
    visited. Paths use the names "element", "key", "value" for list/map
    children (as ``firn parquet schema`` does)."""
    ids: dict = {}
    counter = [0]

    def nxt():
        counter[0] += 1
        return counter[0]

    def visit_struct(fs, prefix):
        for f in fs:
            ids[prefix + (f.name,)] = nxt()
        for f in fs:
            visit_type(f.type, prefix + (f.name,))

    def visit_type(t, path):
        if isinstance(t, StructT):
            visit_struct(t.fields, path)
        elif isinstance(t, ListT):
            ids[path + ("element",)] = nxt()
            visit_type(t.element, path + ("element",))
        elif isinstance(t, MapT):
            ids[path + ("key",)] = nxt()
            ids[path + ("value",)] = nxt()
            visit_type(t.key, path + ("key",))
            visit_type(t.value, path + ("value",))

    visit_struct(list(fields), ())
    return ids


def schema_lines(fields, ids: dict | None = None) -> list[str]:
    """The expected output lines of ``firn parquet schema``."""
    out: list[str] = []

    def tname(t):
        if isinstance(t, Prim):
            return t.name.replace(" ", "")
        return {StructT: "struct", ListT: "list", MapT: "map"}[type(t)]

    def line(name, t, required, path, depth):
        s = "  " * depth + f"{name}: {tname(t)}"
        if required:
            s += " not null"
        if ids is not None and path in ids:
            s += f" (id {ids[path]})"
        out.append(s)
        if isinstance(t, StructT):
            for f in t.fields:
                line(f.name, f.type, f.required, path + (f.name,), depth + 1)
        elif isinstance(t, ListT):
            line("element", t.element, t.element_required, path + ("element",), depth + 1)
        elif isinstance(t, MapT):
            line("key", t.key, True, path + ("key",), depth + 1)
            line("value", t.value, t.value_required, path + ("value",), depth + 1)

    for f in fields:
        line(f.name, f.type, f.required, (f.name,), 0)
    return out


# ------------------------------------------------------- arrow mapping


def arrow_type(t, ids: dict | None = None, path: tuple = (), uuid_ext: bool = False) -> pa.DataType:
    """The pyarrow type of Iceberg type t (uuid as fixed_size_binary(16), or
    the arrow.uuid extension with uuid_ext). Fields carry PARQUET:field_id
    metadata from ids."""
    def md(p):
        if ids is not None and p in ids:
            return {b"PARQUET:field_id": str(ids[p]).encode()}
        return None

    if isinstance(t, Prim):
        b = t.base
        simple = {
            "boolean": pa.bool_(), "int": pa.int32(), "long": pa.int64(),
            "float": pa.float32(), "double": pa.float64(), "date": pa.date32(),
            "time": pa.time64("us"), "timestamp": pa.timestamp("us"),
            "timestamptz": pa.timestamp("us", tz="UTC"), "timestamp_ns": pa.timestamp("ns"),
            "timestamptz_ns": pa.timestamp("ns", tz="UTC"), "string": pa.string(),
            "uuid": pa.uuid() if uuid_ext else pa.binary(16), "binary": pa.binary(),
        }
        if b in simple:
            return simple[b]
        if b == "decimal":
            return pa.decimal128(t.precision, t.scale)
        if b == "fixed":
            return pa.binary(t.length)
        raise TypeError(t)
    if isinstance(t, StructT):
        return pa.struct([pa.field(f.name, arrow_type(f.type, ids, path + (f.name,), uuid_ext),
                                   nullable=not f.required, metadata=md(path + (f.name,)))
                          for f in t.fields])
    if isinstance(t, ListT):
        p = path + ("element",)
        return pa.list_(pa.field("element", arrow_type(t.element, ids, p, uuid_ext),
                                 nullable=not t.element_required, metadata=md(p)))
    if isinstance(t, MapT):
        pk, pv = path + ("key",), path + ("value",)
        return pa.map_(pa.field("key", arrow_type(t.key, ids, pk, uuid_ext), nullable=False, metadata=md(pk)),
                       pa.field("value", arrow_type(t.value, ids, pv, uuid_ext),
                                nullable=not t.value_required, metadata=md(pv)))
    raise TypeError(t)


def arrow_schema(fields, ids: dict | None = None, uuid_ext: bool = False) -> pa.Schema:
    out = []
    for f in fields:
        p = (f.name,)
        md = {b"PARQUET:field_id": str(ids[p]).encode()} if ids is not None and p in ids else None
        out.append(pa.field(f.name, arrow_type(f.type, ids, p, uuid_ext), nullable=not f.required, metadata=md))
    return pa.schema(out)


def build_table(fields, raw_rows, ids: dict | None = None, uuid_ext: bool = True) -> pa.Table:
    """A pyarrow Table of raw rows (uuid columns as arrow.uuid, so that
    pyarrow writes the UUID logical type)."""
    storage = arrow_schema(fields, ids, uuid_ext=False)
    final = arrow_schema(fields, ids, uuid_ext=uuid_ext)
    cols = []
    for f in fields:
        arr = pa.array([r.get(f.name) for r in raw_rows], type=storage.field(f.name).type)
        if final.field(f.name).type != arr.type:
            arr = arr.cast(final.field(f.name).type)
        cols.append(arr)
    return pa.Table.from_arrays(cols, schema=final)


def iceberg_of(at: pa.DataType):
    """The Iceberg type a pyarrow type maps to (for files the reference
    writers made). Narrow ints are "int", uint32 "long", uint64
    "decimal(20,0)" (no Iceberg integer holds it; a decimal does, exactly);
    s/ms timestamps are micros types; ms times micros."""
    if isinstance(at, pa.BaseExtensionType):
        if at.extension_name == "arrow.uuid":
            return P("uuid")
        return iceberg_of(at.storage_type)
    if pa.types.is_dictionary(at):
        return iceberg_of(at.value_type)
    if pa.types.is_boolean(at):
        return P("boolean")
    if at in (pa.int8(), pa.int16(), pa.int32(), pa.uint8(), pa.uint16()):
        return P("int")
    if at in (pa.int64(), pa.uint32()):
        return P("long")
    if at == pa.uint64():
        return P("decimal(20,0)")
    if at == pa.float32():
        return P("float")
    if at == pa.float64():
        return P("double")
    if pa.types.is_decimal(at):
        return P(f"decimal({at.precision},{at.scale})")
    if pa.types.is_date(at):
        return P("date")
    if pa.types.is_time(at):
        return P("time")
    if pa.types.is_timestamp(at):
        base = "timestamptz" if at.tz is not None else "timestamp"
        return P(base + "_ns" if at.unit == "ns" else base)
    if pa.types.is_string(at) or pa.types.is_large_string(at) or pa.types.is_string_view(at):
        return P("string")
    if pa.types.is_fixed_size_binary(at):
        return P(f"fixed[{at.byte_width}]")
    if pa.types.is_binary(at) or pa.types.is_large_binary(at) or pa.types.is_binary_view(at):
        return P("binary")
    if pa.types.is_struct(at):
        return StructT(tuple(Field(at.field(i).name, iceberg_of(at.field(i).type), not at.field(i).nullable)
                             for i in range(at.num_fields)))
    if pa.types.is_map(at):
        return MapT(iceberg_of(at.key_type), iceberg_of(at.item_type), not at.item_field.nullable)
    if pa.types.is_list(at) or pa.types.is_large_list(at) or pa.types.is_fixed_size_list(at) \
            or pa.types.is_list_view(at):
        return ListT(iceberg_of(at.value_type), not at.value_field.nullable)
    raise TypeError(f"no Iceberg type for {at}")


def iceberg_fields_of(schema: pa.Schema) -> list[Field]:
    return [Field(f.name, iceberg_of(f.type), not f.nullable) for f in schema]


# ---------------------------------------------------- arrow -> raw values

_UNIT_TO_MICROS = {"s": 1_000_000, "ms": 1000, "us": 1}


def arrow_raw(arr, t=None) -> list:
    """Raw values (see module doc) of a pyarrow Array/ChunkedArray. t is the
    Iceberg type to read the values as (default: iceberg_of(arr.type))."""
    if isinstance(arr, pa.ChunkedArray):
        out: list = []
        for ch in arr.chunks:
            out.extend(arrow_raw(ch, t))
        return out
    at = arr.type
    if pa.types.is_dictionary(at):
        arr = arr.dictionary_decode()
        at = arr.type
    if isinstance(at, pa.BaseExtensionType):
        if t is None:
            t = iceberg_of(at)
        arr = arr.storage
        at = arr.type
    if t is None:
        t = iceberg_of(at)
    valid = arr.is_valid().to_pylist() if arr.null_count else [True] * len(arr)

    if isinstance(t, StructT):
        children = arr.flatten()
        names = [at.field(i).name for i in range(at.num_fields)]
        cols = {}
        for f in t.fields:
            cols[f.name] = arrow_raw(children[names.index(f.name)], f.type)
        return [({f.name: cols[f.name][i] for f in t.fields} if valid[i] else None)
                for i in range(len(arr))]
    if isinstance(t, MapT):
        offs = arr.offsets.to_pylist()
        entries = arr.values
        ek, ev = entries.flatten()
        keys = arrow_raw(ek, t.key)
        vals = arrow_raw(ev, t.value)
        return [(list(zip(keys[offs[i]:offs[i + 1]], vals[offs[i]:offs[i + 1]])) if valid[i] else None)
                for i in range(len(arr))]
    if isinstance(t, ListT):
        if pa.types.is_fixed_size_list(at):
            arr = arr.cast(pa.list_(at.value_field))
        offs = arr.offsets.to_pylist()
        vals = arrow_raw(arr.values, t.element)
        return [(vals[offs[i]:offs[i + 1]] if valid[i] else None) for i in range(len(arr))]

    b = t.base
    if pa.types.is_timestamp(at):
        ints = arr.cast(pa.int64()).to_pylist()
        if b.endswith("_ns"):
            mul = {"ns": 1, "us": 1000, "ms": 1_000_000, "s": 1_000_000_000}[at.unit]
            return [None if v is None else v * mul for v in ints]
        if at.unit == "ns":
            return [None if v is None else v // 1000 for v in ints]
        return [None if v is None else v * _UNIT_TO_MICROS[at.unit] for v in ints]
    if pa.types.is_time(at):
        ints = arr.cast(pa.int64() if at.bit_width == 64 else pa.int32()).to_pylist()
        if at.unit == "ns":
            return [None if v is None else v // 1000 for v in ints]
        return [None if v is None else v * _UNIT_TO_MICROS[at.unit] for v in ints]
    if pa.types.is_date32(at):
        return arr.cast(pa.int32()).to_pylist()
    if pa.types.is_date64(at):
        return [None if v is None else v // 86_400_000 for v in arr.cast(pa.int64()).to_pylist()]
    vals = arr.to_pylist()
    if b == "uuid":
        return [None if v is None else (_uuid.UUID(v).bytes if isinstance(v, str) else
                                         v.bytes if isinstance(v, _uuid.UUID) else bytes(v)) for v in vals]
    if b in ("fixed", "binary"):
        return [None if v is None else bytes(v) for v in vals]
    if b == "decimal":
        return [None if v is None else decimal.Decimal(v) for v in vals]
    if b in ("float", "double"):
        return [None if v is None else float(v) for v in vals]
    return vals


# ------------------------------------------------------------ the forms

_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()


def date_form(days: int) -> str:
    return _dt.date.fromordinal(_EPOCH_ORDINAL + days).isoformat()


def time_form(micros: int) -> str:
    s, us = divmod(micros, 1_000_000)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}.{us:06d}"


def timestamp_form(v: int, nanos: bool = False, tz: bool = False) -> str:
    per_sec = 1_000_000_000 if nanos else 1_000_000
    secs, frac = divmod(v, per_sec)
    days, sod = divmod(secs, 86400)
    d = _dt.date.fromordinal(_EPOCH_ORDINAL + days).isoformat()
    h, rem = divmod(sod, 3600)
    m, s = divmod(rem, 60)
    f = f"{frac:09d}" if nanos else f"{frac:06d}"
    return f"{d}T{h:02d}:{m:02d}:{s:02d}.{f}" + ("+00:00" if tz else "")


def decimal_form(d: decimal.Decimal, scale: int) -> str:
    q = d.quantize(decimal.Decimal(1).scaleb(-scale), context=_DEC_CTX)
    if q != d:
        raise ValueError(f"{d} has more than {scale} fraction digits")
    s = format(q, "f")
    if s.startswith("-") and q == 0:
        s = s[1:]
    return s


def float_form(x: float):
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def form(t, v):
    """JSON form (as json.loads would give it) of raw value v of Iceberg type t."""
    if v is None:
        return None
    if isinstance(t, StructT):
        return {f.name: form(f.type, v.get(f.name)) for f in t.fields}
    if isinstance(t, ListT):
        return [form(t.element, e) for e in v]
    if isinstance(t, MapT):
        if isinstance(t.key, Prim) and t.key.base == "string":
            return {form(t.key, k): form(t.value, x) for k, x in v}
        return [{"key": form(t.key, k), "value": form(t.value, x)} for k, x in v]
    b = t.base
    if b == "boolean":
        return bool(v)
    if b in ("int", "long"):
        return int(v)
    if b in ("float", "double"):
        return float_form(float(v))
    if b == "decimal":
        return decimal_form(decimal.Decimal(v), t.scale)
    if b == "date":
        return date_form(v)
    if b == "time":
        return time_form(v)
    if b in ("timestamp", "timestamptz", "timestamp_ns", "timestamptz_ns"):
        return timestamp_form(v, nanos=b.endswith("_ns"), tz=b.startswith("timestamptz"))
    if b == "string":
        return v
    if b == "uuid":
        return str(_uuid.UUID(bytes=bytes(v)))
    if b in ("fixed", "binary"):
        return bytes(v).hex()
    raise TypeError(t)


def arrow_forms(arr, t=None) -> list:
    """Forms of every value of a pyarrow array (the reference side)."""
    if t is None:
        at = arr.type
        t = iceberg_of(at)
    return [form(t, v) for v in arrow_raw(arr, t)]


def table_rows(table: pa.Table, fields=None) -> list[dict]:
    """Rows of forms of a pyarrow Table; fields (Iceberg) default to the
    table's own types."""
    if fields is None:
        fields = iceberg_fields_of(table.schema)
    cols = {f.name: arrow_forms(table.column(f.name), f.type) for f in fields}
    return [{f.name: cols[f.name][i] for f in fields} for i in range(table.num_rows)]


def raw_rows_forms(fields, raw_rows) -> list[dict]:
    return [{f.name: form(f.type, r.get(f.name)) for f in fields} for r in raw_rows]


def jsonl_text(fields, raw_rows) -> str:
    """JSON Lines input for firn parquet convert (print forms). Nulls are
    written as JSON null, except that every third null is left out (missing
    key), which the contract also reads as null."""
    lines = []
    k = 0
    for r in raw_rows:
        obj = {}
        for f in fields:
            v = r.get(f.name)
            if v is None:
                k += 1
                if k % 3 == 0:
                    continue
            obj[f.name] = form(f.type, v)
        lines.append(json.dumps(obj, ensure_ascii=False, allow_nan=False))
    return "".join(line + "\n" for line in lines)


# -------------------------------------------------- firn output parsing


class FloatText(float):
    """A float that remembers the text it was parsed from."""

    def __new__(cls, text):
        obj = super().__new__(cls, text)
        obj.text = text
        return obj


class IntText(int):
    def __new__(cls, text):
        obj = super().__new__(cls, text)
        obj.text = text
        return obj


def parse_jsonl(text: str) -> list:
    """Parses firn's JSON Lines output, keeping number texts."""
    rows = []
    for i, line in enumerate(text.splitlines()):
        if not line.strip():
            raise AssertionError(f"blank line {i + 1} in JSON Lines output")
        rows.append(json.loads(line, parse_float=FloatText, parse_int=IntText))
    return rows


def f32(x: float) -> float:
    """x rounded to the nearest float32 (overflow to infinity)."""
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def _sig_digits(text: str) -> int:
    m = re.fullmatch(r"-?(\d*)(?:\.(\d*))?(?:[eE][-+]?\d+)?", text)
    if not m:
        return 99
    digits = (m.group(1) or "") + (m.group(2) or "")
    digits = digits.lstrip("0").rstrip("0")
    return max(len(digits), 1)


def shortest_digits(x: float, single: bool) -> int:
    if x == 0:
        return 1
    if not single:
        return _sig_digits(repr(x))
    for d in range(1, 10):
        if f32(float(f"{x:.{d - 1}e}")) == x:
            return d
    return 9


class Mismatch(AssertionError):
    pass


def _cmp(actual, expected, t, path: str, errors: list):
    if len(errors) > 20:
        return
    if expected is None or actual is None:
        if not (expected is None and actual is None):
            errors.append(f"{path}: got {actual!r}, expected {expected!r}")
        return
    if isinstance(t, StructT):
        if not isinstance(actual, dict):
            errors.append(f"{path}: got {actual!r}, expected object {expected!r}")
            return
        if list(actual.keys()) != [f.name for f in t.fields]:
            errors.append(f"{path}: keys {list(actual.keys())}, expected {[f.name for f in t.fields]}")
        for f in t.fields:
            _cmp(actual.get(f.name), expected[f.name], f.type, f"{path}.{f.name}", errors)
        return
    if isinstance(t, ListT):
        if not isinstance(actual, list) or len(actual) != len(expected):
            errors.append(f"{path}: got {actual!r}, expected {expected!r}")
            return
        for i, (a, e) in enumerate(zip(actual, expected)):
            _cmp(a, e, t.element, f"{path}[{i}]", errors)
        return
    if isinstance(t, MapT):
        if isinstance(expected, dict):
            if not isinstance(actual, dict) or list(actual.keys()) != list(expected.keys()):
                errors.append(f"{path}: got {actual!r}, expected {expected!r}")
                return
            for k in expected:
                _cmp(actual[k], expected[k], t.value, f"{path}[{k!r}]", errors)
        else:
            if not isinstance(actual, list) or len(actual) != len(expected):
                errors.append(f"{path}: got {actual!r}, expected {expected!r}")
                return
            for i, (a, e) in enumerate(zip(actual, expected)):
                if not isinstance(a, dict) or sorted(a.keys()) != ["key", "value"]:
                    errors.append(f"{path}[{i}]: got {a!r}, expected {e!r}")
                    continue
                _cmp(a["key"], e["key"], t.key, f"{path}[{i}].key", errors)
                _cmp(a["value"], e["value"], t.value, f"{path}[{i}].value", errors)
        return
    b = t.base
    if b in ("float", "double"):
        single = b == "float"
        if isinstance(expected, str):
            if actual != expected:
                errors.append(f"{path}: got {actual!r}, expected {expected!r}")
            return
        if isinstance(actual, bool) or not isinstance(actual, (int, float)):
            errors.append(f"{path}: got {actual!r}, expected number {expected!r}")
            return
        # the text reads back as strtod would read it ("-0" is -0.0)
        a = float(actual.text) if hasattr(actual, "text") else float(actual)
        if single:
            a = f32(a)
        if a != expected or math.copysign(1, a) != math.copysign(1, expected):
            errors.append(f"{path}: got {getattr(actual, 'text', actual)!r}, expected {expected!r}")
            return
        text = getattr(actual, "text", None)
        if text is not None and _sig_digits(text) > shortest_digits(expected, single):
            errors.append(f"{path}: {text!r} is not the shortest text for {expected!r}")
        return
    if b in ("int", "long"):
        if isinstance(actual, bool) or not isinstance(actual, int) or int(actual) != expected:
            errors.append(f"{path}: got {actual!r}, expected {expected!r}")
        return
    if b == "boolean":
        if actual is not expected:
            errors.append(f"{path}: got {actual!r}, expected {expected!r}")
        return
    # decimal, date, time, timestamps, string, uuid, hex: exact strings
    if actual != expected or not isinstance(actual, str):
        errors.append(f"{path}: got {actual!r}, expected {expected!r}")


def compare_value(actual, expected, t, path="value") -> list[str]:
    errors: list = []
    _cmp(actual, expected, t, path, errors)
    return errors


def assert_rows_equal(actual_rows, expected_rows, fields, what="rows"):
    """actual_rows: parsed firn output (or reference forms); expected_rows:
    forms. Fields are compared in the given order, keys must match exactly."""
    errors = []
    if len(actual_rows) != len(expected_rows):
        errors.append(f"{what}: {len(actual_rows)} rows, expected {len(expected_rows)}")
    names = [f.name for f in fields]
    for i, (a, e) in enumerate(zip(actual_rows, expected_rows)):
        if not isinstance(a, dict):
            errors.append(f"row {i}: not an object: {a!r}")
            continue
        if list(a.keys()) != names:
            errors.append(f"row {i}: keys {list(a.keys())}, expected {names}")
        for f in fields:
            errors.extend(compare_value(a.get(f.name, "<missing>"), e[f.name], f.type, f"row {i}.{f.name}"))
        if len(errors) > 20:
            break
    if errors:
        raise Mismatch(f"{what}: {len(errors)} difference(s):\n  " + "\n  ".join(errors[:20]))


def assert_column_equal(actual, expected, t, what="column"):
    errors = []
    if len(actual) != len(expected):
        errors.append(f"{len(actual)} values, expected {len(expected)}")
    for i, (a, e) in enumerate(zip(actual, expected)):
        errors.extend(compare_value(a, e, t, f"[{i}]"))
        if len(errors) > 20:
            break
    if errors:
        raise Mismatch(f"{what}: " + "\n  ".join(errors[:20]))


# ------------------------------------------- leaves, levels and statistics


def leaf_paths(fields) -> list[tuple[str, Any]]:
    """(parquet dotted path, leaf Iceberg type) in file column order. Lists
    are 3-level ("x.list.element"), maps "x.key_value.key"/".value"."""
    out = []

    def visit(t, path):
        if isinstance(t, StructT):
            for f in t.fields:
                visit(f.type, f"{path}.{f.name}")
        elif isinstance(t, ListT):
            visit(t.element, f"{path}.list.element")
        elif isinstance(t, MapT):
            visit(t.key, f"{path}.key_value.key")
            visit(t.value, f"{path}.key_value.value")
        else:
            out.append((path, t))

    for f in fields:
        visit(f.type, f.name)
    return out


def leaf_entries(fields, raw_rows) -> dict[str, list]:
    """Per leaf path, the level entries (value, or None for any null/empty
    level) the way a Parquet writer emits them: num_values is their count,
    null_count the number of Nones."""
    entries: dict = {p: [] for p, _ in leaf_paths(fields)}

    def leaves_under(t, path):
        return [p for p, _ in leaf_paths([Field(path, t)])]

    def emit(t, v, path):
        if isinstance(t, StructT):
            if v is None:
                for p in leaves_under(t, path):
                    entries[p].append(None)
            else:
                for f in t.fields:
                    emit(f.type, v.get(f.name), f"{path}.{f.name}")
        elif isinstance(t, ListT):
            if not v:
                for p in leaves_under(t, path):
                    entries[p].append(None)
            else:
                for e in v:
                    emit(t.element, e, f"{path}.list.element")
        elif isinstance(t, MapT):
            if not v:
                for p in leaves_under(t, path):
                    entries[p].append(None)
            else:
                for k, x in v:
                    emit(t.key, k, f"{path}.key_value.key")
                    emit(t.value, x, f"{path}.key_value.value")
        else:
            entries[path].append(v)

    for r in raw_rows:
        for f in fields:
            emit(f.type, r.get(f.name), f.name)
    return entries


def decimal_physical(t: Prim) -> str:
    p = t.precision
    return "INT32" if p <= 9 else "INT64" if p <= 18 else "FIXED_LEN_BYTE_ARRAY"


def decimal_flba_len(p: int) -> int:
    n = 1
    while 2 ** (8 * n - 1) < 10 ** p:
        n += 1
    return n


PHYSICAL = {
    "boolean": "BOOLEAN", "int": "INT32", "long": "INT64", "float": "FLOAT", "double": "DOUBLE",
    "date": "INT32", "time": "INT64", "timestamp": "INT64", "timestamptz": "INT64",
    "timestamp_ns": "INT64", "timestamptz_ns": "INT64", "string": "BYTE_ARRAY",
    "uuid": "FIXED_LEN_BYTE_ARRAY", "fixed": "FIXED_LEN_BYTE_ARRAY", "binary": "BYTE_ARRAY",
}


def physical_type(t: Prim) -> str:
    return decimal_physical(t) if t.base == "decimal" else PHYSICAL[t.base]


def sort_key(t: Prim, v):
    """Order of values of t as Parquet statistics order them."""
    b = t.base
    if b == "decimal":
        return decimal.Decimal(v)
    if b == "string":
        return v.encode("utf-8")
    if b in ("uuid", "fixed", "binary"):
        return bytes(v)
    return v


def expected_stats(t: Prim, values: list):
    """(null_count, min raw, max raw) of a leaf's level entries; min/max are
    None when there are no non-null non-NaN values."""
    nulls = sum(1 for v in values if v is None)
    vals = [v for v in values if v is not None]
    if t.base in ("float", "double"):
        vals = [v for v in vals if not math.isnan(v)]
    if not vals:
        return nulls, None, None
    lo = min(vals, key=lambda v: sort_key(t, v))
    hi = max(vals, key=lambda v: sort_key(t, v))
    if t.base in ("float", "double"):
        if lo == 0:
            lo = -0.0
        if hi == 0:
            hi = 0.0
    return nulls, lo, hi


def raw_from_physical(t: Prim, raw):
    """Converts a Parquet physical statistics value (as pyarrow's min_raw
    gives it: int/float/bool/bytes) into the raw value of Iceberg type t."""
    if raw is None:
        return None
    b = t.base
    if b == "decimal":
        if isinstance(raw, (bytes, bytearray)):
            unscaled = int.from_bytes(raw, "big", signed=True)
        else:
            unscaled = int(raw)
        return decimal.Decimal(unscaled).scaleb(-t.scale, context=_DEC_CTX)
    if b == "string":
        return raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
    if b in ("uuid", "fixed", "binary"):
        return bytes(raw) if not isinstance(raw, str) else raw.encode("latin-1")
    return raw


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()
