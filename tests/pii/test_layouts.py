"""Card numbers in every printed layout, measured on an independent corpus.

tests/pii/layout_corpus.py generates labelled documents (gateway logs, CSV exports, settlement
records, UAT notes, JSON) from its own brand table and Luhn code: card recall and precision
over a few thousand of them, then each layout the scanner used to miss and each class of
hard negatives on its own.

The rule (vault/pii/rules.py, above PAN_RE): a run of 12-19 digits, or groups separated by one
separator throughout (single spaces, dashes or dots), in a brand's IIN range and length, Luhn
valid. Spaces and dashes: the brands' usual layouts (cards.LAYOUTS) or any grouping of 2-5
groups of 2-13 digits (the first 2-11), the latter only as a whole chain of numbers, not as the
value of a non-card field, not after "+"; dots: the usual layouts only (cards.DOTTED_LAYOUTS).
"""

from __future__ import annotations

import random
import re

import pytest

from tests.pii import layout_corpus as lc
from vault.pii import HAVE_HYPERSCAN, Scanner
from vault.pii.scanner import HAVE_NATIVE

SCANNER = Scanner(b"layouts")


def pan_spans(sc: Scanner, text: str) -> list[tuple[int, int]]:
    return [(f.start, f.end) for f in sc.scan_text(text) if f.kind == "pan"]


# ----------------------------------------------------------------------------- the corpus


@pytest.fixture(scope="module")
def docs() -> list[lc.LabelledDoc]:
    return lc.generate(seed=2026, n=3000)


def test_corpus_recall_and_precision(docs: list[lc.LabelledDoc]) -> None:
    found = [pan_spans(SCANNER, d.text) for d in docs]
    r = lc.score(docs, found)
    summary = (f"card recall {r['recall']:.4f} precision {r['precision']:.4f} "
               f"(tp {r['tp']}, fp {r['fp']}, fn {r['fn']}; {len(docs)} documents, "
               f"engine {SCANNER.engine})")  # fmt: skip
    print(summary)
    assert r["tp"] > 5000, summary
    assert r["recall"] >= 0.99 and r["precision"] >= 0.99, summary


def test_corpus_holds_every_missed_layout(docs: list[lc.LabelledDoc]) -> None:
    seen: dict[tuple[int, ...], int] = {}
    for d in docs:
        for s, e in d.cards:
            parts = re.split(r"[ .-]", d.text[s:e])
            sizes = tuple(len(p) for p in parts)
            seen[sizes] = seen.get(sizes, 0) + 1
    for _, layout in lc.MISSED:
        assert seen.get(layout, 0) >= 15, (layout, seen.get(layout))


def _engines() -> list[Scanner]:
    return [Scanner(b"layouts", use_native=nat, use_hyperscan=hs)
            for nat in (True, False) for hs in (True, False)
            if (HAVE_NATIVE or not nat) and (HAVE_HYPERSCAN or not hs)]  # fmt: skip


def test_corpus_identical_on_every_engine(docs: list[lc.LabelledDoc]) -> None:
    scanners = _engines()
    for d in docs[:500]:
        results = [sc.scan_text(d.text) for sc in scanners]
        for sc, res in zip(scanners, results, strict=True):
            assert res == results[0], (sc.engine, d.text)


# ----------------------------------------------------------------------------- missed layouts

POSITIVE_CONTEXTS = [
    "{}",
    "2026-01-07T10:00:00Z INFO gw-2 authorize card={} amount=12.50 ip=10.1.2.3\n",
    "PAN: {}\n",
    '{{"card_number": "{}", "amount": 12.5}}',
    "17;Doe, Jane;{};12,50;EUR\n",
    '"17","{}","12.50"\n',
    "Customer read out the card number {} on the call.",
    "Test card {} 12/27 cvv 123",
    "Repro: enter {}, exp 12/27.",
    "2026-01-07 | MID 100200300400500 | {} | 12.50 | OK",
    "<cardNumber>{}</cardNumber>",
    "- {} -> approved",
]


@pytest.mark.parametrize("sep", [" ", "-"], ids=["spaces", "dashes"])
@pytest.mark.parametrize(("length", "layout"), lc.MISSED,
                         ids=["-".join(map(str, lay)) for _, lay in lc.MISSED])  # fmt: skip
def test_missed_layout_is_found(length: int, layout: tuple[int, ...], sep: str) -> None:
    rng = random.Random(f"{layout}{sep}")
    brands = {13: ["visa"], 14: ["diners14"]}.get(
        length, [b for b in lc.BRANDS if length in lc.card_lengths(b)])
    assert brands
    for brand in brands:
        for _ in range(5):
            card = lc.make_card(rng, brand, length)
            written = lc.grouped(card, sep, layout)
            for ctx in POSITIVE_CONTEXTS:
                text = ctx.format(written)
                start = text.index(written)
                assert pan_spans(SCANNER, text) == [(start, start + len(written))], text
                f = next(f for f in SCANNER.scan_text(text) if f.kind == "pan")
                assert f.masked == card[:6] + "*" * (length - 10) + card[-4:]
                assert f.value_hash == SCANNER.value_hash(card)


