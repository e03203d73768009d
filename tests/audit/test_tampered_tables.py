"""Audit tables left inconsistent by tampering: `audit verify` reports, never crashes."""

from __future__ import annotations

import pytest

from vault.service import Vault

CASES = {
    "an event's time edited into text": ("UPDATE audit_event SET at='garbage' WHERE seq=2",
                                         "1. chain: event 2 (seq 2) does not match its hash"),
    "an event's time emptied": ("UPDATE audit_event SET at='' WHERE seq=2",
                                "1. chain: event 2 (seq 2) does not match its hash"),
    "the head deleted": ("DELETE FROM audit_head", "4. head: the log records 0 events"),
    "the head's size edited": ("UPDATE audit_head SET size=-5",
                               "4. head: the log records -5 events"),
    "a signature garbled": ("UPDATE audit_checkpoint SET signature='!!!'",
                            "3. signatures: tree head of size 1 has a bad signature"),
    "the public key garbled": ("UPDATE signing_key SET public_pem='xx'",
                               "3. signatures: tree head of size 1 has a bad signature"),
    "a tree head's time garbled": ("UPDATE audit_checkpoint SET at='garbage'",
                                   "3. signatures: tree head of size 1 has a bad signature"),
    "the tree's nodes deleted": ("DELETE FROM audit_node",
                                 "5. recording: this check could not be logged (the audit log "
                                 "is damaged: its tree node"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_audit_verify_reports_a_tampered_table(vault: Vault, case: str) -> None:
    vault.create_engagement("acme", client="c", standard="pci-dss-4.0.1")
    vault.audit_checkpoint()
    vault.create_engagement("globex", client="c", standard="pci-dss-4.0.1")
    sql, expected = CASES[case]
    with vault.engine.begin() as c:  # an attacker with the database file drops the guards
        for trigger in c.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = "
                                         "'trigger' AND name LIKE 'audit%'").scalars().all():
            c.exec_driver_sql(f"DROP TRIGGER {trigger}")
        c.exec_driver_sql(sql)
    report = vault.audit_verify()
    assert not report.ok
    assert any(p.startswith(expected) for p in report.problems), report.problems
