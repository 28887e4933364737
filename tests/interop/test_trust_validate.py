"""What firn trusts and what it checks: table properties (checked when set,
safe when another engine wrote a bad one), table metadata on load (ids,
names, the ids its parts name each other by), schemas whose full dotted
names collide (PyIceberg refuses them), and partition transforms at the
extremes of every type, judged by PyIceberg's transforms (the spec where
PyIceberg returns a number the partition field cannot hold), with filters
projected through each transform never missing a row."""
from __future__ import annotations

import copy
import decimal
import json
import subprocess
from pathlib import Path

import fastavro
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ice
from firnrun import assert_error

I32 = 2**31
I64 = 2**63


@pytest.fixture
def wh(tmp):
    d = tmp / "wh"
    d.mkdir()
    return d


def firn(run_firn, wh, *args, **kw):
    return run_firn("--warehouse", wh, *args, **kw)


def meta_location(run_firn, wh, name):
    return ice.describe(run_firn, wh, name)["metadata-location"]


def table_names(run_firn, wh, ns="db"):
    return firn(run_firn, wh, "tables", ns).stdout.split()


# ---- 1. table properties ---------------------------------------------------

BAD_PROPERTIES = [
    ("commit.retry.min-wait-ms", "-2"), ("commit.retry.max-wait-ms", "abc"),
    ("commit.retry.num-retries", "-1"), ("commit.retry.num-retries", "1e3"),
    ("write.target-file-size-bytes", "0"), ("write.parquet.compression-codec", "zip"),
    ("write.parquet.compression-level", "99"), ("write.parquet.row-group-size-bytes", "-5"),
    ("write.parquet.page-size-bytes", "99999999999"), ("write.parquet.page-row-limit", "0"),
    ("write.parquet.dict-size-bytes", "12 "), ("write.avro.compression-codec", "lz4"),
    ("write.delete.mode", "fast"), ("write.update.mode", "COPY-ON-WRITE"), ("write.merge.mode", "merge"),
    ("firn.write.cow-threshold", "1.5"), ("firn.write.cow-threshold", "nan"),
    ("firn.compact.delete-ratio", "-0.1"), ("firn.compact.max-delete-files", "x"),
    ("history.expire.min-snapshots-to-keep", "0"), ("history.expire.max-snapshot-age-ms", "-1"),
    ("history.expire.max-ref-age-ms", "9223372036854775808"),
    ("write.metadata.previous-versions-max", "0"), ("write.metadata.delete-after-commit.enabled", "yes"),
]

GOOD_PROPERTIES = [
    ("commit.retry.min-wait-ms", "0"), ("write.delete.mode", "merge-on-read"),
    ("write.parquet.compression-codec", "SNAPPY"), ("firn.write.cow-threshold", "0.25"),
    ("history.expire.max-ref-age-ms", "9223372036854775807"), ("my.own.key", "-2"),
]


def test_bad_properties_are_refused_on_create_and_alter(run_firn, wh):
    firn(run_firn, wh, "namespace", "create", "db")
    firn(run_firn, wh, "create", "db.t", "--schema", "id long")
    before = Path(meta_location(run_firn, wh, "db.t")).read_text()
    for k, v in BAD_PROPERTIES:
        res = firn(run_firn, wh, "create", "db.x", "--schema", "id long", "--property", f"{k}={v}", check=False)
        assert_error(res, mentions=[f"{k}={v}"])
        assert "db.x" not in table_names(run_firn, wh)
        res = firn(run_firn, wh, "alter", "db.t", "set-property", f"{k}={v}", check=False)
        assert_error(res, mentions=[f"{k}={v}"])
        assert Path(meta_location(run_firn, wh, "db.t")).read_text() == before
    for k, v in GOOD_PROPERTIES:
        firn(run_firn, wh, "alter", "db.t", "set-property", f"{k}={v}")
    props = ice.describe(run_firn, wh, "db.t")["properties"]
    assert {k: props[k] for k, _ in GOOD_PROPERTIES} == dict(GOOD_PROPERTIES)


