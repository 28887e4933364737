"""Filtered scans read the filter's columns first and decode the others
only for the rows that pass (issue 13, late materialisation). Every filter
here is checked against DuckDB evaluating the same predicate over firn's
unfiltered scan, and against DuckDB's iceberg_scan of the table: on files
of many pages and row groups, with nulls, strings, decimals, a struct and a
list column, position deletes, and files older than a column."""
from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ice

N = 12000

SCHEMA = ("id long not null, a int, s string, d date, dec decimal(10,2), "
          "st struct<x int, y string>, tags list<string>, f double")

# (firn WHERE, DuckDB WHERE); most pass few rows, some most rows, some none
FILTERS = [
    ("a = 7", "a = 7"),
    ("a < 40 and s = 's3'", "a < 40 AND s = 's3'"),
    ("s is null", "s IS NULL"),
    ("s != 's1'", "s != 's1'"),
    ("d >= '2021-03-01' and d < '2021-03-04'", "d >= DATE '2021-03-01' AND d < DATE '2021-03-04'"),
    ("dec < 1.50 or dec > 118.00", "dec < 1.50 OR dec > 118.00"),
    ("st.x = 3", "st.x = 3"),
    ("id between 100 and 130", "id BETWEEN 100 AND 130"),
    ("id > 10", "id > 10"),
    ("a > 1000000", "a > 1000000"),
    ("f > 0.5 and a is not null", "f > 0.5 AND a IS NOT NULL"),
    ("s like 's1%' and id < 3000", "s LIKE 's1%' AND id < 3000"),
    ("a in (1, 2, 3) or st.y = 'y5'", "a IN (1, 2, 3) OR st.y = 'y5'"),
    ("s = 's2' and st.x = 3", "s = 's2' AND st.x = 3"),
    ("s in ('s4', 's5') and dec < 50.00 and st.y is not null", "s IN ('s4', 's5') AND dec < 50.00 AND st.y IS NOT NULL"),
]


def source_table(n=N, start=0):
    import datetime
    import decimal
    ids = list(range(start, start + n))
    base = datetime.date(2021, 1, 1)
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "a": pa.array([None if i % 11 == 0 else (i * 7919) % 100 for i in ids], pa.int32()),
        "s": pa.array([None if i % 13 == 0 else f"s{i % 9}" for i in ids], pa.string()),
        "d": pa.array([base + datetime.timedelta(days=(i * 31) % 365) for i in ids], pa.date32()),
        "dec": pa.array([None if i % 17 == 0 else decimal.Decimal(i % 12000) / 100 for i in ids], pa.decimal128(10, 2)),
        "st": pa.array([None if i % 19 == 0 else {"x": i % 10, "y": None if i % 4 == 0 else f"y{i % 7}"}
                        for i in ids], pa.struct([("x", pa.int32()), ("y", pa.string())])),
        "tags": pa.array([None if i % 23 == 0 else [f"t{i % 3}"] * (i % 4) for i in ids],
                         pa.list_(pa.string())),
        "f": pa.array([((i * 2654435761) % 1000) / 1000 for i in ids], pa.float64()),
    })


def make_table(run_firn, wh, tmp):
    run_firn("--warehouse", wh, "namespace", "create", "q")
    # small pages and row groups: many of each per file
    run_firn("--warehouse", wh, "create", "q.t", "--schema", SCHEMA,
             "--property", "write.parquet.page-row-limit=500",
             "--property", "write.parquet.row-group-size-bytes=65536")
    src = tmp / "src.parquet"
    pq.write_table(source_table(), src)
    run_firn("--warehouse", wh, "append", "q.t", src)


def expected(run_firn, wh, where_duck, columns=None):
    full = pq.read_table(scan_file(run_firn, wh))
    con = duckdb.connect()
    con.register("everything", full)
    cols = ", ".join(columns) if columns else "*"
    return ice.rows(con.execute(f"SELECT {cols} FROM everything WHERE {where_duck}").to_arrow_table())


def scan_file(run_firn, wh, *args):
    out = wh / f"scan-{abs(hash(args))}.parquet"
    run_firn("--warehouse", wh, "scan", "q.t", "--format", "parquet", "--output", out, *args)
    return out


def firn_rows(run_firn, wh, *args):
    return ice.rows(pq.read_table(scan_file(run_firn, wh, *args)))


