"""Retention verbs: an engagement's retention period (longer only), retention status (each
item's destruction date, days left, holds), and legal holds (place, release, list), mirrored to
the store's legal-hold flag.

Who may: setting the retention is for the engagement's leads; the status and the holds are
metadata, for the engagement's team, administrators and the destruction job (who see item ids,
dates and holds, never a file name of an engagement they are not members of); placing a hold is
for leads, QA reviewers and administrators, releasing one for administrators.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from vault.errors import InvalidInput, NotFound, StorageError
from vault.evidence.lifecycle import VISIBLE, ItemState
from vault.metadata.lookup import by_id_prefix
from vault.metadata.models import Engagement, EvidenceItem, LegalHold, Member, User
from vault.retention.dates import (
    MAX_RETENTION_YEARS,
    NOT_DUE,
    RETENTION_YEARS,
    days_left,
    due_at,
)
from vault.retention.holds import held_item_ids, lock_engagement, mirror
from vault.retention.protect import protect
from vault.service.context import Context, Target
from vault.service.evidence import typed_text

FIRM_WIDE = ("admin", "destruction-job")
"""Firm roles that see every engagement's retention and holds (metadata only)."""


@dataclass(frozen=True)
class RetentionRow:
    """One item's retention as the interfaces show it."""

    item_id: str
    engagement_id: str
    engagement: str
    name: str | None
    """The file name, only for members of its engagement (None for the admin and the job)."""
    state: str
    ingested_at: datetime
    completed_on: str | None
    years: int
    due: datetime | None
    """None: the engagement has no completion date, so the item is not due (:data:`NOT_DUE`)."""
    days_left: int | None
    holds: tuple[str, ...]
    """Ids of the unreleased holds covering the item (on it or on its engagement)."""

    @property
    def note(self) -> str:
        if self.due is None:
            return NOT_DUE
        if self.holds:
            return "held" if (self.days_left or 0) > 0 else "due, but held"
        return "due" if (self.days_left or 0) <= 0 else ""

    def as_dict(self) -> dict[str, Any]:
        return {"item": self.item_id, "engagement": self.engagement,
                "engagement_id": self.engagement_id, "name": self.name, "state": self.state,
                "ingested_at": self.ingested_at.isoformat(), "completed_on": self.completed_on,
                "retention_years": self.years,
                "destruction_date": self.due.date().isoformat() if self.due else None,
                "days_left": self.days_left, "held": bool(self.holds),
                "holds": list(self.holds), "note": self.note}


@dataclass(frozen=True)
class HoldView:
    hold: LegalHold
    engagement: str
    placed_by: str
    released_by: str | None
    store_failures: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.hold.released_at is None

    def as_dict(self) -> dict[str, Any]:
        h = self.hold
        return {"id": h.id, "engagement": self.engagement, "engagement_id": h.engagement_id,
                "item": h.item_id, "scope": "item" if h.item_id else "engagement",
                "reason": h.reason, "placed_by": self.placed_by,
                "placed_at": h.placed_at.isoformat(), "active": self.active,
                "released_by": self.released_by,
                "released_at": h.released_at.isoformat() if h.released_at else None,
                "release_reason": h.release_reason}


# -- the retention period ----------------------------------------------------------------------

def set_retention(cx: Context, ref: str, years: int) -> Engagement:
    """Keep the engagement's evidence `years` after max(completion, ingest): longer only, and
    the store's retention of every payload is extended to match."""
    if not RETENTION_YEARS <= years <= MAX_RETENTION_YEARS:
        raise InvalidInput(f"retention is {RETENTION_YEARS} to {MAX_RETENTION_YEARS} years, "
                           f"not {years}")
    with cx.session() as s:
        e = cx.find_engagement(s, ref)
    with cx.act("engagement.retention", e) as a:
        e = a.s.get(Engagement, e.id) or e
        if years < e.retention_years:
            raise InvalidInput(
                f"engagement {e.name!r} keeps its evidence {e.retention_years} years: "
                f"retention may only be made longer, not {years}",
                hint="a shorter retention would destroy evidence earlier than promised")
        a.detail = {"from": e.retention_years, "to": years}
        e.retention_years = years
        a.s.add(e)
        a.commit()
        items = a.s.exec(select(EvidenceItem).where(
            EvidenceItem.engagement_id == e.id, col(EvidenceItem.state).in_(VISIBLE))).all()
    try:
        for item in items:  # the store holds each payload until the new date (extend only)
            protect(cx.store, item, e.completed_on, years)
    except StorageError as exc:
        raise StorageError(f"retention of {e.name!r} is now {years} years, but {exc.message}",
                           hint="`vault doctor --repair` extends it once the store answers"
                           ) from None
    return e


