"""docs/engines.md, executed: every ```sh engine-test / ```python engine-test
block runs as written, in the page's order, on one warehouse firn builds,
with only the page's documented placeholders replaced (the warehouse path,
firn serve's address, the Spark jars directory); what each prints must be
the ```text engine-output block under it, to the character. DuckDB's
extensions are installed beforehand into the scratch HOME from their PyPI
packages, so that the page's own INSTALL iceberg needs no network."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

import firnrun
from firnrun import REPO
from restserver import firn_server

DOC = REPO / "docs" / "engines.md"
JARS = REPO / ".venv" / "jars"
PYTHON = REPO / ".venv" / "bin" / "python"
BLOCK = re.compile(r"^```(sh|python) engine-test\n(.*?)^```\n(?:\s*^```text engine-output\n(.*?)^```\n)?",
                   re.M | re.S)
# the placeholders the page documents, and nothing else
WAREHOUSE, SERVER, JARDIR = "/path/to/warehouse", "http://127.0.0.1:8181", "/path/to/jars"
TIMEOUT = {"sh": 120, "python": 240}


def blocks() -> list:
    """(line, language, code, expected output or None) of each test block."""
    text = DOC.read_text()
    return [(text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2), m.group(3))
            for m in BLOCK.finditer(text)]


def install_duckdb_extensions(home: Path) -> None:
    """INSTALL from the PyPI packages' files into home/.duckdb, where the
    page's INSTALL iceberg / INSTALL httpfs then find them installed."""
    code = (
        "import duckdb, importlib\n"
        "from pathlib import Path\n"
        "con = duckdb.connect()\n"
        "for name in ('avro', 'iceberg', 'httpfs'):\n"
        "    mod = importlib.import_module('duckdb_extension_' + name)\n"
        "    p = Path(mod.__file__).parent / 'extensions' / f'v{duckdb.__version__}' / f'{name}.duckdb_extension'\n"
        "    con.execute(f\"INSTALL '{p}'\")\n")
    subprocess.run([str(PYTHON), "-c", code], env={**os.environ, "HOME": str(home)}, check=True,
                   timeout=60)


@pytest.fixture(scope="module")
def page(work_root):
    """The scratch directory, warehouse, environment and server the page's
    blocks run with."""
    named = set(re.findall(re.escape(JARDIR) + r"/([\w.-]+\.jar)", DOC.read_text()))
    missing = sorted(n for n in named if not (JARS / n).is_file())
    assert named and not missing, f"Spark's jars {missing} are missing from {JARS}: run scripts/fetch_jars.sh"
    root = work_root / "engines-doc"
    wh, home, cwd = root / "wh", root / "home", root / "cwd"
    for d in (home, cwd):
        d.mkdir(parents=True)
    install_duckdb_extensions(home)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FIRN_", "PYICEBERG_")) and k != "PYICEBERG_HOME"}
    env.update(HOME=str(home), PYSPARK_PYTHON=str(PYTHON),
               PATH=os.pathsep.join([str(firnrun.firn_path().parent), str(PYTHON.parent),
                                     env.get("PATH", "/usr/bin:/bin")]))
    with firn_server(firnrun.firn_path(), wh, root / "serve.log") as server:
        yield {"cwd": cwd, "env": env, "subst": {WAREHOUSE: str(wh), SERVER: server.url,
                                                 JARDIR: str(JARS)}}


def substitute(text: str, subst: dict) -> str:
    for k, v in subst.items():
        text = text.replace(k, v)
    return text


ALL = blocks()


def test_the_page_has_a_tested_recipe_per_engine():
    assert len(ALL) >= 12, [b[0] for b in ALL]
    code = "\n".join(b[2] for b in ALL)
    for needle in ("iceberg_scan(", "TYPE iceberg, ENDPOINT", 'SqlCatalog("default"', 'type="rest"',
                   "pyiceberg --uri", "org.apache.iceberg.jdbc.JdbcCatalog",
                   "jdbc.init-catalog-tables\", \"false", "spark.sql.catalog.rest.type",
                   "pl.scan_iceberg(", "firn.ray.read(", "ray.data.read_iceberg(",
                   "firn --catalog-name", "location db.flights"):
        assert needle in code, f"docs/engines.md has no tested block with {needle!r}"
    for line, lang, _, want in ALL:
        assert want is not None and want.strip(), (
            f"docs/engines.md:{line}: a {lang} engine-test block without an engine-output block")
    readme = (REPO / "README.md").read_text()
    assert "docs/engines.md" in readme and "unchanged" not in readme


@pytest.mark.parametrize("line,lang,code,want", ALL, ids=[f"L{b[0]}-{b[1]}" for b in ALL])
def test_block_runs_as_written(page, line, lang, code, want):
    src = substitute(code, page["subst"])
    argv = ["bash", "-e", "-o", "pipefail", "-c", src] if lang == "sh" else [str(PYTHON), "-c", src]
    try:
        p = subprocess.run(argv, cwd=page["cwd"], env=page["env"], capture_output=True, text=True,
                           timeout=TIMEOUT[lang], stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"docs/engines.md:{line}: the {lang} block did not finish in {TIMEOUT[lang]}s")
    assert p.returncode == 0, (f"docs/engines.md:{line}: the {lang} block exited {p.returncode}\n"
                               f"stdout:\n{p.stdout[-3000:]}\nstderr:\n{p.stderr[-5000:]}")
    expected = substitute(want or "", page["subst"])
    assert p.stdout == expected, (f"docs/engines.md:{line}: the {lang} block printed\n{p.stdout}"
                                  f"instead of\n{expected}\nstderr:\n{p.stderr[-3000:]}")
