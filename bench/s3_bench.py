"""S3 requests and bytes: firn vs PyIceberg vs DuckDB on one lineitem table
in moto (tests/interop/s3server.py), counted by the proxy in front of it.

  .venv/bin/python bench/s3_bench.py build/firn [SF]   (SF default 0.1)

Full scan (every column), selective scan (two columns, l_orderkey < 20000)
and append (the same rows again; DuckDB has no append to a catalog-less
Iceberg table, so it is left out there). Prints a Markdown table;
S3_BENCH_LOG=1 also lists every request on stderr."""
from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "interop"))
import ice  # noqa: E402
from s3server import KEY, REGION, SECRET, Moto, Proxy  # noqa: E402

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

SCHEMA = ("l_orderkey long, l_partkey long, l_suppkey long, l_linenumber int, "
          "l_quantity decimal(15,2), l_extendedprice decimal(15,2), l_discount decimal(15,2), "
          "l_tax decimal(15,2), l_returnflag string, l_linestatus string, l_shipdate date, "
          "l_commitdate date, l_receiptdate date, l_shipinstruct string, l_shipmode string, "
          "l_comment string")
KINDS = ["GET", "HEAD", "PUT", "POST", "DELETE"]


def main():
    firn = str(Path(sys.argv[1]).resolve())
    sf = sys.argv[2] if len(sys.argv) > 2 else "0.1"
    work = Path(tempfile.mkdtemp(prefix="firn-s3-bench-"))
    subprocess.run([str(HERE.parent / ".venv" / "bin" / "tpchgen-cli"), "parquet", "-s", sf,
                    "--tables=lineitem", f"--output-dir={work}"], check=True)
    t = pq.read_table(work / "lineitem.parquet")
    t = t.cast(pa.schema([pa.field(f.name, pa.int32() if f.name == "l_linenumber" else
                                   (pa.string() if pa.types.is_string(f.type) or
                                    pa.types.is_large_string(f.type) else f.type))
                          for f in t.schema]))
    inp = work / "li.parquet"
    pq.write_table(t, inp, compression="zstd")
    moto, = [Moto()]
    proxy = Proxy(moto.port)
    moto.client().create_bucket(Bucket="bench")
    conf = ["--conf", f"s3.endpoint={proxy.endpoint}", "--conf", f"s3.access-key-id={KEY}",
            "--conf", f"s3.secret-access-key={SECRET}", "--catalog", f"sqlite:///{work}/catalog.db",
            "--warehouse", "s3://bench/wh"]

    def f(*args):
        subprocess.run([firn, *conf, *map(str, args)], check=True, capture_output=True)

    f("namespace", "create", "b")
    f("create", "b.li", "--schema", SCHEMA)
    f("append", "b.li", inp)
    import json
    meta = json.loads(subprocess.run([firn, *conf, "describe", "b.li", "--json"], check=True,
                                     capture_output=True).stdout)["metadata-location"]
    from pyiceberg.catalog.sql import SqlCatalog
    cat = SqlCatalog("default", uri=f"sqlite:///{work}/catalog.db", warehouse="s3://bench/wh", **{
        "s3.endpoint": proxy.endpoint, "s3.access-key-id": KEY, "s3.secret-access-key": SECRET,
        "s3.region": REGION, "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO"})
    import duckdb_extension_httpfs

    def duck(q):
        """A fresh connection each time: no HTTP cache from the run before."""
        con = ice.duck()
        con.execute(f"LOAD '{Path(duckdb_extension_httpfs.__file__).parent}/extensions/"
                    f"v{duckdb.__version__}/httpfs.duckdb_extension'")
        con.execute(f"CREATE SECRET (TYPE s3, KEY_ID '{KEY}', SECRET '{SECRET}', ENDPOINT "
                    f"'127.0.0.1:{proxy.port}', URL_STYLE 'path', USE_SSL false, REGION '{REGION}')")
        con.execute("SET threads=2")
        proxy.reset()
        return con.execute(q).to_arrow_table()
    from pyiceberg.expressions import LessThan
    out = work / "out.parquet"
    cases = {
        "full scan": {
            "firn": lambda: f("scan", "b.li", "--format", "parquet", "--output", out),
            "PyIceberg": lambda: cat.load_table("b.li").scan().to_arrow(),
            "DuckDB": lambda: duck(f"SELECT * FROM iceberg_scan('{meta}')"),
        },
        "selective scan": {
            "firn": lambda: f("scan", "b.li", "--columns", "l_orderkey,l_quantity", "--where",
                              "l_orderkey < 20000", "--format", "parquet", "--output", out),
            "PyIceberg": lambda: cat.load_table("b.li").scan(
                row_filter=LessThan("l_orderkey", 20000),
                selected_fields=("l_orderkey", "l_quantity")).to_arrow(),
            "DuckDB": lambda: duck(f"SELECT l_orderkey, l_quantity FROM iceberg_scan('{meta}') "
                                   "WHERE l_orderkey < 20000"),
        },
        "append": {
            "firn": lambda: f("append", "b.li", inp),
            "PyIceberg": lambda: cat.load_table("b.li").append(pq.read_table(inp)),
        },
    }
    lines = [f"lineitem SF {sf} ({t.num_rows} rows, {inp.stat().st_size} bytes of zstd Parquet), "
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
             f"{dt.datetime.utcnow():%Y-%m-%d %H:%M} UTC, moto 5.2.5 behind a counting proxy", "",
             "| case | client | " + " | ".join(KINDS) + " | bytes down | bytes up | seconds |",
             "|---|---|" + "---|" * (len(KINDS) + 3)]
    for case, clients in cases.items():
        for name, fn in clients.items():
            proxy.reset()
            t0 = time.monotonic()
            fn()
            sec = time.monotonic() - t0
            c = proxy.counts
            lines.append(f"| {case} | {name} | " + " | ".join(str(c.requests.get(k, 0)) for k in KINDS)
                         + f" | {c.bytes_out} | {c.bytes_in} | {sec:.2f} |")
            if os.environ.get("S3_BENCH_LOG"):  # each request, to see where they go
                for method, path, status, rng in c.log:
                    print(f"  {case} {name}: {method} {path[:110]} {rng or ''} {status}", file=sys.stderr)
    print("\n".join(lines))
    proxy.stop()
    moto.stop()


if __name__ == "__main__":
    main()
