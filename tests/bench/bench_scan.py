"""Benchmark `vault scan` against Presidio's CreditCardRecognizer on a digit-dense log.

Generates (seeded) a payment-gateway log of the corpus's format (tests/pii/corpus.py
`gateway_log`: masked PANs, RRNs, STANs, amounts, timestamps, an IP per line, ~5 % lines
leaking a PAN, ~3 % track data, ~7 % card-number look-alikes), then measures in the same run,
interleaved, median of the rounds, wall time (time.perf_counter around the child) and peak
RSS (ru_maxrss from os.wait4) of:

  vault scan FILE --json     the CLI end to end (start-up, every kind, JSON lines out)
  vault.pii library          Scanner().scan_stream(FILE) in a child: the scanner alone
  presidio CreditCard        CreditCardRecognizer().analyze() over the file in ~1 MB
                             line-aligned chunks (pattern recognizer only, no spaCy model)

With --without-ip the per-line client IP is left out, so the file holds far fewer findings
(every IP is an ip_address finding, and per-finding work dominates `vault scan` otherwise).

Accuracy for card data on the same file, by line: a reported PAN/track line is a true
positive when a PAN or track was planted on it; recall is over planted lines.
Target (issue #5): vault scan MB/s >= 10 x Presidio MB/s (MB = 10**6 bytes).
`vault scan` needs no vault identity or passphrase (it opens nothing).

Presidio is not a project dependency: `pip install -e '.[bench]'` (or
`pip install presidio-analyzer`) first; without it only the vault rows run. Run from the
repository root:

    .venv/bin/python tests/bench/bench_scan.py [--size-mb 300] [--runs 3] [--dir DIR]
        [--without-ip] [--baseline DIR]

`vault scan` and the library scan big files in 2 worker processes (after the first 32 MiB).

It prints a table and a final `BENCH_JSON {...}` line.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench import bench_core  # noqa: E402
from tests.pii.corpus import BRAND_SPECS, fmt_pan, lookalike, make_pan, track1, track2  # noqa: E402

TARGET_RATIO = 10.0
ROWS = ["vault scan", "vault.pii library", "presidio CreditCard"]
BASE = " @baseline"

PRESIDIO = r"""
import json, sys, time
t0 = time.perf_counter()
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer
rec = CreditCardRecognizer()
t1 = time.perf_counter()
lines = []
line_no = 1
with open(sys.argv[1], encoding="utf-8") as f:
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            break
        chunk += f.readline()
        res = rec.analyze(chunk, entities=["CREDIT_CARD"], nlp_artifacts=None)
        pos, ln = 0, line_no
        for r in sorted(res, key=lambda r: r.start):
            ln += chunk.count("\n", pos, r.start)
            pos = r.start
            lines.append(ln)
        line_no += chunk.count("\n")
t2 = time.perf_counter()
json.dump({"lines": lines, "import_s": t1 - t0, "scan_s": t2 - t1}, open(sys.argv[2], "w"))
"""

LIBRARY = r"""
import json, sys, time
t0 = time.perf_counter()
from vault.pii import Scanner
sc = Scanner()
t1 = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    n = sum(1 for _ in sc.scan_stream(f))
t2 = time.perf_counter()
json.dump({"findings": n, "engine": sc.engine, "import_s": t1 - t0, "scan_s": t2 - t1},
          open(sys.argv[2], "w"))
