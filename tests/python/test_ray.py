"""firn.ray on Ray 2.x in local mode: read() equals the table's rows with
one read task per file task, write() commits once, and Ray's own
read_iceberg (PyIceberg underneath) reads what firn wrote."""
from __future__ import annotations

import pyarrow as pa
import pytest

import firn
import ice



@pytest.fixture(scope="module")
def ray_local():
    import ray as r  # a missing Ray fails the tests: it is part of the proof
    r.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True,
           log_to_driver=False, object_store_memory=200 * 1024 * 1024)
    yield r
    r.shutdown()


def test_read_one_task_per_file(ray_local, cat, wh):
    import firn.ray
    t = cat.create_table("db.r", "id long not null, s string", partition_by="bucket(4, id)")
    t.append(pa.table({"id": pa.array(range(200), pa.int64()), "s": [f"s{i}" for i in range(200)]}))
    tasks = t.plan()
    assert len(tasks) == 4
    ds = firn.ray.read(t)
    got = pa.concat_tables([pa.table(b) for b in ds.iter_batches(batch_format="pyarrow")])
    assert ice.rows(got) == ice.rows(pa.table(t.scan())) == ice.pyiceberg_rows(wh, "db.r")
    assert ds.materialize().num_blocks() == 4
    # projected and filtered: still one task per planned file
    ds2 = firn.ray.read(t, where="id < 10", columns=["id"])
    assert sorted(r["id"] for r in ds2.take_all()) == list(range(10))
    assert ds2.materialize().num_blocks() == 4
    # pruned: an equality on the bucket column plans one file
    ds3 = firn.ray.read(t, where="id = 17")
    assert ds3.materialize().num_blocks() == 1 and ds_rows(ds3) == [17]
    # deletes applied in each worker, one task per file still
    t.delete("id >= 100", mode="merge-on-read")
    ds4 = firn.ray.read(t)
    assert ds_rows(ds4) == list(range(100))
    assert ds4.materialize().num_blocks() == 4


def ds_rows(ds):
    return sorted(r["id"] for r in ds.take_all())


def test_write_commits_once_and_ray_read_iceberg_reads_it(ray_local, cat, wh):
    import firn.ray
    import ray.data
    t = cat.create_table("db.w", "id long not null, s string")
    before = len(t.snapshots())
    ds = ray.data.range(1000, override_num_blocks=4).map_batches(
        lambda b: {"id": b["id"], "s": [f"v{i}" for i in b["id"]]}, batch_format="numpy")
    info = firn.ray.write(ds, t)
    assert info["added_records"] == 1000 and info["added_files"] >= 1
    t.refresh()
    assert len(t.snapshots()) == before + 1
    assert t.count() == 1000
    ref = ray.data.read_iceberg(table_identifier="db.w", catalog_kwargs={
        "name": "default", "type": "sql", "uri": f"sqlite:///{wh}/catalog.db",
        "warehouse": f"file://{wh}"})
    assert sorted(r["id"] for r in ref.take_all()) == list(range(1000))
    assert ds_rows(firn.ray.read(t)) == list(range(1000))