def test_register_refuses_bad_properties(run_firn, wh):
    firn(run_firn, wh, "namespace", "create", "db")
    firn(run_firn, wh, "create", "db.t", "--schema", "id long")
    meta = json.loads(Path(meta_location(run_firn, wh, "db.t")).read_text())
    for n, (k, v) in enumerate(BAD_PROPERTIES[:8]):
        m = copy.deepcopy(meta)
        m["properties"][k] = v
        p = wh / f"bad-{n}.metadata.json"
        p.write_text(json.dumps(m))
        assert_error(firn(run_firn, wh, "register", "db.r", p, check=False), mentions=[p.name, f"{k}={v}"])
        assert "db.r" not in table_names(run_firn, wh)


def test_bad_properties_from_another_engine_fall_back(run_firn, wh, firn_bin):
    """A metadata file edited (as another engine could write it) to carry
    commit.retry.min-wait-ms=-2: two racing appenders lose races and back
    off without dividing by zero; the other bad values read as defaults."""
    firn(run_firn, wh, "namespace", "create", "db")
    firn(run_firn, wh, "create", "db.c", "--schema", "w int not null, k int not null",
         "--property", "commit.retry.num-retries=100")
    loc = Path(meta_location(run_firn, wh, "db.c"))
    m = json.loads(loc.read_text())
    m["properties"].update({"commit.retry.min-wait-ms": "-2",
                            "write.parquet.page-row-limit": "0", "write.target-file-size-bytes": "-1",
                            "firn.write.cow-threshold": "nan"})
    loc.write_text(json.dumps(m))
    script = (
        "set -e\n"
        "for k in $(seq 1 30); do printf 'w,k\\n%s,%s\\n' $1 $k > $TMPD/in-$1-$k.csv; "
        f"'{firn_bin}' --warehouse '{wh}' append db.c $TMPD/in-$1-$k.csv > /dev/null; done\n")
    procs = [subprocess.Popen(["bash", "-c", script, "x", str(w)], env={"TMPD": str(wh), "PATH": "/usr/bin:/bin"},
                              stderr=subprocess.PIPE) for w in range(2)]
    outs = [p.communicate(timeout=600)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    rows = ice.pyiceberg_rows(wh, "db.c")
    assert sorted(rows) == sorted((w, k) for w in range(2) for k in range(1, 31))
    firn(run_firn, wh, "delete", "db.c", "--where", "k = 1")
    assert int(firn(run_firn, wh, "count", "db.c").stdout) == 58


# ---- 2. metadata checked on load -------------------------------------------

def _fields(m):
    return m["schemas"][0]["fields"]


CORRUPTIONS = [
    ("negative id", lambda m: _fields(m)[0].update(id=-1), "schema 0: field 'id': id -1 is not positive"),
    ("zero id", lambda m: _fields(m)[1].update(id=0), "field 'name': id 0 is not positive"),
    ("duplicate id", lambda m: _fields(m)[1].update(id=1), "field id 1 is used twice"),
    ("duplicate list element id", lambda m: _fields(m)[2]["type"].update({"element-id": 2}), "field id 2 is used twice"),
    ("negative map value id", lambda m: _fields(m)[3]["type"].update({"value-id": -5}),
     "field 'attrs.value': id -5 is not positive"),
    ("empty name", lambda m: _fields(m)[1].update(name=""), "empty name"),
    ("duplicate name", lambda m: _fields(m)[1].update(name="id"), "full name 'id'"),
    ("dotted name collision", lambda m: _fields(m)[1].update(name="loc.lat"), "full name 'loc.lat'"),
    ("current-schema-id", lambda m: m.update({"current-schema-id": 9}), "current-schema-id 9"),
    ("default-spec-id", lambda m: m.update({"default-spec-id": 9}), "default-spec-id 9"),
    ("default-sort-order-id", lambda m: m.update({"default-sort-order-id": 9}), "default-sort-order-id 9"),
    ("ref", lambda m: m["refs"].update(old={"snapshot-id": 12345, "type": "tag"}), "ref 'old': snapshot 12345"),
    ("current-snapshot-id", lambda m: m.update({"current-snapshot-id": 12345}), "current-snapshot-id 12345"),
    ("snapshot schema-id", lambda m: m["snapshots"][0].update({"schema-id": 9}), "schema-id 9 names no schema"),
    ("spec source-id", lambda m: m["partition-specs"][0]["fields"][0].update({"source-id": 99}),
     "partition spec 0: field 'id_bucket_4': source-id 99"),
    ("sort source-id", lambda m: m["sort-orders"][1]["fields"][0].update({"source-id": 99}), "sort order 1: source-id 99"),
    ("format version 4", lambda m: m.update({"format-version": 4}), "format version 4"),
    ("format version 0", lambda m: m.update({"format-version": 0}), "format version 0"),
]


@pytest.mark.parametrize("case", CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS])
def test_corrupt_metadata_is_one_line_not_a_crash(run_firn, wh, case):
    _, corrupt, message = case
    firn(run_firn, wh, "namespace", "create", "db")
    firn(run_firn, wh, "create", "db.t", "--schema",
         "id long, name string, tags list<string>, attrs map<string, int>, loc struct<lat: double>",
         "--partition-by", "bucket(4, id)", "--sort-by", "id")
    p = wh / "in.jsonl"
    p.write_text('{"id": 1, "name": "a", "tags": ["x"], "attrs": {"k": 1}, "loc": {"lat": 1.5}}\n')
    firn(run_firn, wh, "append", "db.t", p)
    loc = Path(meta_location(run_firn, wh, "db.t"))
    m = json.loads(loc.read_text())
    corrupt(m)
    bad = wh / "00009-bad.metadata.json"
    bad.write_text(json.dumps(m))
    assert_error(firn(run_firn, wh, "register", "db.r", bad, check=False), mentions=[bad.name, message])
    assert "db.r" not in table_names(run_firn, wh)
    loc.write_text(json.dumps(m))  # swapped in behind firn's back
    for cmd in (["scan", "db.t"], ["count", "db.t"], ["describe", "db.t"], ["files", "db.t"]):
        assert_error(firn(run_firn, wh, *cmd, check=False), mentions=[loc.name, message])


