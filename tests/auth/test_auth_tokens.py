"""Bearer tokens: valid ones work, expired or tampered ones are refused even after being cached."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from haoban.auth.service import ALGORITHM, decode_token, hash_password, verify_password
from haoban.errors import Unauthorized

SECRET = "unit-test-secret-0123456789abcdefghijklmnop"


def _token(seconds: float, sub: str = "7") -> str:
    now = datetime.now(UTC)
    claims = {"sub": sub, "iat": now, "exp": now + timedelta(seconds=seconds)}
    return jwt.encode(claims, SECRET, algorithm=ALGORITHM)


def test_valid_token_twice() -> None:
    token = _token(60)
    assert decode_token(token, secret=SECRET) == (7, 0)
    assert decode_token(token, secret=SECRET) == (7, 0)  # from the cache


def test_expired_and_tampered_tokens_are_refused() -> None:
    with pytest.raises(Unauthorized):
        decode_token(_token(-1), secret=SECRET)
    token = _token(2)
    assert decode_token(token, secret=SECRET) == (7, 0)
    signature = token.split(".")[2]
    forged = jwt.encode(
        {"sub": "1", "exp": datetime.now(UTC) + timedelta(hours=1)}, "x" * 40, algorithm=ALGORITHM
    )
    with pytest.raises(Unauthorized):
        decode_token(f"{forged.split('.')[0]}.{forged.split('.')[1]}.{signature}", secret=SECRET)
    with pytest.raises(Unauthorized):
        decode_token(token, secret="another-secret-0123456789abcdefghijklmnop")
    # A cached token stops working when it expires.
    time.sleep(2.1)
    with pytest.raises(Unauthorized):
        decode_token(token, secret=SECRET)


def test_passwords_use_argon2() -> None:
    h = hash_password("s3cret")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "s3cret") and not verify_password(h, "S3cret")
