"""Passwords (Argon2id), bearer tokens (signed JWT), logging in, and the acting user (``Actor``).

Staff accounts are administered in the directory (``haoban.directory.service``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.models import User
from haoban.errors import Unauthorized

_hasher = PasswordHasher()
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def actor_for(user: User) -> Actor:
    return Actor(
        id=user.id,
        username=user.username,
        name=user.display_name,
        role=user.role,
        department_id=user.department_id,
    )


def authenticate(session: Session, *, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    # Verify against a dummy hash when the user is unknown so timing does not reveal who exists.
    if user is None:
        verify_password(_DUMMY_HASH, password)
        raise Unauthorized("wrong username or password")
    if not verify_password(user.password_hash, password):
        raise Unauthorized("wrong username or password")
    if not user.active:
        raise Unauthorized("this account is disabled; ask an administrator")
    return user


_DUMMY_HASH = _hasher.hash("not a real password")


def issue_token(user: User, *, secret: str, minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user.id),
        "role": user.role,
        "ver": user.token_version or 0,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


_verified: dict[tuple[str, str], tuple[int, int, float]] = {}  # (secret, token) → (user, version, expiry)
_REQUIRED_CLAIMS = ["exp", "iat", "sub"]


def decode_token(token: str, *, secret: str) -> tuple[int, int]:
    """``(user id, token version)`` of a valid token. A token must carry ``exp``: one without is as
    invalid as a forged one (401). Verified tokens are remembered until they expire: checking the
    signature on every request is a measurable share of a request's time."""
    hit = _verified.get((secret, token))
    if hit is not None and hit[2] > time.time():
        return hit[0], hit[1]
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": _REQUIRED_CLAIMS})
        user_id = int(claims["sub"])
        version = int(claims.get("ver", 0))
        expires = float(claims["exp"])
    except (jwt.PyJWTError, KeyError, ValueError, TypeError, OverflowError):
        raise Unauthorized("invalid or expired token; log in again") from None
    if len(_verified) > 50_000:
        _verified.clear()
    _verified[(secret, token)] = (user_id, version, expires)
    return user_id, version


def revoke_tokens(user: User) -> None:
    """Every token issued to ``user`` so far stops working (logout, new password, new role, disabled)."""
    user.token_version = (user.token_version or 0) + 1


class ActorCache:
    """Resolves user ids to actors; a short TTL bounds how long a disabled account or a revoked token
    keeps working in another process (this process forgets at once: ``forget``)."""

    def __init__(self, ttl: float = 5.0) -> None:
        self._ttl = ttl
        self._items: dict[int, tuple[float, Actor | None, int]] = {}
        self._lock = threading.Lock()

    def get(self, session_factory: Callable[[], Session], user_id: int, version: int = 0) -> Actor:
        hit = self._items.get(user_id)
        now = time.monotonic()
        if hit is None or now - hit[0] > self._ttl:
            with session_factory() as session:
                user = session.get(User, user_id)
                actor = actor_for(user) if user is not None and user.active else None
                current = (user.token_version or 0) if user is not None else -1
            with self._lock:
                self._items[user_id] = (now, actor, current)
            hit = (now, actor, current)
        if hit[1] is None:
            raise Unauthorized("this account no longer exists or is disabled")
        if hit[2] != version:
            raise Unauthorized("this token was revoked (logout, new password or role); log in again")
        return hit[1]

    def forget(self, user_id: int) -> None:
        with self._lock:
            self._items.pop(user_id, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
