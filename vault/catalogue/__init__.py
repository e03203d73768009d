"""The requirement catalogues: ids and short titles (in our own words, never the standard's
text) of PCI DSS v4.0.1 and the PCI 3DS Core Security Standard v1.0, so evidence maps to
requirements that exist.

- Shipped as data (``vault/catalogue/*.json``: ``{"standard", "title", "requirements": [{"id",
  "title"}]}``). PCI 3DS Core ships its 14 sections only (P1-1 … P2-7): their
  sub-requirements are in the Council's licensed document alone.
- A firm may load its own file in the same format (``vault catalogue load``): it *extends* the
  built-in catalogue of the standard it names (new ids are added; an id the built-in one has
  takes the file's title). The service keeps it in the database and installs it here
  (:func:`install`) when a vault opens, so :func:`load` — what the CLI, the service and the
  terminal UI's requirement picker read — answers with the built-in catalogue plus the firm's.
  One process serves one vault (the CLI and the TUI do); :func:`builtin` is the shipped data
  alone.
- :data:`RENUMBERED` is the alias table: ids an earlier version of a standard gave to a
  requirement this catalogue numbers differently. An old id is accepted with a message naming
  the new one (:meth:`Catalogue.resolve`); the new id knows its old number
  (:meth:`Catalogue.formerly`).
- Principal requirements ("8") and sections ("8.3") are headings: evidence may be mapped to them
  (coverage rolls up through them) but assessors report on the requirements under them
  (:meth:`Catalogue.is_heading`, :meth:`Catalogue.heading_warning`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

STANDARDS = ("pci-dss-4.0.1", "pci-3ds-1.0")

HEADING_DEPTH = 2
"""Ids of one or two levels ("8", "8.3"; "P2-1", "P2-1.1") that have requirements under them are
headings; deeper ids ("8.3.6", "3.5.1" with its 3.5.1.1 …) are testable requirements."""

MAX_ID = 20
"""The longest requirement id (the column item_requirement.requirement_id)."""

MAX_TITLE = 120
"""The longest title of a loaded catalogue (the shipped ones keep to 80 characters)."""

_ID_RE = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?:\.[A-Za-z0-9]+)*")
_STANDARD_RE = re.compile(r"[a-z0-9][a-z0-9.-]{0,39}")


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str


@dataclass(frozen=True)
class Renumbered:
    """`old` was the id of requirement `new` in `version` of the standard."""

    old: str
    new: str
    version: str

    def note(self) -> str:
        """The message for a person who typed the old id."""
        return f"{self.old} is the {self.version} number of {self.new}: using {self.new}"


RENUMBERED: dict[str, tuple[Renumbered, ...]] = {
    "pci-dss-4.0.1": (
        # v4.0.1 renumbered A3.3.1.2 as A3.3.1.1 (v4.0's A3.3.1.1 is not this one).
        Renumbered("A3.3.1.2", "A3.3.1.1", "PCI DSS v4.0"),
    ),
}
"""The alias table, per standard: add a renumbering here (old id, new id, the version that used
the old id). An old id may not also be an id of the catalogue."""


class CatalogueError(ValueError):
    """A catalogue file that is not acceptable; the message says what is wrong, in one line."""


def parent(req_id: str) -> str | None:
    """The id one level up ("1.2.8" -> "1.2", "A1.1" -> "A1", "P2-1.1" -> "P2-1")."""
    head, sep, _ = req_id.rpartition(".")
    return head if sep else None


def depth(req_id: str) -> int:
    return req_id.count(".") + 1


def _segment_key(seg: str) -> tuple[int, tuple[tuple[int, int, str], ...]]:
    if seg.isdigit():
        return int(seg), ()
    # text first, then numbers as numbers: "P1-2" < "P1-10"; after every plain number
    return 1 << 30, tuple((0, int(p), "") if p.isdigit() else (1, 0, p)
                          for p in re.findall(r"\d+|\D+", seg))


def sort_key(req_id: str) -> tuple[tuple[int, tuple[tuple[int, int, str], ...]], ...]:
    """Order ids as the standards do: 2.1 < 10.1, A1 after 12, P1-2 < P1-10."""
    return tuple(_segment_key(p) for p in req_id.split("."))


@dataclass(frozen=True)
class Catalogue:
    standard: str
    title: str
    requirements: tuple[Requirement, ...]
    renumbered: tuple[Renumbered, ...] = ()
    _by_id: dict[str, Requirement] = field(init=False, repr=False, compare=False, hash=False)
    _children: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False,
                                                  hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {r.id: r for r in self.requirements})
        children: dict[str, list[str]] = {}
        for r in self.requirements:
            up = parent(r.id)
            if up is not None:
                children.setdefault(up, []).append(r.id)
        object.__setattr__(self, "_children", {k: tuple(v) for k, v in children.items()})

    def get(self, req_id: str) -> Requirement | None:
        return self._by_id.get(req_id)

    def __contains__(self, req_id: object) -> bool:
        return isinstance(req_id, str) and req_id in self._by_id

    def children(self, req_id: str) -> tuple[str, ...]:
        return self._children.get(req_id, ())

    def is_heading(self, req_id: str) -> bool:
        """A principal requirement or a section: one or two levels, with requirements under
        it. Assessors report on the requirements under it, not on the heading."""
        return depth(req_id) <= HEADING_DEPTH and bool(self._children.get(req_id))

    def testable_under(self, req_id: str) -> list[str]:
        """The testable requirements under `req_id` (every level), in catalogue order."""
        out: list[str] = []
        for child in self.children(req_id):
            if not self.is_heading(child):
                out.append(child)
            out.extend(self.testable_under(child))
        return out

    def resolve(self, req_id: str) -> tuple[Requirement, str | None] | None:
        """The requirement `req_id` means, and a note when it is an old (renumbered) id; None
        when it means none."""
        found = self._by_id.get(req_id)
        if found is not None:
            return found, None
        for alias in self.renumbered:
            if alias.old == req_id and alias.new in self._by_id:
                return self._by_id[alias.new], alias.note()
        return None

    def formerly(self, req_id: str) -> tuple[Renumbered, ...]:
        """The other direction: the old ids `req_id` had in earlier versions."""
        return tuple(a for a in self.renumbered if a.new == req_id)

    def heading_warning(self, req_ids: Iterable[str]) -> str | None:
        """A warning when `req_ids` (ids of this catalogue) are all headings: such evidence
        counts for no requirement an assessor reports on."""
        ids = list(dict.fromkeys(req_ids))
        if not ids or not all(self.is_heading(i) for i in ids):
            return None
        under = [t for i in ids for t in self.testable_under(i)]
        what = ("the heading " if len(ids) == 1 else "the headings ") + ", ".join(ids)
        span = f" ({under[0]} … {under[-1]})" if len(under) > 1 else (
            f" ({under[0]})" if under else "")
        return (f"mapped only to {what}, which assessors do not report on: map the evidence "
                f"to the requirements under {'it' if len(ids) == 1 else 'them'} too{span}")


# -- reading and checking catalogue files ---------------------------------------------------


def parse(data: bytes | str) -> Catalogue:
    """A catalogue file (the format of the shipped ones), checked for form: an object with a
    known standard's name, a title and a non-empty list of requirements, each with an id (unique,
    well-formed) and a one-line title. CatalogueError says what is wrong."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise CatalogueError("not UTF-8 text") from None
    try:
        raw = json.loads(data)
    except json.JSONDecodeError as exc:
        raise CatalogueError(f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
                             ) from None
    if not isinstance(raw, dict):
        raise CatalogueError("not a catalogue: expected a JSON object with standard, title and "
                             "requirements")
    expected = ("standard", "title", "requirements")
    for key in expected:
        if key not in raw:
            raise CatalogueError(f"no {key!r}: a catalogue has standard, title and requirements")
    extra = sorted(set(raw) - set(expected))
    if extra:
        raise CatalogueError(f"unknown key {extra[0]!r}: a catalogue has standard, title and "
                             "requirements")
    standard, title, entries = raw["standard"], raw["title"], raw["requirements"]
    if not isinstance(standard, str) or not _STANDARD_RE.fullmatch(standard):
        raise CatalogueError(f"standard {standard!r} is not a standard's name (such as "
                             f"{STANDARDS[-1]})")
    if standard not in STANDARDS:
        raise CatalogueError(f"standard {standard!r} is not one this vault knows: a loaded "
                             f"catalogue extends one of {', '.join(STANDARDS)}")
    if not isinstance(title, str) or not title.strip():
        raise CatalogueError("the catalogue's title is empty")
    if not isinstance(entries, list) or not entries:
        raise CatalogueError("requirements must be a non-empty list")
    if len(entries) > 10_000:
        raise CatalogueError(f"{len(entries):,} requirements: at most 10,000")
    reqs: list[Requirement] = []
    seen: dict[str, int] = {}
    for n, entry in enumerate(entries, 1):
        req = _entry(n, entry)
        if req.id in seen:
            raise CatalogueError(f"id {req.id} appears twice (requirements {seen[req.id]} "
                                 f"and {n})")
        seen[req.id] = n
        reqs.append(req)
    return Catalogue(standard, " ".join(title.split()), tuple(reqs))


