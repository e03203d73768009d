"""An independent, labelled corpus of card numbers in many printed layouts (test-only).

Written apart from the detector: nothing here imports ``vault.pii`` (no brand table, no Luhn,
no layout list of the scanner). The card brands' issuer ranges and lengths below are the
ones the schemes publish (ISO/IEC 7812 IINs as listed in public references), the Luhn check
digit is computed here, and IBANs get their ISO 13616 check digits here.

Documents look like what a cardholder-data discovery scan meets: payment-gateway logs
(key=value), CSV exports (``,`` ``;`` tab ``|``, quoted or not), settlement and
reconciliation lines (fixed-width numeric fields), free-text UAT and support-ticket notes,
and JSON. Every real card number written in them is labelled with its exact character span
(``LabelledDoc.cards``); everything else is a negative, many of them hard ones: masked and
truncated PANs, timestamps, order ids and references after non-card field names, IBANs,
phone numbers, IPv4/IPv6 addresses, version strings, dotted decimals, digits inside longer
runs, Luhn-valid numbers of no card issuer, and real issuers' numbers with a bad check digit
or the wrong length. ``NEGATIVES`` makes each class on its own (for targeted tests).

Printed layouts: runs of digits, or groups separated by one separator character used
throughout (single spaces, single dashes, or single dots). Dots only in the schemes' usual
printed groupings (4.4.4.4, Amex 4.6.5, Diners 4.6.4, 19-digit 4.4.4.4.3 / 4.4.4.7): that is
how they appear in (European) exports; an irregular dotted grouping is not written here.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

# ------------------------------------------------------------------------------ brands
# brand -> (issuer ranges as (low, high) of equal width, lengths with weights)
BRANDS: dict[str, tuple[tuple[tuple[str, str], ...], tuple[tuple[int, float], ...]]] = {
    "visa": ((("4", "4"),), ((16, 0.84), (13, 0.06), (19, 0.10))),
    "mastercard": ((("51", "55"), ("2221", "2720")), ((16, 1.0),)),
    "amex": ((("34", "34"), ("37", "37")), ((15, 1.0),)),
    "discover": (
        (("6011", "6011"), ("644", "649"), ("65", "65"), ("622126", "622925")),
        ((16, 0.75), (17, 0.05), (18, 0.05), (19, 0.15)),
    ),
    "jcb": ((("3528", "3589"),), ((16, 0.8), (17, 0.05), (18, 0.05), (19, 0.10))),
    "diners14": ((("300", "305"), ("36", "36")), ((14, 1.0),)),  # Diners International
    "diners16": ((("38", "39"),), ((16, 1.0),)),
    "unionpay": ((("620", "621"), ("623", "629")), ((16, 0.6), (17, 0.05), (18, 0.05), (19, 0.3))),
    "maestro": (
        (("5018", "5018"), ("5020", "5020"), ("5038", "5038"), ("5893", "5893"), ("6304", "6304"),
         ("6759", "6759"), ("6761", "6763")),
        ((16, 0.55), (19, 0.25), (12, 0.05), (13, 0.05), (18, 0.1)),
    ),  # fmt: skip
}
BRAND_WEIGHTS = {"visa": 34, "mastercard": 25, "amex": 9, "discover": 7, "jcb": 5, "diners14": 4,
                 "diners16": 2, "unionpay": 7, "maestro": 7}  # fmt: skip

# First digits no card scheme issues under (ISO/IEC 7812 major industry identifiers 0, 1, 7,
# 8 and 9: ISO/TC 68, airlines, petroleum, healthcare/telecom, national assignment); 81/82
# (RuPay), 9792 (Troy) and 86 (UzCard) are left out.
UNKNOWN_PREFIXES = ("0", "1", "70", "71", "72", "73", "74", "75", "76", "77", "78", "79", "80",
                    "83", "84", "85", "87", "88", "89", "90", "91", "92", "93", "94", "95",
                    "96")  # fmt: skip

DIGITS = "0123456789"


def luhn_sum_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def with_check_digit(body: str) -> str:
    for c in DIGITS:
        if luhn_sum_ok(body + c):
            return body + c
    raise AssertionError("unreachable")


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(DIGITS) for _ in range(n))


def _weighted(rng: random.Random, pairs: tuple[tuple[int, float], ...]) -> int:
    return rng.choices([p for p, _ in pairs], [w for _, w in pairs])[0]


def issuer_prefix(rng: random.Random, brand: str) -> str:
    lo, hi = rng.choice(BRANDS[brand][0])
    return str(rng.randint(int(lo), int(hi))).zfill(len(lo))


def make_card(rng: random.Random, brand: str | None = None, length: int | None = None) -> str:
    """A Luhn-valid number of ``brand`` (weighted choice when None) and one of its lengths."""
    if brand is None:
        names = [b for b in BRAND_WEIGHTS if length is None or length in card_lengths(b)]
        brand = rng.choices(names, [BRAND_WEIGHTS[b] for b in names])[0]
    n = length or _weighted(rng, BRANDS[brand][1])
    p = issuer_prefix(rng, brand)
    return with_check_digit(p + digits(rng, n - len(p) - 1))


def card_lengths(brand: str) -> tuple[int, ...]:
    return tuple(n for n, _ in BRANDS[brand][1])


def is_card(number: str) -> bool:
    """``number`` is a card number by this module's table: an issuer's range, one of the
    brand's lengths, Luhn-valid."""
    return luhn_sum_ok(number) and any(
        len(number) in card_lengths(brand) and any(lo <= number[: len(lo)] <= hi for lo, hi in rs)
        for brand, (rs, _) in BRANDS.items()
    )


