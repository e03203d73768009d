"""PAN and track-data rules: brands, lengths, layouts, masked forms and look-alikes."""

from __future__ import annotations

import random
import re

import pytest

from tests.pii.corpus import BRAND_SPECS, GROUPINGS, group, iban_spaced, make_iban, make_pan
from vault.pii import Scanner
from vault.pii.cards import brand_of, luhn_complete, luhn_ok, valid_pan
from vault.pii.model import mask_pan


def pans(s: Scanner, text: str) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in s.scan_text(text) if f.kind in (
        "pan", "track_data")]  # fmt: skip


# ----------------------------------------------------------------------------- brand table


@pytest.mark.parametrize("brand", sorted(BRAND_SPECS))
def test_every_brand_and_length_contiguous_and_grouped(brand: str, scanner: Scanner) -> None:
    rng = random.Random(brand)
    prefixes, lengths = BRAND_SPECS[brand]
    for n in lengths:
        for p in prefixes:
            pan = luhn_complete(
                p + "".join(rng.choice("0123456789") for _ in range(n - len(p) - 1))
            )
            assert valid_pan(pan) == brand or (brand == "unionpay" and valid_pan(pan)), pan
            label = "card: " if n < 16 else ""
            for text in (pan, *(group(pan, sep, lay) for lay in GROUPINGS[n] for sep in " -")):
                found = pans(scanner, f"{label}{text} end")
                assert found == [("pan", text)], (brand, n, text)


