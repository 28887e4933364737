"""The model-based test of firn's table operations: a Python model of the
rows a table must hold (a dict id -> row, keyed by field id so renames,
drops and rollbacks project as Iceberg does) and of its snapshots (for
rollback, tags, branches and time travel), a generator of random operation
sequences from a seed, and the checks run after every step:

- firn (scan as JSON Lines or Parquet), DuckDB (iceberg_scan on the current
  metadata file) and PyIceberg (SqlCatalog; format v2 only: PyIceberg 0.12
  does not read v3 deletion vectors) read exactly the model's rows, now and
  at an earlier snapshot, tag or branch;
- every file the current metadata references exists (metadata, manifest
  lists, manifests, live data and delete files);
- every manifest-list field agrees with its manifest (content, file and row
  counts, sequence numbers, min_sequence_number, partition summaries);
- row-level changes chose merge-on-read or copy-on-write per file by the
  mode and the impact-ratio rule (DESIGN.md §5), as their --json says.

Run directly for a soak (make soak):
    FIRN_BIN=build/firn python tests/interop/model.py soak [N] [START]
    FIRN_BIN=build/firn python tests/interop/model.py replay SEED
A failure prints its seed, its operation list (and, in a soak, the shortest
sub-list found that still fails)."""
from __future__ import annotations

import copy
import datetime as dt
import json
import os
import random
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import fastavro  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

import firnrun  # noqa: E402
import ice  # noqa: E402

TABLE = "m.t"
SPECS = ["", "k", "bucket(3, id)", "truncate(10, id)", "k, bucket(2, id)", "truncate(1, k)"]
KS = ["a", "b", "c", "ab", None]
MODES = [None, "auto", "merge-on-read", "copy-on-write"]
FIXED = ("id", "k", "v")
# FIRN_MODEL_CHECKS=readers (or metadata): only those checks, to see which of
# them catches a defect on its own
CHECKS = set((os.environ.get("FIRN_MODEL_CHECKS") or "readers,metadata").split(","))  # never renamed or dropped: time travel compares these


class Failure(AssertionError):
    """A check failed: which check, and what each side said."""

    def __init__(self, check: str, detail: str):
        super().__init__(f"{check}: {detail}")
        self.check = check


class Skip(Exception):
    """An operation of a replayed list that no longer applies (its column,
    snapshot or ref is gone after shrinking)."""


# ---- the model ------------------------------------------------------------

@dataclass
class Col:
    fid: int
    name: str
    type: str  # long | string


@dataclass
class Snap:
    sid: int
    parent: int | None  # index into Model.snaps
    rows: dict           # id -> {fid: value}
    ts: int
    seq: int


@dataclass
class Model:
    fv: int
    spec: str
    threshold: float
    cols: list = field(default_factory=lambda: [Col(1, "id", "long"), Col(2, "k", "string"),
                                                Col(3, "v", "long")])
    next_fid: int = 4
    next_id: int = 1
    rows: dict = field(default_factory=dict)
    snaps: list = field(default_factory=list)
    current: int | None = None
    alive: set = field(default_factory=set)
    tags: dict = field(default_factory=dict)      # name -> snap index
    branches: dict = field(default_factory=dict)  # name -> snap index
    orphans: dict = field(default_factory=dict)   # path -> True (old) / False (young)
    n_names: int = 0

    def names(self) -> list:
        return [c.name for c in self.cols]

    def col(self, name):
        return next((c for c in self.cols if c.name == name), None)

    def named(self, row: dict) -> dict:
        """A model row (by field id) as the current schema names it."""
        return {c.name: row.get(c.fid) for c in self.cols}

    def expected(self) -> list:
        return sort_rows([tuple(row.get(c.fid) for c in self.cols) for row in self.rows.values()])

    def fresh_name(self, prefix) -> str:
        self.n_names += 1
        return f"{prefix}{self.n_names}"

    def ancestors(self, idx):
        """Alive ancestors of snapshot idx, nearest first (idx included)."""
        out = []
        while idx is not None and idx in self.alive:
            out.append(idx)
            idx = self.snaps[idx].parent
        return out


def sort_rows(rows) -> list:
    return sorted(rows, key=lambda t: json.dumps(t, sort_keys=True, default=str))


# ---- where-expressions: SQL text and Kleene evaluation ---------------------

class E:
    def __init__(self, sql, fn, cols):
        self.sql, self.fn, self.cols = sql, fn, cols

    def __call__(self, row):
        return self.fn(row)


def _cmp(op, a, b):
    if a is None or b is None:
        return None
    return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _lit(v):
    if v is None:
        return "NULL"
    return f"'{v}'" if isinstance(v, str) else str(v)


def atom(rng, m: Model) -> E:
    ids = sorted(m.rows) or [1]
    pick = rng.randrange(9)
    if pick <= 2:
        op = rng.choice(["=", "<", "<=", ">", ">=", "!="])
        n = rng.choice(ids) + rng.choice([0, 0, 1, -1])
        return E(f"id {op} {n}", lambda r, op=op, n=n: _cmp(op, r["id"], n), {"id"})
    if pick == 3:
        s = sorted(set(rng.choice(ids) for _ in range(rng.randint(1, 4))))
        neg = rng.random() < 0.3
        sql = f"id {'NOT IN' if neg else 'IN'} ({', '.join(map(str, s))})"
        return E(sql, lambda r, s=s, neg=neg: (r["id"] not in s) if neg else (r["id"] in s), {"id"})
    if pick == 4:
        kv = rng.choice([x for x in KS if x])
        op = rng.choice(["=", "!=", "<", ">="])
        return E(f"k {op} '{kv}'", lambda r, op=op, kv=kv: _cmp(op, r["k"], kv), {"k"})
    if pick == 5:
        neg = rng.random() < 0.5
        return E(f"k IS {'NOT ' if neg else ''}NULL",
                 lambda r, neg=neg: (r["k"] is not None) if neg else (r["k"] is None), {"k"})
    if pick == 6:
        s = rng.sample(["a", "b", "c", "ab"], rng.randint(1, 2))
        if rng.random() < 0.5:
            return E(f"k IN ({', '.join(map(_lit, s))})",
                     lambda r, s=s: None if r["k"] is None else r["k"] in s, {"k"})
        p = s[0][0]
        return E(f"k LIKE '{p}%'", lambda r, p=p: None if r["k"] is None else r["k"].startswith(p), {"k"})
    extra = [c for c in m.cols if c.fid > 3]
    c = rng.choice(extra) if extra and rng.random() < 0.5 else m.col("v")
    if rng.random() < 0.3:
        return E(f"{c.name} IS NULL", lambda r, n=c.name: r[n] is None, {c.name})
    val = rng.randint(-20, 60) if c.type == "long" else f"s{rng.randint(0, 9)}"
    op = rng.choice(["=", "<", ">=", "!="])
    return E(f"{c.name} {op} {_lit(val)}", lambda r, n=c.name, op=op, val=val: _cmp(op, r[n], val), {c.name})