# ------------------------------------------------------------------------------ layouts
# The schemes' usual printed groupings per length, and irregular ones seen in exports, logs
# and hand-typed notes (BIN + rest, halves, wrapped columns, a two-digit lead group ...).
USUAL: dict[int, tuple[tuple[int, ...], ...]] = {
    12: ((4, 4, 4),),
    13: ((4, 4, 5), (4, 3, 3, 3)),
    14: ((4, 6, 4),),
    15: ((4, 6, 5),),
    16: ((4, 4, 4, 4),),
    17: ((4, 4, 4, 5),),
    18: ((4, 4, 4, 6),),
    19: ((4, 4, 4, 4, 3), (4, 4, 4, 7)),
}
# Groups of four with the remainder last: how a system that groups any number by four
# prints the lengths without a scheme layout of their own.
FOURS: dict[int, tuple[tuple[int, ...], ...]] = {
    13: ((4, 4, 4, 1),),
    14: ((4, 4, 4, 2),),
    15: ((4, 4, 4, 3),),
    17: ((4, 4, 4, 4, 1),),
    18: ((4, 4, 4, 4, 2),),
    19: ((4, 4, 4, 4, 3),),
}
IRREGULAR: dict[int, tuple[tuple[int, ...], ...]] = {
    12: ((6, 6), (4, 8)),
    13: ((6, 7), (2, 4, 4, 3)),
    14: ((6, 8), (2, 4, 4, 4)),
    15: ((6, 9), (5, 5, 5), (4, 11)),
    16: ((4, 4, 8), (6, 10), (2, 4, 4, 6), (8, 8), (4, 12), (4, 8, 4), (6, 6, 4), (6, 4, 6),
         (4, 4, 4, 2, 2)),
    17: ((6, 11), (4, 4, 9)),
    18: ((6, 12), (4, 4, 10)),
    19: ((6, 13), (8, 11), (4, 4, 11)),
}  # fmt: skip
# the missed layouts of the reference corpus: (length, groups)
MISSED = ((19, (6, 13)), (13, (4, 4, 4, 1)), (14, (4, 4, 4, 2)), (16, (4, 4, 8)), (16, (6, 10)),
          (16, (2, 4, 4, 6)))  # fmt: skip
DOTTED: dict[int, tuple[tuple[int, ...], ...]] = {
    13: ((4, 4, 4, 1),),
    14: ((4, 6, 4), (4, 4, 4, 2)),
    15: ((4, 6, 5),),
    16: ((4, 4, 4, 4),),
    19: ((4, 4, 4, 4, 3), (4, 4, 4, 7)),
}


def grouped(number: str, sep: str, groups: tuple[int, ...]) -> str:
    assert sum(groups) == len(number), (number, groups)
    out, i = [], 0
    for g in groups:
        out.append(number[i : i + g])
        i += g
    return sep.join(out)


def written(rng: random.Random, number: str, irregular: float = 0.25) -> str:
    """``number`` as a person or a system would print it: a run, or grouped."""
    n = len(number)
    r = rng.random()
    if r < 0.3:
        return number
    if r < 0.38 and n in DOTTED:
        return grouped(number, ".", rng.choice(DOTTED[n]))
    sep = " " if rng.random() < 0.6 else "-"
    r = rng.random()
    if r < irregular:
        return grouped(number, sep, rng.choice(IRREGULAR[n]))
    if r < irregular + 0.2 and n in FOURS:
        return grouped(number, sep, rng.choice(FOURS[n]))
    return grouped(number, sep, rng.choice(USUAL[n]))


