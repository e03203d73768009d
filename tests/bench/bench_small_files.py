"""Benchmark `vault ingest` of a folder of small files against `restic backup` of the same folder.

The everyday case (a sprint's screenshots, a configuration dump): a folder of --files files
(default 5,000) of 1-20 KiB, seeded. --text-share of them (default half) are text: device
configuration and log lines, one line in 25 naming an IP address; the others are random bytes
(a screenshot's incompressible payload; not an image, which the scanner would OCR). Measured in
the same run, rounds interleaved, wall time (time.perf_counter around the child) and peak RSS
(ru_maxrss from os.wait4):

  restic backup DIR          Debian's `restic` into a fresh local repository (RESTIC_PASSWORD
                             set; `restic init` before the round, not timed)
  vault ingest bench DIR     into a fresh engagement, with the unlock agent running (`vault
                             agent`): each file committed fully or not at all, scanned and
                             flagged, audited
  vault status --json        a vault command's fixed cost with the agent (start-up)
  vault ingest (before)      with --compare-with DIR: the same ingest by the code checked out
                             in DIR (PYTHONPATH=DIR; same database schema), e.g. the commit
                             before a change, into its own fresh engagement

Each round uses a fresh restic repository and a fresh engagement (the vault stores identical
bytes once per engagement). The page cache is warmed before timing; os.sync() runs before each
timed step (untimed). A ratio is min(vault) / min(restic) over the rounds (on a shared machine
the minimum is the least disturbed run); medians are printed too. Target (issue #19): ingest
wall <= 2 x restic's. Correctness: every file ingested (a new item each, no error), exit 1
otherwise.

Uses a throwaway vault in a temp dir. Run from the repository root:

    .venv/bin/python tests/bench/bench_small_files.py [--files 5000] [--runs 3] [--dir DIR]

It prints a table and a final `BENCH_JSON {...}` line.
"""

from __future__ import annotations

import argparse
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_scan import run, start_agent, vault_cli  # noqa: E402

TARGET = 2.0
ROWS = ["restic backup", "vault ingest", "vault status"]
_WORDS = ("interface", "vlan", "description", "switchport", "mode", "access", "trunk",
          "logging", "ntp", "server", "snmp-server", "community", "permit", "deny", "route",
          "aaa", "authentication", "login", "session", "accepted", "closed", "user")


def make_folder(where: Path, files: int, text_share: float, seed: int) -> int:
    """`files` files of 1-20 KiB under `where` (seeded); returns their total size."""
    rnd = random.Random(seed)
    where.mkdir(parents=True)
    total = 0
    for i in range(files):
        size = rnd.randint(1 << 10, 20 << 10)
        if rnd.random() < text_share:
            lines, n = [], 0
            while n < size:
                words = " ".join(rnd.choice(_WORDS) for _ in range(rnd.randint(3, 8)))
                if rnd.randrange(25) == 0:
                    a, b, c = rnd.randrange(256), rnd.randrange(256), rnd.randrange(1, 255)
                    words += f" 10.{a}.{b}.{c}"
                h, m, sec = rnd.randrange(24), rnd.randrange(60), rnd.randrange(60)
                line = (f"2026-12-0{rnd.randint(1, 7)}T{h:02d}:{m:02d}:{sec:02d}Z "
                        f"sw-{rnd.randrange(40):02d} {words}\n")
                lines.append(line)
                n += len(line)
            data = "".join(lines).encode()[:size]
            name = f"config-{i:05d}.log"
        else:
            data = rnd.randbytes(size)
            name = f"shot-{i:05d}.bin"
        (where / name).write_bytes(data)
        total += len(data)
    return total


