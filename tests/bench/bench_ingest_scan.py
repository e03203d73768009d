"""Benchmark ingest with scanning against its parts: `vault scan` and `age -r` of the same log.

Generates (seeded) the digit-dense payment-gateway log of tests/bench/bench_scan.py (~300 MB by
default), then measures in the same run, interleaved, median of the rounds, wall time and peak
RSS (ru_maxrss from os.wait4) of:

  vault scan FILE --json        the stand-alone scan (no vault opened)
  age -r RECIPIENT -o X FILE    encryption alone, by the reference CLI
  vault ingest E FILE --json    read once: SHA-256, type, scan (its own thread), age, store,
                                with the unlock agent running (`vault agent`): a working
                                session's way, no passphrase and no scrypt per command
  vault ingest (passphrase)     the same with VAULT_PASSPHRASE: the command unlocks the
                                identity itself (scrypt, seconds by design)
  vault status --json           a vault command's fixed cost with the agent (start-up)

With --without-ip the per-line client IP is left out (as in bench_scan.py): ~1.4 M fewer
findings, each a distinct value that ingest counts and `vault scan` only prints.

Each ingest gets its own copy of the log (one line appended: the vault stores identical bytes
once). Target (issue #5): ingest <= 1.3 x (scan + age -r); the table shows the ratio for both
ways of unlocking.

Uses a throwaway vault in a temp dir. Run from the repository root:

    .venv/bin/python tests/bench/bench_ingest_scan.py [--size-mb 300] [--runs 3] [--dir DIR]

It prints a table and a final `BENCH_JSON {...}` line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_scan import generate, run, start_agent, vault_cli  # noqa: E402

TARGET = 1.3
ROWS = ["vault scan", "age -r", "vault ingest", "vault ingest (passphrase)",
        "vault status"]


def bench(args: argparse.Namespace, tmp: Path) -> int:
    vault = vault_cli()
    env = dict(os.environ, VAULT_HOME=str(tmp / "home"), VAULT_IDENTITY=str(tmp / "id.age"),
               VAULT_PASSPHRASE="bench-passphrase-123")
    os.environ.update({k: env[k] for k in ("VAULT_HOME", "VAULT_IDENTITY", "VAULT_PASSPHRASE")})
    run([vault, "init", "--name", "bench"])
    run([vault, "engagement", "create", "bench", "--client", "Bench", "--standard",
         "pci-dss-4.0.1"])
    key = tmp / "key.txt"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    recipient = subprocess.run(["age-keygen", "-y", str(key)], check=True, capture_output=True,
                               text=True).stdout.strip()
    with_agent, agent_pid = start_agent(vault, env, tmp)
    base = tmp / "gateway.log"
    print(f"generating ~{args.size_mb} MB log in {tmp} ...", flush=True)
    generate(base, args.size_mb * 10**6, seed=5, with_ip=not args.without_ip)
    size = base.stat().st_size
    t: dict[str, list[float]] = {r: [] for r in ROWS}
    rss: dict[str, list[float]] = {r: [] for r in ROWS}
    flags: list[dict[str, int]] = []
    try:
        for r in range(1, args.runs + 1):
            print(f"round {r}/{args.runs} ...", flush=True)
            for row, cmd, ok, cmd_env in (
                    ("vault scan", [vault, "scan", "{src}", "--json"], (0, 1), env),
                    ("age -r", ["age", "-r", recipient, "-o", str(tmp / "x.age"), "{src}"], (0,),
                     env),
                    ("vault ingest", [vault, "ingest", "bench", "{src}", "--json"], (0,),
                     with_agent),
                    ("vault ingest (passphrase)", [vault, "ingest", "bench", "{src}", "--json"],
                     (0,), env),
                    ("vault status", [vault, "status", "--json"], (0,), with_agent)):
                src = tmp / f"gateway-r{r}-{ROWS.index(row)}.log"
                shutil.copyfile(base, src)
                with open(src, "a") as f:
                    f.write(f"round {r} {row}\n")
                with open(src, "rb") as f:  # warm the page cache, as for every peer
                    while f.read(1 << 24):
                        pass
                os.sync()
                out = tmp / "out.json"
                wall, peak = run([str(src) if c == "{src}" else c for c in cmd], out, ok,
                                 env=cmd_env)
                t[row].append(wall)
                rss[row].append(peak)
                if row == "vault ingest":
                    flags.append(json.loads(out.read_text())[0]["flags"])
                (tmp / "x.age").unlink(missing_ok=True)
                src.unlink()
    finally:
        os.kill(agent_pid, signal.SIGTERM)
    med = {row: statistics.median(v) for row, v in t.items()}
    peak = {row: max(v) for row, v in rss.items()}
    parts = statistics.median(a + b for a, b in zip(t["vault scan"], t["age -r"], strict=True))
    ratio = med["vault ingest"] / parts
    ratio_pass = med["vault ingest (passphrase)"] / parts
    mb = size / 1e6
    print(f"\n{mb:.0f} MB gateway log, {args.runs} run(s), medians; nproc={os.cpu_count()}")
    print(f"{'step':<27}{'wall s':>9}{'MB/s':>9}{'peak RSS MB':>13}")
    for row in ROWS:
        rate = f"{mb / med[row]:9.1f}" if row != "vault status" else f"{'-':>9}"
        print(f"{row:<27}{med[row]:9.3f}{rate}{peak[row]:13.1f}")
    verdict = ratio <= TARGET
    print(f"\ningest / (scan + age -r) = {ratio:.2f}  {'PASS' if verdict else 'FAIL'} "
          f"(<= {TARGET}), with the unlock agent; {ratio_pass:.2f} when the command unlocks "
          "the identity itself")
    print(f"flags per ingest (distinct values per kind): {flags[-1]}")
    print("BENCH_JSON " + json.dumps({
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "file_bytes": size, "runs": args.runs, "without_ip": args.without_ip,
        "median_s": {k: round(v, 4) for k, v in med.items()},
        "all_s": {k: [round(x, 4) for x in v] for k, v in t.items()},
        "peak_rss_mb": {k: round(v, 1) for k, v in peak.items()},
        "ratio": round(ratio, 3), "ratio_passphrase": round(ratio_pass, 3),
        "pass": verdict, "flags": flags[-1]}))
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--size-mb", type=int, default=300)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--dir", type=Path, help="work directory (default: a temp dir)")
    p.add_argument("--without-ip", action="store_true",
                   help="drop the per-line client IP (one ip_address finding per line, each a "
                        "distinct value that ingest hashes and counts)")  # fmt: skip
    args = p.parse_args()
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
        return bench(args, args.dir)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-scan-") as tmp:
        return bench(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