def any_layout(rng: random.Random, number: str) -> str:
    """Like :func:`written` but from every layout kind, irregular ones as often as usual ones."""
    return written(rng, number, irregular=0.5)


# ------------------------------------------------------------------------------ negatives


def bad_check_digit(number: str) -> str:
    """``number`` with another last digit (so the Luhn check fails)."""
    step = 1 + sum(map(int, number)) % 9
    return number[:-1] + str((int(number[-1]) + step) % 10)


def looks_like_card(number: str) -> bool:
    """12-19 digits, Luhn-valid, led by 2-6: what could pass for a card number anywhere (random
    ids are drawn without these, so that ground truth stays unambiguous)."""
    return 12 <= len(number) <= 19 and number[0] in "23456" and luhn_sum_ok(number)


def plain_id(rng: random.Random, n: int) -> str:
    """A random numeric id of ``n`` digits that is no card-like number."""
    while True:
        v = digits(rng, n)
        if not looks_like_card(v):
            return v


def masked(rng: random.Random) -> str:
    c = make_card(rng, length=16)
    x = rng.choice("*X•x#")
    k = rng.randrange(9)
    if k == 0:
        return c[:6] + x * 6 + c[-4:]
    if k == 1:
        return f"{c[:4]} {c[4:6]}{x * 2} {x * 4} {c[-4:]}"
    if k == 2:
        return f"{c[:4]}-{c[4:6]}{x * 2}-{x * 4}-{c[-4:]}"
    if k == 3:
        return x * 12 + c[-4:]
    if k == 4:
        return f"{x * 4} {x * 4} {x * 4} {c[-4:]}"
    if k == 5:
        return f"{c[:4]} {c[4:8]} {x * 4} {c[-4:]}"
    if k == 6:
        return c[:4] + x * 8 + c[-4:]
    if k == 7:
        return f"{c[:6]}{x * 6}{c[-4:]}"
    return f"{c[:4]}.{c[4:6]}{x * 2}.{x * 4}.{c[-4:]}"


def truncated(rng: random.Random) -> str:
    c = make_card(rng, rng.choice(["visa", "mastercard", "amex"]))
    k = rng.randrange(5)
    if k == 0:
        return f"{c[:6]}...{c[-4:]}"
    if k == 1:
        return f"{c[:6]} {c[-4:]}"  # first six, last four
    if k == 2:
        return c[:-1]  # one digit short: a length the brand does not issue
    if k == 3:
        return grouped(c, " ", USUAL[len(c)][0])[:-2]  # last two digits cut
    return f"ending {c[-4:]}"


def timestamp(rng: random.Random) -> str:
    y, mo, d = rng.randint(2019, 2027), rng.randint(1, 12), rng.randint(1, 28)
    h, mi, s, ms = rng.randrange(24), rng.randrange(60), rng.randrange(60), rng.randrange(1000)
    k = rng.randrange(7)
    if k == 0:
        return f"{y}{mo:02d}{d:02d}{h:02d}{mi:02d}{s:02d}{ms:03d}"  # 17 digits
    if k == 1:
        return f"{y}{mo:02d}{d:02d}{h:02d}{mi:02d}{s:02d}"
    if k == 2:
        return f"{y}{mo:02d}{d:02d} {h:02d}{mi:02d}{s:02d}{ms:03d}"
    if k == 3:
        return str(rng.randint(1_546_300_800_000, 1_830_000_000_000))  # epoch milliseconds
    if k == 4:
        return f"{y}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{ms:03d}Z"
    if k == 5:
        return f"{y}.{mo:02d}.{d:02d} {h:02d}:{mi:02d}:{s:02d}"
    return f"{y}{mo:02d}{d:02d}{h:02d}{mi:02d}{s:02d}{digits(rng, 6)}"  # with microseconds


# field names a system gives ids, references, amounts and timestamps (non-card fields)
ID_FIELDS = ("order_id", "orderId", "order no", "invoice", "invoice_no", "ref", "reference",
             "txn_id", "txnId", "transaction_id", "rrn", "stan", "merchant_id", "merchantId",
             "mid", "tid", "terminal_id", "batch", "seq", "tracking_no", "serial", "timestamp",
             "ts", "amount", "imei", "iccid", "msisdn")  # fmt: skip
ID_SEPS = ("=", ": ", ":", " = ", '": "', "='")


