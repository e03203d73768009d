"""Detector rules.

Every rule has a precise Python regex (run on a latin-1 byte view of the text, one byte per
character) plus a handler that validates a match, and one or more *prefilter* patterns for
Hyperscan. The prefilter patterns are supersets: a hit only says "look in the window
``[hit_end - back, hit_end + fwd)``"; the precise regex and the handler decide. Without
Hyperscan the precise regexes run over the whole buffer, so both paths give the same result.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .cards import (
    DOTTED_LAYOUTS,
    FREE_GROUPS,
    LAYOUTS,
    MAX_GROUP,
    free_layout,
    luhn_ok,
    valid_pan,
)
from .ids import hetu_ok, iban_mod97, iban_shape, my_number_ok, ssn_ok
from .model import mask_email, mask_ip, mask_keep_last, mask_pan, mask_tail

# (kind, detector, start, end, masked, normalised value, confidence)
Hit = tuple[str, str, int, int, str, str, float]

SUPPRESS = "_suppress"  # internal kind: spans inside which PAN candidates are ignored

HS_CASELESS = 1


@dataclass
class Ctx:
    b: bytes
    text: str | None  # original (normalised) text when it is not pure ASCII
    suppress: list[tuple[int, int]] = field(default_factory=list)

    def s(self, start: int, end: int) -> str:
        if self.text is not None:
            return self.text[start:end]
        return self.b[start:end].decode("latin-1")


Handler = Callable[[re.Match[bytes], Ctx], list[Hit] | None]


@dataclass(frozen=True)
class Rule:
    name: str
    kinds: frozenset[str]
    regex: re.Pattern[bytes]
    hs: tuple[tuple[bytes, int], ...]
    back: int
    fwd: int
    handle: Handler


def _rx(p: bytes, flags: int = 0) -> re.Pattern[bytes]:
    return re.compile(p, flags | re.VERBOSE)


_B = rb"(?:^|[^0-9A-Za-z])"  # prefilter leading boundary (consumes one char)

# ------------------------------------------------------------------------------- cards

_CARD_WORDS = re.compile(rb"(?i)card|pan\b|visa|master|amex|kortti|cc[_-]?num|acct[_-]?num")
# A Luhn-valid number that is the value of a field with a non-card name (merchant / terminal
# ids, RRN, STAN, amounts, order ids, timestamps, phone numbers) is not reported as a PAN.
_NEG_WORDS = (
    b"order|invoice|ref|reference|txn|trans|transaction|rrn|stan|mid|tid|merchant|terminal|amt"
    b"|amount|ts|timestamp|time|date|phone|tel|fax|mobile|msisdn|imei|iccid|imsi|serial"
    b"|tracking|batch|seq|sequence"
).split(b"|")
_NEG_SUFFIXES = b"id|no|nr|num|number|code|ref".split(b"|")
_NEG_SEP = rb"(?:[\"']?[\x20\t]{0,3}[:=][\x20\t]{0,3}[\"']?|>)"  # the same read backwards
_NEG_LABEL = re.compile(
    rb"(?i)(?:^|[^A-Za-z])(?:" + b"|".join(_NEG_WORDS) + rb")"
    rb"(?:[_ -]?(?:" + b"|".join(_NEG_SUFFIXES) + rb"))?" + _NEG_SEP + rb"$"
)
# _NEG_LABEL matched backwards from the end of the reversed text: one anchored attempt instead
# of a search from every position (10x faster). `$` also matches before a final newline.
_NEG_LABEL_REV = re.compile(
    rb"(?i)\n?" + _NEG_SEP + rb"(?:(?:" + b"|".join(x[::-1] for x in _NEG_SUFFIXES)
    + rb")[_ -]?)?(?:" + b"|".join(x[::-1] for x in _NEG_WORDS) + rb")(?:[^A-Za-z]|\Z)"
)


_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789_")


def card_words(before: bytes) -> bool:
    """``before`` names a card (``_CARD_WORDS.search(before)``), mostly without the regex."""
    low = before.lower()
    if b"card" in low or b"visa" in low or b"master" in low or b"amex" in low or b"kortti" in low:
        return True
    i = low.find(b"pan")
    while i >= 0:  # pan\b
        j = i + 3
        if j == len(low) or low[j] not in _WORD_BYTES:
            return True
        i = low.find(b"pan", i + 1)
    return b"num" in low and _CARD_WORDS.search(before) is not None


def neg_label(before: bytes) -> bool:
    """``before`` ends with the label of a non-card field (``_NEG_LABEL.search(before)``)."""
    return _NEG_LABEL_REV.match(before[::-1]) is not None


# A card number is written as one run of digits, or in groups separated by one separator
# character used throughout: single spaces, single dashes or single dots.
#   - a run: 12-19 digits (the brand's length), not glued to other digits or letters;
#   - dashes: the whole chain of groups, in one of cards.LAYOUTS or a free grouping
#     (cards.free_layout: 2-5 groups of 2-13 digits, the first of 2-11: 4-4-8, 6-10, 6-13 ...);
#   - dots: the whole chain, in one of cards.DOTTED_LAYOUTS only (dots also write versions,
#     decimals, OIDs and IPs, where free groupings cost precision);
#   - spaces: a chain that stands alone (no other number one space before or after it) in
#     one of LAYOUTS is one number (maybe with a short last group after it: a CVV, a month),
#     in a free grouping too; else a number in one of LAYOUTS anywhere in the chain
#     ("4111 1111 1111 1111 12 27"), or a run of card length amid it.
# Every number is then in a brand's IIN range and length and passes Luhn. Not reported: one
# right after "+" (a phone number), and a run or a freely grouped number that is the value of
# a field with a non-card name (order id, reference, timestamp ...: neg_label).
MAX_CHAIN = 64  # groups of a space-separated chain taken by one match
_MAX_GROUPS = max(FREE_GROUPS[1], *(len(lay) for lay in LAYOUTS))  # of a dash/dot chain
_GRP = b"[0-9]{1,%d}" % MAX_GROUP  # one group of a grouped number
PAN_RE = _rx(
    rb"""
    (?<![0-9A-Za-z])(?<![0-9][.-])
    (?:
        (?P<c>[0-9]{12,19})(?![0-9A-Za-z])(?![.-][0-9])
      | (?=GRP[-.\x20][0-9])  # what every grouped form starts with: one test, not three
        (?:
            (?P<d>GRP(?:-GRP){1,DMAX})(?![0-9A-Za-z])(?![.-][0-9])
          | (?P<s>GRP(?:\x20GRP){1,SMAX})(?![0-9A-Za-z])(?![./-][0-9])
          | (?P<dot>GRP(?:\.GRP){1,DMAX})(?![0-9A-Za-z])(?![.-][0-9])
        )
    )
    """.replace(b"GRP", _GRP)
    .replace(b"DMAX", b"%d" % (_MAX_GROUPS - 1))
    .replace(b"SMAX", b"%d" % (MAX_CHAIN - 1))
)
# A dash- or dot-grouped match is the whole chain of groups, never a run of groups inside it:
# the lookarounds keep out a chain glued to more `.digit`/`-digit` groups
# ("4111.1111.1111.1111.5", an OID), no match starts inside one, and a chain of more groups than
# any layout has does not match. A space-separated chain ends before a group glued to letters
# or to `.digit`, `-digit`, `/digit` (a word, a decimal, an expiry date "12/27"). IPv4
# addresses, versions and dates are dot chains in no layout.

_ALNUM = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_DIGITS = frozenset(b"0123456789")
_JOINERS = frozenset(b"./-")  # join digits into one token: dates, decimals, versions, ids


def _pan_conf(ctx: Ctx, start: int, grouped: bool, veto: bool) -> float:
    """Confidence, or 0.0 when the number follows "+" (a phone number) or, with ``veto`` (a
    run or a freely grouped number), is the value of a field with a non-card name."""
    b = ctx.b
    if start and b[start - 1] == 43:  # "+"
        return 0.0
    before = b[max(0, start - 40) : start]
    if veto and neg_label(before):
        return 0.0
    if card_words(before):
        return 0.99
    return 0.95 if grouped else 0.9


def _pan_hit(ctx: Ctx, digits: str, start: int, end: int, grouped: bool,
             veto: bool) -> Hit | None:  # fmt: skip
    if valid_pan(digits) is None:
        return None
    conf = _pan_conf(ctx, start, grouped, veto)
    if not conf:
        return None
    return ("pan", "pan.luhn_iin", start, end, mask_pan(digits), digits, conf)


def _number_before(b: bytes, p: int) -> bool:
    """A space at ``p``, a plain number before it (digits not part of a word, a date, a version
    or a dotted number)."""
    if p < 1 or b[p] != 32 or b[p - 1] not in _DIGITS:
        return False
    q = p - 1
    while q > 0 and b[q - 1] in _DIGITS:
        q -= 1
    return not q or not (b[q - 1] in _ALNUM or b[q - 1] in _JOINERS and q >= 2
                         and b[q - 2] in _DIGITS)  # fmt: skip


def _number_after(b: bytes, p: int) -> bool:
    """A space at ``p``, a plain number after it."""
    n = len(b)
    if p + 1 >= n or b[p] != 32 or b[p + 1] not in _DIGITS:
        return False
    q = p + 1
    while q < n and b[q] in _DIGITS:
        q += 1
    return q == n or not (b[q] in _ALNUM or b[q] in _JOINERS and q + 1 < n
                          and b[q + 1] in _DIGITS)  # fmt: skip


def _alone(b: bytes, start: int, end: int) -> bool:
    """No other plain number one space before or after ``b[start:end]`` (an expiry date
    "12/27", a word "3rd" or an amount "12.50" next to a card number are none)."""
    return not (start >= 2 and _number_before(b, start - 1)) and not _number_after(b, end)


def handle_pan(m: re.Match[bytes], ctx: Ctx) -> list[Hit] | None:
    """The PANs of a PAN_RE match (see the rule above PAN_RE)."""
    c = m.group("c")
    if c is not None:
        h = _pan_hit(ctx, c.decode("ascii"), m.start(), m.end(), False, True)
        return [h] if h else None
    d, sep, layouts = m.group("d"), b"-", LAYOUTS
    if d is None and (d := m.group("dot")) is not None:
        sep, layouts = b".", DOTTED_LAYOUTS
    if d is not None:  # the whole chain is the number
        groups = d.split(sep)
        sizes = tuple(len(g) for g in groups)
        free = sizes not in layouts
        if free and (sep == b"." or not free_layout(sizes)):
            return None
        h = _pan_hit(ctx, b"".join(groups).decode("ascii"), m.start(), m.end(), True, free)
        return [h] if h else None
    s = m.group("s")
    assert s is not None
    groups = s.split(b" ")
    sizes = tuple(len(g) for g in groups)
    offs = []
    pos = m.start()
    for g in groups:
        offs.append(pos)
        pos += len(g) + 1
    n = len(groups)
    runs = True  # a run of card length amid the chain is a number of its own
    if _alone(ctx.b, m.start(), m.end()):
        if sizes in LAYOUTS:  # a number printed as a card is one number: no window inside it,
            for k in (n, n - 1):  # but maybe a short last group (a CVV, a month) after it
                if k < n and not (k >= 2 and sizes[-1] <= 3):
                    break
                if sizes[:k] in LAYOUTS:
                    h = _pan_hit(ctx, b"".join(groups[:k]).decode("ascii"), m.start(),
                                 offs[k - 1] + sizes[k - 1], True, False)  # fmt: skip
                    if h:
                        return [h]
            return None
        if free_layout(sizes):  # so is one in a free grouping (no run of its own inside it)
            for k in (n, n - 1):
                if k < n and not (sizes[-1] <= 3 and (sizes[:k] in LAYOUTS
                                                      or free_layout(sizes[:k]))):  # fmt: skip
                    break
                digits = b"".join(groups[:k]).decode("ascii")
                if valid_pan(digits) is not None:  # this number (even if not reported)
                    h = _pan_hit(ctx, digits, m.start(), offs[k - 1] + sizes[k - 1], True,
                                 sizes[:k] not in LAYOUTS)  # fmt: skip
                    return [h] if h else None
            runs = False
    out: list[Hit] = []
    i = 0
    while i < n:  # a number in a layout from each group on, the longest first
        found = 0
        for size in range(min(_MAX_GROUPS, n - i), 1, -1):
            if sizes[i : i + size] not in LAYOUTS:
                continue
            start = offs[i]
            end = offs[i + size - 1] + sizes[i + size - 1]
            h = _pan_hit(ctx, b"".join(groups[i : i + size]).decode("ascii"), start, end, True,
                         False)  # fmt: skip
            if h:
                out.append(h)
                found = size
                break
        if not found and sizes[i] >= 12 and runs:
            h = _pan_hit(ctx, groups[i].decode("ascii"), offs[i], offs[i] + sizes[i], False, True)
            if h:
                out.append(h)
        i += found or 1
    return out or None


# Contiguous candidates: brand-anchored, exact brand lengths (6-prefixed: 12-19, decided in
# Python), bounded by non-alphanumerics. Reported with their start ("direct" pattern), so
# Python only runs Luhn on them and the precise regex on the few that pass.
PAN_DIRECT_HS = (
    rb"(?:^|[^0-9A-Za-z])(?:4(?:[0-9]{12}|[0-9]{15}|[0-9]{18})"
    rb"|(?:5[1-5][0-9]{2}|222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01][0-9]|2720)[0-9]{12}"
    rb"|3[47][0-9]{13}|35(?:2[89]|[3-8][0-9])[0-9]{12,15}|30[0-5][0-9]{11,16}"
    rb"|3[689][0-9]{12,17}|(?:50|5[6-8])[0-9]{10,17}|6[0-9]{11,18})(?:[^0-9A-Za-z]|$)"
)
# Grouped candidates (and the runs of card length inside space-separated chains, which the
# contiguous pattern leaves to these windows): a brand's first digit at the start of a group,
# then 12 digits or more with single separators between them, the first group of 1-13 digits.
# The scanner widens each window to the whole chains of groups at its edges (_chain_windows),
# so that the handler sees a space-separated chain as a whole, as it does without a prefilter.
def _n(p: bytes, k: int) -> bytes:
    return b"" if k == 0 else p if k == 1 else p + b"{%d}" % k


_PAN_HS = (
    (_B + rb"[2-6](?:" + b"|".join(_n(b"[0-9]", j) + b"[-. ][0-9]" + _n(b"(?:[-. ]?[0-9])", 10 - j)
                                  for j in range(11)) + rb"|[0-9]{11,12}[-. ][0-9])", 0),
    (rb"[0-9] [2-6][0-9]{11}", 0),
)


def pan_direct(b: bytes, start: int, end: int, ctx: Ctx) -> list[Hit] | None:
    """Handle a direct contiguous candidate (hyperscan start/end include the boundaries)."""
    if not 48 <= b[start] <= 57:
        start += 1
    if end > start and not 48 <= b[end - 1] <= 57:
        end -= 1
    if end - start <= MAX_GROUP and start >= 2 and b[start - 1] == 32 and 48 <= b[start - 2] <= 57:
        return None  # may be a group of a space-separated chain: the window pattern's
    if not luhn_ok(b[start:end]):
        return None
    m = PAN_RE.match(b, start)
    if m is None or m.end() != end:
        return None
    return handle_pan(m, ctx)


# Track 1: %B<PAN>^<NAME>^<YYMM><SVC><discretionary>?
_TRACK1_RE = _rx(
    rb"""
    (?:%|(?<![0-9A-Za-z]))B(?P<pan>[0-9]{12,19})\^(?P<name>[^\^\r\n?%;]{2,26})\^
    (?:[0-9]{4}|\^)(?:[0-9]{3}|\^)[^?\r\n%;\^]{0,60}\??
    """
)
# Track 2: ;<PAN>=<YYMM><SVC><discretionary>?
_TRACK2_RE = _rx(
    rb"""
    (?:;|(?<![0-9A-Za-z]))(?P<pan>[0-9]{12,19})=(?:[0-9]{4}|=)(?:[0-9]{3}|=)[0-9]{0,30}
    (?:\?|(?![0-9A-Za-z]))
    """
)


def _track_handler(detector: str) -> Handler:
    def handle(m: re.Match[bytes], ctx: Ctx) -> list[Hit] | None:
        digits = m.group("pan").decode("ascii")
        start, end = m.start(), m.end()
        ctx.suppress.append((start, end))
        if valid_pan(digits) is None:
            return None
        return [("track_data", detector, start, end, mask_pan(digits), digits, 0.99)]

    return handle


_CVV_RE = _rx(
    rb"""
    (?<![A-Za-z0-9])
    (?:cvv2?|cvc2?|cvn2?|csc|security[\x20_-]?code|card[\x20_-]?verification
       (?:[\x20_-]?(?:value|code|number))?|turvakoodi|tarkistusnumero|varmenne)
    (?![A-Za-z0-9])["']?
    [^0-9A-Za-z\r\n]{0,4}(?:(?:is|was|on|oli)[^0-9A-Za-z\r\n]{1,3})?
    (?P<v>[0-9]{3,4})(?![0-9A-Za-z])
    """,
    re.IGNORECASE,
)


def _handle_cvv(m: re.Match[bytes], ctx: Ctx) -> list[Hit] | None:
    v = m.group("v").decode("ascii")
    return [("cvv", "cvv.labelled", m.start("v"), m.end("v"), "***", v, 0.9)]


_PIN_RE = _rx(
    rb"""
    (?<![A-Za-z0-9])pin[\x20_-]?block(?:[\x20_-]?(?:data|value|hex))?["']?
    [^0-9A-Za-z\r\n]{0,5}(?P<v>[0-9A-Fa-f]{16})(?![0-9A-Za-z])
    """,
    re.IGNORECASE,
)


def _handle_pin(m: re.Match[bytes], ctx: Ctx) -> list[Hit] | None:
    v = m.group("v").decode("ascii").upper()
    return [("pin_block", "pin_block.labelled", m.start("v"), m.end("v"), "*" * 16, v, 0.95)]


# ------------------------------------------------------------------------------- contact

_EMAIL_RE = _rx(
    rb"""
    (?<![A-Za-z0-9._%+-])
    [A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+
    [A-Za-z]{2,24}(?![A-Za-z0-9-])
    """
)


def _handle_email(m: re.Match[bytes], ctx: Ctx) -> list[Hit] | None:
    v = m.group().decode("latin-1")
    return [("email", "email", m.start(), m.end(), mask_email(v), v.lower(), 0.95)]


# One rule per form, each with the window its prefilter needs (an international number runs on
# after its "+CC"; the other two end where their prefilter does): a third of the bytes to try.
_PHONE_INTL_RE = _rx(
    rb"""
    (?P<intl>(?<![0-9A-Za-z+])\+[1-9][0-9]{0,3}(?:[\x20-]?\(?[0-9]{1,5}\)?){2,5})
      (?![0-9A-Za-z])(?![.-][0-9])
    """
)
_PHONE_NANP_RE = _rx(
    rb"""
    (?P<nanp>(?<![0-9A-Za-z(-])(?:\([2-9][0-9]{2}\)\x20?|[2-9][0-9]{2}[-.])
      [2-9][0-9]{2}[-.][0-9]{4})
      (?![0-9A-Za-z])(?![.-][0-9])
    """
)
_PHONE_NATL_RE = _rx(
    rb"""
    (?P<natl>(?<![0-9A-Za-z-])0[1-9][0-9]{0,3}[-\x20][0-9]{2,4}[-\x20][0-9]{3,4})
      (?![0-9A-Za-z])(?![.-][0-9])(?!\x20[0-9])
    """
)


def _handle_phone(m: re.Match[bytes], ctx: Ctx) -> list[Hit] | None:
    v = m.group().decode("ascii")
    digits = "".join(c for c in v if c.isdigit())
    form = m.lastgroup  # the one named group of each phone regex
    if form == "intl":
        if not 8 <= len(digits) <= 15:
            return None
        norm = "+" + digits
        conf = 0.8
    elif form == "nanp":
        norm = "+1" + digits
        conf = 0.6
    else:
        if not 9 <= len(digits) <= 11:
            return None
        norm = digits
        conf = 0.5
    return [("phone", "phone", m.start(), m.end(), mask_keep_last(v), norm, conf)]


# ------------------------------------------------------------------------------- national ids

_SSN_RE = _rx(
    rb"""
    (?<![0-9A-Za-z-])(?P<a>[0-9]{3})-(?P<g>[0-9]{2})-(?P<s>[0-9]{4})(?![0-9A-Za-z])(?![.-][0-9])
  | (?<![A-Za-z0-9])(?:ssn|social[\x20_-]security(?:[\x20_-](?:number|no))?)["']?
      [^0-9A-Za-z\r\n]{0,5}(?P<a2>[0-9]{3})(?P<sep>[\x20-]?)(?P<g2>[0-9]{2})(?P=sep)(?P<s2>[0-9]{4})
      (?![0-9A-Za-z])
    """,
    re.IGNORECASE,
)


def _handle_ssn(m: re.Match[bytes], ctx: Ctx) -> list[Hit] | None:
    if m.group("a") is not None:
        a, g, s = m.group("a", "g", "s")
        start, end, conf = m.start(), m.end(), 0.7
    else:
        a, g, s = m.group("a2", "g2", "s2")
        start, end, conf = m.start("a2"), m.end("s2"), 0.95
    if not ssn_ok(a.decode(), g.decode(), s.decode()):
        return None
    norm = (a + g + s).decode()
    return [("national_id", "national_id.us_ssn", start, end, "***-**-" + norm[-2:].rjust(4, "*"),
             norm, conf)]  # fmt: skip


_HETU_RE = _rx(
    rb"(?<![0-9A-Za-z+-])[0-3][0-9][01][0-9][0-9]{2}[-+A-FU-Y][0-9]{3}[0-9A-Y]"
    rb"(?![0-9A-Za-z])"
)


def _handle_hetu(m: re.Match[bytes], ctx: Ctx) -> list[Hit] | None:
    v = m.group().decode("ascii")
    if not hetu_ok(v):
        return None
    return [("national_id", "national_id.fi_hetu", m.start(), m.end(), mask_keep_last(v), v, 0.95)]


_MYNUM_RE = _rx(
    rb"""
    (?<![A-Za-z0-9])(?:my[\x20_-]?number|my[\x20_-]?no\.?|kojin[\x20_-]?bango)["']?
    [^0-9A-Za-z\r\n]{0,6}(?P<v>[0-9]{4}(?P<sep>[\x20-]?)[0-9]{4}(?P=sep)[0-9]{4})(?![0-9A-Za-z])
    """,
    re.IGNORECASE,
)


def _mynum_hit(v: str, start: int, end: int) -> Hit | None:
    digits = v.replace("-", "").replace(" ", "")
    if not my_number_ok(digits):
        return None
    return ("national_id", "national_id.jp_my_number", start, end, mask_keep_last(digits), digits,
            0.9)  # fmt: skip


def _handle_mynum(m: re.Match[bytes], ctx: Ctx) -> list[Hit] | None:
    h = _mynum_hit(m.group("v").decode("ascii"), m.start("v"), m.end("v"))
    return [h] if h else None


# ------------------------------------------------------------------------------- IBAN

_IBAN_RE = _rx(
    rb"""
    (?<![0-9A-Za-z])
    (?:[A-Z]{2}[0-9]{2}(?:[0-9A-Z]{4}){2,7}[0-9A-Z]{0,4}
      |[A-Z]{2}[0-9]{2}(?:\x20[0-9A-Z]{4}){2,7}(?:\x20[0-9A-Z]{1,4})?)
    (?![0-9A-Za-z])
    """
)


def _handle_iban(m: re.Match[bytes], ctx: Ctx) -> list[Hit] | None:
    raw = m.group().decode("ascii")
    v = raw.replace(" ", "")
    end = m.end()
    if not iban_shape(v) and " " in raw:
        # a spaced IBAN and one group too many: the number or word after it ("... 3000 12/27",
        # "... 3000 PAN=..."), whose digits must not leave the IBAN's unshielded
        cut = raw.rfind(" ")
        if iban_shape(w := raw[:cut].replace(" ", "")):
            v, end = w, m.start() + cut
    if iban_shape(v):
        ctx.suppress.append((m.start(), end))
        if iban_mod97(v):
            return [("iban", "iban.mod97", m.start(), end, v[:4] + "*" * (len(v) - 6) + v[-2:], v,
                     0.95)]  # fmt: skip
    return None


# ------------------------------------------------------------------------------- IP

_OCT = rb"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4_RE = _rx(rb"(?<![0-9A-Za-z.])(?:" + _OCT + rb"\.){3}" + _OCT + rb"(?![0-9A-Za-z]|\.[0-9])")
_IPV6_RE = _rx(
    rb"(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:[0-9]{1,3}\.){3}[0-9]{1,3})?"
    rb"(?![0-9A-Za-z:])"
)


def is_netmask(v: str) -> bool:
    """A dotted quad whose bits are ones then zeros, first octet 255 (255.255.255.0,
    255.255.0.0...): a subnet mask in a configuration, not an address (255.255.255.255, the
    broadcast address, stays one)."""
    n = 0
    for octet in v.split("."):
        n = (n << 8) | int(octet)
    inv = ~n & 0xFFFFFFFF
    return n >> 24 == 255 and inv != 0 and inv & (inv + 1) == 0


def _handle_ipv4(m: re.Match[bytes], ctx: Ctx) -> list[Hit] | None:
    v = m.group().decode("ascii")
    if is_netmask(v):
        return None
    return [("ip_address", "ip_address.v4", m.start(), m.end(), mask_ip(v), v, 0.8)]


def _handle_ipv6(m: re.Match[bytes], ctx: Ctx) -> list[Hit] | None:
    v = m.group().decode("ascii")
    if len(v) < 3 or ("::" not in v and v.count(":") != 7):
        return None
    try:
        addr = ipaddress.IPv6Address(v)
    except ValueError:
        return None
    return [("ip_address", "ip_address.v6", m.start(), m.end(), mask_ip(v), addr.compressed, 0.8)]


# ------------------------------------------------------------------------------- secrets

_PEM_RE = _rx(
    rb"""
    -----BEGIN\x20(?P<t>(?:[A-Z0-9]+\x20){0,3})PRIVATE\x20KEY(?P<blk>(?:\x20BLOCK)?)-----
    (?:[\s\S]{0,7000}?-----END\x20(?P=t)PRIVATE\x20KEY(?P=blk)-----)?
    """
)


def _secret(detector: str, start: int, end: int, value: str, conf: float) -> Hit:
    return ("secret", detector, start, end, mask_tail(value), value, conf)


def _handle_pem(m: re.Match[bytes], ctx: Ctx) -> list[Hit] | None:
    v = ctx.s(m.start(), m.end())
    body = "".join(v.split())
    conf = 0.99 if "-----END" in v else 0.8
    return [("secret", "secret.private_key", m.start(), m.end(), "****", body, conf)]


_AWS_PREFIX = rb"(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)"
_AWS_RE = _rx(rb"(?<![A-Za-z0-9])" + _AWS_PREFIX + rb"[A-Z0-9]{16}(?![A-Za-z0-9])")


def _simple(detector: str, conf: float, group: str | int = 0) -> Handler:
    def handle(m: re.Match[bytes], ctx: Ctx) -> list[Hit] | None:
        return [_secret(detector, m.start(group), m.end(group), ctx.s(m.start(group), m.end(group)),
                        conf)]  # fmt: skip

    return handle


_CISCO_RE = _rx(
    rb"""
    (?<![A-Za-z0-9-])
    (?:
       (?P<en>enable\x20(?:secret|password)(?:\x20level\x20[0-9]{1,2})?(?:\x20[0-9])?)
     | (?P<user>username\x20\S{1,64}(?:\x20privilege\x20[0-9]{1,2})?\x20(?:secret|password)
         (?:\x20[0-9])?)
     | (?P<snmp>snmp-server\x20community)
     | (?P<key>(?:tacacs-server|radius-server)(?:\x20host\x20\S{1,64})?\x20key(?:\x20[0-9])?)
    )
    \x20(?P<v>[^\s]{1,200})
    """
)


def _handle_cisco(m: re.Match[bytes], ctx: Ctx) -> list[Hit] | None:
    if m.group("en") is not None:
        det = "secret.cisco_enable"
    elif m.group("user") is not None:
        det = "secret.cisco_username"
    elif m.group("snmp") is not None:
        det = "secret.snmp_community"
    else:
        det = "secret.cisco_key"
    v = ctx.s(m.start("v"), m.end("v"))
    return [_secret(det, m.start("v"), m.end("v"), v, 0.95)]


_PW_KEYS = (
    rb"password|passwd|passphrase|pwd|pass|secret|secret[_-]?key|client[_-]?secret"
    rb"|secret[_-]?access[_-]?key|api[_-]?key|apikey|access[_-]?key|auth[_-]?token"
    rb"|access[_-]?token|refresh[_-]?token|token|credentials?|salasana"
)
_PW_RE = _rx(
    rb"""
    (?<![A-Za-z0-9])(?:[A-Za-z0-9]{1,30}[_.-]){0,3}(?:"""
    + _PW_KEYS
    + rb""")["']?[\x20\t]{0,3}[:=][\x20\t]{0,3}
    (?:"(?P<dq>[^"\r\n]{3,256})"|'(?P<sq>[^'\r\n]{3,256})'|(?P<v>[^\s"',;&<>]{3,256}))
    | <(?P<tag>(?:[A-Za-z0-9]{1,30}[_.-]){0,3}(?:"""
    + _PW_KEYS
    + rb"""))>(?P<x>[^<\r\n]{3,256})</(?P=tag)>
    """,
    re.IGNORECASE,
)
_PW_HS = rb"(?:pass|passwd|password|passphrase|pwd|secret|key|token|credentials?|salasana)"
_PLACEHOLDER = re.compile(
    r"(?i)^(?:\*+|x+|\$\{.*\}|\{\{.*\}\}|%\(.*\)s?|<.*>|null|none|nil|true|false|undefined"
    r"|required|optional|redacted|masked|\[redacted\]|\$[A-Z_]+|env\(.*\))$"
)


def _handle_pw(m: re.Match[bytes], ctx: Ctx) -> list[Hit] | None:
    for g in ("dq", "sq", "v", "x"):
        if m.group(g) is not None:
            start, end = m.start(g), m.end(g)
            break
    v = ctx.s(start, end)
    if _PLACEHOLDER.match(v.strip()):
        return None
    return [_secret("secret.config_password", start, end, v, 0.85)]


_BEARER_RE = _rx(
    rb"(?<![A-Za-z0-9])(?:bearer|basic|token)\x20+(?P<v>[A-Za-z0-9._~+/-]{16,1024}={0,2})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_TOKEN_RE = _rx(
    rb"""
    (?<![A-Za-z0-9_])
    (?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}
      |xox[abprs]-[A-Za-z0-9-]{10,200}|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,200}
      |AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,}
      |eyJ[A-Za-z0-9_-]{8,2000}\.eyJ[A-Za-z0-9_-]{8,2000}\.[A-Za-z0-9_-]{8,2000})
    (?![A-Za-z0-9_])
    """
)
_URLCRED_RE = _rx(
    rb"""
    (?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,15}://
    (?P<v>(?P<u>[^\s:/?\#@"'<>]{1,128}):(?P<p>[^\s/?\#@"'<>]{1,128}))@[A-Za-z0-9.\[\]-]{1,253}
    """
)


def _handle_urlcred(m: re.Match[bytes], ctx: Ctx) -> list[Hit] | None:
    pw = ctx.s(m.start("p"), m.end("p"))
    if _PLACEHOLDER.match(pw):
        return None
    user = ctx.s(m.start("u"), m.end("u"))
    return [("secret", "secret.url_credentials", m.start("v"), m.end("v"),
             (user[:1] or "*") + "***:" + mask_tail(pw), user + ":" + pw, 0.95)]  # fmt: skip


def _r(name: str, kinds: set[str], regex: re.Pattern[bytes], hs: list[tuple[bytes, int]],
       back: int, fwd: int, handle: Handler) -> Rule:  # fmt: skip
    return Rule(name, frozenset(kinds), regex, tuple(hs), back, fwd, handle)


C = HS_CASELESS
RULES: tuple[Rule, ...] = (
    _r(
        "track1",
        {"track_data", SUPPRESS},
        _TRACK1_RE,
        [(rb"B[0-9]{12,19}\^", 0)],
        24,
        100,
        _track_handler("track1"),
    ),
    _r(
        "track2",
        {"track_data", SUPPRESS},
        _TRACK2_RE,
        [(rb"[0-9]{12,19}=[0-9=]{2}", 0)],
        24,
        48,
        _track_handler("track2"),
    ),
    _r(
        "iban",
        {"iban", SUPPRESS},
        _IBAN_RE,
        [(rb"[A-Z]{2}[0-9]{2} ?[0-9A-Z]{4} ?[0-9A-Z]{4}", 0)],
        16,
        48,
        _handle_iban,
    ),
    _r("pan", {"pan"}, PAN_RE, list(_PAN_HS), 60, 60, handle_pan),
    _r(
        "cvv",
        {"cvv"},
        _CVV_RE,
        [
            (
                rb"cvv|cvc|cvn|csc|security.?code|card.?verification|turvakoodi|tarkistusnumero"
                rb"|varmenne",
                C,
            )
        ],
        40,
        40,
        _handle_cvv,
    ),
    _r("pin_block", {"pin_block"}, _PIN_RE, [(rb"pin.?block", C)], 12, 50, _handle_pin),
    _r(
        "email",
        {"email"},
        _EMAIL_RE,
        [(rb"[A-Za-z0-9._%+-]@[A-Za-z0-9]", 0)],
        70,
        260,
        _handle_email,
    ),
    # windows: back to the longest start before the prefilter's end, on to the match's end
    # plus the two characters its lookaheads read (and the scanner's 2-byte edge)
    _r("phone_intl", {"phone"}, _PHONE_INTL_RE, [(rb"\+[1-9]", 0)], 4, 50, _handle_phone),
    _r("phone_nanp", {"phone"}, _PHONE_NANP_RE, [(rb"[0-9]{3}[-.][0-9]{4}", 0)], 16, 4,
       _handle_phone),
    _r("phone_natl", {"phone"}, _PHONE_NATL_RE,
       [(rb"0[1-9][0-9]{0,3}[- ][0-9]{2,4}[- ][0-9]{3}", 0)], 16, 6, _handle_phone),
    _r(
        "ssn",
        {"national_id"},
        _SSN_RE,
        [(rb"[0-9]{3}-[0-9]{2}-[0-9]{4}", 0), (rb"ssn|social.security", C)],
        40,
        40,
        _handle_ssn,
    ),
    _r(
        "hetu",
        {"national_id"},
        _HETU_RE,
        [(rb"[0-9]{6}[-+A-FU-Y][0-9]{3}", 0)],
        12,
        4,
        _handle_hetu,
    ),
    _r("my_number", {"national_id"}, _MYNUM_RE, [(rb"my.?n|kojin", C)], 20, 40, _handle_mynum),
    _r(
        "ipv4",
        {"ip_address"},
        _IPV4_RE,
        [(rb"[0-9]\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]", 0)],
        20,
        20,
        _handle_ipv4,
    ),
    _r(
        "ipv6",
        {"ip_address"},
        _IPV6_RE,
        [(rb"::", 0), (rb"(?:[0-9A-Fa-f]{1,4}:){7}", 0)],
        50,
        50,
        _handle_ipv6,
    ),
    _r("private_key", {"secret"}, _PEM_RE, [(rb"-----BEGIN ", 0)], 12, 7300, _handle_pem),
    _r(
        "aws",
        {"secret"},
        _AWS_RE,
        [(_AWS_PREFIX + rb"[A-Z0-9]{16}", 0)],
        24,
        4,
        _simple("secret.aws_access_key", 0.95),
    ),
    _r(
        "cisco",
        {"secret"},
        _CISCO_RE,
        [
            (
                rb"enable (?:secret|password)|username |snmp-server community"
                rb"|server (?:host .* )?key",
                0,
            )
        ],
        120,
        320,
        _handle_cisco,
    ),
    _r(
        "config_password",
        {"secret"},
        _PW_RE,
        [(_PW_HS + rb"[\"']?[\x20\t]{0,3}[:=]", C), (_PW_HS + rb">", C)],
        140,
        420,
        _handle_pw,
    ),
    _r(
        "bearer",
        {"secret"},
        _BEARER_RE,
        [(rb"(?:bearer|basic|token) ", C)],
        10,
        1100,
        _simple("secret.bearer", 0.9, "v"),
    ),
    _r(
        "token",
        {"secret"},
        _TOKEN_RE,
        [(rb"gh[pousr]_|github_pat_|xox[abprs]-|[sr]k_(?:live|test)_|AIza|glpat-|eyJ", 0)],
        12,
        6100,
        _simple("secret.token", 0.95),
    ),
    _r(
        "url_credentials",
        {"secret"},
        _URLCRED_RE,
        [(rb"://[^\s/@:]{1,128}:[^\s/@]{1,128}@", 0)],
        280,
        260,
        _handle_urlcred,
    ),
)

# ------------------------------------------------------------------ non-ASCII (str) labels
# Run on the decoded text only when it is not pure ASCII (the byte view shows '?' there).

_JP_MYNUM = re.compile(
    r"(?:マイナンバー|個人番号)[^0-9\n]{0,8}?([0-9]{4}([ -]?)[0-9]{4}\2[0-9]{4})(?![0-9A-Za-z])"
)
_JP_CVV = re.compile(r"セキュリティ(?:ー)?コード[^0-9\n]{0,6}?([0-9]{3,4})(?![0-9A-Za-z])")


def str_pass(text: str, kinds: frozenset[str]) -> list[Hit]:
    out: list[Hit] = []
    if "national_id" in kinds:
        for m in _JP_MYNUM.finditer(text):
            h = _mynum_hit(m.group(1), m.start(1), m.end(1))
            if h:
                out.append(h)
    if "cvv" in kinds:
        for m in _JP_CVV.finditer(text):
            out.append(("cvv", "cvv.labelled", m.start(1), m.end(1), "***", m.group(1), 0.9))
    return out
