"""Labelled screenshots of card numbers, written apart from the detector and from
``media_corpus.py`` (whose numbers and layouts come from the generator the rules were tuned
on): the numbers and layouts of ``container_corpus.py`` (the brands' public test numbers and
their issuer prefixes, usual, dotted and irregular groupings) with its look-alikes, drawn by PIL
in several fonts (DejaVu Sans, Sans Mono, Serif, Condensed, Bold), sizes (11 to 28 px), themes
(light, dark, low-contrast grey, coloured table rows) and formats (PNG, and JPEG at quality 70
as screenshots pasted into tickets are). Test and benchmark only: nothing here imports
``vault.pii``.
"""

from __future__ import annotations

import io
import random
from collections import Counter
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from tests.pii import container_corpus as cc

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
FONTS = ("DejaVuSans.ttf", "DejaVuSansMono.ttf", "DejaVuSerif.ttf", "DejaVuSansCondensed.ttf",
         "DejaVuSans-Bold.ttf")
THEMES = {  # background, text, bar, alternate row
    "light": ((255, 255, 255), (30, 30, 30), (228, 232, 240), (246, 248, 252)),
    "dark": ((24, 26, 32), (220, 222, 228), (44, 46, 58), (34, 36, 44)),
    "grey": ((250, 250, 250), (120, 120, 128), (235, 235, 235), (240, 240, 240)),
    "blue": ((236, 242, 252), (20, 40, 90), (40, 70, 140), (214, 226, 248)),
}
SIZES = (11, 13, 16, 20, 28)


@dataclass
class Shot:
    name: str
    data: bytes
    labels: Counter[str]
    lines: list[str]


def render(lines: list[str], *, theme: str, font: str, size: int, fmt: str,
           width: int = 1280) -> bytes:
    """A ticket/console-like screenshot: a bar, then the lines as table rows."""
    bg, fg, bar, alt = THEMES[theme]
    step = int(size * 1.8)
    height = min(1080, 60 + step * len(lines) + 20)
    im = Image.new("RGB", (width, height), bg)
    d = ImageDraw.Draw(im)
    f = ImageFont.truetype(FONT_DIR + font, size)
    d.rectangle((0, 0, width, 40), fill=bar)
    d.text((16, 12), "Support ticket #48213 - attachment", font=ImageFont.truetype(
        FONT_DIR + "DejaVuSans.ttf", 14), fill=(255, 255, 255) if theme != "light" else fg)
    for i, line in enumerate(lines):
        y = 50 + i * step
        if i % 2:
            d.rectangle((0, y - 3, width, y + step - 3), fill=alt)
        d.text((24, y), line, font=f, fill=fg)
    buf = io.BytesIO()
    if fmt == "JPEG":
        im.save(buf, format="JPEG", quality=70)
    else:
        im.save(buf, format="PNG")
    return buf.getvalue()


def build(seed: int = 47, shots: int = 20, per_shot: int = 4) -> list[Shot]:
    """`shots` screenshots cycling through the themes, fonts, sizes and formats, each with
    `per_shot` card numbers and as many look-alikes among filler lines."""
    rng = random.Random(seed)
    cards = cc.Cards(rng)
    out = []
    for i in range(shots):
        theme = list(THEMES)[i % len(THEMES)]
        font = FONTS[(i // 2) % len(FONTS)]
        size = SIZES[(i * 3) % len(SIZES)]
        fmt = "JPEG" if i % 3 != 1 else "PNG"
        lines, planted = [], []
        for k in range(per_shot):
            card = cards.draw()
            planted.append(card)
            shown = cc.printed(rng, card)
            lines.append(rng.choice([
                f"Customer paid with card {shown} on 2026-03-0{k + 1}",
                f"pan={shown} rc=00 amt={rng.randint(100, 9999) / 100:.2f}",
                f"Card number: {shown}",
                f"{rng.randint(10**5, 10**6)}  {shown}  settled",
            ]))
            lines.append(f"Receipt shows {rng.choice(cc.LOOKALIKES)(rng, card)} - ok")
            lines.append(f"2026-03-01 10:{rng.randint(0, 59):02d} agent note: customer called "
                         f"about order {rng.randint(10**5, 10**6)}")
        rng.shuffle(lines)
        name = f"{i:02d}-{theme}-{font.split('.')[0]}-{size}px.{fmt.lower().replace('jpeg', 'jpg')}"
        out.append(Shot(name, render(lines, theme=theme, font=font, size=size, fmt=fmt),
                        Counter(cc.masked(c) for c in planted), lines))
    return out
