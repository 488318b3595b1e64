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
    claims = {"sub": str(user.id), "role": user.role, "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


_verified: dict[tuple[str, str], tuple[int, float]] = {}  # (secret, token) → (user id, expiry)


def decode_token(token: str, *, secret: str) -> int:
    """The user id in a valid token. Verified tokens are remembered until they expire: checking the
    signature on every request is a measurable share of a request's time."""
    hit = _verified.get((secret, token))
    if hit is not None and hit[1] > time.time():
        return hit[0]
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM])
        user_id = int(claims["sub"])
    except (jwt.PyJWTError, KeyError, ValueError):
        raise Unauthorized("invalid or expired token; log in again") from None
    if len(_verified) > 50_000:
        _verified.clear()
    _verified[(secret, token)] = (user_id, float(claims["exp"]))
    return user_id


class ActorCache:
    """Resolves user ids to actors; a short TTL bounds how long a disabled account keeps working."""

    def __init__(self, ttl: float = 5.0) -> None:
        self._ttl = ttl
        self._items: dict[int, tuple[float, Actor | None]] = {}
        self._lock = threading.Lock()

    def get(self, session_factory: Callable[[], Session], user_id: int) -> Actor:
        hit = self._items.get(user_id)
        now = time.monotonic()
        if hit is None or now - hit[0] > self._ttl:
            with session_factory() as session:
                user = session.get(User, user_id)
                actor = actor_for(user) if user is not None and user.active else None
            with self._lock:
                self._items[user_id] = (now, actor)
            hit = (now, actor)
        if hit[1] is None:
            raise Unauthorized("this account no longer exists or is disabled")
        return hit[1]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
