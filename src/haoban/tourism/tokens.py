"""Signed e-ticket tokens: Ed25519, verifiable offline by anyone holding the public key.

A token is ``HBT1.<payload>.<signature>`` (base64url, no padding). The payload is compact JSON:
``{"t": serial, "p": place code, "d": day, "s": slot "HH:MM-HH:MM", "nb": not-before, "na": not-after
(Unix seconds), "n": the visitor's masked name}``. A gate without network checks the signature and the
validity window with :func:`verify`; only the "used once" rule needs the database.

The signing key is ``Settings.tourism_ticket_key`` (base64 of a 32-byte Ed25519 seed) when set, else
derived from ``Settings.secret_key`` — so, like login tokens, tickets outlive a restart only when the
deployment sets a key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from haoban.config import Settings

PREFIX = "HBT1"


class TokenRefused(Exception):
    """The token cannot be accepted; ``reason`` is one of malformed / signature / early / expired."""

    def __init__(self, reason: str, message: str, claims: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.claims = claims or {}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    seed_b64 = getattr(settings, "tourism_ticket_key", None)
    if seed_b64:
        seed = base64.b64decode(seed_b64)
        if len(seed) != 32:
            raise ValueError("HAOBAN_TOURISM_TICKET_KEY must be base64 of 32 bytes (an Ed25519 seed)")
    else:
        seed = hashlib.sha256(b"haoban e-ticket key\x00" + settings.secret_key.encode("utf-8")).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def sign(key: Ed25519PrivateKey, claims: dict[str, Any]) -> str:
    payload = _b64(json.dumps(claims, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())
    signature = key.sign(f"{PREFIX}.{payload}".encode("ascii"))
    return f"{PREFIX}.{payload}.{_b64(signature)}"


@dataclass(frozen=True)
class Verified:
    serial: str
    claims: dict[str, Any]


def verify(public_key: bytes, token: str, *, now: datetime | None = None) -> Verified:
    """Check a token offline: format, signature, validity window. Raises TokenRefused saying why."""
    token = token.strip()
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise TokenRefused("malformed", "not an e-ticket code")
    try:
        signature = _unb64(parts[2])
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, f"{parts[0]}.{parts[1]}".encode())
    except (InvalidSignature, ValueError):
        raise TokenRefused("signature", "the ticket's signature is not valid: forged or altered") from None
    try:
        claims = json.loads(_unb64(parts[1]))
        serial = str(claims["t"])
        not_before, not_after = int(claims["nb"]), int(claims["na"])
    except (ValueError, KeyError, TypeError):
        raise TokenRefused("malformed", "the ticket's contents cannot be read") from None
    at = (now or datetime.now(UTC)).timestamp()
    if at < not_before:
        raise TokenRefused("early", "the ticket is for a later time", claims)
    if at > not_after:
        raise TokenRefused("expired", "the ticket has expired", claims)
    return Verified(serial=serial, claims=claims)
