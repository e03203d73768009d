"""Benchmark `vault destroy --due` against the issue's targets: 100,000 due items (SQLite + the
local store) in under 5 minutes, and a per-item cost at 100,000 within 1.5x that at 10,000.

A throwaway vault (the tests' firm: an admin and the destruction job) gets one completed
engagement of N items inserted directly (rows in big executemany batches; each payload and its
retention sidecar written as plain files, as LocalStore.put + set_retention leave them, without
the per-file fsync that would make the set-up itself take an hour). Then the job's run is timed
end to end: claims, shreds (N item.shred events), purges (N payloads and sidecars, fsynced per
directory), verification, tombstones, N item.destroy events, the engagement's tombstone, the
certificate, the audit checkpoint and the database scrub (WAL checkpoint, search index merge).

From the repository root:
    PYTHONPATH=$PWD .venv/bin/python tests/bench/bench_destroy.py [--sizes 10000,100000]
Prints a table and a final `BENCH_JSON {...}` line; exit 1 when an item is left undestroyed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func, select

from storage_backends import LocalStore
from tests.conftest import StepClock
from tests.retention.destroykit import fake_header, open_firm
from vault.metadata.models import EvidenceItem
from vault.service import destruction

AT = datetime(2026, 3, 2, tzinfo=UTC)
NOW = datetime(2029, 6, 1, tzinfo=UTC)
PAYLOAD = b"ciphertext " * 16


def _grow(f: Any, n: int) -> None:
    v = f.admin
    eng = v.create_engagement("bench", client="c", standard="pci-dss-4.0.1")
    with Session(v.engine) as s:
        key = v.current_key(s, eng)
        until = NOW - timedelta(days=1)
        store: LocalStore = v.store
        for start in range(0, n, 5000):
            rows = []
            for i in range(start, min(n, start + 5000)):
                iid = f"{i:032x}"
                rows.append({"id": iid, "engagement_id": eng.id, "key_id": key.id,
                             "kind": "other", "original_name": f"evidence-{i}.txt",
                             "size": len(PAYLOAD), "sha256": f"{i:064x}",
                             "ingested_at": AT + timedelta(seconds=i), "ingested_by": v.user.id,
                             "state": "active", "object_key": f"payload/{iid}",
                             "age_header": fake_header(), "disclosure": "team",
                             "detected_mime": "text/plain"})
                path = store._path(f"payload/{iid}")
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                path.write_bytes(PAYLOAD)
                meta = store._meta_path(f"payload/{iid}")
                meta.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                meta.write_text(json.dumps({"key": f"payload/{iid}", "legal_hold": False,
                                            "retain_until": until.isoformat()}))
            s.execute(sa.insert(EvidenceItem), rows)
            s.commit()
    v.complete_engagement("bench", date(2026, 3, 31))


def run(n: int, base: Path) -> dict[str, Any]:
    home = base / f"n{n}"
    f = open_firm(home, StepClock(AT))
    t0 = time.perf_counter()
    _grow(f, n)
    setup = time.perf_counter() - t0
    f.clock.now = NOW
    t0 = time.perf_counter()
    report = destruction.destroy_due(f.job)
    took = time.perf_counter() - t0
    with Session(f.admin.engine) as s:
        left = s.exec(select(func.count()).select_from(EvidenceItem).where(
            EvidenceItem.state != "destroyed")).one()
    files = sum(1 for _ in (home / "objects" / "payload").glob("*")) \
        if (home / "objects" / "payload").exists() else 0
    f.admin.engine.dispose()
    shutil.rmtree(home, ignore_errors=True)
    return {"items": n, "setup_s": round(setup, 1), "destroy_s": round(took, 1),
            "per_item_ms": round(took / n * 1000, 3), "destroyed": len(report.items),
            "left": left, "payloads_left": files, "certificate": report.certificate_id is not None}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="10000,100000")
    sizes = [int(x) for x in p.parse_args().sizes.split(",")]
    base = Path(tempfile.mkdtemp(prefix="vault-bench-destroy-"))
    try:
        results = [run(n, base) for n in sizes]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"{'items':>8} {'set-up s':>9} {'destroy s':>10} {'ms/item':>8} {'left':>5}")
    for r in results:
        print(f"{r['items']:>8} {r['setup_s']:>9} {r['destroy_s']:>10} {r['per_item_ms']:>8} "
              f"{r['left']:>5}")
    ratio = results[-1]["per_item_ms"] / results[0]["per_item_ms"] if len(results) > 1 else 1.0
    out = {"results": results, "per_item_ratio": round(ratio, 2),
           "under_5_min": all(r["destroy_s"] < 300 for r in results if r["items"] >= 100000),
           "cpus": os.cpu_count()}
    print("BENCH_JSON " + json.dumps(out))
    return 1 if any(r["left"] or r["payloads_left"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
