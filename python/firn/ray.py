"""firn tables as Ray Data datasets.

    import firn, firn.ray, ray
    t = firn.Catalog(warehouse="/data/wh").load_table("db.events")
    ds = firn.ray.read(t, where="id > 10", columns=["id", "name"])
    firn.ray.write(ds, other_table)

read() makes one Ray read task per planned file task (Table.plan: files
the where clause may match, pruned by partition values and column metrics);
each worker scans its file with firn, deletes and the row filter applied, at
the snapshot the driver planned. write() has each worker stage its blocks
with firn (Table.stage_append: the table's own data files and a manifest of
them) and the driver commit every staged manifest in one append snapshot.
"""
from __future__ import annotations

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
            return [self._file_task(t) for t in self._tasks]

        def _file_task(self, task):
            def read_fn():
                import pyarrow as pa
                yield pa.table(task.read())
            rows = task.record_count if task.where is None and task.deleted_records == 0 \
                else None
            meta = BlockMetadata(num_rows=rows, size_bytes=task.file_size,
                                 input_files=(task.path,), exec_stats=None)
            return ReadTask(read_fn, meta)

    return FirnDatasource()


def read(table: "firn.Table", where: Optional[str] = None,
         columns: Union[None, str, Sequence[str]] = None, snapshot_id: Optional[int] = None,
         **read_args):
    """The table's rows as a ray.data.Dataset (one read task per file task)."""
    import ray.data
    return ray.data.read_datasource(_make_datasource(table, where, columns, snapshot_id),
                                    **read_args)


def _stage_block(batch, coords):
    import pyarrow as pa
    t = batch if isinstance(batch, pa.Table) else pa.Table.from_pandas(batch)
    if t.num_rows == 0:
        return {"staged": []}
    staged, _ = _open(coords).stage_append(t)
    return {"staged": [staged]}


def write(dataset, table: "firn.Table") -> dict:
    """Appends the dataset to the table in one commit: each worker writes
    its blocks as the table's data files (firn's writer, the table's
    partitioning) and stages a manifest of them; the driver commits all the
    staged manifests as one append snapshot. A failed write leaves only
    unreferenced files, which remove_orphans clears."""
    parts = dataset.map_batches(_stage_block, fn_kwargs={"coords": _coords(table)},
                                batch_format="pyarrow", batch_size=None)
    staged: List[str] = [r["staged"] for r in parts.take_all() if r["staged"]]
    if not staged:
        return {"snapshot_id": 0, "added_records": 0, "added_files": 0, "attempts": 0}
    return table.append_staged(sorted(staged))
