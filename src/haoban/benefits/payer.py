"""Payouts through a pluggable payer: the treasury's or a bank's interface in production; by default a
table (``benefit_payments``) that records each payout once — its unique ``grant_id`` refuses a second."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy.orm import Session

from haoban.benefits.models import Grant, Payment
from haoban.db import utcnow


class Payer(Protocol):
    """Pays one confirmed grant (or enrols, for a grant of 0 fen) and returns its reference, or raises."""

    name: str

    def pay(self, session: Session, grant: Grant) -> str: ...


class TablePayer:
    """The default payer: records the payout in ``benefit_payments`` within the caller's transaction."""

    name = "table"

    def pay(self, session: Session, grant: Grant) -> str:
        reference = f"PAY-{grant.code}"
        session.add(
            Payment(
                grant_id=grant.id,
                amount_fen=grant.amount_fen,
                account=grant.account,
                reference=reference,
                payer=self.name,
                paid_at=utcnow(),
            )
        )
        session.flush()  # the unique grant_id speaks now, before the grant is marked paid
        return reference


_PAYERS: dict[str, Callable[[], Payer]] = {"table": TablePayer}


def register_payer(name: str, factory: Callable[[], Payer]) -> None:
    _PAYERS[name] = factory


def get_payer(name: str = "table") -> Payer:
    try:
        return _PAYERS[name]()
    except KeyError:
        raise ValueError(f"unknown payer {name!r}; known: {', '.join(_PAYERS)}") from None