def duck_iceberg(run_firn, wh, where_duck):
    loc = ice.describe(run_firn, wh, "q.t")["metadata-location"]
    return ice.rows(ice.duck().execute(
        f"SELECT * FROM iceberg_scan('{loc}') WHERE {where_duck}").to_arrow_table())


def test_files_have_many_pages_and_row_groups(run_firn, tmp):
    wh = tmp / "wh"
    make_table(run_firn, wh, tmp)
    files = list((wh / "q.db" / "t" / "data").glob("*.parquet"))
    md = pq.ParquetFile(files[0]).metadata
    assert md.num_row_groups >= 4
    # a column chunk of 2,000+ rows at 500 rows a page holds several pages
    assert md.row_group(0).num_rows >= 1000
    # the manifest's split offsets are the row groups' starts (as PyIceberg reads them)
    tasks = list(ice.catalog(wh).load_table("q.t").scan().plan_files())
    assert len(tasks) == 1
    starts = [min(c.dictionary_page_offset or c.data_page_offset
                  for c in (md.row_group(g).column(k) for k in range(md.num_columns)))
              for g in range(md.num_row_groups)]
    assert list(tasks[0].file.split_offsets) == starts


@pytest.mark.parametrize("fw,dw", FILTERS)
def test_filter_equals_duckdb(run_firn, tmp, fw, dw):
    wh = tmp / "wh"
    make_table(run_firn, wh, tmp)
    want = expected(run_firn, wh, dw)
    got = firn_rows(run_firn, wh, "--where", fw)
    assert got == want
    assert duck_iceberg(run_firn, wh, dw) == want


def test_filter_columns_not_in_output(run_firn, tmp):
    wh = tmp / "wh"
    make_table(run_firn, wh, tmp)
    want = expected(run_firn, wh, "a = 5 AND s = 's2'", columns=["id", "tags", "st"])
    got = firn_rows(run_firn, wh, "--where", "a = 5 and s = 's2'", "--columns", "id,tags,st")
    assert got == want and len(want) > 0


def test_filter_after_position_deletes(run_firn, tmp):
    wh = tmp / "wh"
    make_table(run_firn, wh, tmp)
    # a few rows: merge-on-read position deletes
    r = run_firn("--warehouse", wh, "delete", "q.t", "--where", "a = 3 or id in (5, 500, 5000, 11999)",
                 "--json")
    info = json.loads(r.stdout)
    assert info["delete-files"] >= 1 and info["files-rewritten"] == 0, info
    for fw, dw in FILTERS[:6]:
        want = expected(run_firn, wh, dw)
        assert firn_rows(run_firn, wh, "--where", fw) == want, fw
        assert duck_iceberg(run_firn, wh, dw) == want, fw
    assert not any(r[1] == 3 for r in firn_rows(run_firn, wh, "--where", "a < 10"))


def test_filter_on_files_older_than_a_column(run_firn, tmp):
    wh = tmp / "wh"
    make_table(run_firn, wh, tmp)
    run_firn("--warehouse", wh, "alter", "q.t", "add-column", "extra long")
    newer = source_table(3000, start=N).append_column("extra", pa.array(range(3000), pa.int64()))
    src = tmp / "newer.parquet"
    pq.write_table(newer, src)
    run_firn("--warehouse", wh, "append", "q.t", src)
    for fw, dw in [("extra < 10", "extra < 10"), ("extra is null and a = 4", "extra IS NULL AND a = 4"),
                   ("a = 4", "a = 4"), ("extra > 2990 or id < 3", "extra > 2990 OR id < 3")]:
        want = expected(run_firn, wh, dw)
        assert firn_rows(run_firn, wh, "--where", fw) == want, fw
        assert len(want) > 0


@pytest.mark.parametrize("threads", ["1", "4"])
def test_count_spread_over_threads(run_firn, tmp, threads, monkeypatch):
    """count reads a file's row groups on several threads: the same count
    for any number of them, with deletes applied."""
    wh = tmp / "wh"
    make_table(run_firn, wh, tmp)
    run_firn("--warehouse", wh, "delete", "q.t", "--where", "a = 3 or id in (5, 500, 5000, 11999)")
    monkeypatch.setenv("FIRN_THREADS", threads)
    for fw, dw in FILTERS:
        want = len(expected(run_firn, wh, dw))
        got = run_firn("--warehouse", wh, "count", "q.t", "--where", fw).stdout.strip()
        assert int(got) == want, fw