# ---- 3. full dotted names ----------------------------------------------------

COLLIDING_SCHEMAS = [
    ("a.b int, a struct<b: int>", "a.b"),
    ("a struct<b: int>, a.b int", "a.b"),
    ("s struct<`x.y`: int, x struct<y: int>>", "s.x.y"),
    ("s struct<x struct<y: int>>, `s.x.y` string", "s.x.y"),
    ("l list<struct<a: int>>, `l.element.a` int", "l.element.a"),
    ("`m.value` int, m map<string, int>", "m.value"),
]

VALID_DOTTED_SCHEMAS = [
    "a.b int, a struct<c: int>",
    "a_b int, a struct<b: int>",
    "`x.y.z` int, x struct<y: struct<w: int>>",
    "l list<int>, `l.elements` int",
]


def test_colliding_full_names_are_refused(run_firn, wh):
    firn(run_firn, wh, "namespace", "create", "db")
    for spec, name in COLLIDING_SCHEMAS:
        res = firn(run_firn, wh, "create", "db.x", "--schema", spec, check=False)
        assert_error(res, mentions=[f"full name '{name}'"])
        assert "db.x" not in table_names(run_firn, wh)
    for k, spec in enumerate(VALID_DOTTED_SCHEMAS):
        firn(run_firn, wh, "create", f"db.ok{k}", "--schema", spec)
    # add-column and rename-column, both orders
    firn(run_firn, wh, "create", "db.a1", "--schema", "a struct<c: int>, n int")
    firn(run_firn, wh, "create", "db.a2", "--schema", "a.b int, s struct<b: int>")
    firn(run_firn, wh, "create", "db.a3", "--schema", "a.c int, a struct<d: int>")
    refused = [("db.a1", ["add-column", "a.c long"]),       # a.c exists: a struct field
               ("db.a2", ["rename-column", "s", "a"]),      # s.b would read as a.b
               ("db.a3", ["rename-column", "a.d", "c"])]    # a.d -> a.c beside `a.c`
    for name, change in refused:
        loc = meta_location(run_firn, wh, name)
        res = firn(run_firn, wh, "alter", name, *change, check=False)
        assert_error(res, mentions=[change[0]])
        assert meta_location(run_firn, wh, name) == loc
    assert_error(firn(run_firn, wh, "alter", "db.a2", "rename-column", "s", "a", check=False),
                 mentions=["full name 'a.b'"])
    firn(run_firn, wh, "alter", "db.a1", "add-column", "a.b long")
    firn(run_firn, wh, "alter", "db.a2", "rename-column", "s", "t")
    firn(run_firn, wh, "alter", "db.a3", "rename-column", "a.d", "e")
    # PyIceberg loads every table firn accepted
    cat = ice.catalog(wh)
    names = table_names(run_firn, wh)
    assert len(names) == len(VALID_DOTTED_SCHEMAS) + 3
    for n in names:
        assert cat.load_table(n).schema().fields


