#!/usr/bin/env python3
"""REST catalog server benchmark (issue 10's Measure): requests/s and p50/p99
latency of GET /v1/config, loadTable (GET .../tables/T) and a one-change commit
(POST .../tables/T with a set-properties update, each client on its own table)
at 1, 8 and 64 concurrent keep-alive clients, against each server named, one
server at a time. Prints a markdown report.

  bench/rest_bench.py [--java] [--firn FIRN_BIN] [--url URL ...] [--seconds S]
                      [--clients 1,8,64] [--out FILE]

--java starts Iceberg's RESTCatalogServer (scripts/rest_java_server.sh, a
JdbcCatalog on SQLite) and --firn starts `firn serve` on a fresh warehouse; both on
127.0.0.1, with their start time (spawn to listening) and resident memory (idle,
and after the run) reported. --url benchmarks a running server.

The clients are Python threads with one http.client connection each, spread over
two processes (for more than one client), so on 2 cores the client shares the
machine with the server: fast servers are bounded by the client here."""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "interop"))
import restserver  # noqa: E402

SCHEMA = {"type": "struct", "schema-id": 0, "fields": [
    {"id": 1, "name": "id", "type": "long", "required": True},
    {"id": 2, "name": "v", "type": "string", "required": False}]}


class Client:
    """One keep-alive connection; request() returns (status, body)."""

    def __init__(self, base: str):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80
        self.root = u.path.rstrip("/")
        self.conn = None

    def request(self, method: str, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data else {}
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, self.root + path, body=data, headers=headers)
                r = self.conn.getresponse()
                payload = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, payload
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def prefix_of(base: str) -> str:
    st, body = Client(base).request("GET", "/v1/config")
    assert st == 200, (st, body[:300])
    cfg = json.loads(body)
    p = cfg.get("overrides", {}).get("prefix") or cfg.get("defaults", {}).get("prefix")
    return f"/v1/{p}/" if p else "/v1/"


def setup(base: str, ns: str, tables: int) -> str:
    """Namespace ns with tables t0..t{tables-1}; returns the path prefix."""
    pre = prefix_of(base)
    c = Client(base)
    st, body = c.request("POST", pre + "namespaces", {"namespace": [ns], "properties": {}})
    assert st == 200, (st, body[:300])
    for i in range(tables):
        st, body = c.request("POST", f"{pre}namespaces/{ns}/tables",
                             {"name": f"t{i}", "schema": SCHEMA})
        assert st == 200, (st, body[:300])
    return pre


def op_request(op: str, pre: str, ns: str, client_no: int, n: int):
    if op == "config":
        return "GET", "/v1/config", None
    if op == "loadTable":
        return "GET", f"{pre}namespaces/{ns}/tables/t0", None
    return ("POST", f"{pre}namespaces/{ns}/tables/t{client_no}",
            {"requirements": [], "updates": [
                {"action": "set-properties", "updates": {"bench.n": str(n)}}]})


def _worker(base, op, pre, ns, client_nos, start_at, stop_at, q):
    lat, errors = [], [0]
    lock = threading.Lock()

    def run(no):
        c, mine, errs, n = Client(base), [], 0, 0
        while time.time() < start_at:
            time.sleep(0.001)
        while True:
            t0 = time.perf_counter()
            if time.time() >= stop_at:
                break
            method, path, body = op_request(op, pre, ns, no, n)
            try:
                st, _ = c.request(method, path, body)
            except (http.client.HTTPException, OSError):
                st = 0
            mine.append(time.perf_counter() - t0)
            if st != 200:
                errs += 1
            n += 1
        with lock:
            lat.extend(mine)
            errors[0] += errs

    threads = [threading.Thread(target=run, args=(no,)) for no in client_nos]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    q.put((lat, errors[0]))


LOAD = HERE.parent / "build" / "rest_load"


def measure_c(base, op, pre, ns, clients, seconds):
    """measure() with bench/rest_load.c's threads (one keep-alive socket each)."""
    import subprocess
    u = urllib.parse.urlsplit(base)
    root = u.path.rstrip("/")
    if op == "config":
        args = ["GET", root + "/v1/config"]
    elif op == "loadTable":
        args = ["GET", f"{root}{pre}namespaces/{ns}/tables/t0"]
    else:
        args = ["POST", f"{root}{pre}namespaces/{ns}/tables/t%d",
                '{"requirements": [], "updates": [{"action": "set-properties", '
                '"updates": {"bench.c%d": "%d"}}]}']
    out = subprocess.run([str(LOAD), u.hostname, str(u.port or 80), str(seconds), str(clients),
                          *args], capture_output=True, text=True, check=True).stdout
    r = json.loads(out)
    return r["requests"], r["rps"], r["p50_ms"], r["p99_ms"], r["errors"]


