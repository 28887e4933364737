"""Input firn must not trust: Parquet page checksums, counts and sizes read
from a file (bounded before anything is allocated, peak RSS measured), a
single huge CSV / JSON Lines record (memory within a few times its size),
and timestamps that do not fit the column (out of range, or sub-microsecond
digits going into a microsecond column; --truncate-timestamps).

Reference readers decide what is right: pyarrow (checksums, the values of
the files), PyIceberg (the tables firn wrote)."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import struct
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ice
import pqraw
from firnrun import assert_error, firn_path

# ------------------------------------------------------------ helpers


def cat_rows(run_firn, path) -> list:
    res = run_firn("parquet", "cat", path, "--format", "jsonl")
    return [json.loads(line) for line in res.stdout.splitlines()]


def new_table(run_firn, wh, schema: str, *extra, name: str = "ns.t"):
    if not (wh / "catalog.db").exists():
        run_firn("--warehouse", wh, "namespace", "create", "ns")
    run_firn("--warehouse", wh, "create", name, "--schema", schema, *extra)


_MEASURE = r"""
import json, os, resource, subprocess, sys
def cap():  # a safety net: a regression fails the test instead of the machine
    if not os.environ.get("FIRN_TEST_SANITIZED"):  # ASan reserves terabytes of address space
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
p = subprocess.run(sys.argv[1:], capture_output=True, preexec_fn=cap, timeout=120)
print(json.dumps({"rc": p.returncode, "stderr": p.stderr.decode("utf-8", "replace"),
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


class Measured:
    def __init__(self, cmd, d):
        self.cmd = cmd
        self.returncode = d["rc"]
        self.stderr = d["stderr"]
        self.stderr_bytes = self.stderr.encode()
        self.rss_mb = d["maxrss_kb"] / 1024
        self.shell = " ".join(map(str, cmd))


def _sanitized() -> bool:
    """Whether the binary under test is an AddressSanitizer build (make asan):
    its address space cannot be capped and its memory overhead is larger."""
    try:
        return b"__asan_init" in firn_path().read_bytes()
    except OSError:
        return False


SANITIZED = _sanitized()
RSS_FACTOR = 4 if SANITIZED else 1  # ASan's shadow memory and redzones


def measured(*args) -> Measured:
    """Runs firn in a fresh interpreter and returns its exit, stderr and
    peak RSS (the only child of that interpreter)."""
    cmd = [str(firn_path())] + [str(a) for a in args]
    env = dict(os.environ, FIRN_TEST_SANITIZED="1" if SANITIZED else "")
    out = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, check=True,
                         timeout=180, env=env)
    return Measured(cmd, json.loads(out.stdout))


# ====================================================== 1. page checksums

CRC_CASES = {
    "plain-v1": dict(compression="NONE", use_dictionary=False),
    "snappy-v2-dict": dict(compression="SNAPPY", use_dictionary=True, data_page_version="2.0"),
    "zstd-dict": dict(compression="ZSTD", use_dictionary=True),
}


def crc_table():
    n = 500
    return pa.table({"id": pa.array(range(n), pa.int64()),
                     "name": pa.array([None if i % 7 == 0 else f"name-{i % 37}" for i in range(n)])})


def flip_in_page(path, out, col_index: int, page_type: str):
    """Copies path to out with one byte flipped in the middle of the payload
    of the first page_type page of column col_index."""
    meta = pqraw.file_meta(path)
    col = meta["row_groups"][0]["columns"][col_index]
    page = next(p for p in pqraw.column_pages(path, col) if p["type"] == page_type)
    assert page["crc"] is not None
    data = bytearray(path.read_bytes())
    at = page["offset"] + page["header_len"] + page["compressed_page_size"] // 2
    data[at] ^= 0x40
    out.write_bytes(bytes(data))
    return page["offset"]


CRC_FLIPS = [(case, "DATA") for case in CRC_CASES] + [
    (case, "DICTIONARY_PAGE") for case, kw in CRC_CASES.items() if kw["use_dictionary"]]


@pytest.mark.parametrize("case,page_type", CRC_FLIPS, ids=[f"{c}-{t}" for c, t in CRC_FLIPS])
def test_page_checksum_mismatch_is_refused(run_firn, tmp, case, page_type):
    kw = CRC_CASES[case]
    good = tmp / "good.parquet"
    pq.write_table(crc_table(), good, write_page_checksum=True, **kw)
    ptype = page_type if page_type != "DATA" else (
        "DATA_PAGE_V2" if kw.get("data_page_version") == "2.0" else "DATA_PAGE")
    bad = tmp / "bad.parquet"
    page_at = flip_in_page(good, bad, 1, ptype)
    # pyarrow, verifying, refuses the file; firn does too
    with pytest.raises(OSError, match="CRC"):
        pq.read_table(bad, page_checksum_verification=True)
    msg = assert_error(run_firn("parquet", "cat", bad, "--format", "jsonl", check=False), 1,
                       mentions=("bad.parquet", "column name", f"page at byte {page_at}", "checksum"))
    assert "row group 0" in msg
    wh = tmp / "wh"
    new_table(run_firn, wh, "id long, name string")
    assert_error(run_firn("--warehouse", wh, "append", "ns.t", bad, check=False), 1,
                 mentions=("bad.parquet", "checksum"))
    # the unflipped file reads as pyarrow reads it
    want = [{"id": r["id"], "name": r["name"]} for r in crc_table().to_pylist()]
    assert cat_rows(run_firn, good) == want
    run_firn("--warehouse", wh, "append", "ns.t", good)
    assert ice.pyiceberg_rows(wh, "ns.t") == ice.rows(crc_table())


# ============================================ 2. counts bounded by the file
# A Thrift compact writer, to build a small file by hand and lie in it.

I32, I64, BINARY, LIST, STRUCT = 5, 6, 8, 9, 12


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zz(n: int) -> bytes:
    return varint((n << 1) ^ (n >> 63))


def tstruct(*fields) -> bytes:
    """fields: (id, type, payload bytes), ids increasing."""
    out, last = bytearray(), 0
    for fid, ftype, payload in fields:
        d = fid - last
        out += bytes([(d << 4) | ftype]) if 0 < d <= 15 else bytes([ftype]) + zz(fid)
        out += payload
        last = fid
    return bytes(out + b"\x00")


def tlist(etype: int, items, size=None) -> bytes:
    n = len(items) if size is None else size
    head = bytes([(n << 4) | etype]) if n < 15 else bytes([0xF0 | etype]) + varint(n)
    return head + b"".join(items)


def tbin(b) -> bytes:
    b = b.encode() if isinstance(b, str) else b
    return varint(len(b)) + b


def crafted(root_children=1, schema_size=None, rg_size=None, col_size=None, kv_size=None,
            enc_size=None, path_size=None, dict_values=None, page_cps=None, page_ups=None,
            page_values=None, snappy=False, pad=16 * 1024) -> bytes:
    """A Parquet file of one required INT64 column x = [7, 7, 7] (dictionary
    encoded when dict_values is given; SNAPPY when snappy), each count
    overridable."""
    pages = b""
    if dict_values is not None:
        body = struct.pack("<q", 7)
        pages += tstruct((1, I32, zz(2)), (2, I32, zz(len(body))), (3, I32, zz(len(body))),
                         (7, STRUCT, tstruct((1, I32, zz(dict_values)), (2, I32, zz(0))))) + body
        data = bytes([1]) + varint(3 << 1) + b"\x00"  # bit width 1, a run of 3 zeros
        enc = 8
    else:
        data = struct.pack("<3q", 7, 7, 7)
        enc = 0
    ups = len(data) if page_ups is None else page_ups
    if snappy:  # the length, then one literal
        data = varint(len(data)) + bytes([(len(data) - 1) << 2]) + data
    cps = len(data) if page_cps is None else page_cps
    header = tstruct((1, I32, zz(0)), (2, I32, zz(ups)), (3, I32, zz(cps)),
                     (5, STRUCT, tstruct((1, I32, zz(3 if page_values is None else page_values)),
                                         (2, I32, zz(enc)), (3, I32, zz(3)), (4, I32, zz(3)))))
    data_at = 4 + len(pages)
    pages += header + data
    cm = [(1, I32, zz(2)), (2, LIST, tlist(I32, [zz(0), zz(3)] + ([zz(8)] if enc else []), enc_size)),
          (3, LIST, tlist(BINARY, [tbin("x")], path_size)), (4, I32, zz(1 if snappy else 0)),
          (5, I64, zz(3)),
          (6, I64, zz(len(pages))), (7, I64, zz(len(pages))), (9, I64, zz(data_at))]
    if dict_values is not None:
        cm.append((11, I64, zz(4)))
    chunk = tstruct((2, I64, zz(4)), (3, STRUCT, tstruct(*cm)))
    rg = tstruct((1, LIST, tlist(STRUCT, [chunk], col_size)), (2, I64, zz(len(pages))), (3, I64, zz(3)))
    fields = [(1, I32, zz(1)),
              (2, LIST, tlist(STRUCT, [tstruct((4, BINARY, tbin("schema")), (5, I32, zz(root_children))),
                                       tstruct((1, I32, zz(2)), (3, I32, zz(0)), (4, BINARY, tbin("x")))],
                              schema_size)),
              (3, I64, zz(3)), (4, LIST, tlist(STRUCT, [rg], rg_size))]
    if kv_size is not None:
        fields.append((5, LIST, tlist(STRUCT, [tstruct((1, BINARY, tbin("k")))], kv_size)))
    footer = tstruct(*fields)
    body = b"PAR1" + pages
    body += b"\x00" * max(0, pad - len(body) - len(footer) - 8)
    return body + footer + struct.pack("<I", len(footer)) + b"PAR1"


HUGE = 2 ** 31 - 1

LIES = {
    "root-num-children": dict(root_children=HUGE),
    "schema-elements": dict(schema_size=HUGE),
    "row-groups": dict(rg_size=HUGE),
    "columns": dict(col_size=HUGE),
    "key-value-metadata": dict(kv_size=HUGE),
    "encodings": dict(enc_size=HUGE),
    "path-in-schema": dict(path_size=HUGE),
    "dictionary-values": dict(dict_values=HUGE),
    "page-compressed-size": dict(page_cps=HUGE),
    "page-uncompressed-size": dict(page_ups=HUGE, snappy=True),
    "page-num-values": dict(page_values=HUGE),
}


@pytest.mark.parametrize("dictionary,snappy", [(False, False), (True, False), (False, True)],
                         ids=["plain", "dict", "snappy"])
def test_crafted_base_file_is_valid(run_firn, tmp, dictionary, snappy):
    """The builder above writes what pyarrow and firn read as x = [7, 7, 7]."""
    p = tmp / "base.parquet"
    p.write_bytes(crafted(dict_values=1 if dictionary else None, snappy=snappy))
    assert p.stat().st_size == 16 * 1024
    assert pq.read_table(p).column("x").to_pylist() == [7, 7, 7]
    assert cat_rows(run_firn, p) == [{"x": 7}] * 3


@pytest.mark.parametrize("lie", list(LIES), ids=list(LIES))
def test_counts_bounded_before_allocating(tmp, lie):
    p = tmp / f"{lie}.parquet"
    p.write_bytes(crafted(**LIES[lie]))
    assert p.stat().st_size == 16 * 1024
    for cmd in (("parquet", "cat", p, "--format", "jsonl"), ("parquet", "meta", p)):
        res = measured(*cmd)
        if res.returncode == 0 and cmd[1] == "meta" and lie.startswith(("page", "dictionary")):
            continue  # meta reads no pages
        msg = assert_error(res, 1, mentions=(f"{lie}.parquet",))
        assert "out of memory" not in msg, msg
        assert res.rss_mb < 200 * RSS_FACTOR, f"{res.shell}: peak RSS {res.rss_mb:.0f} MB ({msg})"


# ========================================= 3. one huge CSV / JSONL record

LINE = 100_000_000  # bytes of the one string value


@pytest.fixture(scope="module")
def huge_value():
    # random base64: neither the compressor nor a dictionary shrinks it
    raw = base64.b64encode(os.urandom(LINE * 3 // 4)).decode()
    return raw[:LINE]


def huge_inputs(d, value):
    half = len(value) // 2
    quoted = value[:half] + '","' + value[half:]  # a comma inside, an escaped quote
    files = {
        "csv": (d / "big.csv", "id,s\n1," + value + "\n", value),
        "csv-quoted": (d / "bigq.csv", 'id,s\n1,"' + quoted.replace('"', '""') + '"\n', quoted),
        "jsonl": (d / "big.jsonl", json.dumps({"id": 1, "s": value}) + "\n", value),
    }
    for p, text, _ in files.values():
        p.write_text(text)
    return files


def digest(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def check_rss(res, line_bytes):
    limit = 4 * line_bytes / 2 ** 20 + 100
    assert res.rss_mb <= limit * RSS_FACTOR, f"{res.shell}: peak RSS {res.rss_mb:.0f} MB > {limit:.0f} MB"


@pytest.mark.parametrize("kind", ["csv", "csv-quoted", "jsonl"])
def test_huge_record_convert(tmp, huge_value, kind):
    path, text, value = huge_inputs(tmp, huge_value)[kind]
    out = tmp / "out.parquet"
    res = measured("parquet", "convert", path, out)
    assert res.returncode == 0, res.stderr
    check_rss(res, len(text))
    t = pq.read_table(out)
    assert t.column("id").to_pylist() == [1]
    assert digest(t.column("s")[0].as_py()) == digest(value)


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_huge_record_append(run_firn, tmp, huge_value, kind):
    path, text, value = huge_inputs(tmp, huge_value)[kind]
    wh = tmp / "wh"
    new_table(run_firn, wh, "id long, s string")
    res = measured("--warehouse", wh, "append", "ns.t", path)
    assert res.returncode == 0, res.stderr
    check_rss(res, len(text))
    t = ice.catalog(wh).load_table("ns.t").scan().to_arrow()
    assert t.column("id").to_pylist() == [1]
    assert digest(t.column("s")[0].as_py()) == digest(value)


# ============================================= 4. timestamps that do not fit

US = dt.timezone.utc


def firn_and_pyiceberg(run_firn, wh, table="ns.t"):
    a = ice.firn_rows(run_firn, wh, table)
    assert ice.pyiceberg_rows(wh, table) == a
    return a


@pytest.mark.parametrize("dictionary", [True, False], ids=["dict", "plain"])
def test_millis_past_the_microsecond_range(run_firn, tmp, dictionary):
    p = tmp / "ms.parquet"
    t = pa.table({"id": pa.array([1, 2, 3, 4], pa.int64()),
                  "ts": pa.array([0, None, -1, 2 ** 62], pa.timestamp("ms"))})
    pq.write_table(t, p, use_dictionary=dictionary)
    assert_error(run_firn("parquet", "cat", p, "--format", "jsonl", check=False), 1,
                 mentions=("ms.parquet", "column ts", "row 3", "4611686018427387904 ms", "out of range"))
    wh = tmp / "wh"
    new_table(run_firn, wh, "id long, ts timestamp")
    assert_error(run_firn("--warehouse", wh, "append", "ns.t", p, check=False), 1,
                 mentions=("ms.parquet", "column ts", "row 3", "out of range"))
    # in range: exact values, also through the table
    good = tmp / "ms-good.parquet"
    pq.write_table(t.slice(0, 3), good, use_dictionary=dictionary)
    assert cat_rows(run_firn, good) == [
        {"id": 1, "ts": "1970-01-01T00:00:00.000000"}, {"id": 2, "ts": None},
        {"id": 3, "ts": "1969-12-31T23:59:59.999000"}]
    run_firn("--warehouse", wh, "append", "ns.t", good)
    assert firn_and_pyiceberg(run_firn, wh) == sorted(
        [(1, "1970-01-01T00:00:00.000000"), (2, None), (3, "1969-12-31T23:59:59.999000")],
        key=lambda r: json.dumps(r))


def test_int96_past_the_microsecond_range(run_firn, tmp):
    p = tmp / "i96.parquet"
    t = pa.table({"ts": pa.array([0, 86_400_000_000_000], pa.timestamp("ns"))})
    pq.write_table(t, p, use_deprecated_int96_timestamps=True, use_dictionary=False, compression="NONE")
    assert cat_rows(run_firn, p) == [{"ts": "1970-01-01T00:00:00.000000+00:00"},
                                     {"ts": "1970-01-02T00:00:00.000000+00:00"}]
    data = bytearray(p.read_bytes())
    second = struct.pack("<qi", 0, 2440589)  # 1970-01-02 as INT96
    at = data.index(second)
    data[at + 8:at + 12] = struct.pack("<i", 2 ** 31 - 1)
    bad = tmp / "i96-bad.parquet"
    bad.write_bytes(bytes(data))
    assert_error(run_firn("parquet", "cat", bad, "--format", "jsonl", check=False), 1,
                 mentions=("i96-bad.parquet", "column ts", "row 1", "out of range"))


def test_date_past_the_timestamp_range(run_firn, tmp):
    p = tmp / "d.parquet"
    pq.write_table(pa.table({"ts": pa.array([0, 2 ** 31 - 1], pa.int32()).cast(pa.date32())}), p)
    wh = tmp / "wh"
    new_table(run_firn, wh, "ts timestamp")
    assert_error(run_firn("--warehouse", wh, "append", "ns.t", p, check=False), 1,
                 mentions=("d.parquet", "'ts'", "row 1", "out of range"))


NS_MSG = ("value 2026-01-01T00:00:00.123456789 has sub-microsecond digits; column ts is timestamp (µs); "
          "pass --truncate-timestamps to drop them")


def ns_parquet(p, with_sub_us: bool):
    base = 1767225600_000_000_000  # 2026-01-01
    vals = [base + 123456000, base + (123456789 if with_sub_us else 7000), base - 1000]
    pq.write_table(pa.table({"id": pa.array([1, 2, 3], pa.int64()),
                             "ts": pa.array(vals, pa.timestamp("ns"))}), p)


def test_nanos_parquet_into_micros(run_firn, tmp):
    wh = tmp / "wh"
    new_table(run_firn, wh, "id long, ts timestamp")
    bad, ok = tmp / "ns.parquet", tmp / "ns-zero.parquet"
    ns_parquet(bad, True)
    ns_parquet(ok, False)
    msg = assert_error(run_firn("--warehouse", wh, "append", "ns.t", bad, check=False), 1,
                       mentions=("ns.parquet", "row 1"))
    assert msg.endswith(NS_MSG), msg
    assert ice.snapshots(run_firn, wh, "ns.t") == []
    # sub-microsecond digits of zero are fine; the flag drops the others
    run_firn("--warehouse", wh, "append", "ns.t", ok)
    run_firn("--warehouse", wh, "append", "ns.t", bad, "--truncate-timestamps")
    assert firn_and_pyiceberg(run_firn, wh) == sorted([
        (1, "2026-01-01T00:00:00.123456"), (2, "2026-01-01T00:00:00.000007"),
        (3, "2025-12-31T23:59:59.999999"),
        (1, "2026-01-01T00:00:00.123456"), (2, "2026-01-01T00:00:00.123456"),
        (3, "2025-12-31T23:59:59.999999")], key=lambda r: json.dumps(r))


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_nanos_text_into_micros(run_firn, tmp, fmt):
    wh = tmp / "wh"
    new_table(run_firn, wh, "id long, ts timestamp, tz timestamptz")
    rows = [(1, "2026-01-01T00:00:00.123456000", "2026-01-01T00:00:00.5+00:00"),
            (2, "2026-01-01T00:00:00.123456789", "2026-01-01T01:00:00.000000001+01:00")]
    p = tmp / f"in.{fmt}"
    if fmt == "csv":
        p.write_text("id,ts,tz\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
        where = "line 3"
    else:
        p.write_text("".join(json.dumps({"id": a, "ts": b, "tz": c}) + "\n" for a, b, c in rows))
        where = "line 2"
    msg = assert_error(run_firn("--warehouse", wh, "append", "ns.t", p, check=False), 1,
                       mentions=(f"in.{fmt}: {where}",))
    assert msg.endswith(NS_MSG), msg
    # timestamptz too
    p2 = tmp / f"tz.{fmt}"
    if fmt == "csv":
        p2.write_text("id,tz\n1,2026-01-01T01:00:00.000000001+01:00\n")
    else:
        p2.write_text('{"id": 1, "tz": "2026-01-01T01:00:00.000000001+01:00"}\n')
    assert_error(run_firn("--warehouse", wh, "append", "ns.t", p2, check=False), 1,
                 mentions=("column tz is timestamptz (µs)", "--truncate-timestamps"))
    run_firn("--warehouse", wh, "append", "ns.t", p, "--truncate-timestamps")
    assert firn_and_pyiceberg(run_firn, wh) == [
        (1, "2026-01-01T00:00:00.123456", "2026-01-01T00:00:00.500000+00:00"),
        (2, "2026-01-01T00:00:00.123456", "2026-01-01T00:00:00.000000+00:00")]


def test_nanos_into_timestamp_ns_are_kept(run_firn, tmp):
    wh = tmp / "wh"
    new_table(run_firn, wh, "id long, ts timestamp_ns", "--format-version", "3")
    p = tmp / "in.csv"
    p.write_text("id,ts\n1,2026-01-01T00:00:00.123456789\n")
    run_firn("--warehouse", wh, "append", "ns.t", p)
    res = run_firn("--warehouse", wh, "scan", "ns.t", "--format", "jsonl")
    assert json.loads(res.stdout)["ts"] == "2026-01-01T00:00:00.123456789"


@pytest.mark.parametrize("cmd", ["overwrite", "merge"])
def test_truncate_flag_on_overwrite_and_merge(run_firn, tmp, cmd):
    wh = tmp / "wh"
    new_table(run_firn, wh, "id long, ts timestamp")
    p0 = tmp / "first.csv"
    p0.write_text("id,ts\n1,2025-01-01T00:00:00\n5,2025-01-05T00:00:00\n")
    run_firn("--warehouse", wh, "append", "ns.t", p0)
    p = tmp / "ns.parquet"
    ns_parquet(p, True)
    extra = ("--on", "id") if cmd == "merge" else ()
    msg = assert_error(run_firn("--warehouse", wh, cmd, "ns.t", p, *extra, check=False), 1,
                       mentions=("ns.parquet", "row 1"))
    assert msg.endswith(NS_MSG), msg
    assert len(ice.snapshots(run_firn, wh, "ns.t")) == 1
    run_firn("--warehouse", wh, cmd, "ns.t", p, *extra, "--truncate-timestamps")
    want = [(1, "2026-01-01T00:00:00.123456"), (2, "2026-01-01T00:00:00.123456"),
            (3, "2025-12-31T23:59:59.999999")]
    if cmd == "merge":
        want.append((5, "2025-01-05T00:00:00.000000"))
    assert firn_and_pyiceberg(run_firn, wh) == sorted(want, key=lambda r: json.dumps(r))


def test_truncate_flag_is_not_an_update_option(run_firn, tmp):
    wh = tmp / "wh"
    new_table(run_firn, wh, "id long, ts timestamp")
    res = run_firn("--warehouse", wh, "update", "ns.t", "--set", "id = 2", "--where", "id = 1",
                   "--truncate-timestamps", check=False)
    assert_error(res, 2)