def bench(args: argparse.Namespace, tmp: Path) -> int:
    restic = shutil.which("restic")
    if restic is None:
        sys.exit("restic not found (Debian: apt-get install restic)")
    vault = vault_cli()
    env = dict(os.environ, VAULT_HOME=str(tmp / "home"), VAULT_IDENTITY=str(tmp / "id.age"),
               VAULT_PASSPHRASE="bench-passphrase-123")
    run([vault, "init", "--name", "bench"], env=env)
    env, agent_pid = start_agent(vault, env, tmp)
    folder = tmp / "sprint"
    print(f"generating {args.files} files in {folder} ...", flush=True)
    total = make_folder(folder, args.files, args.text_share, args.seed)
    for p in folder.iterdir():  # warm the page cache
        p.read_bytes()
    renv = dict(os.environ, RESTIC_PASSWORD="bench-restic-password")
    rows = ROWS + (["vault ingest (before)"] if args.compare_with else [])
    t: dict[str, list[float]] = {row: [] for row in rows}
    rss: dict[str, list[float]] = {row: [] for row in rows}
    failures: list[str] = []
    try:
        for r in range(1, args.runs + 1):
            print(f"round {r}/{args.runs} ...", flush=True)
            repo = tmp / f"repo-{r}"
            subprocess.run([restic, "init", "-q", "-r", str(repo)], env=renv, check=True,
                           capture_output=True)
            eng = f"bench-{r}"
            run([vault, "engagement", "create", eng, "--client", "Bench", "--standard",
                 "pci-dss-4.0.1"], env=env)
            os.sync()
            w, m = run([restic, "-q", "-r", str(repo), "backup", str(folder)], env=renv)
            t["restic backup"].append(w)
            rss["restic backup"].append(m)
            shutil.rmtree(repo)
            os.sync()
            out = tmp / "ingest.json"
            w, m = run([vault, "ingest", eng, str(folder), "--json"], out, env=env)
            t["vault ingest"].append(w)
            rss["vault ingest"].append(m)
            records = json.loads(out.read_text())
            new = [x for x in records if "id" in x and not x.get("duplicate")]
            if len(new) != args.files:
                bad = [x for x in records if "error" in x][:3]
                failures.append(f"round {r}: {len(new)} of {args.files} ingested; {bad}")
            w, m = run([vault, "status", "--json"], env=env)
            t["vault status"].append(w)
            rss["vault status"].append(m)
            if args.compare_with:
                before_env = dict(env, PYTHONPATH=str(Path(args.compare_with).resolve()))
                run([vault, "engagement", "create", f"{eng}-before", "--client", "Bench",
                     "--standard", "pci-dss-4.0.1"], env=before_env)
                os.sync()
                w, m = run([vault, "ingest", f"{eng}-before", str(folder), "--json"], out,
                           env=before_env)
                t["vault ingest (before)"].append(w)
                rss["vault ingest (before)"].append(m)
                if len([x for x in json.loads(out.read_text()) if "id" in x]) != args.files:
                    failures.append(f"round {r}: the code in {args.compare_with} did not "
                                    "ingest every file")
    finally:
        os.kill(agent_pid, signal.SIGTERM)

    best = {row: min(v) for row, v in t.items()}
    med = {row: statistics.median(v) for row, v in t.items()}
    peak = {row: max(v) for row, v in rss.items()}
    print(f"\n{args.files} files, {total / 1e6:.1f} MB ({args.text_share:.0%} text), "
          f"{args.runs} run(s); nproc={os.cpu_count()}")
    print(f"{'step':<22}{'min s':>9}{'median s':>10}{'files/s':>10}{'peak RSS MB':>13}")
    for row in rows:
        rate = f"{args.files / best[row]:10.0f}" if row != "vault status" else f"{'-':>10}"
        print(f"{row:<22}{best[row]:9.3f}{med[row]:10.3f}{rate}{peak[row]:13.1f}")
    ratio = best["vault ingest"] / best["restic backup"]
    ok = ratio <= TARGET
    print(f"\ningest / restic backup (min of {args.runs}): {ratio:.2f}  "
          f"{'PASS' if ok else 'FAIL'} (<= {TARGET})")
    print(f"ms per file: vault {best['vault ingest'] / args.files * 1e3:.2f}, restic "
          f"{best['restic backup'] / args.files * 1e3:.2f} (vault's fixed cost: "
          f"{best['vault status']:.2f} s)")
    speedup = None
    if args.compare_with:
        speedup = best["vault ingest (before)"] / best["vault ingest"]
        print(f"before / now: {speedup:.2f} x faster (before / restic: "
              f"{best['vault ingest (before)'] / best['restic backup']:.2f})")
    for failure in failures:
        print(f"CORRECTNESS FAILURE: {failure}")
    print("BENCH_JSON " + json.dumps({
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "files": args.files, "bytes": total, "text_share": args.text_share, "runs": args.runs,
        "min_s": {k: round(v, 4) for k, v in best.items()},
        "median_s": {k: round(v, 4) for k, v in med.items()},
        "all_s": {k: [round(x, 4) for x in v] for k, v in t.items()},
        "files_per_s": {k: round(args.files / best[k], 1) for k in rows if k != "vault status"},
        "speedup_vs_before": None if speedup is None else round(speedup, 2),
        "peak_rss_mb": {k: round(v, 1) for k, v in peak.items()},
        "ratio": round(ratio, 3), "pass": ok, "correct": not failures, "failures": failures,
    }), flush=True)
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--text-share", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", help="where to create the temp dir (default: system temp)")
    parser.add_argument("--compare-with", metavar="DIR",
                        help="also time the ingest of the code checked out in DIR")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` cleans up
    tmp = Path(tempfile.mkdtemp(prefix="vault-bench-small-", dir=args.dir))
    try:
        return bench(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
