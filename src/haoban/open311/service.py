"""Open311 GeoReport v2 over the hotline: services from the category tree and the dispatch catalogue,
service requests from orders. Plain functions; what they return is shaped like ``schemas``.

What a request shows is public by the spec's design (anyone may ``GET requests``), so it carries no
personal data: no name, phone, ID number, street address or the citizen's own words; only the service,
the collapsed status, the department, the dates, the district and the reply the hotline approved.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.db import utcnow
from haoban.directory.service import CategoryRef, DirectorySnapshot
from haoban.directory.vocabulary import OrderType
from haoban.dispatch.catalogue import list_rules
from haoban.federation.transfers import TransferLink, links
from haoban.open311.attributes import Attribute, for_service
from haoban.open311.errors import Open311Error
from haoban.orders.models import Order
from haoban.orders.workflow import OPEN_STATUSES, Status
from haoban.sla.service import SlaTable

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
MAX_RANGE = timedelta(days=90)  # the spec: start_date and end_date at most 90 days apart
MAX_RESULTS = 1000  # the spec's default cap on a GET requests answer
CHANGESET = "2026-11-30T00:00:00+00:00"  # when this endpoint's behaviour last changed
# Never published: 举报 (whistle-blowing reports are confidential) and orders handed to 110/119/120/122.
_HIDDEN_TYPES = (str(OrderType.REPORT),)
_HIDDEN_STATUSES = (str(Status.TRANSFERRED),)
# Orders whose reply the hotline has approved (审核通过): before that the department's draft is internal.
_REPLY_PUBLIC = frozenset({Status.CALLBACK, Status.CLOSED, Status.ARCHIVED})
# Open to a client: our open states, and an order another city is handling for us (跨区域转办) until
# that city closes it (its call-back result closes ours through ``remote_close``).
OPEN311_OPEN: frozenset[Status] = OPEN_STATUSES | {Status.REGION_TRANSFERRED}
_UNIT_WORDS = {
    "working_days": ("个工作日", "working days"),
    "working_hours": ("个工作小时", "working hours"),
    "calendar_hours": ("小时", "hours"),
    "calendar_days": ("天", "days"),
}
AttributeTable = dict[str, tuple[Attribute, ...]]


def discovery(*, base_url: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": "12345 政务服务便民热线 (Hengyang 12345 hotline)",
        "key_service": "API keys for POST requests are issued by the hotline's administrators.",
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": base_url.rstrip("/"),
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def _keywords_by_category(session: Session) -> dict[str, list[str]]:
    """The dispatch catalogue's keywords, under the category each enabled rule names."""
    out: dict[str, list[str]] = {}
    for rule in list_rules(session):
        if rule.enabled and rule.category_code and rule.keywords:
            words = out.setdefault(rule.category_code, [])
            words.extend(k for k in rule.keywords.split(",") if k and k not in words)
    return out


def _group(ref: CategoryRef, directory: DirectorySnapshot) -> str:
    root = directory.category(ref.ancestors[0]) if ref.ancestors else None
    return root.name if root else ref.name


def services(
    session: Session, *, directory: DirectorySnapshot, attributes: AttributeTable | None = None
) -> list[dict[str, Any]]:
    """Every category of the tree as a service, grouped under its top-level category; ``metadata`` is
    true when its definition asks extra questions (``attributes``)."""
    keywords = _keywords_by_category(session)
    table = attributes or {}
    refs = sorted(directory.categories_by_id.values(), key=lambda r: r.path)
    return [
        {
            "service_code": ref.code,
            "service_name": ref.name,
            "description": ref.path,
            "metadata": bool(for_service(ref, directory=directory, table=table)),
            "type": "realtime",
            "keywords": ", ".join(keywords.get(ref.code, [])),
            "group": _group(ref, directory),
        }
        for ref in refs
    ]


def definition(
    *, directory: DirectorySnapshot, service_code: str, attributes: AttributeTable | None = None
) -> dict[str, Any]:
    """A service's definition: the questions it asks (its ancestors' first), numbered from 1."""
    ref = directory.category(service_code)
    if ref is None:
        raise Open311Error(404, f"no service {service_code!r}; see services.json")
    asked = for_service(ref, directory=directory, table=attributes or {})
    return {"service_code": ref.code, "attributes": [a.view(n) for n, a in enumerate(asked, start=1)]}


def promise(sla: SlaTable, *, order_type: str, urgency: str) -> str:
    """The hotline's promise for an order of this type and urgency (the spec's ``service_notice``)."""
    terms = sla.terms(order_type, urgency)
    amount = f"{terms.handle_amount:g}"
    zh, en = _UNIT_WORDS.get(str(terms.handle_unit.value), (str(terms.handle_unit.value), ""))
    return f"承诺 {amount} {zh}内办理并答复 (we promise to handle and answer within {amount} {en})"


def collapsed_status(status: str) -> str:
    return "open" if Status(status) in OPEN311_OPEN else "closed"


