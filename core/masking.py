"""Masking of personal data (PIPL): phones as 138****1234, ID numbers as 1101**********1234."""

from __future__ import annotations

import re


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"


def mask_id_number(id_number: str | None) -> str:
    if not id_number:
        return ""
    if len(id_number) <= 8:
        return "*" * len(id_number)
    return f"{id_number[:4]}{'*' * (len(id_number) - 8)}{id_number[-4:]}"


def mask_name(name: str | None) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: for public pages."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


# A mainland mobile number or an 18-character resident ID standing alone: not inside a longer run
# of digits or hex (file names are uuid4 hex, where 11 decimal digits in a row are not rare), so
# "m13900000001" (a resident's username) matches. Masked forms (139****0001) never match.
PHONE_PATTERN = re.compile(r"(?<![0-9A-Fa-f])1[3-9][0-9]{9}(?![0-9A-Fa-f])")
ID_NUMBER_PATTERN = re.compile(r"(?<![0-9A-Fa-f])[1-9][0-9]{16}[0-9Xx](?![0-9A-Fa-f])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_check_character(first17: str) -> str:
    """GB 11643: the 18th character is the weighted sum of the first 17 digits mod 11."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_number_checksum_ok(id_number: str) -> bool:
    if len(id_number) != 18 or not id_number[:17].isdigit():
        return False
    return id_number_check_character(id_number[:17]) == id_number[17].upper()


def unmasked_numbers(text: str) -> list[str]:
    """Every whole mobile number and every checksum-valid ID number in `text`."""
    found = PHONE_PATTERN.findall(text)
    found += [match for match in ID_NUMBER_PATTERN.findall(text) if id_number_checksum_ok(match)]
    return found


def mask_numbers_in(text: str) -> str:
    """`text` with every whole phone and ID number masked (free text such as an object label)."""
    text = PHONE_PATTERN.sub(lambda match: mask_phone(match.group()), text)
    return ID_NUMBER_PATTERN.sub(lambda match: mask_id_number(match.group())
                                 if id_number_checksum_ok(match.group()) else match.group(), text)