def _entry(n: int, entry: Any) -> Requirement:
    if not isinstance(entry, dict):
        raise CatalogueError(f"requirement {n} is not an object with id and title")
    rid = entry.get("id")
    if not isinstance(rid, str) or len(rid) > MAX_ID or not _ID_RE.fullmatch(rid):
        raise CatalogueError(f"requirement {n}: id {rid!r} is not a requirement id (letters, "
                             f"digits, '-' and '.', at most {MAX_ID} characters)")
    extra = sorted(set(entry) - {"id", "title"})
    if extra:
        raise CatalogueError(f"{rid}: unknown key {extra[0]!r} (a requirement has id and "
                             "title)")
    title = entry.get("title")
    if not isinstance(title, str) or not title.strip():
        raise CatalogueError(f"{rid}: the title is empty")
    if title != title.strip() or not title.isprintable():
        raise CatalogueError(f"{rid}: the title must be one line without leading or trailing "
                             "spaces")
    if len(title) > MAX_TITLE:
        raise CatalogueError(f"{rid}: the title is {len(title)} characters (at most "
                             f"{MAX_TITLE})")
    return Requirement(rid, title)


def check(cat: Catalogue, *, built_in: Catalogue | None = None) -> None:
    """CatalogueError unless every parent exists (in `cat` or `built_in`), no two titles are
    equal, and no id is an old (renumbered) number."""
    known = set(built_in._by_id) if built_in is not None else set()
    known |= set(cat._by_id)
    for r in cat.requirements:
        up = parent(r.id)
        if up is not None and up not in known:
            where = "neither in the file nor in the built-in catalogue" if built_in else \
                "not in the catalogue"
            raise CatalogueError(f"{r.id}: its parent {up} is {where}")
    titles: dict[str, str] = {}
    for r in cat.requirements:
        key = " ".join(r.title.casefold().split())
        if key in titles:
            raise CatalogueError(f"{titles[key]} and {r.id} have the same title {r.title!r}: "
                                 "titles must tell requirements apart")
        titles[key] = r.id
    for alias in RENUMBERED.get(cat.standard, ()):
        if alias.old in cat._by_id:
            raise CatalogueError(f"{alias.old} is the {alias.version} number of {alias.new}: "
                                 f"use {alias.new}")


