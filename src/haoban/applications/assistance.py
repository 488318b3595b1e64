"""帮代办: applying on a person's behalf with their recorded consent, going along with them (陪同办),
green-channel groups, and the counts per helper and per group.

Consent is either a signature image (PNG or JPEG, stored with its sha256) or a one-time code sent to
the person's phone by SMS (the code itself is never stored: only a hash with the phone). A code lives
ten minutes, may be tried five times and is used once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haoban.applications import gate
from haoban.applications.materials import CheckedUpload
from haoban.applications.models import Application, ApplicationAssistance, ConsentCode
from haoban.auth.actors import Actor
from haoban.auth.rbac import require_role
from haoban.auth.roles import Role
from haoban.db import utcnow
from haoban.errors import Invalid
from haoban.notifications.service import enqueue
from haoban.orders.citizen import normalise_phone
from haoban.runtime import Runtime

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
# Who may apply on someone's behalf (帮办代办): volunteers and service-centre staff.
HELPER_ROLES: tuple[str, ...] = (Role.VOLUNTEER, Role.WINDOW, Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
KPI_ROLES: tuple[str, ...] = (Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR, Role.WINDOW, Role.VOLUNTEER)
GREEN_LABELS: dict[str, tuple[str, str]] = {
    "elderly": ("老年人", "Elderly"),
    "disabled": ("残疾人", "Disabled"),
    "pregnant": ("孕产妇", "Pregnant"),
    "veteran": ("退役军人", "Veteran"),
    "minor_guardian": ("未成年人监护", "Guardian of a minor"),
    "serious_illness": ("重病患者", "Serious illness"),
    "other": ("其他特殊群体", "Other"),
}


def _hash(phone: str, code: str) -> str:
    return hashlib.sha256(f"{phone}:{code}".encode()).hexdigest()


def request_code(session: Session, *, phone: str, actor: Actor, now: datetime | None = None) -> ConsentCode:
    """Send a one-time consent code to the person's phone (through the outbox)."""
    require_role(actor, *HELPER_ROLES)
    at = now or utcnow()
    try:
        number = normalise_phone(phone)
    except ValueError as exc:
        raise Invalid(f"phone: {exc}", fields={"phone": str(exc)}, message_zh="手机号码格式不正确") from None
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = ConsentCode(
        phone=number,
        code_hash=_hash(number, code),
        requested_by=actor.name,
        created_at=at,
        expires_at=at + CODE_TTL,
        attempts=0,
    )
    session.add(row)
    session.flush()
    enqueue(
        session,
        channel="sms",
        recipient=number,
        subject="帮代办授权码",
        body=f"{actor.name}正在为您代办政务服务事项。如您同意，请将授权码 {code} 告诉对方（10 分钟内有效）。"
        "如非本人意愿，请勿告知。",
        dedupe_key=f"consent-code:{row.id}",
    )
    return row


