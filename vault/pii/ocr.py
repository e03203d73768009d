"""OCR of PNG/JPEG screenshots with Tesseract, keeping the word boxes.

The text handed to the scanner is built from Tesseract's words (one space between words of a
line, a newline between lines, a blank line between blocks), and every word remembers its
character span in that text, so a finding's ``start``/``end`` maps back to boxes on the image
(:meth:`OcrText.words_in`) for redaction.

Tesseract runs as a child process (``tesseract`` CLI, TSV output) with ``OMP_THREAD_LIMIT=1``
and a time-out: a crash or a hang on hostile input costs one file, never the scan. A tall
image is cut at blank pixel rows into strips OCRed in parallel (one process per core).

Languages: ``eng`` by default. Card numbers, track data and national-id digits read as well
with ``eng`` alone as with ``eng+fin`` on the media corpus, while ``eng+fin`` takes about 2x and
``eng+fin+jpn`` about 3-4x as long on a dense 1920x1080 screenshot (tests/bench/bench_ocr.py).
Finnish or Japanese words matter only for context labels, so those languages run only when
asked: ``langs="eng+fin+jpn"`` or the environment variable ``VAULT_OCR_LANGS``.
"""

from __future__ import annotations

import bisect
import io
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Pillow loads with the first image, not with every scan of a text file
    from PIL import Image

from .extract import UnreadableFile

DEFAULT_LANGS = "eng"
LANGS_ENV = "VAULT_OCR_LANGS"
MAX_PIXELS = 40_000_000
"""Larger images are refused (a 1920x1080 screenshot is 2.1 Mpx; 8K is 33 Mpx)."""
MAX_IMAGE_BYTES = 64 << 20
TIMEOUT_S = 120.0
"""Wall-clock limit for one Tesseract process."""
MIN_STRIP_HEIGHT = 300
"""Images lower than twice this are OCRed in one piece."""
SMALL_TEXT_WIDTH = 1000
"""Images narrower than this are upscaled 2x before OCR (small UI crops read better)."""
SMALL_TEXT_PX = 10
"""An image whose words are lower than this (the median height, in pixels: text of 13 px
and less) is OCRed again upscaled 2x, and that reading is kept: Tesseract misreads small
digits (8 as e, 9 as 0) far less at twice the size. On tests/pii/screenshot_corpus.py
(fonts of 11-28 px, JPEG at quality 70) card recall 0.944 -> 0.969 for 1.5x the time;
screenshots with larger text cost nothing more."""
IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
IMAGE_MIMES = frozenset(IMAGE_FORMATS.values())


@dataclass(frozen=True)
class Word:
    """One word Tesseract read, with its box in the original image's pixel coordinates."""

    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float
    block: int
    par: int
    line: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom), right/bottom exclusive."""
        return (self.left, self.top, self.left + self.width, self.top + self.height)


@dataclass(frozen=True)
class OcrText:
    """The OCR result of one image: scannable text and the words it was built from.

    ``offsets[i]`` is the character offset of ``words[i]`` in ``text``.
    """

    text: str
    words: tuple[Word, ...]
    offsets: tuple[int, ...]
    size: tuple[int, int]
    inverted: bool
    langs: str

    def words_in(self, start: int, end: int) -> list[Word]:
        """The words whose characters overlap the span ``[start, end)`` of ``text``."""
        i = max(bisect.bisect_right(self.offsets, start) - 1, 0)
        out = []
        while i < len(self.words) and self.offsets[i] < end:
            if self.offsets[i] + len(self.words[i].text) > start:
                out.append(self.words[i])
            i += 1
        return out


class OcrUnavailable(UnreadableFile):
    """Tesseract (or a language pack) is not installed."""


def tesseract_path() -> str | None:
    return shutil.which("tesseract")


def configured_langs() -> str:
    """Languages from ``VAULT_OCR_LANGS`` (e.g. ``eng+fin+jpn``), else :data:`DEFAULT_LANGS`."""
    return os.environ.get(LANGS_ENV, "").strip() or DEFAULT_LANGS


def load_image(data: bytes) -> Image.Image:
    """Decode a PNG or JPEG fully, upright (EXIF orientation applied).

    Raises :class:`UnreadableFile` for anything else, a truncated or corrupt image, or one
    larger than :data:`MAX_PIXELS`.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > MAX_IMAGE_BYTES:
        raise UnreadableFile(f"image larger than {MAX_IMAGE_BYTES >> 20} MiB: not OCRed")
    try:
        im = Image.open(io.BytesIO(data))
        if im.format not in IMAGE_FORMATS:
            raise UnreadableFile(f"not a PNG or JPEG image (found {im.format or 'unknown'})")
        w, h = im.size
        if w * h > MAX_PIXELS:
            raise UnreadableFile(f"image of {w}x{h} pixels exceeds the OCR limit of "
                                 f"{MAX_PIXELS // 1_000_000} Mpx")
        im.load()
        out = ImageOps.exif_transpose(im)
        out.format = im.format  # exif_transpose drops it
        return out
    except UnreadableFile:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise UnreadableFile("image is corrupt or not a PNG/JPEG") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise UnreadableFile("image is truncated or corrupt") from None


