"""The native PAN core (vault/pii/_fastscan.c) against the pure-Python path.

The C core must give exactly the matches of ``rules.PAN_RE.finditer`` (same starts and ends,
same non-overlap), keep every match the PAN handler can turn into a finding, survive hostile
input, and make the scanner report the same findings on every engine combination.
"""

from __future__ import annotations

import io
import random
import re

import pytest

from tests.pii.corpus import BRAND_SPECS, GROUPINGS, generate, group, lookalike, make_pan
from vault.pii import HAVE_HYPERSCAN, Scanner
from vault.pii.cards import (
    _PREFIX,
    DOTTED_LAYOUTS,
    FREE_FIRST,
    FREE_GROUPS,
    FREE_REST,
    LAYOUTS,
    free_layout,
    iin_length_table,
    valid_pan,
)
from vault.pii.rules import _IPV4_RE, MAX_CHAIN, PAN_RE, Ctx, handle_pan

fastscan = pytest.importorskip("vault.pii._fastscan", reason="native core not built")


def py_matches(b: bytes) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in PAN_RE.finditer(b)]


def productive(b: bytes) -> set[tuple[int, int]]:
    """Matches from which the PAN handler yields at least one hit."""
    ctx = Ctx(b, None)
    return {(m.start(), m.end()) for m in PAN_RE.finditer(b) if handle_pan(m, ctx)}


# the layouts the scanner used to miss (now free groupings or groups of four)
MISSED = [(6, 13), (4, 4, 4, 1), (4, 4, 4, 2), (4, 4, 8), (6, 10), (2, 4, 4, 6)]