# ---- 4. transforms at the extremes -------------------------------------------

def civil_from_days(z: int):
    """Proleptic Gregorian (y, m, d) of days since 1970-01-01, any range."""
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return y + (m <= 2), m, d


def year_text(y):
    return f"{y:04d}" if 0 <= y <= 9999 else (f"+{y}" if y > 0 else f"-{-y:04d}")


def date_text(days):
    y, m, d = civil_from_days(days)
    return f"{year_text(y)}-{m:02d}-{d:02d}"


def ts_text(us):
    days, rest = divmod(us, 86_400_000_000)
    s, frac = divmod(rest, 1_000_000)
    return f"{date_text(days)}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{frac:06d}"


D38 = 10**38 - 1
MAXDAY = I32 - 1
COLUMN_TYPES = {
    "i": "int", "l": "long", "d": "decimal(38,0)", "e": "decimal(38,10)", "dt": "date",
    "ts": "timestamp", "tz": "timestamptz", "t": "time", "s": "string", "b": "binary",
}
EXTREMES = {
    "i": [-I32, -I32 + 1, -I32 + 9, -11, -10, -1, 0, 1, I32 - 10, I32 - 2, I32 - 1],
    "l": [-I64, -I64 + 1, -I64 + 9, -1, 0, 9, I64 - 10, I64 - 2, I64 - 1],
    "d": [-D38, -D38 + 1, -1, 0, 1, D38 - 1, D38],
    "e": [-D38, -D38 + 9, -5, 0, 5, D38 - 9, D38],
    # int32 day limits, years -9999 and 9999, the µs range of timestamps
    "dt": [-I32, -I32 + 1, -4371587, -1, 0, 2932896, MAXDAY - 1, MAXDAY],
    "ts": [-I64, -I64 + 1, -377705116800000000, -1, 0, 253402300799999999, I64 - 2, I64 - 1],
    "tz": [-I64, -3600000001, -1, 0, 3599999999, I64 - 1],
    "t": [0, 1, 86_399_999_999],
    "s": ["", "a", "ż", "żó", "żół", "żółw", "日本語テキスト", "😀😀", "😀😀😀😀", "\U0010ffff" * 3, "zzzz"],
    "b": [b"", b"\x00", b"\xff", b"\x00\x01", b"\xff\xff\xff", b"\x80" * 5],
}


WIDE = decimal.Context(prec=80)


def dec(unscaled, scale):
    return decimal.Decimal(unscaled).scaleb(-scale, WIDE)


def unscaled(d, scale):
    return int(decimal.Decimal(d).scaleb(scale, WIDE))


def arrow_column(col, values):
    t = COLUMN_TYPES[col]
    if col in ("i", "dt"):
        a = pa.array(values, pa.int32())
        return a.cast(pa.date32()) if col == "dt" else a
    if col in ("l", "ts", "tz", "t"):
        a = pa.array(values, pa.int64())
        return a if col == "l" else a.cast({"ts": pa.timestamp("us"), "tz": pa.timestamp("us", tz="UTC"),
                                            "t": pa.time64("us")}[col])
    if col in ("d", "e"):
        scale = 0 if col == "d" else 10
        return pa.array([None if v is None else dec(v, scale) for v in values],
                        pa.decimal128(38, scale))
    return pa.array(values, pa.string() if t == "string" else pa.binary())