def _and(a, b):
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _or(a, b):
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def where(rng, m: Model, depth=0) -> E:
    r = rng.random()
    if depth >= 2 or r < 0.55:
        return atom(rng, m)
    if r < 0.75:
        a, b = where(rng, m, depth + 1), where(rng, m, depth + 1)
        return E(f"({a.sql}) AND ({b.sql})", lambda row: _and(a(row), b(row)), a.cols | b.cols)
    if r < 0.92:
        a, b = where(rng, m, depth + 1), where(rng, m, depth + 1)
        return E(f"({a.sql}) OR ({b.sql})", lambda row: _or(a(row), b(row)), a.cols | b.cols)
    a = where(rng, m, depth + 1)
    return E(f"NOT ({a.sql})", lambda row: None if a(row) is None else not a(row), a.cols)


_E_BY_SQL: dict = {}  # sql text -> E, filled as expressions are generated


# ---- SET lists ----------------------------------------------------------------

def set_list(rng, m: Model):
    """[(column name, sql, fn(named row) -> value)] with 1-2 targets."""
    targets = rng.sample([c for c in m.cols if c.name != "id"], min(2, len(m.cols) - 1, rng.randint(1, 2)))
    out = []
    for c in targets:
        if c.type == "string":
            if c.name == "k":
                val = rng.choice(KS)
            else:
                val = rng.choice([None, f"s{rng.randint(0, 9)}"])
            out.append((c.name, f"{c.name} = {_lit(val)}", lambda r, val=val: val))
            continue
        pick = rng.randrange(4)
        if pick == 0:
            n = rng.randint(1, 9)
            out.append((c.name, f"{c.name} = {c.name} + {n}",
                        lambda r, n=n, nm=c.name: None if r[nm] is None else r[nm] + n))
        elif pick == 1:
            out.append((c.name, f"{c.name} = id * 2", lambda r: r["id"] * 2))
        elif pick == 2:
            n = rng.randint(-9, 50)
            out.append((c.name, f"{c.name} = {n}", lambda r, n=n: n))
        else:
            out.append((c.name, f"{c.name} = NULL", lambda r: None))
    return out


def value(rng, c: Col):
    if c.name == "k":
        return rng.choice(KS)
    if rng.random() < 0.15:
        return None
    return rng.randint(-20, 60) if c.type == "long" else f"s{rng.randint(0, 9)}"


def new_rows(rng, m: Model, n, ids=None) -> list:
    out = []
    for i in range(n):
        rid = ids[i] if ids else m.next_id + i
        out.append({c.name: (rid if c.name == "id" else value(rng, c)) for c in m.cols})
    if not ids:
        m.next_id += n
    return out


# ---- the generator ------------------------------------------------------------

WEIGHTS = {"append": 20, "delete": 14, "update": 10, "merge": 8, "overwrite": 4, "compact": 5,
           "expire": 5, "rollback": 4, "tag": 4, "branch": 2, "add-column": 4, "rename-column": 3,
           "drop-column": 2, "partition-by": 3, "rewrite-manifests": 3, "remove-orphans": 3, "bad": 2}


def gen_op(rng, m: Model) -> dict:
    """One operation for the model's state, as plain data (printable and
    replayable)."""
    if m.current is None or not m.rows and rng.random() < 0.6:
        kind = "append"
    else:
        kinds = list(WEIGHTS)
        kind = rng.choices(kinds, [WEIGHTS[k] for k in kinds])[0]
    fmt = rng.choice(["csv", "jsonl", "parquet"])
    if kind == "append":
        return {"op": "append", "fmt": fmt, "rows": new_rows(rng, m, rng.randint(1, 8))}
    if kind in ("delete", "update"):
        w = where(rng, m)
        _E_BY_SQL[w.sql] = w
        op = {"op": kind, "where": w.sql, "mode": rng.choice(MODES)}
        if kind == "update":
            s = set_list(rng, m)
            for name, sql, fn in s:
                _SET_BY_SQL[sql] = (name, fn)
            op["set"] = [sql for _, sql, _ in s]
        return op
    if kind == "merge":
        have = sorted(m.rows)
        upd = rng.sample(have, min(len(have), rng.randint(0, 4)))
        rows = new_rows(rng, m, len(upd), ids=upd) + new_rows(rng, m, rng.randint(0 if upd else 1, 3))
        rng.shuffle(rows)
        return {"op": "merge", "fmt": fmt, "rows": rows}
    if kind == "overwrite":
        if rng.random() < 0.7:
            w = where(rng, m)
            _E_BY_SQL[w.sql] = w
            return {"op": "overwrite", "fmt": fmt, "where": w.sql, "rows": new_rows(rng, m, rng.randint(0, 4))}
        return {"op": "overwrite", "fmt": fmt, "where": None, "rows": new_rows(rng, m, rng.randint(1, 6))}
    if kind == "compact":
        op = {"op": "compact", "where": None, "target": None}
        if rng.random() < 0.3:
            w = where(rng, m)
            _E_BY_SQL[w.sql] = w
            op["where"] = w.sql
        if rng.random() < 0.3:
            op["target"] = rng.choice([600, 2000, 100000])
        return op
    if kind == "expire":
        alive = sorted(m.alive)
        return {"op": "expire", "retain": rng.choice([None, 1, 2, 3]),
                "older": rng.choice(["now", "snap", None]), "snap": rng.randrange(len(alive)) if alive else 0,
                "dry": rng.random() < 0.2}
    if kind == "rollback":
        anc = m.ancestors(m.current)
        return {"op": "rollback", "back": rng.randint(1, 4) if len(anc) > 1 else 0}
    if kind in ("tag", "branch"):
        return {"op": kind, "name": m.fresh_name("t" if kind == "tag" else "b"),
                "snap": rng.choice([None, rng.randrange(1 << 20)])}
    if kind == "add-column":
        return {"op": "add-column", "name": m.fresh_name("c"), "type": rng.choice(["long", "string"])}
    if kind == "rename-column":
        return {"op": "rename-column", "pick": rng.randrange(1 << 20), "to": m.fresh_name("r")}
    if kind == "drop-column":
        return {"op": "drop-column", "pick": rng.randrange(1 << 20)}
    if kind == "partition-by":
        return {"op": "partition-by", "spec": rng.choice([s for s in SPECS if s != m.spec])}
    if kind == "rewrite-manifests":
        return {"op": "rewrite-manifests"}
    if kind == "remove-orphans":
        return {"op": "remove-orphans", "dry": rng.random() < 0.3, "plant": rng.randint(0, 3)}
    return {"op": "bad", "what": rng.choice(["rollback-unknown", "rollback-descendant", "drop-partition-source",
                                              "where-unknown-column", "merge-duplicate-key"])}


