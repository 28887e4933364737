"""A scan of a table of several files on S3 with a round trip of latency
added to every GET (the proxy of tests/interop/s3server.py holds each for
LATENCY seconds, as a remote store's distance would): what reading files
ahead and fetching manifests side by side save.

  .venv/bin/python bench/s3_latency.py build/firn [FILES] [LATENCY]   (8, 0.05)

Runs the scan at --threads 1 and 2, alternating, 3 times each; prints the
times and the requests of one run."""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "interop"))
from s3server import KEY, SECRET, Moto, Proxy, Rule  # noqa: E402


def main():
    firn = str(Path(sys.argv[1]).resolve())
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    latency = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
    moto = Moto()
    proxy = Proxy(moto.port)
    moto.client().create_bucket(Bucket="lat")
    d = Path(tempfile.mkdtemp(prefix="firn-s3-lat-"))
    base = [firn, "--conf", f"s3.endpoint={proxy.endpoint}", "--conf", f"s3.access-key-id={KEY}",
            "--conf", f"s3.secret-access-key={SECRET}", "--catalog", f"sqlite:///{d}/c.db",
            "--warehouse", "s3://lat/wh"]
    run = lambda *a: subprocess.run(base + list(a), check=True, capture_output=True)
    run("namespace", "create", "db")
    run("create", "db.t", "--schema", "id long, s string")
    for k in range(files):
        with open(d / "in.csv", "w") as f:
            f.write("id,s\n")
            for i in range(50000):
                f.write(f"{k * 50000 + i},str{i % 977}\n")
        run("append", "db.t", d / "in.csv")
    proxy.add(Rule("GET", "/", "stall", seconds=latency, count=None))
    times = {"1": [], "2": []}
    for _ in range(3):
        for th in ("1", "2"):
            proxy.counts = type(proxy.counts)()
            t0 = time.monotonic()
            run("--threads", th, "scan", "db.t", "--where", "s = 'str5'", "--format", "jsonl")
            times[th].append(time.monotonic() - t0)
    print(f"{files} files, {latency * 1000:.0f} ms per GET, {sum(proxy.counts.requests.values())} "
          f"requests a scan")
    for th, v in times.items():
        print(f"threads {th}: best {min(v):.3f} s, all {' '.join(f'{x:.3f}' for x in v)}")
    proxy.stop()
    moto.stop()


if __name__ == "__main__":
    main()
