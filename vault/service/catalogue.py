"""Catalogue verbs: the requirement catalogues (built-in and loaded), one catalogue's ids and
titles, loading a firm's own catalogue file (administrators), and what other verbs need from
the catalogue: typed ids mapped (old numbers accepted, headings warned about), the coverage's
heading rows marked.

A loaded file extends the built-in catalogue of the standard it names (see
:mod:`vault.catalogue`). It is kept in the database (``firm_catalogue``), so every user of the
vault sees it, and installed into :mod:`vault.catalogue` when a vault opens (:func:`refresh`),
so the CLI, the service and the terminal UI read one catalogue. Loading the same standard again
replaces the firm's previous file, unless evidence is mapped to an id the new file would drop.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from vault import catalogue
from vault.catalogue import Catalogue, CatalogueError
from vault.errors import InvalidInput, NotFound
from vault.metadata.models import Engagement, EvidenceItem, FirmCatalogue, ItemRequirement, User
from vault.pii.fields import refuse_card_data
from vault.service.context import Context

MAX_FILE = 2 << 20
"""The largest catalogue file accepted (the shipped PCI DSS one is under 40 KiB)."""


@dataclass(frozen=True)
class CatalogueInfo:
    """One standard's catalogue: how many requirements it has and where they come from."""

    standard: str
    title: str
    requirements: int
    builtin: int
    loaded: int | None = None
    """Requirements in the firm's file (None: no file loaded)."""
    added: int = 0
    loaded_at: datetime | None = None
    loaded_by: str | None = None
    sha256: str | None = None

    @property
    def source(self) -> str:
        if self.loaded is None:
            return "built-in"
        return f"built-in + firm file ({self.added} added)"

    def as_dict(self) -> dict[str, Any]:
        return {"standard": self.standard, "title": self.title,
                "requirements": self.requirements, "builtin": self.builtin,
                "loaded": self.loaded, "added": self.added, "source": self.source,
                "loaded_at": self.loaded_at.isoformat() if self.loaded_at else None,
                "loaded_by": self.loaded_by, "sha256": self.sha256}


@dataclass(frozen=True)
class Loaded:
    """What `load_catalogue` did."""

    info: CatalogueInfo
    retitled: int
    """Built-in ids the file gave another title."""
    replaced: bool
    """A previous file of the same standard was replaced."""


@dataclass(frozen=True)
class RequirementLookup:
    """What a typed requirement id means in an engagement's catalogue."""

    id: str
    title: str
    heading: bool
    note: str | None = None
    """Why the id used is not the id typed (an old number)."""


# -- the firm's catalogues: database -> vault.catalogue ---------------------------------------


def refresh(cx: Context) -> None:
    """Install the firm's loaded catalogues, as the database has them, into
    :mod:`vault.catalogue`. A row that no longer passes the checks (edited in the database) is
    left out, and a table that cannot be read leaves the built-in catalogues alone (every vault
    opening runs this: a damaged table must not stop `vault doctor`); `vault catalogue list`
    reports either."""
    try:
        with cx.session() as s:
            bodies = [r.body for r in s.exec(select(FirmCatalogue)).all()]
    except sa.exc.DatabaseError:
        bodies = []
    loaded: dict[str, Catalogue] = {}
    for body in bodies:
        try:
            cat = catalogue.parse(body)
            catalogue.extend(catalogue.builtin(cat.standard), cat)
        except CatalogueError:
            continue
        loaded[cat.standard] = cat
    catalogue.install(loaded)


def current(cx: Context, standard: str) -> Catalogue:
    """The catalogue of `standard` as the database has it now (installed as such)."""
    refresh(cx)
    return catalogue.load(standard)


# -- verbs -------------------------------------------------------------------------------------


def _info(cat: Catalogue, row: FirmCatalogue | None, loaded_by: str | None) -> CatalogueInfo:
    base = len(catalogue.builtin(cat.standard).requirements)
    if row is None:
        return CatalogueInfo(cat.standard, cat.title, len(cat.requirements), base)
    return CatalogueInfo(cat.standard, cat.title, len(cat.requirements), base,
                         loaded=row.requirements, added=len(cat.requirements) - base,
                         loaded_at=row.loaded_at, loaded_by=loaded_by, sha256=row.sha256)


def catalogues(cx: Context) -> list[CatalogueInfo]:
    """Every standard's catalogue: built-in, or built-in extended by the firm's file."""
    with cx.act("catalogue.view", "catalogues") as a:
        rows = {r.standard: r for r in a.s.exec(select(FirmCatalogue)).all()}
        names = {u.id: u.name for u in a.s.exec(select(User).where(
            col(User.id).in_([r.loaded_by for r in rows.values()]))).all()}
    refresh(cx)
    out = []
    for std in catalogue.STANDARDS:
        row = rows.get(std)
        if row is not None and catalogue.installed(std) is None:
            raise InvalidInput(f"the firm's {std} catalogue in the database no longer passes "
                               "its checks (edited in the database, or at odds with this "
                               "version's built-in catalogue)",
                               hint="load the file again (`vault catalogue load FILE`) to see "
                                    "what is wrong")
        out.append(_info(catalogue.load(std), row,
                         names.get(row.loaded_by, row.loaded_by) if row else None))
    return out