_SET_BY_SQL: dict = {}


def generate_config(rng) -> dict:
    return {"fv": rng.choice([2, 3]), "spec": rng.choice(SPECS),
            "threshold": rng.choice([None, None, 0.3, 0.8])}


# ---- the runner ---------------------------------------------------------------

class Runner:
    """Runs one sequence on a fresh warehouse: each operation on firn and
    on the model, then every check."""

    def __init__(self, wh: Path, config: dict, run=None, seed=None):
        self.wh = wh
        self.run_ = run or (lambda *a, **kw: firnrun.run(*a, **kw))
        self.seed = seed
        self.m = Model(config["fv"], config["spec"], config["threshold"] or 0.5)
        self.config = config
        self.rng = random.Random(f"checks-{seed}")
        self.ops: list = []
        self.notes: list = []
        self.pending = None
        self.commands: list = []
        self.manifest_cache: dict = {}
        self.duck = ice.duck()
        self.cat = None
        self.n_input = 0
        self.n_orphan = 0
        self.tloc = None

    # firn
    def firn(self, *args, check=True):
        res = self.run_("--warehouse", self.wh, *args, check=False)
        self.commands.append(res.shell.replace(str(self.wh), "$WH"))
        if check and res.returncode != 0:
            raise Failure("firn command", f"exit {res.returncode}: {res.shell}\n{res.stderr[-1500:]}")
        return res

    def firn_json(self, *args):
        return json.loads(self.firn(*args, "--json").stdout)

    def create(self):
        c = self.config
        self.firn("namespace", "create", "m")
        args = ["create", TABLE, "--schema", "id long not null, k string, v long",
                "--format-version", str(c["fv"])]
        if c["spec"]:
            args += ["--partition-by", c["spec"]]
        if c["threshold"] is not None:
            args += ["--property", f"firn.write.cow-threshold={c['threshold']}"]
        if c.get("row_group"):
            args += ["--property", f"write.parquet.row-group-size-bytes={c['row_group']}"]
        self.firn(*args)
        self.tloc = Path(ice.describe(self.run_, self.wh, TABLE)["location"].removeprefix("file://"))
        self.cat = ice.catalog(self.wh)

    def input_file(self, rows: list, fmt: str) -> Path:
        """rows (name -> value) as an input file in the current schema."""
        self.n_input += 1
        p = self.wh / f"in-{self.n_input}.{fmt}"
        cols = self.m.cols
        rows = [{c.name: r.get(c.name) for c in cols} for r in rows]
        if fmt == "csv":
            def cell(v):
                return "" if v is None else str(v)
            p.write_text(",".join(c.name for c in cols) + "\n" +
                         "".join(",".join(cell(r[c.name]) for c in cols) + "\n" for r in rows))
        elif fmt == "jsonl":
            p.write_text("".join(json.dumps(r) + "\n" for r in rows))
        else:
            schema = pa.schema([pa.field(c.name, pa.int64() if c.type == "long" else pa.string(),
                                         nullable=c.name != "id") for c in cols])
            pq.write_table(pa.Table.from_pylist(rows, schema=schema), p)
        return p

    def to_model_row(self, r: dict) -> dict:
        return {c.fid: r.get(c.name) for c in self.m.cols}

    # ---- one step -------------------------------------------------------
    def step(self, op: dict):
        self.ops.append(op)
        before = self.m.current
        before_sid = self.m.snaps[before].sid if before is not None else None
        kind = op["op"]
        changes = getattr(self, "op_" + kind.replace("-", "_"))(op)
        self.after(op, before, before_sid, changes)
        self.check()
        if self.pending:
            raise self.pending

    def after(self, op, before, before_sid, changes):
        """Records the snapshot the operation made (if any) in the model.
        changes: True (rows changed: exactly one new snapshot), False (no new
        snapshot), None (zero or one, rows unchanged), 'rollback'."""
        d = ice.describe(self.run_, self.wh, TABLE)
        sid = d.get("current-snapshot-id")
        if changes == "rollback":
            return
        if sid == before_sid or (sid is None and before_sid is None):
            if changes is True:
                raise Failure("snapshot", f"{op['op']} changed rows but made no snapshot")
            return
        if changes is False:
            raise Failure("snapshot", f"{op['op']} made snapshot {sid}; it should make none")
        meta = self.metadata(d["metadata-location"])
        s = next(x for x in meta["snapshots"] if x["snapshot-id"] == sid)
        if s.get("parent-snapshot-id") != before_sid:
            raise Failure("snapshot", f"new snapshot {sid}'s parent is {s.get('parent-snapshot-id')}, "
                          f"not the previous current {before_sid}")
        if any(x.sid == sid for x in self.m.snaps):
            raise Failure("snapshot", f"{op['op']} made current an old snapshot {sid}")
        self.m.snaps.append(Snap(sid, before, copy.deepcopy(self.m.rows), s["timestamp-ms"], s["sequence-number"]))
        self.m.current = len(self.m.snaps) - 1
        self.m.alive.add(self.m.current)

    # ---- operations -----------------------------------------------------
    def op_append(self, op):
        p = self.input_file(op["rows"], op["fmt"])
        fmt = ["--format", op["fmt"]] if op["fmt"] == "jsonl" else []
        self.rows_unique(op["rows"])
        r = self.firn_json("append", TABLE, p, *fmt)
        if r["added-records"] != len(op["rows"]):
            raise Failure("append", f"added-records {r['added-records']} != {len(op['rows'])}")
        for row in op["rows"]:
            self.m.rows[row["id"]] = self.to_model_row(row)
        return bool(op["rows"])

    def rows_unique(self, rows):
        if any(r["id"] in self.m.rows for r in rows):
            raise Skip("an id of the input is live")

    def where_of(self, op):
        e = _E_BY_SQL.get(op.get("where"))
        if e is None:
            raise Skip("unknown where")
        if any(self.m.col(c) is None for c in e.cols):
            raise Skip("a column of the where is gone")
        return e

    def plan(self, match, record_counts):
        """Per live data file: (matched rows, live rows, record count), from
        DuckDB's filename/position of each live row (DuckDB reads the same
        rows as the model, checked after every step)."""
        loc = self.meta_loc()
        names = self.m.names()
        q = f"SELECT filename, {', '.join(f'{chr(34)}{n}{chr(34)}' for n in names)} FROM iceberg_scan('{loc}')"
        per = {}
        for rec in self.duck.execute(q).fetchall():
            row = dict(zip(names, rec[1:]))
            f = per.setdefault(rec[0].removeprefix("file://"), [0, 0])
            f[1] += 1
            f[0] += bool(match(row))
        return {p: (mt, live, record_counts[p]) for p, (mt, live) in per.items()}

    def predict(self, plan, mode, drop_ok):
        """files-removed, files-rewritten, delete-files by DESIGN.md §5; and
        how many of the removed files the rule would rewrite, or give a
        delete file, if they were not removed (see row_change)."""
        removed = rewritten = mor = alt_cow = alt_mor = 0
        for matched, live, records in plan.values():
            if matched == 0:
                continue
            cow = mode == "copy-on-write" or (mode in (None, "auto") and matched / records >= self.m.threshold)
            if drop_ok and matched == live:
                removed += 1
                alt_cow += cow
                alt_mor += not cow
            elif cow:
                rewritten += 1
            else:
                mor += 1
        return (removed, rewritten, mor), (alt_cow, alt_mor)

    def record_counts(self) -> dict:
        meta = self.metadata(self.meta_loc())
        out = {}
        snap = self.current_snapshot(meta)
        if snap is None:
            return out
        for mf in self.avro(snap["manifest-list"]):
            _, entries = self.manifest(mf["manifest_path"])
            for e in entries:
                if e["status"] != 2 and e["data_file"]["content"] == 0:
                    out[e["data_file"]["file_path"].removeprefix("file://")] = e["data_file"]["record_count"]
        return out

    def row_change(self, op, kind, match, apply, args, drop_ok, rows_key="rows", mode=None):
        plan = self.plan(lambda r: match(r) is True, self.record_counts())
        n = sum(p[0] for p in plan.values())
        (removed, rewritten, mor), (alt_cow, alt_mor) = self.predict(plan, mode, drop_ok)
        r = self.firn_json(kind, TABLE, *args)
        got = (r[rows_key], r["files-removed"], r["files-rewritten"], r["delete-files"])
        want = (n, removed, rewritten, mor)
        if got != want:  # raised after the readers' check (which says more when rows went wrong)
            self.pending = Failure(f"{kind} --json", f"(rows, files-removed, files-rewritten, delete-files) = "
                                   f"{got}, the rule says {want} (mode {mode}, threshold {self.m.threshold})")
        apply()
        return n > 0

    def op_delete(self, op):
        e = self.where_of(op)
        mode = op["mode"]
        args = ["--where", e.sql] + (["--mode", mode] if mode else [])

        def apply():
            for rid in [rid for rid, row in self.m.rows.items() if e(self.m.named(row)) is True]:
                del self.m.rows[rid]
        return self.row_change(op, "delete", e, apply, args, True, rows_key="deleted-rows", mode=mode)

    def op_update(self, op):
        e = self.where_of(op)
        sets = []
        for sql in op["set"]:
            name, fn = _SET_BY_SQL[sql]
            if self.m.col(name) is None:
                raise Skip("a SET column is gone")
            sets.append((name, fn))
        mode = op["mode"]
        args = ["--set", ", ".join(op["set"]), "--where", e.sql] + (["--mode", mode] if mode else [])

        def apply():
            for rid, row in self.m.rows.items():
                named = self.m.named(row)
                if e(named) is True:
                    new = {n: fn(named) for n, fn in sets}
                    for n, v in new.items():
                        row[self.m.col(n).fid] = v
        return self.row_change(op, "update", e, apply, args, False, mode=mode)

    def op_merge(self, op):
        keys = {r["id"] for r in op["rows"]}
        p = self.input_file(op["rows"], op["fmt"])
        fmt = ["--format", op["fmt"]] if op["fmt"] == "jsonl" else []

        def apply():
            for row in op["rows"]:
                self.m.rows[row["id"]] = self.to_model_row(row)
        self.row_change(op, "merge", lambda r: r["id"] in keys, apply, [p, "--on", "id", *fmt], True)
        return bool(op["rows"])

    def op_overwrite(self, op):
        e = self.where_of(op) if op["where"] else E("true", lambda r: True, set())
        self.n_input += 0
        survivors = {rid for rid, row in self.m.rows.items() if e(self.m.named(row)) is not True}
        if any(r["id"] in survivors for r in op["rows"]):
            raise Skip("an id of the input survives the overwrite")
        p = self.input_file(op["rows"], op["fmt"])
        fmt = ["--format", op["fmt"]] if op["fmt"] == "jsonl" else []
        args = [p, *fmt] + (["--where", e.sql] if op["where"] else [])
        if any(e(self.m.named(self.to_model_row(r))) is not True for r in op["rows"]):
            # rows outside the filter: refused, as Java's overwrite validation does
            return self.refused(["overwrite", TABLE, *args], "overwrite outside its filter")

        def apply():
            for rid in [rid for rid in self.m.rows if rid not in survivors]:
                del self.m.rows[rid]
            for row in op["rows"]:
                self.m.rows[row["id"]] = self.to_model_row(row)
        changed = self.row_change(op, "overwrite", e, apply, args, True, mode="copy-on-write")
        return changed or bool(op["rows"]) or None

    def op_compact(self, op):
        args = []
        if op["where"]:
            args += ["--where", self.where_of(op).sql]
        if op["target"]:
            args += ["--target-file-size", str(op["target"])]
        self.firn_json("compact", TABLE, *args)
        return None

    def op_rewrite_manifests(self, op):
        self.firn("rewrite-manifests", TABLE)
        return None

    def op_expire(self, op):
        meta = self.metadata(self.meta_loc())
        now_ms = int(time.time() * 1000)
        alive = sorted(self.m.alive)
        args = []
        cutoff = now_ms - 5 * 86400000
        if op["older"] == "now":
            cutoff = now_ms + 1
            args += ["--older-than", str(cutoff)]
        elif op["older"] == "snap" and alive:
            cutoff = self.m.snaps[alive[op["snap"] % len(alive)]].ts
            args += ["--older-than", dt.datetime.fromtimestamp(cutoff / 1000, dt.timezone.utc)
                     .strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]]
        if op["retain"]:
            args += ["--retain-last", str(op["retain"])]
        if op["dry"]:
            args += ["--dry-run"]
        keep = self.expire_keeps(meta, cutoff, op["retain"] or 1)
        r = self.firn_json("expire", TABLE, *args)
        want = len(self.m.alive) - len(keep)
        if r["snapshots-expired"] != want:
            raise Failure("expire", f"snapshots-expired {r['snapshots-expired']}, the rule says {want} "
                          f"(cutoff {cutoff}, retain {op['retain']})")
        got = {s["snapshot-id"] for s in self.metadata(self.meta_loc())["snapshots"]}
        if not op["dry"]:
            self.m.alive = keep
        want_sids = {self.m.snaps[i].sid for i in self.m.alive}
        if got != want_sids:
            raise Failure("expire", f"snapshots left {sorted(got)}, the model keeps {sorted(want_sids)}")
        return False

    def expire_keeps(self, meta, cutoff, min_keep) -> set:
        """The spec's retention: every ref's snapshot; for branches, the
        first min_keep ancestors and those at or after the cutoff;
        snapshots on no ref's history while at or after the cutoff."""
        m = self.m
        keep = set()
        heads = [(i, False) for i in m.tags.values()] + [(i, True) for i in m.branches.values()]
        if m.current is not None:
            heads.append((m.current, True))
        on_ref = set()
        for idx, branch in heads:
            if idx not in m.alive:
                continue
            keep.add(idx)
            anc = m.ancestors(idx)
            on_ref.update(anc)
            if not branch:
                continue
            for n, a in enumerate(anc, 1):
                if n <= min_keep or m.snaps[a].ts >= cutoff:
                    keep.add(a)
                else:
                    break
        for i in m.alive:
            if i not in on_ref and m.snaps[i].ts >= cutoff:
                keep.add(i)
        return keep

    def op_rollback(self, op):
        anc = self.m.ancestors(self.m.current)
        if op["back"] == 0 or len(anc) < 2:
            raise Skip("no ancestor to roll back to")
        target = anc[min(op["back"], len(anc) - 1)]
        self.firn("rollback", TABLE, "--to", str(self.m.snaps[target].sid))
        sid = ice.describe(self.run_, self.wh, TABLE).get("current-snapshot-id")
        if sid != self.m.snaps[target].sid:
            raise Failure("rollback", f"current snapshot {sid}, not {self.m.snaps[target].sid}")
        self.m.current = target
        self.m.rows = copy.deepcopy(self.m.snaps[target].rows)
        return "rollback"

    def op_tag(self, op, kind="tag"):
        alive = sorted(self.m.alive)
        if not alive:
            raise Skip("no snapshot")
        idx = self.m.current if op["snap"] is None else alive[op["snap"] % len(alive)]
        args = [] if op["snap"] is None else ["--snapshot", str(self.m.snaps[idx].sid)]
        self.firn(kind, TABLE, op["name"], *args)
        (self.m.tags if kind == "tag" else self.m.branches)[op["name"]] = idx
        return False

    def op_branch(self, op):
        return self.op_tag(op, "branch")

    def op_add_column(self, op):
        if self.m.col(op["name"]):
            raise Skip("column exists")
        self.firn("alter", TABLE, "add-column", f"{op['name']} {op['type']}")
        self.m.cols.append(Col(self.m.next_fid, op["name"], op["type"]))
        self.m.next_fid += 1
        return False

    def extra_col(self, op):
        extra = [c for c in self.m.cols if c.name not in FIXED]
        if not extra:
            raise Skip("no added column")
        return extra[op["pick"] % len(extra)]

    def op_rename_column(self, op):
        c = self.extra_col(op)
        self.firn("alter", TABLE, "rename-column", c.name, op["to"])
        c.name = op["to"]
        return False

    def op_drop_column(self, op):
        c = self.extra_col(op)
        self.firn("alter", TABLE, "drop-column", c.name)
        self.m.cols.remove(c)
        return False

    def op_partition_by(self, op):
        self.firn("alter", TABLE, "partition-by", op["spec"])
        self.m.spec = op["spec"]
        return False

    def op_remove_orphans(self, op):
        """Plants old and young stray files, makes every file of the table
        ten days old, then removes orphans older than two days: only the
        planted old ones may go (the reference set alone protects the rest)."""
        for i in range(op["plant"]):
            self.n_orphan += 1
            sub = ["data", "metadata", "data/k=zz"][i % 3]
            p = self.tloc / sub / f"stray-{self.n_orphan}.{'avro' if sub == 'metadata' else 'parquet'}"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(b"stray")
            self.m.orphans[str(p)] = True
        if op["plant"]:
            self.n_orphan += 1
            young = self.tloc / "data" / f"young-{self.n_orphan}.parquet"
            young.write_bytes(b"young")
            self.m.orphans[str(young)] = False
        old = time.time() - 10 * 86400
        for p in self.tloc.rglob("*"):
            if p.is_file() and self.m.orphans.get(str(p)) is not False:
                os.utime(p, (old, old))
        cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
        args = ["--older-than", cutoff.strftime("%Y-%m-%dT%H:%M:%S")] + (["--dry-run"] if op["dry"] else [])
        r = self.firn_json("remove-orphans", TABLE, *args)
        olds = [p for p, o in self.m.orphans.items() if o]
        youngs = [p for p, o in self.m.orphans.items() if not o]
        if (r["orphans"], r["kept-too-young"]) != (len(olds), len(youngs)):
            raise Failure("remove-orphans", f"(orphans, kept-too-young) = ({r['orphans']}, {r['kept-too-young']}); "
                          f"planted ({len(olds)}, {len(youngs)}) (other unreferenced files under the table?)")
        for p in olds:
            if Path(p).exists() == (not op["dry"]):
                raise Failure("remove-orphans", f"{p} {'still exists' if not op['dry'] else 'was removed by a dry run'}")
        for p in youngs:
            if not Path(p).exists():
                raise Failure("remove-orphans", f"{p} is younger than the cutoff and was removed")
        if not op["dry"]:
            self.m.orphans = {p: False for p in youngs}
        return False

    def op_bad(self, op):
        """A request that must fail with the error contract and change
        nothing."""
        w = op["what"]
        anc = self.m.ancestors(self.m.current)
        if w == "rollback-unknown":
            args = ["rollback", TABLE, "--to", "1234567"]
        elif w == "rollback-descendant":
            others = [i for i in self.m.alive if i not in anc]
            if not others:
                raise Skip("no non-ancestor")
            args = ["rollback", TABLE, "--to", str(self.m.snaps[min(others)].sid)]
        elif w == "drop-partition-source":
            if not self.m.spec:
                raise Skip("unpartitioned: any column may go")
            args = ["alter", TABLE, "drop-column", "k" if re.search(r"\bk\b", self.m.spec) else "id"]
        elif w == "where-unknown-column":
            args = ["delete", TABLE, "--where", "nope = 1"]
        else:
            p = self.input_file([{"id": 1, "k": "a", "v": 1}, {"id": 1, "k": "b", "v": 2}], "csv")
            args = ["merge", TABLE, p, "--on", "id"]
        return self.refused(args, w)

    def refused(self, args, w):
        """Runs a request that must fail with the error contract and change
        nothing."""
        loc = self.meta_loc()
        files = {str(p) for p in self.tloc.rglob("*") if p.is_file()}
        res = self.firn(*args, check=False)
        # what a failed command left behind is an orphan (remove-orphans takes it)
        for p in self.tloc.rglob("*"):
            if p.is_file() and str(p) not in files:
                self.m.orphans[str(p)] = True
        try:
            firnrun.assert_error(res)
        except AssertionError as e:
            raise Failure("error contract", str(e)) from None
        if self.meta_loc() != loc:
            raise Failure("error contract", f"a failed {w} committed a new metadata file")
        return False

    # ---- reading --------------------------------------------------------
    def meta_loc(self) -> str:
        return ice.describe(self.run_, self.wh, TABLE)["metadata-location"].removeprefix("file://")

    def metadata(self, loc) -> dict:
        return json.loads(Path(loc.removeprefix("file://")).read_text())

    def current_snapshot(self, meta):
        sid = meta.get("current-snapshot-id")
        if sid is None or sid == -1:
            return None
        return next(s for s in meta["snapshots"] if s["snapshot-id"] == sid)

    def avro(self, path):
        with open(path.removeprefix("file://"), "rb") as f:
            return list(fastavro.reader(f))

    def manifest(self, path):
        if path not in self.manifest_cache:
            with open(path.removeprefix("file://"), "rb") as f:
                r = fastavro.reader(f)
                meta = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in r.metadata.items()}
                self.manifest_cache[path] = (meta, list(r))
        return self.manifest_cache[path]

    def firn_read(self, names, *args):
        if self.rng.random() < 0.5:
            out = self.firn("scan", TABLE, "--format", "jsonl", *args).stdout
            return sort_rows([tuple(ice.norm(json.loads(line).get(n, "<missing>")) for n in names)
                              for line in out.splitlines()])
        return ice.firn_rows(lambda *a, **kw: self.firn(*a[2:], **kw), self.wh, TABLE, *args)

    def readers(self, names, snapshot=None, ref=None) -> dict:
        """What each reader returns; at a snapshot (firn: at the ref if
        given, which points at that snapshot), projected on names."""
        loc = self.meta_loc()
        args = []
        if ref or snapshot is not None:
            args = (["--ref", ref] if ref else ["--snapshot", str(snapshot)]) + ["--columns", ",".join(names)]
        out = {"firn": self.firn_read(names, *args)}
        out["duckdb"] = ice.duck_scan(self.duck, loc, snapshot_id=snapshot, columns=names)
        if self.m.fv == 2:  # PyIceberg 0.12 does not read v3 deletion vectors: v3 is firn + DuckDB
            t = self.cat.load_table(TABLE)
            kw = {"selected_fields": tuple(names)}
            if snapshot is not None:
                kw["snapshot_id"] = snapshot
            out["pyiceberg"] = ice.rows(t.scan(**kw).to_arrow(), names)
        return out

    def compare(self, what, want, got: dict):
        bad = {k: v for k, v in got.items() if v != want}
        if bad:
            lines = [f"model   ({len(want)}): {want}"] + [f"{k:8}({len(v)}): {v}" for k, v in got.items()]
            raise Failure(f"readers {what}", "\n".join(lines))

    def check(self):
        m = self.m
        if m.current is None:
            return
        if "readers" not in CHECKS:
            return self.check_metadata_only()
        self.compare("at the current snapshot", m.expected(), self.readers(m.names()))
        # one earlier snapshot, tag or branch (the columns no operation renames or drops)
        choices = [("snap", i) for i in sorted(m.alive) if i != m.current]
        choices += [("ref", n) for n in list(m.tags) + list(m.branches)]
        if choices:
            kind, x = self.rng.choice(choices)
            idx = x if kind == "snap" else (m.tags.get(x, m.branches.get(x)))
            if idx in m.alive:
                want = sort_rows([(r[1], r.get(2), r.get(3)) for r in m.snaps[idx].rows.values()])
                got = self.readers(list(FIXED), snapshot=m.snaps[idx].sid, ref=x if kind == "ref" else None)
                self.compare(f"at {kind} {x} (snapshot {m.snaps[idx].sid})", want, got)
        if "metadata" not in CHECKS:
            return
        problems = check_metadata(self, self.metadata(self.meta_loc()))
        if problems:
            raise Failure("metadata", "\n".join(problems[:20]))

    # ---- the final readers ----------------------------------------------
    def check_metadata_only(self):
        problems = check_metadata(self, self.metadata(self.meta_loc()))
        if problems:
            raise Failure("metadata", "\n".join(problems[:20]))

    def report(self, exc) -> str:
        return format_failure(self.seed, self.config, self.ops, exc, self.commands)