def labelled_id(rng: random.Random) -> tuple[str, str]:
    """(label and separator, value): an id that is a Luhn-valid number of a card issuer's range
    and length (the worst case), written as a run or in an irregular grouping."""
    value = make_card(rng)
    if rng.random() < 0.35:  # (a number in a scheme's own grouping is a card whatever its field)
        n = len(value)
        value = grouped(value, rng.choice(" -"), rng.choice(IRREGULAR[n]))
    return rng.choice(ID_FIELDS) + rng.choice(ID_SEPS), value


def _iban_check(country: str, bban: str) -> str:
    s = bban + country + "00"
    num = "".join(str(int(ch, 36)) for ch in s)
    return f"{98 - int(num) % 97:02d}"


def iban(rng: random.Random, spaced: bool | None = None) -> str:
    country, n, bank = rng.choice([("FI", 14, ""), ("DE", 18, ""), ("FR", 23, ""),
                                   ("NL", 10, "ABNA"), ("GB", 14, "NWBK"), ("BE", 12, ""),
                                   ("AT", 16, ""), ("ES", 20, ""), ("IT", 22, "X")])  # fmt: skip
    if rng.random() < 0.5 and n >= 16:  # with a card-like Luhn-valid run inside
        core = make_card(rng, length=16)
        bban = bank + core + digits(rng, n - 16)
    else:
        bban = bank + digits(rng, n)
    v = country + _iban_check(country, bban) + bban
    if spaced is None:
        spaced = rng.random() < 0.6
    return " ".join(v[i : i + 4] for i in range(0, len(v), 4)) if spaced else v


def phone(rng: random.Random) -> str:
    cc = rng.choice(["1", "30", "31", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
                     "47", "48", "49", "351", "353", "358", "370", "371", "372", "380", "52",
                     "55", "60", "61", "62", "63", "64", "65", "66"])  # fmt: skip
    k = rng.randrange(7)
    sub = digits(rng, rng.randint(9, 12 - len(cc) + 3))
    sub = str(rng.randint(1, 9)) + sub[1:]
    if k == 0:
        return f"+{cc} {sub[:3]} {sub[3:]}"
    if k == 1:
        return f"+{cc} {sub[:2]} {sub[2:5]} {sub[5:]}"
    if k == 2:
        return f"+{cc}{sub}"
    if k == 3:
        return f"+{cc}-{sub[:3]}-{sub[3:6]}-{sub[6:]}"
    if k == 4:
        return f"0{sub[:3]} {sub[3:]}"  # national format
    if k == 5:
        return f"00{cc} {sub[:3]} {sub[3:]}"
    return f"({rng.randint(200, 999)}) {rng.randint(200, 999)}-{digits(rng, 4)}"


def ipv4(rng: random.Random) -> str:
    ip = ".".join(str(rng.randint(1 if i == 0 else 0, 255)) for i in range(4))
    return ip + (f":{rng.randint(1, 65535)}" if rng.random() < 0.2 else "")


def ipv6(rng: random.Random) -> str:
    return "2001:db8:" + ":".join(f"{rng.randrange(65536):x}" for _ in range(3)) + "::" + str(
        rng.randint(1, 9999))


def version(rng: random.Random) -> str:
    r = rng.randint
    k = rng.randrange(6)
    if k == 0:
        return f"{r(1, 6)}.{r(0, 30)}.{r(0, 300)}"
    if k == 1:  # browser build
        return f"Chrome/{r(90, 130)}.0.{r(4000, 6999)}.{r(10, 9999)}"
    if k == 2:  # OS build
        return f"{rng.choice(['6.1', '6.3', '10.0'])}.{r(7600, 22631)}.{r(1, 5999)}"
    if k == 3:  # kernel
        return f"{r(4, 6)}.{r(1, 19)}.{r(0, 200)}-{r(1, 1100)}-generic"
    if k == 4:  # with a long build number
        build = f"{r(2019, 2027)}{r(1, 12):02d}{r(1, 28):02d}{r(0, 9999):04d}"
        return f"{r(2, 6)}.{r(0, 9)}.{r(0, 9)}.{build}"
    return f"v{r(1, 6)}.{r(0, 20)}.{r(0, 20)}-rc.{r(1, 9)}"


def dotted_decimal(rng: random.Random) -> str:
    """Decimals with many digits: amounts, coordinates, ratios, floats printed in full."""
    k = rng.randrange(6)
    if k == 0:
        return f"{rng.randint(0, 99999)}.{rng.randint(0, 99):02d}"
    if k == 1:  # a float's 17 significant digits (repr of a double)
        return repr(rng.uniform(1, 9999))
    if k == 2:  # coordinates
        return f"{rng.uniform(-90, 90):.12f}"
    if k == 3:  # a ratio, scientific value
        return f"{rng.randint(2, 6)}.{digits(rng, rng.randint(11, 18))}"
    if k == 4:  # European thousands: 1.234.567,89
        r = rng.randint
        return f"{r(1, 999)}.{r(0, 999):03d}.{r(0, 999):03d},{r(0, 99):02d}"
    return f"{rng.randint(1000, 6999)}.{digits(rng, rng.randint(8, 14))}"


