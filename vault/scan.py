"""Stand-alone pre-ingest scan: find card data and PII in files without storing anything."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from vault.ingest import MAGIC_BYTES, detect_mime
from vault.pii import Finding, Scanner
from vault.pii.extract import is_text_mime, iter_text
from vault.sources import Source


@dataclass(frozen=True)
class ScanHit:
    path: str
    finding: Finding

    def as_dict(self) -> dict[str, Any]:
        f = self.finding
        return {"path": self.path, "kind": f.kind, "line": f.line, "page": None,
                "masked": f.masked, "detector": f.detector,
                "confidence": round(f.confidence, 2)}


def scan_source(src: Source, scanner: Scanner) -> Iterator[ScanHit]:
    """Findings in one source: text types are decoded and scanned with line numbers; anything
    else by its printable runs (no line numbers)."""
    path = str(src.path) if src.path is not None else src.name
    with src.open() as f:
        head = f.read(MAGIC_BYTES)
        mime = detect_mime(head)
        f.seek(0)
        if is_text_mime(mime) or mime == "application/x-empty":
            for finding in scanner.scan_stream(f):
                yield ScanHit(path, finding)
            return
        for piece in iter_text(f, mime):
            for finding in scanner.scan_text(piece):
                yield ScanHit(path, dataclasses.replace(finding, line=None))

