"""Identifiers of the subjects: the company 统一社会信用代码 (GB 32100-2015) and account masking. Pure."""

from __future__ import annotations

import re

# GB 32100-2015: 31 characters (no I, O, Z, S, V); position weights 3^i mod 31.
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_RE = re.compile(rf"^[{CREDIT_CHARS}]{{18}}$")


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def normalise_credit_code(raw: str) -> str:
    """Validate a 统一社会信用代码: 18 characters of the GB 32100 set and its check character."""
    value = raw.strip().upper()
    if not _CREDIT_RE.match(value):
        raise ValueError("a 统一社会信用代码 is 18 digits or capital letters (no I, O, Z, S, V)")
    if credit_check_char(value[:17]) != value[17]:
        raise ValueError(
            "the 统一社会信用代码 check character (the last one) does not match: check for a typo"
        )
    return value


def normalise_account(raw: str) -> str:
    value = re.sub(r"[\s-]", "", raw)
    if not re.fullmatch(r"\d{12,19}", value):
        raise ValueError("a bank account is 12 to 19 digits")
    return value


def mask_account(account: str | None) -> str | None:
    """6217 **** **** 1234: enough for a person to recognise their card, not enough to use it."""
    if not account:
        return None
    return f"{account[:4]} **** **** {account[-4:]}"
