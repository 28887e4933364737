"""Rough edges a new user hits (issue 14): WHERE's BETWEEN and starts_with,
`--older-than now`, and scan output to standard output, a pipe or a
device (written where it is: never replaced by a file, never fsynced)."""
from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import threading

import pyarrow.parquet as pq
import pytest

import ice
from firnrun import assert_error


@pytest.fixture
def table(run_firn, tmp_path):
    wh = tmp_path / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "db")
    run_firn("--warehouse", wh, "create", "db.t", "--schema", "id long not null, code string, d date",
             "--partition-by", "day(d)")
    p = tmp_path / "in.csv"
    p.write_text("id,code,d\n" + "".join(
        f"{i},{['EU-1', 'EU-2', 'US-1', 'APAC'][i % 4]},2026-01-{1 + i % 28:02d}\n" for i in range(200)))
    run_firn("--warehouse", wh, "append", "db.t", p)
    run_firn("--warehouse", wh, "append", "db.t", p)
    return wh


def count(run_firn, wh, where):
    return int(run_firn("--warehouse", wh, "count", "db.t", "--where", where).stdout)


def test_between_and_starts_with_agree_with_duckdb(run_firn, table):
    meta = json.loads(run_firn("--warehouse", table, "describe", "db.t", "--json").stdout)[
        "metadata-location"]
    con = ice.duck()

    def duck(where):
        return con.execute(f"SELECT count(*) FROM iceberg_scan('{meta}') WHERE {where}").fetchone()[0]
    cases = [("id BETWEEN 10 AND 19", "id BETWEEN 10 AND 19"),
             ("id NOT BETWEEN 10 AND 189", "id NOT BETWEEN 10 AND 189"),
             ("d BETWEEN '2026-01-05' AND '2026-01-06'", "d BETWEEN DATE '2026-01-05' AND DATE '2026-01-06'"),
             ("starts_with(code, 'EU')", "starts_with(code, 'EU')"),
             ("not_starts_with(code, 'EU') AND id < 50", "NOT starts_with(code, 'EU') AND id < 50"),
             ("code NOT LIKE 'EU%'", "code NOT LIKE 'EU%'")]
    for ours, theirs in cases:
        want = duck(theirs)
        assert want > 0
        assert count(run_firn, table, ours) == want, ours
    # the day partitions prune a BETWEEN: two days of 28 are planned
    r = run_firn("--warehouse", table, "scan", "db.t", "--where", "d BETWEEN '2026-01-05' AND '2026-01-06'",
                 "--format", "jsonl")
    assert len(r.stdout.splitlines()) == duck("d BETWEEN DATE '2026-01-05' AND DATE '2026-01-06'")
    r = run_firn("--warehouse", table, "count", "db.t", "--where", "id BETWEEN 3", check=False)
    assert_error(r, 1, mentions=("BETWEEN",))


def test_expire_older_than_now(run_firn, table):
    snaps = json.loads(run_firn("--warehouse", table, "snapshots", "db.t", "--json").stdout)
    assert len(snaps) == 2
    r = run_firn("--warehouse", table, "expire", "db.t", "--older-than", "now", "--json")
    assert json.loads(r.stdout)["snapshots-expired"] == 1
    snaps = json.loads(run_firn("--warehouse", table, "snapshots", "db.t", "--json").stdout)
    assert len(snaps) == 1
    assert count(run_firn, table, "true") == 400
    # remove-orphans still guards its safety window against now
    r = run_firn("--warehouse", table, "remove-orphans", "db.t", "--older-than", "now", check=False)
    assert_error(r, 1, mentions=("within the last 24 hours",))


def test_scan_parquet_to_standard_output(firn_bin, table):
    for extra in ([], ["--output", "-"]):
        p = subprocess.run([str(firn_bin), "--warehouse", str(table), "scan", "db.t", "--format", "parquet",
                            *extra], capture_output=True, check=True)
        t = pq.read_table(io.BytesIO(p.stdout))
        assert t.num_rows == 400 and t.column_names == ["id", "code", "d"]
        assert sorted(t.column("id").to_pylist())[:4] == [0, 0, 1, 1]
    # redirected into a file, as a shell does
    out = table.parent / "redirected.parquet"
    with open(out, "wb") as f:
        subprocess.run([str(firn_bin), "--warehouse", str(table), "scan", "db.t", "--format", "parquet"],
                       stdout=f, check=True)
    assert pq.read_table(out).num_rows == 400


