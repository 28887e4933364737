"""Deterministic random data per Iceberg type, with the edge cases.

Raw values follow forms.py (ints for temporal types in the Iceberg unit,
bytes for uuid/fixed/binary, Decimal for decimals, lists of (key, value)
pairs for maps). Every generator is seeded; the same seed gives the same
rows on every machine (random.Random is specified to be stable).

Each leaf column draws from a small pool (edge cases first, then a few
random values), so dictionary encoding is worthwhile; every edge case of the
pool appears in the first rows. ``high_cardinality_strings`` makes a column
whose dictionary cannot fit a writer's dictionary size bound.
"""
from __future__ import annotations

import decimal
import random
import struct

from forms import (Field, ListT, MapT, P, Prim, StructT, f32, struct_of)

INT32_MIN, INT32_MAX = -2 ** 31, 2 ** 31 - 1
INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1
DATE_MIN = -719162        # 0001-01-01
DATE_MAX = 2932896        # 9999-12-31
TS_MIN = -62135596800000000       # 0001-01-01T00:00:00.000000
TS_MAX = 253402300799999999       # 9999-12-31T23:59:59.999999
TIME_MAX = 86399999999            # 23:59:59.999999

NAN = float("nan")
INF = float("inf")

STRING_EDGES = [
    "", "a", "héllo wörld", "日本語テキスト", "emoji 😀🎉", 'comma, "quote"\nnewline',
    "back\\slash\ttab", " leading and trailing ", "NULL", "123", "L" + "ø" * 300 + "x" * 700,
]


def _decimal(unscaled: int, scale: int) -> decimal.Decimal:
    return decimal.Decimal(unscaled).scaleb(-scale, context=decimal.Context(prec=100))


def edge_values(t: Prim) -> list:
    b = t.base
    if b == "boolean":
        return [True, False]
    if b == "int":
        return [INT32_MIN, INT32_MAX, 0, -1, 1, 42]
    if b == "long":
        return [INT64_MIN, INT64_MAX, 0, -1, 1, 1 << 40]
    if b == "float":
        return [NAN, 0.0, -0.0, INF, -INF, f32(0.1), -1.5, 1.401298464324817e-45,
                3.4028234663852886e38, f32(1e-10), 16777216.0]
    if b == "double":
        return [NAN, 0.0, -0.0, INF, -INF, 0.1, 1 / 3, 5e-324, 1.7976931348623157e308,
                -2.5e-300, 1e16, 123456.789]
    if b == "decimal":
        p, s = t.precision, t.scale
        m = 10 ** p - 1
        return [_decimal(m, s), _decimal(-m, s), _decimal(0, s), _decimal(1, s),
                _decimal(-1, s), _decimal(10 ** s if s < p else 7, s)]
    if b == "date":
        return [DATE_MIN, DATE_MAX, 0, -1, 17486, -25567]
    if b == "time":
        return [0, TIME_MAX, 81068123456, 1]
    if b in ("timestamp", "timestamptz"):
        return [TS_MIN, TS_MAX, 0, -1, 1510871468123456, -2208988800000001]
    if b in ("timestamp_ns", "timestamptz_ns"):
        return [INT64_MIN + 1, INT64_MAX - 1, 0, -1, 1510871468123456789]
    if b == "string":
        return list(STRING_EDGES)
    if b == "uuid":
        return [b"\x00" * 16, b"\xff" * 16, bytes.fromhex("f79c3e09677c4bbdb9fe9e4b1d3f7a3b")]
    if b == "fixed":
        n = t.length
        return [b"\x00" * n, b"\xff" * n, bytes([0x00, 0xff, 0x7f, 0x80] * n)[:n]]
    if b == "binary":
        return [b"", b"\x00", b"\xff\xfe", bytes(range(256)) + b"\x00" * 44]
    raise TypeError(t)


def random_value(t: Prim, rng: random.Random):
    b = t.base
    if b == "boolean":
        return rng.random() < 0.5
    if b == "int":
        return rng.randint(INT32_MIN, INT32_MAX)
    if b == "long":
        return rng.randint(INT64_MIN, INT64_MAX)
    if b == "float":
        while True:
            x = struct.unpack("<f", rng.getrandbits(32).to_bytes(4, "little"))[0]
            if x == x and abs(x) != INF:
                return x
    if b == "double":
        if rng.random() < 0.5:
            return rng.uniform(-1e6, 1e6)
        while True:
            x = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
            if x == x and abs(x) != INF:
                return x
    if b == "decimal":
        m = 10 ** t.precision - 1
        return _decimal(rng.randint(-m, m), t.scale)
    if b == "date":
        return rng.randint(DATE_MIN, DATE_MAX)
    if b == "time":
        return rng.randint(0, TIME_MAX)
    if b in ("timestamp", "timestamptz"):
        return rng.randint(TS_MIN, TS_MAX)
    if b in ("timestamp_ns", "timestamptz_ns"):
        return rng.randint(INT64_MIN + 1, INT64_MAX - 1)
    if b == "string":
        alphabet = "abcxyzABC019 _-äöüßé日本語😀"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24)))
    if b == "uuid":
        return rng.getrandbits(128).to_bytes(16, "big")
    if b == "fixed":
        return bytes(rng.getrandbits(8) for _ in range(t.length))
    if b == "binary":
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 40)))
    raise TypeError(t)