def test_every_layout_kind_and_separator() -> None:
    """Usual, groups-of-four and irregular layouts of every length, by spaces and dashes, and
    the usual dotted ones: found whole; an irregular dotted one is not (dots also write
    versions and decimals)."""
    rng = random.Random(3)
    for n in range(12, 20):
        brands = [b for b in lc.BRANDS if n in lc.card_lengths(b)]
        layouts = lc.USUAL[n] + lc.FOURS.get(n, ()) + lc.IRREGULAR[n]
        for layout in layouts:
            for brand in brands:
                card = lc.make_card(rng, brand, n)
                for sep in " -.":
                    written = lc.grouped(card, sep, layout)
                    text = f"card {written} ok"
                    want = [(5, 5 + len(written))]
                    if sep == "." and layout not in lc.DOTTED.get(n, ()):
                        want = []
                    assert pan_spans(SCANNER, text) == want, text


def test_free_grouping_rules() -> None:
    visa = "4111111111111111"
    free = f"{visa[:6]} {visa[6:]}"  # 6-10
    found = [free, f"card: {free}", f"{free} 12/27", f"{free} 3rd", f"pan={visa[:6]}-{visa[6:]}",
             f"{visa[:4]} {visa[4:8]} {visa[8:]} 123"]  # a CVV after it
    for text in found:
        assert len(pan_spans(SCANNER, text)) == 1, text
    not_found = [
        f"40012345 {free}",  # amid other numbers: the whole chain is no card layout
        f"{free} 000000012500 978",
        f"order_id={free}",  # the value of a non-card field
        f"txn_ref: {visa[:6]}-{visa[6:]}",
        f"+{free}",  # a phone number
        f"{visa[:6]}.{visa[6:]}",  # dots: usual layouts only
        f"{visa[:4]}.{visa[4:8]}.{visa[8:]}",
        f"{visa[:1]} {visa[1:]}",  # a group of one digit, of over 13 digits
        f"{visa[:4]} {visa[4:5]} {visa[5:]}",
        f"{visa[:2]} {visa[2:]}",
        f"{visa[:4]}  {visa[4:]}",  # two spaces
        f"{visa[:4]} {visa[4:8]}-{visa[8:]}",  # mixed separators
    ]
    for text in not_found:
        assert pan_spans(SCANNER, text) == [], text


# ----------------------------------------------------------------------------- negatives

NEGATIVE_CONTEXTS = ["{}", "x {} y", "data={} ", "[{}]", '"{}",', "value: {}\n", "card: {} ok",
                     "{};12,50;EUR", "2026-01-07 | {} | OK"]  # fmt: skip


def _ambiguous(value: str) -> bool:
    """A card (by the corpus's own table) and a short group after it, one space apart: the rule
    reads "4111 1111 1111 1111 123" as a card and its CVV, whatever made the whole number."""
    parts = value.split(" ")
    return len(parts) > 2 and len(parts[-1]) <= 3 and lc.is_card("".join(parts[:-1]))


@pytest.mark.parametrize("cls", sorted(lc.NEGATIVES))
def test_negative_class_is_not_a_card(cls: str) -> None:
    rng = random.Random(cls)
    make = lc.NEGATIVES[cls]
    checked = 0
    for i in range(600):
        value = make(rng)
        if _ambiguous(value):
            continue
        text = NEGATIVE_CONTEXTS[i % len(NEGATIVE_CONTEXTS)].format(value)
        assert pan_spans(SCANNER, text) == [], (cls, text)
        checked += 1
    assert checked > 550


def test_ids_after_non_card_field_names_are_not_cards() -> None:
    """Order ids, references, timestamps ... that are Luhn-valid numbers of a card issuer's
    range and length, as a run or in an irregular grouping, after their field's name."""
    rng = random.Random(9)
    for _ in range(1000):
        label, value = lc.labelled_id(rng)
        text = f"{label}{value} status=ok"
        assert pan_spans(SCANNER, text) == [], text
        assert len(pan_spans(SCANNER, f"card={value} status=ok")) == 1, value


def test_negatives_in_every_document_kind(docs: list[lc.LabelledDoc]) -> None:
    """No PAN reported over a planted negative of any class in the corpus documents."""
    hits = 0
    for d in docs[:1500]:
        spans = pan_spans(SCANNER, d.text)
        for cls, s, e in d.negatives:
            for fs, fe in spans:
                if fs < e and s < fe and not _ambiguous(d.text[s:e]):
                    hits += 1
                    assert hits <= 2, (cls, d.text[s:e], d.text[fs:fe])