def show(cx: Context, standard: str) -> Catalogue:
    """One standard's catalogue, as engagements on it use it."""
    if standard not in catalogue.STANDARDS:
        raise NotFound(f"no catalogue {standard!r}",
                       hint="one of: " + ", ".join(catalogue.STANDARDS))
    with cx.act("catalogue.view", standard):
        return current(cx, standard)


def load_catalogue(cx: Context, data: bytes) -> Loaded:
    """Check a catalogue file and keep it as the firm's extension of its standard
    (administrators; audited). InvalidInput, one line, names what is wrong with a file that is
    not acceptable."""
    with cx.act("catalogue.load", "catalogue") as a:
        if len(data) > MAX_FILE:
            raise InvalidInput(f"the file is larger than {MAX_FILE >> 20} MiB")
        try:
            cat = catalogue.parse(data)
            base = catalogue.builtin(cat.standard)
            merged = catalogue.extend(base, cat)
        except CatalogueError as exc:
            raise InvalidInput(str(exc)) from None
        a.obj = cat.standard
        refuse_card_data(cat.title, "catalogue's title")  # metadata, shown in clear
        for r in cat.requirements:
            refuse_card_data(r.title, f"title of {r.id}")
        s = a.s
        dropped = sorted(_mapped(s, cat.standard) - {r.id for r in merged.requirements},
                         key=catalogue.sort_key)
        if dropped:
            more = f" and {len(dropped) - 3} more" if len(dropped) > 3 else ""
            raise InvalidInput(f"evidence is mapped to {', '.join(dropped[:3])}{more}, which "
                               "this file does not have", hint="keep those ids in the file")
        row = s.get(FirmCatalogue, cat.standard)
        replaced = row is not None
        digest = hashlib.sha256(data).hexdigest()
        if row is None:
            row = FirmCatalogue(standard=cat.standard, title=cat.title[:200], body="",
                                sha256="", requirements=0, loaded_at=cx.clock(),
                                loaded_by=cx.user.id)
        row.title, row.body, row.sha256 = cat.title[:200], data.decode("utf-8"), digest
        row.requirements, row.loaded_at, row.loaded_by = (len(cat.requirements), cx.clock(),
                                                          cx.user.id)
        s.add(row)
        retitled = sum(1 for r in cat.requirements
                       if (b := base.get(r.id)) is not None and b.title != r.title)
        info = _info(merged, row, cx.user.name)
        a.detail = {"sha256": digest, "requirements": len(cat.requirements),
                    "added": info.added, "retitled": retitled, "replaced": replaced}
        a.commit()
    refresh(cx)
    return Loaded(info, retitled, replaced)


def _mapped(s: Session, standard: str) -> set[str]:
    """Every requirement id that evidence of an engagement on `standard` is mapped to."""
    return set(s.exec(select(ItemRequirement.requirement_id).distinct()
                      .join(EvidenceItem, col(EvidenceItem.id) == col(ItemRequirement.item_id))
                      .join(Engagement, col(Engagement.id) == col(EvidenceItem.engagement_id))
                      .where(Engagement.standard == standard)).all())


def requirement(cx: Context, ref: str, req_id: str) -> RequirementLookup:
    """What `req_id` means in the catalogue of engagement `ref` (an old number: its new one,
    with a note); InvalidInput when it means nothing there."""
    with cx.session() as s:
        eng = cx.find_engagement(s, ref)
    with cx.act("engagement.view", eng):
        cat = catalogue.load(eng.standard)
        found = cat.resolve(req_id)
        if found is None:
            raise InvalidInput(f"requirement {req_id!r} is not in the {cat.title} catalogue")
        req, note = found
        return RequirementLookup(req.id, req.title, cat.is_heading(req.id), note)


# -- for the other verbs -----------------------------------------------------------------------


def map_requirements(cat: Catalogue, typed: Iterable[str]) -> tuple[tuple[str, ...],
                                                                    tuple[str, ...]]:
    """The ids evidence is mapped to for the ids a person typed, and the warnings to show:
    an old (renumbered) id is mapped to its new one, with a note; a mapping to headings only
    is warned about. InvalidInput for an id the catalogue does not have."""
    ids: list[str] = []
    warnings: list[str] = []
    for req in typed:
        found = cat.resolve(req)
        if found is None:
            raise InvalidInput(f"requirement {req!r} is not in the {cat.title} catalogue")
        ids.append(found[0].id)
        if found[1] is not None:
            warnings.append(found[1])
    resolved = tuple(dict.fromkeys(ids))
    heading = cat.heading_warning(resolved)
    if heading is not None:
        warnings.append(heading)
    return resolved, tuple(warnings)


HEADING_MARK = "§ "
"""What begins the title of a heading row in the coverage."""


def mark_headings(cx: Context, ref: str, rows: list[tuple[str, str, int]]
                  ) -> list[tuple[str, str, int]]:
    """The coverage rows (requirement, title, items mapped to it) with heading rows marked:
    their title begins with ``§`` and ends with how many of the testable requirements under
    the heading have evidence. Every count stays the items mapped to that id itself, so
    evidence mapped only to a heading covers no requirement."""
    with cx.session() as s:
        standard = cx.find_engagement(s, ref).standard
    cat = catalogue.load(standard)
    counts = {rid: n for rid, _, n in rows}
    out = []
    for rid, title, n in rows:
        if cat.is_heading(rid):
            under = cat.testable_under(rid)
            covered = sum(1 for u in under if counts.get(u))
            title = f"{HEADING_MARK}{title} — {covered} of {len(under)} under it have evidence"
        out.append((rid, title, n))
    return out