def long_run(rng: random.Random) -> str:
    """A card number inside a longer run of digits (glued, or one more group)."""
    c = make_card(rng, length=16)  # with one more group: 20 digits, no card length
    k = rng.randrange(6)
    if k == 0:  # 20 digits or more: no card length
        lead = rng.randint(1, 3)
        return digits(rng, lead) + c + digits(rng, max(0, 20 - len(c) - lead) + rng.randint(0, 2))
    if k == 1:
        return c + digits(rng, 20 - len(c) + rng.randint(0, 4))
    if k == 2:
        return grouped(c, "-", USUAL[len(c)][0]) + "-" + digits(rng, 4)
    if k == 3:
        return digits(rng, 4) + "-" + grouped(c, "-", USUAL[len(c)][0])
    if k == 4:
        return grouped(c, ".", USUAL[len(c)][0]) + "." + str(rng.randint(1, 99))
    return digits(rng, rng.randint(20, 40))


def unknown_issuer(rng: random.Random) -> str:
    """Luhn-valid, card length, no scheme's range; as a run or grouped."""
    p = rng.choice(UNKNOWN_PREFIXES)
    n = rng.choice([13, 14, 15, 16, 16, 16, 19])
    v = with_check_digit(p + digits(rng, n - len(p) - 1))
    return written(rng, v, irregular=0.4)


def bad_luhn(rng: random.Random) -> str:
    """A real issuer's range and length, the check digit wrong; as a run or grouped."""
    return written(rng, bad_check_digit(make_card(rng)), irregular=0.4)


def wrong_length(rng: random.Random) -> str:
    """A real issuer's range, Luhn-valid, but a length the scheme does not issue."""
    brand, n = rng.choice([("visa", 14), ("visa", 15), ("visa", 17), ("visa", 18), ("amex", 14),
                           ("amex", 16), ("mastercard", 15), ("mastercard", 17),
                           ("mastercard", 19), ("diners14", 13), ("jcb", 15), ("unionpay", 15),
                           ("discover", 15), ("visa", 12)])  # fmt: skip
    p = issuer_prefix(rng, brand)
    v = with_check_digit(p + digits(rng, n - len(p) - 1))
    return written(rng, v, irregular=0.0) if n in USUAL else v


def uuid_like(rng: random.Random) -> str:
    return "-".join(digits(rng, g) for g in (8, 4, 4, 4, 12))


def date(rng: random.Random) -> str:
    y, m, d = rng.randint(2019, 2027), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice([f"{y}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y}", f"{y}/{m:02d}/{d:02d}",
                       f"{d:02d} {m:02d} {y}", f"{m:02d}/{y % 100:02d}"])  # fmt: skip


def amount_spaced(rng: random.Random) -> str:
    """Amounts with space or dot thousands separators."""
    v = f"{rng.randint(1, 999)} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d}"
    return rng.choice([v + f",{rng.randint(0, 99):02d}", v.replace(" ", "."), v])


NEGATIVES: dict[str, Callable[[random.Random], str]] = {
    "masked": masked,
    "truncated": truncated,
    "timestamp": timestamp,
    "iban": iban,
    "phone": phone,
    "ipv4": ipv4,
    "ipv6": ipv6,
    "version": version,
    "dotted_decimal": dotted_decimal,
    "long_run": long_run,
    "unknown_issuer": unknown_issuer,
    "bad_luhn": bad_luhn,
    "wrong_length": wrong_length,
    "uuid": uuid_like,
    "date": date,
    "amount": amount_spaced,
}
"""Negative classes that stand on their own; ``labelled_id`` makes the order-id/reference one
(it needs its field name)."""


# ------------------------------------------------------------------------------ documents


@dataclass
class LabelledDoc:
    kind: str
    text: str = ""
    cards: list[tuple[int, int]] = field(default_factory=list)
    negatives: list[tuple[str, int, int]] = field(default_factory=list)


