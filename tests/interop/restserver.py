"""REST catalog servers for the interop tests and bench/rest_bench.py: Iceberg's
Java reference RESTCatalogServer (scripts/rest_java_server.sh) and `firn serve`,
each started on a free loopback port and stopped (SIGTERM, then SIGKILL) on exit,
its output kept in a log file; and the REST Compatibility Kit run against a URL
(scripts/run_rck.sh) with its JUnit summary parsed."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
JAVA_READY = re.compile(r"^listening on (http://\S+)$", re.M)
FIRN_READY = re.compile(r"^firn serve: listening on (http://\S+)$", re.M)


@dataclass
class Server:
    url: str           # http://127.0.0.1:PORT, no trailing slash
    proc: subprocess.Popen
    log: Path
    start_s: float     # from spawn to the ready line


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)
    except ProcessLookupError:
        pass


@contextmanager
def _serve(argv: list, log: Path, ready: re.Pattern, timeout: float, env=None):
    """Runs argv (stdout and stderr into log) until `ready` matches the log."""
    log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                start_new_session=True, env=env)
    try:
        url = None
        while url is None:
            m = ready.search(log.read_text(errors="replace"))
            if m:
                url = m.group(1).rstrip("/")
                break
            if proc.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited {proc.returncode} before it listened; "
                                   f"log {log}:\n{log.read_text(errors='replace')[-3000:]}")
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(f"{argv[0]} not listening after {timeout} s; log {log}")
            time.sleep(0.02)
        yield Server(url, proc, log, time.monotonic() - t0)
    finally:
        _stop(proc)


@contextmanager
def java_server(warehouse: Path, log: Path, jdbc_uri: str | None = None, port: int = 0,
                timeout: float = 90):
    """Iceberg's RESTCatalogServer on a JdbcCatalog over SQLite (default
    WAREHOUSE/java_catalog.db) on 127.0.0.1."""
    argv = ["bash", str(REPO / "scripts" / "rest_java_server.sh"), str(port), str(warehouse)]
    if jdbc_uri:
        argv.append(jdbc_uri)
    with _serve(argv, log, JAVA_READY, timeout) as s:
        yield s


@contextmanager
def firn_server(firn_bin: Path, warehouse: Path, log: Path, listen: str = "127.0.0.1:0",
                extra=(), timeout: float = 30):
    """`firn serve --listen LISTEN --warehouse WAREHOUSE EXTRA...`."""
    argv = [str(firn_bin), "serve", "--listen", listen, "--warehouse", str(warehouse), *extra]
    with _serve(argv, log, FIRN_READY, timeout) as s:
        yield s


SUMMARY = re.compile(r"^\[ +(\d+) tests (found|successful|failed|skipped|aborted|started) +\]$",
                     re.M)


@dataclass
class RckResult:
    returncode: int
    counts: dict        # found, started, successful, failed, skipped, aborted
    failed_tests: list  # the names of the failed tests
    tests: dict         # test name -> "ok" | "failed" | "aborted" | "skipped"
    output: str         # what run_rck.sh printed
    seconds: float


_TREE = re.compile(r"[├└]─ (\S.*?\)) ([✔✘■↷])")
_MARK = {"✔": "ok", "✘": "failed", "■": "aborted", "↷": "skipped"}


def run_rck(uri: str, warehouse: Path, reports: Path, extra=(), timeout: float = 900) -> RckResult:
    """scripts/run_rck.sh URI WAREHOUSE REPORTS EXTRA... and its summary."""
    t0 = time.monotonic()
    p = subprocess.run(["bash", str(REPO / "scripts" / "run_rck.sh"), uri, str(warehouse),
                        str(reports), *extra], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=timeout)
    seconds = time.monotonic() - t0
    out = p.stdout + p.stderr
    counts = {k: int(n) for n, k in SUMMARY.findall(out)}
    tests = {}
    log = reports / "rck.log"
    if log.exists():
        for name, mark in _TREE.findall(log.read_text(errors="replace")):
            tests[name] = _MARK[mark]
    failed = [n for n, v in tests.items() if v == "failed"]
    return RckResult(p.returncode, counts, failed, tests, out, seconds)
