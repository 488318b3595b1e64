"""The message kinds instances exchange, registered with the protocol on import: notes on a
cross-region case (window staff to window staff), 12345 transfers, and 跨省通办 files."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from haoban.db import utcnow
from haoban.federation import crossregion, protocol, service, transfers
from haoban.federation.protocol import Incoming
from haoban.runtime import Runtime

NOTE = "case.note"


def send_note(
    session: Session,
    rt: Runtime,
    *,
    partner_region: str,
    case: str,
    item: str,
    mode: str,
    text: str,
    author: str,
) -> Any:
    """A note on a cross-region case to the partner (recorded on both timelines)."""
    partner = service.get_partner(session, partner_region, active_only=True)
    now = utcnow()
    cc = service.open_case(
        session, case_key=case, partner=partner, direction="out", kind="note", mode=mode, item=item, at=now
    )
    service.record(
        session,
        cc,
        side=rt.settings.federation_region,
        what="note",
        detail={"text": text, "by": author},
        at=now,
    )
    return protocol.send(
        session,
        rt,
        partner=partner,
        kind=NOTE,
        case=case,
        item=item,
        mode=mode,
        body={"text": text, "by": author},
        at=now,
    )


def _on_note(session: Session, rt: Runtime, msg: Incoming) -> dict[str, Any]:
    cc = service.open_case(
        session,
        case_key=msg.case,
        partner=msg.partner,
        direction="in",
        kind="note",
        mode=msg.mode,
        item=msg.item,
    )
    service.record(
        session,
        cc,
        side=msg.partner.region,
        what="note",
        detail={"text": str(msg.body.get("text", ""))[:2000], "by": str(msg.body.get("by", ""))[:100]},
        at=msg.sent_at,
    )
    return {"recorded": True}


protocol.register(NOTE, _on_note)
assert transfers and crossregion  # 12345 transfers and 跨省通办 files register their kinds
