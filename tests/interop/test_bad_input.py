"""Bad input: firn must fail cleanly -- exit 1 and exactly one stderr line
"firn: error: …" (exit 2 for usage errors), never a signal, never a hang
(10 s per run).

Covered: truncated files (every 37th prefix, and the last 1..12 bytes cut),
wrong magic, corrupt footer lengths, ~200 seeded random byte flips in the
footer and in the pages (a flip inside page values may go undetected: exit 0
with JSON Lines output is accepted there, and for footer flips that land in
a string or a statistics value), a directory, a missing file, an empty file,
CSV/JSONL input with a wrong number of fields or unparseable values (the
message names the line, and the column), unknown options and values, bad
--schema specs.
"""
from __future__ import annotations

import decimal
import json
import random
import struct

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from firnrun import assert_error

TIMEOUT = 10


def base_table(n=60):
    rng = random.Random(5)
    return pa.table({
        "id": pa.array(range(n), pa.int64()),
        "name": pa.array([None if i % 9 == 0 else f"name-{rng.randint(0, 20)}" for i in range(n)]),
        "tags": pa.array([None if i % 7 == 0 else [rng.randint(-9, 9) for _ in range(i % 4)] for i in range(n)],
                         pa.list_(pa.int32())),
        "price": pa.array([decimal.Decimal(rng.randint(-10 ** 8, 10 ** 8)).scaleb(-2) for _ in range(n)],
                          pa.decimal128(18, 2)),
        "loc": pa.array([None if i % 5 == 0 else {"lat": rng.random(), "lon": None if i % 3 else rng.random()}
                         for i in range(n)]),
    })


BASES = {
    "plain-dict": dict(compression="NONE", use_dictionary=True),
    "zstd-plain": dict(compression="ZSTD", use_dictionary=False),
    "snappy-v2": dict(compression="SNAPPY", use_dictionary=True, data_page_version="2.0"),
}


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad-bases")
    out = {}
    for name, kw in BASES.items():
        p = d / f"{name}.parquet"
        pq.write_table(base_table(), p, **kw)
        out[name] = p
    return out


def footer_start(data: bytes) -> int:
    n = struct.unpack_from("<i", data, len(data) - 8)[0]
    return len(data) - 8 - n


def run_variants(run_firn, tmp, variants, cmd=("cat", "--format", "jsonl"), allow_success=False):
    """variants: [(label, bytes)]. Returns the list of problems."""
    problems = []
    for label, data in variants:
        p = tmp / f"{label}.parquet"
        p.write_bytes(data)
        try:
            res = run_firn("parquet", cmd[0], p, *cmd[1:], check=False, timeout=TIMEOUT)
        except AssertionError as e:  # signal or hang
            problems.append(f"{label}: {str(e).splitlines()[0]}")
            continue
        if res.returncode == 0 and allow_success:
            if res.stderr_bytes:
                problems.append(f"{label}: exit 0 with stderr {res.stderr[:200]!r} ({res.shell})")
            try:
                for line in res.stdout.splitlines():
                    if not isinstance(json.loads(line), dict):
                        raise ValueError(line[:100])
            except (ValueError, UnicodeDecodeError) as e:
                problems.append(f"{label}: exit 0 but output is not JSON Lines ({e}) ({res.shell})")
            continue
        try:
            assert_error(res, 1)
        except AssertionError as e:
            problems.append(f"{label}: {str(e).splitlines()[0]}")
        else:
            p.unlink()  # keep only the failing variants for reproduction
    return problems


def _report(problems, total):
    assert not problems, f"{len(problems)} of {total} variants misbehaved:\n  " + "\n  ".join(problems[:40])


# ------------------------------------------------------------ truncation


@pytest.mark.parametrize("cmd", [("cat", "--format", "jsonl"), ("meta", "--json"), ("schema",)],
                         ids=["cat", "meta", "schema"])
def test_truncated_files(run_firn, bases, tmp, cmd):
    data = bases["plain-dict"].read_bytes()
    lengths = sorted(set(list(range(0, len(data), 37)) + [len(data) - k for k in range(1, 13)]))
    variants = [(f"trunc-{n}", data[:n]) for n in lengths]
    _report(run_variants(run_firn, tmp, variants, cmd), len(variants))


