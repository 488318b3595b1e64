"""The password policy, applied wherever a password is set (API, admin page, command line). Pure.

Every account: at least 10 characters, not the username (nor containing it), not in the shipped list
of common passwords (``wordlists/common_passwords.txt``), not one character repeated or a plain
sequence. Administrators' and supervisors' accounts reach further: at least 14 characters mixing at
least three of lower case, upper case, digits and other characters (Chinese characters count as other).
Demo seeding sets the password ``demo`` directly and is the only exception (demo mode only).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from haoban.auth.roles import Role

MIN_LENGTH = 10
MIN_LENGTH_PRIVILEGED = 14
MAX_LENGTH = 200
PRIVILEGED: frozenset[str] = frozenset({Role.ADMIN, Role.SUPERVISOR})
_SEQUENCES = ("0123456789" * 3, "abcdefghijklmnopqrstuvwxyz" * 2, "qwertyuiopasdfghjklzxcvbnm" * 2)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("haoban.wordlists").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        w.strip().lower() for w in text.splitlines() if w.strip() and not w.lstrip().startswith("#")
    )


def _classes(password: str) -> int:
    return sum(
        (
            any(c.islower() and c.isascii() for c in password),
            any(c.isupper() and c.isascii() for c in password),
            any(c.isdigit() for c in password),
            any(not (c.isascii() and c.isalnum()) for c in password),
        )
    )


def password_problem(password: str, *, username: str, role: str) -> str | None:
    """What is wrong with ``password`` for this account, in words a person can act on; None if fine."""
    privileged = role in PRIVILEGED
    minimum = MIN_LENGTH_PRIVILEGED if privileged else MIN_LENGTH
    if len(password) < minimum:
        who = "an administrator's or supervisor's" if privileged else "a"
        return f"{who} password needs at least {minimum} characters"
    if len(password) > MAX_LENGTH:
        return f"at most {MAX_LENGTH} characters"
    lowered = password.lower()
    name = username.lower()
    if len(name) >= 3 and (name in lowered or lowered in name):
        return "the password must not contain the username"
    if lowered in common_passwords() or lowered.rstrip("0123456789!.@#") in common_passwords():
        return "this password is among the most common ones; choose another"
    if len(set(lowered)) <= 2:
        return "the password repeats one or two characters; choose another"
    if any(lowered in seq or lowered[::-1] in seq for seq in _SEQUENCES):
        return "the password is a plain sequence; choose another"
    if privileged and _classes(password) < 3:
        return "mix at least three of: lower case, upper case, digits, other characters"
    return None