def partition(rng: random.Random, n: int) -> tuple[int, ...]:
    """Random group sizes summing to n: 1-6 groups, sizes 1-15 (over the bounds too)."""
    if rng.random() < 0.3:
        fitting = [lay for lay in MISSED if sum(lay) == n]
        if fitting:
            return rng.choice(fitting)
    for _ in range(100):
        k = rng.randint(1, 6)
        cuts = sorted(rng.sample(range(1, n), k - 1)) if k > 1 else []
        sizes = tuple(b - a for a, b in zip([0, *cuts], [*cuts, n], strict=True))
        if max(sizes) <= 15:
            return sizes
    return (4,) * (n // 4) + ((n % 4,) if n % 4 else ())


def free_grouped(rng: random.Random) -> str:
    """A PAN (or a look-alike) in any grouping, with what may stand around it: a number one
    space before or after, an expiry date, "+", a chain of small numbers."""
    pan = make_pan(rng)
    if rng.random() < 0.2:
        pan = pan[:-1] + str((int(pan[-1]) + 1) % 10)
    text = group(pan, rng.choice("  -."), partition(rng, len(pan)))
    r = rng.random()
    if r < 0.15:
        text += " " + rng.choice(["12/27", "12", "5", "123", "1.5", "3rd", "2026-01", "1234567"])
    elif r < 0.3:
        text = rng.choice(["12 ", "5 ", "+", "1/", "a1 ", "1.2 ", "1234567890123456 "]) + text
    elif r < 0.4:
        small = " ".join(str(rng.randrange(10 ** rng.randint(1, 4))) for _ in range(70))
        text = small + " " + text if rng.random() < 0.5 else text + " " + small
    return text


def random_doc(rng: random.Random) -> bytes:
    parts: list[str] = []
    for _ in range(rng.randint(1, 8)):
        k = rng.randrange(11)
        pan = make_pan(rng)
        if k == 0:
            parts.append(pan)
        elif k == 1:
            parts.append(group(pan, rng.choice(" -."), rng.choice(GROUPINGS[len(pan)])))
        elif k == 2:
            parts.append(lookalike(rng))
        elif k == 3:  # runs of short number groups (space chains, over 11 groups too)
            parts.append(" ".join(str(rng.randrange(10 ** rng.randint(1, 9)))
                                  for _ in range(rng.randint(1, 15))))  # fmt: skip
        elif k == 4:
            parts.append("-".join(str(rng.randrange(10 ** rng.randint(1, 8)))
                                  for _ in range(rng.randint(1, 7))))  # fmt: skip
        elif k == 5:
            parts.append(pan[: rng.randint(1, len(pan))])
        elif k == 6:  # dotted: a PAN in a layout (of any separator), versions, IPs, OIDs, dates
            lay = rng.choice(sorted(LAYOUTS | {(2, 2, 4), (1, 1, 1, 1), (3, 3, 3, 3)}))
            if rng.random() < 0.5 and sum(lay) in (14, 15, 16, 19):
                pan = make_pan(rng, length=sum(lay))
                parts.append(group(pan, ".", lay))
            else:
                parts.append(".".join("".join(rng.choice("0123456789") for _ in range(g))
                                      for g in lay))  # fmt: skip
        elif k == 7:  # dotted runs of any group sizes (over 5 groups too)
            parts.append(".".join(str(rng.randrange(10 ** rng.randint(1, 8)))
                                  for _ in range(rng.randint(1, 8))))  # fmt: skip
        elif k in (9, 10):  # any grouping, and what stands around it
            parts.append(free_grouped(rng))
        else:
            parts.append("".join(rng.choice("0123456789 -.+aZ") for _ in range(rng.randint(1, 30))))
        parts.append(rng.choice([" ", "-", ".", "  ", "", "\n", "x", "+", "=", " ", " "]))
    return "".join(parts).encode()


# ----------------------------------------------------------------------------- the C matcher


def test_same_matches_as_python_regex_on_generated_text() -> None:
    rng = random.Random(11)
    kept = dotted = free = 0
    for _ in range(4000):
        b = random_doc(rng)
        assert fastscan.pan_matches(b, validate=False) == py_matches(b), b
        valid = set(fastscan.pan_matches(b))
        want = productive(b)
        assert want <= valid, (b, want - valid)
        assert valid <= set(py_matches(b))
        kept += len(want)
        dotted += sum(b"." in b[s:e] for s, e in want)
        for s, e in want:
            sizes = tuple(len(g) for g in re.split(rb"[-. ]", b[s:e]))
            free += len(sizes) > 1 and sizes not in LAYOUTS and free_layout(sizes)
    assert kept > 2000  # the generator does produce real PANs
    assert dotted > 200  # dot-grouped ones too
    assert free > 300  # and freely grouped ones


def test_same_matches_on_random_bytes() -> None:
    rng = random.Random(12)
    alphabets = [bytes(range(256)), b"0123456789" * 8 + b" -.+\naZ", b"0123456789 ", b"1 -."]
    for i in range(6000):
        alpha = alphabets[i % len(alphabets)]
        b = bytes(rng.choice(alpha) for _ in range(rng.randint(0, 160)))
        assert fastscan.pan_matches(b, validate=False) == py_matches(b), b
        assert productive(b) <= set(fastscan.pan_matches(b)), b


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"4",
        b"-",
        b" ",
        b"4111111111111111",
        b"4111 1111 1111 1111",
        b"4111 1111 1111 1111 ",
        b"4111-1111-1111-1111-",
        b"4111-1111-1111-1111-1",
        b"4111.1111.1111.1111",
        b"4111.1111.1111.1111.",
        b"4111.1111.1111.1111.5",
        b"4111.1111.1111.1111-5",
        b"4111-1111-1111-1111.5",
        b"1.4111.1111.1111.1111",
        b"4111.1111.1111.1111.1111.1111",
        b"3782.822463.10005 3056.930902.5904",
        b"4111.1111.1111.1111.111",
        b"4111.1111 1111.1111",
        b"4111 1111.1111.1111",
        b"1.3.6.1.4.1.4111.1111.1111.1111",
        b"10.20.30.40 4111.1111.1111.1111 2026.01.02",
        b"4111." * 30,
        b"4111.12345678.1111",
        b"1.4111111111111111",
        b"4111111111111111.5",
        b"1234 " * 30 + b"4111 1111 1111 1111",
        b"1234-" * 30 + b"1",
        b"4111 1111 1111 11112222 3333",
        b"123456 " + b"1234567 " * 11 + b"12345678",
        b"0" * 5000,
        b"9" * 19 + b" " + b"1" * 12,
        bytes(range(256)) * 4,
    ],
)
def test_edges(data: bytes) -> None:
    assert fastscan.pan_matches(data, validate=False) == py_matches(data)
    assert productive(data) <= set(fastscan.pan_matches(data))