def raw_value(col, arr):
    """A Parquet column back as plain Python values (ints for temporal
    types, unscaled ints for decimals) that no datetime range limits."""
    if col in ("dt",):
        return arr.cast(pa.int32()).to_pylist()
    if col in ("ts", "tz", "t"):
        return arr.cast(pa.int64()).to_pylist()
    if col in ("d", "e"):
        scale = 0 if col == "d" else 10
        return [None if v is None else unscaled(v, scale) for v in arr.to_pylist()]
    return arr.to_pylist()


def raw_avro(path):
    """Avro records without logical-type conversion (fastavro converts by
    the writer's schema; dates beyond Python's range would not convert)."""
    import fastavro._read as fr
    saved = dict(fr.LOGICAL_READERS)
    fr.LOGICAL_READERS.clear()
    try:
        with open(path, "rb") as f:
            return list(fastavro.reader(f))
    finally:
        fr.LOGICAL_READERS.update(saved)


def manifest_partitions(metadata_location):
    """{data file path: its partition tuple} read from the manifests with
    fastavro (no logical types: dates as days, decimals as bytes)."""
    m = json.loads(Path(metadata_location).read_text())
    snap = next(s for s in m["snapshots"] if s["snapshot-id"] == m["current-snapshot-id"])
    out = {}
    for mf in raw_avro(snap["manifest-list"]):
        for e in raw_avro(mf["manifest_path"]):
            if e["status"] != 2:
                out[e["data_file"]["file_path"]] = list(e["data_file"]["partition"].values())
    return out


def clamp(v, bits):
    lo, hi = -2**(bits - 1), 2**(bits - 1) - 1
    return max(lo, min(hi, v))


def reference(kind, param, col, v):
    """The transform by PyIceberg, falling back to the spec's arithmetic
    where PyIceberg's datetime cannot go (years outside 1..9999), and
    saturated where the spec's result does not fit the partition field:
    truncate below the minimum int/long, hour beyond the int range
    (PyIceberg returns the unbounded number, Java wraps around; firn keeps
    the transform monotone so filters still find the row)."""
    from pyiceberg import transforms as T
    from pyiceberg import types as PT
    if v is None or kind == "void":
        return None
    ptype = {"i": PT.IntegerType(), "l": PT.LongType(), "d": PT.DecimalType(38, 0),
             "e": PT.DecimalType(38, 10), "dt": PT.DateType(), "ts": PT.TimestampType(),
             "tz": PT.TimestamptzType(), "t": PT.TimeType(), "s": PT.StringType(),
             "b": PT.BinaryType()}[col]
    tr = {"identity": T.IdentityTransform(), "year": T.YearTransform(), "month": T.MonthTransform(),
          "day": T.DayTransform(), "hour": T.HourTransform()}.get(kind)
    if kind == "bucket":
        tr = T.BucketTransform(param)
    elif kind == "truncate":
        tr = T.TruncateTransform(param)
    arg = v
    if col in ("d", "e"):
        arg = dec(v, 0 if col == "d" else 10)
    try:
        got = tr.transform(ptype)(arg)
    except (OverflowError, ValueError):
        days = v if col == "dt" else v // 86_400_000_000
        y, m, _ = civil_from_days(days)
        got = {"year": y - 1970, "month": (y - 1970) * 12 + m - 1}[kind]
    if col in ("d", "e") and kind in ("identity", "truncate"):
        return unscaled(got, 0 if col == "d" else 10)
    if kind == "truncate" and col in ("i", "l"):
        return clamp(got, 32 if col == "i" else 64)
    if kind == "hour":
        return clamp(got, 32)
    return got


def manifest_value(col, kind, v):
    if v is not None and col in ("d", "e") and kind in ("identity", "truncate"):
        return int.from_bytes(v, "big", signed=True)
    return v


