"""Personal identifiers encrypted at rest: ID numbers (身份证号) are stored as AES-256-GCM ciphertext, and
where something must be found by ID number a keyed blind index (HMAC-SHA256) is stored beside it.

The key is ``HAOBAN_DATA_KEY`` (any string of at least 32 characters, e.g. ``python -c "import secrets;
print(secrets.token_urlsafe(32))"``); without it a key is generated once into ``<data dir>/.data_key``
(0600) as the token secret is. Two sub-keys are derived from it with HKDF-SHA256, one to encrypt and one
for the blind index, and a short key id (also derived, it reveals nothing of the key) is written into
every ciphertext: ``enc1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>``. Reading a value written under
another key therefore fails with :class:`DataKeyError` naming both key ids, never with garbage; a value
altered in the database fails the GCM tag the same way. The database remembers the key id it was
encrypted under (``data_key_checks``), and the app refuses to start with a different key.

Columns use :class:`EncryptedString` (``haoban.db``); an engine's cipher is set by ``Database.use_data_key``
(the runtime does it with its settings). Equality on an encrypted column would compare ciphertexts,
which never match, so such comparisons raise at query-building time: compare the blind index instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import LargeBinary, String, Text, inspect, text
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

PREFIX = "enc1"
MIN_KEY_LENGTH = 32
# Room for an 18-character ID number (or any identifier up to ~40 characters) once encrypted.
ENCRYPTED_LENGTH = 120
BLIND_INDEX_LENGTH = 64
_AAD = b"haoban personal identifier"
_NONCE = 12


class DataKeyError(RuntimeError):
    """The configured data key cannot read what is stored (another key, or an altered value)."""


def _derive(key: str, label: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"haoban data key", info=label).derive(
        key.encode("utf-8")
    )


class DataCipher:
    """Encrypts, decrypts and blind-indexes personal identifiers under one data key."""

    def __init__(self, key: str) -> None:
        if len(key) < MIN_KEY_LENGTH:
            raise DataKeyError(
                f"HAOBAN_DATA_KEY must be at least {MIN_KEY_LENGTH} characters "
                '(e.g. python -c "import secrets; print(secrets.token_urlsafe(32))")'
            )
        self._aead = AESGCM(_derive(key, b"haoban id-number encryption v1"))
        self._index_key = _derive(key, b"haoban id-number blind index v1")
        self.key_id = _derive(key, b"haoban data key id v1", 4).hex()

    def __repr__(self) -> str:
        return f"DataCipher(key_id={self.key_id!r})"

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), _AAD)
        return f"{PREFIX}:{self.key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, stored: str) -> str:
        parts = stored.split(":", 2)
        if len(parts) != 3 or parts[0] != PREFIX:
            raise DataKeyError(
                "a personal-identifier column holds a value that is not encrypted; "
                "run `haoban db upgrade` (migration 0025 encrypts existing rows)"
            )
        _, key_id, body = parts
        if key_id != self.key_id:
            raise DataKeyError(
                f"this value was encrypted under data key {key_id}, but the configured HAOBAN_DATA_KEY "
                f"is {self.key_id}: configure the key the data was written with"
            )
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
            return self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], _AAD).decode("utf-8")
        except (InvalidTag, ValueError) as exc:
            raise DataKeyError(
                f"an encrypted value does not verify under data key {self.key_id}: it was altered "
                "or written under another key"
            ) from exc

    def encrypt_bytes(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return f"{PREFIX}:{self.key_id}:".encode("ascii") + nonce + self._aead.encrypt(nonce, plaintext, _AAD)

    def decrypt_bytes(self, stored: bytes) -> bytes:
        head = f"{PREFIX}:{self.key_id}:".encode("ascii")
        if not stored.startswith(head):
            key_id = stored[len(PREFIX) + 1 : len(PREFIX) + 9].decode("ascii", "replace")
            if stored.startswith(f"{PREFIX}:".encode("ascii")):
                raise DataKeyError(
                    f"this value was encrypted under data key {key_id}, but the configured "
                    f"HAOBAN_DATA_KEY is {self.key_id}: configure the key the data was written with"
                )
            raise DataKeyError(
                "an encrypted column holds a value that is not encrypted; run `haoban db upgrade`"
            )
        body = stored[len(head) :]
        try:
            return self._aead.decrypt(body[:_NONCE], body[_NONCE:], _AAD)
        except InvalidTag as exc:
            raise DataKeyError(
                f"an encrypted value does not verify under data key {self.key_id}: it was altered "
                "or written under another key"
            ) from exc

    def blind_index(self, value: str) -> str:
        """A keyed digest of ``value`` (already normalised) for equality look-ups and unique constraints."""
        return hmac.new(self._index_key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def maybe_index(self, value: str | None) -> str | None:
        return None if value is None else self.blind_index(value)


def cipher_of(dialect: Any) -> DataCipher:
    """The cipher an engine was given (``Database.use_data_key``), else one from the process's settings."""
    cipher = getattr(dialect, "haoban_cipher", None)
    if cipher is None:
        from haoban.config import get_settings

        cipher = DataCipher(get_settings().data_key)
        dialect.haoban_cipher = cipher
    return cipher


class EncryptedString(TypeDecorator[str]):
    """A personal identifier stored encrypted under the engine's data key and read back in clear.

    Its ciphertexts differ on every write, so SQL comparisons other than ``IS [NOT] NULL`` would never
    match: they raise at query-building time (compare the column's blind index instead)."""

    impl = String(ENCRYPTED_LENGTH)
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator[str]):
        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if op not in _NULL_TESTS and not (op in (operators.eq, operators.ne) and other[:1] == (None,)):
                raise TypeError(
                    f"{self.expr} is encrypted: SQL cannot compare or sort it; use its blind index"
                )
            return super().operate(op, *other, **kwargs)

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else cipher_of(dialect).encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else cipher_of(dialect).decrypt(value)


class EncryptedText(EncryptedString):
    """Text of any length holding personal data (a licence's payload), encrypted like
    :class:`EncryptedString` and as impossible to compare in SQL."""

    impl = Text
    cache_ok = True


class EncryptedBytes(TypeDecorator[bytes]):
    """Binary data holding personal identifiers (an application's engine state carries its form: the
    parents' ID numbers), stored encrypted like :class:`EncryptedString`."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Any) -> bytes | None:
        return None if value is None else cipher_of(dialect).encrypt_bytes(bytes(value))

    def process_result_value(self, value: bytes | None, dialect: Any) -> bytes | None:
        return None if value is None else cipher_of(dialect).decrypt_bytes(bytes(value))


_NULL_TESTS = frozenset({operators.is_, operators.is_not})


def use_data_key(engines: Iterable[Any], key: str) -> DataCipher:
    """Give ``engines`` (a database's primary and replica) the cipher for ``key``."""
    cipher = DataCipher(key)
    for engine in engines:
        if engine is not None:
            engine.dialect.haoban_cipher = cipher
    return cipher


def check_data_key(engine: Any) -> None:
    """Refuse a key other than the one the database's identifiers were encrypted under."""
    cipher = cipher_of(engine.dialect)
    with engine.connect() as conn:
        if not inspect(conn).has_table("data_key_checks"):
            return  # not migrated yet: the migration records the key
        stored = conn.execute(text("SELECT key_id FROM data_key_checks WHERE id = 1")).scalar()
    if stored is not None and stored != cipher.key_id:
        raise DataKeyError(
            f"the database's personal identifiers are encrypted under data key {stored}, but the "
            f"configured HAOBAN_DATA_KEY is {cipher.key_id}: refusing to start; configure the key the "
            "data was written with"
        )