def test_brand_table_agrees_with_valid_pan() -> None:
    """Every IIN range boundary of the brand table, at every length 12-19, with Luhn valid
    and invalid: the C core keeps exactly the numbers ``valid_pan`` accepts."""
    rng = random.Random(13)
    prefixes = set()
    for p in _PREFIX:
        v, w = int(p), len(p)
        for q in (v - 1, v, v + 1):
            if 0 <= q < 10**w:
                prefixes.add(str(q).zfill(w))
    prefixes |= {str(rng.randrange(10**6)).zfill(6) for _ in range(300)}
    checked = 0
    for p in sorted(prefixes):
        for n in range(max(12, len(p) + 1), 20):
            body = p + "".join(rng.choice("0123456789") for _ in range(n - len(p) - 1))
            for last in "0123456789":
                digits = body + last
                got = bool(fastscan.pan_matches(f"x {digits} y".encode()))
                assert got == (valid_pan(digits) is not None), digits
                checked += 1
    assert checked > 10000


def test_huge_single_line() -> None:
    """100 MB on one line: the same matches as 100 copies of a 1 MB block (checked against
    Python), so offsets are right far into the buffer; long digit runs and long chains."""
    rng = random.Random(14)
    parts, size = [], 0
    while size < (1 << 20) - 200:
        parts.append(random_doc(rng).replace(b"\n", b" "))
        size += len(parts[-1]) + 1
    block = b" ".join(parts)[: (1 << 20) - 3] + b" x "  # no match crosses a block edge
    expected = fastscan.pan_matches(block)
    assert expected == sorted(productive(block) | set(expected))  # sorted, and holds all
    assert set(expected) <= set(py_matches(block))
    big = block * 100
    got = fastscan.pan_matches(big)
    n = len(block)
    assert got == [(s + k * n, e + k * n) for k in range(100) for s, e in expected]
    assert fastscan.pan_matches(b"7" * (100 << 20)) == []
    chain = b"4111 " * (4 << 20)  # MAX_CHAIN-group chains, back to back
    got = fastscan.pan_matches(chain, validate=False)
    k = 5 * MAX_CHAIN
    assert len(got) == -(-(4 << 20) // MAX_CHAIN) and got[:2] == [(0, k - 1), (k, 2 * k - 1)]
    assert got[-1][1] == len(chain) - 1


def test_configure_rejects_bad_tables() -> None:
    free = (*FREE_GROUPS, *FREE_FIRST, *FREE_REST)
    for bad in [(0, 5, 2, 11, 2, 13), (2, 6, 2, 11, 2, 13), (3, 2, 2, 11, 2, 13),
                (2, 5, 0, 11, 2, 13), (2, 5, 2, 14, 2, 13), (2, 5, 2, 11, 5, 4), (2, 5)]:
        with pytest.raises((ValueError, TypeError)):
            fastscan.configure(iin_length_table(), sorted(LAYOUTS), sorted(DOTTED_LAYOUTS), bad)
    with pytest.raises(ValueError):
        fastscan.configure([(b"4x", 1)], [], [])
    with pytest.raises(ValueError):
        fastscan.configure([(b"1234567", 1)], [], [])
    with pytest.raises(ValueError):
        fastscan.configure([], [(4,) * 6], [])
    with pytest.raises(ValueError):
        fastscan.configure([], [], [(4,) * 6])
    with pytest.raises(ValueError):
        fastscan.configure([], [], [(4, 0, 4)])
    with pytest.raises(TypeError):
        fastscan.configure([("4", 1)], [], [])
    with pytest.raises(TypeError):
        fastscan.configure([], [])
    # a failed configure leaves the loaded tables alone
    assert fastscan.pan_matches(b"4111111111111111") == [(0, 16)]
    assert fastscan.pan_matches(b"4111.1111.1111.1111") == [(0, 19)]
    assert fastscan.pan_matches(b"411111 1111111111") == [(0, 17)]
    fastscan.configure(iin_length_table(), sorted(LAYOUTS), sorted(DOTTED_LAYOUTS))  # keeps free
    assert fastscan.pan_matches(b"411111 1111111111") == [(0, 17)]
    fastscan.configure(iin_length_table(), sorted(LAYOUTS), sorted(DOTTED_LAYOUTS), free)


def test_layouts_of_every_separator_agree_with_the_handler() -> None:
    """Every layout of cards.LAYOUTS (and others, free or not) with a valid PAN of its length,
    grouped by each separator: the C core keeps and reports exactly what the handler does; a
    dot-grouped number only in DOTTED_LAYOUTS, a dash- or space-grouped one in LAYOUTS or a
    free grouping (2-5 groups of 2-13 digits, the first of 2-11)."""
    rng = random.Random(16)
    others = {(4, 4, 8), (8, 8), (4, 12), (2, 2, 4, 4, 4), (4, 4, 4, 4, 4), (5, 5, 6), (4, 5, 6),
              *MISSED, (2, 4, 4, 4, 2), (2, 2, 2, 2, 2, 6), (1, 5, 10), (4, 4, 4, 3, 1),
              (3, 13), (2, 14), (6, 12), (1, 12), (12, 4), (13, 3), (7, 7), (2, 2, 2, 2, 4)}
    for lay in sorted(LAYOUTS | others):
        n = sum(lay)
        brands = [b for b, (_, lens) in sorted(BRAND_SPECS.items()) if n in lens]
        for brand in brands:
            pan = make_pan(rng, brand, n)
            for sep in " -.":
                b = f"x {group(pan, sep, lay)} y".encode()
                want = handler_hits(b)
                assert fastscan.pan_hits(b) == want, b
                assert productive(b) <= set(fastscan.pan_matches(b)), b
                whole = [(h[2], h[3]) for h in want] == [(2, len(b) - 2)]
                if sep == ".":
                    assert whole == (lay in DOTTED_LAYOUTS), b
                else:
                    assert whole == (lay in LAYOUTS or free_layout(lay)), b


# ----------------------------------------------------------------------------- the scanner

ENGINES = [(True, False), (False, False)] + (
    [(True, True), (False, True)] if HAVE_HYPERSCAN else []
)


def all_engines(**kw: object) -> list[Scanner]:
    return [Scanner(b"k", use_native=nat, use_hyperscan=hs, **kw)  # type: ignore[arg-type]
            for nat, hs in ENGINES]  # fmt: skip


def test_engine_names() -> None:
    names = [s.engine for s in all_engines()]
    assert names[:2] == ["native+re", "re"]
    if HAVE_HYPERSCAN:
        assert names[2:] == ["native+hyperscan", "hyperscan"]
    assert Scanner().uses_native


def test_corpus_identical_on_every_engine() -> None:
    scanners = all_engines()
    docs = generate(seed=77, scale=1)
    total = 0
    for doc in docs:
        results = [s.scan_text(doc.text) for s in scanners]
        for s, r in zip(scanners, results, strict=True):
            assert r == results[0], (doc.name, s.engine)
        streams = [list(s.scan_stream(io.BytesIO(doc.data()), chunk_chars=4096, overlap=512))
                   for s in scanners]  # fmt: skip
        for s, r in zip(scanners, streams, strict=True):
            assert r == streams[0], (doc.name, s.engine)
        total += len(results[0])
    assert total > 500


def test_generated_text_identical_on_every_engine() -> None:
    scanners = all_engines(kinds={"pan", "track_data", "iban", "phone"})
    rng = random.Random(15)
    text = "\n".join(random_doc(rng).decode() for _ in range(3000))
    results = [s.scan_text(text) for s in scanners]
    assert sum(f.kind == "pan" for f in results[0]) > 1000
    for s, r in zip(scanners, results, strict=True):
        assert r == results[0], s.engine


def dotted_log(rng: random.Random, lines: int) -> tuple[str, list[tuple[int, int]]]:
    """Log lines with IPv4 addresses, versions, dates and OIDs, a dot-grouped PAN on some
    (planted: their spans) and dotted look-alikes on others."""
    out: list[str] = []
    planted: list[tuple[int, int]] = []
    pos = 0
    for i in range(lines):
        r = rng.randrange
        line = (f"2026.{r(1, 13):02d}.{r(1, 29):02d} {r(24):02d}:{r(60):02d} INFO gw-{i % 4} "
                f"ip={r(1, 256)}.{r(256)}.{r(256)}.{r(256)} "
                f"v={r(10)}.{r(30)}.{r(300)}.{r(1000, 99999)} "
                f"oid=1.3.6.1.4.1.{r(99999)}.{r(10)}.{r(10000)} "
                f"amt={r(99999)}.{r(100):02d} ")  # fmt: skip
        x = rng.random()
        brand = rng.choice(sorted(BRAND_SPECS))
        lens = [n for n in BRAND_SPECS[brand][1] if any(sum(lay) == n for lay in DOTTED_LAYOUTS)]
        if x < 0.4 and lens:
            pan = make_pan(rng, brand, rng.choice(lens))
            lay = rng.choice(sorted(lay for lay in DOTTED_LAYOUTS if sum(lay) == len(pan)))
            line += "card="
            start = pos + len(line)
            line += group(pan, ".", lay)
            planted.append((start, pos + len(line)))
        elif x < 0.7:
            pan = make_pan(rng, length=16)
            line += "data=" + rng.choice([
                group(pan[:-1] + str((int(pan[-1]) + 1) % 10), "."),  # Luhn
                group(pan, ".", (4, 4, 8)), group(pan, ".", (4, 12)), group(pan, ".", (4, 4, 4, 4))
                + "." + str(r(10)), "1.3.6." + group(pan, "."), group(pan, ".", (6, 10)),
                group(pan, ".")[:9] + "-" + group(pan, ".")[10:],
            ])  # fmt: skip
        line += " resp=00\n"
        out.append(line)
        pos += len(line)
    return "".join(out), planted


def test_dotted_pans_identical_on_every_engine_and_in_streams() -> None:
    """Dot-grouped PANs amid IPv4 addresses, versions, dates, OIDs and dotted look-alikes: every
    engine, on the whole text and streamed in small chunks (numbers across chunk edges), finds
    exactly the planted PANs and every line's IP address."""
    text, planted = dotted_log(random.Random(18), 3000)
    assert len(planted) > 900
    for sc in all_engines():
        found = sc.scan_text(text)
        assert [(f.start, f.end) for f in found if f.kind == "pan"] == planted, sc.engine
        assert sum(f.kind == "ip_address" for f in found) == 3000, sc.engine
        assert {f.kind for f in found} == {"pan", "ip_address"}, sc.engine
        streamed = list(sc.scan_stream(io.BytesIO(text.encode()), chunk_chars=4096, overlap=512))
        assert streamed == found, sc.engine


def test_native_unavailable_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from vault.pii import scanner as mod

    monkeypatch.setattr(mod, "HAVE_NATIVE", False)
    with pytest.raises(RuntimeError, match="native scanner core"):
        Scanner(use_native=True)
    assert not Scanner().uses_native


# ----------------------------------------------------------------------------- IPv4


def ipv4_py(b: bytes) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _IPV4_RE.finditer(b)]