# filters on one string column: answered from each row group's dictionary
# where the column is all dictionary-encoded, decoded where it is not
ONE_STRING = [
    ("s = 's3'", "s = 's3'"),
    ("s != 's3'", "s != 's3'"),
    ("s in ('s1', 's4', 'nope')", "s IN ('s1', 's4', 'nope')"),
    ("s not in ('s1', 's4')", "s NOT IN ('s1', 's4')"),
    ("s like 's1%'", "s LIKE 's1%'"),
    ("s not like '%2'", "s NOT LIKE '%2'"),
    ("starts_with(s, 's10')", "starts_with(s, 's10')"),
    ("s is null", "s IS NULL"),
    ("s is not null and s < 's2'", "s IS NOT NULL AND s < 's2'"),
    ("not (s = 's5' or s = 's6')", "NOT (s = 's5' OR s = 's6')"),
    ("s = 'absent'", "s = 'absent'"),
    # the string terms of an AND first, the others on the rows they leave
    ("s = 's3' and v < 500", "s = 's3' AND v < 500"),
    ("v < 100 and s in ('s1', 's2') and id > 50", "v < 100 AND s IN ('s1', 's2') AND id > 50"),
    ("s like 's1%' and s != 's10' and v > 10", "s LIKE 's1%' AND s != 's10' AND v > 10"),
    ("s = 'absent' and v = 1", "s = 'absent' AND v = 1"),
    ("s is null and v >= 0", "s IS NULL AND v >= 0"),
    ("s = 's2' and (v < 10 or id > 29000)", "s = 's2' AND (v < 10 OR id > 29000)"),
    ("(s = 's1' or v = 3) and id < 20000", "(s = 's1' OR v = 3) AND id < 20000"),
    ("s != 's0' and v >= 0", "s != 's0' AND v >= 0"),
]


@pytest.mark.parametrize("layout", ["dictionary", "fallback", "plain"])
def test_one_string_column_filter_from_the_dictionary(run_firn, tmp, layout):
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "q")
    run_firn("--warehouse", wh, "create", "q.t", "--schema", "id long not null, s string, v int",
             "--property", "write.delete.mode=merge-on-read")
    n = 30000
    ids = list(range(n))
    # 40 short values, then (in the last third) many long distinct ones
    vals = [None if i % 17 == 0 else (f"s{i % 40}" if i < 20000 else f"s{i % 40}-{i:09d}" * 3)
            for i in ids]
    t = pa.table({"id": pa.array(ids, pa.int64()), "s": pa.array(vals, pa.string()),
                  "v": pa.array([i % 1000 for i in ids], pa.int32())})
    src = tmp / "src.parquet"
    kw = {"row_group_size": 8000, "data_page_size": 4096}
    if layout == "fallback":
        kw["dictionary_pagesize_limit"] = 8192  # the dictionary gives up inside a chunk
    pq.write_table(t.cast(pa.schema([pa.field("id", pa.int64(), False), t.schema.field(1),
                                     t.schema.field(2)])), src, use_dictionary=layout != "plain", **kw)
    md = pq.ParquetFile(src).metadata
    encodings = [set(md.row_group(g).column(1).encodings) for g in range(md.num_row_groups)]
    if layout == "dictionary":
        assert all("RLE_DICTIONARY" in e for e in encodings)
    elif layout == "fallback":
        assert any("RLE_DICTIONARY" in e and "PLAIN" in e for e in encodings), encodings
    else:
        assert not any("RLE_DICTIONARY" in e for e in encodings)
    ice.catalog(wh).load_table("q.t").add_files([str(src)])  # the file as pyarrow wrote it
    run_firn("--warehouse", wh, "delete", "q.t", "--where", "id in (3, 4000, 12001, 29999) or v = 7")
    con = duckdb.connect()
    con.register("src", t)
    for fw, dw in ONE_STRING:
        want = ice.rows(con.execute(
            f"SELECT * FROM src WHERE ({dw}) AND NOT (id IN (3, 4000, 12001, 29999) OR v = 7)"
        ).to_arrow_table())
        got = ice.rows(pq.read_table(scan_file(run_firn, wh, "--where", fw)))
        assert sorted(got) == sorted(want), fw
        count = run_firn("--warehouse", wh, "count", "q.t", "--where", fw).stdout.strip()
        assert int(count) == len(want), fw
        # the filter's columns not in the output
        ids = [r[0] for r in ice.rows(pq.read_table(scan_file(run_firn, wh, "--where", fw, "--columns", "id")))]
        assert sorted(ids) == sorted(r[0] for r in want), fw
