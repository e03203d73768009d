"""`vault scan --json`'s lines, one JSON object per finding.

Each line is exactly ``json.dumps(hit.as_dict(), ensure_ascii=False)`` of the
:class:`vault.scan.ScanHit` (``"member"``, after ``"path"``, only for a finding inside a
container: an archive's member, a document's part), UTF-8 encoded, built from a template
straight from the scanner's rows (a scan may print millions): in C when the native scanner
core is built, else in Python.
A batch with a string UTF-8 cannot encode (a lone surrogate) is written with
``ensure_ascii=True`` instead: escaped, as JSON allows. A small module of its own: the scanner's
worker processes import it to render their rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from json.encoder import encode_basestring as _json_str  # json.dumps(str, ensure_ascii=False)
from json.encoder import encode_basestring_ascii as _json_ascii
from typing import Any

try:
    from vault.pii import _fastscan as _native
except ImportError:  # pragma: no cover - depends on the build
    _native = None  # type: ignore[assignment]

_CACHE: dict[str | float, str] = {}  # kind / detector / confidence -> its JSON (per process)


def _json_of(v: str | float) -> str:
    return _json_str(v) if isinstance(v, str) else repr(float(round(v, 2)))


def _template(path: str, page: int | None, json_str: Any = _json_str,
              member: str | None = None) -> tuple[str, str]:  # fmt: skip
    """A line's start up to the kind, and the page's JSON."""
    where = "" if member is None else f', "member": {json_str(member)}'
    return (f'{{"path": {json_str(path)}{where}, "kind": ',
            "null" if page is None else str(int(page)))


def json_lines(path: str, page: int | None, rows: list[Any],
               member: str | None = None) -> tuple[int, bytes]:  # fmt: skip
    """(number of findings, their JSON lines in UTF-8) for rows of
    :data:`vault.pii.scanner.Row` (`member`: where in the file, for a container)."""
    head, page_s = _template(path, page, member=member)
    if _native is not None:
        try:
            return len(rows), _native.json_lines(rows, head, page_s, _CACHE, _json_of)
        except (ValueError, TypeError, OverflowError):  # e.g. a lone surrogate: in Python
            pass
    try:
        return len(rows), "".join(_lines(rows, head, page_s, _json_str)).encode("utf-8")
    except UnicodeEncodeError:
        head = _template(path, page, _json_ascii, member)[0]
        return len(rows), "".join(_lines(rows, head, page_s, _json_ascii)).encode("ascii")


class JsonLines:
    """:func:`json_lines` as a ``scan_batches`` render whose :meth:`bind` gives the scanner's
    workers a picklable renderer for one file; with the native core they make the lines straight
    from their hits (no row tuples: a third less work per finding)."""

    takes_member = True  # scan_batches passes a container's member

    def __call__(self, path: str, page: int | None, rows: list[Any],
                 member: str | None = None) -> tuple[int, bytes]:  # fmt: skip
        return json_lines(path, page, rows, member)

    def bind(self, path: str, page: int | None, member: str | None = None) -> BoundJsonLines:
        return BoundJsonLines(path, page, member)


class BoundJsonLines:
    """:class:`JsonLines` for one file (and page, and member)."""

    def __init__(self, path: str, page: int | None, member: str | None = None) -> None:
        self.path, self.page, self.member = path, page, member

    def __call__(self, rows: list[Any]) -> tuple[int, bytes]:
        return json_lines(self.path, self.page, rows, self.member)

    def of_hits(self, buf: bytes, hits: list[Any], base_line: int, lo: int, hi: int,
                values: str = "none") -> tuple[int, bytes] | None:  # fmt: skip
        """The lines of the rows the scanner would make of ``hits`` (``Scanner._rows``, native
        core), or None where only :func:`json_lines` can say (e.g. a lone surrogate)."""
        if _native is None:
            return None
        head, page_s = _template(self.path, self.page, member=self.member)
        try:
            return _native.json_hits(buf, hits, base_line, lo, hi, head, page_s, _CACHE,
                                     _json_of)  # fmt: skip
        except (ValueError, TypeError, OverflowError):
            return None


def _lines(rows: list[Any], head: str, page: str, json_str: Any) -> Iterator[str]:
    cache, json_of = _CACHE, _json_of
    for kind, det, _, _, line, masked, conf, _ in rows:
        k = cache.get(kind) or cache.setdefault(kind, json_of(kind))
        d = cache.get(det) or cache.setdefault(det, json_of(det))
        c = cache.get(conf) or cache.setdefault(conf, json_of(conf))
        yield (f'{head}{k}, "line": {"null" if line is None else int(line)}, '
               f'"page": {page}, "masked": {json_str(masked)}, "detector": {d}, '
               f'"confidence": {c}}}\n')  # fmt: skip
