"""Non-card kinds: e-mail, phone, national ids, IBAN, IP addresses, secrets."""

from __future__ import annotations

import random

import pytest

from tests.pii.corpus import iban_spaced, make_hetu, make_iban, make_my_number
from vault.pii import CARD_KINDS, KINDS, Scanner
from vault.pii.ids import hetu_ok, iban_mod97, iban_ok, my_number_ok, ssn_ok


def spans(s: Scanner, text: str, kind: str) -> list[str]:
    return [text[f.start : f.end] for f in s.scan_text(text) if f.kind == kind]


def test_kinds_constants() -> None:
    assert set(CARD_KINDS) == {"pan", "track_data", "cvv", "pin_block"}
    assert set(KINDS) >= CARD_KINDS | {"email", "phone", "national_id", "iban", "ip_address",
                                       "secret"}  # fmt: skip
    with pytest.raises(ValueError):
        Scanner(kinds={"nope"})


def test_kind_filter() -> None:
    text = "4111111111111111 john@example.com"
    assert {f.kind for f in Scanner(kinds={"email"}).scan_text(text)} == {"email"}
    assert {f.kind for f in Scanner(kinds=CARD_KINDS).scan_text(text)} == {"pan"}


# ----------------------------------------------------------------------------- e-mail / phone


@pytest.mark.parametrize(
    "text,expected",
    [
        ("mail john.doe@example.com now", ["john.doe@example.com"]),
        ("<a+b@sub.example.co.uk>", ["a+b@sub.example.co.uk"]),
        ("mailto:x_y@example.fi", ["x_y@example.fi"]),
        ("user@localhost", []),
        ("@example.com", []),
        ("a@b.c", []),
    ],
)
def test_email(text: str, expected: list[str], scanner: Scanner) -> None:
    assert spans(scanner, text, "email") == expected


def test_email_mask(scanner: Scanner) -> None:
    (f,) = scanner.scan_text("john@example.com")
    assert f.masked == "j***@example.com"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("call +358 40 123 4567", ["+358 40 123 4567"]),
        ("tel +1-415-555-2671", ["+1-415-555-2671"]),
        ("(415) 555-2671", ["(415) 555-2671"]),
        ("415-555-2671", ["415-555-2671"]),
        ("電話 090-1234-5678", ["090-1234-5678"]),
        ("puh. 040 123 4567", ["040 123 4567"]),
        ("+12", []),
        ("version 1.2.3", []),
    ],
)
def test_phone(text: str, expected: list[str], scanner: Scanner) -> None:
    assert spans(scanner, text, "phone") == expected


# ----------------------------------------------------------------------------- national ids


@pytest.mark.parametrize(
    "text,ok",
    [
        ("078-05-1120", True),
        ("123-45-6789", True),
        ("000-12-3456", False),
        ("666-12-3456", False),
        ("900-12-3456", False),
        ("987-65-4321", False),
        ("123-00-4567", False),
        ("123-45-0000", False),
        ("SSN: 123456789", True),
        ("ssn 123 45 6789", True),
        ("123456789", False),
        ("1123-45-6789", False),
    ],
)
def test_us_ssn(text: str, ok: bool, scanner: Scanner) -> None:
    found = [f for f in scanner.scan_text(text) if f.detector == "national_id.us_ssn"]
    assert bool(found) is ok, text


def test_ssn_rules() -> None:
    assert ssn_ok("001", "01", "0001")
    assert not ssn_ok("000", "01", "0001")
    assert not ssn_ok("666", "01", "0001")
    assert not ssn_ok("950", "01", "0001")
    assert not ssn_ok("001", "00", "0001")
    assert not ssn_ok("001", "01", "0000")


@pytest.mark.parametrize(
    "value,ok",
    [
        ("131052-308T", True),
        ("131052A308T", False),  # century sign changes the date only; check still ok? no:
        ("010594Y9032", True),
        ("010594Y9032", True),
        ("010594Y9033", False),  # wrong check character
        ("020516C903K", True),
        ("010100+0026", False),
        ("131052-308U", False),
        ("311352-308T", False),  # month 13
        ("290223A0018", False),  # 29 Feb 2023
        ("131052Z308T", False),  # unknown century sign
    ],
)
def test_hetu(value: str, ok: bool, scanner: Scanner) -> None:
    if value == "131052A308T":  # same digits, 2000s: still a valid date and same checksum
        ok = True
    assert hetu_ok(value) is ok, value
    found = [f for f in scanner.scan_text(f"hetu {value}.") if f.kind == "national_id"]
    assert bool(found) is ok


