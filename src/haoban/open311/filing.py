"""``POST requests``: a client app files a service request, and it becomes an order like any other.

The form is the spec's (form-encoded): ``service_code``; where — ``lat`` and ``long``, or
``address_string``, or ``address_id`` (here: a district's code or name); ``attribute[code]`` answers;
``media_url``; who — ``email``, ``first_name``, ``last_name``, ``phone``; ``description``. Every problem is
one entry of the spec's 400 list. The order is registered through the hotline's own intake
(``orders.intake``: dispatch, deadlines, the case file, the receipt) with channel ``open311`` and the client
app as the registering actor, so it follows the normal lifecycle. It is stored before the answer, so the
answer carries the ``service_request_id`` and also a ``token`` the client may look up later (``tokens``).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.roles import Role
from haoban.db import utcnow
from haoban.directory.vocabulary import Channel, OrderType, Urgency
from haoban.errors import Invalid
from haoban.open311 import attributes as attrs
from haoban.open311.errors import Open311Error
from haoban.open311.models import Open311Client, Open311Request
from haoban.open311.service import promise
from haoban.orders.citizen import normalise_phone
from haoban.orders.intake import create_order
from haoban.orders.models import Order
from haoban.orders.schemas import OrderCreate
from haoban.runtime import Runtime

# A report from a 311 app is a complaint about a public matter (投诉): 13 working days by default terms.
ORDER_TYPE = OrderType.COMPLAINT
MAX_DESCRIPTION = 4000  # the spec's limit
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,60})\](\[\])?$")
_EMAIL = re.compile(r"^[^@\s]{1,100}@[^@\s]{1,100}\.[^@\s]{1,40}$")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass
class RequestForm:
    """The fields of ``POST requests`` as sent (strings), attributes gathered by code."""

    fields: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, items: list[tuple[str, Any]]) -> RequestForm:
        form = cls()
        for key, value in items:
            if not isinstance(value, str):
                continue  # a file: the spec sends media as a URL
            m = _ATTRIBUTE.match(key)
            if m:
                form.attributes.setdefault(m.group(1), []).append(value)
            elif key not in form.fields:
                form.fields[key] = value.strip()
        return form

    def get(self, name: str) -> str | None:
        return self.fields.get(name) or None


def _name(first: str | None, last: str | None) -> str | None:
    parts = [p for p in (last, first) if p]
    if not parts:
        return None
    if all(_CJK.search(p) for p in parts):
        return "".join(parts)[:50]  # 姓 then 名, no space
    return " ".join(p for p in (first, last) if p)[:50]


def _coordinates(form: RequestForm, problems: list[str]) -> tuple[float | None, float | None]:
    lat, long = form.get("lat"), form.get("long")
    if lat is None and long is None:
        return None, None
    if lat is None or long is None:
        problems.append("give both lat and long, or neither")
        return None, None
    try:
        la, lo = float(lat), float(long)
    except ValueError:
        problems.append(
            f"lat and long must be decimal degrees (WGS84), e.g. 26.89 and 112.57, not {lat!r}, {long!r}"
        )
        return None, None
    if not (-90 <= la <= 90 and -180 <= lo <= 180):
        problems.append("lat must lie between -90 and 90 and long between -180 and 180")
        return None, None
    return la, lo


def _content(*, form: RequestForm, client: Open311Client, service_path: str, answers: list[str]) -> str:
    lines = [
        form.get("description") or service_path,
        "",
        f"【Open311】{client.name}",
        f"服务 Service: {service_path}",
    ]
    lines.extend(answers)
    for label, key in (
        ("地址 Address", "address_string"),
        ("照片 Media", "media_url"),
        ("邮箱 Email", "email"),
    ):
        if form.get(key):
            lines.append(f"{label}: {form.get(key)}")
    return "\n".join(lines)


def file_request(
    rt: Runtime, *, client: Open311Client, form: RequestForm, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Check the form, register the order and answer as the spec has it (a list of one)."""
    now = now or utcnow()
    directory = rt.directory
    problems: list[str] = []
    code = form.get("service_code")
    ref = directory.category(code) if code else None
    if not code:
        problems.append("service_code is required; see services.json")
    elif ref is None:
        problems.append(f"unknown service_code {code!r}; see services.json")
    lat, long = _coordinates(form, problems)
    district = None
    address_id = form.get("address_id")
    if address_id:
        district = directory.district(address_id)
        if district is None:
            problems.append(f"unknown address_id {address_id!r}: use a district's code or name, e.g. 珠晖区")
    if lat is None and not form.get("address_string") and not address_id:
        problems.append("say where: lat and long, or address_string, or address_id")
    description = form.get("description") or ""
    if len(description) > MAX_DESCRIPTION:
        problems.append(f"description is longer than {MAX_DESCRIPTION} characters")
    if len(form.get("address_string") or "") > 300:
        problems.append("address_string is longer than 300 characters")
    media = form.get("media_url")
    if media and (len(media) > 500 or not re.match(r"^https?://\S+$", media)):
        problems.append("media_url must be an http(s) URL of at most 500 characters")
    email = form.get("email")
    if email and not _EMAIL.match(email):
        problems.append(f"email {email[:60]!r} is not an e-mail address")
    phone = None
    if form.get("phone"):
        try:
            phone = normalise_phone(form.get("phone") or "")
        except ValueError as exc:
            problems.append(f"phone: {exc}")
    questions = (
        attrs.for_service(ref, directory=directory, table=attrs.load(rt.settings.data_dir)) if ref else []
    )
    kept, attr_problems = attrs.check(questions, form.attributes)
    problems.extend(attr_problems)
    if problems or ref is None:
        raise Open311Error(400, *problems)

    data = OrderCreate(
        channel=Channel.OPEN311,
        type=ORDER_TYPE,
        urgency=Urgency.NORMAL,
        content=_content(
            form=form, client=client, service_path=ref.path, answers=attrs.describe(questions, kept)
        ),
        citizen_name=_name(form.get("first_name"), form.get("last_name")),
        citizen_phone=phone,
        address=form.get("address_string"),
        district=district.code if district else None,
        latitude=lat,
        longitude=long,
        category=ref.code,
    )
    actor = Actor(
        id=None, username=f"open311:{client.id}", name=f"Open311 {client.name}"[:100], role=Role.CITIZEN
    )
    token = secrets.token_urlsafe(18)
    try:
        with rt.db.write() as session:
            created = create_order(session, rt, data=data, actor=actor, now=now)
            session.add(
                Open311Request(
                    token=token,
                    order_id=created.id,
                    client_id=client.id,
                    attributes=json.dumps(kept, ensure_ascii=False, sort_keys=True) if kept else None,
                    media_url=media,
                    created_at=now,
                )
            )
    except Invalid as exc:
        fields = exc.detail.get("fields") or {}
        raise Open311Error(400, *([f"{k}: {v}" for k, v in fields.items()] or [exc.message])) from None
    return [
        {
            "service_request_id": created.code,
            "token": token,
            "service_notice": promise(rt.sla, order_type=str(ORDER_TYPE), urgency=str(Urgency.NORMAL)),
            "account_id": None,
        }
    ]


def by_token(session: Session, *, token: str) -> list[dict[str, Any]]:
    """``tokens/{token}``: the service request a token stands for."""
    code = session.scalar(
        select(Order.code)
        .join(Open311Request, Open311Request.order_id == Order.id)
        .where(Open311Request.token == token)
    )
    if code is None:
        raise Open311Error(404, f"no service request for token {token!r}")
    return [{"service_request_id": code, "token": token}]
