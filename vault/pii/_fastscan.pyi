from collections.abc import Callable, Sequence
from typing import Any

MAX_GROUP: int
MAX_CHAIN: int
MAX_LAYOUT_GROUPS: int

def configure(
    prefixes: Sequence[tuple[bytes, int]], layouts: Sequence[Sequence[int]],
    dotted_layouts: Sequence[Sequence[int]],
    free: tuple[int, int, int, int, int, int] | None = None,
) -> None: ...
def pan_matches(
    buf: bytes | bytearray | memoryview, validate: bool = True
) -> list[tuple[int, int]]: ...
def ipv4_matches(buf: bytes | bytearray | memoryview) -> list[tuple[int, int]]: ...
def configure_labels(words: Sequence[bytes], suffixes: Sequence[bytes]) -> None: ...

_Hit = tuple[str, str, int, int, str, str, float]
_Row = tuple[str, str, int, int, int | None, str, float, str]

def pan_hits(buf: bytes | bytearray | memoryview) -> list[_Hit]: ...
def ipv4_hits(buf: bytes | bytearray | memoryview) -> list[_Hit]: ...
def drop_overlaps(hits: list[_Hit], priority: dict[str, int]) -> list[_Hit]: ...
def rows(
    buf: bytes | bytearray | memoryview, hits: list[_Hit], base: int, base_line: int, lo: int,
    hi: int, cache: dict[str, str], value_hash: Callable[[str], str] | bool | None,
) -> list[_Row]: ...
def distinct(
    rows: list[_Row], page: int | None, cap: int, full: dict[str, frozenset[str]],
) -> dict[str, list[Any]]: ...
def distinct_hits(
    buf: bytes | bytearray | memoryview, hits: list[_Hit], base_line: int, lo: int, hi: int,
    page: int | None, cap: int, full: dict[str, frozenset[str]],
) -> dict[str, list[Any]]: ...
def json_hits(
    buf: bytes | bytearray | memoryview, hits: list[_Hit], base_line: int, lo: int, hi: int,
    head: str, page: str, cache: dict[str | float, str], fallback: Callable[[str | float], str],
) -> tuple[int, bytes]: ...
def json_lines(
    rows: list[_Row], head: str, page: str, cache: dict[str | float, str],
    fallback: Callable[[str | float], str],
) -> bytes: ...
def digit_prefilter(
    buf: bytes | bytearray | memoryview,
) -> tuple[list[int], list[int], list[int], list[int], list[int], list[int]]: ...
