"""Destruction certificates: one signed sanitization record per destruction run.

The body carries the fields of a NIST SP 800-88 sanitization record (Rev. 1 §4.8 and its
Appendix G sample certificate, carried into Rev. 2, 2025): what was sanitised (media type and
source; each item's id, engagement, SHA-256, size, object key and the store's version ids), how
(category Purge: cryptographic erase of the per-object key and deletion of every stored
version; tool and version), the verification performed and its result, date and time, who (the
job's identity and the signing key), what remains (backups, WAL archives, versions still under
Object Lock with their retain-until dates) and the certificate's id.

It is canonical JSON (sorted keys, UTF-8, no insignificant whitespace) signed with the firm's
Ed25519 key as a raw detached signature, so an outsider checks the exported bytes with
``openssl pkeyutl -verify -pubin -inkey firm.pem -rawin -in CERT.json -sigfile CERT.json.sig``.
A certificate is never changed or deleted (the table refuses it): it outlives the data it
describes.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from vault.crypto import signing
from vault.errors import InvalidInput
from vault.metadata.models import CertificateEngagement, DestructionCertificate
from vault.retention.report import METHOD_PURGED, RunReport

FORMAT = "evidence-vault destruction certificate v1"
RECORD = ("NIST SP 800-88 Rev. 2 (2025) sanitization record; fields of Rev. 1 section 4.8 and "
          "Appendix G")
CATEGORY = "Purge"
TECHNIQUE = ("cryptographic erase of the per-object key (the item's age header, the only copy "
             "of its file key) + deletion of every stored version and delete marker of its "
             "object by version id")
MEDIA = (
    {"type": "cloud/object storage",
     "what": "each item's encrypted payload: every version of its object key"},
    {"type": "database record",
     "what": "each item's age header (its file key) and content-bearing metadata; a tombstone "
             "keeps id, engagement id, SHA-256, size, dates and this certificate's id"},
)


def canonical(doc: dict[str, Any]) -> bytes:
    """The exact bytes that are signed."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None


def body(report: RunReport, cert_id: str, issued_at: datetime, key_id: str) -> dict[str, Any]:
    """The certificate's content for one run (see the module for the fields)."""
    items = [i.as_dict() for i in report.items]
    verified = sum(1 for i in report.items if i.verified)
    purged = sum(1 for i in report.items if i.method == METHOD_PURGED)
    failed = len(items) - verified
    return {
        "format": FORMAT,
        "record": RECORD,
        "certificate_id": cert_id,
        "issued_at": _iso(issued_at),
        "run": {"id": report.run_id, "started_at": _iso(report.started_at),
                "finished_at": _iso(report.finished_at)},
        "sanitized_by": {"job": report.job_name, "job_recipient": report.job_recipient,
                         "role": "destruction-job", "signing_key_id": key_id},
        "media": [dict(m, source=report.store_url if m["type"].startswith("cloud")
                       else (report.database or "metadata database")) for m in MEDIA],
        "store": report.store_url,
        "items": items,
        "sanitization": {"category": CATEGORY, "technique": TECHNIQUE,
                         "tool": report.tool, "items": len(items), "purged": purged,
                         "purge_pending": len(items) - purged},
        "verification": {"method": report.verification,
                         "result": "passed" if failed == 0 else "failed",
                         "items_verified": verified, "items_not_verified": failed},
        "engagements_destroyed": list(report.engagements_destroyed),
        "remains": {"notes": list(report.remains),
                    "pending_purge": [p.as_dict() for p in report.pending]},
        "date": _iso(report.finished_at or issued_at),
    }


def issue(s: Session, report: RunReport, signing_key: Ed25519PrivateKey, *, cert_id: str,
          at: datetime) -> DestructionCertificate:
    """Build, sign and store the certificate of `report`'s run (the caller commits); sets
    ``report.certificate_id``. A dry run, or a run that sanitised nothing, has none."""
    if report.dry_run:
        raise InvalidInput("a dry run destroys nothing and gets no certificate")
    if not report.items and not report.pending:
        raise InvalidInput("this run destroyed nothing: there is nothing to certify")
    kid = signing.key_id(signing_key.public_key())
    doc = canonical(body(report, cert_id, at, kid))
    cert = DestructionCertificate(
        id=cert_id, created_at=at, run_id=report.run_id, body=doc.decode("utf-8"), key_id=kid,
        signature=base64.b64encode(signing_key.sign(doc)).decode("ascii"),
        items=len(report.items))
    s.add(cert)
    s.flush()
    per = Counter(i.engagement_id for i in report.items)
    for p in report.pending:
        per.setdefault(p.engagement_id, 0)
    s.add_all([CertificateEngagement(certificate_id=cert_id, engagement_id=e, items=n)
               for e, n in sorted(per.items())])
    report.certificate_id = cert_id
    return cert


def signed_bytes(cert: DestructionCertificate) -> bytes:
    """What the signature covers: the stored body, byte for byte."""
    return cert.body.encode("utf-8")


def check(cert: DestructionCertificate, public_pem: str) -> bool:
    """Whether the stored signature verifies over the stored body with this key."""
    try:
        sig = base64.b64decode(cert.signature, validate=True)
    except ValueError:
        return False
    return signing.verify(public_pem, signed_bytes(cert), sig)
