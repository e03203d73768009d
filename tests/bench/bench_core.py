"""Benchmark `vault ingest` / `vault get` against the plain CLI peers.

Measures, on one random file (default 1 GiB) in one run on one machine, wall
time (time.perf_counter around the child), CPU time (user + system from os.wait4:
steadier than wall time on a shared machine) and peak RSS (ru_maxrss of the child
from os.wait4) of:

  openssl dgst -sha256 FILE          age -r RECIPIENT -o X.age FILE
  age -r + fsync (a tiny `python -c` fsyncs X.age; the vault fsyncs, age does not)
  age -d + fsync (the same for age -d's output: vault get fsyncs its output, age does not)
  vault ingest bench FILE            age -d -i KEY -o OUT X.age
  vault get ID -o OUT                vault status (fixed cost: start-up + scrypt unlock)

The rounds are interleaved; each round uses its own copy of the file (last byte
changed) because the vault deduplicates identical bytes. All inputs are read
once before timing (warm page cache) and os.sync() runs before each timed step
(untimed) so write-back of an earlier step is not charged to the next one.
Linux caveat: a child's ru_maxrss starts at the parent's peak RSS (inherited
through vfork/exec), so tiny peers report this script's ~20 MB; the floor is
measured with `true` and printed.
Figures are medians over the rounds; a ratio is median(vault) / median(peer sum).
Targets (issue 19): ingest <= 1.3 x (dgst + age -r), get <= 1.2 x age -d, peak RSS
< 150 MB (MB = 10**6 bytes). Correctness: `vault get` output and `age -d` output
must hash to the input's SHA-256 (exit 1 otherwise; a missed target only reports).

Stdlib only; uses a throwaway vault (VAULT_HOME / VAULT_IDENTITY / VAULT_PASSPHRASE
in a temp dir), never the user's. Run from the repository root:

    .venv/bin/python tests/bench/bench_core.py [--size-mib 1024] [--runs 3] [--dir DIR]

It prints a table and a final `BENCH_JSON {...}` line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LIMIT_INGEST = 1.3
LIMIT_GET = 1.2
LIMIT_RSS_MB = 150.0
CHUNK = 1 << 20
FSYNC = "import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.close(fd)"
ROWS = ["openssl dgst", "age -r", "age -r + fsync", "vault ingest", "age -d", "age -d + fsync",
        "vault get",
        "vault status"]


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run cmd; return (wall seconds, peak RSS MB, stdout). Raises on failure."""
    wall, peak, out, _ = run_usage(cmd, env)
    return wall, peak, out


