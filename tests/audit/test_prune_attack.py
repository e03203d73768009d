"""Attacks on audit pruning found in review: each test failed before its fix."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from tests.conftest import StepClock
from vault.metadata.models import AuditEvent
from vault.service import Vault


def test_an_engagement_under_hold_keeps_its_events(vault: Vault, clock: StepClock) -> None:
    # a legal hold on a whole engagement outlasts three years: the hold's own event (who placed
    # it, when) and the engagement's other events are about held evidence and stay
    held = vault.create_engagement("held", client="c", standard="pci-dss-4.0.1")
    vault.create_engagement("free", client="c", standard="pci-dss-4.0.1")
    vault.place_hold("held", "litigation: case 12")
    clock.advance(timedelta(days=3 * 366 + 1))
    done = vault.audit_prune()
    assert done.events > 0                                   # the free engagement's went
    with Session(vault.engine) as s:
        kept = [(e.action, e.engagement_id) for e in s.exec(select(AuditEvent)).all()
                if not e.pruned]
    assert ("hold.place", held.id) in kept
    assert ("engagement.create", held.id) in kept


def test_a_redacted_original_keeps_its_events_while_its_redacted_version_lives(
        vault: Vault, clock: StepClock) -> None:
    # the redacted version's custody starts with its original (ingest, flag decision,
    # shred): an export's audit excerpt proves it; those events stay while the version lives
    from tests.conftest import ingest_one
    vault.create_engagement("e", client="c", standard="pci-dss-4.0.1")
    orig = ingest_one(vault, "e", "auth.log", b"ok\nauth 4111111111111111 approved\n"
                      ).view.item
    [flag] = vault.flags("e", item=orig.id)
    vault.resolve_flag(flag.flag.id, "redact", "card number in an authorisation log")
    vault.create_engagement("old", client="c", standard="pci-dss-4.0.1")
    clock.advance(timedelta(days=3 * 366 + 1))
    assert vault.audit_prune().events > 0                    # "old"'s creation went
    with Session(vault.engine) as s:
        kept = {(e.action, e.object) for e in s.exec(select(AuditEvent)).all()
                if not e.pruned}
    assert ("item.ingest", orig.id) in kept and ("item.shred", orig.id) in kept