def prepare(im: Image.Image) -> tuple[Image.Image, bool, int]:
    """Grayscale, dark text on a light background, small images upscaled.

    Returns (image for Tesseract, whether it was inverted, scale factor). Dark-mode screenshots
    (median pixel darker than mid-grey) are inverted: Tesseract reads light-on-dark text
    markedly worse and slower.
    """
    from PIL import Image, ImageOps

    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(bg, rgba)
    g = im.convert("L")
    hist = g.histogram()
    half, acc, median = g.width * g.height / 2, 0, 255
    for v, n in enumerate(hist):
        acc += n
        if acc >= half:
            median = v
            break
    inverted = median < 128
    if inverted:
        g = ImageOps.invert(g)
    scale = 2 if g.width < SMALL_TEXT_WIDTH else 1
    if scale != 1:
        g = g.resize((g.width * scale, g.height * scale), Image.Resampling.LANCZOS)
    return g, inverted, scale


def _cut_rows(g: Image.Image, parts: int) -> list[int]:
    """Row indexes at which to cut ``g`` into about ``parts`` strips: uniform rows (no text)
    nearest to the even split points; no cut where none is near."""
    if parts <= 1 or g.height < 2 * MIN_STRIP_HEIGHT:
        return []
    cuts: list[int] = []
    reach = g.height // (4 * parts)
    for k in range(1, parts):
        target = g.height * k // parts
        for d in range(reach):
            hit = None
            for y in (target - d, target + d):
                lo, hi = g.crop((0, y, g.width, y + 1)).getextrema()
                if int(hi) - int(lo) < 48:  # type: ignore[arg-type]
                    hit = y
                    break
            if hit is not None:
                cuts.append(hit)
                break
    return sorted(set(cuts))


def _run_tesseract(exe: str, png: bytes, langs: str, timeout: float) -> str:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    try:
        p = subprocess.run(
            [exe, "stdin", "stdout", "-l", langs, "--psm", "3", "--dpi", "96", "tsv"],
            input=png, capture_output=True, timeout=timeout, env=env, check=False,
        )
    except subprocess.TimeoutExpired:
        raise UnreadableFile(f"OCR took longer than {timeout:.0f} s: not scanned") from None
    if p.returncode != 0:
        err = p.stderr.decode("utf-8", "replace")
        if "Failed loading language" in err or "Error opening data file" in err:
            raise OcrUnavailable(f"OCR language pack missing for {langs!r}",
                                 hint="install tesseract-ocr-eng, -fin (and -jpn)")
        raise UnreadableFile(f"OCR failed (tesseract exit status {p.returncode})")
    return p.stdout.decode("utf-8", "replace")