# ---- metadata checks ----------------------------------------------------------

def _decode_bound(b, typ):
    if b is None:
        return None
    if typ == "int":
        return int.from_bytes(b, "little", signed=True)
    if typ == "long":
        return int.from_bytes(b, "little", signed=True)
    if typ == "string":
        return b.decode("utf-8")
    return b


def _ptype(field, types):
    tr = field["transform"]
    if tr.startswith("bucket"):
        return "int"
    return types.get(field["source-id"], "?")


def check_metadata(r: Runner, meta: dict) -> list:
    """Every referenced file exists; every manifest-list field agrees with
    its manifest. Returns the problems found."""
    out = []

    def exists(p, what):
        if not Path(p.removeprefix("file://")).exists():
            out.append(f"missing {what}: {p}")
            return False
        return True

    seq_of = {s["snapshot-id"]: s["sequence-number"] for s in meta["snapshots"]}
    specs = {s["spec-id"]: s for s in meta["partition-specs"]}
    types = {}
    for sc in meta["schemas"]:
        for f in sc["fields"]:
            types[f["id"]] = f["type"] if isinstance(f["type"], str) else "?"
    for st in meta.get("statistics", []) + meta.get("partition-statistics", []):
        exists(st["statistics-path"], "statistics file")
    for snap in meta["snapshots"]:
        sid = snap["snapshot-id"]
        if not exists(snap["manifest-list"], f"manifest list of snapshot {sid}"):
            continue
        live_data, dvs = {}, {}
        for mf in r.avro(snap["manifest-list"]):
            path = mf["manifest_path"]
            where = f"snapshot {sid}: {Path(path).name}"
            if not exists(path, f"manifest of snapshot {sid}"):
                continue
            hdr, entries = r.manifest(path)
            want_content = 0 if hdr.get("content", "data") == "data" else 1
            if mf["content"] != want_content:
                out.append(f"{where}: list content {mf['content']}, manifest says {hdr.get('content')}")
            for e in entries:
                c = e["data_file"]["content"]
                if (c == 0) != (mf["content"] == 0):
                    out.append(f"{where}: entry of content {c} in a manifest of content {mf['content']}")
            counts = {}
            for status, name in ((1, "added"), (0, "existing"), (2, "deleted")):
                es = [e for e in entries if e["status"] == status]
                counts[f"{name}_files_count"] = len(es)
                counts[f"{name}_rows_count"] = sum(e["data_file"]["record_count"] for e in es)
            for k, v in counts.items():
                if mf[k] != v:
                    out.append(f"{where}: {k} {mf[k]}, the manifest has {v}")
            mseq = mf["sequence_number"]
            if mf["added_snapshot_id"] in seq_of and mseq != seq_of[mf["added_snapshot_id"]]:
                out.append(f"{where}: sequence_number {mseq}, its snapshot {mf['added_snapshot_id']} "
                           f"has {seq_of[mf['added_snapshot_id']]}")
            if mseq > snap["sequence-number"]:
                out.append(f"{where}: sequence_number {mseq} after the snapshot's {snap['sequence-number']}")
            live = []
            for e in entries:
                eseq = e["sequence_number"] if e["sequence_number"] is not None else mseq
                if e["status"] == 1:
                    if e["snapshot_id"] not in (None, mf["added_snapshot_id"]):
                        out.append(f"{where}: ADDED entry of snapshot {e['snapshot_id']} in a manifest "
                                   f"added by {mf['added_snapshot_id']}")
                    if e["sequence_number"] not in (None, mseq):
                        out.append(f"{where}: ADDED entry's sequence number {e['sequence_number']} != {mseq}")
                if e["status"] == 0 and e["sequence_number"] is None:
                    out.append(f"{where}: EXISTING entry without a sequence number")
                if e["status"] != 2:
                    live.append(eseq)
                    df = e["data_file"]
                    exists(df["file_path"], f"{'data' if df['content'] == 0 else 'delete'} file of snapshot {sid}")
                    if df["content"] == 0:
                        live_data[df["file_path"]] = live_data.get(df["file_path"], 0) + 1
                    elif df.get("referenced_data_file") and df.get("file_format", "").upper() == "PUFFIN":
                        dvs.setdefault(df["referenced_data_file"], []).append(df["file_path"])
            want_min = min(live) if live else mseq
            if mf["min_sequence_number"] != want_min:
                out.append(f"{where}: min_sequence_number {mf['min_sequence_number']}, the oldest live "
                           f"entry's is {want_min} (content {mf['content']}, manifest seq {mseq})")
            spec = specs.get(mf["partition_spec_id"])
            if spec is None:
                out.append(f"{where}: partition_spec_id {mf['partition_spec_id']} unknown")
                continue
            sums = mf.get("partitions") or []
            if len(sums) != len(spec["fields"]):
                out.append(f"{where}: {len(sums)} partition summaries for {len(spec['fields'])} fields")
                continue
            for f, s in zip(spec["fields"], sums):
                if f["transform"] == "void":
                    continue
                typ = _ptype(f, types)
                vals = [e["data_file"]["partition"].get(f["name"]) for e in entries]
                nulls = any(v is None for v in vals)
                if s["contains_null"] != nulls:
                    out.append(f"{where}: field {f['name']}: contains_null {s['contains_null']}, entries say {nulls}")
                nn = [v for v in vals if v is not None]
                lo, hi = _decode_bound(s.get("lower_bound"), typ), _decode_bound(s.get("upper_bound"), typ)
                key = (lambda x: x.encode()) if typ == "string" else (lambda x: x)
                if nn and (lo is None or hi is None or key(lo) > key(min(nn, key=key)) or key(hi) < key(max(nn, key=key))):
                    out.append(f"{where}: field {f['name']}: bounds [{lo!r}, {hi!r}] do not cover "
                               f"[{min(nn, key=key)!r}, {max(nn, key=key)!r}]")
        for p, n in live_data.items():
            if n > 1:
                out.append(f"snapshot {sid}: data file {p} is live {n} times")
        for p, ds in dvs.items():
            if len(ds) > 1:
                out.append(f"snapshot {sid}: {len(ds)} deletion vectors for {p}")
            if p not in live_data:
                out.append(f"snapshot {sid}: a deletion vector for {p}, which is not live")
    exists(r.meta_loc(), "current metadata")
    return out