def extend(base: Catalogue, loaded: Catalogue) -> Catalogue:
    """`base` (a built-in catalogue) extended by a loaded file of the same standard: its new
    ids are added, an id `base` has takes the file's title; ordered as the standard orders
    ids. CatalogueError when the result is not a sound catalogue."""
    if loaded.standard != base.standard:
        raise CatalogueError(f"a {loaded.standard} file cannot extend {base.standard}")
    check(loaded, built_in=base)
    merged = dict(base._by_id)
    merged.update(loaded._by_id)
    result = Catalogue(base.standard, base.title,
                       tuple(sorted(merged.values(), key=lambda r: sort_key(r.id))),
                       base.renumbered)
    check(result)
    return result


# -- the built-in catalogues and the firm's ---------------------------------------------------


@cache
def builtin(standard: str) -> Catalogue:
    """The shipped catalogue of `standard` (one of STANDARDS); KeyError for another."""
    if standard not in STANDARDS:
        raise KeyError(standard)
    from importlib import resources  # tempfile, shutil, zipfile: for the commands that read one

    raw = json.loads(resources.files(__package__).joinpath(f"{standard}.json").read_text("utf-8"))
    reqs = tuple(Requirement(r["id"], r["title"]) for r in raw["requirements"])
    return Catalogue(raw["standard"], raw["title"], reqs, RENUMBERED.get(standard, ()))


_installed: dict[str, Catalogue] = {}
_merged: dict[str, Catalogue] = {}


def install(loaded: Mapping[str, Catalogue]) -> None:
    """Make `loaded` (standard -> the firm's file, already checked) what :func:`load` adds to
    the built-in catalogues, in place of what was installed before."""
    global _installed, _merged
    merged = {std: extend(builtin(std), cat) for std, cat in loaded.items()}
    _installed, _merged = dict(loaded), merged  # each a whole new dict: readers never see half


def installed(standard: str) -> Catalogue | None:
    """The firm's file installed for `standard`, if any."""
    return _installed.get(standard)


def load(standard: str) -> Catalogue:
    """The catalogue of `standard` (one of STANDARDS): the built-in one, extended by the firm's
    when one is installed; KeyError for an unknown standard."""
    merged = _merged.get(standard)
    return merged if merged is not None else builtin(standard)