def run_usage(cmd: list[str], env: dict[str, str] | None = None
              ) -> tuple[float, float, str, float]:
    """Run cmd; return (wall seconds, peak RSS MB, stdout, CPU seconds: user + system of the
    child and the children it waited for). Raises on failure."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{cmd!r} exited {proc.returncode}: {err.read().decode()[-2000:]}")
        cpu = usage.ru_utime + usage.ru_stime
        return wall, usage.ru_maxrss * 1024 / 1e6, out.read().decode(), cpu


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def make_inputs(tmp: Path, size: int, runs: int) -> list[Path]:
    """One random file per round; rounds differ in the last byte (defeats dedup)."""
    first = tmp / "input-r1.bin"
    with open(first, "wb") as f:
        for left in range(size, 0, -CHUNK):
            f.write(os.urandom(min(CHUNK, left)))
    files = [first]
    for r in range(2, runs + 1):
        path = tmp / f"input-r{r}.bin"
        shutil.copyfile(first, path)
        with open(path, "r+b") as f:
            f.seek(size - 1)
            last = f.read(1)[0]
            f.seek(size - 1)
            f.write(bytes([last ^ r]))
        files.append(path)
    return files


def vault_cli() -> str:
    """The `vault` command, with the project's modules compiled to bytecode first: a user's
    installation keeps its .pyc files after the first run, while a shell with
    PYTHONDONTWRITEBYTECODE set would recompile every module in every timed command."""
    local = Path(sys.executable).parent / "vault"
    found = str(local) if local.exists() else shutil.which("vault")
    if not found:
        sys.exit("vault CLI not found (run with the project's venv python)")
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *(str(root / d) for d in (
        "vault", "storage_backends", "tui"))], check=True, stdout=subprocess.DEVNULL)
    return found


def bench(args: argparse.Namespace, tmp: Path) -> int:
    size = args.size_mib * CHUNK
    vault = vault_cli()
    env = dict(os.environ, VAULT_HOME=str(tmp / "home"), VAULT_IDENTITY=str(tmp / "identity.age"),
               VAULT_PASSPHRASE="bench-passphrase-123")
    run([vault, "init", "--name", "bench"], env)
    run([vault, "engagement", "create", "bench", "--client", "Bench",
         "--standard", "pci-dss-4.0.1"], env)
    agent_pid = None
    if args.agent:
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
        from tests.bench.bench_scan import start_agent
        env, agent_pid = start_agent(vault, env, tmp)
    key = tmp / "key.txt"
    run(["age-keygen", "-o", str(key)])
    recipient = run(["age-keygen", "-y", str(key)])[2].strip()

    print(f"preparing {args.runs} x {args.size_mib} MiB in {tmp} ...", flush=True)
    inputs = make_inputs(tmp, size, args.runs)
    digests = [sha256(p) for p in inputs]  # also warms the page cache
    os.sync()

    t: dict[str, list[float]] = {row: [] for row in ROWS}
    cpu: dict[str, list[float]] = {row: [] for row in ROWS}
    rss: dict[str, list[float]] = {row: [] for row in ROWS}
    failures: list[str] = []

    def timed(row: str, cmd: list[str], use_env: bool = False, sync: bool = True) -> str:
        if sync:
            os.sync()
        wall, peak, out, used = run_usage(cmd, env if use_env else None)
        t[row].append(wall)
        cpu[row].append(used)
        rss[row].append(peak)
        return out

    enc, dec, got = tmp / "x.age", tmp / "age-d.out", tmp / "vault-get.out"
    for r, (src, digest) in enumerate(zip(inputs, digests, strict=True), start=1):
        print(f"round {r}/{args.runs} ...", flush=True)
        out = timed("openssl dgst", ["openssl", "dgst", "-sha256", str(src)])
        if digest not in out:
            failures.append(f"round {r}: openssl dgst disagrees with hashlib")
        timed("age -r", ["age", "-r", recipient, "-o", str(enc), str(src)])
        # the fsync variant: age -r's time (above) plus an fsync of its output, no sync between
        w, p, _, c = run_usage([sys.executable, "-c", FSYNC, str(enc)])
        t["age -r + fsync"].append(t["age -r"][-1] + w)
        cpu["age -r + fsync"].append(cpu["age -r"][-1] + c)
        rss["age -r + fsync"].append(max(rss["age -r"][-1], p))
        item = json.loads(timed("vault ingest", [vault, "ingest", "bench", str(src), "--json"],
                                use_env=True))[0]
        if item["sha256"] != digest or item.get("duplicate"):
            failures.append(f"round {r}: ingest sha256/duplicate wrong: {item['sha256']}")
        timed("age -d", ["age", "-d", "-i", str(key), "-o", str(dec), str(enc)])
        # vault get fsyncs its output before putting it in place; age -d does not
        w, p, _, c = run_usage([sys.executable, "-c", FSYNC, str(dec)])
        t["age -d + fsync"].append(t["age -d"][-1] + w)
        cpu["age -d + fsync"].append(cpu["age -d"][-1] + c)
        rss["age -d + fsync"].append(max(rss["age -d"][-1], p))
        if sha256(dec) != digest:
            failures.append(f"round {r}: age -d output differs from input")
        timed("vault get", [vault, "get", item["id"], "-o", str(got), "--json"], use_env=True)
        if sha256(got) != digest:
            failures.append(f"round {r}: vault get output differs from input")
        timed("vault status", [vault, "status", "--json"], use_env=True)
        for path in (enc, dec, got):
            path.unlink(missing_ok=True)

    if agent_pid is not None:
        os.kill(agent_pid, signal.SIGTERM)
    floor = run(["true"])[1]
    med = {row: statistics.median(t[row]) for row in ROWS}
    med_cpu = {row: statistics.median(cpu[row]) for row in ROWS}
    peak = {row: max(rss[row]) for row in ROWS}
    mb = size / 1e6
    print(f"\n{args.size_mib} MiB file, {args.runs} run(s), medians; nproc={os.cpu_count()}")
    print(f"{'step':<16}{'wall s':>9}{'MB/s':>9}{'cpu s':>9}{'peak RSS MB':>13}")
    for row in ROWS:
        rate = f"{mb / med[row]:9.1f}" if row != "vault status" else f"{'-':>9}"
        print(f"{row:<16}{med[row]:9.3f}{rate}{med_cpu[row]:9.3f}{peak[row]:13.1f}")

    dgst_age = statistics.median(a + b for a, b in zip(t["openssl dgst"], t["age -r"], strict=True))
    fsynced = zip(t["openssl dgst"], t["age -r + fsync"], strict=True)
    dgst_age_fs = statistics.median(a + b for a, b in fsynced)
    ratios = {
        "ingest / (dgst + age -r)": med["vault ingest"] / dgst_age,
        "ingest / (dgst + age -r + fsync)": med["vault ingest"] / dgst_age_fs,
        "get / age -d": med["vault get"] / med["age -d"],
        "get / (age -d + fsync)": med["vault get"] / med["age -d + fsync"],
    }
    limits = {name: LIMIT_GET if name.startswith("get") else LIMIT_INGEST for name in ratios}
    verdict = {name: value <= limits[name] for name, value in ratios.items()}
    for row in ("vault ingest", "vault get"):
        verdict[f"{row} peak RSS < {LIMIT_RSS_MB:.0f} MB"] = peak[row] < LIMIT_RSS_MB
    print()
    for name, value in ratios.items():
        print(f"{name:<34}{value:6.2f}  {'PASS' if verdict[name] else 'FAIL'} "
              f"(<= {limits[name]})")
    for row in ("vault ingest", "vault get"):
        name = f"{row} peak RSS < {LIMIT_RSS_MB:.0f} MB"
        print(f"{name:<34}{peak[row]:6.1f}  {'PASS' if verdict[name] else 'FAIL'}")
    print(f"fixed cost per vault call (vault status: start-up + "
          f"{'agent' if args.agent else 'unlock'}): "
          f"{med['vault status']:.3f} s, {peak['vault status']:.1f} MB RSS")
    print(f"RSS floor: a child reports at least the parent's peak RSS (`true`: {floor:.1f} MB)")
    for failure in failures:
        print(f"CORRECTNESS FAILURE: {failure}")
    print("BENCH_JSON " + json.dumps({
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "file_bytes": size, "runs": args.runs, "agent": args.agent,
        "median_s": {k: round(v, 4) for k, v in med.items()},
        "all_s": {k: [round(x, 4) for x in v] for k, v in t.items()},
        "median_cpu_s": {k: round(v, 4) for k, v in med_cpu.items()},
        "peak_rss_mb": {k: round(v, 1) for k, v in peak.items()}, "rss_floor_mb": round(floor, 1),
        "ratios": {k: round(v, 3) for k, v in ratios.items()}, "limits": limits,
        "limit_rss_mb": LIMIT_RSS_MB, "pass": verdict, "correct": not failures,
        "failures": failures,
    }), flush=True)
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", help="where to create the temp dir (default: system temp)")
    parser.add_argument("--agent", action="store_true",
                        help="vault commands use the unlock agent instead of the passphrase")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` cleans up
    tmp = Path(tempfile.mkdtemp(prefix="vault-bench-", dir=args.dir))
    try:
        return bench(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
