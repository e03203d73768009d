"""What the terminal UI needs besides the core verbs: counting, coverage, custody, an in-memory
preview with card numbers masked, interview notes and the actor's roles (service mixin).

Every method checks the permission matrix through the facade, like the other mixins.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, BinaryIO, cast

from sqlmodel import col, func, select

from vault import catalogue, retrieve
from vault.errors import InvalidInput
from vault.facade import Facade
from vault.models import AuditEvent, EvidenceItem, ItemRequirement
from vault.search import VISIBLE_STATES, conditions, search_table
from vault.sources import Source

if TYPE_CHECKING:
    from vault.service import IngestResult, ItemFilter, ItemView

PREVIEW_BYTES = 256 * 1024

# -- masking card numbers ------------------------------------------------------------------------

_PAN_RUN = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _mask_digits(digits: str) -> str:
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def mask_cards_fallback(text: str) -> str:
    """Mask every 13-19 digit run (single spaces or dashes allowed) that passes Luhn."""
    def repl(m: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            return _mask_digits(digits)
        return m.group(0)
    return _PAN_RUN.sub(repl, text)


def _pii_masker() -> Callable[[str], str] | None:
    try:
        from vault.pii import Scanner
        scanner = Scanner(kinds=("pan", "track_data"))
    except Exception:  # noqa: BLE001 - the PII library is optional here; fall back
        return None

    def mask(text: str) -> str:
        findings = sorted((f for f in scanner.scan_text(text)
                           if f.kind in ("pan", "track_data")), key=lambda f: f.start)
        out: list[str] = []
        pos = 0
        for f in findings:
            if f.start < pos:
                continue
            out.append(text[pos:f.start])
            out.append(f.masked)
            pos = f.end
        out.append(text[pos:])
        return "".join(out)
    return mask


def mask_cards(text: str) -> str:
    """Card numbers (and track data) masked for display: the PII scanner when available, then
    the Luhn fallback over what remains (belt and braces)."""
    masker = _pii_masker()
    if masker is not None:
        try:
            text = masker(text)
        except Exception:  # noqa: BLE001 - never show a clear PAN because a detector broke
            pass
    return mask_cards_fallback(text)


class _Head:
    """A write-only sink that keeps the first `limit` bytes and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.buf = io.BytesIO()
        self.limit = limit
        self.total = 0

    def write(self, b: bytes) -> int:
        room = self.limit - self.buf.tell()
        if room > 0:
            self.buf.write(b[:room])
        self.total += len(b)
        return len(b)


def _ocr_preview(data: bytes) -> str:
    """An image shown as its OCR text (card numbers masked), or why it cannot be."""
    from vault.errors import VaultError
    from vault.pii.ocr import ocr_image
    try:
        text = ocr_image(data).text
    except VaultError as exc:
        return f"no OCR text: {exc.message}"
    return "OCR text of the image:\n\n" + mask_cards(text) if text.strip() else \
        "OCR found no text in this image"


