"""Benchmark `vault scan` on containers against the same content uncompressed, in one run.

(a) a gateway log (tests/bench/bench_scan.py's generator, seeded), gzip'd (level 6, as
    `gzip` does by default):

      vault scan LOG.gz --json          the compressed log, end to end
      zcat LOG.gz > /dev/null           decompression alone (the gzip tool)
      vault scan LOG --json             the same log, plain

    target: vault scan LOG.gz <= 1.2 x (zcat + vault scan LOG), and its peak RSS < 200 MB;

(b) the same kind of log cut into --files text files (at line ends) zipped (deflate):

      vault scan BUNDLE.zip --json      the archive, member by member
      vault scan DIR --json             the same files unpacked in a directory

    target: vault scan BUNDLE.zip <= 1.3 x vault scan DIR;

(c) recall and precision over the card numbers planted in a container of every kind (gzip, xz,
    bzip2, zip, a zip in a zip, tar.gz, xlsx, docx, e-mail, HTML: tests/pii/container_corpus.py,
    written apart from the detector, with masked look-alikes that must not be flagged), found
    by one `vault scan DIR --json` of them; --corpus-cards numbers per container:

    target: recall and precision >= 0.99.

Rounds are interleaved (the order reversed every other round); wall time is
time.perf_counter around the child, medians of the rounds. Peak RSS, sampled from /proc every
20 ms: the command's own process (its VmHWM, the kernel's high-water mark: for `vault scan`,
the process that reads, decompresses and walks the archive) and the most its process tree (the
CLI, its fork server and the scanner's worker processes) held at once. (ru_maxrss from wait4
is not used: on Linux it starts at the forking parent's RSS.) Each run's findings are
counted, and (a)'s and (b)'s container rows must find exactly what their plain rows find.

    .venv/bin/python tests/bench/bench_containers.py [--size-mb 300] [--zip-mb 200]
        [--files 1000] [--runs 3] [--corpus-cards 300] [--corpus-only] [--dir DIR]

--size-mb alone scales both (b's total is 2/3 of it unless --zip-mb is given). It prints a
table and a final `BENCH_JSON {...}` line.
"""

from __future__ import annotations

import argparse
import gzip
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
import threading
import time
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_scan import generate, vault_cli  # noqa: E402
from tests.pii import container_corpus as cc  # noqa: E402

GZ_TARGET = 1.2
ZIP_TARGET = 1.3
RSS_TARGET_MB = 200.0
CORPUS_TARGET = 0.99


