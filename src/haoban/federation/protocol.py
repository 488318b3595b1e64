"""The wire protocol between instances: sending through the outbox, receiving at the endpoint.

Sending: ``send`` writes a message to ``federation_outbox`` in the caller's transaction (its number in
its case is the next one) and defers the delivery job. ``deliver`` (the job ``federation.deliver``)
signs each due message afresh (new timestamp and nonce, same id) and posts it to the partner: a 2xx is
an acknowledgement; 425 (an earlier message of the case is missing), 429, 5xx and network errors are
retried with exponential back-off (at-least-once, however long the partner is down); any other 4xx is
a refusal, kept with its reason, and holds back the rest of that case until an admin retries it. A
case's message n+1 is never sent before message n is acknowledged.

Receiving: ``receive`` refuses — and logs — a malformed envelope (400), a message for another region
(400), an unknown partner (403), a bad signature (401), a timestamp outside the skew window (401), a
replayed nonce (409), an item or mode no agreement in force covers (403), and a message that jumps
ahead in its case (425). A message id seen before answers the first answer again (exactly-once in
effect). The message's handler runs in the same transaction as the inbox row.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haoban.db import utcnow
from haoban.errors import DomainError, Invalid
from haoban.federation import messages, service
from haoban.federation.models import InboxEntry, Nonce, OutboxEntry, Partner, Refusal
from haoban.jobs import defer
from haoban.runtime import Runtime

log = logging.getLogger(__name__)
PATH = "/api/v1/federation/messages"
DELIVER_JOB = "federation.deliver"
RETRY_STATUSES = frozenset({408, 425, 429})


class Refused(DomainError):
    """A message turned away at the endpoint: the status and a reason code the sender can act on."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status
        self.code = reason


@dataclass(frozen=True)
class Incoming:
    """An accepted message, as a handler sees it."""

    partner: Partner
    id: str
    kind: str
    case: str
    seq: int
    item: str
    mode: str
    body: dict[str, Any]
    sent_at: datetime


# A handler applies a message in the receiving transaction and returns what the sender gets back.
Handler = Callable[[Session, Runtime, Incoming], dict[str, Any]]
# An acknowledgement handler runs on the sender's side when the partner accepted a message.
AckHandler = Callable[[Session, Runtime, OutboxEntry, dict[str, Any]], None]


@dataclass(frozen=True)
class Kind:
    handler: Handler
    on_ack: AckHandler | None = None
    needs_agreement: bool = True


KINDS: dict[str, Kind] = {}


def register(
    name: str, handler: Handler, *, on_ack: AckHandler | None = None, needs_agreement: bool = True
) -> None:
    KINDS[name] = Kind(handler, on_ack, needs_agreement)


def _ping(session: Session, rt: Runtime, msg: Incoming) -> dict[str, Any]:
    return {"pong": msg.body.get("text", ""), "region": rt.settings.federation_region}


register("ping", _ping, needs_agreement=False)


# --- sending -------------------------------------------------------------------------------------------


def send(
    session: Session,
    rt: Runtime,
    *,
    partner: Partner,
    kind: str,
    case: str,
    item: str,
    mode: str,
    body: dict[str, Any],
    at: datetime | None = None,
) -> OutboxEntry:
    """Queue a message to ``partner`` in this transaction; delivered after the commit, in order."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    if KINDS[kind].needs_agreement:
        service.require_agreement(session, partner, item=item, mode=mode, today=(at or utcnow()).date())
    last = session.scalar(
        select(func.max(OutboxEntry.seq)).where(
            OutboxEntry.partner_id == partner.id, OutboxEntry.case_key == case
        )
    )
    msg = OutboxEntry(
        message_id=str(uuid.uuid4()),
        partner_id=partner.id,
        case_key=case,
        seq=(last or 0) + 1,
        kind=kind,
        item=item,
        mode=mode,
        body=json.dumps(body, ensure_ascii=False),
        status="pending",
        attempts=0,
        next_attempt_at=at or utcnow(),
        created_at=at or utcnow(),
    )
    session.add(msg)
    session.flush()
    defer(session, rt, DELIVER_JOB)
    return msg


def backoff(settings: Any, attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: base × 2^(attempts-1), at most the cap."""
    base = settings.federation_backoff_seconds
    return float(min(settings.federation_backoff_max_seconds, base * 2 ** max(0, attempts - 1)))


