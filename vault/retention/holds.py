"""Legal holds: which items no one may destroy now, and the store's legal-hold flag on them.

A hold covers one item (``item_id``) or a whole engagement (``item_id`` None, which covers every
item of it, also items ingested later). Several holds may cover one item; it is held while any
of them is unreleased. These functions are the one answer to "is it held?" for the destruction
job, retention status, and the store's legal-hold flag (:func:`mirror`), which is set on every
covered payload while any unreleased hold covers it.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage_backends import ObjectStore
from vault.metadata.models import Engagement, EvidenceItem, LegalHold
from vault.retention.protect import enforces_retention


def _active() -> sa.ColumnElement[bool]:
    return col(LegalHold.released_at).is_(None)


def _covers(item: EvidenceItem) -> sa.ColumnElement[bool]:
    return sa.and_(_active(), col(LegalHold.engagement_id) == item.engagement_id,
                   sa.or_(col(LegalHold.item_id) == item.id, col(LegalHold.item_id).is_(None)))


def lock_engagement(s: Session, engagement_id: str) -> Engagement | None:
    """Lock the engagement's row until the transaction ends (PostgreSQL: FOR NO KEY UPDATE;
    SQLite serialises writers anyway) and read it as committed. Placing a hold and the
    destruction's last check both take it, so neither misses the other's commit; changing the
    retention years or the completion date updates the row, which waits for it likewise."""
    return s.exec(select(Engagement).where(Engagement.id == engagement_id)
                  .with_for_update(key_share=True)
                  .execution_options(populate_existing=True)).first()


def held_item_ids(s: Session, engagement_id: str | None = None) -> set[str]:
    """Ids of the items covered by an unreleased hold (item-level or engagement-level), in one
    engagement or in all: two queries, no per-item round trip."""
    direct = select(LegalHold.item_id).where(_active(), col(LegalHold.item_id).is_not(None))
    whole = select(LegalHold.engagement_id).where(_active(), col(LegalHold.item_id).is_(None))
    by_eng = select(EvidenceItem.id).where(col(EvidenceItem.engagement_id).in_(whole))
    if engagement_id is not None:
        direct = direct.where(LegalHold.engagement_id == engagement_id)
        by_eng = by_eng.where(EvidenceItem.engagement_id == engagement_id)
    ids = {i for i in s.exec(direct).all() if i is not None}
    ids.update(s.exec(by_eng).all())
    return ids


def covering_holds(s: Session, item: EvidenceItem) -> list[LegalHold]:
    """The unreleased holds that cover this item, oldest first."""
    q = select(LegalHold).where(_covers(item)).order_by(col(LegalHold.placed_at),
                                                        col(LegalHold.id))
    return list(s.exec(q).all())


def is_held(s: Session, item: EvidenceItem) -> bool:
    """Whether any unreleased hold covers the item (on it, or on its engagement)."""
    return s.exec(select(LegalHold.id).where(_covers(item)).limit(1)).first() is not None


def mirror(store: ObjectStore, object_keys: Iterable[str], on: bool) -> list[str]:
    """Set (`on`) or clear the store's legal-hold flag on each payload (every version of it on
    S3); the keys it could not change, each with the store's reason. A store without
    retention (an S3 bucket without Object Lock) has no flag: nothing to do there. A payload
    already gone has nothing to hold (`vault doctor` reports missing payloads)."""
    if not enforces_retention(store):
        return []
    failed = []
    for key in object_keys:
        try:
            store.set_legal_hold(key, on)
        except FileNotFoundError:
            continue
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            failed.append(f"{key}: {reason or type(exc).__name__}")
    return failed
