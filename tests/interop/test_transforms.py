"""Partition transforms on random data: for every data file firn writes,
its partition tuple equals PyIceberg's transform of each of the file's rows
(negative numbers, dates before 1970, multi-byte strings included). The
spec's own test vectors are checked in tests/unit/test_datum.c."""
from __future__ import annotations

import datetime as dt
import decimal
import json
import random
import uuid

import pyarrow.parquet as pq
import pytest

import ice

EPOCH = dt.datetime(1970, 1, 1)
EPOCH_TZ = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

COLUMNS = {
    "i": "int", "l": "long", "d": "decimal(9,2)", "dt": "date", "t": "time", "ts": "timestamp",
    "tz": "timestamptz", "s": "string", "u": "uuid", "b": "binary",
}


def random_rows(n, seed):
    rnd = random.Random(seed)
    words = ["", "a", "Żółw", "naïve", "日本語テキスト", "x" * 20, "abc", "€uro"]
    rows = []
    for _ in range(n):
        sec = rnd.randrange(-40 * 365 * 86400, 40 * 365 * 86400)
        micro = rnd.randrange(1_000_000)
        ts = EPOCH + dt.timedelta(seconds=sec, microseconds=micro)
        rows.append({
            "i": rnd.randrange(-2**31, 2**31), "l": rnd.randrange(-2**63, 2**63),
            "d": f"{rnd.randrange(-10**9 + 1, 10**9) / 100:.2f}",
            "dt": ts.date().isoformat(), "t": ts.time().isoformat(timespec="microseconds"),
            "ts": ts.isoformat(timespec="microseconds"),
            "tz": ts.isoformat(timespec="microseconds") + "+00:00",
            "s": rnd.choice(words) + str(rnd.randrange(100)), "u": str(uuid.UUID(int=rnd.getrandbits(128))),
            "b": bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 12))).hex(),
        })
    return rows


def pyiceberg_input(col, v):
    """A row value as PyIceberg's transforms take it."""
    if v is None:
        return None
    if col in ("ts",):
        return (v - EPOCH) // dt.timedelta(microseconds=1)
    if col == "tz":
        return (v - EPOCH_TZ) // dt.timedelta(microseconds=1)
    if col == "dt":
        return (v - EPOCH.date()).days
    if col == "t":
        return ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond
    if col == "u":
        return uuid.UUID(bytes=v) if isinstance(v, bytes) else v
    return v


CASES = [
    ("bucket(16, i)", "i"), ("bucket(7, l)", "l"), ("bucket(5, d)", "d"), ("bucket(9, dt)", "dt"),
    ("bucket(4, t)", "t"), ("bucket(11, ts)", "ts"), ("bucket(3, tz)", "tz"), ("bucket(13, s)", "s"),
    ("bucket(6, u)", "u"), ("bucket(8, b)", "b"),
    ("truncate(10, i)", "i"), ("truncate(1000, l)", "l"), ("truncate(50, d)", "d"),
    ("truncate(3, s)", "s"), ("truncate(2, b)", "b"),
    ("year(dt)", "dt"), ("month(dt)", "dt"), ("day(dt)", "dt"),
    ("year(ts)", "ts"), ("month(ts)", "ts"), ("day(ts)", "ts"), ("hour(ts)", "ts"),
    ("year(tz)", "tz"), ("month(tz)", "tz"), ("day(tz)", "tz"), ("hour(tz)", "tz"),
    ("i", "i"), ("s", "s"), ("dt", "dt"), ("d", "d"),
]


@pytest.mark.conformance(("partition transforms on random data", "PyIceberg"))
def test_transforms_match_pyiceberg(run_firn, tmp):
    from pyiceberg import transforms as T
    from pyiceberg import types as PT
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "tr")
    data = tmp / "rows.jsonl"
    rows = random_rows(300, seed=42)
    rows.append({k: None for k in COLUMNS})
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    schema = ", ".join(f"{k} {v}" for k, v in COLUMNS.items())
    ptypes = {"i": PT.IntegerType(), "l": PT.LongType(), "d": PT.DecimalType(9, 2), "dt": PT.DateType(),
              "t": PT.TimeType(), "ts": PT.TimestampType(), "tz": PT.TimestamptzType(),
              "s": PT.StringType(), "u": PT.UUIDType(), "b": PT.BinaryType()}
    checked = 0
    for k, (spec, col) in enumerate(CASES):
        name = f"tr.t{k}"
        run_firn("--warehouse", wh, "create", name, "--schema", schema, "--partition-by", spec)
        run_firn("--warehouse", wh, "append", name, data)
        fn_name, _, rest = spec.partition("(")
        if not rest:
            tr = T.IdentityTransform()
        elif fn_name == "bucket":
            tr = T.BucketTransform(int(rest.split(",")[0]))
        elif fn_name == "truncate":
            tr = T.TruncateTransform(int(rest.split(",")[0]))
        else:
            tr = {"year": T.YearTransform(), "month": T.MonthTransform(), "day": T.DayTransform(),
                  "hour": T.HourTransform()}[fn_name]
        fn = tr.transform(ptypes[col])
        tbl = ice.catalog(wh).load_table(name)
        total = 0
        for task in tbl.scan().plan_files():
            part = task.file.partition[0]
            values = pq.read_table(task.file.file_path, columns=[col]).column(0).to_pylist()
            total += len(values)
            for v in values:
                want = fn(pyiceberg_input(col, v))
                if isinstance(want, decimal.Decimal) or isinstance(part, decimal.Decimal):
                    assert decimal.Decimal(str(want)) == decimal.Decimal(str(part)), (spec, v, part, want)
                else:
                    assert part == want, (spec, v, part, want)
                checked += 1
        assert total == len(rows), spec
    assert checked == len(rows) * len(CASES)
