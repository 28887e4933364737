"""Helpers of the Iceberg table tests: the reference readers (PyIceberg's
SqlCatalog on firn's catalog.db, DuckDB's iceberg extension from its PyPI
package), and a normal form of rows so that all of them compare."""
from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import os
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq


def catalog(wh: Path, uri: str | None = None):
    """PyIceberg's SqlCatalog over the warehouse firn uses (same name,
    'default', as firn's embedded catalog)."""
    from pyiceberg.catalog.sql import SqlCatalog
    return SqlCatalog("default", uri=uri or f"sqlite:///{wh}/catalog.db", warehouse=f"file://{wh}")


def duck():
    """A DuckDB connection with the avro and iceberg extensions loaded from
    their PyPI packages (no network)."""
    import duckdb_extension_avro
    import duckdb_extension_iceberg
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    for mod, name in ((duckdb_extension_avro, "avro"), (duckdb_extension_iceberg, "iceberg")):
        path = Path(mod.__file__).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
        con.execute(f"LOAD '{path}'")
    con.execute("SET TimeZone='UTC'")
    con.execute("SET threads=1")
    return con


def norm(v):
    """A value in one comparable form across pyarrow, PyIceberg, DuckDB and
    firn's JSON Lines output."""
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(dt.timezone.utc).replace(tzinfo=None)
            return v.isoformat(timespec="microseconds") + "+00:00"
        return v.isoformat(timespec="microseconds")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.isoformat(timespec="microseconds")
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        # pyarrow maps come as lists of (key, value) tuples
        if v and all(isinstance(x, tuple) and len(x) == 2 for x in v):
            return {str(norm(k)): norm(x) for k, x in v}
        return [norm(x) for x in v]
    return v


def rows(table: pa.Table, columns=None) -> list:
    """Rows of an Arrow table as sorted lists of normal-form values."""
    if columns is not None:
        table = table.select(columns)
    out = [tuple(norm(r[c]) for c in table.column_names) for r in table.to_pylist()]
    return sorted(out, key=lambda t: json.dumps(t, sort_keys=True, default=str))


def firn_rows(run_firn, wh: Path, table: str, *args) -> list:
    """firn scan through its Parquet output, read by pyarrow."""
    out = wh / f".scan-{os.getpid()}-{abs(hash((table,) + args))}.parquet"
    run_firn("--warehouse", wh, "scan", table, "--format", "parquet", "--output", out, *args)
    t = pq.read_table(out)
    out.unlink()
    return rows(t)


def pyiceberg_rows(wh: Path, table: str, snapshot_id=None, row_filter=None) -> list:
    t = catalog(wh).load_table(table)
    kw = {}
    if snapshot_id is not None:
        kw["snapshot_id"] = snapshot_id
    if row_filter is not None:
        kw["row_filter"] = row_filter
    return rows(t.scan(**kw).to_arrow())


def duck_rows(metadata_location: str, snapshot_id=None) -> list:
    con = duck()
    q = f"SELECT * FROM iceberg_scan('{metadata_location}'"
    if snapshot_id is not None:
        q += f", snapshot_from_id={snapshot_id}"
    q += ")"
    return rows(con.execute(q).to_arrow_table())


def describe(run_firn, wh: Path, table: str) -> dict:
    return json.loads(run_firn("--warehouse", wh, "describe", table, "--json").stdout)


def snapshots(run_firn, wh: Path, table: str) -> list:
    return json.loads(run_firn("--warehouse", wh, "snapshots", table, "--json").stdout)


def duck_scan(con, metadata_location: str, snapshot_id=None, columns=None) -> list:
    """Like duck_rows, on a connection the caller keeps open (loading the
    extensions costs more than a small scan), optionally projected."""
    cols = ", ".join(f'"{c}"' for c in columns) if columns else "*"
    q = f"SELECT {cols} FROM iceberg_scan('{metadata_location}'"
    if snapshot_id is not None:
        q += f", snapshot_from_id={snapshot_id}"
    q += ")"
    return rows(con.execute(q).to_arrow_table())
