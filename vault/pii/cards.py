"""Card-number rules: IIN ranges per brand, valid lengths, Luhn, printed layouts."""

from __future__ import annotations

# brand -> (prefix ranges as (low, high) strings of equal length, allowed lengths)
_BRANDS: dict[str, tuple[tuple[tuple[str, str], ...], frozenset[int]]] = {
    "visa": ((("4", "4"),), frozenset({13, 16, 19})),
    "mastercard": ((("51", "55"), ("2221", "2720")), frozenset({16})),
    "amex": ((("34", "34"), ("37", "37")), frozenset({15})),
    "discover": (
        (("6011", "6011"), ("644", "649"), ("65", "65"), ("622126", "622925")),
        frozenset(range(16, 20)),
    ),
    "jcb": ((("3528", "3589"),), frozenset(range(16, 20))),
    "diners": ((("300", "305"), ("36", "36"), ("38", "39")), frozenset(range(14, 20))),
    "unionpay": ((("62", "62"),), frozenset(range(16, 20))),
    "maestro": ((("50", "50"), ("56", "58"), ("6", "6")), frozenset(range(12, 20))),
}

# Longest-prefix-wins table: the most specific IIN range decides the brand, so "65" is
# Discover (16-19) and not Maestro "6" (12-19); "622126" is Discover, "62" UnionPay.
_PREFIX: dict[str, str] = {}
for _brand, (_ranges, _lens) in _BRANDS.items():
    for _lo, _hi in _ranges:
        _w = len(_lo)
        for _v in range(int(_lo), int(_hi) + 1):
            _PREFIX[str(_v).zfill(_w)] = _brand
_PREFIX_LENGTHS = (6, 4, 3, 2, 1)

BRAND_LENGTHS: dict[str, frozenset[int]] = {b: v[1] for b, v in _BRANDS.items()}

# The brands' usual printed layouts (group sizes): groups of four with the remainder last for
# every length, and the schemes' own groupings. A number in one of these is found whatever its
# field is called, and even amid other space-separated numbers (e.g. followed by its expiry
# "12 27"); a space-separated chain standing alone in one of these is one number, though (no
# number inside it), maybe followed by a short group (a CVV, a month).
LAYOUTS: frozenset[tuple[int, ...]] = frozenset(
    {
        (4, 4, 4),  # 12 (Maestro)
        (4, 4, 4, 1),  # 13 (Visa)
        (4, 4, 5),
        (4, 3, 3, 3),
        (4, 4, 4, 2),  # 14 (Diners)
        (4, 6, 4),
        (4, 4, 4, 3),  # 15 (Amex)
        (4, 6, 5),
        (4, 4, 4, 4),  # 16
        (4, 4, 4, 4, 1),  # 17
        (4, 4, 4, 5),
        (4, 4, 4, 4, 2),  # 18
        (4, 4, 4, 6),
        (4, 4, 4, 4, 3),  # 19
        (4, 4, 4, 7),
    }
)

# Any other grouping ("free": 4-4-8, 6-10, 6-13, 8-8, 2-4-4-6 ...) of a number written with one
# separator throughout: FREE_GROUPS groups, the first of FREE_FIRST digits (a run of 12 or more
# is a number of its own), the others of FREE_REST digits. A freely grouped number must be the
# whole chain (one space-separated number amid others is not: no window of a longer chain),
# and is not reported as the value of a field with a non-card name (order id, reference,
# timestamp ...) nor after "+" (a phone number); never with dots (see DOTTED_LAYOUTS). The
# bounds were measured on tests/pii/layout_corpus.py (3000 documents; recall and precision
# 1.0 with these): groups of at most 8 or 10 digits lose the 6-10/6-13/4-12 cards (recall
# 0.91/0.94), at least 3 groups the two-group ones (0.89), at most 4 groups the 5-group ones
# (0.98); one-digit groups find nothing more (4-4-4-1 and 4-4-4-4-1 are in LAYOUTS) but take a
# lone digit next to a number for a group (twice the false positives on Luhn-invalid and
# wrong-length numbers with numbers around them); free groupings as windows inside longer
# chains cost precision (0.982: numeric fields side by side in settlement records), and so
# does a free grouping that need not stand alone (0.998).
FREE_GROUPS = (2, 5)
FREE_FIRST = (2, 11)
FREE_REST = (2, 13)
MAX_GROUP = 13  # digits of the longest group of a grouped number (a 19-digit card as 6 + 13)


