"""Fixtures of the Python module's tests: a fresh warehouse per test and
the reference readers of tests/interop/ice.py (PyIceberg, DuckDB)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
INTEROP = HERE.parent / "interop"
if str(INTEROP) not in sys.path:
    sys.path.insert(0, str(INTEROP))


@pytest.fixture
def wh(tmp_path) -> Path:
    p = tmp_path / "wh"
    p.mkdir()
    return p


@pytest.fixture
def cat(wh):
    import firn
    c = firn.Catalog(warehouse=str(wh))
    c.create_namespace("db")
    return c