def random_ipish(rng: random.Random) -> bytes:
    parts: list[str] = []
    for _ in range(rng.randint(1, 10)):
        k = rng.randrange(6)
        if k == 5:
            parts.append(".".join(str(rng.randrange(256)) for _ in range(4)))
        elif k == 0:  # a plausible address, sometimes with out-of-range or padded octets
            parts.append(".".join(rng.choice([str(rng.randrange(256)), str(rng.randrange(1000)),
                                              "0" + str(rng.randrange(10)), "255", "256", "25"])
                                  for _ in range(rng.randint(3, 5))))  # fmt: skip
        elif k == 1:  # version numbers, decimals, dotted runs
            parts.append(".".join(str(rng.randrange(10 ** rng.randint(1, 5)))
                                  for _ in range(rng.randint(1, 6))))  # fmt: skip
        elif k == 2:
            parts.append("".join(rng.choice("0123456789.") for _ in range(rng.randint(1, 25))))
        elif k == 3:
            parts.append(rng.choice(["ip=", "v", "a.", "host-", "1", ".", "x"]))
        else:
            parts.append("".join(rng.choice("0123456789 .-:aZ\n")
                                 for _ in range(rng.randint(1, 9))))  # fmt: skip
        parts.append(rng.choice(["", " ", ".", "-", "\n", "a", ":", "/"]))
    return "".join(parts).encode()