# -- retention status --------------------------------------------------------------------------

def _visible_engagements(cx: Context, s: Session, ref: str | None
                         ) -> tuple[list[Engagement], set[str]]:
    """The engagements a status or hold list covers, and those the actor is a member of."""
    mine = set(s.exec(select(Member.engagement_id).where(Member.user_id == cx.user.id)).all())
    if ref is not None:
        return [cx.find_engagement(s, ref)], mine
    q = select(Engagement).order_by(Engagement.name)
    if cx.user.firm_role not in FIRM_WIDE:
        q = q.where(col(Engagement.id).in_(mine))
    return list(s.exec(q).all()), mine


def _check(cx: Context, s: Session, ref: str | None) -> tuple[list[Engagement], set[str]]:
    engs, mine = _visible_engagements(cx, s, ref)
    s.commit()
    if ref is not None:
        with cx.act("retention.view", engs[0]):
            pass
    else:
        with cx.act("retention.overview", "retention"):
            pass
    return engs, mine


def retention_status(cx: Context, ref: str | None = None, *, upcoming: int | None = None
                     ) -> list[RetentionRow]:
    """Each item's destruction date, days left (by the vault's clock) and covering holds, in
    one engagement or in every engagement the actor may see; `upcoming`: only items due within
    that many days (or overdue). Soonest first; items never due (no completion date) last."""
    if upcoming is not None and upcoming < 0:
        raise InvalidInput("--upcoming is a number of days, 0 or more")
    with cx.session() as s:
        engs, mine = _check(cx, s, ref)
        by_id = {e.id: e for e in engs}
        if not by_id:
            return []
        items = s.execute(sa.select(  # the columns it shows, not the rows' age headers
            col(EvidenceItem.id), col(EvidenceItem.engagement_id),
            col(EvidenceItem.original_name), col(EvidenceItem.state),
            col(EvidenceItem.ingested_at)).where(
            col(EvidenceItem.engagement_id).in_(by_id), col(EvidenceItem.state).in_(VISIBLE))
        ).all()
        holds = s.exec(select(LegalHold.id, LegalHold.engagement_id, LegalHold.item_id).where(
            col(LegalHold.engagement_id).in_(by_id), col(LegalHold.released_at).is_(None))
            .order_by(col(LegalHold.placed_at), col(LegalHold.id))).all()
    on_item: dict[str, list[tuple[int, str]]] = {}   # (order placed, hold id)
    on_eng: dict[str, list[tuple[int, str]]] = {}
    for n, (hid, eid, iid) in enumerate(holds):
        (on_item.setdefault(iid, []) if iid else on_eng.setdefault(eid, [])).append((n, hid))
    now = cx.clock()
    rows = []
    for iid, eid, name, state, ingested_at in items:
        e = by_id[eid]
        due = due_at(e.completed_on, ingested_at, e.retention_years)
        left = days_left(due, now) if due is not None else None
        if upcoming is not None and (left is None or left > upcoming):
            continue
        rows.append(RetentionRow(
            item_id=iid, engagement_id=eid, engagement=e.name,
            name=name if eid in mine else None, state=state, ingested_at=ingested_at,
            completed_on=e.completed_on.isoformat() if e.completed_on else None,
            years=e.retention_years, due=due, days_left=left,
            holds=tuple(h for _, h in sorted(on_eng.get(eid, []) + on_item.get(iid, [])))))
    rows.sort(key=lambda r: (r.due is None, r.due or now, r.engagement, r.name or "",
                             r.item_id))
    return rows


# -- legal holds -------------------------------------------------------------------------------

def _hold_target(cx: Context, s: Session, ref: str) -> tuple[Engagement, EvidenceItem | None]:
    """What `vault hold add REF` means: an engagement (name or id) or an item (id)."""
    eng: Engagement | None = None
    try:
        eng = cx.find_engagement(s, ref)
    except NotFound:
        pass
    item: EvidenceItem | None = None
    key = ref.strip().lower()
    if len(key) >= 4 and all(c in "0123456789abcdef" for c in key):
        try:
            item, item_eng = cx.find_item(s, key)
        except NotFound:
            pass
    if eng is not None and item is not None:
        raise InvalidInput(f"{ref!r} names both an engagement and an item",
                           hint="give more characters of the id you mean")
    if item is not None:
        if item.state == ItemState.DESTROYED:
            raise InvalidInput(f"item {item.id[:12]} was destroyed: there is nothing to hold")
        return item_eng, item
    if eng is not None:
        if eng.destroyed_at is not None:
            raise InvalidInput(f"engagement {eng.name!r} was destroyed: there is nothing to "
                               "hold")
        return eng, None
    raise NotFound(f"no engagement or item {ref!r}",
                   hint="an engagement's name or id, or an item's id (`vault ls ENGAGEMENT`)")


