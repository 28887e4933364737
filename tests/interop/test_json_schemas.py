"""--json outputs against their schemas (issue 14): every command whose
help offers --json has docs/json/COMMAND.schema.json (JSON Schema draft
2020-12; `parquet meta` is parquet-meta), and its output in a small
session validates against it. The list of commands comes from `firn help`
itself, so a new command with --json cannot go without a schema, nor
without being run here."""
from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "json"


def commands_with_json(run_firn) -> list[str]:
    text = run_firn("help").stdout
    block = text.split("\ncommands:\n", 1)[1].split("\ntopics:\n", 1)[0]
    names = []
    for line in block.splitlines():
        words = line.split()
        if not words:
            continue
        name = " ".join(words[:2]) if words[0] == "parquet" and len(words) > 1 and \
            re.fullmatch(r"[a-z]+", words[1]) and f"parquet {words[1]}" in line[:22] else words[0]
        names.append(name)
    out = []
    for name in names:
        usage = run_firn("help", *name.split()).stdout.split("\n\n", 1)[0]
        if "--json" in usage:
            out.append(name)
    return out


def schema_of(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name.replace(' ', '-')}.schema.json").read_text())


def test_every_command_with_json_has_a_valid_schema(run_firn):
    names = commands_with_json(run_firn)
    assert {"describe", "files", "maintain", "expire", "merge", "parquet meta"} <= set(names), names
    for name in names:
        p = SCHEMAS / f"{name.replace(' ', '-')}.schema.json"
        assert p.exists(), f"{name} accepts --json but has no {p.relative_to(ROOT)}"
        s = json.loads(p.read_text())
        assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(s)
    assert "docs/json/" in (ROOT / "docs" / "reference.md").read_text()


@pytest.fixture
def session(run_firn, tmp_path):
    """Runs every --json command on a small table; {command: [outputs]}."""
    wh = tmp_path / "wh"
    seen: dict[str, list] = {}

    def j(name, *args):
        r = run_firn("--warehouse", wh, *args, "--json")
        if r.stdout.strip():
            seen.setdefault(name, []).append(json.loads(r.stdout))
        return r
    j("namespace", "namespace", "create", "db")
    j("namespace", "namespace", "list")
    j("namespace", "namespace", "describe", "db")
    j("create", "create", "db.e", "--schema", "id long")
    j("describe", "describe", "db.e")  # no snapshot yet
    j("snapshots", "snapshots", "db.e")
    j("files", "files", "db.e")
    j("create", "create", "db.t", "--schema", "id long not null, v string, d date, tags list<string>, "
      "m map<string, int>, s struct<a: int, b: list<long>>", "--partition-by", "month(d), bucket(2, id)",
      "--sort-by", "id desc nulls last")
    p = tmp_path / "in.jsonl"
    p.write_text("".join(json.dumps({"id": i, "v": f"v{i}", "d": f"2026-0{1 + i % 3}-05", "tags": ["x"],
                                     "m": {"k": i}, "s": {"a": i, "b": [i]}}) + "\n" for i in range(20)))
    j("append", "append", "db.t", p)
    j("append", "append", "db.t", p)
    j("tables", "tables")
    j("tables", "tables", "db")
    j("location", "location", "db.t")
    j("count", "count", "db.t", "--where", "id < 5")
    j("delete", "delete", "db.t", "--where", "id = 3", "--mode", "merge-on-read")
    j("update", "update", "db.t", "--set", "v = 'z'", "--where", "id = 4")
    j("merge", "merge", "db.t", p, "--on", "id")
    j("overwrite", "overwrite", "db.t", p, "--where", "id >= 0")
    j("describe", "describe", "db.t")
    j("snapshots", "snapshots", "db.t")
    j("history", "history", "db.t")
    j("files", "files", "db.t")
    j("tag", "tag", "db.t", "t1")
    j("branch", "branch", "db.t", "b1")
    j("branch", "branch", "db.t", "b1", "--drop")
    first = seen["snapshots"][-1][0]["snapshot-id"]
    j("rollback", "rollback", "db.t", "--to", str(first))
    j("alter", "alter", "db.t", "set-property", "a=b")
    j("compact", "compact", "db.t")
    j("maintain", "maintain", "db.t", "--dry-run")
    j("maintain", "maintain", "db.t")
    j("expire", "expire", "db.t", "--older-than", "now", "--dry-run")
    j("expire", "expire", "db.t", "--older-than", "now", "--retain-last", "1")
    j("remove-orphans", "remove-orphans", "db.t", "--older-than", "2000-01-01", "--dry-run", "--force")
    from deltalake import write_deltalake
    import pyarrow as pa
    delta = tmp_path / "delta"
    write_deltalake(str(delta), pa.table({"id": pa.array([1, 2], pa.int64())}))
    j("import", "import", "delta", delta, "db.imported")
    write_deltalake(str(delta), pa.table({"id": pa.array([3], pa.int64())}), mode="append")
    j("import", "import", "delta", delta, "db.imported", "--incremental")
    pq = tmp_path / "t.parquet"
    run_firn("--warehouse", wh, "scan", "db.t", "--format", "parquet", "--output", pq)
    r = run_firn("parquet", "meta", pq, "--json")
    seen["parquet meta"] = [json.loads(r.stdout)]
    return seen


def test_outputs_validate_against_their_schemas(run_firn, session):
    names = commands_with_json(run_firn)
    missing = [n for n in names if n not in session]
    assert not missing, f"commands with --json this test does not run: {missing}"
    for name, outputs in session.items():
        v = jsonschema.Draft202012Validator(schema_of(name))
        for out in outputs:
            errors = sorted(v.iter_errors(out), key=lambda e: list(e.path))
            assert not errors, f"{name}: {errors[0].message} at {list(errors[0].path)}"
    # the schemas are not vacuous: a wrong type fails
    bad = dict(session["merge"][0], **{"rows-inserted": "15"})
    assert list(jsonschema.Draft202012Validator(schema_of("merge")).iter_errors(bad))
    no_field = {k: v for k, v in session["expire"][0].items() if k != "kept-by-age"}
    assert list(jsonschema.Draft202012Validator(schema_of("expire")).iter_errors(no_field))