def test_ipv4_same_matches_as_python_regex() -> None:
    rng = random.Random(21)
    found = 0
    for _ in range(20000):
        b = random_ipish(rng)
        got = fastscan.ipv4_matches(b)
        assert got == ipv4_py(b), b
        found += len(got)
    assert found > 5000
    alphabets = [bytes(range(256)), b"0123456789." * 4 + b" a-", b"12559.0 ", b"1."]
    for i in range(20000):
        alpha = alphabets[i % len(alphabets)]
        b = bytes(rng.choice(alpha) for _ in range(rng.randint(0, 60)))
        assert fastscan.ipv4_matches(b) == ipv4_py(b), b


@pytest.mark.parametrize(
    "data",
    [b"", b".", b"1.2.3.4", b"1.2.3.4.", b"1.2.3.4.5", b".1.2.3.4", b"a1.2.3.4", b"1.2.3.4a",
     b"01.2.3.4", b"1.2.3.04", b"255.255.255.255", b"256.1.1.1", b"1.1.1.256", b"1234.1.1.1",
     b"1.2.3.4-1.2.3.4", b"1.2.3.4..5", b"\xff1.2.3.4\xff", b"1.2.3", b"1.2.3.", b"9" * 5000,
     b"." * 5000, b"1." * 5000, b"10.0.0.1 " * 1000],
)  # fmt: skip
def test_ipv4_edges(data: bytes) -> None:
    assert fastscan.ipv4_matches(data) == ipv4_py(data)