def _reason(text: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput(f"{what} may not be empty", hint="say why, e.g. the matter's name")
    return typed_text(text, what, 2000) or text


def _view(s: Session, h: LegalHold, failures: list[str] | None = None) -> HoldView:
    eng = s.get(Engagement, h.engagement_id)
    placed = s.get(User, h.placed_by)
    released = s.get(User, h.released_by) if h.released_by else None
    return HoldView(h, eng.name if eng else h.engagement_id,
                    placed.name if placed else h.placed_by,
                    released.name if released else h.released_by, tuple(failures or ()))


def _covered_keys(s: Session, h: LegalHold) -> dict[str, str]:
    """Item id -> payload key of the items a hold covers."""
    q = select(EvidenceItem.id, EvidenceItem.object_key).where(
        EvidenceItem.engagement_id == h.engagement_id, col(EvidenceItem.state).in_(VISIBLE))
    if h.item_id is not None:
        q = q.where(EvidenceItem.id == h.item_id)
    return dict(s.exec(q).all())


def place_hold(cx: Context, ref: str, reason: str) -> HoldView:
    """A legal hold on an item or a whole engagement: nothing it covers is destroyed until an
    administrator releases it. The hold is recorded first (it is what stops the destruction
    job); then the store's legal-hold flag is set on every covered payload."""
    why = _reason(reason, "a hold's reason")
    with cx.session() as s:
        eng, item = _hold_target(cx, s, ref)
    with cx.act("hold.place", item if item is not None else eng, eng) as a:
        lock_engagement(a.s, eng.id)  # a destruction run's last check waits for this hold
        h = LegalHold(id=cx.new_id(), engagement_id=eng.id,
                      item_id=item.id if item is not None else None, reason=why,
                      placed_by=cx.user.id, placed_at=cx.clock())
        a.s.add(h)
        a.detail = {"hold": h.id, "scope": "item" if item is not None else "engagement"}
        a.commit()
        keys = _covered_keys(a.s, h)
        failed = mirror(cx.store, keys.values(), True)
        view = _view(a.s, h, failed)
    if failed:
        raise StorageError(f"hold {h.id[:12]} is placed, but the store's legal-hold flag could "
                           f"not be set on {len(failed)} payload(s): {failed[0]}",
                           hint="the vault already refuses to destroy what it covers; "
                                "`vault doctor --repair` sets the flag once the store answers")
    return view


def release_hold(cx: Context, ref: str, reason: str) -> HoldView:
    """Release a hold (administrators). The store's flag is cleared on each payload it covered
    that no other unreleased hold covers."""
    why = _reason(reason, "a release's reason")
    with cx.session() as s:
        h = by_id_prefix(s, LegalHold, ref, "hold", hint="`vault holds` lists them")
        eng = s.get(Engagement, h.engagement_id)
    t = Target(h.id, h.engagement_id, eng.name if eng else None)
    with cx.act("hold.release", t) as a:
        h = a.s.get(LegalHold, h.id) or h
        if h.released_at is not None:
            raise InvalidInput(f"hold {h.id[:12]} was released already "
                               f"({h.released_at.date().isoformat()})")
        h.released_at, h.released_by, h.release_reason = cx.clock(), cx.user.id, why
        a.s.add(h)
        a.detail = {"hold": h.id, "scope": "item" if h.item_id else "engagement"}
        a.commit()
        still = held_item_ids(a.s, h.engagement_id)
        keys = [k for iid, k in _covered_keys(a.s, h).items() if iid not in still]
        failed = mirror(cx.store, keys, False)
        view = _view(a.s, h, failed)
    if failed:
        raise StorageError(f"hold {h.id[:12]} is released, but the store kept its legal-hold "
                           f"flag on {len(failed)} payload(s): {failed[0]}",
                           hint="nothing is destroyed early by it; the destruction job or "
                                "`vault doctor --repair` clears it once the store answers")
    return view


def list_holds(cx: Context, ref: str | None = None, *, include_released: bool = False
               ) -> list[HoldView]:
    """The holds of one engagement, or of every engagement the actor may see; unreleased
    ones unless `include_released`. Newest first."""
    with cx.session() as s:
        engs, _ = _check(cx, s, ref)
        q = select(LegalHold).where(col(LegalHold.engagement_id).in_([e.id for e in engs]))
        if not include_released:
            q = q.where(col(LegalHold.released_at).is_(None))
        holds = s.exec(q.order_by(col(LegalHold.placed_at).desc(), col(LegalHold.id))).all()
        return [_view(s, h) for h in holds]