def _parse_tsv(tsv: str, dy: int, block_base: int, scale: int) -> list[Word]:
    words = []
    for row in tsv.splitlines()[1:]:
        f = row.split("\t")
        if len(f) < 12 or f[0] != "5":
            continue
        text = f[11].strip()
        if not text:
            continue
        left, top, width, height = (int(x) for x in f[6:10])
        words.append(Word(
            text=text, left=left // scale, top=(top + dy) // scale,
            width=-(-width // scale), height=-(-height // scale), conf=float(f[10]),
            block=block_base + int(f[2]), par=int(f[3]), line=int(f[4]),
        ))
    return words


_SEP = "*~\"'`|\u201c\u201d\u2018\u2019^"
_TRACK_OCR = re.compile(
    r"(?P<t1>B(?P<pan1>\d[\d ]{10,21}\d) ?[" + _SEP + r"]{1,2} ?"
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9 /.]{0,24}?) ?[" + _SEP + r"]{1,2} ?(?P<rest1>\d[\d ]{2,40}\d))"
    r"|(?P<t2>;(?P<pan2>\d[\d ]{10,21}\d) ?= ?(?P<rest2>\d[\d ]{2,40}\d))"
)


def fix_ocr_confusions(text: str) -> str:
    """Undo OCR confusions that hide magnetic-stripe track data, keeping every length: the
    ``^`` separators of track 1 read as ``*``, ``~`` or quotes, and spaces OCR inserts
    inside a track. The track is rewritten in its compact form, padded with spaces at its
    end, so offsets outside it do not move and its span still covers the same words."""
    if "B" not in text and ";" not in text:
        return text
    out: list[str] = []
    pos = 0
    for m in _TRACK_OCR.finditer(text):
        pan = (m.group("pan1") or m.group("pan2")).replace(" ", "")
        if not 12 <= len(pan) <= 19:
            continue
        if m.group("t1"):
            fixed = f"B{pan}^{m.group('name')}^" + m.group("rest1").replace(" ", "")
        else:
            fixed = f";{pan}=" + m.group("rest2").replace(" ", "")
        out.append(text[pos:m.start()])
        out.append(fixed.ljust(m.end() - m.start()))
        pos = m.end()
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


WIDE_GAP = 1.4
"""A gap between two words of a line this many times the line's usual gap (its lower median)
or more, and wider than it by a third of the text height (3 pixels at least), is a column
break, written as two spaces (one space would join a number to the column beside it:
"973722  5555 5559 6441 4305" must not read as one chain of five groups)."""


