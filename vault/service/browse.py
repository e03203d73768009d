"""What the terminal UI needs besides the core verbs: the actor's roles, counting and paging
the evidence list, coverage, custody, versions, an in-memory preview with card numbers masked,
and interview notes."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from datetime import date
from typing import Any, BinaryIO, cast

from sqlmodel import col, func, select

from vault import catalogue
from vault.errors import InvalidInput, NotFound
from vault.evidence import retrieve
from vault.evidence.lifecycle import VISIBLE, ItemState
from vault.evidence.preview import Head, decode_preview, interview_markdown, mask_cards, ocr_preview
from vault.evidence.search import conditions, search_table
from vault.evidence.sources import Source
from vault.metadata.models import AuditEvent, EvidenceItem, Flag, ItemMember, ItemRequirement
from vault.pii.containers import PART_JOIN as MEMBER_WHERE
from vault.pii.fields import refuse_card_data
from vault.service.context import Context
from vault.service.evidence import check_filter, ingest
from vault.service.views import (
    IngestOptions,
    IngestResult,
    ItemFilter,
    ItemPage,
    ItemView,
    item_view,
    item_views,
)

PREVIEW_BYTES = 256 * 1024

SEARCH_CAP = 10_000
"""A text search counts its matches up to this many (the evidence screen shows "10,000+")."""


def roles_in(cx: Context, ref: str | None = None) -> set[str]:
    """The actor's roles: firm roles, plus their role in engagement `ref` if given."""
    with cx.session() as s:
        if ref is None:
            return cx.roles(s, None)
        eng = cx.find_engagement(s, ref)
    with cx.act("engagement.view", eng) as a:
        return cx.roles(a.s, eng.id)


def count_items(cx: Context, ref: str, flt: ItemFilter | None = None) -> int:
    """How many items `list_items(ref, flt)` would list without limit/offset."""
    flt = flt or ItemFilter()
    with cx.session() as s:
        eng = cx.find_engagement(s, ref)
    check_filter(eng, flt)
    with cx.act("item.list", eng) as a:
        table = search_table(a.s, flt.text)
        q = select(func.count()).select_from(table).where(*conditions(table, eng, flt))
        return int(a.s.exec(q).one())


