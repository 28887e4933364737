"""firn: Iceberg tables from Python over libfirn.

Data goes in and out as Arrow through the Arrow PyCapsule interface, with
no copy and no pyarrow needed by firn itself: ``Table.append`` takes any
object exposing ``__arrow_c_stream__`` or ``__arrow_c_array__`` (a pyarrow
Table or RecordBatchReader, a Polars DataFrame, a DuckDB relation), and
``Table.scan`` returns a :class:`Reader` that ``pyarrow.table``,
``polars.DataFrame`` and DuckDB read directly. libfirn runs without the
GIL: several threads can scan and write at once.

    import firn, pyarrow as pa
    cat = firn.Catalog(warehouse="/data/wh")
    cat.create_namespace("db")
    t = cat.create_table("db.events", "id long not null, name string")
    t.append(pa.table({"id": [1, 2], "name": ["a", "b"]}))
    pa.table(t.scan(where="id > 1"))
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass as _dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import _firn
from ._firn import (AlreadyExists, CommitFailed, CorruptFile, Error, IOError, NotFound,
                    OutOfMemory, Unsupported, ValidationError, schema_spec)

__all__ = ["Catalog", "Table", "Reader", "FileTask", "Error", "NotFound", "AlreadyExists",
           "CommitFailed", "ValidationError", "CorruptFile", "Unsupported", "IOError",
           "OutOfMemory", "schema_spec", "version"]

version = _firn.version
_last_batch_buffers = _firn._last_batch_buffers
_alloc_stats = _firn._alloc_stats

_FORMATS = {"auto": 0, "csv": 1, "jsonl": 2, "parquet": 3}


def _names(v: Union[None, str, Sequence[str]]) -> Optional[str]:
    if v is None or isinstance(v, str):
        return v
    return ",".join(v)


def _as_of(v) -> Optional[str]:
    """A datetime (naive: UTC), epoch millis or ISO text as firn's as_of."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, _dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=_dt.timezone.utc)
        return v.isoformat()
    if isinstance(v, int):
        return str(v)
    raise TypeError("as_of: a datetime, epoch milliseconds or ISO-8601 text")


def _schema_text(schema) -> str:
    if isinstance(schema, str):
        return schema
    if hasattr(schema, "__arrow_c_schema__"):
        return schema_spec(schema)
    raise TypeError("schema: SPEC text or an object exposing __arrow_c_schema__")


class Reader:
    """A scan's rows as an Arrow stream (read once).

    ``pyarrow.table(r)``, ``polars.DataFrame(r)``, ``duckdb.sql("from r")``
    or any Arrow PyCapsule consumer takes the batches firn decoded, without
    copying them."""

    __slots__ = ("_r",)

    def __init__(self, r: _firn.Reader):
        self._r = r

    def __arrow_c_stream__(self, requested_schema=None):
        return self._r.__arrow_c_stream__(requested_schema)

    def __arrow_c_schema__(self):
        return self._r.__arrow_c_schema__()

    @property
    def schema_spec(self) -> str:
        """The output schema as SPEC text."""
        return self._r.schema_spec()

    @property
    def consumed(self) -> bool:
        return self._r.consumed

    def to_arrow(self):
        """The rows as a pyarrow.Table (needs pyarrow)."""
        import pyarrow as pa
        return pa.RecordBatchReader.from_stream(self).read_all()

    def to_reader(self):
        """A pyarrow.RecordBatchReader over the stream (needs pyarrow)."""
        import pyarrow as pa
        return pa.RecordBatchReader.from_stream(self)

    def to_polars(self):
        """The rows as a polars.DataFrame (needs polars)."""
        import polars as pl
        return pl.DataFrame(self)


