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

import model

SEEDS = [int(os.environ["FIRN_MODEL_SEED"])] if os.environ.get("FIRN_MODEL_SEED") else list(range(1, 31))


@pytest.mark.conformance(("random operation sequences", "PyIceberg"), ("random operation sequences", "DuckDB"))
@pytest.mark.parametrize("seed", SEEDS)
def test_sequence(run_firn, tmp, seed):
    try:
        model.run_sequence(tmp / "wh", seed, model.n_ops_of(seed), run=run_firn)
    except model.Failure as e:
        pytest.fail(e.report, pytrace=False)


@pytest.mark.parametrize("cmd", ["merge", "delete-mor", "delete-auto"])
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