class Gen:
    """Values for one file. Pools are per leaf path."""

    def __init__(self, seed: int, null_rate: float = 0.15, pool_randoms: int = 6):
        self.rng = random.Random(seed)
        self.null_rate = null_rate
        self.pool_randoms = pool_randoms
        self.pools: dict = {}
        self.draws: dict = {}

    def pool(self, t: Prim, path: str) -> list:
        if path not in self.pools:
            p = edge_values(t) + [random_value(t, self.rng) for _ in range(self.pool_randoms)]
            if t.base == "boolean":
                p = [True, False]
            self.pools[path] = p
            self.draws[path] = 0
        return self.pools[path]

    def prim(self, t: Prim, path: str):
        pool = self.pool(t, path)
        i = self.draws[path]
        self.draws[path] = i + 1
        if i < len(pool):
            return pool[i]
        return pool[self.rng.randrange(len(pool))]

    def value(self, t, path: str, required: bool, force_null: bool = False):
        if force_null:
            return None
        if not required and self.rng.random() < self.null_rate:
            return None
        if isinstance(t, StructT):
            return {f.name: self.value(f.type, f"{path}.{f.name}", f.required) for f in t.fields}
        if isinstance(t, ListT):
            n = self.rng.choice([0, 1, 2, 3, 4, 6])
            return [self.value(t.element, path + ".element", t.element_required) for _ in range(n)]
        if isinstance(t, MapT):
            n = self.rng.choice([0, 1, 2, 3, 5])
            out, seen = [], set()
            for _ in range(n * 3):
                if len(out) >= n:
                    break
                k = self.value(t.key, path + ".key", True)
                hk = _hashable(k)
                if hk in seen or (isinstance(k, float) and k != k):
                    continue
                seen.add(hk)
                out.append((k, self.value(t.value, path + ".value", t.value_required)))
            return out
        return self.prim(t, path)

    def rows(self, fields, n: int, all_null=()) -> list[dict]:
        return [{f.name: self.value(f.type, f.name, f.required, f.name in all_null) for f in fields}
                for _ in range(n)]


def _hashable(v):
    if isinstance(v, dict):
        return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, float) and v == 0:
        return ("zero",)  # 0.0 and -0.0 are the same map key
    return v


def id_rows(rows: list[dict]) -> list[dict]:
    """Numbers the rows in a required "id" column (first)."""
    return [{"id": i, **r} for i, r in enumerate(rows)]


def high_cardinality_strings(seed: int, n: int, width: int = 64) -> list[str]:
    """n distinct strings of about width characters (n*width bytes of
    dictionary)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        tail = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(width - 10))
        out.append(f"{i:09d}-{tail}")
    rng.shuffle(out)
    return out


# ------------------------------------------------------------- schemas


def type_matrix_fields(t: Prim) -> list[Field]:
    """Type t required/optional at top level, in a struct, as a list element
    and as a map value, plus an all-null column."""
    return [
        Field("id", P("long"), True),
        Field("top_req", t, True),
        Field("top_opt", t),
        Field("st", struct_of(Field("req", t, True), Field("opt", t))),
        Field("lst_req", ListT(t, True)),
        Field("lst_opt", ListT(t)),
        Field("mp_req", MapT(P("string"), t, True)),
        Field("mp_opt", MapT(P("string"), t)),
        Field("all_null", t),
    ]


def safe_name(type_name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in type_name).strip("_")


def all_types_fields(names) -> list[Field]:
    """Every type in names at four places (top level, struct child, list
    element, map value)."""
    fs = [Field("id", P("long"), True)]
    for n in names:
        s = safe_name(n)
        fs.append(Field(f"c_{s}", P(n)))
    fs.append(Field("st", struct_of(*[Field(f"s_{safe_name(n)}", P(n), i % 2 == 0)
                                       for i, n in enumerate(names)])))
    for i, n in enumerate(names):
        fs.append(Field(f"l_{safe_name(n)}", ListT(P(n), i % 2 == 1)))
    for i, n in enumerate(names):
        fs.append(Field(f"m_{safe_name(n)}", MapT(P("string"), P(n), i % 2 == 0)))
    return fs


def nested_fields() -> list[Field]:
    """Deep and unusual nesting: structs in lists in structs, lists of
    lists, maps with non-string keys, maps of lists of structs, lists of
    maps, required structs with optional children."""
    inner = struct_of(Field("x", P("int")), Field("tags", ListT(P("string"))),
                      Field("y", P("decimal(9,2)"), True))
    return [
        Field("id", P("long"), True),
        Field("outer", struct_of(Field("name", P("string")),
                                 Field("items", ListT(inner)),
                                 Field("meta", struct_of(Field("a", P("date")), Field("b", P("uuid")))))),
        Field("req_struct", struct_of(Field("p", P("double")), Field("q", P("long"), True)), True),
        Field("lol", ListT(ListT(P("int")))),
        Field("m_long", MapT(P("long"), P("string"))),
        Field("m_date", MapT(P("date"), P("double"), True)),
        Field("m_uuid", MapT(P("uuid"), P("timestamptz"))),
        Field("m_dec", MapT(P("decimal(18,4)"), P("boolean"))),
        Field("m_list", MapT(P("string"), ListT(struct_of(Field("k", P("int")), Field("v", P("binary")))))),
        Field("l_map", ListT(MapT(P("string"), P("long")))),
        Field("m_map", MapT(P("string"), MapT(P("int"), P("string")))),
        Field("l_struct_req", ListT(struct_of(Field("a", P("int"), True), Field("b", P("fixed[3]"))), True)),
    ]