class _Doc:
    def __init__(self, kind: str) -> None:
        self.doc = LabelledDoc(kind)
        self.parts: list[str] = []
        self.pos = 0

    def add(self, s: str) -> None:
        self.parts.append(s)
        self.pos += len(s)

    def card(self, s: str) -> None:
        self.doc.cards.append((self.pos, self.pos + len(s)))
        self.add(s)

    def neg(self, cls: str, s: str) -> None:
        self.doc.negatives.append((cls, self.pos, self.pos + len(s)))
        self.add(s)

    def done(self) -> LabelledDoc:
        self.doc.text = "".join(self.parts)
        return self.doc


def _negative(rng: random.Random) -> tuple[str, str]:
    cls = rng.choice(sorted(NEGATIVES))
    return cls, NEGATIVES[cls](rng)


CARD_KEYS = ("card", "pan", "card_number", "cardNumber", "cc_number", "PAN", "cardno", "card_no",
             "primary_account_number", "account_number", "ccnum", "number")  # fmt: skip


def _kv(b: _Doc, rng: random.Random, key: str, value: str, cls: str | None) -> None:
    quote = rng.random() < 0.2
    b.add(f'{key}="' if quote else f"{key}=")
    if cls is None:
        b.add(value)
    elif cls == "card":
        b.card(value)
    else:
        b.neg(cls, value)
    b.add('" ' if quote else " ")


def gateway_log(rng: random.Random) -> LabelledDoc:
    b = _Doc("gateway_log")
    for _ in range(rng.randint(4, 14)):
        lvl = rng.choice(["INFO", "INFO", "DEBUG", "WARN", "ERROR"])
        when = timestamp(rng) if rng.random() < 0.3 else date(rng)
        b.add(f"{when} {lvl} [gw-{rng.randint(1, 9)}] ")
        b.add(rng.choice(["POST /v2/payments", "authorize", "capture", "refund", "3ds.challenge",
                          "tokenize"]) + f" {rng.choice([200, 201, 402, 500])} ")  # fmt: skip
        fields = ["txn", "amount", "card", "ip", "ts", "extra", "id", "ver"]
        rng.shuffle(fields)
        for f in fields[: rng.randint(3, 8)]:
            if f == "txn":
                _kv(b, rng, rng.choice(["txn_id", "rrn", "stan", "mid", "tid"]),
                    digits(rng, rng.choice([6, 8, 12, 15])), None)  # fmt: skip
            elif f == "amount":
                _kv(b, rng, "amount", f"{rng.randint(1, 99999) / 100:.2f}", None)
                b.add(f"currency={rng.choice(['EUR', 'USD', '978', '840'])} ")
            elif f == "card":
                r = rng.random()
                key = rng.choice(CARD_KEYS)
                if r < 0.35:
                    _kv(b, rng, key, any_layout(rng, make_card(rng)), "card")
                    if rng.random() < 0.4:
                        b.add(f"exp={rng.randint(1, 12):02d}/{rng.randint(25, 32)} ")
                elif r < 0.75:
                    _kv(b, rng, key, masked(rng), "masked")
                else:
                    cls, v = _negative(rng)
                    _kv(b, rng, "data", v, cls)
            elif f == "ip":
                _kv(b, rng, "client_ip", ipv4(rng), "ipv4")
            elif f == "ts":
                _kv(b, rng, "ts", timestamp(rng), "timestamp")
            elif f == "id":
                label, v = labelled_id(rng)
                b.add(label)
                b.neg("order_id", v)
                b.add(" ")
            elif f == "ver":
                _kv(b, rng, rng.choice(["sdk", "version", "agent"]), version(rng), "version")
            else:
                cls, v = _negative(rng)
                _kv(b, rng, rng.choice(["note", "info", "x", "meta"]), v, cls)
        b.add("\n")
    return b.done()