# ---- sequences ----------------------------------------------------------------

def format_failure(seed, config, ops, exc, commands=None) -> str:
    lines = [f"model sequence failed: seed {seed} (replay: FIRN_MODEL_SEED={seed} pytest "
             f"tests/interop/test_model.py, or python tests/interop/model.py replay {seed})",
             f"table: format v{config['fv']}, partition-by {config['spec']!r}, cow-threshold {config['threshold']}, "
             f"row-group size {config.get('row_group')}",
             f"{len(ops)} operations (the last one failed):"]
    lines += [f"  {i + 1:3}. {json.dumps(op)}" for i, op in enumerate(ops)]
    if commands:
        lines.append("firn commands (last 12):")
        lines += ["  " + c for c in commands[-12:]]
    lines.append(f"failure: {exc}")
    return "\n".join(lines)


def run_sequence(wh: Path, seed: int, n_ops: int, run=None, ops=None, spark=None) -> Runner:
    """Runs the sequence of a seed (or the given operation list) on a fresh
    warehouse. Raises Failure (with .report) at the first failed check."""
    rng = random.Random(seed)
    config = generate_config(rng)
    # files of several row groups for some seeds (own generator: the other
    # choices of a seed stay as they were)
    config["row_group"] = random.Random(f"rg-{seed}").choice([None, None, None, 1, 48])
    if wh.exists():
        shutil.rmtree(wh)
    wh.mkdir(parents=True)
    r = Runner(wh, config, run=run, seed=seed)
    try:
        r.create()
        if ops is None:
            for _ in range(n_ops):
                op = gen_op(rng, r.m)
                try:
                    r.step(op)
                except Skip:
                    r.ops.pop()
        else:
            for op in ops:
                try:
                    r.step(op)
                except Skip:
                    r.ops.pop()
    except (Failure, AssertionError) as exc:
        exc.report = r.report(exc)
        exc.ops = list(r.ops)
        exc.config = config
        raise
    return r


