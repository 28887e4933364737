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


def test_fully_matched_file_is_removed(run_firn, tmp):
    """Found by the model: a file whose every live row a merge replaces is
    removed, not rewritten, wherever it comes in the plan. With the untouched file planned first, firn
    reported (and did) a copy-on-write rewrite: the per-file state of the
    untouched file (its live-row count) carried over to the next one."""
    import json
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "n")
    run_firn("--warehouse", wh, "create", "n.t", "--schema", "id long not null, k string, v long",
             "--partition-by", "k")
    for row in ["1,a,1", "2,b,2"]:  # the file of id 1 is planned after the one of id 2
        p = tmp / "in.csv"
        p.write_text(f"id,k,v\n{row}\n")
        run_firn("--warehouse", wh, "append", "n.t", p)
    up = tmp / "up.csv"
    up.write_text("id,k,v\n1,q,10\n")
    out = run_firn("--warehouse", wh, "merge", "n.t", up, "--on", "id", "--json").stdout
    r = json.loads(out)
    assert (r["files-removed"], r["files-rewritten"], r["delete-files"]) == (1, 0, 0), r