def free_layout(sizes: tuple[int, ...]) -> bool:
    """``sizes`` is a free grouping of a number of card length (see FREE_GROUPS)."""
    if not FREE_GROUPS[0] <= len(sizes) <= FREE_GROUPS[1] or not 12 <= sum(sizes) <= 19:
        return False
    if not FREE_FIRST[0] <= sizes[0] <= FREE_FIRST[1]:
        return False
    return all(FREE_REST[0] <= g <= FREE_REST[1] for g in sizes[1:])


# Layouts accepted for numbers grouped with dots ("4111.1111.1111.1111", seen in some European
# exports): only the brands' usual printed groupings, a subset of LAYOUTS. Dots also write IPv4
# addresses, versions, dates, OIDs and decimals, so no two-group layout (a decimal number such
# as "622126.1234567890123"), none of the rarer 12/17/18-digit ones, and no free grouping
# (measured: precision 1.0 -> 0.996 on tests/pii/layout_corpus.py, the false positives
# high-precision decimals and numbers glued to one more dotted group, for no card found more).
# The 13-digit Visa's 4.4.4.1 and the Diners' 4.4.4.2 are in (tests/pii/container_corpus.py
# writes them: recall 0.9947 -> 1.0 there; layout_corpus.py's precision stays 1.0).
DOTTED_LAYOUTS: frozenset[tuple[int, ...]] = frozenset(
    {
        (4, 4, 4, 1),  # 13 (Visa)
        (4, 4, 4, 2),  # 14 (Diners)
        (4, 6, 4),
        (4, 6, 5),  # 15 (Amex)
        (4, 4, 4, 4),  # 16
        (4, 4, 4, 4, 3),  # 19
        (4, 4, 4, 7),
    }
)
assert DOTTED_LAYOUTS <= LAYOUTS
assert max(g for lay in LAYOUTS for g in lay) <= MAX_GROUP
assert FREE_FIRST[1] <= MAX_GROUP and FREE_REST[1] <= MAX_GROUP

_DOUBLE = bytes.maketrans(b"0123456789", bytes([0, 2, 4, 6, 8, 1, 3, 5, 7, 9]))
_PLAIN = bytes.maketrans(b"0123456789", bytes(range(10)))


def luhn_ok(digits: bytes | str) -> bool:
    d = digits.encode("ascii") if isinstance(digits, str) else digits
    total = sum(d[-1::-2].translate(_PLAIN)) + sum(d[-2::-2].translate(_DOUBLE))
    return total % 10 == 0


def brand_of(digits: str) -> str | None:
    """Brand by the most specific IIN prefix, or None."""
    for w in _PREFIX_LENGTHS:
        b = _PREFIX.get(digits[:w])
        if b is not None:
            return b
    return None


def valid_pan(digits: str) -> str | None:
    """Brand name if ``digits`` is a full PAN (IIN range + brand length + Luhn), else None."""
    brand = brand_of(digits)
    if brand is None or len(digits) not in BRAND_LENGTHS[brand]:
        return None
    if not luhn_ok(digits):
        return None
    return brand


def luhn_complete(partial: str) -> str:
    """Append the Luhn check digit (used by test/corpus generators)."""
    for c in "0123456789":
        if luhn_ok(partial + c):
            return partial + c
    raise AssertionError("unreachable")


def iin_length_table() -> list[tuple[bytes, int]]:
    """Every IIN prefix of the brand table with a bit mask of its brand's lengths (bit i:
    length 12 + i), shorter prefixes first so that a longer prefix overrides them — the
    same longest-prefix-wins rule as :func:`brand_of`. Feeds the native scanner core."""
    rows = []
    for prefix, brand in _PREFIX.items():
        mask = sum(1 << (n - 12) for n in BRAND_LENGTHS[brand] if 12 <= n <= 19)
        rows.append((prefix.encode("ascii"), mask))
    rows.sort(key=lambda r: (len(r[0]), r[0]))
    return rows
