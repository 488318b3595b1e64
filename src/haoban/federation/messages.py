"""Signed messages between instances. Pure: no database, no network.

A message is a JSON object; its canonical form (keys sorted, no whitespace, UTF-8, no NaN) is what is
signed with the sender's Ed25519 key. On the wire: ``{"message": {...}, "signature": "<base64>"}``.
Every message carries its id (the same on every retry: the receiver's idempotency key), the sender and
recipient region codes, the case it belongs to with its sequence number there, the item and mode it
falls under, the time it was signed and a fresh nonce (each attempt is signed anew).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = 1
# The fields every message has, with their types.
FIELDS: dict[str, type | tuple[type, ...]] = {
    "v": int,
    "id": str,
    "sender": str,
    "recipient": str,
    "kind": str,
    "case": str,
    "seq": int,
    "item": str,
    "mode": str,
    "sent_at": str,
    "nonce": str,
    "body": dict,
}


def canonical(obj: Any) -> bytes:
    """The bytes that are signed: sorted keys, no whitespace, UTF-8 (not \\u escapes), no NaN."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


# --- keys ------------------------------------------------------------------------------------------


def generate_key(path: Path, *, force: bool = False) -> Ed25519PrivateKey:
    """A new key pair; the private key's 32-byte seed goes to ``path`` (base64, mode 0600)."""
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; keep it, or replace it on purpose (--force)")
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(b64(seed) + "\n")
    os.replace(tmp, path)
    return key


def load_key(path: Path) -> Ed25519PrivateKey:
    try:
        seed = unb64(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no federation key at {path}: run `haoban federation keygen` first"
        ) from None
    except (binascii.Error, ValueError):
        raise ValueError(f"{path} does not hold a base64 Ed25519 key") from None
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64(raw)


def parse_public(text: str) -> Ed25519PublicKey:
    """A partner's public key from its base64 form; ValueError when it is not one."""
    try:
        raw = unb64(text.strip())
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


# --- messages --------------------------------------------------------------------------------------


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError("a time without a zone")
    return at.astimezone(UTC)


def seal(
    key: Ed25519PrivateKey,
    *,
    message_id: str,
    sender: str,
    recipient: str,
    kind: str,
    case: str,
    seq: int,
    item: str,
    mode: str,
    body: dict[str, Any],
    now: datetime,
    nonce: str | None = None,
) -> dict[str, Any]:
    """The wire form of a message signed now, with a fresh nonce."""
    message = {
        "v": VERSION,
        "id": message_id,
        "sender": sender,
        "recipient": recipient,
        "kind": kind,
        "case": case,
        "seq": seq,
        "item": item,
        "mode": mode,
        "sent_at": iso(now),
        "nonce": nonce or secrets.token_hex(16),
        "body": body,
    }
    return {"message": message, "signature": b64(key.sign(canonical(message)))}


def shape_problem(envelope: Any) -> str | None:
    """What is wrong with the shape of a received envelope (None: nothing)."""
    if not isinstance(envelope, dict) or set(envelope) != {"message", "signature"}:
        return "the body must be an object with exactly 'message' and 'signature'"
    if not isinstance(envelope["signature"], str):
        return "'signature' must be a base64 string"
    message = envelope["message"]
    if not isinstance(message, dict):
        return "'message' must be an object"
    for name, kind in FIELDS.items():
        value = message.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"message.{name} is missing or not a {getattr(kind, '__name__', kind)}"
    if set(message) - set(FIELDS):
        return f"unknown message fields: {', '.join(sorted(set(message) - set(FIELDS)))}"
    if message["v"] != VERSION:
        return f"message version {message['v']} is not supported (this instance speaks {VERSION})"
    if not 1 <= len(message["nonce"]) <= 64 or not 1 <= len(message["id"]) <= 36:
        return "message.nonce (1-64 characters) or message.id (1-36) has a wrong length"
    if message["seq"] < 1 or not 1 <= len(message["case"]) <= 80:
        return "message.seq must be at least 1 and message.case 1-80 characters"
    try:
        parse_time(message["sent_at"])
    except ValueError:
        return "message.sent_at is not an ISO 8601 time with a zone"
    return None


def verify(public_key: str, envelope: dict[str, Any]) -> bool:
    """Whether ``envelope``'s signature is the partner's over the canonical message."""
    try:
        key = parse_public(public_key)
        key.verify(unb64(envelope["signature"]), canonical(envelope["message"]))
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True