def test_ipv4_huge_buffer_offsets() -> None:
    block = b"x ip=10.1.2.3 y=1.2.3.4.5 z=255.255.255.255\n" * 1000
    expected = ipv4_py(block)
    big = block * 50
    n = len(block)
    assert fastscan.ipv4_matches(big) == [(s + k * n, e + k * n) for k in range(50)
                                          for s, e in expected]  # fmt: skip


# ----------------------------------------------------------------------------- ready-made hits
# pan_hits / ipv4_hits build the handlers' Hit tuples in C, drop_overlaps and rows resolve
# them: each against its Python reference, on text that exercises the field-name context.

from vault.pii.rules import _NEG_SUFFIXES, _NEG_WORDS, _handle_ipv4  # noqa: E402
from vault.pii.scanner import _PRIORITY, _drop_overlaps  # noqa: E402

LABEL_BITS = [w.decode() for w in _NEG_WORDS] + [s.decode() for s in _NEG_SUFFIXES] + [
    "card", "CARD", "pan", "Pan", "panel", "pan_", "visa", "Master", "amex", "kortti", "cc_num",
    "ccnum", "cc-num", "ccxnum", "acct_num", "AcctNum", "acct num", "num", "x", "id", "txnid",
    "Txn_ID", "order no", "amt", "xamt", "tsx", "ts", "_", " ", "-", "\t", "\n", "9", "é",
]  # fmt: skip
SEPARATORS = ["=", ":", " = ", "  :  ", "\t=\t", '"=', '="', "\":\"", "'= '", ">", "    =", "= \n",
              "=\n", "", " ", "==", "=    "]  # fmt: skip


def handler_hits(b: bytes) -> list[tuple[object, ...]]:
    ctx = Ctx(b, None)
    return [h for m in PAN_RE.finditer(b) for h in (handle_pan(m, ctx) or [])]


def labelled_doc(rng: random.Random) -> bytes:
    parts = []
    for _ in range(rng.randint(1, 6)):
        parts.append("".join(rng.choice(LABEL_BITS) for _ in range(rng.randint(0, 4))))
        parts.append(rng.choice(SEPARATORS))
        pan = make_pan(rng)
        k = rng.randrange(7)
        if k < 2:
            parts.append(pan)
        elif k < 5:
            parts.append(group(pan, " -."[k - 2], rng.choice(GROUPINGS[len(pan)])))
        else:  # any grouping: the field name decides, as for runs
            parts.append(group(pan, " -"[k - 5], partition(rng, len(pan))))
        parts.append(rng.choice([" ", "\n", ", ", "x", "+", "-1"]))
    text = "".join(parts)
    if rng.random() < 0.3:
        text = "+" + text
    return text.encode("latin-1", "replace")


def test_pan_hits_are_the_handlers_hits() -> None:
    rng = random.Random(31)
    kinds = {0.9: 0, 0.95: 0, 0.99: 0}
    dropped = 0
    for i in range(30000):
        b = labelled_doc(rng) if i % 2 else random_doc(rng)
        want = handler_hits(b)
        assert fastscan.pan_hits(b) == want, b
        for h in want:
            kinds[h[6]] += 1
        dropped += len(fastscan.pan_matches(b)) - len({h[2] for h in want})
    assert min(kinds.values()) > 1000, kinds  # every confidence, so both context checks ran
    assert dropped > 1000  # and numbers dropped for their field name


