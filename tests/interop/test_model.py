"""The model-based test (model.py): random sequences of table operations
from fixed seeds, on format v2 and v3 tables, partitioned or not, each
step read back by firn, DuckDB and PyIceberg (v2 only: PyIceberg 0.12
does not read v3 deletion vectors) against a Python model of the rows and
snapshots, with every referenced file present and every manifest-list
field agreeing with its manifest. Spark reads the final state of a few.

    FIRN_MODEL_SEED=N pytest tests/interop/test_model.py   replays seed N
    make soak                                             thousands of seeds"""
from __future__ import annotations

import os

import pytest

import ice
import model
from firnrun import REPO, spark_jars

SEEDS = [int(os.environ["FIRN_MODEL_SEED"])] if os.environ.get("FIRN_MODEL_SEED") else list(range(1, 31))
SPARK_SEEDS = {7, 9, 10, 22}  # v3 k; v3 k, bucket(2, id); v2 truncate(10, id); v2 k
JARS = REPO / ".venv" / "jars"


@pytest.fixture(scope="module")
def spark(work_root, run_firn):
    """One Spark session for the module (as in test_spark.py: Iceberg's
    runtime, the SQLite JDBC driver, JdbcCatalog with init-catalog-tables
    off) on a catalog of its own, where each sequence's final metadata file
    is registered (Iceberg's register_table) and read."""
    jars = spark_jars()
    wh = work_root / "model-spark"
    wh.mkdir(parents=True, exist_ok=True)
    run_firn("--warehouse", wh, "namespace", "create", "spark")  # creates catalog.db
    from pyspark.sql import SparkSession
    os.environ.setdefault("PYSPARK_PYTHON", str(REPO / ".venv" / "bin" / "python"))
    s = (SparkSession.builder.master("local[1]").appName("firn-model")
         .config("spark.jars", ",".join(jars))
         .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
         .config("spark.sql.catalog.default", "org.apache.iceberg.spark.SparkCatalog")
         .config("spark.sql.catalog.default.catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog")
         .config("spark.sql.catalog.default.uri", f"jdbc:sqlite:{wh}/catalog.db")
         .config("spark.sql.catalog.default.jdbc.schema-version", "V1")
         .config("spark.sql.catalog.default.jdbc.init-catalog-tables", "false")  # see test_spark.py
         .config("spark.sql.catalog.default.warehouse", str(wh))
         .config("spark.sql.catalog.default.cache-enabled", "false")
         .config("spark.sql.shuffle.partitions", "1")
         .config("spark.ui.enabled", "false")
         .config("spark.driver.memory", "1g")
         .getOrCreate())
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def spark_rows(spark, runner, seed):
    """Spark's rows of the sequence's table at its current metadata file."""
    ns = f"s{seed}_{os.getpid()}"
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS default.{ns}")
    spark.sql(f"CALL default.system.register_table(table => '{ns}.t', metadata_file => '{runner.meta_loc()}')")
    cols = ", ".join(f"`{n}`" for n in runner.m.names())
    return model.sort_rows([tuple(r) for r in spark.sql(f"SELECT {cols} FROM default.{ns}.t").collect()])


@pytest.mark.conformance(("random operation sequences", "PyIceberg"), ("random operation sequences", "DuckDB"),
                         ("random operation sequences, final state", "Spark"))
@pytest.mark.parametrize("seed", SEEDS)
def test_sequence(run_firn, tmp, seed, request):
    """Seeds in SPARK_SEEDS also have Spark read the final state."""
    try:
        r = model.run_sequence(tmp / "wh", seed, model.n_ops_of(seed), run=run_firn)
    except model.Failure as e:
        pytest.fail(e.report, pytrace=False)
    if seed in SPARK_SEEDS:
        spark = request.getfixturevalue("spark")
        got = spark_rows(spark, r, seed)
        assert got == r.m.expected(), model.format_failure(seed, r.config, r.ops, f"Spark read {got}")


@pytest.mark.parametrize("cmd", ["merge", "delete-merge-on-read", "delete-auto"])
def test_fully_matched_file_is_removed(run_firn, tmp, cmd):
    """Found by the model (seeds 1, 15): a file whose every live row a
    change removes is dropped (files-removed), whatever came before it in
    the plan. When a planned file that matched nothing came first, firn
    carried its live-row count over to the next file's: the fully matched
    file was not dropped but rewritten to nothing (copy-on-write) or given a
    position-delete file of all its rows (merge-on-read). Rows read right;
    the table keeps a dead file and a delete file until compaction."""
    import json
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "n")
    run_firn("--warehouse", wh, "create", "n.t", "--schema", "id long not null, k string, v long",
             "--partition-by", "k")
    # the file of ids 1, 5 is planned after the one of ids 2, 4, which matches
    # nothing but cannot be pruned by its metrics
    for rows in ["1,a,1\n5,a,5\n", "2,b,2\n4,b,4\n"]:
        p = tmp / "in.csv"
        p.write_text("id,k,v\n" + rows)
        run_firn("--warehouse", wh, "append", "n.t", p)
    if cmd == "merge":
        up = tmp / "up.csv"
        up.write_text("id,k,v\n1,q,10\n5,q,50\n3,q,30\n")
        out = run_firn("--warehouse", wh, "merge", "n.t", up, "--on", "id", "--json").stdout
    else:
        out = run_firn("--warehouse", wh, "delete", "n.t", "--where", "id IN (1, 3, 5)", "--mode",
                       cmd.removeprefix("delete-"), "--json").stdout
    r = json.loads(out)
    assert (r["files-removed"], r["files-rewritten"], r["delete-files"]) == (1, 0, 0), r
    files = json.loads(run_firn("--warehouse", wh, "files", "n.t", "--json").stdout)
    assert [f["content"] for f in files].count("position-deletes") == 0


@pytest.mark.parametrize("mode", ["auto", "merge-on-read", "copy-on-write"])
def test_delete_in_a_file_of_many_row_groups(run_firn, tmp, mode):
    """Found by the model (row-group size property): a delete whose where
    lets the reader skip row groups must not take their rows for matched.
    firn counted a file's live rows over the row groups it read only, found
    every one of them matched, and removed the whole file: `delete --where
    'id < 10'` on a file of 1000 rows in 1000 row groups left 0 rows."""
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "n")
    run_firn("--warehouse", wh, "create", "n.t", "--schema", "id long not null, v long",
             "--property", "write.parquet.row-group-size-bytes=1")
    p = tmp / "in.csv"
    p.write_text("id,v\n" + "".join(f"{i},{i}\n" for i in range(1000)))
    run_firn("--warehouse", wh, "append", "n.t", p)
    run_firn("--warehouse", wh, "delete", "n.t", "--where", "id < 10", "--mode", mode)
    want = [(i, i) for i in range(10, 1000)]
    assert sorted(ice.firn_rows(run_firn, wh, "n.t")) == want
    assert sorted(ice.pyiceberg_rows(wh, "n.t")) == want
    assert sorted(ice.duck_rows(ice.describe(run_firn, wh, "n.t")["metadata-location"])) == want