def request_view(
    order: Order,
    *,
    directory: DirectorySnapshot,
    sla: SlaTable | None = None,
    transfer: TransferLink | None = None,
) -> dict[str, Any]:
    """One request. ``transfer``: where the order went to (or came from) between cities; while another
    city handles it, ``status_notes`` says which city and under which of its numbers."""
    status = Status(order.status)
    cat = directory.categories_by_id.get(order.category_id) if order.category_id else None
    dept = directory.departments_by_id.get(order.lead_department_id) if order.lead_department_id else None
    district = directory.districts_by_id.get(order.district_id) if order.district_id else None
    notes = order.reply_text if status in _REPLY_PUBLIC else None
    if status == Status.ANSWERED:
        notes = order.answer_text  # the hotline's own answer (即时答复), given on the call
    if transfer is not None and transfer.direction == "out" and not notes:
        notes = transfer.notes()
    return {
        "service_request_id": order.code,
        "status": collapsed_status(order.status),
        "status_notes": notes,
        "service_name": cat.name if cat else None,
        "service_code": cat.code if cat else None,
        "agency_responsible": dept.name if dept else None,
        "service_notice": promise(sla, order_type=order.order_type, urgency=order.urgency) if sla else None,
        "requested_datetime": order.received_at,
        "updated_datetime": order.updated_at,
        "expected_datetime": order.handle_deadline,
        # Only the district: a street address or exact point may be the citizen's home.
        "address": district.name if district else None,
        "zipcode": None,
    }


def public_orders() -> Any:
    """Orders anyone may read about: not 举报, not handed to the emergency services."""
    return select(Order).where(Order.order_type.not_in(_HIDDEN_TYPES), Order.status.not_in(_HIDDEN_STATUSES))


def get_request(
    session: Session, *, directory: DirectorySnapshot, request_id: str, sla: SlaTable | None = None
) -> dict[str, Any]:
    order = session.scalars(public_orders().where(Order.code == request_id)).first()
    if order is None:
        raise Open311Error(404, f"no service request {request_id!r}")
    return request_view(
        order, directory=directory, sla=sla, transfer=links(session, [order.code]).get(order.code)
    )


def _views(
    session: Session, orders: Any, *, directory: DirectorySnapshot, sla: SlaTable | None
) -> list[dict[str, Any]]:
    rows = list(orders)
    moved = links(session, (o.code for o in rows))
    return [request_view(o, directory=directory, sla=sla, transfer=moved.get(o.code)) for o in rows]


def parse_date(raw: str | None, *, name: str) -> datetime | None:
    """A W3C date-time (``2026-11-01T00:00:00Z``); a time without an offset is taken as UTC."""
    if raw is None or raw == "":
        return None
    value = None
    # A "+08:00" offset sent unencoded in a query string arrives as " 08:00": try with the plus back.
    for text in (raw.strip(), re.sub(r" (\d\d:?\d\d)$", r"+\1", raw.strip())):
        try:
            value = datetime.fromisoformat(text)
            break
        except ValueError:
            continue
    if value is None:
        raise Open311Error(400, f"{name} {raw!r} is not a W3C date-time; use e.g. 2026-11-01T00:00:00Z")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00:00-05:00 lies past year 9999 in UTC
        raise Open311Error(400, f"{name} {raw!r} lies too far in the past or future") from None


def find_requests(
    session: Session,
    *,
    directory: DirectorySnapshot,
    ids: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    now: datetime | None = None,
    sla: SlaTable | None = None,
) -> list[dict[str, Any]]:
    """GET requests: by ids (the other filters then do not apply, as the spec says), else by services
    (comma-separated), status and a date window of at most 90 days (the last 90 days when none is given)."""
    query = public_orders()
    if ids:
        codes = [c.strip() for c in ids.split(",") if c.strip()][:MAX_RESULTS]
        orders = session.scalars(query.where(Order.code.in_(codes)).order_by(Order.received_at.desc()))
        return _views(session, orders, directory=directory, sla=sla)
    start, end = window(start_date, end_date, now=now or utcnow())
    query = query.where(Order.received_at >= start, Order.received_at <= end)
    if service_code:
        wanted_ids: set[int] = set()
        for code in (c.strip() for c in service_code.split(",") if c.strip()):
            ref = directory.category(code)
            if ref is None:
                raise Open311Error(400, f"unknown service_code {code!r}; see services.json")
            # A service covers its sub-categories too (a group asked for means everything under it).
            wanted_ids.update(r.id for r in directory.categories_by_id.values() if ref.code in r.ancestors)
        query = query.where(Order.category_id.in_(sorted(wanted_ids)))
    if status:
        wanted = {s.strip() for s in status.split(",") if s.strip()}
        if not wanted <= {"open", "closed"}:
            raise Open311Error(400, f"status {status!r}: use open, closed or both (open,closed)")
        if wanted == {"open"}:
            query = query.where(Order.status.in_([str(s) for s in OPEN311_OPEN]))
        elif wanted == {"closed"}:
            query = query.where(Order.status.not_in([str(s) for s in OPEN311_OPEN]))
    orders = session.scalars(query.order_by(Order.received_at.desc()).limit(MAX_RESULTS))
    return _views(session, orders, directory=directory, sla=sla)


def window(start_date: str | None, end_date: str | None, *, now: datetime) -> tuple[datetime, datetime]:
    """The spec's date window: at most 90 days; one end given reaches 90 days from it; none, the last 90."""
    start = parse_date(start_date, name="start_date")
    end = parse_date(end_date, name="end_date")
    try:
        return _bounded(start, end, now=now)
    except OverflowError:  # a window reaching past year 1 or 9999
        raise Open311Error(400, "the dates lie too far in the past or future") from None


def _bounded(start: datetime | None, end: datetime | None, *, now: datetime) -> tuple[datetime, datetime]:
    if start and end:
        if end < start:
            raise Open311Error(400, "end_date is before start_date")
        if end - start > MAX_RANGE:
            raise Open311Error(400, "start_date and end_date may be at most 90 days apart")
    elif start:
        end = start + MAX_RANGE
    elif end:
        start = end - MAX_RANGE
    else:
        end = now
        start = end - MAX_RANGE
    assert start is not None and end is not None
    return start, end
