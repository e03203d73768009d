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