def test_hetu_generated() -> None:
    rng = random.Random(5)
    for _ in range(200):
        assert hetu_ok(make_hetu(rng))


def test_my_number(scanner: Scanner) -> None:
    rng = random.Random(9)
    for _ in range(50):
        v = make_my_number(rng)
        assert my_number_ok(v)
        bad = v[:11] + str((int(v[11]) + 1) % 10)
        assert not my_number_ok(bad)
        assert spans(scanner, f"My Number: {v}", "national_id") == [v]
        assert spans(scanner, f"マイナンバー：{v}", "national_id") == [v]
        grouped = f"{v[:4]} {v[4:8]} {v[8:]}"
        assert spans(scanner, f"個人番号 {grouped}", "national_id") == [grouped]
        assert spans(scanner, f"My Number: {bad}", "national_id") == []
        assert spans(scanner, f"ref {v}", "national_id") == []  # no context


def test_my_number_fullwidth_digits(scanner: Scanner) -> None:
    v = make_my_number(random.Random(1))
    fw = "".join(chr(0xFF10 + int(c)) for c in v)
    assert spans(scanner, f"マイナンバー {fw}", "national_id") == [fw]


# ----------------------------------------------------------------------------- IBAN


def test_iban(scanner: Scanner) -> None:
    rng = random.Random(11)
    for country in ("FI", "DE", "FR", "GB", "NL"):
        iban = make_iban(rng, country)
        assert iban_ok(iban)
        for text in (iban, iban_spaced(iban)):
            assert spans(scanner, f"IBAN {text}.", "iban") == [text]
        bad = iban[:2] + f"{(int(iban[2:4]) + 1) % 100:02d}" + iban[4:]
        assert not iban_ok(bad)
        assert spans(scanner, f"IBAN {bad}.", "iban") == []
    assert iban_ok("DE89370400440532013000")
    assert iban_ok("GB29NWBK60161331926819")
    assert not iban_ok("GB29NWBK6016133192681")  # wrong length
    # valid but for a character int() would take: a digit separator, a non-ASCII digit
    for odd in ("GB29NWBK6016_1331926819", "GB29NWBK601613319268\u0661\u0669"):
        assert iban_mod97(odd.replace("_", "").translate({0x661: "1", 0x669: "9"}))
        assert not iban_mod97(odd)
    assert iban_mod97("gb29nwbk60161331926819")  # letters of either case are 10-35


# ----------------------------------------------------------------------------- IP


@pytest.mark.parametrize(
    "text,expected",
    [
        ("from 192.168.1.10 port", ["192.168.1.10"]),
        ("10.0.0.1:8080", ["10.0.0.1"]),
        ("999.1.1.1", []),
        ("v1.2.3.4", []),
        ("1.2.3.4.5", []),
        ("addr fe80::1ff:fe23:4567:890a", ["fe80::1ff:fe23:4567:890a"]),
        ("2001:db8:0:0:1:0:0:1", ["2001:db8:0:0:1:0:0:1"]),
        ("::1", ["::1"]),
        ("12:34:56", []),
        ("00:1A:2B:3C:4D:5E", []),
    ],
)
def test_ip(text: str, expected: list[str], scanner: Scanner) -> None:
    assert spans(scanner, text, "ip_address") == expected


def test_ip_mask(scanner: Scanner) -> None:
    (f,) = scanner.scan_text("192.168.1.10")
    assert f.masked == "192.168.*.*"


# ----------------------------------------------------------------------------- secrets

PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    + "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\n"
    + "aFDrBz9vFqU4yTo8KcMzIqZ0ekfGbFQQ3A==\n-----END RSA PRIVATE KEY-----"
)

