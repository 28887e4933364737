"""Fixtures of the Parquet interop suite.

The firn binary is $FIRN_BIN (default <repo>/build/firn). If it is missing,
every test that needs it FAILS (it is the thing under test). Work files stay
under tests/interop/.tmp/ (git-ignored) after the run, for reproduction."""
from __future__ import annotations

import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import firnrun  # noqa: E402

TMP_ROOT = HERE / ".tmp"


def _require_binary() -> Path:
    p = firnrun.firn_path()
    if not p.is_file() or not os.access(p, os.X_OK):
        # fail (inside the test, so it counts as FAILED, not skipped/errored)
        pytest.fail(f"firn binary not found or not executable: {p} (set FIRN_BIN or build it)",
                    pytrace=False)
    return p


@pytest.fixture(scope="session")
def firn_bin() -> Path:
    """The path of the binary under test (checked when first run)."""
    return firnrun.firn_path()


@pytest.fixture(scope="session")
def run_firn(firn_bin):
    """run_firn(*args, check=True, timeout=60, input=None) -> firnrun.Result.
    A missing binary, a signal or a hang always fails; check=True also fails
    on exit != 0."""
    def run(*args, check=True, timeout=60, input=None, cwd=None):
        _require_binary()
        return firnrun.run(*args, check=check, timeout=timeout, input=input, cwd=cwd, binary=firn_bin)
    return run


@pytest.fixture(scope="session")
def work_root() -> Path:
    """This session's scratch root: tests/interop/.tmp/session-<time>-<pid>/
    (or under $FIRN_INTEROP_TMP), kept afterwards for reproduction, with
    .tmp/latest pointing at it. Sessions run concurrently by other people
    each get their own directory; ones older than two hours are removed."""
    base = Path(os.environ.get("FIRN_INTEROP_TMP") or TMP_ROOT)
    base.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in base.glob("session-*"):
        try:
            if now - old.stat().st_mtime > 7200:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    root = base / f"session-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    root.mkdir()
    latest = base / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(root.name)
    except OSError:
        pass
    return root


@pytest.fixture
def tmp(work_root, request) -> Path:
    """A fresh directory for one test, kept after the run."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])[:120]
    d = work_root / request.node.module.__name__ / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    return d


# ---- the conformance matrix (make conformance) ----------------------------
# Tests mark the cells they prove with
#   @pytest.mark.conformance(("operation", "engine"), ...)
# With FIRN_CONFORMANCE_OUT set, every marked test's outcome is written there
# as JSON ({"cells": [{"operation", "engine", "test", "outcome"}]}), and
# scripts/conformance.py renders docs/conformance.md from it.

_conformance_results: list = []


def pytest_configure(config):
    config.addinivalue_line("markers", "conformance(*cells): (operation, engine) cells a test proves")


def pytest_runtest_makereport(item, call):
    if call.when != "call" and not (call.when == "setup" and call.excinfo is not None):
        return
    marker = item.get_closest_marker("conformance")
    if marker is None:
        return
    outcome = "pass" if call.excinfo is None else "fail"
    for op, engine in marker.args:
        _conformance_results.append({"operation": op, "engine": engine, "test": item.nodeid,
                                     "outcome": outcome})


def pytest_sessionfinish(session, exitstatus):
    out = os.environ.get("FIRN_CONFORMANCE_OUT")
    if out:
        import json
        Path(out).write_text(json.dumps({"cells": _conformance_results}, indent=1))
