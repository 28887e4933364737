"""Help: every command answers --help (and firn help CMD) with a text that
describes each of its options, and docs/reference.md is the current
firn help --markdown output."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from firnrun import REPO

REGEN = "cmake --build build && build/firn help --markdown > docs/reference.md"
PROPERTIES = [
    "firn.write.cow-threshold", "firn.compact.delete-ratio", "firn.compact.max-delete-files",
    "history.expire.min-snapshots-to-keep", "history.expire.max-snapshot-age-ms",
    "history.expire.max-ref-age-ms", "write.delete.mode", "write.update.mode", "write.merge.mode",
    "write.target-file-size-bytes", "write.parquet.compression-codec",
    "write.metadata.previous-versions-max", "commit.retry.num-retries",
    "commit.retry.min-wait-ms", "commit.retry.max-wait-ms",
]


def listed(run_firn):
    """The commands firn --help lists (under "commands:"), as word lists."""
    out = run_firn("--help").stdout
    block = out.split("\ncommands:\n", 1)[1].split("\n\n", 1)[0]
    names = []
    for line in block.splitlines():
        m = re.match(r"^  ([a-z][a-z-]*(?: [a-z][a-z-]*)?)\s{2,}\S", line)
        assert m, f"not a command line in firn --help: {line!r}"
        names.append(m.group(1).split())
    return names


def split_help(text):
    """(the usage line, unwrapped; the rest)."""
    head, _, body = text.partition("\n\n")
    assert head.startswith("usage: firn "), text[:200]
    return " ".join(part.strip() for part in head.splitlines())[len("usage: "):], body


def test_the_list_holds_every_command_of_the_tables(run_firn):
    """Every cmds[] entry of cmd_table.c and every parquet subcommand is listed."""
    names = {" ".join(n) for n in listed(run_firn)}
    table = (REPO / "src/cli/cmd_table.c").read_text()
    body = table[table.index("static const struct table_cmd cmds[]"):]
    body = body[:body.index("};")]
    in_table = re.findall(r'\{ "([a-z-]+)", (?:BY_VERB|FIRN_CATALOG_\w+),', body)
    assert len(in_table) >= 26, in_table
    parquet = re.findall(r'\{ "([a-z]+)", "parquet ', (REPO / "src/cli/cmd_parquet.c").read_text())
    assert sorted(parquet) == ["cat", "convert", "meta", "schema"], parquet
    want = set(in_table) | {f"parquet {p}" for p in parquet} | {"parquet", "version"}
    assert want - names == set(), f"commands without an entry in firn --help: {sorted(want - names)}"
    assert run_firn("help").stdout == run_firn("--help").stdout


def test_every_command_describes_each_option(run_firn):
    for words in listed(run_firn):
        res = run_firn(*words, "--help")
        assert res.returncode == 0 and res.stderr == ""
        usage, body = split_help(res.stdout)
        name = " ".join(words)
        assert usage.startswith(f"firn {name}"), usage
        assert "no further help" not in body and len(body) > 80, f"firn {name}: no help text\n{body}"
        options = sorted(set(re.findall(r"--[a-z][a-z-]*", usage)))
        for opt in options:
            assert re.search(rf"^  {re.escape(opt)}\b", body, re.M), (
                f"firn {name} --help has no entry for {opt} (add it to src/cli/help.c)\n{body}")
        for line in res.stdout.splitlines():
            assert len(line) <= 79, f"firn {name} --help: line over 79 columns: {line!r}"
        # the shared sections, where they apply
        if "--where" in options:
            assert "WHERE expressions (EXPR):" in body and "IS NOT NULL" in body and "NOT IN" in body
        if "TIME" in usage:
            assert "TIME values:" in body and "epoch milliseconds" in body
        if "SPEC" in usage:
            assert "Partition specs" in body and "bucket(16, id)" in body


@pytest.mark.parametrize("flag", ["-h", "help"])
def test_help_forms_agree(run_firn, flag):
    for words in listed(run_firn):
        want = run_firn(*words, "--help").stdout
        got = run_firn("help", *words) if flag == "help" else run_firn(*words, "-h")
        assert got.returncode == 0 and got.stdout == want, f"{flag} {' '.join(words)}"


def test_unknown_help_topic_is_a_usage_error(run_firn):
    res = run_firn("help", "nosuch", check=False)
    assert res.returncode == 2 and res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("firn: error: ") and "nosuch" in lines[0], res.stderr


def test_topics_and_properties(run_firn):
    for topic in ("where", "set", "time", "spec", "input", "properties", "environment", "exit-codes"):
        out = run_firn("help", topic).stdout
        assert len(out) > 200, topic
    props = run_firn("help", "properties").stdout
    for p in PROPERTIES:
        assert re.search(rf"^  {re.escape(p)}\b", props, re.M), f"firn help properties lacks {p}"
    env = run_firn("help", "environment").stdout
    for v in ("FIRN_WAREHOUSE", "FIRN_CATALOG", "FIRN_LOCK_TIMEOUT"):
        assert v in env
    # each command names the properties it reads
    for cmd, props in {"delete": ["write.delete.mode", "firn.write.cow-threshold"],
                       "update": ["write.update.mode"], "merge": ["write.merge.mode"],
                       "expire": ["history.expire.min-snapshots-to-keep", "history.expire.max-snapshot-age-ms"],
                       "maintain": ["history.expire.max-ref-age-ms", "firn.compact.delete-ratio"],
                       "compact": ["write.target-file-size-bytes"],
                       "append": ["write.parquet.compression-codec", "commit.retry.num-retries",
                                  "write.metadata.previous-versions-max"]}.items():
        out = run_firn(cmd, "--help").stdout
        for p in props:
            assert re.search(rf"^  {re.escape(p)}\b", out, re.M), f"firn {cmd} --help lacks {p}"


def test_reference_doc_is_current(run_firn):
    md = run_firn("help", "--markdown")
    assert run_firn("help", "--all").stdout == md.stdout
    for words in listed(run_firn):
        assert f"\n### firn {' '.join(words)}\n" in md.stdout
    doc = REPO / "docs" / "reference.md"
    assert doc.exists(), f"docs/reference.md is missing: generate it with  {REGEN}"
    assert doc.read_text() == md.stdout, (
        f"docs/reference.md is stale (the help texts changed): regenerate it with  {REGEN}")
