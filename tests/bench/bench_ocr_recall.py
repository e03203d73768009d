"""OCR recall benchmark: card numbers in screenshots of tests/pii/screenshot_corpus.py (fonts
of 11-28 px, light, dark, grey and blue themes, PNG and JPEG at quality 70; numbers and
layouts written apart from the detector), read by `vault scan`'s OCR and scanner. Not part of
the suite.

    .venv/bin/python tests/bench/bench_ocr_recall.py [--seeds 47,5] [--shots 20]
        [--without gaps,upscale,separators]

--without turns off the OCR's fixes one by one, to measure what each brings (the figures
before them: --without gaps,upscale,separators). Prints a line per screenshot that missed a
number, then recall, precision and the time, and a final `BENCH_JSON {...}` line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.pii import container_corpus as cc  # noqa: E402
from tests.pii import screenshot_corpus as scx  # noqa: E402
from vault.pii import Scanner, ocr  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="47,5")
    ap.add_argument("--shots", type=int, default=20)
    ap.add_argument("--without", default="", help="gaps,upscale,separators")
    args = ap.parse_args()
    off = {x for x in args.without.split(",") if x}
    if "gaps" in off:
        ocr._wide_gaps = lambda words: set()  # type: ignore[assignment]
    if "upscale" in off:
        ocr.SMALL_TEXT_PX = 0
    if "separators" in off:
        ocr.fix_separator_confusions = lambda text: text  # type: ignore[assignment]
    sc = Scanner(kinds=("pan",))
    tot: Counter[str] = Counter()
    t0 = time.perf_counter()
    for seed in (int(s) for s in args.seeds.split(",")):
        for shot in scx.build(seed, args.shots):
            text = ocr.ocr_image(shot.data).text
            found = Counter(f.masked for f in sc.scan_text(text) if f.kind == "pan")
            tp, fn, fp = cc.score(shot.labels, found)
            tot.update(tp=tp, fn=fn, fp=fp)
            if fn or fp:
                print(f"seed {seed} {shot.name}: missed {fn}, false {fp}", flush=True)
    wall = time.perf_counter() - t0
    recall = tot["tp"] / max(tot["tp"] + tot["fn"], 1)
    precision = tot["tp"] / max(tot["tp"] + tot["fp"], 1)
    print(f"card recall {recall:.4f} precision {precision:.4f} ({tot['tp']} of "
          f"{tot['tp'] + tot['fn']} found, {tot['fp']} false; {wall:.1f} s; without: "
          f"{','.join(sorted(off)) or 'nothing'})")
    print("BENCH_JSON " + json.dumps({"seeds": args.seeds, "shots": args.shots,
                                      "without": sorted(off), "recall": round(recall, 4),
                                      "precision": round(precision, 4), **tot,
                                      "wall_s": round(wall, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