@pytest.mark.parametrize(
    "number,expected",
    [
        ("4111111111111111", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("6011000990139424", "discover"),
        ("3566002020360505", "jcb"),
        ("30569309025904", "diners"),
        ("6759649826438453", "maestro"),
        ("6221261111111111113", None),  # luhn check below decides
    ],
)
def test_known_test_numbers(number: str, expected: str | None) -> None:
    if expected is None:
        assert brand_of(number) == "discover"
    else:
        assert valid_pan(number) == expected


@pytest.mark.parametrize(
    "number,why",
    [
        ("4111111111111112", "luhn"),
        (luhn_complete("4" + "1" * 13), "visa 15 digits"),
        (luhn_complete("4" + "1" * 16), "visa 18 digits"),
        (luhn_complete("51" + "0" * 14 + "0"[:0]), "mastercard 17"),
        (luhn_complete("34" + "0" * 14), "amex 16"),
        (luhn_complete("2220" + "0" * 11), "below 2221"),
        (luhn_complete("2721" + "0" * 11), "above 2720"),
        (luhn_complete("6011" + "0" * 10), "discover 15"),
        (luhn_complete("3527" + "0" * 11), "below jcb"),
        (luhn_complete("306" + "0" * 12), "306 is not diners"),
        (luhn_complete("65" + "0" * 12), "65 is discover only, 15 digits"),
        (luhn_complete("1" + "0" * 14), "no brand 1"),
        (luhn_complete("9" + "0" * 14), "no brand 9"),
        (luhn_complete("59" + "0" * 13), "59 no brand"),
    ],
)
def test_invalid_brand_length_or_luhn(number: str, why: str, scanner: Scanner) -> None:
    assert valid_pan(number) is None, why
    assert pans(scanner, f"card {number} x") == [], why


def test_overlap_precision() -> None:
    assert brand_of("650000") == "discover"
    assert brand_of("622126") == "discover"
    assert brand_of("622125") == "unionpay"
    assert brand_of("640000") == "maestro"
    assert brand_of("601100") == "discover"
    assert brand_of("601200") == "maestro"
    assert valid_pan(luhn_complete("6012" + "0" * 7)) == "maestro"  # 12 digits


# ----------------------------------------------------------------------------- layouts

VISA = "4111111111111111"
AMEX = "378282246310005"
DINERS = "30569309025904"
VISA19 = luhn_complete("4" + "0123456789" + "1234567")

POSITIVE_TEXTS = [
    f"pan={VISA}",
    f"card {VISA[:4]} {VISA[4:8]} {VISA[8:12]} {VISA[12:]}.",
    f"card {VISA[:4]}-{VISA[4:8]}-{VISA[8:12]}-{VISA[12:]};",
    f"amex {AMEX[:4]} {AMEX[4:10]} {AMEX[10:]}",
    f"amex {AMEX[:4]}-{AMEX[4:10]}-{AMEX[10:]}",
    f"diners {DINERS[:4]} {DINERS[4:10]} {DINERS[10:]}",
    f"visa19 {group(VISA19, ' ')}",
    f'{{"pan":"{VISA}"}}',
    f"<pan>{VISA}</pan>",
    f"{VISA},5555555555554444",
    f"card_{VISA}",
    f"{VISA} 12/27",
    f"{VISA[:2]} {VISA[2:8]} {VISA[8:]}",  # any grouping (cards.free_layout)
    f"card {VISA[:6]}-{VISA[6:]}",
]


@pytest.mark.parametrize("text", POSITIVE_TEXTS)
def test_positive_layouts(text: str, scanner: Scanner) -> None:
    found = pans(scanner, text)
    assert found and all(k == "pan" for k, _ in found), text


NEGATIVE_TEXTS = [
    "411111******1111",
    "4111-11XX-XXXX-1111",
    "4111 11** **** 1111",
    "4111 11XX XXXX 1111",
    "XXXX-XXXX-XXXX-1111",
    "card ending 1111",
    f"12{VISA}34",  # glued into a 20-digit run
    f"9{VISA}",
    f"{VISA}0",
    f"x{VISA}",
    f"{VISA}abc",
    f"{VISA[:4]} {VISA[4:8]}-{VISA[8:12]} {VISA[12:]}",  # mixed separators
    f"{VISA[:4]}  {VISA[4:8]}  {VISA[8:12]}  {VISA[12:]}",  # double spaces
    f"{VISA[:4]}--{VISA[4:8]}--{VISA[8:12]}--{VISA[12:]}",
    f"{VISA[:4]}-{VISA[4:8]}-{VISA[8:12]}-{VISA[12:]}-1234",  # extra dash group
    f"{VISA[:1]} {VISA[1:8]} {VISA[8:]}",  # a one-digit group: no grouping of a card
    f"{VISA[:2]} {VISA[2:]}",  # a group over 13 digits
    f"4{VISA[:4]} {VISA[4:8]} {VISA[8:12]} {VISA[12:]}",  # 17 digits: no Visa length
    "20240101123456789",  # timestamp
    "ts=2024010112345678901",
    "order ORD-2024-00012345",
    f"order_id={VISA}",
    f"rrn={VISA}",
    f'"merchantId": "{VISA}"',
    f"tel +{VISA[:15]}",
    "+358 40 123 4567",
    "(555) 123-4567",
    f"1.{VISA}",
    f"{VISA}.5",
    "3.14159265358979323846",
]


@pytest.mark.parametrize("text", NEGATIVE_TEXTS)
def test_lookalikes_are_not_pans(text: str, scanner: Scanner) -> None:
    assert pans(scanner, text) == [], text


def test_iban_with_luhn_valid_run_is_not_a_pan(scanner: Scanner) -> None:
    rng = random.Random(7)
    for _ in range(20):
        core = make_pan(rng, "discover", 16)
        iban = make_iban(rng, "FR", core + "1234567")
        for text in (iban, iban_spaced(iban)):
            found = scanner.scan_text(f"IBAN {text} ok")
            kinds = {f.kind for f in found}
            assert "pan" not in kinds, text
            assert kinds == {"iban"}, (text, found)


def test_iban_mod97_failure_still_shields_digits(scanner: Scanner) -> None:
    rng = random.Random(8)
    core = make_pan(rng, "discover", 16)
    iban = make_iban(rng, "FR", core + "1234567")
    broken = iban[:2] + f"{(int(iban[2:4]) + 1) % 100:02d}" + iban[4:]
    assert [f.kind for f in scanner.scan_text(iban_spaced(broken))] == []


# ----------------------------------------------------------------------------- tracks

TRACKS = [
    (";4111111111111111=25121010000012300000?", "track2"),
    ("4111111111111111=25121010000012300000", "track2"),
    ("raw=5555555555554444=2709201123456789", "track2"),
    (";378282246310005=2612101987654321?", "track2"),
    ("%B4111111111111111^DOE/JOHN^2512101000000000000000000?", "track1"),
    ("B4111111111111111^DOE/JOHN^25121010000000000?", "track1"),
    ("%B5555555555554444^SMITH/JANE A.^27091011234567890123?", "track1"),
]


@pytest.mark.parametrize("text,detector", TRACKS)
def test_track_data(text: str, detector: str, scanner: Scanner) -> None:
    found = [f for f in scanner.scan_text(text) if f.kind in ("pan", "track_data")]
    assert len(found) == 1, found
    f = found[0]
    assert f.kind == "track_data" and f.detector == detector
    pan = re.findall(r"[0-9]{12,19}", text)[0]
    assert f.masked == mask_pan(pan)
    assert text[f.start] in ";%B45" and f.end == len(text)


def test_track_discretionary_is_not_a_second_pan(scanner: Scanner) -> None:
    # discretionary data that is itself a Luhn-valid 16-digit Visa-looking run
    disc = "4000000000000002"
    assert luhn_ok(disc)
    t2 = f";5555555555554444=2709101{disc}?"
    t1 = f"%B5555555555554444^DOE/J^2709101{disc}?"
    for text in (t2, t1, f"x {t2} y {t1}"):
        found = [f for f in scanner.scan_text(text) if f.kind in ("pan", "track_data")]
        assert all(f.kind == "track_data" for f in found), found
        assert all(f.masked == "555555******4444" for f in found)


def test_track_with_invalid_pan_is_ignored(scanner: Scanner) -> None:
    assert scanner.scan_text(";4111111111111112=25121010000012300000?") == []


# ----------------------------------------------------------------------------- masking


def test_masking_and_repr_never_leak_the_pan(scanner: Scanner) -> None:
    rng = random.Random(3)
    for brand in sorted(BRAND_SPECS):
        pan = make_pan(rng, brand)
        text = f"card {pan} and {group(pan, ' ')} and ;{pan}=2512101123?"
        found = scanner.scan_text(text)
        assert len(found) == 3
        for f in found:
            n = len(pan)
            assert f.masked == pan[:6] + "*" * (n - 10) + pan[-4:]
            assert len(f.masked) == n
            assert pan not in repr(f)
            assert pan[6:-4] not in repr(f).replace(f.value_hash, "")


def test_value_hash_is_keyed_and_normalised() -> None:
    a = Scanner(b"k1").scan_text(f"{VISA} / {group(VISA, '-')}")
    b = Scanner(b"k2").scan_text(VISA)
    assert a[0].value_hash == a[1].value_hash
    assert a[0].value_hash != b[0].value_hash
    assert len(a[0].value_hash) == 64


def test_cvv_requires_context(scanner: Scanner) -> None:
    def cvvs(t: str) -> list[str]:
        return [t[f.start : f.end] for f in scanner.scan_text(t) if f.kind == "cvv"]

    assert cvvs("CVV: 123") == ["123"]
    assert cvvs("cvv2=1234") == ["1234"]
    assert cvvs('"cvc": "321"') == ["321"]
    assert cvvs("security code is 987") == ["987"]
    assert cvvs("Card verification value: 456") == ["456"]
    assert cvvs("turvakoodi 4321") == ["4321"]
    assert cvvs("セキュリティコード 555") == ["555"]
    assert cvvs("code 123") == []
    assert cvvs("room 123, floor 4") == []
    assert cvvs("cvv: 12345") == []
    assert cvvs("scvv 123") == []


def test_pin_block(scanner: Scanner) -> None:
    def pins(t: str) -> list[str]:
        return [f.masked for f in scanner.scan_text(t) if f.kind == "pin_block"]

    assert pins("PINBLOCK: 0123456789ABCDEF") == ["*" * 16]
    assert pins("pin block=041215FEDCBA9876") == ["*" * 16]
    assert pins("pin_block 0123456789abcdef") == ["*" * 16]
    assert pins("0123456789ABCDEF") == []
    assert pins("PINBLOCK: 0123456789ABCDEF01") == []
    assert pins("PINBLOCK: 0123456789ABCDEG") == []


# ----------------------------------------------------------------------------- dot-grouped
# "4111.1111.1111.1111" (some European exports): the brands' usual groupings only
# (cards.DOTTED_LAYOUTS), the same validation, masking and value as the other forms.

MASTERCARD = "5555555555554444"
MC2 = "2223003122003222"
DISCOVER17 = luhn_complete("6011" + "0" * 12)  # 17 digits: no dotted layout
MAESTRO12 = luhn_complete("6012" + "0" * 7)
DISCOVER19 = luhn_complete("622126" + "123456789012")


def dot(pan: str, layout: tuple[int, ...] | None = None) -> str:
    return group(pan, ".", layout)


def _engines() -> list[tuple[bool, bool]]:
    from vault.pii import HAVE_HYPERSCAN
    from vault.pii.scanner import HAVE_NATIVE

    return [(nat, hs) for nat in (True, False) for hs in (True, False)
            if (HAVE_NATIVE or not nat) and (HAVE_HYPERSCAN or not hs)]  # fmt: skip


@pytest.fixture(params=_engines(), scope="module",
                ids=lambda p: ("native+" if p[0] else "") + ("hyperscan" if p[1] else "re"))
def engine(request: pytest.FixtureRequest) -> Scanner:  # fmt: skip
    nat, hs = request.param
    return Scanner(b"test-key", use_native=nat, use_hyperscan=hs)


DOTTED_POSITIVES = [
    # (text, the PAN as written, its digits)
    (f"Payment with card {dot(VISA)} accepted.", dot(VISA), VISA),
    (f"paid {dot(MASTERCARD)} today", dot(MASTERCARD), MASTERCARD),
    (f"mc2 {dot(MC2)}", dot(MC2), MC2),
    (f"amex {dot(AMEX)} exp 12/27", dot(AMEX), AMEX),  # 4.6.5
    (f"diners {dot(DINERS)}", dot(DINERS), DINERS),  # 4.6.4
    (f"visa19 {dot(VISA19)}", dot(VISA19), VISA19),  # 4.4.4.4.3
    (f"visa19 {dot(VISA19, (4, 4, 4, 7))}", dot(VISA19, (4, 4, 4, 7)), VISA19),
    (f"{dot(VISA)}", dot(VISA), VISA),
    (f"Kortti: {dot(VISA)}.", dot(VISA), VISA),
    # CSV fields (European: `;` and decimal commas; quoted, `,`-separated)
    (f"id;nimi;kortti;summa\n17;Virtanen;{dot(VISA)};12,50\n", dot(VISA), VISA),
    (f'"17","Doe","{dot(MASTERCARD)}","12.50"\n', dot(MASTERCARD), MASTERCARD),
    (f"17,Doe,{dot(AMEX)},EUR\n", dot(AMEX), AMEX),
    # log lines, with IPv4 addresses, versions and decimals around
    (f"2026-01-02T10:00:00.123Z INFO gw-01 ip=10.1.2.3 card={dot(MASTERCARD)} amt=12.50 "
     f"agent=4.1.1.1", dot(MASTERCARD), MASTERCARD),
    (f"2026.01.02 10:00:00 client 192.168.10.20 pan {dot(VISA)} from 10.0.0.1",
     dot(VISA), VISA),
    (f"[{dot(AMEX)}]", dot(AMEX), AMEX),
    (f"<pan>{dot(VISA)}</pan>", dot(VISA), VISA),
    (f"order_id={dot(VISA)}", dot(VISA), VISA),  # grouped: no field-name veto (as dashes)
]  # fmt: skip


@pytest.mark.parametrize("text,written,digits", DOTTED_POSITIVES)
def test_dotted_pans(text: str, written: str, digits: str, engine: Scanner) -> None:
    found = [f for f in engine.scan_text(text) if f.kind in ("pan", "track_data")]
    assert [(f.kind, text[f.start : f.end]) for f in found] == [("pan", written)], text
    f = found[0]
    assert f.detector == "pan.luhn_iin"
    assert f.masked == mask_pan(digits) == digits[:6] + "*" * (len(digits) - 10) + digits[-4:]
    assert f.confidence >= 0.95  # grouped
    assert f.value_hash == engine.value_hash(digits)  # the same value as contiguous / spaced
    assert digits not in repr(f) and written not in repr(f)


def test_dotted_pan_is_the_same_value_as_other_forms(engine: Scanner) -> None:
    text = f"{VISA} / {group(VISA, ' ')} / {group(VISA, '-')} / {dot(VISA)}"
    found = engine.scan_text(text)
    assert [f.kind for f in found] == ["pan"] * 4
    assert len({f.value_hash for f in found}) == 1 and len({f.masked for f in found}) == 1


def test_dotted_pan_and_ipv4_on_one_line(engine: Scanner) -> None:
    text = f"src=10.20.30.40 dst=192.168.1.254 card={dot(VISA)} via 172.16.0.1 v=2026.01.02\n"
    got = [(f.kind, text[f.start : f.end], f.masked) for f in engine.scan_text(text)]
    assert got == [
        ("ip_address", "10.20.30.40", "10.20.*.*"),
        ("ip_address", "192.168.1.254", "192.168.*.*"),
        ("pan", dot(VISA), "411111******1111"),
        ("ip_address", "172.16.0.1", "172.16.*.*"),
    ]


DOTTED_NEGATIVES = [
    # IPv4 addresses (reported as such, never as a PAN), versions, dates, decimals
    "10.20.30.40",
    "255.255.255.255 and 192.168.100.200",
    "version 4.1.1.1",
    "4111.1.1.1",
    "release 2024.1.4111.1111",
    "Chrome/120.0.6099.4111",
    "2026.01.02",
    "02.01.2026",
    "2026.01.02.1111",
    "2026.0102.1111.1111",
    "3.14159265358979323846",
    "4111.111111111111",  # a decimal number (Luhn-valid digits)
    f"{MAESTRO12[:6]}.{MAESTRO12[6:]}",
    f"{DISCOVER19[:6]}.{DISCOVER19[6:]}",  # 6-13: a decimal number
    # OIDs whose arcs hold a dotted PAN
    f"1.3.6.1.4.1.311.21.8.{dot(VISA)}",
    f"OID 2.16.840.1.113730.3.1.{dot(VISA)}.1",
    f"{dot(VISA)}.1.3.6.1",
    # Luhn-invalid, wrong length for the brand, unknown IIN
    dot("4111111111111112"),
    dot(AMEX[:-1] + str((int(AMEX[-1]) + 1) % 10)),
    dot("1234567812345670"),
    # wrong grouping
    "4111.11111111.1111",
    "4111.1111.11111.111",
    "411.11111.1111.1111",
    "41.1111.1111.111111",
    "4111.111111.111111",
    dot(AMEX, (4, 4, 4, 3)),  # Amex's 4-6-5 only
    dot(VISA19, (4, 4, 4, 4, 3))[:-4],
    dot(MAESTRO12, (4, 4, 4)),  # 12-digit Maestro: no dotted layout
    dot(DISCOVER17, (4, 4, 4, 5)),  # 17 digits: no dotted layout
    f"{VISA[:4]}..{VISA[4:8]}..{VISA[8:12]}..{VISA[12:]}",
    # glued to more groups
    f"{dot(VISA)}.5",
    f"{dot(VISA)}.1111",
    f"{dot(VISA)}.1111.1111",
    f"1.{dot(VISA)}",
    f"10.0.{dot(VISA)}",
    f"{dot(VISA)}-5",
    f"x{dot(VISA)}",
    f"{dot(VISA)}x",
    # mixed separators (as for spaces and dashes)
    f"{VISA[:4]}.{VISA[4:8]}-{VISA[8:12]} {VISA[12:]}",
    f"{VISA[:4]}.{VISA[4:8]}.{VISA[8:12]} {VISA[12:]}",
    f"{VISA[:4]}-{VISA[4:8]}.{VISA[8:12]}-{VISA[12:]}",
    f"{VISA[:4]} {VISA[4:8]}.{VISA[8:12]}.{VISA[12:]}",
    # IBAN-like runs written with dots
    "DE89.3704.0044.0532.0130.00",
    "FI21.1234.5600.0007.85",
]


@pytest.mark.parametrize("text", DOTTED_NEGATIVES)
def test_dotted_lookalikes_are_not_pans(text: str, engine: Scanner) -> None:
    assert pans(engine, text) == [], text
    assert pans(engine, f"card: {text} end") == [], text


def test_ipv4_addresses_stay_ip_addresses(engine: Scanner) -> None:
    text = "10.20.30.40 4.1.1.1 255.255.255.255 1.2.3.4.5 2026.01.02"
    got = [(f.kind, text[f.start : f.end]) for f in engine.scan_text(text)]
    assert got == [("ip_address", "10.20.30.40"), ("ip_address", "4.1.1.1"),
                   ("ip_address", "255.255.255.255")]  # fmt: skip
