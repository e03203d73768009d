"""Destruction certificates: listing, showing and exporting them for an outsider to check.

Administrators and the destruction job see every certificate and export them (audited). Leads
and QA reviewers of an engagement see the certificates that cover it — their metadata and the
engagement's own items, never another engagement's; exporting is not theirs, since the signed
document names every item of the run.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from vault.errors import IntegrityError, InvalidInput, NotFound, StorageError
from vault.metadata.lookup import by_id_prefix
from vault.metadata.models import CertificateEngagement, DestructionCertificate, SigningKey
from vault.retention import certificate as certs
from vault.service.context import Act, Context, Target


@dataclass(frozen=True)
class CertificateInfo:
    """One certificate's metadata (no items)."""

    id: str
    created_at: datetime
    run_id: str
    items: int
    key_id: str
    engagements: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "created_at": self.created_at.isoformat(),
                "run_id": self.run_id, "items": self.items, "key_id": self.key_id,
                "engagements": list(self.engagements)}


def _scope(cx: Context, engagement: str | None, obj: str = "certificates"
           ) -> tuple[Target, str | None]:
    """The firm (no engagement: administrators, the job) or one engagement (its leads, QA)."""
    if engagement is None:
        return Target(obj), None
    with cx.session() as s:
        eng = cx.find_engagement(s, engagement)
    return Target(obj, eng.id, eng.name), eng.id


def _engagements(s: Session, ids: list[str]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {i: [] for i in ids}
    for row in s.exec(select(CertificateEngagement).where(
            col(CertificateEngagement.certificate_id).in_(ids))
            .order_by(col(CertificateEngagement.engagement_id))).all():
        out[row.certificate_id].append(row.engagement_id)
    return {k: tuple(v) for k, v in out.items()}


def _info(c: DestructionCertificate, engs: tuple[str, ...]) -> CertificateInfo:
    return CertificateInfo(c.id, c.created_at, c.run_id, c.items, c.key_id, engs)


def certificates(cx: Context, engagement: str | None = None) -> list[CertificateInfo]:
    """Every certificate, oldest first (or those covering one engagement)."""
    t, eng_id = _scope(cx, engagement)
    with cx.act("certificate.list", t) as a:
        q = select(DestructionCertificate).order_by(col(DestructionCertificate.created_at),
                                                    col(DestructionCertificate.id))
        if eng_id is not None:
            q = q.where(col(DestructionCertificate.id).in_(
                select(CertificateEngagement.certificate_id).where(
                    CertificateEngagement.engagement_id == eng_id)))
        rows = list(a.s.exec(q).all())
        engs = _engagements(a.s, [c.id for c in rows])
        return [_info(c, engs[c.id]) for c in rows]


def _find(a: Act, ref: str, eng_id: str | None) -> DestructionCertificate:
    cert = by_id_prefix(a.s, DestructionCertificate, ref, "certificate",
                        hint="`vault certificates` lists them")
    if eng_id is not None and a.s.get(CertificateEngagement, (cert.id, eng_id)) is None:
        raise NotFound(f"certificate {cert.id} covers no item of this engagement")
    return cert


def _key(s: Session, cert: DestructionCertificate) -> SigningKey:
    key = s.get(SigningKey, cert.key_id)
    if key is None:
        raise IntegrityError(f"certificate {cert.id}: its signing key {cert.key_id[:16]}… is "
                             "not in this vault", hint="restore the database from a backup")
    return key


def certificate(cx: Context, ref: str, engagement: str | None = None) -> dict[str, Any]:
    """One certificate: its signed body (for an engagement's lead or QA, only that
    engagement's items), its signing key and whether the signature verifies."""
    t, eng_id = _scope(cx, engagement, f"certificate/{ref}")
    with cx.act("certificate.show", t) as a:
        cert = _find(a, ref, eng_id)
        key = _key(a.s, cert)
        doc = json.loads(cert.body)
        if eng_id is not None:
            mine = [i for i in doc["items"] if i.get("engagement_id") == eng_id]
            doc["items_of_other_engagements"] = len(doc["items"]) - len(mine)
            doc["items"] = mine
            doc["remains"]["pending_purge"] = [p for p in doc["remains"]["pending_purge"]
                                               if p.get("engagement_id") == eng_id]
            doc["engagements_destroyed"] = [e for e in doc["engagements_destroyed"]
                                            if e == eng_id]
        engs = _engagements(a.s, [cert.id])[cert.id]
        return {"certificate": _info(cert, engs).as_dict(), "body": doc,
                "signature": cert.signature, "signature_valid": certs.check(cert,
                                                                            key.public_pem),
                "complete": eng_id is None}


def export_certificate(cx: Context, ref: str, dest: Path) -> dict[str, Any]:
    """Write ``CERT-<id>.json`` (exactly the signed bytes), ``CERT-<id>.json.sig`` (the raw
    64-byte Ed25519 signature) and ``firm.pem`` (the public key that made it) into `dest`,
    each atomically; refuses to overwrite a different file."""
    with cx.act("certificate.export", f"certificate/{ref}") as a:
        if not dest.is_dir():
            raise InvalidInput(f"not a directory: {dest}", hint="create it first")
        cert = _find(a, ref, None)
        a.obj = f"certificate/{cert.id}"
        key = _key(a.s, cert)
        if not certs.check(cert, key.public_pem):
            raise IntegrityError(f"certificate {cert.id}: its signature does not verify (the "
                                 "stored record was altered)",
                                 hint="restore the database from a backup")
        files = {f"CERT-{cert.id}.json": certs.signed_bytes(cert),
                 f"CERT-{cert.id}.json.sig": base64.b64decode(cert.signature),
                 "firm.pem": key.public_pem.encode("ascii")}
        for name, data in files.items():
            path = dest / name
            if path.exists() and path.read_bytes() != data:
                raise InvalidInput(f"{path} exists and differs",
                                   hint="export into an empty directory")
        written: list[Path] = []
        try:
            for name, data in files.items():
                if not (dest / name).exists():
                    written.append(dest / name)
                _write(dest / name, data)
        except OSError as exc:  # a full disk or a read-only directory: leave nothing half-done
            for path in written:
                path.unlink(missing_ok=True)
            raise StorageError(f"could not write into {dest}: {exc.strerror}") from None
        a.detail = {"key_id": cert.key_id}
        return {"id": cert.id, "files": [str(dest / n) for n in files], "key_id": cert.key_id}


def _write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".vault-cert-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