def shrink(wh: Path, seed: int, ops: list, check: str, run=None, budget=150) -> list:
    """The shortest sub-list found (greedy: drop chunks, then single
    operations) that still fails the same check."""
    def fails(cand):
        try:
            run_sequence(wh, seed, 0, run=run, ops=copy.deepcopy(cand))
        except Failure as e:
            return e.check == check
        except AssertionError:
            return False
        return False
    tries = 0
    chunk = max(1, len(ops) // 2)
    while chunk >= 1 and tries < budget:
        i = 0
        while i < len(ops) and tries < budget:
            cand = ops[:i] + ops[i + chunk:]
            tries += 1
            if cand and fails(cand):
                ops = cand
            else:
                i += chunk
        chunk //= 2
    return ops


def n_ops_of(seed: int) -> int:
    """The length of a seed's sequence (the same under pytest and the soak)."""
    return random.Random(f"len-{seed}").randint(15, 40)


def soak(n: int, start: int, root: Path) -> int:
    """Runs n sequences from seed start; prints each failure's seed, its
    operations and a shrunk list. Returns the number that failed."""
    failed = 0
    t0 = time.time()
    for seed in range(start, start + n):
        wh = root / f"seed-{seed}"
        try:
            run_sequence(wh, seed, n_ops_of(seed))
            shutil.rmtree(wh, ignore_errors=True)
        except Failure as e:
            failed += 1
            print(e.report, flush=True)
            small = shrink(root / f"shrink-{seed}", seed, e.ops, e.check)
            print(f"shortest failing list found ({len(small)} operations, check {e.check!r}):", flush=True)
            for i, op in enumerate(small):
                print(f"  {i + 1:3}. {json.dumps(op)}", flush=True)
            print(flush=True)
        if (seed - start + 1) % 50 == 0:
            print(f"soak: {seed - start + 1}/{n} sequences, {failed} failed, {time.time() - t0:.0f}s", flush=True)
    print(f"soak: {n} sequences from seed {start}: {failed} failed", flush=True)
    return failed


def main(argv) -> int:
    root = Path(os.environ.get("FIRN_INTEROP_TMP") or HERE / ".tmp") / f"model-{os.getpid()}"
    if len(argv) >= 2 and argv[1] == "soak":
        n = int(argv[2]) if len(argv) > 2 else int(os.environ.get("SOAK_SEQUENCES", "2000"))
        start = int(argv[3]) if len(argv) > 3 else int(os.environ.get("SOAK_START", "1000"))
        return 1 if soak(n, start, root) else 0
    if len(argv) >= 3 and argv[1] == "replay":
        seed = int(argv[2])
        try:
            run_sequence(root / f"seed-{seed}", seed, n_ops_of(seed))
        except Failure as e:
            print(e.report)
            return 1
        print(f"seed {seed}: passed")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
