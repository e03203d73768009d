"""The requirement catalogues shipped as data: ids and short titles (in our own words) of
PCI DSS v4.0.1 and the PCI 3DS Core Security Standard v1.0, so evidence maps to requirements that
exist."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

STANDARDS = ("pci-dss-4.0.1", "pci-3ds-1.0")


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str


@dataclass(frozen=True)
class Catalogue:
    standard: str
    title: str
    requirements: tuple[Requirement, ...]

    def get(self, req_id: str) -> Requirement | None:
        return self._index().get(req_id)

    def __contains__(self, req_id: object) -> bool:
        return isinstance(req_id, str) and req_id in self._index()

    def _index(self) -> dict[str, Requirement]:
        return _index(self)


@cache
def _index(cat: Catalogue) -> dict[str, Requirement]:
    return {r.id: r for r in cat.requirements}


def sort_key(req_id: str) -> tuple[tuple[int, str], ...]:
    """Order ids as the standards do: 2.1 < 10.1, A1 after 12."""
    return tuple((int(p), "") if p.isdigit() else (1 << 30, p) for p in req_id.split("."))


@cache
def load(standard: str) -> Catalogue:
    """The catalogue of `standard` (one of STANDARDS); KeyError for an unknown standard."""
    if standard not in STANDARDS:
        raise KeyError(standard)
    raw = json.loads(resources.files(__package__).joinpath(f"{standard}.json").read_text("utf-8"))
    reqs = tuple(Requirement(r["id"], r["title"]) for r in raw["requirements"])
    return Catalogue(raw["standard"], raw["title"], reqs)