def _hwm(pid: int) -> int:
    """The process's peak resident bytes so far (0 when it has gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants now (0 for what has gone)."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return total


def run(cmd: list[str], out_path: Path | None = None,
        ok: tuple[int, ...] = (0,)) -> tuple[float, float, float]:  # fmt: skip
    """Run cmd (stdout to out_path or /dev/null); (wall s, peak RSS MB of its process,
    peak RSS MB of its process tree at once)."""
    with open(out_path or os.devnull, "wb") as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        peak = [0, 0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                peak[0] = max(peak[0], _hwm(proc.pid))
                peak[1] = max(peak[1], _tree_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, _ = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        done.set()
        sampler.join()
        rc = os.waitstatus_to_exitcode(status)
        if rc not in ok:
            err.seek(0)
            raise RuntimeError(f"{cmd!r} exited {rc}: {err.read().decode()[-2000:]}")
        return wall, peak[0] / 1e6, peak[1] / 1e6


def findings(path: Path) -> dict[str, int]:
    kinds: dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for raw in f:
            k = json.loads(raw)["kind"]
            kinds[k] = kinds.get(k, 0) + 1
    return kinds


def split_log(log: Path, into: Path, files: int) -> list[Path]:
    """Cut `log` at line ends into `files` files of about equal size (streaming: this process
    stays small, and the children it forks start from its RSS)."""
    into.mkdir()
    size = log.stat().st_size // files + 1
    out = []
    with open(log, "rb") as f:
        for i in range(files):
            p = into / f"gw-{i:04d}.log"
            with open(p, "wb") as w:
                if i == files - 1:
                    shutil.copyfileobj(f, w, 1 << 20)
                else:
                    w.write(f.read(size) + f.readline())
            out.append(p)
    return out


def warm(*paths: Path) -> None:
    """Read the files once (the page cache), in chunks."""
    for p in paths:
        with open(p, "rb") as f:
            while f.read(1 << 24):
                pass


def corpus_scores(args: argparse.Namespace, tmp: Path) -> dict[str, object]:
    """(c): build the labelled containers, scan them with one `vault scan DIR --json`, score
    each kind; prints its table and returns its part of the JSON line."""
    vault = vault_cli()
    where = tmp / "corpus"
    where.mkdir()
    containers = cc.build(random.Random(args.seed), args.corpus_cards)
    for c in containers:
        (where / c.name).write_bytes(c.data)
    res = tmp / "corpus.json"
    wall, _, _ = run([vault, "scan", str(where), "--json"], res, (0, 1))
    found: dict[str, Counter[str]] = {c.name: Counter() for c in containers}
    with open(res, encoding="utf-8") as f:
        for raw in f:
            hit = json.loads(raw)
            if hit["kind"] == "pan":
                found[Path(hit["path"]).name][hit["masked"]] += 1
    res.unlink()
    rows: dict[str, dict[str, float | int]] = {}
    total = Counter[str]()
    print(f"\n(c) card numbers planted in containers (seed {args.seed}; one vault scan, "
          f"{wall:.1f} s)")
    print(f"{'container':<12}{'planted':>9}{'found':>8}{'missed':>8}{'false +':>9}"
          f"{'recall':>9}{'precision':>11}")  # fmt: skip
    for c in containers:
        tp, fn, fp = cc.score(c.labels, found[c.name])
        total.update(tp=tp, fn=fn, fp=fp)
        rec, prec = tp / max(tp + fn, 1), tp / max(tp + fp, 1)
        rows[c.kind] = {"planted": tp + fn, "tp": tp, "fn": fn, "fp": fp,
                        "recall": round(rec, 4), "precision": round(prec, 4)}
        print(f"{c.kind:<12}{tp + fn:9d}{tp:8d}{fn:8d}{fp:9d}{rec:9.4f}{prec:11.4f}")
    recall = total["tp"] / max(total["tp"] + total["fn"], 1)
    precision = total["tp"] / max(total["tp"] + total["fp"], 1)
    print(f"{'all':<12}{total['tp'] + total['fn']:9d}{total['tp']:8d}{total['fn']:8d}"
          f"{total['fp']:9d}{recall:9.4f}{precision:11.4f}")  # fmt: skip
    ok = recall >= CORPUS_TARGET and precision >= CORPUS_TARGET
    print(f"card recall and precision in containers   {'PASS' if ok else 'FAIL'} "
          f"(>= {CORPUS_TARGET})")
    return {"corpus": {"per_kind": rows, "cards_per_kind": args.corpus_cards,
                       "recall": round(recall, 4), "precision": round(precision, 4),
                       "scan_s": round(wall, 2), "target": CORPUS_TARGET}, "corpus_pass": ok}


def bench(args: argparse.Namespace, tmp: Path) -> int:
    corpus = corpus_scores(args, tmp)
    if args.corpus_only:
        print("BENCH_JSON " + json.dumps({
            "machine": {"nproc": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform()},
            "seed": args.seed, **corpus}), flush=True)
        return 0
    vault = vault_cli()
    zip_mb = args.zip_mb if args.zip_mb is not None else args.size_mb * 2 / 3
    print(f"generating a {args.size_mb:g} MB gateway log and {zip_mb:g} MB for "
          f"{args.files} files (seed {args.seed}) in {tmp} ...", flush=True)  # fmt: skip
    t0 = time.perf_counter()
    log = tmp / "gateway.log"
    generate(log, int(args.size_mb * 1e6), args.seed)
    gz = tmp / "gateway.log.gz"
    with open(log, "rb") as src, gzip.open(gz, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    small = tmp / "small.log"
    generate(small, int(zip_mb * 1e6), args.seed + 1)
    unpacked = tmp / "unpacked"
    parts = split_log(small, unpacked, args.files)
    small.unlink()
    bundle = tmp / "bundle.zip"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in parts:
            zf.write(p, f"logs/{p.name}")
    sizes = {"log": log.stat().st_size, "gz": gz.stat().st_size,
             "files": sum(p.stat().st_size for p in parts), "zip": bundle.stat().st_size}
    print(f"  log {sizes['log'] / 1e6:.1f} MB -> gz {sizes['gz'] / 1e6:.1f} MB; "
          f"{len(parts)} files {sizes['files'] / 1e6:.1f} MB -> zip {sizes['zip'] / 1e6:.1f} MB; "
          f"{time.perf_counter() - t0:.1f} s", flush=True)  # fmt: skip
    warm(log, gz, bundle, *parts)

    rows = {
        "vault scan LOG.gz": ([vault, "scan", str(gz), "--json"], (0, 1)),
        "zcat LOG.gz": (["zcat", str(gz)], (0,)),
        "vault scan LOG": ([vault, "scan", str(log), "--json"], (0, 1)),
        "vault scan BUNDLE.zip": ([vault, "scan", str(bundle), "--json"], (0, 1)),
        "vault scan DIR": ([vault, "scan", str(unpacked), "--json"], (0, 1)),
    }
    names = list(rows)
    wall: dict[str, list[float]] = {r: [] for r in names}
    rss: dict[str, list[float]] = {r: [] for r in names}
    tree: dict[str, list[float]] = {r: [] for r in names}
    found: dict[str, dict[str, int]] = {}
    for rnd in range(1, args.runs + 1):
        print(f"round {rnd}/{args.runs} ...", flush=True)
        for name in names if rnd % 2 else names[::-1]:
            cmd, ok = rows[name]
            res = tmp / "result.json"
            w, p, t = run(cmd, res if name.startswith("vault") else None, ok)
            if rnd == 1 and name.startswith("vault"):
                found[name] = findings(res)
            res.unlink(missing_ok=True)
            wall[name].append(w)
            rss[name].append(p)
            tree[name].append(t)

    med = {r: statistics.median(wall[r]) for r in names}
    peak = {r: max(rss[r]) for r in names}
    peak_tree = {r: max(tree[r]) for r in names}
    print(f"\n{args.runs} run(s), medians; nproc={os.cpu_count()}")
    print(f"{'row':<24}{'MB in':>9}{'wall s':>9}{'MB/s':>9}{'peak RSS MB':>13}"
          f"{'tree RSS MB':>13}{'findings':>10}")  # fmt: skip
    print("(peak RSS: the command's own process; tree: it and its worker processes at once)")
    mb_in = {"vault scan LOG.gz": sizes["log"], "zcat LOG.gz": sizes["log"],
             "vault scan LOG": sizes["log"], "vault scan BUNDLE.zip": sizes["files"],
             "vault scan DIR": sizes["files"]}  # fmt: skip
    for r in names:
        n = sum(found[r].values()) if r in found else "-"
        print(f"{r:<24}{mb_in[r] / 1e6:9.1f}{med[r]:9.2f}{mb_in[r] / 1e6 / med[r]:9.1f}"
              f"{peak[r]:13.1f}{peak_tree[r]:13.1f}{n!s:>10}")  # fmt: skip
    gz_ratio = med["vault scan LOG.gz"] / (med["zcat LOG.gz"] + med["vault scan LOG"])
    zip_ratio = med["vault scan BUNDLE.zip"] / med["vault scan DIR"]
    same = {"gz": found["vault scan LOG.gz"] == found["vault scan LOG"],
            "zip": found["vault scan BUNDLE.zip"] == found["vault scan DIR"]}
    verdict = {"gz_ratio": gz_ratio <= GZ_TARGET,
               "gz_peak_rss": peak["vault scan LOG.gz"] < RSS_TARGET_MB,
               "zip_ratio": zip_ratio <= ZIP_TARGET, "same_findings": all(same.values())}
    print(f"vault scan LOG.gz / (zcat + vault scan LOG)   {gz_ratio:6.2f}  "
          f"{'PASS' if verdict['gz_ratio'] else 'FAIL'} (<= {GZ_TARGET})")
    print(f"peak RSS of vault scan LOG.gz (its process)   {peak['vault scan LOG.gz']:6.1f}  "
          f"{'PASS' if verdict['gz_peak_rss'] else 'FAIL'} (< {RSS_TARGET_MB:.0f} MB)")
    print(f"vault scan BUNDLE.zip / vault scan DIR        {zip_ratio:6.2f}  "
          f"{'PASS' if verdict['zip_ratio'] else 'FAIL'} (<= {ZIP_TARGET})")
    print(f"same findings: gz {same['gz']}, zip {same['zip']}")
    print("BENCH_JSON " + json.dumps({
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "bytes": sizes, "files": len(parts), "runs": args.runs, "seed": args.seed,
        "median_s": {k: round(v, 3) for k, v in med.items()},
        "all_s": {k: [round(x, 3) for x in v] for k, v in wall.items()},
        "peak_rss_mb": {k: round(v, 1) for k, v in peak.items()},
        "peak_tree_rss_mb": {k: round(v, 1) for k, v in peak_tree.items()},
        "findings": found, "same_findings": same,
        "ratios": {"gz / (zcat + plain)": round(gz_ratio, 3), "zip / dir": round(zip_ratio, 3)},
        "targets": {"gz": GZ_TARGET, "zip": ZIP_TARGET, "gz_peak_rss_mb": RSS_TARGET_MB},
        "pass": {**verdict, "corpus": corpus["corpus_pass"]},
        "corpus": corpus["corpus"],
    }), flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=300, help="(a)'s log, MB")
    parser.add_argument("--zip-mb", type=float, default=None,
                        help="(b)'s files in all, MB (default: 2/3 of --size-mb)")
    parser.add_argument("--files", type=int, default=1000, help="(b)'s number of files")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--corpus-cards", type=int, default=300,
                        help="(c)'s card numbers per container")
    parser.add_argument("--corpus-only", action="store_true", help="(c) alone")
    parser.add_argument("--seed", type=int, default=20240605)
    parser.add_argument("--dir", help="where to create the temp dir (default: system temp)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` cleans up
    tmp = Path(tempfile.mkdtemp(prefix="vault-bench-containers-", dir=args.dir))
    try:
        return bench(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
