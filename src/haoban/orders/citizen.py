"""Citizen contact data: validation (mobile / landline, GB 11643 ID numbers) and masking for display."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Landline with area code: 0734-8123456, 07348123456, 010-12345678 (optional extension -123).
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,5})?$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def normalise_phone(raw: str) -> str:
    """Return the phone in canonical form or raise ValueError saying what is wrong."""
    phone = re.sub(r"[\s()]", "", raw.strip())
    phone = phone.removeprefix("+86").removeprefix("0086")
    if _MOBILE.match(phone) or _LANDLINE.match(phone):
        return phone
    raise ValueError(
        "not a valid phone number: use an 11-digit mobile (e.g. 13812345678) "
        "or a landline with area code (e.g. 0734-8123456)"
    )


def id_number_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalise_id_number(raw: str) -> str:
    """Validate an 18-digit resident ID number (GB 11643-1999): format, birth date and checksum."""
    value = raw.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise ValueError("ID number must be 17 digits followed by a digit or X")
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValueError("ID number contains an impossible birth date") from None
    if birth.year < 1900 or birth > date.today():
        raise ValueError("ID number contains an impossible birth date")
    if id_number_check_char(value[:17]) != value[17]:
        raise ValueError("ID number checksum does not match (last character): check for a typo")
    return value


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone.replace("-", "")
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7 if len(digits) > 7 else len(digits) - 4) + digits[-4:]


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)


def mask_id_number(value: str | None) -> str | None:
    if not value:
        return value
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def phone_last4(phone: str | None) -> str | None:
    if not phone:
        return None
    return phone.replace("-", "")[-4:]


def track_token(secret: str, *, code: str, last4: str) -> str:
    """The key of a bookmarkable tracking link: proves the code and phone digits without showing them.

    Derived, never stored: it changes only if the order's phone changes (or the site's secret)."""
    mac = hmac.new(secret.encode(), f"track|{code.upper()}|{last4}".encode(), hashlib.sha256)
    return mac.hexdigest()[:24]
