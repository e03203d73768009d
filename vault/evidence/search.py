"""The evidence list's filter and its text search: a case-insensitive substring of an item's
name, description or system, matched in item_search.body (migration 0004).

A search is answered in one of two ways, with the same matches:
- a scan of the engagement's item_search rows in list order, testing each body with instr()
  (SQLite) or strpos() (PostgreSQL): cheap when the matches are dense, since a page or a
  capped count stops early, but ~35 ms at 100,000 items when they are few;
- on SQLite, the trigram index item_fts (FTS5, migration 0006): the items holding every
  trigram of the text in a row, i.e. holding the text, found from the index: a page and its
  count take ~1 ms per 1,000 matches. It needs three characters or more, and exists only
  where SQLite has FTS5 and its trigram tokenizer.
`search_table` picks one per search; `conditions` writes the filter over either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal
from sqlmodel import Session, func, select

from vault.evidence.lifecycle import VISIBLE
from vault.metadata.models import Engagement, EvidenceItem, ItemRequirement, ItemSearch, UTCDateTime


@dataclass
class ItemFilter:
    """What an evidence list shows: every condition given must hold (`text`: a case-insensitive
    substring of the name, description or system)."""

    kind: str | None = None
    requirement: str | None = None
    disclosure: str | None = None
    state: str | None = None
    text: str | None = None
    limit: int | None = None
    offset: int = 0
    extra: dict[str, str] = field(default_factory=dict)


FIELD_SEPARATOR = "\x1f"
"""Joins name, description and system in item_search.body (migration 0004)."""

FTS_MAX = 20_000
"""A search that the trigram index finds in at most this many items (all engagements and
states together) reads them from the index (a page and its count: ~10 ms for 10,000); a
broader one scans the engagement in list order instead, where its matches are dense enough
for a page and a capped count to stop early."""

ITEM_SEARCH: sa.Table = ItemSearch.__table__  # type: ignore[attr-defined]
EVIDENCE_ITEM: sa.Table = EvidenceItem.__table__  # type: ignore[attr-defined]

_fts_metadata = sa.MetaData()  # not SQLModel.metadata: these tables exist only on SQLite
ITEM_FTS = sa.Table("item_fts", _fts_metadata, sa.Column("rowid", sa.Integer),
                    sa.Column("body", sa.Text))
"""FTS5 table (trigram tokenizer, case-sensitive: bodies are lower-cased already), one row per
item_search row, its rowid = item_fts_rows.rid."""
ITEM_FTS_ROWS = sa.Table(
    "item_fts_rows", _fts_metadata,
    sa.Column("rid", sa.Integer, primary_key=True),
    sa.Column("item_id", sa.String(32)),
    sa.Column("engagement_id", sa.String(32)),
    sa.Column("ingested_at", UTCDateTime),
    sa.Column("state", sa.String(20)),
    sa.Column("kind", sa.String(20)),
    sa.Column("disclosure", sa.String(20)))
"""item_search's columns keyed by the index's rowids: a match is filtered and sorted with one
lookup by integer key (item_search, clustered by list order, would need two by item id)."""


class _Contains(sa.sql.expression.ColumnElement[bool]):
    """`haystack` contains `needle` (plain substring, no wildcards): instr() on SQLite,
    strpos() on PostgreSQL. Cheaper than LIKE '%...%' per row and needs no escaping."""

    inherit_cache = True
    type = sa.Boolean()
    _traverse_internals = [("haystack", InternalTraversal.dp_clauseelement),
                           ("needle", InternalTraversal.dp_clauseelement)]

    def __init__(self, haystack: Any, needle: Any) -> None:
        self.haystack = sa.sql.coercions.expect(sa.sql.roles.ExpressionElementRole, haystack)
        self.needle = sa.sql.coercions.expect(sa.sql.roles.ExpressionElementRole, needle)


@compiles(_Contains)
def _contains_sql(element: _Contains, compiler: Any, **kw: Any) -> str:
    fn = "strpos" if compiler.dialect.name == "postgresql" else "instr"
    return (f"({fn}({compiler.process(element.haystack, **kw)}, "
            f"{compiler.process(element.needle, **kw)}) > 0)")


def _needle(text: str) -> sa.ColumnElement[str]:
    """The text lower-cased in SQL, exactly as the trigger folded the body (ASCII only on
    SQLite, Unicode on PostgreSQL)."""
    return func.lower(sa.literal(text, sa.String))


def text_match(text: str) -> sa.ColumnElement[bool]:
    """`text` as a case-insensitive substring of item_search.body, tested row by row; a text
    holding the field separator (U+001F) matches nothing, as it would span two fields."""
    if FIELD_SEPARATOR in text:
        return sa.false()
    return _Contains(ITEM_SEARCH.c.body, _needle(text))


def fts_match(text: str) -> sa.ColumnElement[bool]:
    """The item_fts rows whose body holds `text` (three characters or more, no field
    separator): the text as one FTS5 phrase, i.e. its trigrams in a row. Quoted (a double
    quote doubled), so that no character of it is FTS5 syntax."""
    phrase = sa.literal('"') + func.replace(_needle(text), '"', '""') + sa.literal('"')
    return sa.literal_column("item_fts").op("MATCH")(phrase)


def _indexable(text: str) -> bool:
    # The trigram tokenizer indexes sequences of three characters; NUL ends a string in C.
    return len(text) >= 3 and FIELD_SEPARATOR not in text and "\x00" not in text


def has_fts(s: Session) -> bool:
    """Whether this database has the trigram index (SQLite with FTS5; looked up once per
    connection)."""
    conn = s.connection()
    if conn.dialect.name != "sqlite":
        return False
    found = conn.info.get("vault.item_fts")
    if found is None:
        found = conn.execute(sa.text(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'item_fts'")
        ).first() is not None
        conn.info["vault.item_fts"] = found
    return bool(found)


def search_table(s: Session, text: str | None) -> sa.Table:
    """Where the search for `text` reads: ITEM_FTS_ROWS (through the trigram index) when the
    index exists, takes the text and finds at most FTS_MAX items; otherwise ITEM_SEARCH."""
    if not text or not _indexable(text) or not has_fts(s):
        return ITEM_SEARCH
    found = s.exec(select(func.count()).select_from(  # type: ignore[call-overload]
        select(ITEM_FTS.c.rowid).where(fts_match(text)).limit(FTS_MAX + 1).subquery())).one()
    return ITEM_FTS_ROWS if int(found) <= FTS_MAX else ITEM_SEARCH


def _text_condition(table: sa.Table, text: str) -> sa.ColumnElement[bool]:
    if table is ITEM_FTS_ROWS:  # a join: the index's matches, each looked up by rowid
        return sa.and_(fts_match(text), ITEM_FTS.c.rowid == table.c.rid)
    return text_match(text)


def conditions(table: sa.Table, eng: Engagement, flt: ItemFilter,
               search: sa.Table = ITEM_SEARCH) -> list[sa.ColumnElement[bool]]:
    """The evidence list's filter, written once over the columns that evidence_item, its
    narrow copy item_search and item_fts_rows share; conditions on anything else select item
    ids. The text is searched in `table` itself, or for evidence_item in `search` (one of the
    other two, from `search_table`)."""
    c = table.c
    item_id = c.id if table is EVIDENCE_ITEM else c.item_id
    where = [c.engagement_id == eng.id]
    if flt.text:  # first: SQLite tests the conditions in order, and this one rejects most rows
        if table is EVIDENCE_ITEM:
            where.append(item_id.in_(select(search.c.item_id).where(
                search.c.engagement_id == eng.id, _text_condition(search, flt.text))))
        else:
            where.append(_text_condition(table, flt.text))
    where.append(c.state.in_((flt.state,) if flt.state else VISIBLE))
    if flt.kind:
        where.append(c.kind == flt.kind)
    if flt.disclosure:
        where.append(c.disclosure == flt.disclosure)
    if flt.requirement:
        where.append(item_id.in_(select(ItemRequirement.item_id).where(
            ItemRequirement.requirement_id == flt.requirement)))
    return where


def filtered(s: Session, q: Any, eng: Engagement, flt: ItemFilter) -> Any:
    """The filter conditions of the evidence list over evidence_item (the service's list_items)."""
    return q.where(*conditions(EVIDENCE_ITEM, eng, flt, search_table(s, flt.text)))
