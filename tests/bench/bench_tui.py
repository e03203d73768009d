"""Benchmark the TUI evidence screen on a large engagement (headless, Textual Pilot).

Target (issue): with 100,000 items the evidence screen shows its first rows within 1 s of
opening; a filter keystroke answers within 100 ms; peak RSS under 300 MB (MB = 10**6 bytes).

Builds a throwaway vault (no scrypt) with one engagement: one real ingest, then N-1 metadata
rows cloned from it with distinct ids and hashes (SQLAlchemy executemany, in batches). Names
are log-NNNNNN.txt, so the search "-001" matches 1% of them. Measures (time.perf_counter,
polled every 5 ms): Enter on the engagement -> first page in the table; one keystroke in the
search box -> the filtered page and its count shown (10 keystrokes: median, max; a search
counts up to SEARCH_CAP, then shows "10,000+").
Timed keys go straight to the driver, as a terminal's would. vault.count_items and
list_items(limit=PAGE) and item_page (what the screen calls) are timed directly too.
Peak RSS: ru_maxrss (includes the DB build).

    .venv/bin/python tests/bench/bench_tui.py [--items 100000]   # table + `BENCH_JSON {...}`
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual import events

from storage_backends import LocalStore
from tui.app import make_app
from tui.screens.evidence import PAGE, EvidenceScreen
from vault.age import X25519Identity
from vault.evidence.sources import Source
from vault.metadata.db import open_database
from vault.metadata.models import EvidenceItem
from vault.service import IngestOptions, ItemFilter, Vault, bootstrap
from vault.service.browse import SEARCH_CAP

ENG = "bench-2026"
OPEN_S, KEY_S, RSS_MB = 1.0, 0.100, 300.0
PREFILL = "-0"  # matches every name; the keystrokes below narrow and widen it
CHARS = {"enter": "\r", "backspace": "\x08"}
KEYS = ["0", "1", "2", "backspace", "backspace", "2", "backspace", "5", "3", "backspace"]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # KiB on Linux


def build(root: Path, n: int) -> Vault:
    engine = open_database(f"sqlite:///{root / 'vault.db'}")
    ident = X25519Identity.generate()
    clock = lambda: datetime.now(UTC)  # noqa: E731
    bootstrap._register_first(engine, ident, "alice", clock, os.urandom)
    vault = Vault(engine, LocalStore(root / "objects", clock=clock), ident,
                  tmp_dir=root / "tmp", clock=clock)
    vault.create_engagement(ENG, client="Bench", standard="pci-dss-4.0.1")
    data = b"line 0\n"
    [r] = vault.ingest(ENG, [Source(name="log-000000.txt", size=len(data),
                                    open=lambda: io.BytesIO(data))],
                       IngestOptions(kind="log_export"))
    assert not isinstance(r, Exception), r
    proto = r.view.item.model_dump()
    table = EvidenceItem.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        for start in range(1, n, 10_000):
            batch = []
            for i in range(start, min(n, start + 10_000)):
                key = f"{i:08x}" + proto["id"][8:]
                batch.append(dict(proto, id=key, object_key=f"payload/{key}",
                                  original_name=f"log-{i:06}.txt", sha256=f"{i:064x}",
                                  ingested_at=proto["ingested_at"] + timedelta(seconds=i)))
            conn.execute(table.insert(), batch)
    return vault


def shown_total(n: int) -> int:
    """The total the screen holds for a search with n matches (counting stops at the cap)."""
    return n if n <= SEARCH_CAP else SEARCH_CAP + 1


def timed(fn: Any, runs: int = 5) -> float:
    """Median milliseconds of fn() over runs."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def send(app: Any, key: str) -> None:
    """A key as the terminal delivers it; Pilot.press would also wait up to 2 s for CPU idle."""
    event = events.Key(key, CHARS.get(key, key))
    event.set_sender(app)
    app._driver.send_message(event)


async def wait_for(cond: Any, timeout: float = 60.0) -> float:
    """Poll cond() every 5 ms; return perf_counter when it first holds."""
    deadline = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > deadline:
            raise TimeoutError("condition not met within the timeout")
        await asyncio.sleep(0.005)
    return time.perf_counter()


