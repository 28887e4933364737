"""Every consumer reads every kind of table the same: pyarrow, DuckDB and
Polars on firn's scans, against PyIceberg's reading (DuckDB's iceberg_scan
for v3 deletion vectors, which PyIceberg 0.12 does not read)."""
from __future__ import annotations

import duckdb
import polars as pl
import pyarrow as pa
import pytest

import ice
from tables import ALL_TYPES, all_types

NO_UUID = [c for c in ALL_TYPES.names if c != "u"]


def consumers(t, **kw) -> dict:
    """The rows each consumer reads from t.scan(**kw)."""
    reader = t.scan(**kw)
    duck = duckdb.sql("select * from reader").to_arrow_table()
    kw_no_u = dict(kw, columns=[c for c in (kw.get("columns") or ALL_TYPES.names) if c != "u"])
    return {
        "pyarrow": ice.rows(pa.table(t.scan(**kw))),
        "duckdb": ice.rows(duck),
        # Polars has no uuid type (it reads plain binary): compared without it
        "polars": ice.rows(pl.DataFrame(t.scan(**kw_no_u)).to_arrow()),
        "pyarrow_no_uuid": ice.rows(pa.table(t.scan(**kw_no_u))),
    }


def check(got: dict, want: list):
    assert got["pyarrow"] == want
    assert got["duckdb"] == want
    assert got["polars"] == got["pyarrow_no_uuid"]
    assert len(got["polars"]) == len(want)


@pytest.mark.parametrize("partition", [None, "bucket(4, id)", "day(ts)", "truncate(3, s)",
                                       "month(tstz), identity(b)"])
def test_all_types_partitioned(cat, wh, partition):
    t = cat.create_table("db.p", ALL_TYPES, partition_by=partition)
    t.append(all_types(40))
    t.append(all_types(25, start=40))
    check(consumers(t), ice.pyiceberg_rows(wh, "db.p"))


@pytest.mark.parametrize("fv,mode", [(2, "merge-on-read"), (2, "copy-on-write"),
                                     (3, "merge-on-read")])
def test_deletes(cat, wh, fv, mode):
    t = cat.create_table("db.d", ALL_TYPES, format_version=fv, partition_by="bucket(2, id)")
    t.append(all_types(60))
    t.delete("id < 5 or id = 33", mode=mode)
    t.update("s = 'changed'", where="id >= 55", mode=mode)
    if fv == 2:
        want = ice.pyiceberg_rows(wh, "db.d")
    else:
        want = ice.rows(ice.duck().execute(
            f"select * from iceberg_scan('{t.metadata_location}')").to_arrow_table())
    assert len(want) == 54
    check(consumers(t), want)


def test_time_travel_and_projection(cat, wh):
    t = cat.create_table("db.tt", ALL_TYPES)
    s1 = t.append(all_types(20))["snapshot_id"]
    t.append(all_types(20, start=20))
    t.delete("id >= 35")
    want = ice.pyiceberg_rows(wh, "db.tt", snapshot_id=s1)
    assert len(want) == 20
    check(consumers(t, snapshot_id=s1), want)
    cols = ["id", "loc", "tags", "attrs", "u"]
    got = consumers(t, columns=cols, where="id > 10")
    full = ice.catalog(wh).load_table("db.tt").scan().to_arrow()
    want = ice.rows(full.filter(pa.compute.greater(full["id"], 10)), cols)
    assert got["pyarrow"] == want and got["duckdb"] == want
    assert len(got["polars"]) == len(want) == 24


def test_v3_nanosecond_timestamps(cat, wh):
    t = cat.create_table("db.ns", "id long not null, tn timestamp_ns, tzn timestamptz_ns",
                         format_version=3)
    t.append(pa.table({"id": pa.array([1, 2], pa.int64()),
                       "tn": pa.array([1_700_000_000_123_456_789, None], pa.timestamp("ns")),
                       "tzn": pa.array([None, 5], pa.timestamp("ns", tz="UTC"))}))
    got = pa.table(t.scan())
    assert got.schema.field("tn").type == pa.timestamp("ns")
    assert got.column("tn").cast(pa.int64()).to_pylist() == [1_700_000_000_123_456_789, None]
    df = pl.DataFrame(t.scan())
    assert df["tzn"].cast(pl.Int64).to_list() == [None, 5]
    reader = t.scan()
    assert duckdb.sql("select epoch_ns(tn) from reader order by id").fetchall() == \
        [(1_700_000_000_123_456_789,), (None,)]
