"""Benchmark `vault ingest` into SeaweedFS (S3 on loopback) against boto3's `upload_file`.

Starts a throwaway single-node SeaweedFS (tests/storage/seaweed.py: 127.0.0.1, free ports, one
admin identity), creates an Object Lock bucket and a throwaway vault whose store is that bucket
(VAULT_STORE_URL=s3://BUCKET/vault?endpoint=...&path_style=1, AWS_* keys in the environment),
then runs interleaved rounds of, on a random file (default 1 GiB):

  boto3 upload_file FILE   (a child `python -c`, default TransferConfig, same bucket)
  vault ingest bench FILE  (each round its own copy, last byte changed: no deduplication)
  vault status             (fixed cost of a vault call: start-up + scrypt unlock)

Wall time and peak RSS are measured alike for every step: time.perf_counter around the child and
ru_maxrss from os.wait4 (bench_core.run). Caveat (Linux): a child's ru_maxrss starts at this
script's peak RSS (boto3 is imported here: ~50 MB); the floor is measured with `true`.
Inputs are read once before timing (warm page cache); os.sync() runs before each timed step.
Figures are medians over the rounds. Target (issue 19): median(ingest) <= 1.3 x median(upload_file),
vault ingest peak RSS < 200 MB (MB = 10**6 bytes). Correctness: `vault get` of the last item
must hash to the input's SHA-256, every ingest must report that hash and no duplicate, every
upload must have the file's size (exit 1 otherwise; a missed target only reports).

Run from the repository root (never touches the user's vault):

    .venv/bin/python -m tests.bench.bench_s3 [--size-mib 1024] [--runs 3] [--dir DIR]

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
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_core import CHUNK, make_inputs, run, sha256, vault_cli  # noqa: E402
from tests.storage.seaweed import Server, seaweedfs  # noqa: E402

LIMIT_RATIO = 1.3
LIMIT_RSS_MB = 200.0
BUCKET = "bench"
UPLOAD = (
    "import sys, boto3; from botocore.config import Config; "
    "boto3.client('s3', endpoint_url=sys.argv[1], config=Config(s3={'addressing_style': 'path'}))"
    ".upload_file(sys.argv[2], sys.argv[3], sys.argv[4])"
)
ROWS = ["boto3 upload_file", "vault ingest", "vault status"]


def bench(args: argparse.Namespace, tmp: Path) -> int:
    size = args.size_mib * CHUNK
    vault = vault_cli()
    print(f"starting SeaweedFS in {tmp / 'seaweed'} ...", flush=True)
    with seaweedfs(tmp / "seaweed", timeout=60) as server:
        server.client().create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
        url = f"s3://{BUCKET}/vault?endpoint={server.endpoint}&region=us-east-1&path_style=1"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VAULT_"))}
        s3_env = dict(base, AWS_ACCESS_KEY_ID=server.access_key,
                      AWS_SECRET_ACCESS_KEY=server.secret_key, AWS_DEFAULT_REGION="us-east-1")
        env = dict(s3_env, VAULT_HOME=str(tmp / "home"), VAULT_IDENTITY=str(tmp / "identity.age"),
                   VAULT_PASSPHRASE="bench-passphrase-123", VAULT_STORE_URL=url)
        run([vault, "init", "--name", "bench"], env)
        run([vault, "engagement", "create", "bench", "--client", "b",
             "--standard", "pci-dss-4.0.1"], env)
        check = json.loads(run([vault, "store", "check", "--json"], env)[2])
        print(f"store: {url} (worm: {check.get('worm')})", flush=True)
        if not args.agent:
            return measure(args, tmp, size, vault, server, env, s3_env)
        from tests.bench.bench_scan import start_agent
        env, agent_pid = start_agent(vault, env, tmp)
        try:
            return measure(args, tmp, size, vault, server, env, s3_env)
        finally:
            os.kill(agent_pid, signal.SIGTERM)


def measure(args: argparse.Namespace, tmp: Path, size: int, vault: str, server: Server,
            env: dict[str, str], s3_env: dict[str, str]) -> int:
    print(f"preparing {args.runs} x {args.size_mib} MiB in {tmp} ...", flush=True)
    inputs = make_inputs(tmp, size, args.runs)
    digests = [sha256(p) for p in inputs]  # also warms the page cache
    client, endpoint = server.client(), server.endpoint

    t: dict[str, list[float]] = {row: [] for row in ROWS}
    rss: dict[str, list[float]] = {row: [] for row in ROWS}
    failures: list[str] = []

    def timed(row: str, cmd: list[str], use_env: dict[str, str]) -> str:
        os.sync()
        wall, peak, out = run(cmd, use_env)
        t[row].append(wall)
        rss[row].append(peak)
        return out

    item: dict[str, object] = {}
    for r, (src, digest) in enumerate(zip(inputs, digests, strict=True), start=1):
        print(f"round {r}/{args.runs} ...", flush=True)
        key = f"baseline/{src.name}"
        timed("boto3 upload_file", [sys.executable, "-c", UPLOAD, endpoint, str(src), BUCKET, key],
              s3_env)
        got = client.head_object(Bucket=BUCKET, Key=key)["ContentLength"]
        if got != size:
            failures.append(f"round {r}: upload_file stored {got} bytes, not {size}")
        out = timed("vault ingest", [vault, "ingest", "bench", str(src), "--json"], env)
        item = json.loads(out)[0]
        if item["sha256"] != digest or item.get("duplicate"):
            failures.append(f"round {r}: ingest sha256/duplicate wrong: {item['sha256']}")
        timed("vault status", [vault, "status", "--json"], env)

    dest = tmp / "vault-get.out"
    os.sync()
    get_wall, get_rss, _ = run([vault, "get", str(item["id"]), "-o", str(dest), "--json"], env)
    if sha256(dest) != digests[-1]:
        failures.append("vault get of the last item differs from its input")
    dest.unlink(missing_ok=True)

    floor = run(["true"])[1]
    med = {row: statistics.median(t[row]) for row in ROWS}
    peak = {row: max(rss[row]) for row in ROWS}
    mb = size / 1e6
    print(f"\n{args.size_mib} MiB file, {args.runs} run(s), medians; SeaweedFS on loopback; "
          f"nproc={os.cpu_count()}")
    print(f"{'step':<20}{'wall s':>9}{'MB/s':>9}{'peak RSS MB':>13}")
    for row in ROWS:
        rate = f"{mb / med[row]:9.1f}" if row != "vault status" else f"{'-':>9}"
        print(f"{row:<20}{med[row]:9.3f}{rate}{peak[row]:13.1f}")
    print(f"{'vault get (last)':<20}{get_wall:9.3f}{mb / get_wall:9.1f}{get_rss:13.1f}")

    ratio = med["vault ingest"] / med["boto3 upload_file"]
    net = (med["vault ingest"] - med["vault status"]) / med["boto3 upload_file"]
    rss_name = f"vault ingest peak RSS < {LIMIT_RSS_MB:.0f} MB"
    verdict = {"ingest / upload_file": ratio <= LIMIT_RATIO,
               rss_name: peak["vault ingest"] < LIMIT_RSS_MB}
    print()
    print(f"{'ingest / upload_file':<34}{ratio:6.2f}  "
          f"{'PASS' if verdict['ingest / upload_file'] else 'FAIL'} (<= {LIMIT_RATIO})")
    print(f"{rss_name:<34}{peak['vault ingest']:6.1f}  {'PASS' if verdict[rss_name] else 'FAIL'}")
    print(f"{'(ingest - status) / upload_file':<34}{net:6.2f}  (info: without the fixed cost)")
    print(f"fixed cost per vault call (vault status: start-up + "
          f"{'agent' if args.agent else 'unlock'}): "
          f"{med['vault status']:.3f} s, {peak['vault status']:.1f} MB RSS")
    if peak["vault ingest"] <= peak["vault status"] + 10:
        print("vault ingest's peak RSS is that of `vault status`: set by the identity unlock "
              "(scrypt, 128 * r * N bytes), not by the transfer")
    print(f"RSS floor: a child reports at least the parent's peak RSS (`true`: {floor:.1f} MB)")
    for failure in failures:
        print(f"CORRECTNESS FAILURE: {failure}")
    print("BENCH_JSON " + json.dumps({
        "bench": "s3", "machine": {"nproc": os.cpu_count(), "python": platform.python_version(),
                                   "platform": platform.platform()},
        "file_bytes": size, "runs": args.runs, "agent": args.agent,
        "median_s": {k: round(v, 4) for k, v in med.items()},
        "all_s": {k: [round(x, 4) for x in v] for k, v in t.items()},
        "peak_rss_mb": {k: round(v, 1) for k, v in peak.items()}, "rss_floor_mb": round(floor, 1),
        "get_last": {"s": round(get_wall, 4), "peak_rss_mb": round(get_rss, 1)},
        "ratios": {"ingest / upload_file": round(ratio, 3),
                   "(ingest - status) / upload_file": round(net, 3)},
        "limits": {"ingest / upload_file": LIMIT_RATIO, "peak_rss_mb": LIMIT_RSS_MB},
        "pass": verdict, "correct": not failures, "failures": failures,
    }), flush=True)
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", help="where to create the temp dir (default: system temp)")
    parser.add_argument("--agent", action="store_true",
                        help="vault commands use the unlock agent instead of the passphrase")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` cleans up
    tmp = Path(tempfile.mkdtemp(prefix="vault-bench-s3-", dir=args.dir))
    started = time.monotonic()
    try:
        return bench(args, tmp)
    finally:  # the server is stopped by seaweedfs() before this runs
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"(total {time.monotonic() - started:.0f} s; {tmp} removed)", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
