"""Engagement verbs: create (with its own key), list, show, complete."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import col, func, select

from vault import catalogue
from vault.age import X25519Identity
from vault.errors import AlreadyExists, InvalidInput
from vault.evidence.lifecycle import VISIBLE
from vault.metadata.models import Engagement, EngagementKey, EvidenceItem, Member
from vault.people.grants import key_grant
from vault.retention.protect import protect
from vault.service.context import Context, looks_like_an_id
from vault.service.evidence import typed_text
from vault.service.views import EngagementView


def create_engagement(cx: Context, name: str, *, client: str, standard: str,
                      period_start: date | None = None,
                      period_end: date | None = None) -> Engagement:
    """A new engagement with its own key, granted to its creator as lead."""
    name = name.strip()
    if not name or any(c in name for c in "\n\r\t") or len(name) > 200:
        raise InvalidInput("an engagement name is 1-200 characters on one line")
    if looks_like_an_id(name):
        raise InvalidInput(f"an engagement name may not look like an id: {name!r} is only hex "
                           "digits", hint="add a word, e.g. the client's name and the year")
    if standard not in catalogue.STANDARDS:
        raise InvalidInput(f"unknown standard {standard!r}",
                           hint="one of: " + ", ".join(catalogue.STANDARDS))
    if period_start and period_end and period_end < period_start:
        raise InvalidInput("the assessment period ends before it starts")
    typed_text(name, "engagement name", 200)
    typed_text(client, "client", 500)
    with cx.act("engagement.create", name) as a:
        s = a.s
        if s.exec(select(Engagement).where(Engagement.name == name)).first():
            raise AlreadyExists(f"an engagement named {name!r} exists already")
        now = cx.clock()
        eng = Engagement(id=cx.new_id(), name=name, client=client, standard=standard,
                         period_start=period_start, period_end=period_end,
                         created_at=now, created_by=cx.user.id)
        ident = X25519Identity.generate(cx.rng)
        key = EngagementKey(id=cx.new_id(), engagement_id=eng.id,
                            recipient=str(ident.recipient), created_at=now)
        s.add(eng)
        s.flush()
        s.add(key)
        s.flush()
        s.add(Member(engagement_id=eng.id, user_id=cx.user.id, role="lead",
                     added_at=now, added_by=cx.user.id))
        s.add(key_grant(ident, key.id, cx.user, now))
        a.obj, a.engagement_id = eng.id, eng.id
        try:
            a.commit()
        except sa.exc.IntegrityError:
            raise AlreadyExists(f"an engagement named {name!r} exists already") from None
        return eng


def list_engagements(cx: Context) -> list[EngagementView]:
    """Engagements the actor is a member of (all of them for an administrator)."""
    with cx.session() as s:
        q = select(Engagement).order_by(Engagement.name)
        if cx.user.firm_role != "admin":
            q = q.join(Member).where(Member.user_id == cx.user.id)
        engs = s.exec(q).all()
        counts = dict(s.exec(
            select(EvidenceItem.engagement_id, func.count())
            .where(col(EvidenceItem.state).in_(VISIBLE))
            .group_by(EvidenceItem.engagement_id)).all())
        return [(e, counts.get(e.id, 0)) for e in engs]


def engagement(cx: Context, ref: str) -> EngagementView:
    with cx.session() as s:
        e = cx.find_engagement(s, ref)
    with cx.act("engagement.view", e) as a:
        n = a.s.exec(select(func.count()).select_from(EvidenceItem).where(
            EvidenceItem.engagement_id == e.id, col(EvidenceItem.state).in_(VISIBLE))).one()
        return e, n


def complete_engagement(cx: Context, ref: str, on: date) -> Engagement:
    """Set the completion date; it may move later, never earlier (retention never shortens)."""
    with cx.session() as s:
        e = cx.find_engagement(s, ref)
    with cx.act("engagement.complete", e) as a:
        if e.period_start and on < e.period_start:
            raise InvalidInput("the completion date is before the assessment period starts")
        if e.completed_on and on < e.completed_on:
            raise InvalidInput(
                f"engagement was completed on {e.completed_on}: the date may only move later",
                hint="an earlier date would shorten the evidence's retention")
        e.completed_on = on
        a.s.add(e)
        a.detail = {"completed_on": on.isoformat()}
        a.commit()
        items = a.s.exec(select(EvidenceItem).where(
            EvidenceItem.engagement_id == e.id, col(EvidenceItem.state).in_(VISIBLE))).all()
    for item in items:  # retention moves with the completion date (extend only)
        protect(cx.store, item, on, e.retention_years)
    return e