def _heads(rt: Runtime, now: datetime) -> list[int]:
    """The first undelivered message of every case, where it is due and pending."""
    with rt.db.read() as session:
        rows = session.execute(
            select(
                OutboxEntry.id,
                OutboxEntry.partner_id,
                OutboxEntry.case_key,
                OutboxEntry.status,
                OutboxEntry.next_attempt_at,
            )
            .where(OutboxEntry.status != "delivered")
            .order_by(OutboxEntry.partner_id, OutboxEntry.case_key, OutboxEntry.seq)
        ).all()
    seen: set[tuple[int, str]] = set()
    due = []
    for mid, partner_id, case, status, next_at in rows:
        if (partner_id, case) in seen:
            continue
        seen.add((partner_id, case))
        if status == "pending" and next_at <= now:
            due.append(mid)
    return sorted(due)


def deliver(rt: Runtime, *, client: httpx.Client | None = None, rounds: int = 50) -> dict[str, int]:
    """Send every due message (heads of their cases, again as each is acknowledged)."""
    counts = {"delivered": 0, "retrying": 0, "refused": 0}
    if not _heads(rt, utcnow()):
        return counts
    key = messages.load_key(service.key_path(rt.settings))
    own = rt.settings.federation_region
    own_client = client is None
    client = client or httpx.Client(timeout=rt.settings.federation_timeout_seconds)
    try:
        for _ in range(rounds):
            down: set[int] = set()
            progressed = False
            for mid in _heads(rt, utcnow()):
                outcome = _attempt(rt, client, key, own, mid, down)
                if outcome:
                    counts[outcome] += 1
                    progressed = progressed or outcome == "delivered"
            if not progressed:
                break
    finally:
        if own_client:
            client.close()
    return counts


def _attempt(rt: Runtime, client: httpx.Client, key: Any, own: str, mid: int, down: set[int]) -> str | None:
    with rt.db.read() as session:
        msg = session.get(OutboxEntry, mid)
        if msg is None or msg.status != "pending" or msg.partner_id in down:
            return None
        partner = msg.partner
        envelope = messages.seal(
            key,
            message_id=msg.message_id,
            sender=own,
            recipient=partner.region,
            kind=msg.kind,
            case=msg.case_key,
            seq=msg.seq,
            item=msg.item,
            mode=msg.mode,
            body=json.loads(msg.body),
            now=utcnow(),
        )
        url = partner.endpoint + PATH
    status: int | None = None
    answer: dict[str, Any] = {}
    try:
        r = client.post(
            url, content=messages.canonical(envelope), headers={"Content-Type": "application/json"}
        )
        status = r.status_code
        try:
            answer = r.json() if r.content else {}
        except ValueError:
            answer = {"message": r.text[:300]}
        error = (
            None
            if 200 <= status < 300
            else f"{status} {answer.get('error', '')}: {answer.get('message', '')}"
        )
    except httpx.HTTPError as exc:
        error = f"{exc.__class__.__name__}: {exc}"
    with rt.db.write() as session:
        msg = session.scalar(select(OutboxEntry).where(OutboxEntry.id == mid).with_for_update(of=OutboxEntry))
        if msg is None or msg.status != "pending":
            return None
        msg.attempts += 1
        now = utcnow()
        if status is not None and 200 <= status < 300:
            msg.status = "delivered"
            msg.delivered_at = now
            msg.last_error = None
            result = answer.get("result") or {}
            msg.response = json.dumps(result, ensure_ascii=False)
            kind = KINDS.get(msg.kind)
            if kind is not None and kind.on_ack is not None:
                kind.on_ack(session, rt, msg, result)
            return "delivered"
        msg.last_error = (error or "")[:1000]
        if status is None or status >= 500 or status in RETRY_STATUSES:
            msg.next_attempt_at = now + timedelta(seconds=backoff(rt.settings, msg.attempts))
            down.add(msg.partner_id)
            log.info("federation message %s to %s: %s; retrying", msg.message_id, msg.partner.region, error)
            return "retrying"
        msg.status = "refused"
        log.warning("federation message %s refused by %s: %s", msg.message_id, msg.partner.region, error)
        return "refused"


# --- receiving -----------------------------------------------------------------------------------------


def _refuse(
    rt: Runtime, exc: Refused, *, sender: str | None, message_id: str | None, address: str | None
) -> None:
    log.warning("federation: refused a message from %s (%s): %s", sender or "?", exc.code, exc.message)
    with rt.db.write() as session:
        session.add(
            Refusal(
                at=utcnow(),
                sender=(sender or "")[:12] or None,
                reason=exc.code[:32],
                message_id=(message_id or "")[:36] or None,
                detail=exc.message[:1000],
                address=(address or "")[:64] or None,
            )
        )