def test_output_to_a_pipe_or_device_is_written_in_place(run_firn, table):
    fifo = table.parent / "fifo"
    os.mkfifo(fifo)
    got = {}

    def reader():
        with open(fifo, "rb") as f:
            got["data"] = f.read()
    th = threading.Thread(target=reader)
    th.start()
    run_firn("--warehouse", table, "scan", "db.t", "--format", "parquet", "--output", fifo)
    th.join(30)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode), "the pipe was replaced by a file"
    assert pq.read_table(io.BytesIO(got["data"])).num_rows == 400
    before = os.stat("/dev/null")
    run_firn("--warehouse", table, "scan", "db.t", "--format", "csv", "--output", "/dev/null")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert not any(n.startswith(".null.firn-") for n in os.listdir("/dev"))


def test_json_from_count_create_and_alter(run_firn, table):
    r = json.loads(run_firn("--warehouse", table, "count", "db.t", "--where", "id < 10", "--json").stdout)
    assert r == {"table": "db.t", "count": 20}
    r = json.loads(run_firn("--warehouse", table, "create", "db.u", "--schema", "id long",
                            "--format-version", "3", "--json").stdout)
    assert r["table"] == "db.u" and r["format-version"] == 3
    assert r["metadata-location"] == json.loads(run_firn("--warehouse", table, "location", "db.u",
                                                         "--json").stdout)["metadata-location"]
    r = json.loads(run_firn("--warehouse", table, "alter", "db.u", "add-column", "x int", "--json").stdout)
    assert r["table"] == "db.u" and r["change"] == "add-column"
    d = json.loads(run_firn("--warehouse", table, "describe", "db.u", "--json").stdout)
    assert r["metadata-location"] == d["metadata-location"]
    assert [f["name"] for f in d["schema"]] == ["id", "x"]


def test_inputs_from_a_directory_or_a_pattern(run_firn, table):
    d = table.parent / "in"
    d.mkdir()
    for k in range(3):
        (d / f"part-{k}.csv").write_text("id,code,d\n" + "".join(
            f"{1000 + 10 * k + i},X{k},2026-02-01\n" for i in range(10)))
    (d / "_SUCCESS").write_text("")
    (d / ".part-0.csv.crc").write_text("not a csv")
    (d / "sub").mkdir()
    run_firn("--warehouse", table, "append", "db.t", d)
    assert count(run_firn, table, "id >= 1000") == 30
    run_firn("--warehouse", table, "append", "db.t", str(d / "part-[12].csv"))
    assert count(run_firn, table, "id >= 1000") == 50
    # overwrite and merge take them too
    run_firn("--warehouse", table, "merge", "db.t", str(d / "*.csv"), "--on", "id")
    assert count(run_firn, table, "id >= 1000") == 30
    r = run_firn("--warehouse", table, "append", "db.t", str(d / "*.tsv"), check=False)
    assert_error(r, 1, mentions=("no file matches",))
    (table.parent / "empty").mkdir()
    r = run_firn("--warehouse", table, "append", "db.t", table.parent / "empty", check=False)
    assert_error(r, 1, mentions=("no files to read",))
    assert count(run_firn, table, "id >= 1000") == 30


def test_create_like_a_file_and_schema_as_spec(run_firn, tmp_path):
    import pyarrow as pa
    wh = tmp_path / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "db")
    t = pa.table({"id": pa.array([1, 2], pa.int64()), "name": ["a", None],
                  "tags": pa.array([["x"], []], pa.list_(pa.string())),
                  "loc": pa.array([{"lat": 1.5, "lon": 2.5}, None],
                                  pa.struct([("lat", pa.float64()), ("lon", pa.float64())])),
                  "`odd name`": [True, False]},
                 schema=pa.schema([pa.field("id", pa.int64(), nullable=False), ("name", pa.string()),
                                   ("tags", pa.list_(pa.string())),
                                   ("loc", pa.struct([("lat", pa.float64()), ("lon", pa.float64())])),
                                   ("`odd name`", pa.bool_())]))
    f = tmp_path / "in.parquet"
    pq.write_table(t, f)
    spec = run_firn("parquet", "schema", f, "--spec").stdout.strip()
    assert spec.startswith("id long not null, name string, tags list<string>, "
                           "loc struct<lat: double, lon: double>, ")
    # the SPEC is what --schema takes, and --like gives the same table
    run_firn("--warehouse", wh, "create", "db.a", "--schema", spec)
    run_firn("--warehouse", wh, "create", "db.b", "--like", f)
    da = json.loads(run_firn("--warehouse", wh, "describe", "db.a", "--json").stdout)["schema"]
    db = json.loads(run_firn("--warehouse", wh, "describe", "db.b", "--json").stdout)["schema"]
    assert da == db and [c["name"] for c in da] == ["id", "name", "tags", "loc", "`odd name`"]
    run_firn("--warehouse", wh, "append", "db.b", f)
    assert int(run_firn("--warehouse", wh, "count", "db.b").stdout) == 2
    c = tmp_path / "in.csv"
    c.write_text("k,when,amount\n1,2026-01-02,3.5\n2,2026-01-03,\n")
    run_firn("--warehouse", wh, "create", "db.c", "--like", c)
    dc = json.loads(run_firn("--warehouse", wh, "describe", "db.c", "--json").stdout)["schema"]
    assert [(x["name"], x["type"]) for x in dc] == [("k", "long"), ("when", "date"), ("amount", "double")]
    r = run_firn("--warehouse", wh, "create", "db.d", "--like", tmp_path / "x.txt", check=False)
    assert_error(r, 1, mentions=("--like",))


