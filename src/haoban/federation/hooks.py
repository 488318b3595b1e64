"""Federation's reactions to the orders domain, registered while wiring: ``transfer_region`` is checked
(a partner and an agreement) before anything is written and queued to the partner once it is in the
case file; an order that came from another city reports its approved reply and its end back; an
application filed at a partner's window (跨省通办) reports every step back to that window."""

from __future__ import annotations

from haoban.federation import crossregion, joint, transfers
from haoban.runtime import Hooks


def register(hooks: Hooks) -> None:
    hooks.before("orders.transfer_region", transfers.check_transfer)
    hooks.after("orders.transfer_region", transfers.send_transfer)
    hooks.after("orders.*", transfers.report_back)
    hooks.after("applications.*", crossregion.report_back)
    hooks.after("applications.*", joint.hand_out)
