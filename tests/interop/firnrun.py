"""Running the firn binary: timeouts, signals, the error-line contract."""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

# Spark's side, fetched by scripts/fetch_jars.sh into .venv/jars
SPARK_JARS = ("iceberg-spark-runtime-3.5_2.12-1.10.1.jar", "sqlite-jdbc-3.53.4.0.jar")
AWS_JAR = "iceberg-aws-bundle-1.10.1.jar"  # S3FileIO and the AWS SDK


def fresh_spark_jvm():
    """pyspark keeps one JVM for the whole process, its class path fixed by
    the first session: a session that needs other jars (S3FileIO) stops it,
    and the next session starts its own."""
    from pyspark import SparkContext
    if SparkContext._active_spark_context is not None:
        SparkContext._active_spark_context.stop()
    gw = SparkContext._gateway
    if gw is None:
        return
    proc = getattr(gw, "proc", None)
    gw.shutdown()
    if proc is not None:
        proc.stdin.close()  # pyspark's gateway server exits when its stdin closes
        proc.wait(timeout=60)
    SparkContext._gateway = None
    SparkContext._jvm = None


def spark_jars(aws: bool = False) -> list:
    """The jars a Spark session needs (and Iceberg's AWS bundle with aws);
    a missing one fails the test."""
    paths = [REPO / ".venv" / "jars" / n for n in SPARK_JARS + ((AWS_JAR,) if aws else ())]
    missing = [p.name for p in paths if not p.is_file()]
    assert not missing, f"Spark's jars {missing} are missing: run scripts/fetch_jars.sh"
    return [str(p) for p in paths]


def firn_path() -> Path:
    return Path(os.environ.get("FIRN_BIN") or REPO / "build" / "firn")


@dataclass
class Result:
    cmd: list
    returncode: int
    stdout_bytes: bytes
    stderr_bytes: bytes

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8")

    @property
    def stderr(self) -> str:
        return self.stderr_bytes.decode("utf-8", errors="replace")

    @property
    def shell(self) -> str:
        return shlex.join(self.cmd)


def run(*args, check: bool = True, timeout: float = 60, input: bytes | None = None,
        cwd=None, binary=None) -> Result:
    """Runs firn with args. Always fails on a signal or a hang; with check,
    also on a non-zero exit."""
    exe = str(binary or firn_path())
    cmd = [exe] + [str(a) for a in args]
    try:
        p = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout, cwd=cwd,
                           stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"firn did not finish within {timeout}s: {shlex.join(cmd)}") from None
    res = Result(cmd, p.returncode, p.stdout, p.stderr)
    if p.returncode < 0:
        try:
            name = signal.Signals(-p.returncode).name
        except ValueError:
            name = str(-p.returncode)
        raise AssertionError(f"firn crashed with signal {name}: {res.shell}\nstderr: {res.stderr[-2000:]}")
    if check and p.returncode != 0:
        raise AssertionError(f"firn exited {p.returncode}: {res.shell}\nstderr: {res.stderr[-2000:]}")
    return res


def assert_error(res: Result, code: int = 1, mentions=()) -> str:
    """The error contract: exit code, exactly one stderr line starting
    "firn: error: " (for exit 1; usage errors (2) only need some stderr).
    Returns the message."""
    assert res.returncode == code, (
        f"expected exit {code}, got {res.returncode}: {res.shell}\nstderr: {res.stderr[-1000:]!r}")
    err = res.stderr
    if code == 1:
        lines = err.splitlines()
        assert len(lines) == 1 and err.endswith("\n"), (
            f"expected exactly one stderr line, got {len(lines)}: {res.shell}\nstderr: {err[-1000:]!r}")
        assert lines[0].startswith("firn: error: "), f"stderr line {lines[0]!r} ({res.shell})"
        assert len(lines[0]) > len("firn: error: ") + 3, f"empty error message ({res.shell})"
        msg = lines[0]
    else:
        assert err.strip(), f"usage error without a message on stderr: {res.shell}"
        msg = err
    for m in mentions:
        assert m in msg, f"error message {msg!r} does not mention {m!r} ({res.shell})"
    return msg
