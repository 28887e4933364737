"""Inputs that can be read once only: stdin and pipes (a shell's <(...),
a FIFO), beside ordinary files in one append; the table input learns the
columns of every input before reading rows and must not lose a pipe's."""
from __future__ import annotations

import json
import os
import subprocess
import threading


def rows(run_firn, wh):
    out = run_firn("--warehouse", wh, "scan", "d.t", "--format", "jsonl").stdout
    return sorted((r["a"], r["b"]) for r in map(json.loads, out.splitlines()))


def test_pipes_and_files_in_one_append(run_firn, firn_bin, tmp):
    wh = tmp / "wh"
    run_firn("--warehouse", wh, "namespace", "create", "d")
    run_firn("--warehouse", wh, "create", "d.t", "--schema", "a long, b string")
    f = tmp / "in.csv"
    f.write_text("a,b\n1,x\n2,y\n")
    fifo = tmp / "fifo.csv"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "w") as w:
            w.write("a\n5\n")

    t = threading.Thread(target=feed)
    t.start()
    # bash's process substitution gives /dev/fd/N, a pipe
    p = subprocess.run(["bash", "-c", f'"$0" --warehouse "$1" append d.t <(printf "a,b\\n3,z\\n") "$2" "$3"',
                        str(firn_bin), str(wh), str(f), str(fifo)], capture_output=True, text=True, timeout=60)
    t.join(timeout=10)
    assert p.returncode == 0, p.stderr
    assert "appended 4 rows" in p.stdout
    run_firn("--warehouse", wh, "append", "d.t", "-", input=b"a,b\n9,q\n")
    assert rows(run_firn, wh) == [(1, "x"), (2, "y"), (3, "z"), (5, None), (9, "q")]
