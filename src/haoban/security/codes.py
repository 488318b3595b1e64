"""Public codes (tracking numbers) that cannot be walked: ``prefix + day + running number + random``.

Day and running number keep a code readable, sortable and unique (the number comes from a counter the
database increments atomically); the random digits at the end mean one code says nothing about the
next, so a guess built from a known code (the next number, the same suffix) is as good as any other
guess. Used by orders (``HB``), cases (``BC``) and applications (``BJ``); codes issued before stay valid.
"""

from __future__ import annotations

import secrets

RANDOM_DIGITS = 3


def public_code(prefix: str, day: str, number: int, *, width: int) -> str:
    """``prefix`` + ``day`` (yyyymmdd) + ``number`` zero-padded to ``width`` + three random digits."""
    return f"{prefix}{day}{number:0{width}d}{secrets.randbelow(10**RANDOM_DIGITS):0{RANDOM_DIGITS}d}"
