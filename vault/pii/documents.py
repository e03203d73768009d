"""Which extractor reads a document, by the type libmagic sees (and, where libmagic is vague,
by the document's own head): Office and OpenDocument files (:mod:`vault.pii.office`), e-mail
(:mod:`vault.pii.mail`), HTML and XML (:mod:`vault.pii.markup`). Importing this module fills
:data:`vault.pii.containers.EXTRACTORS`, which the container walker consults."""

from __future__ import annotations

from collections.abc import Iterator

from vault.pii import containers, mail, markup, office
from vault.pii.parts import Extractor, Part


def _ole(data: bytes) -> Iterator[Part]:
    """An OLE2 file: an Office document, or an Outlook message libmagic did not name."""
    return office.extract_ole(data, msg=mail.extract_msg)


def _register() -> None:
    for table in (office.MIME_TYPES, mail.MIME_TYPES, markup.MIME_TYPES):
        for mime, extractor in table.items():
            containers.register(extractor, mime)
    for mime, extractor in office.MIME_TYPES.items():
        if extractor is office.extract_ole:
            containers.register(_ole, mime)


_register()


def extractor_for(mime: str, head: bytes) -> Extractor | None:
    """The extractor for a file of this detected type and head, or None (not a document)."""
    found = containers.EXTRACTORS.get(mime)
    if found is not None:
        return found
    if mime == "text/plain" and mail.looks_like_message(head):
        return mail.extract_eml  # a message whose first header libmagic does not know
    return None


__all__ = ["extractor_for"]