@pytest.mark.parametrize(
    "data",
    [b"", b"4111111111111111", b"+4111111111111111", b"txn=4111111111111111",
     b"TXN_ID = 4111111111111111", b"xtxn=4111111111111111", b"card txn=4111111111111111",
     b"order no: 4111111111111111", b"order-no>4111111111111111", b'amt"=4111111111111111',
     b"amt=\n4111111111111111", b"amt    =4111111111111111",
     b"m=" + b"x" * 40 + b"4111111111111111",
     b"x" * 37 + b"ts=4111111111111111", b"x" * 38 + b"ts=4111111111111111",
     b"pan_4111111111111111", b"pan 4111 1111 1111 1111",
     b"4111 1111 1111 1111 4111 1111 1111 1111",
     b"4111-1111-1111-1111", b"\xffcard\xff4111111111111111", b"ts=4111-1111-1111-1111",
     b"ts=4111.1111.1111.1111", b"card 3782.822463.10005", b"+4111.1111.1111.1111",
     b"pan 4111.1111.1111.1111 4111.1111.1111.1111"],
)  # fmt: skip
def test_pan_hits_edges(data: bytes) -> None:
    assert fastscan.pan_hits(data) == handler_hits(data)


def test_ipv4_hits_are_the_handlers_hits() -> None:
    rng = random.Random(22)
    found = 0
    for _ in range(5000):
        b = random_ipish(rng)
        ctx = Ctx(b, None)
        want = [h for m in _IPV4_RE.finditer(b) for h in (_handle_ipv4(m, ctx) or [])]
        assert fastscan.ipv4_hits(b) == want, b
        found += len(want)
    assert found > 1000


def random_hits(rng: random.Random) -> list[tuple[str, str, int, int, str, str, float]]:
    hits = []
    for _ in range(rng.randint(0, 30)):
        s = rng.randrange(60)
        kind = rng.choice(sorted(_PRIORITY))
        hits.append((kind, kind, s, s + rng.randint(1, 15), "m", "v",
                     rng.choice([0.5, 0.8, 0.9, 0.99])))  # fmt: skip
    hits.sort(key=lambda h: h[3], reverse=True)
    hits.sort(key=lambda h: h[2])
    return hits


def test_drop_overlaps_is_the_python_sweep() -> None:
    rng = random.Random(5)
    changed = 0
    for _ in range(20000):
        hits = random_hits(rng)
        want = _drop_overlaps(list(hits))
        assert fastscan.drop_overlaps(list(hits), _PRIORITY) == want, hits
        changed += len(want) != len(hits)
        rng.shuffle(hits)  # unsorted input: both sort by (start, -end), stably
        assert fastscan.drop_overlaps(list(hits), _PRIORITY) == _drop_overlaps(list(hits))
    assert changed > 5000
    with pytest.raises(KeyError):
        fastscan.drop_overlaps([("nope", "d", 0, 1, "m", "v", 0.5)] * 2, _PRIORITY)
    with pytest.raises(TypeError):
        fastscan.drop_overlaps([("pan", 1)], _PRIORITY)


def test_rows_without_hashes_and_with() -> None:
    b = b"card 4111111111111111\nip 10.1.2.3\n"
    with_hash = Scanner(b"k")._rows(b, None, 100, 7, 0, len(b))
    without = Scanner(b"k")._rows(b, None, 100, 7, 0, len(b), values="none")
    py = Scanner(b"k", use_native=False)._rows(b, None, 100, 7, 0, len(b))
    assert with_hash == py
    assert [r[:7] for r in without] == [r[:7] for r in with_hash]
    assert [r[4] for r in with_hash] == [8, 9] and [r[2] for r in with_hash] == [105, 125]
    assert all(len(r[7]) == 64 for r in with_hash) and all(r[7] == "" for r in without)
    with pytest.raises(ValueError, match="order"):
        fastscan.rows(b, [("pan", "d", 5, 9, "m", "v", 0.5), ("pan", "d", 1, 3, "m", "v", 0.5)],
                      0, 0, 0, 99, {}, None)  # fmt: skip


