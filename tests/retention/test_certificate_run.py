"""End to end: a real destruction run's certificate verifies with stock openssl and names
what the run did; after the run the job prunes the audit log's old events, and the log, its
tree heads and the certificate still verify."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from tests.conftest import StepClock
from tests.retention.destroykit import open_firm, scenario
from vault.metadata.models import AuditEvent, EvidenceItem


def test_a_run_certificate_verifies_and_the_pruned_log_still_does(tmp_path: Path) -> None:
    clock = StepClock()
    f = open_firm(tmp_path / "home", clock)
    at = scenario(f)
    clock.now = at
    report = f.job.destroy_due()
    assert report.items and report.certificate_id
    out = tmp_path / "auditor"
    out.mkdir()
    f.job.export_certificate(report.certificate_id, out)
    cert = f"CERT-{report.certificate_id}.json"
    r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "firm.pem",
                        "-rawin", "-in", cert, "-sigfile", cert + ".sig"], cwd=out,
                       capture_output=True, text=True)
    assert r.returncode == 0 and "Signature Verified Successfully" in r.stdout, r
    doc = json.loads((out / cert).read_bytes())
    assert sorted(i["id"] for i in doc["items"]) == sorted(i.id for i in report.items)
    assert doc["sanitized_by"]["job"] == report.job_name
    assert doc["run"]["id"] == report.run_id
    assert {p["id"] for p in doc["remains"]["pending_purge"]} == {p.id for p in report.pending}

    # the run pruned the events three years old already; a year on, the job prunes again
    clock.advance(timedelta(days=365))
    done = f.job.audit_prune()
    with Session(f.admin.engine) as s:
        pruned = len(s.exec(select(AuditEvent.seq).where(AuditEvent.pruned == True)).all())  # noqa: E712
    assert pruned > 0
    with Session(f.admin.engine) as s:
        live = set(s.exec(select(EvidenceItem.id).where(
            EvidenceItem.state.in_(("active", "quarantined")))).all())  # type: ignore[attr-defined]
        kept_old = {e.object for e in s.exec(select(AuditEvent).where(
            AuditEvent.pruned == False, AuditEvent.at < done.before)).all()}  # noqa: E712
    destroyed = {i.id for i in report.items}
    assert kept_old and kept_old <= live  # only what is about items whose content exists
    assert not kept_old & destroyed  # nothing old about a destroyed item is kept
    f.admin.audit_checkpoint()
    rep = f.admin.audit_verify()
    assert rep.ok, rep.problems
    assert rep.pruned == pruned
    # the certificate outlives what it describes, and still verifies
    assert f.admin.certificate(report.certificate_id)["signature_valid"] is True
