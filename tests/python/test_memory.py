"""A scan streams: a process whose address space is capped (setrlimit
RLIMIT_AS) reads a table several times larger than the cap, batch by
batch, and gets every row."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pyarrow as pa

DECODED_MB = 320  # the table's size once decoded (5 long columns)
CAP_MB = 96       # address space allowed beyond what the process has after warming up


def test_scan_streams_under_a_memory_limit(cat, wh):
    t = cat.create_table("db.big", "a long not null, b long, c long, d long, e long",
                         properties={"write.parquet.row-group-size-bytes": 4 << 20,
                                     "write.target-file-size-bytes": 32 << 20})
    n = DECODED_MB * (1 << 20) // 40
    step = 1 << 20
    batches = []
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        col = pa.array(range(lo, hi), pa.int64())
        batches.append(pa.record_batch([col] * 5, names=list("abcde")))
    t.append(pa.RecordBatchReader.from_batches(batches[0].schema, iter(batches)))
    del batches
    script = textwrap.dedent(f"""
        import resource, sys
        import pyarrow as pa
        import firn
        t = firn.Catalog(warehouse={str(wh)!r}).load_table("db.big")
        pa.table(t.scan(limit=10))  # threads and caches made before the cap
        vm = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
        cap = vm + {CAP_MB} * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        rows = 0
        for b in t.scan().to_reader():
            rows += b.num_rows
        print(rows)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.split()[-1]) == n
    # and the same read without streaming does not fit: the cap is real
    whole = script.replace("for b in t.scan().to_reader():", "for b in [pa.table(t.scan())]:")
    out = subprocess.run([sys.executable, "-c", whole], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode != 0 and ("MemoryError" in out.stderr or "alloc" in out.stderr.lower()
                                    or "memory" in out.stderr.lower()), out.stderr[-2000:]
