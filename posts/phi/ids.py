"""Check digits of the identifiers a post must never show: a number that passes is far likelier a real id.

KVNR (German health insurance number), US Medicare Beneficiary Identifier (format), NHS number
(modulus 11), Turkish TC Kimlik No, Japanese My Number (Individual Number), US Social Security
Number (the ranges never issued), German identity card number (check digit 7-3-1).
"""

import re

_KVNR_LETTER = {chr(ord("A") + n): n + 1 for n in range(26)}


def kvnr_valid(value: str) -> bool:
    """A letter, eight digits and a check digit (GKV-Spitzenverband's modified Luhn over the letter's two digits)."""
    value = value.upper()
    if not re.fullmatch(r"[A-Z]\d{9}", value):
        return False
    digits = f"{_KVNR_LETTER[value[0]]:02d}" + value[1:9]
    total = 0
    for position, char in enumerate(digits):
        product = int(char) * (1 if position % 2 == 0 else 2)
        total += product // 10 + product % 10
    return total % 10 == int(value[9])


# CMS's MBI: 11 characters, no S, L, O, I, B, Z among the letters.
_MBI_LETTER = "[AC-HJKMNP-RT-Y]"
_MBI_EITHER = "[AC-HJKMNP-RT-Y0-9]"
MBI = re.compile(
    rf"[1-9]{_MBI_LETTER}{_MBI_EITHER}\d-?{_MBI_LETTER}{_MBI_EITHER}\d-?{_MBI_LETTER}{{2}}\d{{2}}", re.IGNORECASE
)


def mbi_valid(value: str) -> bool:
    return bool(MBI.fullmatch(value.upper()))


def nhs_valid(value: str) -> bool:
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"\d{10}", digits):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def tc_kimlik_valid(value: str) -> bool:
    if not re.fullmatch(r"[1-9]\d{10}", value):
        return False
    d = [int(char) for char in value]
    tenth = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    return tenth == d[9] and sum(d[:10]) % 10 == d[10]


def my_number_valid(value: str) -> bool:
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"\d{12}", digits):
        return False
    body = [int(char) for char in digits[:11]]
    total = sum(body[10 - n] * (n + 2 if n <= 5 else n - 4) for n in range(11))
    remainder = total % 11
    check = 0 if remainder <= 1 else 11 - remainder
    return check == int(digits[11])


def ssn_plausible(value: str) -> bool:
    """AAA-GG-SSSS as issued: never area 000, 666 or 900-999, group 00 or serial 0000."""
    match = re.fullmatch(r"(\d{3})-?(\d{2})-?(\d{4})", value)
    if not match:
        return False
    area, group, serial = match.groups()
    return area not in {"000", "666"} and not area.startswith("9") and group != "00" and serial != "0000"


_ID_CARD_VALUES = {**{str(n): n for n in range(10)}, **{chr(ord("A") + n): 10 + n for n in range(26)}}


def german_id_card_valid(value: str) -> bool:
    """Nine characters (letters from the card's alphabet and digits) and a check digit, weights 7, 3, 1."""
    value = value.upper()
    if not re.fullmatch(r"[CFGHJKLMNPRTVWXYZ0-9]{9}\d", value):
        return False
    total = sum(_ID_CARD_VALUES[char] * (7, 3, 1)[position % 3] for position, char in enumerate(value[:9]))
    return total % 10 == int(value[9])
