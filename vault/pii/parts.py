"""What a document or a message is made of, for scanning: text found at a place in it, and
files inside it. Extractors (Office and OpenDocument files, e-mail, HTML and XML) yield these;
the container walker (:mod:`vault.pii.scan`) scans text parts and opens embedded files by
their own detected type, within the limits of :mod:`vault.pii.containers`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TextPart:
    """Text to scan and where a reviewer finds it ("sheet Q1 cell B7", "paragraph 12",
    "header Subject", "part 2 text/plain"); None where the position says nothing useful."""

    text: str
    where: str | None = None


@dataclass(frozen=True, slots=True)
class Embedded:
    """A file inside a file (an e-mail attachment, an object embedded in a document), scanned
    by its own detected type; `name` is data, never a path to write to."""

    name: str
    data: bytes


Part = TextPart | Embedded

Extractor = Callable[[bytes], Iterator[Part]]
"""Reads a whole (size-limited) file and yields its parts; raises
:class:`vault.pii.extract.UnreadableFile` (with a reason a reviewer can read, never content)
when the file is not what its type says, is encrypted, or is damaged."""