TRANSFORMS = [
    ("identity", 0, "i"), ("bucket", 16, "i"), ("truncate", 10, "i"), ("truncate", 1, "i"),
    ("truncate", I32 - 1, "i"),
    ("identity", 0, "l"), ("bucket", 7, "l"), ("bucket", I32 - 1, "l"), ("truncate", 10, "l"),
    ("truncate", 1000, "l"), ("truncate", I32 - 1, "l"),
    ("bucket", 5, "d"), ("truncate", 10, "d"), ("truncate", 7, "d"), ("identity", 0, "e"),
    ("bucket", 3, "e"), ("truncate", 10, "e"), ("truncate", 50, "e"),
    ("identity", 0, "dt"), ("bucket", 9, "dt"), ("year", 0, "dt"), ("month", 0, "dt"), ("day", 0, "dt"),
    ("identity", 0, "ts"), ("bucket", 11, "ts"), ("year", 0, "ts"), ("month", 0, "ts"), ("day", 0, "ts"),
    ("hour", 0, "ts"), ("year", 0, "tz"), ("month", 0, "tz"), ("day", 0, "tz"), ("hour", 0, "tz"),
    ("bucket", 4, "t"), ("identity", 0, "t"),
    ("identity", 0, "s"), ("bucket", 13, "s"), ("truncate", 1, "s"), ("truncate", 3, "s"),
    ("truncate", 5, "s"), ("identity", 0, "b"), ("bucket", 8, "b"), ("truncate", 2, "b"),
    ("void", 0, "l"), ("void", 0, "s"),
]


def spec_text(kind, param, col):
    if kind == "identity":
        return col
    if kind in ("bucket", "truncate"):
        return f"{kind}({param}, {col})"
    return f"{kind}({col})"


def literal(col, v):
    if col in ("i", "l", "d"):
        return str(v)
    if col == "e":
        return format(dec(v, 10), "f")
    if col == "dt":
        return f"'{date_text(v)}'"
    if col == "ts":
        return f"'{ts_text(v)}'"
    if col == "tz":
        return f"'{ts_text(v)}+00:00'"
    if col == "t":
        s, frac = divmod(v, 1_000_000)
        return f"'{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{frac:06d}'"
    if col == "s":
        return f"'{v}'"
    return f"'{v.hex()}'"


OPS = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, "=": lambda a, b: a == b,
       ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


@pytest.fixture(scope="module")
def extreme_rows():
    n = max(len(v) for v in EXTREMES.values())
    return {c: (vals * n)[:n] + [None] for c, vals in EXTREMES.items()}


@pytest.mark.parametrize("tr", TRANSFORMS, ids=[spec_text(*t) for t in TRANSFORMS])
def test_transforms_at_the_extremes(run_firn, wh, extreme_rows, tr):
    kind, param, col = tr
    firn(run_firn, wh, "namespace", "create", "db")
    schema = ", ".join(f"{c} {t}" for c, t in COLUMN_TYPES.items())
    firn(run_firn, wh, "create", "db.x", "--schema", schema, "--partition-by", spec_text(kind, param, col))
    # one file per column value: the column's extremes each get their own
    # partition whatever the others hold
    data = wh / "in.parquet"
    pq.write_table(pa.table({c: arrow_column(c, v) for c, v in extreme_rows.items()}), data)
    firn(run_firn, wh, "append", "db.x", data)
    parts = manifest_partitions(meta_location(run_firn, wh, "db.x"))
    seen = []
    for path, part in parts.items():
        values = raw_value(col, pq.read_table(path, columns=[col]).column(0))
        for v in values:
            assert manifest_value(col, kind, part[0]) == reference(kind, param, col, v), (path, v, part)
        seen += values
    assert sorted(seen, key=repr) == sorted(extreme_rows[col], key=repr)
    # filters projected through the transform find every row
    truth = [v for v in extreme_rows[col] if v is not None]
    for v in EXTREMES[col]:
        for op, fn in OPS.items():
            got = firn(run_firn, wh, "count", "db.x", "--where", f"{col} {op} {literal(col, v)}").stdout
            assert int(got) == sum(fn(x, v) for x in truth), (col, op, v)
