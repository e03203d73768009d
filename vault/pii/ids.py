"""Validators for national identifiers and IBANs."""

from __future__ import annotations

import datetime as _dt

# ---------------------------------------------------------------- US SSN


def ssn_ok(area: str, group: str, serial: str) -> bool:
    if area == "000" or area == "666" or area[0] == "9":
        return False
    return group != "00" and serial != "0000"


# ---------------------------------------------------------------- Finnish henkilötunnus

HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
HETU_CENTURY = {"+": 1800, "-": 1900, "U": 1900, "V": 1900, "W": 1900, "X": 1900, "Y": 1900}
HETU_CENTURY.update({c: 2000 for c in "ABCDEF"})


def hetu_ok(value: str) -> bool:
    if len(value) != 11:
        return False
    dd, mm, yy, sign, nnn, check = (
        value[0:2],
        value[2:4],
        value[4:6],
        value[6],
        value[7:10],
        value[10],
    )
    century = HETU_CENTURY.get(sign)
    if century is None or not (dd + mm + yy + nnn).isdigit():
        return False
    try:
        _dt.date(century + int(yy), int(mm), int(dd))
    except ValueError:
        return False
    if int(nnn) < 2:
        return False
    return HETU_CHECK[int(dd + mm + yy + nnn) % 31] == check


# ---------------------------------------------------------------- Japanese My Number


def my_number_check_digit(first11: str) -> int:
    total = 0
    for n in range(1, 12):
        p = int(first11[11 - n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    r = total % 11
    return 0 if r <= 1 else 11 - r


def my_number_ok(digits: str) -> bool:
    return (
        len(digits) == 12
        and digits.isdigit()
        and my_number_check_digit(digits[:11]) == int(digits[11])
    )


# ---------------------------------------------------------------- IBAN

IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


_BASE36 = {ord(c): str(int(c, 36)) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}


def iban_mod97(iban: str) -> bool:
    """ISO 13616 check: the country and check digits moved to the end, letters as 10-35, the
    number mod 97 is 1."""
    s = iban[4:] + iban[:4]
    if not (s.isascii() and s.isalnum()):  # (int() would accept "_", spaces and signs)
        return False
    return int(s.translate(_BASE36)) % 97 == 1


def iban_shape(iban: str) -> bool:
    """Country known and length right (mod-97 not checked)."""
    return IBAN_LENGTHS.get(iban[:2]) == len(iban)


def iban_ok(iban: str) -> bool:
    return iban_shape(iban) and iban_mod97(iban)


def iban_check_digits(country: str, bban: str) -> str:
    """Compute the two check digits (used by generators)."""
    s = bban + country + "00"
    num = "".join(str(int(c, 36)) for c in s)
    return f"{98 - int(num) % 97:02d}"