def _use_code(session: Session, *, phone: str, code: str, at: datetime) -> ConsentCode:
    row = session.scalars(
        select(ConsentCode)
        .where(ConsentCode.phone == phone, ConsentCode.used_at.is_(None), ConsentCode.expires_at > at)
        .order_by(ConsentCode.created_at.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if row is None:
        raise Invalid(
            "no valid consent code for this phone: request one first (it lives 10 minutes)",
            fields={"consent.code": "no valid code for this phone"},
            message_zh="该手机号没有有效的授权码，请先发送授权码（10 分钟内有效）",
        )
    if row.attempts >= MAX_ATTEMPTS:
        raise Invalid(
            "too many wrong codes: request a new one",
            fields={"consent.code": "too many attempts"},
            message_zh="授权码错误次数过多，请重新发送",
        )
    if not secrets.compare_digest(row.code_hash, _hash(phone, code.strip())):
        # The failed attempt must count even though the request is refused: the caller commits it
        # through ``count_failed_attempt`` in its own transaction.
        raise WrongCode(row.id)
    row.used_at = at
    return row


class WrongCode(Invalid):
    def __init__(self, code_id: int) -> None:
        super().__init__(
            "the consent code is wrong",
            fields={"consent.code": "wrong code"},
            message_zh="授权码不正确",
        )
        self.code_id = code_id


def count_failed_attempt(session: Session, code_id: int) -> None:
    row = session.get(ConsentCode, code_id)
    if row is not None:
        row.attempts += 1


@dataclass(frozen=True)
class Consent:
    """How the person agreed: ``otp`` with the code they passed on, or ``signature`` with the image."""

    method: str
    code: str | None = None
    signature: CheckedUpload | None = None


def check_consent(session: Session, *, consent: Consent | None, phone: str, at: datetime) -> tuple[str, str]:
    """(method, reference) of a valid consent, or ``Invalid`` naming ``consent``."""
    if consent is None:
        raise Invalid(
            "applying on someone's behalf needs their consent: a one-time code or a signature",
            fields={"consent": "required when applying on someone's behalf"},
            message_zh="代办须有申请人授权：短信授权码或签名",
        )
    if consent.method == "otp":
        if not consent.code:
            raise Invalid(
                "consent.code is required", fields={"consent.code": "required"}, message_zh="请填写授权码"
            )
        row = _use_code(session, phone=phone, code=consent.code, at=at)
        return "otp", f"consent_code:{row.id}"
    if consent.method == "signature":
        sig = consent.signature
        if sig is None or sig.content_type not in ("image/png", "image/jpeg"):
            raise Invalid(
                "the signature must be a PNG or JPEG image (file part consent_signature)",
                fields={"consent.signature": "PNG or JPEG image required"},
                message_zh="签名须为 PNG 或 JPEG 图片",
            )
        return "signature", f"sha256:{sig.sha256}"
    raise Invalid(
        "consent.method must be otp or signature",
        fields={"consent.method": "otp or signature"},
        message_zh="授权方式只能是短信授权码或签名",
    )


def record_proxy(
    rt: Runtime,
    session: Session,
    app: Application,
    *,
    actor: Actor,
    method: str,
    ref: str,
    at: datetime,
    note: str | None = None,
) -> ApplicationAssistance:
    row = ApplicationAssistance(
        application_id=app.id,
        kind="proxy",
        helper_id=actor.id,
        helper_name=actor.name,
        helper_role=actor.role,
        person_name=app.applicant_name,
        person_phone=app.applicant_phone,
        green_group=app.green_channel,
        consent_method=method,
        consent_ref=ref,
        consent_at=at,
        note=note,
        at=at,
    )
    session.add(row)
    gate.move_application(
        rt,
        session,
        app,
        action="note",
        to_status=None,
        actor=actor,
        at=at,
        event="consent",
        payload={"kind": "proxy", "method": method, "ref": ref, "green_group": app.green_channel},
    )
    return row


def accompany(
    rt: Runtime,
    session: Session,
    *,
    app: Application,
    actor: Actor,
    note: str,
    now: datetime | None = None,
) -> ApplicationAssistance:
    """陪同办: a helper went along with the applicant (to a window, a department); logged once per visit."""
    require_role(actor, *HELPER_ROLES)
    at = now or utcnow()
    if not note or not note.strip():
        raise Invalid(
            "say where and what for", fields={"note": "required"}, message_zh="请填写陪同办理的情况"
        )
    row = ApplicationAssistance(
        application_id=app.id,
        kind="accompany",
        helper_id=actor.id,
        helper_name=actor.name,
        helper_role=actor.role,
        person_name=app.applicant_name,
        person_phone=app.applicant_phone,
        green_group=app.green_channel,
        note=note.strip(),
        at=at,
    )
    session.add(row)
    gate.move_application(
        rt,
        session,
        app,
        action="note",
        to_status=None,
        actor=actor,
        at=at,
        event="accompany",
        payload={"note": note.strip()},
    )
    return row


def kpis(session: Session, *, actor: Actor) -> dict[str, Any]:
    """Counts per helper and per green-channel group (帮代办 KPIs)."""
    require_role(actor, *KPI_ROLES)
    helpers: dict[tuple[str, str], dict[str, Any]] = {}
    for name, role, kind, count in session.execute(
        select(
            ApplicationAssistance.helper_name,
            ApplicationAssistance.helper_role,
            ApplicationAssistance.kind,
            func.count(),
        ).group_by(
            ApplicationAssistance.helper_name, ApplicationAssistance.helper_role, ApplicationAssistance.kind
        )
    ):
        entry = helpers.setdefault((name, role), {"helper": name, "role": role, "proxy": 0, "accompany": 0})
        entry[kind] = count
    groups = []
    for group, count in session.execute(
        select(Application.green_channel, func.count())
        .where(Application.green_channel.is_not(None))
        .group_by(Application.green_channel)
        .order_by(Application.green_channel)
    ):
        label = GREEN_LABELS.get(group, (group, group))
        groups.append({"group": group, "label": label[0], "label_en": label[1], "applications": count})
    assisted = session.scalar(
        select(func.count()).select_from(Application).where(Application.channel == "assisted")
    )
    return {
        "helpers": sorted(helpers.values(), key=lambda h: (-h["proxy"] - h["accompany"], h["helper"])),
        "groups": groups,
        "assisted_applications": assisted or 0,
        "green_channel_applications": sum(g["applications"] for g in groups),
    }