@_dataclass(frozen=True)
class FileTask:
    """One data file of a planned scan (Table.plan). It pickles as the
    table's catalog coordinates and the file's path, so another process
    (a Ray worker) reads it with read()."""
    warehouse: Optional[str]
    uri: Optional[str]
    catalog_name: Optional[str]
    table: str
    path: str
    record_count: int
    file_size: int
    partition: Dict[str, Optional[str]]
    deleted_records: int
    snapshot_id: Optional[int]
    where: Optional[str]
    columns: Optional[Tuple[str, ...]]

    @property
    def independent(self) -> bool:
        """Always True: read() scans this one file with its deletes and the
        plan's row filter, in any process. Kept for callers of earlier
        versions."""
        return True

    def read(self, catalog: Optional["Catalog"] = None) -> Reader:
        """The task's rows (deletes applied, the plan's where and columns)
        as a Reader, read at the plan's snapshot."""
        cat = catalog or Catalog(warehouse=self.warehouse, uri=self.uri, name=self.catalog_name)
        t = cat.load_table(self.table)
        return Reader(t._t.scan(_names(self.columns), self.where, -1, self.snapshot_id, None,
                                None, [self.path]))


class Table:
    """A table of a catalog. Every change is one atomic commit.

    scan() always reads the newest commit (it loads a table handle of its
    own, so commits made meanwhile through this object do not disturb it);
    count() and the information calls read the metadata this object holds,
    which its own commits move: refresh() picks up other writers' commits."""

    def __init__(self, catalog: "Catalog", t: _firn.Table):
        self.catalog = catalog
        self._t = t

    def __repr__(self):
        return f"firn.Table({self.ident!r})"

    @property
    def ident(self) -> str:
        return self._t.ident

    @property
    def metadata_location(self) -> str:
        return self._t.metadata_location

    @property
    def format_version(self) -> int:
        return self._t.format_version

    def __arrow_c_schema__(self):
        """The current schema (field ids as PARQUET:field_id metadata)."""
        return self._t.__arrow_c_schema__()

    @property
    def schema_spec(self) -> str:
        """The current schema as SPEC text."""
        return self.describe()["schema"]

    def refresh(self) -> "Table":
        """Reloads the metadata (commits made elsewhere)."""
        self._t.refresh()
        return self

    # ---- writes
    def append(self, data, *, truncate_timestamps: bool = False) -> dict:
        """Appends the rows of an Arrow stream or array, read batch by batch,
        as one snapshot. Returns snapshot_id, added_records, added_files."""
        return self._t.append(data, truncate_timestamps)

    def overwrite(self, data, where: Optional[str] = None, *,
                  truncate_timestamps: bool = False) -> dict:
        """Replaces the rows matching where (None: all) with data."""
        return self._t.overwrite(data, where, truncate_timestamps)

    def merge(self, data, on: Union[str, Sequence[str]], *, mode: Optional[str] = None,
              truncate_timestamps: bool = False) -> dict:
        """Upsert on the key columns `on`."""
        return self._t.merge(data, _names(on), mode, truncate_timestamps)

    def append_files(self, paths: Iterable[str], format: str = "auto") -> dict:
        """Appends Parquet, CSV or JSON Lines files (their rows are rewritten
        into the table's files) in one commit."""
        return self._t.append_files(list(paths), _FORMATS[format])

    # ---- reads
    def scan(self, columns: Union[None, str, Sequence[str]] = None, where: Optional[str] = None,
             limit: Optional[int] = None, snapshot_id: Optional[int] = None, as_of=None,
             ref: Optional[str] = None) -> Reader:
        """Reads the table (the newest commit, or the snapshot selected by
        snapshot_id, as_of or ref) as an Arrow stream."""
        return Reader(self._t.scan(_names(columns), where, -1 if limit is None else limit,
                                   snapshot_id, _as_of(as_of), ref))

    def to_arrow(self, **kw):
        """scan(**kw) into a pyarrow.Table."""
        return self.scan(**kw).to_arrow()

    def count(self, where: Optional[str] = None, snapshot_id: Optional[int] = None, as_of=None,
              ref: Optional[str] = None) -> int:
        """Rows matching where, from metadata where the metrics decide."""
        return self._t.count(where, snapshot_id, _as_of(as_of), ref)

    def plan(self, where: Optional[str] = None, columns=None,
             snapshot_id: Optional[int] = None, as_of=None,
             ref: Optional[str] = None) -> List[FileTask]:
        """The scan as file tasks: one per live data file of the snapshot
        (the current one by default) that where may match; files whose
        partition values or column metrics rule where out are not planned.
        Each task reads on its own (FileTask.read), in any process."""
        self.refresh()
        c = self.catalog
        cols = None
        if columns is not None:
            cols = tuple(columns.split(",")) if isinstance(columns, str) else tuple(columns)
        sel_id, files = self._t.plan(where, snapshot_id, _as_of(as_of), ref)
        return [FileTask(c._warehouse, c._uri, c._name, self.ident, f["path"], f["record_count"],
                         f["file_size"], f["partition"], f["deleted_records"], sel_id, where, cols)
                for f in files]

    # ---- distributed appends (firn.ray.write)
    def stage_append(self, data, *, truncate_timestamps: bool = False) -> Tuple[str, dict]:
        """Writes data as the table's data files and one manifest of them,
        committing nothing: (the staged manifest's location, counts). Any
        process may then commit the staged manifests of many with
        append_staged(); uncommitted ones are orphans remove_orphans clears."""
        return self._t.stage_append(data, truncate_timestamps)

    def append_staged(self, staged: Iterable[str]) -> dict:
        """Commits staged manifests (stage_append) as one append snapshot."""
        return self._t.append_staged(list(staged))

    # ---- row-level changes and maintenance
    def delete(self, where: str, *, mode: Optional[str] = None) -> dict:
        return self._t.delete(where, mode)

    def update(self, set: Union[str, Dict[str, Any]], where: Optional[str] = None, *,
               mode: Optional[str] = None) -> dict:
        """set: "col = expr, ..." or a dict of column → expression text."""
        if isinstance(set, dict):
            set = ", ".join(f"{k} = {v}" for k, v in set.items())
        return self._t.update(set, where, mode)

    def compact(self, where: Optional[str] = None, target_file_size: int = 0) -> dict:
        return self._t.compact(where, target_file_size)

    def expire(self, older_than=None, retain_last: int = 0, dry_run: bool = False) -> dict:
        return self._t.expire(_as_of(older_than), retain_last, dry_run)

    def remove_orphans(self, older_than=None, dry_run: bool = False, force: bool = False) -> dict:
        return self._t.remove_orphans(_as_of(older_than), dry_run, force)

    def maintain(self, delete_ratio: float = -1.0, max_delete_files: int = -1,
                 target_file_size: int = 0, expire_older_than=None, retain_last: int = 0,
                 orphans_older_than=None) -> dict:
        """Compaction by the delete policy and bin-packing, expiry, orphans."""
        return self._t.maintain(delete_ratio, max_delete_files, target_file_size,
                                _as_of(expire_older_than), retain_last, _as_of(orphans_older_than))

    def rewrite_manifests(self):
        return self._t.rewrite_manifests()

    # ---- information
    def describe(self) -> dict:
        return self._t.describe()

    def snapshots(self) -> List[dict]:
        return self._t.snapshots()

    def history(self) -> List[dict]:
        return self._t.history()

    def files(self, snapshot_id: Optional[int] = None, as_of=None,
              ref: Optional[str] = None) -> List[dict]:
        return self._t.files(snapshot_id, _as_of(as_of), ref)

    @property
    def current_snapshot_id(self) -> Optional[int]:
        return self.describe()["current_snapshot_id"]

    # ---- refs
    def tag(self, name: str, snapshot_id: int = -1) -> None:
        self._t.set_ref(name, True, snapshot_id)

    def branch(self, name: str, snapshot_id: int = -1) -> None:
        self._t.set_ref(name, False, snapshot_id)

    def rollback(self, snapshot_id: int) -> None:
        self._t.rollback(snapshot_id)

    # ---- schema and partition evolution
    def add_column(self, name: str, type: str, *, required: bool = False,
                   doc: Optional[str] = None) -> None:
        self._t.add_column(name, type, required, doc)

    def drop_column(self, name: str) -> None:
        self._t.drop_column(name)

    def rename_column(self, name: str, new_name: str) -> None:
        self._t.rename_column(name, new_name)

    def update_column_type(self, name: str, type: str) -> None:
        self._t.update_column_type(name, type)

    def make_column_optional(self, name: str) -> None:
        self._t.make_column_optional(name)

    def set_properties(self, properties: Dict[str, Any]) -> None:
        self._t.set_properties({k: str(v) for k, v in properties.items()})

    def remove_properties(self, keys: Iterable[str]) -> None:
        self._t.remove_properties(list(keys))

    def set_partition_spec(self, spec: Union[str, Sequence[str]]) -> None:
        self._t.set_partition_spec(_names(spec) or "")

    def set_sort_order(self, order: Union[str, Sequence[str]]) -> None:
        self._t.set_sort_order(_names(order) or "")


