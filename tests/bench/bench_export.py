"""Benchmark `vault export` of 1 GiB of evidence (8 files of 120 MiB and 1,000 small files) to a
council recipient, against what age itself needs for the same bytes.

A throwaway vault (init certifies its first administrator), one engagement holding the files,
and a council recipient whose key Debian's `age-keygen` makes. Then, in one run:

  peer:  age -d -i KEY payloads.age > /dev/null   (the payloads as ONE age file: a tar of them,
                                                    the cheapest way age can decrypt them)
         age -r RECIPIENT -o peer.age payloads.tar (a tar of the same size, from disk)
         the same, then fsync peer.age            (the bundle is fsynced before its rename)
  vault: vault export bench --to QA --request-ref BENCH-1 -o bundle.age
         (decrypts every item from the store, hashes SHA-256 and SHA-512, builds the tar, signs,
          encrypts to the recipient, fsyncs; the fixed cost of a vault call included, the
          identity held by the unlock agent as in a working session: a passphrase unlock adds
          its scrypt, seconds and ~1 GB by design, to any vault command)

Wall time and peak RSS as in bench_core.run (time.perf_counter, ru_maxrss from os.wait4).
Target (issue): vault export <= 1.3 x (age -d + age -r); peak RSS < 200 MB (MB = 10**6
bytes). Correctness: the bundle decrypts with `age -d` and validates with `python3 -m bagit
--validate` (exit 1 otherwise; a missed target only reports).

Run from the repository root (never touches the user's vault):

    .venv/bin/python tests/bench/bench_export.py [--big-mib 120] [--small 1000] [--dir DIR]

It prints a table and a final `BENCH_JSON {...}` line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_core import CHUNK, FSYNC, run, vault_cli  # noqa: E402
from tests.bench.bench_scan import start_agent  # noqa: E402

LIMIT_RATIO = 1.3
LIMIT_RSS_MB = 200.0
BIG = 8
TOTAL = 1 << 30


def _random(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        for left in range(size, 0, -CHUNK):
            f.write(os.urandom(min(CHUNK, left)))


def make_inputs(src: Path, big_mib: int, small: int) -> int:
    src.mkdir(parents=True)
    for i in range(BIG):
        _random(src / f"big-{i}.bin", big_mib * CHUNK)
    each = max(1, (TOTAL - BIG * big_mib * CHUNK) // max(small, 1))
    (src / "small").mkdir()
    for i in range(small):
        (src / "small" / f"note-{i:04d}.txt").write_bytes(os.urandom(each // 2).hex().encode())
    return sum(p.stat().st_size for p in src.rglob("*") if p.is_file())


def bench(args: argparse.Namespace, tmp: Path) -> int:
    vault = vault_cli()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    env |= {"VAULT_HOME": str(tmp / "home"), "VAULT_IDENTITY": str(tmp / "identity.age"),
            "VAULT_PASSPHRASE": "bench-passphrase-123"}
    print("making inputs ...", flush=True)
    size = make_inputs(tmp / "src", args.big_mib, args.small)
    run([vault, "init", "--name", "bench"], env)
    run([vault, "engagement", "create", "bench", "--client", "b", "--standard",
         "pci-dss-4.0.1"], env)
    print("ingesting ...", flush=True)
    run([vault, "ingest", "bench", str(tmp / "src"), "--allow-unlocked"], env)
    subprocess.run(["age-keygen", "-o", str(tmp / "key.txt")], check=True, capture_output=True)
    recipient = next(x.split(": ")[1] for x in (tmp / "key.txt").read_text().splitlines()
                     if x.startswith("# public key: "))
    run([vault, "recipient", "add", "QA", "--type", "council", "--age-recipient", recipient],
        env)
    print("peer inputs ...", flush=True)
    with tarfile.open(tmp / "payloads.tar", "w") as tf:
        tf.add(tmp / "src", arcname="src")
    subprocess.run(["age", "-r", recipient, "-o", str(tmp / "payloads.age"),
                    str(tmp / "payloads.tar")], check=True)
    os.sync()
    dec = run(["sh", "-c", f"age -d -i {tmp / 'key.txt'} {tmp / 'payloads.age'} > /dev/null"])
    os.sync()
    enc = run(["age", "-r", recipient, "-o", str(tmp / "peer.age"), str(tmp / "payloads.tar")])
    os.sync()
    (tmp / "peer.age").unlink()
    encf = run(["sh", "-c", f"age -r {recipient} -o {tmp / 'peer.age'} {tmp / 'payloads.tar'}"
                f" && {sys.executable} -c '{FSYNC}' {tmp / 'peer.age'}"])
    os.sync()
    agent_env, agent_pid = start_agent(vault, env, tmp)  # no scrypt unlock in the figure
    try:
        exp = run([vault, "export", "bench", "--to", "QA", "--request-ref", "BENCH-1", "-o",
                   str(tmp / "bundle.age"), "--json"], agent_env)
    finally:
        os.kill(agent_pid, signal.SIGTERM)
    doc = json.loads(exp[2])
    (tmp / "out").mkdir()
    check = subprocess.run(
        f"age -d -i {tmp / 'key.txt'} {tmp / 'bundle.age'} | tar -x -C {tmp / 'out'} && "
        f"{sys.executable} -m bagit --validate {tmp / 'out' / doc['bag']}", shell=True,
        capture_output=True, text=True)
    ok = check.returncode == 0 and len(doc["included"]) == BIG + args.small
    peer = dec[0] + enc[0]
    ratio = exp[0] / peer
    ratio_f = exp[0] / (dec[0] + encf[0])
    rows = [("age -d (payloads)", dec), ("age -r (tar)", enc), ("age -r + fsync", encf),
            ("vault export", exp)]
    print(f"\n{'step':24} {'wall s':>8} {'MB/s':>8} {'peak RSS MB':>12}")
    for name, (wall, rss, _) in rows:
        print(f"{name:24} {wall:8.2f} {size / wall / 1e6:8.1f} {rss:12.1f}")
    print(f"\nvault export / (age -d + age -r) = {ratio:.2f} (target <= {LIMIT_RATIO}); "
          f"peak RSS {exp[1]:.1f} MB (target < {LIMIT_RSS_MB:.0f}); bundle verifies: {ok}\n"
          f"vault export / (age -d + age -r + fsync) = {ratio_f:.2f} (the bundle is fsynced)")
    print("BENCH_JSON " + json.dumps({
        "bench": "export", "bytes": size, "files": BIG + args.small,
        "age_d_s": round(dec[0], 3), "age_r_s": round(enc[0], 3),
        "age_r_fsync_s": round(encf[0], 3), "vault_export_s": round(exp[0], 3),
        "ratio": round(ratio, 3), "ratio_with_fsync": round(ratio_f, 3),
        "vault_export_rss_mb": round(exp[1], 1), "verified": ok,
        "target_met": ratio <= LIMIT_RATIO and exp[1] < LIMIT_RSS_MB,
        "cpus": os.cpu_count(), "python": platform.python_version()}))
    if not ok:
        print(check.stderr[-2000:], file=sys.stderr)
    return 0 if ok else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--big-mib", type=int, default=120)
    p.add_argument("--small", type=int, default=1000)
    p.add_argument("--dir", type=Path, help="where to work (default: a temporary directory)")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-export-", dir=args.dir))
    try:
        return bench(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