def item_page(cx: Context, ref: str, flt: ItemFilter | None = None, *, size: int = 200,
              cap: int | None = None) -> ItemPage:
    """The page of `list_items(ref, flt)` (same filter, same order) that starts at
    `flt.offset`, moved back to the last page when that is past the end, with the number of
    matches: exact, or, when `cap` is given and more than `cap` match, `cap + 1` and
    `exact=False` (counting stops there, which keeps a broad search fast)."""
    flt = flt or ItemFilter()
    with cx.session() as s:
        eng = cx.find_engagement(s, ref)
    check_filter(eng, flt)
    with cx.act("item.list", eng) as a:
        s = a.s
        table = search_table(s, flt.text)
        where = conditions(table, eng, flt)
        order = (table.c.ingested_at, table.c.item_id)
        ids = select(table.c.item_id).where(*where).order_by(*order)
        offset = max(0, flt.offset)
        # The page first: when it is not full, it ends the list and gives the count.
        # Otherwise the matches are counted in SQL, up to cap + 1. (Fetching the first
        # cap + 1 ids instead, 10,001 strings for a broad search, set off full garbage
        # collections of 60-110 ms in the TUI.)
        page: list[str] = list(s.exec(ids.offset(offset).limit(size)).all())
        if len(page) < size and (page or offset == 0):
            total = offset + len(page)
        else:
            matches = select(table.c.item_id).where(*where)
            if cap is not None:
                matches = matches.limit(cap + 1)
            total = int(s.exec(select(func.count()).select_from(matches.subquery())).one())
        exact = cap is None or total <= cap
        if not exact:
            total = cap + 1  # type: ignore[operator]
        elif offset > 0 and not page:  # past the end: the last page instead
            offset = max(0, (total - 1) // size * size)
            page = list(s.exec(ids.offset(offset).limit(size)).all())
        rows = {i.id: i for i in s.exec(select(EvidenceItem).where(
            col(EvidenceItem.id).in_(page))).all()}
        items = [rows[i] for i in page if i in rows]
        return ItemPage(offset, total, exact, item_views(s, items, eng))


def coverage(cx: Context, ref: str) -> list[tuple[str, str, int]]:
    """Every requirement of the engagement's catalogue with its count of visible items."""
    with cx.session() as s:
        eng = cx.find_engagement(s, ref)
    with cx.act("item.list", eng) as a:
        rows = a.s.exec(
            select(ItemRequirement.requirement_id, func.count())
            .join(EvidenceItem, col(EvidenceItem.id) == col(ItemRequirement.item_id))
            .where(EvidenceItem.engagement_id == eng.id, col(EvidenceItem.state).in_(VISIBLE))
            .group_by(col(ItemRequirement.requirement_id))).all()
    counts = {r: int(n) for r, n in rows}
    return [(r.id, r.title, counts.get(r.id, 0))
            for r in catalogue.load(eng.standard).requirements]


def custody(cx: Context, item_ref: str) -> list[AuditEvent]:
    """The item's chain of custody: every audit event about it, oldest first."""
    with cx.session() as s:
        it, eng = cx.find_item(s, item_ref)
    with cx.act("item.list", it, eng) as a:
        return list(a.s.exec(select(AuditEvent).where(
            AuditEvent.engagement_id == it.engagement_id,
            AuditEvent.object == it.id).order_by(col(AuditEvent.seq))).all())


def versions(cx: Context, item_ref: str) -> list[ItemView]:
    """The item's version chain through `supersedes`, oldest first (the item included)."""
    with cx.session() as s:
        it, eng = cx.find_item(s, item_ref)
    with cx.act("item.list", it, eng) as a:
        s = a.s
        chain = [it]
        seen = {it.id}
        while chain[0].supersedes_id and len(chain) < 1000:
            older = s.get(EvidenceItem, chain[0].supersedes_id)
            if older is None or older.id in seen or older.state == ItemState.PENDING:
                break
            chain.insert(0, older)
            seen.add(older.id)
        while len(chain) < 1000:
            newer = s.exec(select(EvidenceItem).where(
                EvidenceItem.supersedes_id == chain[-1].id,
                EvidenceItem.state != ItemState.PENDING)).first()
            if newer is None or newer.id in seen:
                break
            chain.append(newer)
            seen.add(newer.id)
        return [item_view(s, i, eng) for i in chain]


def item_members(cx: Context, item_ref: str) -> list[dict[str, Any]]:
    """A container item's members as the scan met them at ingest (path, size, why one was not
    read), each with its flags: how many and how many still open."""
    with cx.session() as s:
        it, eng = cx.find_item(s, item_ref)
    with cx.act("item.list", it, eng) as a:
        rows = a.s.exec(select(ItemMember).where(ItemMember.item_id == it.id)
                        .order_by(col(ItemMember.seq))).all()
        flags: dict[str, list[str]] = {}
        for member, state in a.s.exec(select(Flag.member, Flag.state).where(
                Flag.item_id == it.id, col(Flag.member).is_not(None))).all():
            top = (member or "").split(MEMBER_WHERE, 1)[0]
            flags.setdefault(top, []).append(state)
    return [{"seq": m.seq, "path": m.path, "size": m.size, "note": m.note,
             "flags": len(flags.get(m.path, [])),
             "open_flags": sum(1 for st in flags.get(m.path, []) if st == "open")}
            for m in rows]


def preview(cx: Context, item_ref: str, max_bytes: int = PREVIEW_BYTES) -> str:
    """The first `max_bytes` of the item as text, card numbers masked. Decrypted in memory
    only, and only shown once the whole payload authenticated; audited as a read."""
    from vault.pii.ocr import IMAGE_MIMES, MAX_IMAGE_BYTES
    with cx.session() as s:
        it, eng = cx.find_item(s, item_ref)
    with cx.act("item.read", it, eng) as a:
        if it.state == ItemState.SHREDDED:
            a.record = False
            return ("no preview: this original was redacted and its content destroyed "
                    "(crypto-shredded); open the newer version")
        key = cx.engagement_identity(a.s, it.key_id)
        a.s.commit()
        image = (it.detected_mime or "") in IMAGE_MIMES
        if image and it.size > MAX_IMAGE_BYTES:
            a.record = False
            return f"no preview: image larger than {MAX_IMAGE_BYTES >> 20} MiB"
        head = Head(MAX_IMAGE_BYTES if image else max_bytes)
        retrieve.decrypt_to(it, cx.store, key, cast(BinaryIO, head))
        a.detail = {"preview": True}
    if image:
        return ocr_preview(head.buf.getvalue())
    text = decode_preview(head.buf.getvalue())
    if text is None:
        return f"no text preview: binary content ({it.detected_mime or 'unknown type'})"
    text = mask_cards(text)
    if head.total > max_bytes:
        text += f"\n… (first {max_bytes} of {head.total} bytes shown)"
    return text


def member_preview(cx: Context, item_ref: str, seq: int, max_bytes: int = PREVIEW_BYTES) -> str:
    """The first `max_bytes` of one member of a container item (`seq`: its place in
    :func:`item_members`) as text, card numbers masked. The member is read out of the item
    decrypted in memory, through the scan's container walker and limits, and shown only once
    the whole payload authenticated; audited as a read (``item.read-quarantined`` for a
    quarantined item: its content holds card data no reviewer has resolved)."""
    from vault.evidence.member_read import member_head
    with cx.session() as s:
        it, eng = cx.find_item(s, item_ref)
    held = it.state == ItemState.QUARANTINED
    with cx.act("item.read-quarantined" if held else "item.read", it, eng) as a:
        row = a.s.get(ItemMember, (it.id, seq))
        if row is None:
            raise NotFound(f"item {it.id[:12]} has no member number {seq}",
                           hint=f"`vault show {it.id[:12]}` lists its members")
        if it.state == ItemState.SHREDDED:
            a.record = False
            return ("no preview: this original was redacted and its content destroyed "
                    "(crypto-shredded); open the newer version")
        if row.note is not None:  # never read at ingest: nothing to show
            a.record = False
            return f"no preview: {row.note}"
        nth = int(a.s.exec(select(func.count()).select_from(ItemMember).where(
            ItemMember.item_id == it.id, ItemMember.path == row.path,
            col(ItemMember.seq) < seq)).one())
        key = cx.engagement_identity(a.s, it.key_id)
        scanner = cx.scanner(a.s, eng, cards_only=True)
        a.detail = {"preview": True, "member": row.path}
        a.s.commit()  # nothing is held open while the payload is read
        found = member_head(it, cx.store, key, scanner, row.path, max_bytes, nth=nth)
    if found is None:
        return "no preview: the member was not found in the container again"
    if not found.data and found.failure is not None:
        return f"no preview: the member cannot be read ({found.failure})"
    text = decode_preview(found.data)
    if text is None:
        return f"no text preview: binary content ({found.mime or 'unknown type'})"
    text = mask_cards(text)
    if found.failure is not None:
        text += f"\n… (the member could not be read further: {found.failure})"
    elif found.more:
        text += f"\n… (first {max_bytes} bytes shown)"
    return text


def add_interview_note(cx: Context, ref: str, interviewee_role: str, on_date: date,
                       requirements: Iterable[str], text: str) -> IngestResult:
    """An interview note, stored as `interview_note` evidence (a Markdown document)."""
    role = " ".join(interviewee_role.split())
    if not role or len(role) > 200:
        raise InvalidInput("the interviewee role is 1-200 characters")
    refuse_card_data(role, "interviewee role")
    if not text.strip():
        raise InvalidInput("the interview note is empty")
    reqs = tuple(dict.fromkeys(r.strip() for r in requirements if r.strip()))
    body = interview_markdown(role, on_date, reqs, text).encode("utf-8")
    slug = re.sub(r"[^a-z0-9]+", "-", role.lower()).strip("-")[:60] or "interview"
    src = Source(name=f"interview-{on_date.isoformat()}-{slug}.md", size=len(body),
                 open=lambda: io.BytesIO(body))
    result = ingest(cx, ref, [src], IngestOptions(
        kind="interview_note", requirements=reqs,
        description=f"interview with {role} on {on_date.isoformat()}"))[0]
    if isinstance(result, Exception):
        raise result
    return result
