"""Seeded, deterministic labelled corpus for the PII scanner.

Documents (gateway logs, CSV/JSON/XML exports, device configs, interview notes in English,
Finnish and Japanese; UTF-8, UTF-16 and Latin-1) with planted positives whose kind and
character offsets are recorded, mixed with card-number look-alikes that must NOT be reported.
Test-only: the planted values are synthetic.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from vault.pii.cards import luhn_complete, luhn_ok
from vault.pii.ids import HETU_CHECK, iban_check_digits, my_number_check_digit

# (prefix choices, lengths) per brand, inside the real IIN ranges
BRAND_SPECS: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "visa": (("4",), (13, 16, 19)),
    "mastercard": (("51", "52", "53", "54", "55", "2221", "2500", "2720"), (16,)),
    "amex": (("34", "37"), (15,)),
    "discover": (("6011", "644", "649", "65", "622126", "622925"), (16, 17, 18, 19)),
    "jcb": (("3528", "3550", "3589"), (16, 17, 18, 19)),
    "diners": (("300", "305", "36", "38", "39"), (14, 15, 16, 17, 18, 19)),
    "unionpay": (("620", "627"), (16, 17, 18, 19)),
    "maestro": (("50", "56", "58", "63", "67"), (12, 13, 14, 15, 16, 17, 18, 19)),
}

GROUPINGS: dict[int, tuple[tuple[int, ...], ...]] = {
    12: ((4, 4, 4),),
    13: ((4, 4, 5),),
    14: ((4, 6, 4),),
    15: ((4, 6, 5),),
    16: ((4, 4, 4, 4),),
    17: ((4, 4, 4, 5),),
    18: ((4, 4, 4, 6),),
    19: ((4, 4, 4, 4, 3),),
}


def make_pan(rng: random.Random, brand: str | None = None, length: int | None = None) -> str:
    brand = brand or rng.choice(sorted(BRAND_SPECS))
    prefixes, lengths = BRAND_SPECS[brand]
    n = length or rng.choice(lengths)
    p = rng.choice(prefixes)
    body = p + "".join(rng.choice("0123456789") for _ in range(n - len(p) - 1))
    return luhn_complete(body)


def bad_luhn(pan: str) -> str:
    last = int(pan[-1])
    return pan[:-1] + str((last + 1) % 10)


def group(pan: str, sep: str, layout: tuple[int, ...] | None = None) -> str:
    layout = layout or GROUPINGS[len(pan)][0]
    out, i = [], 0
    for g in layout:
        out.append(pan[i : i + g])
        i += g
    return sep.join(out)


def fmt_pan(rng: random.Random, pan: str) -> str:
    return rng.choice(["", " ", "-"]) and group(pan, rng.choice([" ", "-"])) or pan


def make_iban(rng: random.Random, country: str = "FI", bban: str | None = None) -> str:
    lengths = {"FI": 18, "DE": 22, "FR": 27, "GB": 22, "NL": 18}
    n = lengths[country] - 4
    if bban is None:
        if country == "GB":
            bban = "NWBK" + "".join(rng.choice("0123456789") for _ in range(n - 4))
        elif country == "NL":
            bban = "ABNA" + "".join(rng.choice("0123456789") for _ in range(n - 4))
        else:
            bban = "".join(rng.choice("0123456789") for _ in range(n))
    return country + iban_check_digits(country, bban) + bban


def iban_spaced(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def make_hetu(rng: random.Random) -> str:
    y = rng.randint(1950, 2015)
    d, m = rng.randint(1, 28), rng.randint(1, 12)
    sign = "-" if y < 2000 else "A"
    nnn = rng.randint(2, 899)
    base = f"{d:02d}{m:02d}{y % 100:02d}"
    return f"{base}{sign}{nnn:03d}{HETU_CHECK[int(base + f'{nnn:03d}') % 31]}"


def make_my_number(rng: random.Random) -> str:
    first = "".join(rng.choice("0123456789") for _ in range(11))
    return first + str(my_number_check_digit(first))


def make_ssn(rng: random.Random) -> str:
    return f"{rng.randint(1, 665):03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


@dataclass(frozen=True)
class Planted:
    kind: str
    start: int
    end: int


@dataclass
class Doc:
    name: str
    encoding: str
    text: str = ""
    planted: list[Planted] = field(default_factory=list)
    lookalikes: int = 0

    def data(self) -> bytes:
        if self.encoding == "utf-16":
            return self.text.encode("utf-16")  # with BOM
        return self.text.encode(self.encoding)


class _Builder:
    def __init__(self, name: str, encoding: str = "utf-8") -> None:
        self.doc = Doc(name, encoding)
        self.parts: list[str] = []
        self.pos = 0

    def add(self, s: str) -> None:
        self.parts.append(s)
        self.pos += len(s)

    def plant(self, kind: str, s: str) -> None:
        self.doc.planted.append(Planted(kind, self.pos, self.pos + len(s)))
        self.add(s)

    def fake(self, s: str) -> None:
        self.doc.lookalikes += 1
        self.add(s)

    def done(self) -> Doc:
        self.doc.text = "".join(self.parts)
        return self.doc


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def lookalike(rng: random.Random) -> str:
    """A string that contains card-like digits but no PAN / track data."""
    pan = make_pan(rng, length=16)
    k = rng.randrange(11)
    if k == 0:
        return pan[:6] + "******" + pan[-4:]
    if k == 1:
        return f"{pan[:4]}-{pan[4:6]}XX-XXXX-{pan[-4:]}"
    if k == 2:
        return f"{pan[:4]} {pan[4:6]}** **** {pan[-4:]}"
    if k == 3:  # glued into a 20-digit run
        return _digits(rng, 2) + pan + _digits(rng, 2)
    if k == 4:  # timestamp
        return f"2024{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{_digits(rng, 9)}"
    if k == 5:
        return f"ORD-{rng.randint(2020, 2025)}-{_digits(rng, 8)}"
    if k == 6:
        return f"+358 40 {_digits(rng, 3)} {_digits(rng, 4)}"
    if k == 7:  # IBAN whose BBAN starts with a Luhn-valid 16-digit card-looking run
        core = make_pan(rng, "discover", 16)
        return iban_spaced(make_iban(rng, "FR", core + _digits(rng, 7)))
    if k == 8:
        return bad_luhn(pan)
    if k == 9:  # mixed separators
        return f"{pan[:4]} {pan[4:8]}-{pan[8:12]} {pan[12:]}"
    return luhn_complete("4" + _digits(rng, 13))  # Visa with 15 digits: wrong length


def track1(pan: str, rng: random.Random) -> str:
    return f"%B{pan}^DOE/JOHN^{rng.randint(25, 30)}{rng.randint(1, 12):02d}101{_digits(rng, 12)}?"


def track2(pan: str, rng: random.Random, sentinels: bool = True) -> str:
    body = f"{pan}={rng.randint(25, 30)}{rng.randint(1, 12):02d}101{_digits(rng, 12)}"
    return f";{body}?" if sentinels else body


def gateway_log(rng: random.Random, lines: int, leak_rate: float = 0.05) -> Doc:
    """Digit-dense payment-gateway log: masked PANs, RRNs, STANs, amounts, timestamps."""
    b = _Builder("gateway.log")
    for i in range(lines):
        pan = make_pan(rng)
        ts = f"2024-03-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        b.add(
            f"{ts}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z INFO gw-0{i % 4} "
            f"txn={_digits(rng, 12)} mid={_digits(rng, 15)} tid=T{_digits(rng, 7)} "
            f"card={pan[:6]}******{pan[-4:]} exp={rng.randint(1, 12):02d}/{rng.randint(25, 30)} "
            f"amt={rng.randint(1, 9999999):012d} cur=978 "
            f"rrn=4{rng.randint(1, 366):03d}{_digits(rng, 8)} "
            f"stan={_digits(rng, 6)} "
            f"ts={2024}{_digits(rng, 13)} "
            f"ip=10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)} resp=00 "
        )
        r = rng.random()
        if r < leak_rate:
            b.add("pan=")
            b.plant("pan", fmt_pan(rng, make_pan(rng)))
        elif r < leak_rate * 1.4:
            b.add("raw=")
            b.plant("track_data", track2(make_pan(rng), rng, sentinels=rng.random() < 0.5))
        elif r < leak_rate * 1.6:
            b.add("t1=")
            b.plant("track_data", track1(make_pan(rng), rng))
        elif r < leak_rate * 3:
            b.add("data=")
            b.fake(lookalike(rng))
        b.add("\n")
    return b.done()


def _records(rng: random.Random, n: int) -> list[tuple[str, str, bool]]:
    """(name, card string, is_real_pan)."""
    out = []
    for _ in range(n):
        name = rng.choice(["Matti Meikäläinen", "John Smith", "Aino Virtanen", "Jane Doe"])
        if rng.random() < 0.5:
            out.append((name, fmt_pan(rng, make_pan(rng)), True))
        else:
            out.append((name, lookalike(rng), False))
    return out


def csv_export(rng: random.Random, n: int, encoding: str) -> Doc:
    b = _Builder(f"export-{encoding}.csv", encoding)
    b.add("id,name,card,amount,note\r\n")
    for i, (name, card, real) in enumerate(_records(rng, n)):
        b.add(f"{i},{name},")
        (b.plant("pan", card) if real else b.fake(card))
        b.add(f",{rng.randint(1, 99999) / 100:.2f},ok\r\n")
    return b.done()


def json_export(rng: random.Random, n: int) -> Doc:
    b = _Builder("export.json")
    b.add("[\n")
    for i, (name, card, real) in enumerate(_records(rng, n)):
        b.add(f'  {{"id": {i}, "name": {json.dumps(name, ensure_ascii=False)}, "pan": "')
        (b.plant("pan", card) if real else b.fake(card))
        b.add('"}' + (",\n" if i < n - 1 else "\n"))
    b.add("]\n")
    return b.done()


def xml_export(rng: random.Random, n: int) -> Doc:
    b = _Builder("export.xml")
    b.add('<?xml version="1.0" encoding="UTF-8"?>\n<transactions>\n')
    for i, (name, card, real) in enumerate(_records(rng, n)):
        b.add(f'  <txn id="{i}"><holder>{name}</holder><cardNumber>')
        (b.plant("pan", card) if real else b.fake(card))
        b.add("</cardNumber></txn>\n")
    b.add("</transactions>\n")
    return b.done()


def config(rng: random.Random) -> Doc:
    b = _Builder("router.cfg")
    b.add("hostname edge-01\n!\nenable secret 5 ")
    b.plant("secret", "$1$mERr$hx5rVt7rPNoS4wqbXKX7m0")
    b.add("\nusername admin privilege 15 secret 5 ")
    b.plant("secret", "$1$aBcD$EfGhIjKlMnOpQrStUv1")
    b.add("\nsnmp-server community ")
    b.plant("secret", "public")
    b.add(" RO\ninterface Gi0/1\n ip address 192.0.2.1 255.255.255.0\n!\n[db]\npassword=")
    b.plant("secret", "S3cr3t!" + _digits(rng, 4))
    b.add("\nurl = https://")
    b.plant("secret", "svc:" + "pw" + _digits(rng, 6))
    b.add("@db.internal:5432/app\naws_access_key_id = ")
    b.plant(
        "secret",
        "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
    )
    b.add("\n# test card in a comment: ")
    b.plant("pan", group(make_pan(rng, "visa", 16), " "))
    b.add("\n")
    return b.done()


def interview_notes(rng: random.Random, lang: str, encoding: str = "utf-8") -> Doc:
    b = _Builder(f"notes-{lang}-{encoding}.txt", encoding)
    amex = make_pan(rng, "amex")
    if lang == "fi":
        b.add("Haastattelu: järjestelmänvalvoja näytti kortin numeron ")
        b.plant("pan", group(amex, " "))
        b.add(" ja turvakoodi ")
        b.plant("cvv", _digits(rng, 4))
        b.add(". Henkilötunnus ")
        b.plant("national_id", make_hetu(rng))
        b.add(", tilinumero ")
        b.plant("iban", iban_spaced(make_iban(rng, "FI")))
        b.add(". Viite ")
        b.fake(lookalike(rng))
        b.add(".\nRaakadata: ")
        b.plant("track_data", track2(make_pan(rng), rng))
        b.add("\n")
    elif lang == "ja":
        b.add("面談メモ：担当者がカード番号 ")
        b.plant("pan", make_pan(rng, "jcb", 16))
        b.add(" を画面に表示した。セキュリティコード ")
        b.plant("cvv", _digits(rng, 3))
        b.add("。マイナンバー ")
        b.plant("national_id", make_my_number(rng))
        b.add("。注文番号 ")
        b.fake(lookalike(rng))
        b.add("。\n")
    else:
        b.add("Interview notes: the DBA pasted card ")
        b.plant("pan", group(make_pan(rng, "mastercard"), "-"))
        b.add(" with CVV2: ")
        b.plant("cvv", _digits(rng, 3))
        b.add(" into the ticket; SSN ")
        b.plant("national_id", make_ssn(rng))
        b.add("; contact ")
        b.plant("email", "dba.person@example.com")
        b.add(". Masked sample ")
        b.fake(lookalike(rng))
        b.add(" and order ")
        b.fake(lookalike(rng))
        b.add(".\nTrack: ")
        b.plant("track_data", track1(make_pan(rng), rng))
        b.add("\n")
    return b.done()


def generate(seed: int = 1234, scale: int = 1) -> list[Doc]:
    rng = random.Random(seed)
    docs = [
        gateway_log(rng, 400 * scale),
        csv_export(rng, 150 * scale, "utf-8"),
        csv_export(rng, 100 * scale, "utf-16"),
        csv_export(rng, 100 * scale, "latin-1"),
        json_export(rng, 150 * scale),
        xml_export(rng, 150 * scale),
        config(rng),
    ]
    for _ in range(5 * scale):
        docs.append(interview_notes(rng, "en"))
        docs.append(interview_notes(rng, "fi", rng.choice(["utf-8", "latin-1", "utf-16"])))
        docs.append(interview_notes(rng, "ja", rng.choice(["utf-8", "utf-16"])))
    return docs


__all__ = ["Doc", "Planted", "generate", "gateway_log", "make_pan", "luhn_ok", "lookalike"]
