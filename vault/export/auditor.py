"""What the auditor is given to check a bundle with standard tools: ``VERIFY.txt`` (the exact
commands and the tag files to expect) and the stock-Python check of the audit excerpt's
inclusion proofs (also in the README's "For auditors", where an auditor copies it from)."""

from __future__ import annotations

TAG_FILES = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-sha512.txt",
             "custody.csv", "coverage.tsv", "exclusions.tsv", "audit/events.jsonl",
             "audit/tree-head.txt", "audit/tree-head.txt.sig", "signer.pem", "firm-ca.pem",
             "VERIFY.txt")
"""Every tag file a bundle's tag manifests list (bagit-python does not flag one missing)."""

VERIFY_PROOFS = '''\
import csv, hashlib, json, sys
from pathlib import Path

bag = Path(sys.argv[1])
sha = lambda b: hashlib.sha256(b).digest()
head = dict(x.split(" ", 1) for x in (bag / "audit/tree-head.txt").read_text().splitlines()[1:])
size, root = int(head["size"]), bytes.fromhex(head["root"])

def proven(index, leaf, proof):  # RFC 9162, 2.1.3.2
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = sha(b"\\x01" + p + r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = sha(b"\\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root

bad, ingested = 0, {}
for n, line in enumerate((bag / "audit/events.jsonl").read_text().splitlines(), 1):
    rec = json.loads(line)
    leaf = sha(b"\\x00" + rec["event"].encode())
    if not proven(rec["index"], leaf, [bytes.fromhex(p) for p in rec["proof"]]):
        print("NOT PROVEN: audit/events.jsonl line", n)
        bad += 1
        continue
    ev = json.loads(rec["event"])
    if ev["action"] == "item.ingest" and ev["outcome"] == "ok":
        ingested[ev["object"]] = json.loads(ev["detail"])["sha256"]
files = dict(reversed(x.split("  ", 1)) for x in (bag / "manifest-sha256.txt").read_text().splitlines())
for row in csv.DictReader(open(bag / "custody.csv", newline="", encoding="utf-8")):
    if not ingested.get(row["item"]) == row["sha256"] == files.get(row["file"]):
        print("NO PROVEN INGEST:", row["file"])
        bad += 1
print("audit proofs: OK" if not bad else f"audit proofs: {bad} FAILED")
sys.exit(1 if bad else 0)
'''


def verify_txt(bag: str, bundle: str) -> str:
    expected = "\n".join(f"     {t}" for t in TAG_FILES)
    return f"""\
How to verify this bundle with standard tools only
====================================================

Bundle: {bundle}    Bag: {bag}
You need: age, tar, python3 with bagit-python (pip install bagit), OpenSSL 3, and the firm's
CA certificate firm-ca.pem received OUT OF BAND (not the copy inside this bag).

1. Decrypt and unpack:
     age -d -i KEY.txt {bundle} | tar -x
2. Check the bag: every payload file against both manifests, every tag file against the tag
   manifests (never --fast: it checks only the Payload-Oxum):
     python3 -m bagit --validate {bag}
3. The signer's certificate was issued by the firm:
     openssl verify -CAfile firm-ca.pem {bag}/signer.pem
4. The signer signed the tag manifest (which holds the hashes of the manifests, which hold
   the hashes of every file):
     openssl pkeyutl -verify -certin -inkey {bag}/signer.pem -rawin -in {bag}/tagmanifest-sha256.txt -sigfile {bag}/tagmanifest-sha256.txt.sig
5. The audit excerpt: the signed tree head, then each event's inclusion proof against it and
   each file's ingest event (the script is in the vault's README, "For auditors"):
     openssl pkeyutl -verify -certin -inkey {bag}/signer.pem -rawin -in {bag}/audit/tree-head.txt -sigfile {bag}/audit/tree-head.txt.sig
     python3 verify_proofs.py {bag}
6. bagit-python does not flag a tag file that the tag manifest omits. These tag files must
   all be listed in tagmanifest-sha256.txt (compare with the README's list):
{expected}
   Check:
     for f in {' '.join(TAG_FILES)}; do grep -q "  $f\\$" {bag}/tagmanifest-sha256.txt || echo "MISSING $f"; done

What the files say: custody.csv (per file: ingest time and person, original SHA-256,
versions, flag decisions, disclosure changes), coverage.tsv (each requested reference or
requirement -> files, or why withheld, or none held), exclusions.tsv (what was left out and
why), audit/events.jsonl (the audit events of these files, each with its inclusion proof).
"""
