"""Tables the module tests build: every Iceberg type firn handles, nested
ones included, as a pyarrow Table (the append input)."""
from __future__ import annotations

import datetime as dt
import decimal
import uuid

import pyarrow as pa

UTC = dt.timezone.utc

ALL_TYPES = pa.schema([
    pa.field("id", pa.int64(), nullable=False),
    pa.field("b", pa.bool_()),
    pa.field("i", pa.int32()),
    pa.field("f", pa.float32()),
    pa.field("d", pa.float64()),
    pa.field("dec", pa.decimal128(10, 2)),
    pa.field("day", pa.date32()),
    pa.field("t", pa.time64("us")),
    pa.field("ts", pa.timestamp("us")),
    pa.field("tstz", pa.timestamp("us", tz="UTC")),
    pa.field("s", pa.string()),
    pa.field("bin", pa.binary()),
    pa.field("u", pa.uuid()),
    pa.field("fx", pa.binary(4)),
    pa.field("loc", pa.struct([pa.field("lat", pa.float64()),
                               pa.field("lon", pa.float64(), nullable=False)])),
    pa.field("tags", pa.list_(pa.string())),
    pa.field("attrs", pa.map_(pa.string(), pa.int64())),
])


def all_types(n: int, start: int = 0) -> pa.Table:
    """n rows of ALL_TYPES, ids start.., a null in every optional column
    on every 7th row."""
    cols = {name: [] for name in ALL_TYPES.names}
    for k in range(start, start + n):
        null = k % 7 == 3
        row = {
            "id": k,
            "b": k % 2 == 0,
            "i": k * 3 - 50,
            "f": k / 4,
            "d": k * 1.5,
            "dec": decimal.Decimal(k * 101) / 100,
            "day": dt.date(2024, 1, 1) + dt.timedelta(days=k % 400),
            "t": dt.time(k % 24, k % 60, 0, k % 1000),
            "ts": dt.datetime(2024, 1, 1) + dt.timedelta(minutes=37 * k),
            "tstz": dt.datetime(2024, 6, 1, tzinfo=UTC) + dt.timedelta(seconds=611 * k),
            "s": f"name-{k}-ż",
            "bin": bytes([k % 256, (k * 7) % 256]),
            "u": uuid.UUID(int=k * 7919 + 1).bytes,
            "fx": (k).to_bytes(4, "big"),
            "loc": {"lat": k / 10, "lon": -k / 10},
            "tags": [f"t{k % 3}", f"t{k % 5}"][: k % 3],
            "attrs": [("a", k), ("b", k * 2)][: k % 3],
        }
        for name in ALL_TYPES.names:
            cols[name].append(None if null and name != "id" else row[name])
    return pa.table(cols, schema=ALL_TYPES)