def test_parquet_from_standard_input(firn_bin, run_firn, table):
    data = subprocess.run([str(firn_bin), "--warehouse", str(table), "scan", "db.t", "--where", "id < 5",
                           "--format", "parquet"], capture_output=True, check=True).stdout
    r = subprocess.run([str(firn_bin), "--warehouse", str(table), "append", "db.t", "-", "--format",
                        "parquet", "--json"], input=data, capture_output=True, check=True)
    assert json.loads(r.stdout)["added-records"] == 10
    assert count(run_firn, table, "id < 5") == 20
    r = subprocess.run([str(firn_bin), "--warehouse", str(table), "append", "db.t", "-", "--format",
                        "parquet"], input=b"not parquet", capture_output=True)
    assert r.returncode == 1 and "not a parquet file" in r.stderr.decode()
    assert count(run_firn, table, "id < 5") == 20


@pytest.mark.parametrize("fv", [2, 3])
def test_live_records_beside_records_in_files(run_firn, tmp_path, fv):
    wh = tmp_path / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "db")
    run_firn("--warehouse", wh, "create", "db.t", "--schema", "id long, k string",
             "--format-version", str(fv))
    p = tmp_path / "in.csv"
    p.write_text("id,k\n" + "".join(f"{i},k{i % 5}\n" for i in range(100)))
    run_firn("--warehouse", wh, "append", "db.t", p)
    run_firn("--warehouse", wh, "delete", "db.t", "--where", "id < 7", "--mode", "merge-on-read")
    run_firn("--warehouse", wh, "delete", "db.t", "--where", "k = 'k1'", "--mode", "merge-on-read")
    run_firn("--warehouse", wh, "delete", "db.t", "--where", "id >= 90", "--mode", "copy-on-write")
    snaps = json.loads(run_firn("--warehouse", wh, "snapshots", "db.t", "--json").stdout)
    for s in snaps:
        n = int(run_firn("--warehouse", wh, "count", "db.t", "--snapshot", str(s["snapshot-id"])).stdout)
        assert s["live-records"] == n, s
    assert [s["live-records"] for s in snaps] == [100, 93, 75, 67]
    d = json.loads(run_firn("--warehouse", wh, "describe", "db.t", "--json").stdout)
    assert d["live-records"] == 67 and d["total-records"] >= 67
    assert "67 live" in run_firn("--warehouse", wh, "describe", "db.t").stdout


def test_files_show_partition_values_in_human_form(run_firn, tmp_path):
    wh = tmp_path / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "db")
    run_firn("--warehouse", wh, "create", "db.p", "--schema",
             "id long, time_hour timestamp, d date, name string, tz timestamptz",
             "--partition-by", "month(time_hour), day(d), hour(tz), year(d), bucket(4, id), truncate(2, name)")
    p = tmp_path / "p.csv"
    p.write_text("id,time_hour,d,name,tz\n1,2013-01-05T10:00:00,2013-01-05,abc,2013-01-05T10:00:00+00:00\n"
                 "2,,,,\n")
    run_firn("--warehouse", wh, "append", "db.p", p)
    files = json.loads(run_firn("--warehouse", wh, "files", "db.p", "--json").stdout)
    full = next(f for f in files if f["partition"]["time_hour_month"] is not None)
    # the raw values stay as they were (months since 1970, hours since 1970, ...)
    assert full["partition"] == {"time_hour_month": 516, "d_day": "2013-01-05", "tz_hour": 377050,
                                 "d_year": 43, "id_bucket_4": full["partition"]["id_bucket_4"],
                                 "name_trunc_2": "ab"}
    assert full["partition-human"] == {"time_hour_month": "2013-01", "d_day": "2013-01-05",
                                       "tz_hour": "2013-01-05-10", "d_year": "2013",
                                       "id_bucket_4": str(full["partition"]["id_bucket_4"]),
                                       "name_trunc_2": "ab"}
    empty = next(f for f in files if f["partition"]["time_hour_month"] is None)
    assert empty["partition-human"]["time_hour_month"] is None and empty["partition-human"]["d_year"] is None
    text = run_firn("--warehouse", wh, "files", "db.p").stdout
    assert "time_hour_month=2013-01, d_day=2013-01-05, tz_hour=2013-01-05-10, d_year=2013" in text
    assert "time_hour_month=null" in text and "516" not in text