def test_json_hits_equal_json_lines_of_the_rows() -> None:
    """json_hits: vault scan --json's lines made from the hits equal those of their rows."""
    from vault.pii.scanjson import BoundJsonLines, json_lines

    rng = random.Random(17)
    sc = Scanner(b"k")
    for trial in range(300):
        text = "".join(rng.choice([f"card {make_pan(rng)} ", "ip 10.1.2.3 ", "\n", "x" * 7,
                                   "mail a.b@example.com ", "+358 40 123 4567 ", "é "])
                       for _ in range(rng.randint(0, 40)))  # fmt: skip
        b = text.encode()
        hits = sc._hits(b, None)
        lo = rng.randint(0, len(b))
        hi = rng.choice([len(b), rng.randint(lo, len(b) + 5), 1 << 62])
        base_line = rng.randint(0, 1000)
        rows = sc._rows(b, None, 0, base_line, lo, hi, values="none")
        page = rng.choice([None, 3])
        bound = BoundJsonLines(f"p{trial}.log", page)
        assert bound.of_hits(b, hits, base_line, lo, hi) == json_lines(bound.path, page, rows)
    lone = [("email", "email", 0, 3, "\ud800", "x", 0.95)]
    assert BoundJsonLines("p", None).of_hits(b"abc", lone, 0, 0, 9) is None  # rows decide
    with pytest.raises(ValueError, match="order"):
        fastscan.json_hits(b"abcdef", [("pan", "d", 4, 5, "m", "v", 0.5),
                                       ("pan", "d", 1, 2, "m", "v", 0.5)], 0, 0, 9, "{", "null",
                           {}, str)  # fmt: skip


def test_configure_labels_rejects_bad_input() -> None:
    for words, suffixes in [([b"ok", b"n0t"], []), ([b""], []), ([b"x" * 25], []),
                            ([b"a"] * 65, []), (["str"], []), (5, [])]:  # fmt: skip
        with pytest.raises((ValueError, TypeError)):
            fastscan.configure_labels(words, suffixes)
    b = b"txn=4111111111111111"
    assert fastscan.pan_hits(b) == []  # the labels loaded at import still apply


# ----------------------------------------------------------------------------- digit prefilters


def test_digit_prefilter_reports_hyperscans_match_ends() -> None:
    hs = pytest.importorskip("hyperscan")
    from vault.pii.scanner import NATIVE_PREFILTERS

    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    db.compile(expressions=list(NATIVE_PREFILTERS), ids=list(range(len(NATIVE_PREFILTERS))),
               flags=[0] * len(NATIVE_PREFILTERS))  # fmt: skip
    scratch = hs.Scratch(db)

    def reference(b: bytes) -> list[set[int]]:
        out: list[set[int]] = [set() for _ in NATIVE_PREFILTERS]
        if b:
            db.scan(b, match_event_handler=lambda i, s, e, f, c: out[i].add(e), scratch=scratch)
        return out

    rng = random.Random(3)
    alphabets = [b"0123456789" * 5 + b"-. =+ABFUXYZ09 ", b"0123456789-= ", bytes(range(256)),
                 b"01 -", b"0123456789" + b"ABCDEFGHIJKLMNOPQRSTUVWXYZ "]  # fmt: skip
    counts = [0] * len(NATIVE_PREFILTERS)
    for i in range(60000):
        alpha = alphabets[i % len(alphabets)]
        b = bytes(rng.choice(alpha) for _ in range(rng.randint(0, 48)))
        got = [set(x) for x in fastscan.digit_prefilter(b)]
        want = reference(b)
        assert got == want, b
        counts = [c + len(w) for c, w in zip(counts, want, strict=True)]
    assert min(counts) > 100, counts  # every pattern matched often
    for doc in generate(seed=5, scale=1):
        b = doc.text.encode("latin-1", "replace")
        assert [set(x) for x in fastscan.digit_prefilter(b)] == reference(b), doc.name


def test_every_native_prefilter_replaces_a_rule_pattern() -> None:
    from vault.pii.rules import RULES
    from vault.pii.scanner import NATIVE_PREFILTERS

    case_sensitive = {pat for rule in RULES for pat, flags in rule.hs if not flags & 1}
    assert set(NATIVE_PREFILTERS) <= case_sensitive
    if HAVE_HYPERSCAN:
        engine = Scanner()._engine()
        assert engine is not None
        assert sorted(slot for slot, _ in engine.native_of) == list(range(len(NATIVE_PREFILTERS)))