def decode_preview(data: bytes) -> str | None:
    """Text for display, or None when the bytes are not text."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = data.decode("utf-16", errors="replace")
    elif b"\x00" in data[:8192]:
        return None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if exc.start >= len(data) - 3:  # a character cut by the preview limit
                text = data[:exc.start].decode("utf-8-sig")
            else:
                text = data.decode("utf-8", errors="replace")
                if text.count("\ufffd") > max(8, len(text) // 20):
                    text = data.decode("latin-1")
    # Control characters (escape sequences) must never reach the terminal.
    return "".join(c if c in "\n\t" or (c >= " " and c != "\x7f") else "\ufffd" for c in text)


def interview_markdown(role: str, on: date, requirements: Iterable[str], text: str) -> str:
    reqs = ", ".join(requirements) or "-"
    return (f"# Interview note\n\n- Interviewee role: {role}\n- Date: {on.isoformat()}\n"
            f"- Requirements: {reqs}\n\n{text.rstrip()}\n")


SEARCH_CAP = 10_000
"""A text search counts its matches up to this many (the evidence screen shows "10,000+")."""


@dataclass(frozen=True)
class ItemPage:
    """One page of an engagement's evidence list. `total` counts every match when `exact`;
    otherwise there are more than `total - 1` (the count stopped at a cap)."""

    offset: int
    total: int
    exact: bool
    items: list[ItemView]


class BrowseMixin:
    def roles_in(self: Facade, ref: str | None = None) -> set[str]:
        """The actor's roles: firm roles, plus their role in engagement `ref` if given."""
        with self._session() as s:
            if ref is None:
                return self._roles(s, None)
            eng = self._engagement(s, ref)
            self._require(s, "engagement.view", eng.id, eng.id)
            return self._roles(s, eng.id)

    def count_items(self: Facade, ref: str, flt: ItemFilter | None = None) -> int:
        """How many items `list_items(ref, flt)` would list without limit/offset."""
        from vault.service import ItemFilter
        flt = flt or ItemFilter()
        with self._session() as s:
            eng = self._engagement(s, ref)
            self._require(s, "item.list", eng.id, eng.id)
            table = search_table(s, flt.text)
            q = select(func.count()).select_from(table).where(*conditions(table, eng, flt))
            return int(s.exec(q).one())

    def item_page(self: Facade, ref: str, flt: ItemFilter | None = None, *, size: int = 200,
                  cap: int | None = None) -> ItemPage:
        """The page of `list_items(ref, flt)` (same filter, same order) that starts at
        `flt.offset`, moved back to the last page when that is past the end, with the number of
        matches: exact, or, when `cap` is given and more than `cap` match, `cap + 1` and
        `exact=False` (counting stops there, which keeps a broad search fast)."""
        from vault.service import ItemFilter
        flt = flt or ItemFilter()
        with self._session() as s:
            eng = self._engagement(s, ref)
            self._require(s, "item.list", eng.id, eng.id)
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
            return ItemPage(offset, total, exact,
                            self._views(s, items, eng))  # type: ignore[attr-defined]

    def coverage(self: Facade, ref: str) -> list[tuple[str, str, int]]:
        """Every requirement of the engagement's catalogue with its count of visible items."""
        with self._session() as s:
            eng = self._engagement(s, ref)
            self._require(s, "item.list", eng.id, eng.id)
            rows = s.exec(
                select(ItemRequirement.requirement_id, func.count())
                .join(EvidenceItem, col(EvidenceItem.id) == col(ItemRequirement.item_id))
                .where(EvidenceItem.engagement_id == eng.id,
                       col(EvidenceItem.state).in_(VISIBLE_STATES))
                .group_by(col(ItemRequirement.requirement_id))).all()
        counts = {r: int(n) for r, n in rows}
        return [(r.id, r.title, counts.get(r.id, 0))
                for r in catalogue.load(eng.standard).requirements]

    def custody(self: Facade, item_ref: str) -> list[AuditEvent]:
        """The item's chain of custody: every audit event about it, oldest first."""
        with self._session() as s:
            item = self._item(s, item_ref)
            self._require(s, "item.list", item.id, item.engagement_id)
            return list(s.exec(select(AuditEvent).where(
                AuditEvent.engagement_id == item.engagement_id,
                AuditEvent.object == item.id).order_by(col(AuditEvent.seq))).all())

    def versions(self: Facade, item_ref: str) -> list[ItemView]:
        """The item's version chain through `supersedes`, oldest first (the item included)."""
        with self._session() as s:
            item = self._item(s, item_ref)
            self._require(s, "item.list", item.id, item.engagement_id)
            chain = [item]
            seen = {item.id}
            while chain[0].supersedes_id and len(chain) < 1000:
                older = s.get(EvidenceItem, chain[0].supersedes_id)
                if older is None or older.id in seen or older.state == "pending":
                    break
                chain.insert(0, older)
                seen.add(older.id)
            while len(chain) < 1000:
                newer = s.exec(select(EvidenceItem).where(
                    EvidenceItem.supersedes_id == chain[-1].id,
                    EvidenceItem.state != "pending")).first()
                if newer is None or newer.id in seen:
                    break
                chain.append(newer)
                seen.add(newer.id)
            return [self._view(s, i) for i in chain]  # type: ignore[attr-defined]

    def preview(self: Facade, item_ref: str, max_bytes: int = PREVIEW_BYTES) -> str:
        """The first `max_bytes` of the item as text, card numbers masked. Decrypted in memory
        only, and only shown once the whole payload authenticated; audited as a read."""
        with self._session() as s:
            item = self._item(s, item_ref)
            self._require(s, "item.read", item.id, item.engagement_id)
            if item.state == "shredded":
                return ("no preview: this original was redacted and its content destroyed "
                        "(crypto-shredded); open the newer version")
            key = self._engagement_identity(s, item.key_id)
        from vault.pii.ocr import IMAGE_MIMES, MAX_IMAGE_BYTES
        image = (item.detected_mime or "") in IMAGE_MIMES
        if image and item.size > MAX_IMAGE_BYTES:
            return f"no preview: image larger than {MAX_IMAGE_BYTES >> 20} MiB"
        head = _Head(MAX_IMAGE_BYTES if image else max_bytes)
        retrieve.decrypt_to(item, self.store, key,  # type: ignore[attr-defined]
                            cast(BinaryIO, head))
        with self._session() as s:
            self._audit(s, "item.read", item.id, engagement_id=item.engagement_id,
                        detail={"preview": True})
            s.commit()
        if image:
            return _ocr_preview(head.buf.getvalue())
        text = decode_preview(head.buf.getvalue())
        if text is None:
            return f"no text preview: binary content ({item.detected_mime or 'unknown type'})"
        text = mask_cards(text)
        if head.total > max_bytes:
            text += f"\n… (first {max_bytes} of {head.total} bytes shown)"
        return text

    def add_interview_note(self: Facade, ref: str, interviewee_role: str, on_date: date,
                           requirements: Iterable[str], text: str) -> IngestResult:
        """An interview note, stored as `interview_note` evidence (a Markdown document)."""
        from vault.service import IngestOptions
        role = " ".join(interviewee_role.split())
        if not role or len(role) > 200:
            raise InvalidInput("the interviewee role is 1-200 characters")
        if not text.strip():
            raise InvalidInput("the interview note is empty")
        reqs = tuple(dict.fromkeys(r.strip() for r in requirements if r.strip()))
        body = interview_markdown(role, on_date, reqs, text).encode("utf-8")
        slug = re.sub(r"[^a-z0-9]+", "-", role.lower()).strip("-")[:60] or "interview"
        src = Source(name=f"interview-{on_date.isoformat()}-{slug}.md", size=len(body),
                     open=lambda: io.BytesIO(body))
        result = self.ingest(ref, [src], IngestOptions(  # type: ignore[attr-defined]
            kind="interview_note", requirements=reqs,
            description=f"interview with {role} on {on_date.isoformat()}"))[0]
        if isinstance(result, Exception):
            raise result
        return result  # type: ignore[no-any-return]
