"""firn tables as Ray Data datasets.

    import firn, firn.ray, ray
    t = firn.Catalog(warehouse="/data/wh").load_table("db.events")
    ds = firn.ray.read(t, where="id > 10", columns=["id", "name"])
    firn.ray.write(ds, other_table)

read() makes one Ray read task per planned file task, each reading its file
with firn in a worker. libfirn's public API has no call that scans one
planned task with its deletes applied, so when any task of the plan is not
independent (a row filter, or deletes on its file) the read is one task that
runs firn's whole scan in a worker: still firn's rows, deletes applied, but
not spread over the files. write() has each worker write its blocks as
Parquet files under the table's staging directory and the driver append them
all in one commit.
"""
from __future__ import annotations

import os
import shutil
import uuid
from typing import List, Optional, Sequence, Union

import firn

__all__ = ["read", "write", "FirnDatasource"]


def _coords(table: "firn.Table"):
    c = table.catalog
    return c._warehouse, c._uri, c._name, table.ident


def _open(coords):
    warehouse, uri, name, ident = coords
    return firn.Catalog(warehouse=warehouse, uri=uri, name=name).load_table(ident)


def _datasource_base():
    from ray.data.datasource import Datasource
    return Datasource


def _make_datasource(table, where, columns, snapshot_id):
    from ray.data.block import BlockMetadata
    from ray.data.datasource import ReadTask

    class FirnDatasource(_datasource_base()):
        """One read task per file task of a firn plan."""

        def __init__(self):
            self._coords = _coords(table)
            self._tasks = table.plan(where=where, columns=columns, snapshot_id=snapshot_id)
            self._snapshot_id = snapshot_id if snapshot_id is not None else (
                self._tasks[0].snapshot_id if self._tasks else None)
            self._where, self._columns = where, columns

        def estimate_inmemory_data_size(self):
            return sum(t.file_size for t in self._tasks) or None

        def get_read_tasks(self, parallelism, per_task_row_limit=None, data_context=None):
            if not self._tasks:
                return []
            if all(t.independent for t in self._tasks):
                return [self._file_task(t) for t in self._tasks]
            return [self._scan_task()]

        def _file_task(self, task):
            def read_fn():
                import pyarrow as pa
                yield pa.table(task.read())
            meta = BlockMetadata(num_rows=task.record_count, size_bytes=task.file_size,
                                 input_files=(task.path,), exec_stats=None)
            return ReadTask(read_fn, meta)

        def _scan_task(self):
            coords, where, columns, sid = self._coords, self._where, self._columns, \
                self._snapshot_id

            def read_fn():
                import pyarrow as pa
                t = _open(coords)
                yield pa.table(t.scan(columns=columns, where=where, snapshot_id=sid))
            meta = BlockMetadata(num_rows=None,
                                 size_bytes=sum(t.file_size for t in self._tasks),
                                 input_files=tuple(t.path for t in self._tasks), exec_stats=None)
            return ReadTask(read_fn, meta)

    return FirnDatasource()


def read(table: "firn.Table", where: Optional[str] = None,
         columns: Union[None, str, Sequence[str]] = None, snapshot_id: Optional[int] = None,
         **read_args):
    """The table's rows as a ray.data.Dataset (one read task per file task)."""
    import ray.data
    return ray.data.read_datasource(_make_datasource(table, where, columns, snapshot_id),
                                    **read_args)


def _write_block(batch, staging: str):
    import pyarrow as pa
    import pyarrow.parquet as pq
    t = batch if isinstance(batch, pa.Table) else pa.Table.from_pandas(batch)
    if t.num_rows == 0:
        return {"path": []}
    path = os.path.join(staging, f"{uuid.uuid4().hex}.parquet")
    pq.write_table(t, path)
    return {"path": [path]}


def write(dataset, table: "firn.Table") -> dict:
    """Appends the dataset to the table in one commit: the workers write
    Parquet parts under <location>/staging-<uuid>, the driver appends them
    (libfirn rewrites them into the table's files) and removes the parts."""
    loc = table.describe()["location"]
    if loc.startswith("file://"):
        loc = loc[len("file://"):]
    staging = os.path.join(loc, f"staging-{uuid.uuid4().hex}")
    os.makedirs(staging, exist_ok=True)
    try:
        parts = dataset.map_batches(_write_block, fn_kwargs={"staging": staging},
                                    batch_format="pyarrow", batch_size=None)
        paths: List[str] = [r["path"] for r in parts.take_all() if r["path"]]
        if not paths:
            return {"snapshot_id": 0, "added_records": 0, "added_files": 0, "attempts": 0}
        return table.append_files(sorted(paths), format="parquet")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
