"""Benchmark the audit log against the issue's targets: `vault audit verify` over 1 million
events in under 20 s; appending costs O(log n) at most; a permission check adds under 1 ms.

A throwaway vault (real `vault init`, in a temp dir) is grown in bulk to N events with the
bytes and hashes `audit.append` would write (`audit.canonical`, SHA-256 chain, the completed
`merkle.Frontier` subtrees as `audit_node` rows, `audit_head`), by executemany in big
transactions; tree heads are signed at ~1,000, ~N/2 and N events. Measured: audit.verify
(median of 3; passing also proves the bulk rows right); `vault audit verify` once, end to end,
and `vault whoami` (start-up + scrypt unlock); 200 x (Session + audit.append + commit) at ~1,000
and ~N events: us each, audit_node rows read/written (from the SQL sent); 10,000 x
access.allowed, Context.permit (membership SELECT each call) and a whole Context.act().

Stdlib + the project; from the repository root (--db URL: an empty DB, e.g. PostgreSQL):
    .venv/bin/python tests/bench/bench_audit.py [--events 1000000] [--db sqlite|URL]
Prints a table and a final `BENCH_JSON {...}` line; exit 1 if the log fails verification.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from vault.audit import log as audit
from vault.audit import merkle, verify
from vault.config import Settings
from vault.metadata.models import AuditEvent, AuditHead, AuditNode
from vault.people import access
from vault.service import bootstrap

PASSPHRASE = "bench-passphrase-123"
BATCH, APPENDS, CALLS, SMALL = 50_000, 200, 10_000, 1_000
VERIFY_LIMIT_S, CHECK_LIMIT_US = 20.0, 1000.0
VERDICT = {None: "-", True: "PASS", False: "FAIL"}
ACTIONS = (("item.ingest", "ok"), ("item.read", "ok"), ("item.verify", "ok"),
           ("item.list", "ok"), ("engagement.view", "denied"), ("item.read", "ok"))
COLS = ("at", "actor", "action", "object", "outcome", "engagement_id", "detail")
E, N, H = AuditEvent.__table__, AuditNode.__table__, AuditHead.__table__  # type: ignore[attr-defined]


class Log:
    """The chain and tree state of the log as this script last saw it."""

    def __init__(self) -> None:
        self.frontier, self.prev, self.seq = merkle.Frontier(), audit.GENESIS, 0

    def grow_to(self, engine: sa.Engine, size: int) -> None:
        """Bulk-append synthetic events (same bytes and hashes as audit.append) up to `size`."""
        with engine.connect() as conn:  # first fold in what others appended since last seen
            for r in conn.execute(sa.select(E).where(E.c.seq > self.seq).order_by(E.c.seq)):
                assert r.prev_hash == self.prev, "chain broken before the bulk insert"
                doc = audit.canonical(r.prev_hash, *(getattr(r, c) for c in COLS))
                self.frontier.append(merkle.leaf_hash(doc))
                self.prev, self.seq = r.hash, r.seq
        t0 = datetime.now(UTC) - timedelta(days=30)
        while self.frontier.size < size:
            events: list[dict[str, Any]] = []
            nodes: list[dict[str, Any]] = []
            for _ in range(min(BATCH, size - self.frontier.size)):
                i = self.frontier.size
                action, outcome = ACTIONS[i % len(ACTIONS)]
                ev = (t0 + timedelta(microseconds=i), f"user{i % 7}", action, f"{i:032x}",
                      outcome, f"{i % 13:032x}", json.dumps({"size": i}) if i % 3 else None)
                doc = audit.canonical(self.prev, *ev)
                digest = hashlib.sha256(doc).hexdigest()
                events.append(dict(zip(COLS, ev, strict=True), prev_hash=self.prev, hash=digest))
                nodes.extend({"level": lv, "idx": ix, "hash": h}
                             for lv, ix, h in self.frontier.append(merkle.leaf_hash(doc)))
                self.prev = digest
            with engine.begin() as conn:
                conn.execute(sa.insert(E), events)
                conn.execute(sa.insert(N), nodes)
                conn.execute(sa.update(H).where(H.c.id == 1).values(
                    size=self.frontier.size, last_hash=self.prev))
                self.seq = conn.execute(sa.select(sa.func.max(E.c.seq))).scalar() or 0


class SqlCounter:
    """Counts audit_node rows read / written and `member` lookups from the SQL sent."""

    def __init__(self, engine: sa.Engine) -> None:
        self.reads = self.writes = self.member = 0
        sa.event.listen(engine, "before_cursor_execute", self)

    def __call__(self, _c: Any, _cur: Any, stmt: str, params: Any, _x: Any, many: bool) -> None:
        node, verb = "audit_node" in stmt, stmt.lstrip()[:6].upper()
        self.reads += node and verb == "SELECT"
        rows = len(params) if many else len(params) // 3  # an audit_node row has 3 columns
        self.writes += rows if node and verb == "INSERT" else 0
        self.member += "FROM member" in stmt


def time_appends(engine: sa.Engine, count: SqlCounter) -> dict[str, Any]:
    with Session(engine) as s:
        us, rw, size = [], [], audit.head(s)[0]
    for k in range(APPENDS):
        count.reads = count.writes = 0
        t = time.perf_counter()
        with Session(engine) as s:
            audit.append(s, at=datetime.now(UTC), actor="bench", action="bench.append",
                         obj=f"append/{k}", outcome="ok")
            s.commit()
        us.append((time.perf_counter() - t) * 1e6)
        rw.append((count.reads, count.writes))
    reads, writes = zip(*rw, strict=True)
    return {"size": size, "us_median": round(statistics.median(us), 1),
            "us_p95": round(sorted(us)[int(0.95 * len(us))], 1),
            "node_reads_mean": statistics.fmean(reads), "node_reads_max": max(reads),
            "node_writes_mean": statistics.fmean(writes), "node_writes_max": max(writes),
            "bound": (size + APPENDS).bit_length()}


def per_call_us(fn: Any) -> float:
    return round(timed(lambda: [fn() for _ in range(CALLS)])[0] / CALLS * 1e6, 2)


def time_checks(v: Any, eng_id: str, count: SqlCounter) -> dict[str, float]:
    from vault.service.context import Target
    target = Target(eng_id, eng_id)
    with v.session() as s:
        roles = v.roles(s, eng_id)
        out = {"allowed_us": per_call_us(lambda: access.allowed("item.list", roles))}
        count.member = 0

        def require() -> None:
            s.expunge_all()  # else Session.get answers from its identity map, without SQL
            v.permit(s, "item.list", target)
        out["require_us"] = per_call_us(require)
        out["member_selects_per_call"] = count.member / CALLS

    def fresh() -> None:
        with v.act("item.list", target):
            pass
    out["require_fresh_session_us"] = per_call_us(fresh)
    return out


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t, result


def cli(env: dict[str, str], *args: str) -> tuple[float, Any]:
    cmd = [str(Path(sys.executable).with_name("vault")), *args, "--json"]
    wall, p = timed(lambda: subprocess.run(cmd, env=env, capture_output=True, text=True))
    if p.returncode not in (0, 1):
        raise RuntimeError(f"vault {' '.join(args)} exited {p.returncode}: {p.stderr[-2000:]}")
    return wall, json.loads(p.stdout)


def bench(args: argparse.Namespace, tmp: Path) -> int:
    env = dict(os.environ, VAULT_HOME=str(tmp / "home"), VAULT_PASSPHRASE=PASSPHRASE,
               VAULT_IDENTITY=str(tmp / "identity.age"), VAULT_DB_URL=args.db if args.db !=
               "sqlite" else f"sqlite:///{tmp / 'home' / 'vault.db'}")
    env.pop("VAULT_STORE_URL", None)
    cli(env, "init", "--name", "bench")
    v = bootstrap.open_vault(Settings.from_env(env), lambda _confirm: PASSPHRASE)
    engine, log, count = v.engine, Log(), SqlCounter(v.engine)
    eng_id = v.create_engagement("bench", client="Bench", standard="pci-dss-4.0.1").id
    t = time.perf_counter()
    log.grow_to(engine, SMALL)
    v.audit_checkpoint()
    small = time_appends(engine, count)
    log.grow_to(engine, args.events // 2)
    v.audit_checkpoint()
    log.grow_to(engine, args.events - APPENDS)
    build_s = time.perf_counter() - t
    large = time_appends(engine, count)
    v.audit_checkpoint()
    print(f"built in {build_s:.1f} s; timing checks and verify ...", flush=True)
    checks = time_checks(v, eng_id, count)
    sa.event.remove(engine, "before_cursor_execute", count)
    runs, reports = zip(*(timed(verify.verify, engine) for _ in range(3)), strict=True)
    rep, problems = reports[0], [p for r in reports for p in r.problems]  # incl. head size
    if rep.checkpoints != 3 or rep.events < args.events:
        problems.append(f"verify saw {rep.events} events and {rep.checkpoints} tree heads")
    whoami_s, _ = cli(env, "whoami")
    cli_s, cli_rep = cli(env, "audit", "verify")
    if not cli_rep["ok"] or cli_rep["events"] != rep.events:
        problems.append(f"CLI verify: {cli_rep}")
    engine.dispose()

    verify_s, ratio = statistics.median(runs), large["us_median"] / small["us_median"]
    lim = f"< {VERIFY_LIMIT_S:.0f} s"
    rows: list[tuple[str, str, str, bool | None]] = [
        (f"audit.verify, {rep.events} events (median of 3)", f"{verify_s:.2f} s", lim,
         verify_s < VERIFY_LIMIT_S),
        ("vault audit verify (CLI, end to end)", f"{cli_s:.2f} s", lim, cli_s < VERIFY_LIMIT_S),
        ("  of which start-up + unlock (whoami)", f"{whoami_s:.2f} s", "-", None)]
    for a, target, ok in ((small, "-", None), (large, "< 2 x at 1k", ratio < 2)):
        rows += [(f"append at {a['size']} events, median (p95)",
                  f"{a['us_median']:.0f} ({a['us_p95']:.0f}) us", target, ok),
                 (f"  at {a['size']}: audit_node rows read/written, mean (max)",
                  f"{a['node_reads_mean']:.2f}/{a['node_writes_mean']:.2f} "
                  f"({a['node_reads_max']}/{a['node_writes_max']})", f"<= {a['bound']} "
                  "(log2 n + 1)", max(a["node_reads_max"], a["node_writes_max"]) <= a["bound"])]
    sel = checks["member_selects_per_call"]
    for name, key in (("access.allowed", "allowed_us"), (f"Context.permit ({sel:.0f} member "
                      "SELECT a call)", "require_us"), ("Context.act (session, check, commit)",
                                                        "require_fresh_session_us")):
        rows.append((name, f"{checks[key]:.2f} us", "< 1000 us", checks[key] < CHECK_LIMIT_US))
    rows.append(("bulk-built log verifies (audit.verify ok)",
                 "BROKEN" if problems else "ok", "ok", not problems))
    db = engine.url.get_backend_name()
    print(f"\n{args.events} events, db={db}, nproc={os.cpu_count()}, bulk build {build_s:.1f} s")
    print(f"{'metric':<58}{'value':>18}  {'target':<22}result")
    for metric, value, target, ok in rows:
        print(f"{metric:<58}{value:>18}  {target:<22}{VERDICT[ok]}")
    print("".join(f"CORRECTNESS FAILURE: {p}\n" for p in problems), end="")
    print("BENCH_JSON " + json.dumps({
        "nproc": os.cpu_count(), "db": db, "events": rep.events, "tree_heads": rep.checkpoints,
        "bulk_build_s": round(build_s, 2), "verify_s": [round(x, 3) for x in runs],
        "verify_median_s": round(verify_s, 3), "cli_verify_s": round(cli_s, 3),
        "cli_whoami_s": round(whoami_s, 3), "append_small": small, "append_large": large,
        "append_ratio": round(ratio, 2), "checks": checks, "correct": not problems,
        "pass": {m.strip(): ok for m, _, _, ok in rows if ok is not None},
        "problems": problems[:10]}), flush=True)
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite", help="sqlite (default) or an empty DB's URL")
    args = parser.parse_args()
    if args.events < 4 * SMALL:
        parser.error(f"--events must be at least {4 * SMALL}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` cleans up
    tmp = Path(tempfile.mkdtemp(prefix="vault-bench-audit-"))
    try:
        return bench(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
