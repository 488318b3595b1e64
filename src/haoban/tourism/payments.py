"""Pluggable payers: how a ticket order is charged and refunded. The default only records (demo).

A real deployment registers its payment gateway with :func:`register_payer`; the order keeps the
payer's reference, and every charge and refund is written to the ``tourism_payments`` ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Payer(Protocol):
    name: str

    def charge(self, *, order_code: str, amount_fen: int) -> str:
        """Take the money; return the gateway's reference. Raise to refuse (nothing is sold then)."""
        ...

    def refund(self, *, order_code: str, reference: str, amount_fen: int) -> str:
        """Give money back; return the refund's reference."""
        ...


class RecordingPayer:
    """Records what would be charged: demo and tests. Never fails."""

    name = "record"

    def charge(self, *, order_code: str, amount_fen: int) -> str:
        return f"record:{order_code}:charge:{amount_fen}"

    def refund(self, *, order_code: str, reference: str, amount_fen: int) -> str:
        return f"record:{order_code}:refund:{amount_fen}"


_PAYERS: dict[str, Callable[[], Payer]] = {"record": RecordingPayer}


def register_payer(name: str, factory: Callable[[], Payer]) -> None:
    _PAYERS[name] = factory


def get_payer(name: str = "record") -> Payer:
    try:
        return _PAYERS[name]()
    except KeyError:
        raise ValueError(f"unknown payer {name!r}; known: {', '.join(_PAYERS)}") from None
