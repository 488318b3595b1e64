"""The case file's hash chain (一事一档). Pure: it hashes the events it is given and imports no model.

Each event's hash is sha256 over the previous hash and a canonical JSON encoding of the event (sorted
keys, no whitespace, UTF-8, UTC times with microseconds). Changing any stored field of any event, or
removing or reordering events, breaks the chain at that event and at every later one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def format_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class EventRecord:
    """The hashed fields of one case-file event."""

    order_code: str
    seq: int
    action: str
    actor_name: str
    actor_role: str
    at: datetime
    from_status: str | None
    to_status: str
    payload: str  # canonical JSON text, stored as is

    def canonical(self) -> str:
        return canonical_json(
            {
                "order": self.order_code,
                "seq": self.seq,
                "action": self.action,
                "actor": self.actor_name,
                "role": self.actor_role,
                "at": format_time(self.at),
                "from": self.from_status,
                "to": self.to_status,
                "payload": self.payload,
            }
        )


def chain_hash(prev_hash: str, record: EventRecord) -> str:
    return hashlib.sha256((prev_hash + record.canonical()).encode("utf-8")).hexdigest()


def encode_payload(payload: Mapping[str, Any]) -> str:
    return canonical_json({k: v for k, v in payload.items() if v is not None})


@dataclass(frozen=True)
class Break:
    """Where a chain first fails to verify."""

    order_code: str
    seq: int
    reason: str


def verify_chain(
    order_code: str, events: Iterable[tuple[EventRecord, str, str]], *, head_hash: str | None = None
) -> Break | None:
    """Check ``(record, stored_prev_hash, stored_hash)`` triples in sequence order.

    ``head_hash`` is the hash the order itself remembers as its latest; a truncated chain fails there.
    """
    prev = GENESIS
    expected_seq = 1
    for record, stored_prev, stored_hash in events:
        if record.seq != expected_seq:
            return Break(order_code, record.seq, f"expected event #{expected_seq}, found #{record.seq}")
        if stored_prev != prev:
            return Break(order_code, record.seq, "previous-hash link does not match the event before")
        if chain_hash(prev, record) != stored_hash:
            return Break(order_code, record.seq, "content does not match its hash (altered)")
        prev = stored_hash
        expected_seq += 1
    if head_hash is not None and head_hash != prev:
        return Break(order_code, expected_seq, "chain ends before the order's recorded head (events missing)")
    return None