def csv_export(rng: random.Random) -> LabelledDoc:
    b = _Doc("csv")
    delim = rng.choice([",", ";", "\t", "|"])
    quote = rng.random() < 0.4
    cols = ["id", "created", "customer", "card", "amount", "currency", "phone", "iban", "order_id",
            "ip", "status"]  # fmt: skip
    rng.shuffle(cols)
    cols = cols[: rng.randint(4, len(cols))]
    if "card" not in cols:
        cols.insert(rng.randrange(len(cols) + 1), "card")
    b.add(delim.join(cols) + "\n")
    for i in range(rng.randint(3, 12)):
        for j, c in enumerate(cols):
            if j:
                b.add(delim)
            q = '"' if quote or (c == "customer" and delim == ",") else ""
            b.add(q)
            if c == "id":
                b.add(str(i + 1))
            elif c == "created":
                b.add(date(rng) if rng.random() < 0.5 else timestamp(rng))
            elif c == "customer":
                b.add(rng.choice(["Doe, Jane", "Virtanen Aino", "José Álvarez", "Smith John"]))
            elif c == "card":
                r = rng.random()
                if r < 0.5:
                    b.card(any_layout(rng, make_card(rng)))
                elif r < 0.8:
                    b.neg("masked", masked(rng))
                else:
                    b.neg(*_negative(rng))
            elif c == "amount":
                a = f"{rng.randint(1, 999999) / 100:.2f}"
                b.add(a.replace(".", ",") if delim == ";" else a)
            elif c == "currency":
                b.add(rng.choice(["EUR", "USD", "SEK"]))
            elif c == "phone":
                b.neg("phone", phone(rng))
            elif c == "iban":
                b.neg("iban", iban(rng))
            elif c == "order_id":
                b.neg("unknown_issuer", with_check_digit(rng.choice("17") + digits(rng, 14)))
            elif c == "ip":
                b.neg("ipv4", ipv4(rng))
            else:
                b.add(rng.choice(["settled", "declined", "pending"]))
            b.add(q)
        b.add("\n")
    return b.done()


def settlement(rng: random.Random) -> LabelledDoc:
    """Fixed-width settlement records (numeric fields side by side, one space apart when a
    value fills its column) and reconciliation report lines."""
    b = _Doc("settlement")
    y, m = rng.randint(2024, 2027), rng.randint(1, 12)
    b.add(f"H {y}{m:02d}01 SETTLEMENT {plain_id(rng, 6)} {rng.choice(['EUR', 'USD'])}\n")
    for i in range(rng.randint(4, 14)):
        d = rng.randint(1, 28)
        if rng.random() < 0.6:
            b.add(f"D {y}{m:02d}{d:02d} {i + 1:06d} {plain_id(rng, 15)} {plain_id(rng, 8)} ")
            r = rng.random()
            if r < 0.3:
                b.card(make_card(rng))
            elif r < 0.4:
                c = make_card(rng, length=16)
                b.card(grouped(c, " ", (4, 4, 4, 4)))
            elif r < 0.8:
                b.neg("masked", masked(rng).replace(" ", "").replace("-", "").replace(".", ""))
            else:
                b.neg("bad_luhn", bad_check_digit(make_card(rng)))
            b.add(f" {rng.randint(1, 99999999):012d} {rng.choice(['978', '840'])} "
                  f"{plain_id(rng, 6)} {plain_id(rng, 12)} {plain_id(rng, 6)}\n")  # fmt: skip
        else:
            b.add(f"{y}-{m:02d}-{d:02d} | MID {plain_id(rng, 15)} | TID {plain_id(rng, 8)} | ")
            r = rng.random()
            if r < 0.3:
                b.card(any_layout(rng, make_card(rng)))
            else:
                b.neg("masked", masked(rng))
            b.add(f" | {rng.randint(1, 99999) / 100:.2f} | {rng.choice(['OK', 'DIFF', 'MISSING'])}")
            b.add(f" | batch {rng.randint(1, 999):03d} seq {digits(rng, 6)}\n")
    b.add(f"T {digits(rng, 6)} {rng.randint(1, 10**9):015d}\n")
    return b.done()


_NOTE_CARD = [
    "UAT run {n}: payment with {brand} {card} was declined (05).",
    "Customer read out the card number {card} on the call, please purge the recording.",
    "Repro: enter {card} on the checkout page, exp {mm}/{yy}, CVV 123.",
    "The tester used card {card} for the refund case.",
    "Retry with {card}\n",
    "Found {card} in the debug log of the batch job.",
    "Card: {card}  Exp: {mm}/{yy}",
    "Test card {card} {mm}/{yy} cvv 123 (3DS frictionless).",
    "{brand} test card {card} works on staging.",
    "- {card} -> approved",
    "Ticket says the PAN is {card}, customer wants a new card.",
]
_NOTE_OTHER = [
    "Order {order} shipped on {date}; tracking {tracking}.",
    "Call back {phone} after {time}.",
    "Refund to IBAN {iban} approved.",
    "Server {ip} runs agent {version}, upgrade planned.",
    "Masked number on the receipt: {masked}.",
    "Reconciliation difference {amount} EUR on {date}.",
    "Run {n} took {float} s.",
    "Customer reference {tracking} and invoice {date}.",
    "Event at {ts} (trace {trace}).",
]