SECRETS = [
    (
        "enable secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0",
        "$1$mERr$hx5rVt7rPNoS4wqbXKX7m0",
        "secret.cisco_enable",
    ),
    ("enable password 7 0822455D0A16", "0822455D0A16", "secret.cisco_enable"),
    ("username admin privilege 15 secret 5 $1$aBcD$EfGh", "$1$aBcD$EfGh", "secret.cisco_username"),
    ("snmp-server community public RO", "public", "secret.snmp_community"),
    ("snmp-server community s3cr3tC0mm RW 10", "s3cr3tC0mm", "secret.snmp_community"),
    ("password=hunter22", "hunter22", "secret.config_password"),
    ("db.password = 'Tr0ub4dor&3'", "Tr0ub4dor&3", "secret.config_password"),
    ('{"client_secret": "abcDEF123456"}', "abcDEF123456", "secret.config_password"),
    ("DB_PASSWORD: s3cret!", "s3cret!", "secret.config_password"),
    ("<password>hunter22</password>", "hunter22", "secret.config_password"),
    ("salasana=Kissa123", "Kissa123", "secret.config_password"),
    (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "secret.config_password",
    ),
    ("key AKIAIOSFODNN7EXAMPLE end", "AKIAIOSFODNN7EXAMPLE", "secret.aws_access_key"),
    (
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9abcdef",
        "eyJhbGciOiJIUzI1NiJ9abcdef",
        "secret.bearer",
    ),
    ("token ghp_" + "a" * 36, "ghp_" + "a" * 36, "secret.token"),
    ("https://user:pa55word@host.example.com/x", "user:pa55word", "secret.url_credentials"),
    ("postgres://svc:Xy9!zz@db:5432/app", "svc:Xy9!zz", "secret.url_credentials"),
    (PEM, PEM, "secret.private_key"),
]


@pytest.mark.parametrize("text,value,detector", SECRETS)
def test_secrets(text: str, value: str, detector: str, scanner: Scanner) -> None:
    found = [f for f in scanner.scan_text(text) if f.kind == "secret"]
    assert [(text[f.start : f.end], f.detector) for f in found] == [(value, detector)]
    for f in found:
        assert value not in repr(f)
        assert f.masked.startswith("****") or f.detector == "secret.url_credentials"
        assert len(f.masked.replace("*", "")) <= 2 or f.detector == "secret.url_credentials"


@pytest.mark.parametrize(
    "text",
    [
        "password=${DB_PASSWORD}",
        "password: ********",
        "password=null",
        'password: "<redacted>"',
        "bypass=abcdef",
        "https://host.example.com/path?a=b",
        "http://user@host.example.com",
        "AKIAIOSFODNN7EXAMPL",  # 19 chars
        "-----BEGIN PUBLIC KEY-----",
        "the passphrase is long",
    ],
)
def test_secret_lookalikes(text: str, scanner: Scanner) -> None:
    assert [f for f in scanner.scan_text(text) if f.kind == "secret"] == []


def test_private_key_without_end_reports_header(scanner: Scanner) -> None:
    (f,) = scanner.scan_text("x\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk")
    assert f.detector == "secret.private_key" and f.confidence < 0.9 and f.line == 2


def test_url_credentials_not_reported_as_email(scanner: Scanner) -> None:
    kinds = [f.kind for f in scanner.scan_text("https://bob:s3cretpw@host.example.com")]
    assert kinds == ["secret"]


def test_hyperscan_and_re_agree_on_corpus() -> None:
    from vault.pii import HAVE_HYPERSCAN

    if not HAVE_HYPERSCAN:
        pytest.skip("hyperscan not installed")
    from tests.pii.corpus import generate

    a, b = Scanner(b"k", use_hyperscan=True), Scanner(b"k", use_hyperscan=False)
    for doc in generate(seed=99):
        assert a.scan_text(doc.text) == b.scan_text(doc.text), doc.name


@pytest.mark.parametrize("mask", ["255.255.255.0", "255.255.0.0", "255.0.0.0",
                                  "255.255.255.252", "255.255.240.0"])
def test_a_netmask_is_not_an_ip_address(mask: str) -> None:
    from vault.pii import Scanner
    line = f"interface Gi0/1\n ip address 10.0.0.1 {mask}\n"
    found = [f for f in Scanner().scan_text(line) if f.kind == "ip_address"]
    assert [f.start for f in found] == [line.index("10.0.0.1")]


@pytest.mark.parametrize("addr", ["255.255.1.0", "255.1.255.0", "254.255.255.0",
                                  "10.255.255.0", "255.255.255.255"])
def test_an_address_that_only_looks_like_a_mask_is_still_one(addr: str) -> None:
    from vault.pii import Scanner
    assert [f.kind for f in Scanner().scan_text(f"host {addr} up")] == ["ip_address"]