@pytest.mark.parametrize("mode", ["copy-on-write", "merge-on-read"])
def test_merge_reports_rows_updated_and_inserted(run_firn, tmp_path, mode):
    wh = tmp_path / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "db")
    run_firn("--warehouse", wh, "create", "db.t", "--schema", "id long not null, v string",
             "--property", f"write.merge.mode={mode}")
    p = tmp_path / "in.csv"
    p.write_text("id,v\n" + "".join(f"{i},old\n" for i in range(50)))
    run_firn("--warehouse", wh, "append", "db.t", p)
    m = tmp_path / "m.csv"
    m.write_text("id,v\n" + "".join(f"{i},new\n" for i in range(40, 65)))  # 10 matched, 15 new
    r = json.loads(run_firn("--warehouse", wh, "merge", "db.t", m, "--on", "id", "--json").stdout)
    assert (r["rows-updated"], r["rows-inserted"]) == (10, 15)
    assert r["rows"] == 10  # the old field: rows replaced
    assert int(run_firn("--warehouse", wh, "count", "db.t").stdout) == 65
    assert int(run_firn("--warehouse", wh, "count", "db.t", "--where", "v = 'new'").stdout) == 25
    m.write_text("id,v\n" + "".join(f"{i},newer\n" for i in range(60, 70)))  # 5 matched, 5 new
    out = run_firn("--warehouse", wh, "merge", "db.t", m, "--on", "id").stdout
    assert out.startswith("merge: 5 rows updated, 5 rows inserted;"), out


def small_appends(run_firn, tmp_path, n=4):
    wh = tmp_path / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "db")
    run_firn("--warehouse", wh, "create", "db.t", "--schema", "id long, v string")
    p = tmp_path / "s.csv"
    for k in range(n):
        p.write_text(f"id,v\n{k},a\n{k + 10},b\n")
        run_firn("--warehouse", wh, "append", "db.t", p)
    run_firn("--warehouse", wh, "delete", "db.t", "--where", "id = 0", "--mode", "merge-on-read")
    return wh


def test_maintain_dry_run_plans_and_changes_nothing(run_firn, tmp_path):
    wh = small_appends(run_firn, tmp_path)
    before = json.loads(run_firn("--warehouse", wh, "describe", "db.t", "--json").stdout)
    j = json.loads(run_firn("--warehouse", wh, "maintain", "db.t", "--dry-run", "--json").stdout)
    assert j["dry-run"] is True and j["compaction-snapshot-id"] == 0
    assert j["compaction-files"] == 4 and j["bytes-rewritten"] > 0 and j["files-over-policy"] == 1
    assert (j["data-files-before"], j["delete-files-before"]) == (4, 1)
    assert j["data-files-after"] is None
    assert j["expire"]["snapshots-kept"] == 5 and j["expire"]["kept-by-age"] == 4
    text = run_firn("--warehouse", wh, "maintain", "db.t", "--dry-run").stdout
    assert "dry run: nothing changed" in text and "would be rewritten" in text
    assert "4 younger than 5 days (history.expire.max-snapshot-age-ms)" in text
    after = json.loads(run_firn("--warehouse", wh, "describe", "db.t", "--json").stdout)
    assert after["metadata-location"] == before["metadata-location"]
    # the real run does what the plan said
    j = json.loads(run_firn("--warehouse", wh, "maintain", "db.t", "--json").stdout)
    assert j["compaction-files"] == 4 and j["compaction-snapshot-id"] != 0
    assert (j["data-files-before"], j["delete-files-before"], j["data-files-after"], j["delete-files-after"]) \
        == (4, 1, 1, 0)
    assert int(run_firn("--warehouse", wh, "count", "db.t").stdout) == 7


def test_expire_says_which_rule_kept_the_rest(run_firn, tmp_path):
    wh = small_appends(run_firn, tmp_path)  # 5 snapshots
    out = run_firn("--warehouse", wh, "expire", "db.t").stdout
    assert "0 snapshots expired" in out
    assert "kept 5 snapshots" in out and "1 that a branch or tag points to" in out
    assert "4 younger than 5 days (history.expire.max-snapshot-age-ms)" in out
    run_firn("--warehouse", wh, "alter", "db.t", "set-property", "history.expire.min-snapshots-to-keep=3")
    out = run_firn("--warehouse", wh, "expire", "db.t", "--older-than", "now").stdout
    assert "\n2 snapshots expired, 2 files deleted\n" in out, out
    assert "2 older, kept as the last 3 of their branch (history.expire.min-snapshots-to-keep)" in out
    j = json.loads(run_firn("--warehouse", wh, "expire", "db.t", "--older-than", "now", "--retain-last", "1",
                            "--json").stdout)
    assert (j["snapshots-expired"], j["snapshots-kept"], j["kept-by-ref"], j["count-rule"], j["age-rule"]) \
        == (2, 1, 1, "--retain-last", "--older-than")