def notes(rng: random.Random) -> LabelledDoc:
    b = _Doc("notes")
    for _ in range(rng.randint(3, 10)):
        if rng.random() < 0.45:
            tpl = rng.choice(_NOTE_CARD)
            before, after = tpl.split("{card}")
            b.add(_fill(rng, before, b))
            b.card(any_layout(rng, make_card(rng)))
            b.add(_fill(rng, after, b))
        else:
            b.add(_fill(rng, rng.choice(_NOTE_OTHER), b))
        b.add(rng.choice([" ", "\n", "\n\n", " "]))
    return b.done()


def _fill(rng: random.Random, tpl: str, b: _Doc) -> str:
    """Template text with its fields; negatives among them are written straight into ``b``
    (so their spans are known) and the returned rest is what follows the last one."""
    out = tpl
    fields: dict[str, tuple[str, str] | str] = {
        "n": str(rng.randint(1, 40)),
        "brand": rng.choice(["Visa", "Mastercard", "Amex", "JCB", "Discover", "Diners", "UnionPay",
                             "Maestro"]),  # fmt: skip
        "mm": f"{rng.randint(1, 12):02d}",
        "yy": str(rng.randint(25, 32)),
        "order": ("order_id", f"ORD-{rng.randint(2020, 2027)}-{digits(rng, 8)}"),
        "date": ("date", date(rng)),
        "tracking": ("unknown_issuer", unknown_issuer(rng)),
        "phone": ("phone", phone(rng)),
        "time": f"{rng.randint(8, 17)}:00",
        "iban": ("iban", iban(rng)),
        "ip": ("ipv4", ipv4(rng)),
        "version": ("version", version(rng)),
        "masked": ("masked", masked(rng)),
        "amount": ("amount", amount_spaced(rng)),
        "float": ("dotted_decimal", dotted_decimal(rng)),
        "ts": ("timestamp", timestamp(rng)),
        "trace": ("long_run", long_run(rng)),
    }
    while "{" in out:
        i = out.index("{")
        j = out.index("}", i)
        name = out[i + 1 : j]
        b.add(out[:i])
        v = fields[name]
        if isinstance(v, tuple):
            b.neg(v[0], v[1])
        else:
            b.add(v)
        out = out[j + 1 :]
    return out


def json_doc(rng: random.Random) -> LabelledDoc:
    b = _Doc("json")
    pretty = rng.random() < 0.5
    nl, ind = ("\n", "  ") if pretty else ("", "")
    b.add("[" + nl)
    for i in range(rng.randint(2, 6)):
        b.add(f'{ind}{{"id": {i + 1}, "created": "{timestamp(rng)}", ')
        r = rng.random()
        b.add(f'"{rng.choice(["card_number", "pan", "cardNumber", "number"])}": "')
        if r < 0.5:
            b.card(any_layout(rng, make_card(rng)))
        elif r < 0.8:
            b.neg("masked", masked(rng))
        else:
            b.neg(*_negative(rng))
        b.add(f'", "amount": {rng.randint(1, 99999) / 100}, ')
        label, v = labelled_id(rng)
        if rng.random() < 0.5 and " " not in v and "-" not in v:
            b.add('"order_id": ')
            b.neg("order_id", v)
            b.add(", ")
        b.add('"customer": {"phone": "')
        b.neg("phone", phone(rng))
        b.add('", "iban": "')
        b.neg("iban", iban(rng))
        b.add('"}, "meta": {"ip": "')
        b.neg("ipv4", ipv4(rng))
        b.add('", "sdk": "')
        b.neg("version", version(rng))
        b.add('", "score": ')
        b.neg("dotted_decimal", repr(rng.random() * rng.choice([1, 10, 1000])))
        b.add("}}" + ("," if i < 5 else "") + nl)
    b.add("]\n")
    return b.done()


KINDS: dict[str, Callable[[random.Random], LabelledDoc]] = {
    "gateway_log": gateway_log,
    "csv": csv_export,
    "settlement": settlement,
    "notes": notes,
    "json": json_doc,
}


def generate(seed: int = 2026, n: int = 3000) -> list[LabelledDoc]:
    rng = random.Random(seed)
    kinds = sorted(KINDS)
    return [KINDS[kinds[i % len(kinds)]](rng) for i in range(n)]


def score(docs: list[LabelledDoc], found: list[list[tuple[int, int]]]) -> dict[str, float]:
    """Card recall and precision over ``docs`` given the PAN spans found in each (exact spans)."""
    tp = fp = fn = 0
    for doc, spans in zip(docs, found, strict=True):
        want = set(doc.cards)
        got = set(spans)
        tp += len(want & got)
        fp += len(got - want)
        fn += len(want - got)
    return {"tp": tp, "fp": fp, "fn": fn,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
            "precision": tp / (tp + fp) if tp + fp else 1.0}  # fmt: skip
