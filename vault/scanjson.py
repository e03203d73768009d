"""`vault scan --json`'s lines, one JSON object per finding.

Each line is exactly ``json.dumps(hit.as_dict(), ensure_ascii=False)`` of the
:class:`vault.scan.ScanHit`, UTF-8 encoded, built from a template straight from the scanner's
rows (a scan may print millions): in C when the native scanner core is built, else in Python.
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


def json_lines(path: str, page: int | None, rows: list[Any]) -> tuple[int, bytes]:
    """(number of findings, their JSON lines in UTF-8) for rows of
    :data:`vault.pii.scanner.Row`."""
    head = f'{{"path": {_json_str(path)}, "kind": '
    page_s = "null" if page is None else str(int(page))
    if _native is not None:
        try:
            return len(rows), _native.json_lines(rows, head, page_s, _CACHE, _json_of)
        except (ValueError, TypeError, OverflowError):  # e.g. a lone surrogate: in Python
            pass
    try:
        return len(rows), "".join(_lines(rows, head, page_s, _json_str)).encode("utf-8")
    except UnicodeEncodeError:
        head = f'{{"path": {_json_ascii(path)}, "kind": '
        return len(rows), "".join(_lines(rows, head, page_s, _json_ascii)).encode("ascii")


def _lines(rows: list[Any], head: str, page: str, json_str: Any) -> Iterator[str]:
    cache, json_of = _CACHE, _json_of
    for kind, det, _, _, line, masked, conf, _ in rows:
        k = cache.get(kind) or cache.setdefault(kind, json_of(kind))
        d = cache.get(det) or cache.setdefault(det, json_of(det))
        c = cache.get(conf) or cache.setdefault(conf, json_of(conf))
        yield (f'{head}{k}, "line": {"null" if line is None else int(line)}, '
               f'"page": {page}, "masked": {json_str(masked)}, "detector": {d}, '
               f'"confidence": {c}}}\n')  # fmt: skip