"""


def digits(rng: random.Random, n: int) -> str:
    return str(rng.randrange(10**n)).zfill(n)


def masked_card(rng: random.Random) -> str:
    brand = rng.choice(sorted(BRAND_SPECS))
    prefixes, _ = BRAND_SPECS[brand]
    p = rng.choice(prefixes)
    return (p + digits(rng, 6 - len(p)))[:6] + "******" + digits(rng, 4)


def generate(path: Path, size: int, seed: int, with_ip: bool = True) -> dict[int, str]:
    """Write the log; return {line number: planted kind} for the card-data lines."""
    rng = random.Random(seed)
    planted: dict[int, str] = {}
    written = 0
    line_no = 0
    with open(path, "w", encoding="ascii", newline="\n") as f:
        while written < size:
            batch = []
            for _ in range(20000):
                line_no += 1
                r = rng.randint
                line = (
                    f"2024-03-{r(1, 28):02d}T{r(0, 23):02d}:{r(0, 59):02d}:{r(0, 59):02d}"
                    f".{r(0, 999):03d}Z INFO gw-0{line_no % 4} txn={digits(rng, 12)} "
                    f"mid={digits(rng, 15)} tid=T{digits(rng, 7)} card={masked_card(rng)} "
                    f"exp={r(1, 12):02d}/{r(25, 30)} amt={r(1, 9999999):012d} cur=978 "
                    f"rrn=4{r(1, 366):03d}{digits(rng, 8)} stan={digits(rng, 6)} "
                    f"ts=2024{digits(rng, 13)} "
                )
                ip = f"ip=10.{r(0, 255)}.{r(0, 255)}.{r(1, 254)} "
                line += (ip if with_ip else "") + "resp=00 "
                x = rng.random()
                if x < 0.05:
                    line += "pan=" + fmt_pan(rng, make_pan(rng))
                    planted[line_no] = "pan"
                elif x < 0.07:
                    line += "raw=" + track2(make_pan(rng), rng, sentinels=rng.random() < 0.5)
                    planted[line_no] = "track_data"
                elif x < 0.08:
                    line += "t1=" + track1(make_pan(rng), rng)
                    planted[line_no] = "track_data"
                elif x < 0.15:
                    line += "data=" + lookalike(rng)
                batch.append(line)
            text = "\n".join(batch) + "\n"
            f.write(text)
            written += len(text)
    return planted


def run(cmd: list[str], out_path: Path | None = None, ok: tuple[int, ...] = (0,),
        env: dict[str, str] | None = None, cwd: str | None = None
        ) -> tuple[float, float]:  # fmt: skip
    """Run cmd (stdout to out_path or /dev/null); return (wall s, peak RSS MB)."""
    with open(out_path or os.devnull, "wb") as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        rc = os.waitstatus_to_exitcode(status)
        if rc not in ok:
            err.seek(0)
            raise RuntimeError(f"{cmd!r} exited {rc}: {err.read().decode()[-2000:]}")
        return wall, usage.ru_maxrss * 1024 / 1e6


def start_agent(vault: str, env: dict[str, str], tmp: Path) -> tuple[dict[str, str], int]:
    """Start the unlock agent (`vault agent`) for `env`'s identity with its socket under `tmp`;
    returns the environment a vault command uses it with (no passphrase) and the agent's pid
    (to stop it with SIGTERM)."""
    sock_dir = tmp / "agent"
    sock_dir.mkdir(mode=0o700)  # the agent wants a private directory
    sock = sock_dir / "agent.sock"
    started = subprocess.run([vault, "agent", "--socket", str(sock), "--timeout", "4h",
                              "--json"], env=env, check=True, capture_output=True, text=True)
    with_agent = {k: v for k, v in env.items() if k != "VAULT_PASSPHRASE"}
    with_agent["VAULT_AGENT_SOCK"] = str(sock)
    return with_agent, int(json.loads(started.stdout)["pid"])


def accuracy(found_lines: list[int], planted: dict[int, str]) -> dict[str, float | int]:
    lines = set(found_lines)
    tp = len(lines & planted.keys())
    fp = len(lines - planted.keys())
    fn = len(planted.keys() - lines)
    return {"tp": tp, "fp": fp, "fn": fn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0}  # fmt: skip


vault_cli = bench_core.vault_cli


def bench(args: argparse.Namespace, tmp: Path) -> int:
    have_presidio = importlib.util.find_spec("presidio_analyzer") is not None
    if not have_presidio:
        print("presidio-analyzer is not installed: only the vault rows run "
              "(pip install -e '.[bench]' or pip install presidio-analyzer)")  # fmt: skip
    size = int(args.size_mb * 1e6)
    log = tmp / "gateway.log"
    print(f"generating {args.size_mb} MB gateway log (seed {args.seed}) in {tmp} ...", flush=True)
    t0 = time.perf_counter()
    planted = generate(log, size, args.seed, with_ip=not args.without_ip)
    size = log.stat().st_size
    print(f"  {size / 1e6:.1f} MB, {len(planted)} planted card-data lines, "
          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    with open(log, "rb") as f:  # warm the page cache
        while f.read(1 << 24):
            pass

    vault = vault_cli()
    rows = [r for r in ROWS if have_presidio or not r.startswith("presidio")]
    base_env = None
    if args.baseline:  # the same vault rows from another checkout, interleaved
        rows[2:2] = [r + BASE for r in ROWS[:2]]
        base_env = dict(os.environ, PYTHONPATH=str(Path(args.baseline).resolve()))
    t: dict[str, list[float]] = {r: [] for r in rows}
    rss: dict[str, list[float]] = {r: [] for r in rows}
    extra: dict[str, dict[str, object]] = {}
    acc: dict[str, dict[str, float | int]] = {}
    for rnd in range(1, args.runs + 1):
        print(f"round {rnd}/{args.runs} ...", flush=True)
        order = rows if rnd % 2 else rows[::-1]
        for row in order:
            res = tmp / "result.json"
            env = base_env if row.endswith(BASE) else None
            if row.startswith("vault scan"):
                w, p = run([vault, "scan", str(log), "--json"], res, ok=(0, 1), env=env)
                if rnd == 1 and env is None:
                    card = []
                    kinds: dict[str, int] = {}
                    with open(res, encoding="utf-8") as f:
                        for raw in f:
                            d = json.loads(raw)
                            kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
                            if d["kind"] in ("pan", "track_data"):
                                card.append(d["line"])
                    acc[row] = accuracy(card, planted)
                    extra[row] = {"findings_by_kind": kinds}
            elif row.startswith("vault.pii library"):
                # in the checkout's directory: `python -c` puts the cwd before PYTHONPATH
                w, p = run([sys.executable, "-c", LIBRARY, str(log), str(res)], env=env,
                           cwd=args.baseline if env is not None else None)
                extra[row] = json.loads(res.read_text())
            else:
                w, p = run([sys.executable, "-c", PRESIDIO, str(log), str(res)])
                d = json.loads(res.read_text())
                if rnd == 1:
                    acc[row] = accuracy(d.pop("lines"), planted)
                d.pop("lines", None)
                extra[row] = d
            t[row].append(w)
            rss[row].append(p)
            res.unlink(missing_ok=True)

    mb = size / 1e6
    med = {r: statistics.median(t[r]) for r in rows}
    rate = {r: mb / med[r] for r in rows}
    peak = {r: max(rss[r]) for r in rows}
    print(f"\n{mb:.0f} MB gateway log, {args.runs} run(s), medians; nproc={os.cpu_count()}")
    print(f"{'row':<30}{'wall s':>9}{'MB/s':>9}{'peak RSS MB':>13}{'precision':>11}{'recall':>8}")
    for r in rows:
        a = acc.get(r, {})
        pr = f"{a['precision']:11.4f}{a['recall']:8.4f}" if a else f"{'-':>11}{'-':>8}"
        print(f"{r:<30}{med[r]:9.2f}{rate[r]:9.1f}{peak[r]:13.1f}{pr}")
    lib = extra.get("vault.pii library", {})
    print(f"scanner engine: {lib.get('engine')}; findings (all kinds): "
          f"{extra.get('vault scan', {}).get('findings_by_kind')}")  # fmt: skip
    ratios: dict[str, float] = {}
    verdict: dict[str, bool] = {}
    if have_presidio:
        ratios = {"vault scan / presidio MB/s": rate["vault scan"] / rate["presidio CreditCard"],
                  "library / presidio MB/s": rate["vault.pii library"]
                  / rate["presidio CreditCard"]}  # fmt: skip
        if args.baseline:
            ratios.update({f"{r} / presidio MB/s": rate[r] / rate["presidio CreditCard"]
                           for r in (ROWS[0] + BASE, ROWS[1] + BASE)})
        for name, value in ratios.items():
            verdict[name] = value >= TARGET_RATIO
            print(f"{name:<46}{value:7.2f}  {'PASS' if verdict[name] else 'FAIL'} "
                  f"(>= {TARGET_RATIO:.0f})")  # fmt: skip
        pres = extra["presidio CreditCard"]
        print(f"presidio: import {pres['import_s']:.2f} s, analyze "
              f"{mb / cast(float, pres['scan_s']):.1f} MB/s without start-up")  # fmt: skip
    print("BENCH_JSON " + json.dumps({
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "file_bytes": size, "runs": args.runs, "seed": args.seed,
        "planted_card_lines": len(planted),
        "median_s": {k: round(v, 3) for k, v in med.items()},
        "all_s": {k: [round(x, 3) for x in v] for k, v in t.items()},
        "mb_per_s": {k: round(v, 1) for k, v in rate.items()},
        "peak_rss_mb": {k: round(v, 1) for k, v in peak.items()},
        "accuracy": acc, "extra": extra,
        "ratios": {k: round(v, 2) for k, v in ratios.items()}, "pass": verdict,
    }), flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20240605)
    parser.add_argument("--without-ip", action="store_true",
                        help="drop the per-line client IP (isolates the card-data work from "
                             "one ip_address finding per line)")  # fmt: skip
    parser.add_argument("--dir", help="where to create the temp dir (default: system temp)")
    parser.add_argument("--baseline", metavar="DIR",
                        help="also run the vault rows with PYTHONPATH=DIR (another checkout, "
                             "its C core built in place), interleaved: a before/after in one "
                             "run")  # fmt: skip
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` cleans up
    tmp = Path(tempfile.mkdtemp(prefix="vault-bench-scan-", dir=args.dir))
    try:
        return bench(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