def receive(rt: Runtime, raw: bytes, *, address: str | None = None) -> dict[str, Any]:
    """Check and apply one message (see the module's docstring); raises ``Refused`` (logged)."""
    sender = message_id = None
    try:
        try:
            envelope = json.loads(raw)
        except ValueError:
            raise Refused(400, "malformed", "the body is not JSON") from None
        problem = messages.shape_problem(envelope)
        if isinstance(envelope, dict) and isinstance(envelope.get("message"), dict):
            m = envelope["message"]
            sender = m.get("sender") if isinstance(m.get("sender"), str) else None
            message_id = m.get("id") if isinstance(m.get("id"), str) else None
        if problem:
            raise Refused(400, "malformed", problem)
        return _accept(rt, envelope)
    except Refused as exc:
        _refuse(rt, exc, sender=sender, message_id=message_id, address=address)
        raise
    except DomainError as exc:  # the handler would not apply it (an unknown record, a bad field)
        refused = Refused(exc.status_code, "rejected", exc.message)
        _refuse(rt, refused, sender=sender, message_id=message_id, address=address)
        raise refused from None


def _accept(rt: Runtime, envelope: dict[str, Any]) -> dict[str, Any]:
    m = envelope["message"]
    own = rt.settings.federation_region
    if m["recipient"] != own:
        raise Refused(400, "wrong_recipient", f"this instance is region {own}, not {m['recipient']}")
    now = utcnow()
    with rt.db.write() as session:
        partner = session.scalar(select(Partner).where(Partner.region == m["sender"]))
        if partner is None or not partner.active:
            raise Refused(403, "unknown_partner", f"region {m['sender']} is not a registered partner here")
        if not messages.verify(partner.public_key, envelope):
            raise Refused(401, "bad_signature", f"the signature is not {partner.name}'s key over the message")
        sent_at = messages.parse_time(m["sent_at"])
        skew = rt.settings.federation_skew_seconds
        if abs((now - sent_at).total_seconds()) > skew:
            raise Refused(
                401, "expired", f"sent_at {m['sent_at']} is more than {skew} s from this instance's clock"
            )
        kind = KINDS.get(m["kind"])
        if kind is None:
            raise Refused(
                400, "unknown_kind", f"unknown message kind {m['kind']!r}; known: {', '.join(KINDS)}"
            )
        if session.get(Nonce, m["nonce"]) is not None:
            raise Refused(409, "replay", "this nonce was seen before: a replayed message")
        session.add(Nonce(nonce=m["nonce"], sender=partner.region, seen_at=now))
        session.execute(delete(Nonce).where(Nonce.seen_at < now - timedelta(seconds=2 * skew + 60)))
        seen = session.scalar(select(InboxEntry).where(InboxEntry.message_id == m["id"]))
        if seen is not None:
            return {"accepted": m["id"], "duplicate": True, "result": json.loads(seen.result)}
        if (
            kind.needs_agreement
            and service.covering(session, partner, item=m["item"], mode=m["mode"], today=now.date()) is None
        ):
            raise Refused(
                403,
                "out_of_agreement",
                f"no agreement in force with {partner.region} covers item {m['item']!r} "
                f"in mode {m['mode']!r}",
            )
        last = (
            session.scalar(
                select(func.max(InboxEntry.seq)).where(
                    InboxEntry.sender == partner.region, InboxEntry.case_key == m["case"]
                )
            )
            or 0
        )
        if m["seq"] != last + 1:
            raise Refused(
                425, "out_of_order", f"message {m['seq']} of case {m['case']} came before {last + 1}"
            )
        incoming = Incoming(
            partner=partner,
            id=m["id"],
            kind=m["kind"],
            case=m["case"],
            seq=m["seq"],
            item=m["item"],
            mode=m["mode"],
            body=m["body"],
            sent_at=sent_at,
        )
        result = kind.handler(session, rt, incoming)
        session.add(
            InboxEntry(
                message_id=m["id"],
                sender=partner.region,
                case_key=m["case"],
                seq=m["seq"],
                kind=m["kind"],
                body=json.dumps(m["body"], ensure_ascii=False),
                result=json.dumps(result, ensure_ascii=False, default=str),
                received_at=now,
            )
        )
        try:
            session.flush()
        except IntegrityError:  # the same message delivered twice at the same moment: one wins
            raise Refused(503, "busy", "this message is being received right now; retry") from None
    return {"accepted": m["id"], "duplicate": False, "result": result}


def check_sendable(session: Session, partner: Partner, *, item: str, mode: str, at: datetime) -> None:
    """Refuse (422) before anything is written when no agreement covers the item."""
    if service.covering(session, partner, item=item, mode=mode, today=at.date()) is None:
        raise Invalid(
            f"no agreement in force with {partner.name} ({partner.region}) covers {item} in mode {mode}",
            fields={"region": "no agreement covers this"},
        )
