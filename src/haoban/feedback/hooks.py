"""How feedback reacts to the orders domain, registered on the ``Runtime`` while wiring.

The orders domain does not know feedback exists: after a department's reply is written, this hook
scores it and stores the score against the reply's case-file event.
"""

from __future__ import annotations

from haoban.feedback.service import record_reply_score
from haoban.orders.gate import Step
from haoban.runtime import Hooks


def score_reply(step: Step) -> None:
    assert step.session is not None and step.event is not None
    record_reply_score(
        step.session,
        order=step.order,
        reply=step.order.reply_text or "",
        at=step.at,
        event_seq=step.event.seq,
    )


def register(hooks: Hooks) -> None:
    hooks.after("orders.reply", score_reply)
