"""Names inside a bag: readable, collision-free, path-safe, and never carrying card data."""

from __future__ import annotations

import re
import unicodedata

from vault.pii.fields import card_findings, masked

_UNSAFE = re.compile(r"[^\w.+,=@~()-]+")
_MAX = 100


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = "".join(c if c.isprintable() else " " for c in text)
    # the vault masks names at ingest; again here, also where a card number hides behind
    # other digits (٤١١١…), dashes (–) or the underscores the path-safe name will have
    text = masked(text, card_findings(card_probe(text)))
    text = text.replace("*", "x")
    text = _UNSAFE.sub("_", text).strip("._-")
    return text


def card_probe(text: str) -> str:
    """`text` for the card-data scan, with the same length (so the findings' offsets hold):
    decimal digits as ASCII digits, dashes as '-', '_' and spaces as ' '."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal()
                   else "-" if unicodedata.category(c) == "Pd"
                   else " " if c == "_" or c.isspace() else c for c in text)


def payload_path(group: str, item_id: str, original_name: str) -> str:
    """``data/<group>/<item id, 12>-<name>``: the name's last path component, card data
    masked, anything but letters, digits and ``._-+,=@~()`` replaced by ``_``, no leading dot,
    at most 100 characters (the extension kept)."""
    base = re.split(r"[/\\]", original_name)[-1]
    name = _clean(base) or "file"
    if len(name) > _MAX:
        stem, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 16 else ""
        name = name[:_MAX - len(keep) - 1].rstrip("._-") + ("." + keep if keep else "")
    return f"data/{_clean(group) or 'other'}/{item_id[:12]}-{name}"


def bag_name(engagement: str, request_ref: str, day: str) -> str:
    """The bag's (and its top directory's) name: engagement, request reference and date."""
    name = f"{_clean(engagement)[:60]}-{_clean(request_ref)[:60]}-{day}".strip("._-")
    return name or f"export-{day}"