async def drive(vault: Vault, n: int, expected: list[int]) -> tuple[float, list[float]]:
    shown = {"gen": 0}
    original = EvidenceScreen.on_loaded

    def on_loaded(self: EvidenceScreen, message: Any) -> None:  # records the shown generation
        original(self, message)
        if message.what == "page" and message.generation == self.generation:
            shown["gen"] = message.generation
    EvidenceScreen.on_loaded = on_loaded  # type: ignore[method-assign]
    try:
        async with make_app(vault).run_test(size=(160, 50)) as pilot:
            await wait_for(lambda: bool(getattr(pilot.app.screen, "rows", None)))  # engagements
            await pilot.pause()
            t0 = time.perf_counter()
            send(pilot.app, "enter")
            t_open = await wait_for(lambda: shown["gen"] and isinstance(
                pilot.app.screen, EvidenceScreen) and pilot.app.screen.query_one(
                    "#items").row_count == min(PAGE, n))
            screen = pilot.app.screen
            table = screen.query_one("#items")
            await pilot.press("slash", *PREFILL)
            await wait_for(lambda: shown["gen"] == screen.generation
                           and screen.page_total == shown_total(n))
            await asyncio.sleep(0.5)
            keys = []
            for key, want in zip(KEYS, expected, strict=True):
                g0, t1 = screen.generation, time.perf_counter()
                send(pilot.app, key)
                t2 = await wait_for(lambda g0=g0: shown["gen"] > g0)  # type: ignore[misc]
                assert screen.page_total == shown_total(want), (key, screen.page_total, want)
                assert table.row_count == min(PAGE, want)
                keys.append(t2 - t1)
                await asyncio.sleep(0.05)
            return t_open - t0, keys
    finally:
        EvidenceScreen.on_loaded = original  # type: ignore[method-assign]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-tui-"))
    try:
        t0 = time.perf_counter()
        vault = build(root, args.items)
        build_s, rss_build = time.perf_counter() - t0, rss_mb()
        text, expected = PREFILL, []
        for key in KEYS:
            text = text[:-1] if key == "backspace" else text + key
            expected.append(vault.count_items(ENG, ItemFilter(text=text)))
        sql = {
            "count_all_ms": timed(lambda: vault.count_items(ENG)),
            "page_all_ms": timed(lambda: vault.list_items(ENG, ItemFilter(limit=PAGE))),
            "count_1pct_ms": timed(lambda: vault.count_items(ENG, ItemFilter(text="-001"))),
            "page_1pct_ms": timed(lambda: vault.list_items(
                ENG, ItemFilter(text="-001", limit=PAGE))),
            "item_page_all_ms": timed(lambda: vault.item_page(ENG, size=PAGE)),
            "item_page_1pct_ms": timed(lambda: vault.item_page(
                ENG, ItemFilter(text="-001"), size=PAGE, cap=SEARCH_CAP)),
            "item_page_100pct_ms": timed(lambda: vault.item_page(
                ENG, ItemFilter(text="-0"), size=PAGE, cap=SEARCH_CAP)),
        }
        open_s, keys = asyncio.run(drive(vault, args.items, expected))
        rss = rss_mb()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    median, worst = statistics.median(keys), max(keys)
    ms = f"{OPEN_S * 1e3:.0f} ms", f"{KEY_S * 1e3:.0f} ms"
    rows = [("open -> first page", open_s, ms[0], open_s < OPEN_S),
            ("keystroke -> page (median)", median, ms[1], median < KEY_S),
            ("keystroke -> page (max)", worst, ms[1], worst < KEY_S)]
    rows = [(m, f"{v * 1e3:.0f} ms", f"< {t}", ok) for m, v, t, ok in rows]
    rows.append(("peak RSS", f"{rss:.0f} MB", f"< {RSS_MB:.0f} MB", rss < RSS_MB))
    print(f"Evidence screen, {args.items:,} items (DB built in {build_s:.1f} s, "
          f"peak RSS after build {rss_build:.0f} MB)")
    print(f"{'metric':<28} {'value':>10} {'target':>10}  result")
    for name, value, target, ok in rows:
        print(f"{name:<28} {value:>10} {target:>10}  {'PASS' if ok else 'FAIL'}")
    print("SQL (median of 5, direct):", ", ".join(f"{k} {v:.1f}" for k, v in sql.items()))
    print("keystrokes (ms):", " ".join(f"{k * 1e3:.0f}" for k in keys),
          "| filtered totals:", " ".join(str(e) for e in expected))
    result = {"items": args.items, "open_ms": round(open_s * 1e3, 1),
              "key_median_ms": round(median * 1e3, 1), "key_max_ms": round(worst * 1e3, 1),
              "keys_ms": [round(k * 1e3, 1) for k in keys], "peak_rss_mb": round(rss, 1),
              "rss_after_build_mb": round(rss_build, 1),
              **{k: round(v, 1) for k, v in sql.items()},
              "pass": all(r[3] for r in rows)}
    print("BENCH_JSON " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