def test_truncated_compressed_files(run_firn, bases, tmp):
    variants = []
    for name in ("zstd-plain", "snappy-v2"):
        data = bases[name].read_bytes()
        fs = footer_start(data)
        for n in sorted(set(list(range(4, fs, max(1, fs // 8))) + [fs - 1, fs + 1, len(data) - 5])):
            variants.append((f"{name}-trunc-{n}", data[:n]))
    _report(run_variants(run_firn, tmp, variants), len(variants))


# ----------------------------------------------------- magic and footer


def test_wrong_magic(run_firn, bases, tmp):
    data = bases["plain-dict"].read_bytes()
    variants = [
        ("head-PAR2", b"PAR2" + data[4:]),
        ("tail-PAR2", data[:-4] + b"PAR2"),
        ("both-xxxx", b"XXXX" + data[4:-4] + b"XXXX"),
        ("encrypted-PARE", data[:-4] + b"PARE"),
        ("text-file", b"id,name\n1,a\n" * 10),
        ("only-magic", b"PAR1"),
        ("magic-twice", b"PAR1PAR1"),
        ("magic-zero-len", b"PAR1" + b"\x00\x00\x00\x00" + b"PAR1"),
    ]
    _report(run_variants(run_firn, tmp, variants), len(variants))


def test_bad_magic_message_names_file(run_firn, bases, tmp):
    p = tmp / "bad.parquet"
    p.write_bytes(b"PAR2" + bases["plain-dict"].read_bytes()[4:-4] + b"PAR2")
    res = run_firn("parquet", "cat", p, check=False, timeout=TIMEOUT)
    msg = assert_error(res, 1, mentions=["bad.parquet"])
    assert "magic" in msg.lower() or "not a parquet file" in msg.lower(), msg


@pytest.mark.parametrize("cmd", [("cat", "--format", "jsonl"), ("meta", "--json")], ids=["cat", "meta"])
def test_corrupt_footer_length(run_firn, bases, tmp, cmd):
    data = bases["plain-dict"].read_bytes()
    n = struct.unpack_from("<i", data, len(data) - 8)[0]
    variants = []
    for label, v in (("zero", 0), ("one", 1), ("minus1", n - 1), ("plus1", n + 1), ("half", n // 2),
                     ("filelen", len(data)), ("beyond", len(data) - 7), ("huge", 0x7FFFFFFF),
                     ("negative", -1), ("int-min", -2 ** 31)):
        variants.append((f"len-{label}", data[:-8] + struct.pack("<i", v) + b"PAR1"))
    _report(run_variants(run_firn, tmp, variants, cmd), len(variants))


# --------------------------------------------------------- byte flips


def _flips(data: bytes, lo: int, hi: int, rng: random.Random, count: int) -> bytes:
    b = bytearray(data)
    for _ in range(count):
        i = rng.randrange(lo, hi)
        b[i] ^= rng.randrange(1, 256)
    return bytes(b)


@pytest.mark.parametrize("region", ["footer", "pages"])
def test_random_byte_flips(run_firn, bases, tmp, region):
    """~100 variants per region (3 base files); must never crash or hang.
    Exit 0 is accepted (corruption inside values or strings can be
    undetectable) when the output is well-formed JSON Lines."""
    variants = []
    for bi, (name, path) in enumerate(sorted(bases.items())):
        data = path.read_bytes()
        fs = footer_start(data)
        lo, hi = (fs, len(data) - 8) if region == "footer" else (4, fs)
        rng = random.Random(1000 * bi + (region == "footer"))
        for k in range(34):
            variants.append((f"{name}-{region}-{k}", _flips(data, lo, hi, rng, 1 + k % 3)))
    _report(run_variants(run_firn, tmp, variants, allow_success=True), len(variants))


def test_footer_flips_meta(run_firn, bases, tmp):
    data = bases["zstd-plain"].read_bytes()
    fs = footer_start(data)
    rng = random.Random(77)
    variants = [(f"meta-flip-{k}", _flips(data, fs, len(data) - 8, rng, 1)) for k in range(30)]
    problems = []
    for label, blob in variants:
        p = tmp / f"{label}.parquet"
        p.write_bytes(blob)
        res = run_firn("parquet", "meta", p, "--json", check=False, timeout=TIMEOUT)
        if res.returncode == 0:
            try:
                json.loads(res.stdout)
            except ValueError as e:
                problems.append(f"{label}: exit 0 but not JSON ({e}) ({res.shell})")
            continue
        try:
            assert_error(res, 1)
        except AssertionError as e:
            problems.append(f"{label}: {str(e).splitlines()[0]}")
    _report(problems, len(variants))


# ------------------------------------------------ not a file, no file


@pytest.mark.parametrize("cmd", ["cat", "meta", "schema"])
def test_directory_missing_empty(run_firn, tmp, cmd):
    d = tmp / "adir.parquet"
    d.mkdir()
    empty = tmp / "empty.parquet"
    empty.write_bytes(b"")
    for p, name in ((d, "adir.parquet"), (tmp / "missing.parquet", "missing.parquet"), (empty, "empty.parquet")):
        res = run_firn("parquet", cmd, p, check=False, timeout=TIMEOUT)
        assert_error(res, 1, mentions=[name])


def test_convert_missing_input_and_bad_output(run_firn, tmp):
    res = run_firn("parquet", "convert", tmp / "nope.csv", tmp / "o.parquet", "--schema", "id long",
                   check=False, timeout=TIMEOUT)
    assert_error(res, 1, mentions=["nope.csv"])
    src = tmp / "in.csv"
    src.write_text("id\n1\n")
    res = run_firn("parquet", "convert", src, tmp / "no" / "such" / "dir" / "o.parquet", "--schema", "id long",
                   check=False, timeout=TIMEOUT)
    assert_error(res, 1)
    res = run_firn("parquet", "convert", src, tmp, "--schema", "id long", check=False, timeout=TIMEOUT)
    assert_error(res, 1)


def test_scan_output_onto_a_directory(run_firn, tmp):
    """scan --output naming a directory: one error line naming it, the
    directory untouched, no temporary file left beside it."""
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "d")
    run_firn("--warehouse", wh, "create", "d.t", "--schema", "id long")
    src = tmp / "in.csv"
    src.write_text("id\n1\n")
    run_firn("--warehouse", wh, "append", "d.t", src)
    out = tmp / "outdir"
    out.mkdir()
    for fmt in ("csv", "jsonl", "parquet"):
        res = run_firn("--warehouse", wh, "scan", "d.t", "--format", fmt, "--output", out,
                       check=False, timeout=TIMEOUT)
        assert_error(res, 1, mentions=["outdir"])
    assert list(out.iterdir()) == []
    assert not [p for p in tmp.iterdir() if ".firn-" in p.name]


# ------------------------------------------------------- CSV / JSONL


def _convert_error(run_firn, tmp, name, text, schema, mentions=(), **kw):
    src = tmp / name
    src.write_text(text, encoding="utf-8")
    out = tmp / (name + ".parquet")
    args = ["parquet", "convert", src, out]
    if schema is not None:
        args += ["--schema", schema]
    res = run_firn(*args, check=False, timeout=TIMEOUT)
    msg = assert_error(res, 1, mentions=mentions)
    return msg, out, res


SCHEMA = "id long, name string, price decimal(10,2), day date, ok boolean, n int"
HEADER = "id,name,price,day,ok,n\n"
GOOD = "1,a,1.50,2017-11-16,true,5\n"


def _names_column(msg: str, name: str, index1: int) -> bool:
    return name in msg or f"column {index1}" in msg or f"field {index1}" in msg


@pytest.mark.parametrize("bad_line,line_no", [
    ("2,b,2.50,2017-11-16,true\n", 3),          # too few fields
    ("2,b,2.50,2017-11-16,true,5,extra\n", 3),  # too many fields
], ids=["too-few", "too-many"])
def test_csv_wrong_field_count(run_firn, tmp, bad_line, line_no):
    msg, _, res = _convert_error(run_firn, tmp, "bad.csv", HEADER + GOOD + bad_line + GOOD, SCHEMA)
    assert f"line {line_no}" in msg or f":{line_no}:" in msg, f"{msg!r} does not name line {line_no} ({res.shell})"


@pytest.mark.parametrize("col,value", [
    ("id", "abc"), ("id", "9223372036854775808"), ("price", "1.2.3"), ("price", "123456789012.00"),
    ("day", "2017-13-45"), ("ok", "maybe"), ("n", "2147483648"), ("n", "1.5"),
])
def test_csv_unparseable_value(run_firn, tmp, col, value):
    cols = ["id", "name", "price", "day", "ok", "n"]
    row = ["2", "b", "2.50", "2017-11-17", "false", "6"]
    row[cols.index(col)] = value
    text = HEADER + GOOD + GOOD + ",".join(row) + "\n" + GOOD
    msg, _, res = _convert_error(run_firn, tmp, "bad.csv", text, SCHEMA)
    assert "line 4" in msg or ":4:" in msg, f"{msg!r} does not name line 4 ({res.shell})"
    assert _names_column(msg, col, cols.index(col) + 1), f"{msg!r} does not name column {col} ({res.shell})"


def test_failed_convert_leaves_no_output(run_firn, tmp):
    text = HEADER + GOOD * 1000 + "x,b,2.50,2017-11-17,false,6\n"
    _, out, res = _convert_error(run_firn, tmp, "late-error.csv", text, SCHEMA)
    assert not out.exists(), f"a failed convert left {out} behind ({res.shell})"


def test_jsonl_invalid_json(run_firn, tmp):
    text = '{"id": 1}\n{"id": 2}\n{"id": 3,,}\n{"id": 4}\n'
    msg, _, res = _convert_error(run_firn, tmp, "bad.jsonl", text, "id long")
    assert "line 3" in msg or ":3:" in msg, f"{msg!r} ({res.shell})"


@pytest.mark.parametrize("obj,col", [('{"id": "abc"}', "id"), ('{"id": 1, "d": "2017-02-30"}', "d"),
                                     ('{"id": 1, "l": {"a": 1}}', "l"), ('{"id": 1, "s": {"x": "y"}}', "s"),
                                     ('{"id": 1.5}', "id")])
def test_jsonl_wrong_value(run_firn, tmp, obj, col):
    text = '{"id": 1}\n' + obj + "\n"
    msg, _, res = _convert_error(run_firn, tmp, "bad.jsonl", text, "id long, d date, l list<int>, s struct<x: int>")
    assert "line 2" in msg or ":2:" in msg, f"{msg!r} ({res.shell})"
    assert col in msg, f"{msg!r} does not name {col} ({res.shell})"


def test_required_column_null(run_firn, tmp):
    msg, _, res = _convert_error(run_firn, tmp, "bad.jsonl", '{"id": 1}\n{"id": null}\n', "id long not null")
    assert "line 2" in msg or ":2:" in msg, f"{msg!r} ({res.shell})"


# ------------------------------------------------------ bad commands


@pytest.mark.parametrize("spec", [
    "id lng", "price decimal(10", "price decimal(39,2)", "x list<>", "a int, a long",
    "m map<string>", "id long not", "l list<int not null", "s struct<a: int", "t timestamp(6)",
])
def test_bad_schema_spec(run_firn, tmp, spec):
    src = tmp / "in.csv"
    src.write_text("id\n1\n")
    res = run_firn("parquet", "convert", src, tmp / "o.parquet", "--schema", spec, check=False, timeout=TIMEOUT)
    assert_error(res, 1)


def _usage_or_error(res):
    """Exit 2 (usage) with a message, or exit 1 with the one-line form."""
    assert res.returncode in (1, 2), f"exit {res.returncode} ({res.shell})\n{res.stderr[-500:]}"
    assert_error(res, res.returncode)


@pytest.mark.parametrize("args", [
    ["--compression", "brotli"], ["--compression", "lzo"], ["--dictionary", "maybe"], ["--format", "xml"],
    ["--row-group-size", "abc"], ["--page-size", "-5"],
], ids=lambda a: "_".join(a))
def test_bad_convert_option_values(run_firn, tmp, args):
    """A bad option value: exit 2 (usage) or 1, never success."""
    src = tmp / "in.csv"
    src.write_text("id\n1\n")
    out = tmp / "o.parquet"
    res = run_firn("parquet", "convert", src, out, "--schema", "id long", *args, check=False, timeout=TIMEOUT)
    _usage_or_error(res)


@pytest.mark.parametrize("args", [["--limit", "ten"], ["--limit", "-1"], ["--format", "xml"],
                                  ["--columns", ""]], ids=lambda a: "_".join(a))
def test_bad_cat_option_values(run_firn, bases, args):
    res = run_firn("parquet", "cat", bases["plain-dict"], *args, check=False, timeout=TIMEOUT)
    _usage_or_error(res)


@pytest.mark.parametrize("args", [
    ["parquet", "cat"], ["parquet", "frobnicate", "x"], ["parquet", "cat", "{f}", "--bogus"],
    ["parquet", "convert", "{f}"], ["parquet", "cat", "{f}", "--limit"], ["parquet", "meta"],
    ["parquet", "schema", "{f}", "extra-arg"],
], ids=lambda a: "_".join(x.strip("{}-") for x in a))
def test_usage_errors(run_firn, bases, args):
    argv = [str(bases["plain-dict"]) if a == "{f}" else a for a in args]
    res = run_firn(*argv, check=False, timeout=TIMEOUT)
    assert res.returncode == 2, f"expected usage error (2), got {res.returncode}: {res.shell}\n{res.stderr[-300:]}"
    assert_error(res, 2)