def measure(base, op, pre, ns, clients, seconds, driver="python"):
    """Runs `clients` clients for `seconds`; returns (requests, rps, p50, p99, errors)."""
    if driver == "c":
        return measure_c(base, op, pre, ns, clients, seconds)
    procs = 1 if clients == 1 else 2
    start_at = time.time() + 0.5
    stop_at = start_at + seconds
    q = mp.Queue()
    ps = [mp.Process(target=_worker, args=(base, op, pre, ns, list(range(k, clients, procs)),
                                           start_at, stop_at, q)) for k in range(procs)]
    for p in ps:
        p.start()
    lat, errors = [], 0
    for _ in ps:
        l, e = q.get()
        lat.extend(l)
        errors += e
    for p in ps:
        p.join()
    lat.sort()
    n = len(lat)
    pct = (lambda f: lat[min(n - 1, int(f * n))] * 1000) if n else (lambda f: float("nan"))
    return n, n / seconds, pct(0.50), pct(0.99), errors


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def bench_server(name, base, args, out, pid=None, start_s=None):
    ns = f"bench_{os.getpid()}_{int(time.time())}"
    clients = [int(c) for c in args.clients.split(",")]
    pre = setup(base, ns, max(clients))
    out.append(f"\n### {name} ({base})\n")
    if start_s is not None:
        out.append(f"- start (spawn to listening): {start_s * 1000:.0f} ms")
    if pid:
        out.append(f"- resident memory idle (after set-up): {rss_kb(pid) / 1024:.1f} MB")
    out.append("")
    out.append("| request | clients | requests | req/s | p50 ms | p99 ms | errors |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    for op in ("config", "loadTable", "commit"):
        measure(base, op, pre, ns, 8, args.warmup, args.driver)  # JIT and caches warm, not counted
        for c in clients:
            n, rps, p50, p99, err = measure(base, op, pre, ns, c, args.seconds, args.driver)
            out.append(f"| {op} | {c} | {n} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {err} |")
            print(out[-1], file=sys.stderr, flush=True)
    if pid:
        out.append(f"\n- resident memory after the run: {rss_kb(pid) / 1024:.1f} MB")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--java", action="store_true", help="start and bench RESTCatalogServer")
    ap.add_argument("--firn", help="start and bench FIRN_BIN serve")
    ap.add_argument("--url", action="append", default=[], help="bench a running server")
    ap.add_argument("--seconds", type=float, default=5.0, help="per request kind and clients")
    ap.add_argument("--warmup", type=float, default=2.0, help="per request kind, not counted")
    ap.add_argument("--clients", default="1,8,64")
    ap.add_argument("--driver", choices=("c", "python"), default="c" if LOAD.exists() else "python",
                    help="the clients: build/rest_load (C threads) or Python threads")
    ap.add_argument("--out", help="also write the report here")
    args = ap.parse_args()
    if not (args.java or args.firn or args.url):
        ap.error("name a server: --java, --firn FIRN_BIN or --url URL")

    out = ["## REST catalog server: requests/s and latency", "",
           f"{platform.node()}, {os.cpu_count()} cores, "
           + ("clients: build/rest_load (a C thread and keep-alive socket each); "
              if args.driver == "c" else
              f"Python {platform.python_version()} clients (threads over "
              f"{min(2, os.cpu_count() or 1)} processes, keep-alive); ")
           + 
           f"{args.seconds:g} s per cell after {args.warmup:g} s of warm-up; commit = "
           "set-properties on the client's own table"]
    work = Path(tempfile.mkdtemp(prefix="firn-rest-bench."))
    if args.java:
        with restserver.java_server(work / "java-wh", work / "java.log") as s:
            bench_server("Iceberg RESTCatalogServer 1.11.0 (JdbcCatalog on SQLite)", s.url,
                         args, out, s.proc.pid, s.start_s)
    if args.firn:
        (work / "firn-wh").mkdir()
        with restserver.firn_server(Path(args.firn), work / "firn-wh", work / "firn.log") as s:
            bench_server("firn serve", s.url, args, out, s.proc.pid, s.start_s)
    for u in args.url:
        bench_server("server", u.rstrip("/"), args, out)
    text = "\n".join(out) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
