"""OCR benchmark: a 1920x1080 screenshot (light and dark, PNG) through `vault scan`'s path
(decode, preprocess, Tesseract, scanner). Not part of the suite.

    .venv/bin/python tests/bench/bench_ocr.py [--runs 5] [--langs eng]

Prints the median and min wall time per variant; target: median under 1.5 s.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.pii.media_corpus import content, render_screenshot  # noqa: E402
from vault.evidence.sources import Source  # noqa: E402
from vault.pii import Scanner  # noqa: E402
from vault.pii.scan import scan_source  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--langs", default=None, help="Tesseract languages (default: the vault's)")
    ap.add_argument("--lines", type=int, default=30, help="text lines on the screenshot")
    a = ap.parse_args()
    if a.langs:
        os.environ["VAULT_OCR_LANGS"] = a.langs
    rng = random.Random(5)
    lines, labels = content(rng, a.lines, 8)
    sc = Scanner()
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f} "
          f"langs={os.environ.get('VAULT_OCR_LANGS', 'default')} lines={a.lines}")
    for dark in (False, True):
        for fmt in ("PNG", "JPEG"):
            data = render_screenshot(lines, dark=dark, fmt=fmt)
            src = Source("bench", len(data), lambda d=data: io.BytesIO(d))
            times, found = [], 0
            for _ in range(a.runs):
                t = time.perf_counter()
                found = sum(1 for h in scan_source(src, sc) if h.finding.kind in
                            ("pan", "track_data"))
                times.append(time.perf_counter() - t)
            print(f"{'dark ' if dark else 'light'} {fmt:4s} 1920x1080: median "
                  f"{statistics.median(times):.2f} s, min {min(times):.2f} s "
                  f"({found}/{len(labels)} card items found)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