def _wide_gaps(words: Sequence[Word]) -> set[int]:
    """Indexes i of `words` whose gap after words[i - 1] (same line) is a column break."""
    lines: dict[tuple[int, int, int], list[int]] = {}
    for i, w in enumerate(words):
        lines.setdefault((w.block, w.par, w.line), []).append(i)
    wide: set[int] = set()
    for idx in lines.values():
        gaps = [(i, words[i].left - (words[j].left + words[j].width))
                for j, i in zip(idx, idx[1:], strict=False)]
        if not gaps:
            continue
        usual = sorted(g for _, g in gaps)[(len(gaps) - 1) // 2]  # the lower median
        height = sorted(words[i].height for i in idx)[len(idx) // 2]
        wide.update(i for i, g in gaps if g >= WIDE_GAP * max(usual, 1)
                    and g - usual >= max(3, 0.35 * height))  # (boxes are whole pixels)
    return wide

_CHAIN_SEP = re.compile(r"(?<![0-9])[0-9]{2,13}(?:[-.][0-9]{1,13}){2,5}(?![0-9])")


def fix_separator_confusions(text: str) -> str:
    """A dash read as a dot (or a dot as a dash) inside a chain of digit groups whose other
    separators are all the other one, undone in place (same length): small text makes
    "3566-0083-0608-9585" read "3566-0083-0608.9585"."""
    if "." not in text or "-" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        chain = m.group(0)
        dashes, dots = chain.count("-"), chain.count(".")
        if dashes and dots and min(dashes, dots) == 1 and max(dashes, dots) >= 2:
            return chain.replace(".", "-") if dashes > dots else chain.replace("-", ".")
        return chain

    return _CHAIN_SEP.sub(one, text)


def _assemble(words: Iterable[Word]) -> tuple[str, tuple[Word, ...], tuple[int, ...]]:
    parts: list[str] = []
    kept: list[Word] = []
    offsets: list[int] = []
    pos = 0
    prev: tuple[int, int, int] | None = None
    words = list(words)
    wide = _wide_gaps(words)
    for i, w in enumerate(words):
        key = (w.block, w.par, w.line)
        if prev is not None:
            sep = (("  " if i in wide else " ") if key == prev
                   else ("\n" if key[0] == prev[0] else "\n\n"))
            parts.append(sep)
            pos += len(sep)
        prev = key
        kept.append(w)
        offsets.append(pos)
        parts.append(w.text)
        pos += len(w.text)
    return (fix_separator_confusions(fix_ocr_confusions("".join(parts))), tuple(kept),
            tuple(offsets))


def ocr_image(data: bytes, *, langs: str | None = None, workers: int | None = None,
              timeout: float = TIMEOUT_S) -> OcrText:
    """OCR a PNG or JPEG screenshot.

    Raises :class:`UnreadableFile` when the bytes are not a readable PNG/JPEG within the
    limits, or Tesseract fails or times out; :class:`OcrUnavailable` when Tesseract or a
    language pack is missing. Box coordinates are in the upright image (EXIF orientation
    applied), the frame :func:`vault.pii.redact.redact_image` draws in.
    """
    im = load_image(data)
    return ocr_loaded(im, langs=langs, workers=workers, timeout=timeout)


def ocr_loaded(im: Image.Image, *, langs: str | None = None, workers: int | None = None,
               timeout: float = TIMEOUT_S) -> OcrText:
    """:func:`ocr_image` for an already decoded image (e.g. a rendered PDF page)."""
    from PIL import Image

    exe = tesseract_path()
    if exe is None:
        raise OcrUnavailable("cannot OCR images: tesseract is not installed",
                             hint="install the Debian package tesseract-ocr")
    langs = langs or configured_langs()
    size = im.size
    g, inverted, scale = prepare(im)
    n = workers if workers is not None else min(2, os.cpu_count() or 1)
    words = _read(exe, g, scale, n, langs, timeout)
    heights = sorted(w.height for w in words)
    if scale == 1 and heights and heights[len(heights) // 2] < SMALL_TEXT_PX:
        scale = 2
        g = g.resize((g.width * scale, g.height * scale), Image.Resampling.LANCZOS)
        words = _read(exe, g, scale, n, langs, timeout)
    text, kept, offsets = _assemble(words)
    return OcrText(text, kept, offsets, size, inverted, langs)


def _read(exe: str, g: Image.Image, scale: int, n: int, langs: str,
          timeout: float) -> list[Word]:
    """The words of prepared image `g` (boxes divided by `scale`), in `n` strips at most."""
    cuts = _cut_rows(g, n)
    bounds = list(zip([0, *cuts], [*cuts, g.height], strict=True))

    def one(i: int) -> list[Word]:
        top, bottom = bounds[i]
        strip = g if len(bounds) == 1 else g.crop((0, top, g.width, bottom))
        buf = io.BytesIO()
        strip.save(buf, format="PNG", compress_level=1)
        tsv = _run_tesseract(exe, buf.getvalue(), langs, timeout)
        return _parse_tsv(tsv, top, i * 100_000, scale)

    if len(bounds) == 1:
        return one(0)
    with ThreadPoolExecutor(max_workers=len(bounds)) as pool:
        return [w for ws in pool.map(one, range(len(bounds))) for w in ws]


def boxes_of(words: Sequence[Word]) -> list[tuple[int, int, int, int]]:
    """The boxes of ``words`` as (left, top, right, bottom)."""
    return [w.box for w in words]