class Catalog:
    """A catalog: SQLite at <warehouse>/catalog.db by default; uri
    "sqlite:///path.db", "postgresql://...", or an Iceberg REST catalog
    "http(s)://host:port" (token= a bearer token, credential= "ID:SECRET")."""

    def __init__(self, warehouse: Optional[str] = None, uri: Optional[str] = None,
                 name: Optional[str] = None, token: Optional[str] = None,
                 credential: Optional[str] = None, read_only: bool = False):
        self._warehouse = None if warehouse is None else str(warehouse)
        self._uri, self._name = uri, name
        self._c = _firn.Catalog(self._warehouse, uri, name, token, credential,
                                2 if read_only else 0)

    def __repr__(self):
        return f"firn.Catalog(warehouse={self._warehouse!r}, uri={self._uri!r})"

    @property
    def name(self) -> str:
        return self._c.name

    @property
    def warehouse(self) -> Optional[str]:
        return self._c.warehouse

    # ---- namespaces
    def namespaces(self, parent: Optional[str] = None) -> List[str]:
        return self._c.namespaces(parent)

    def create_namespace(self, ns: str, properties: Optional[Dict[str, str]] = None) -> None:
        self._c.create_namespace(ns, properties)

    def drop_namespace(self, ns: str) -> None:
        self._c.drop_namespace(ns)

    def namespace_exists(self, ns: str) -> bool:
        return self._c.namespace_exists(ns)

    def namespace_properties(self, ns: str) -> Dict[str, str]:
        return self._c.namespace_properties(ns)

    def update_namespace(self, ns: str, set: Optional[Dict[str, str]] = None,
                         remove: Optional[Iterable[str]] = None) -> None:
        self._c.update_namespace(ns, set, None if remove is None else list(remove))

    # ---- tables
    def list_tables(self, ns: str) -> List[str]:
        return self._c.list_tables(ns)

    def create_table(self, name: str, schema, partition_by: Union[None, str, Sequence[str]] = None,
                     sort_by: Union[None, str, Sequence[str]] = None,
                     properties: Optional[Dict[str, Any]] = None, format_version: int = 2,
                     location: Optional[str] = None) -> Table:
        """Creates name ("ns.table"); schema is SPEC text ("id long not null,
        name string") or any object exposing __arrow_c_schema__."""
        props = None if properties is None else {k: str(v) for k, v in properties.items()}
        return Table(self, self._c.create_table(name, _schema_text(schema), _names(partition_by),
                                                _names(sort_by), props, format_version, location))

    def load_table(self, name: str) -> Table:
        return Table(self, self._c.load_table(name))

    def table_exists(self, name: str) -> bool:
        try:
            self._c.load_table(name)
            return True
        except NotFound:
            return False

    def drop_table(self, name: str, purge: bool = False) -> dict:
        return self._c.drop_table(name, purge)

    def rename_table(self, src: str, dst: str) -> None:
        self._c.rename_table(src, dst)

    def register_table(self, name: str, metadata_file: str) -> Table:
        return Table(self, self._c.register_table(name, metadata_file))
