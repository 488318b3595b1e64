"""跨省通办 between partner regions (国办发〔2020〕35号).

**异地代收代办** (mode ``proxy``): a receiving window here checks the applicant's identity and materials
for an item of a partner region and sends the file (``app.file``); the home region creates the
application of its own bundle or item (channel ``window``), its departments decide, and its unified
window delivers (posted results carry their waybill number). Every step of the home region's
application goes back (``app.update``) and is recorded on the receiving side too, and the applicant
gets the news by SMS from the window they visited: one timeline on both sides.

**全程网办** (mode ``online``) uses the same messages with the applicant's own online submission here
(the portal's ``/portal/elsewhere``, checked here as the home region will check it) in place of the
window. **多地联办** (``joint``) is one application with tasks in two regions: see
``haoban.federation.joint``; its partner's steps come back as the same update kind.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.applications import registry, single
from haoban.applications import service as applications
from haoban.applications.materials import Upload, check_all
from haoban.applications.models import Application
from haoban.auth.actors import CITIZEN_ACTOR, Actor
from haoban.bundles.definitions import Definition
from haoban.bundles.forms import form_problems
from haoban.bundles.instance import FormError, field_problem
from haoban.catalog.models import ServiceItem
from haoban.db import utcnow
from haoban.errors import Invalid, NotFound
from haoban.federation import joint, protocol, service
from haoban.federation.models import CrossCase, OutboxEntry, Partner
from haoban.federation.protocol import Incoming
from haoban.notifications.service import enqueue
from haoban.runtime import Runtime

FILE = "app.file"
UPDATE = "app.update"
FILE_MODES = ("proxy", "online", "joint")
MAX_FILE_BYTES = 10 * 1024 * 1024
# Steps of the home region's application that the applicant hears about by SMS at the receiving side.
TOLD = {
    "accepted": "您在{window}提交的{item}申请已由{home}受理，办件编号 {code}。",
    "completed": "您在{window}提交的{item}申请已由{home}办结。",
    "delivery_posted": "您的{item}办理结果已由{home}寄出，运单号 {tracking_no}。",
    "rejected": "您在{window}提交的{item}申请{home}不予办理。",
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- the receiving window ------------------------------------------------------------------------------


def send_file(
    session: Session,
    rt: Runtime,
    *,
    partner_region: str,
    mode: str,
    bundle: str,
    form: dict[str, Any],
    applicant: applications.Applicant,
    materials: dict[str, tuple[str, bytes]],
    identity_checked: bool,
    actor: Actor,
    note: str = "",
) -> CrossCase:
    """The window checked identity and materials: open the case and send the file to the home region."""
    if mode not in FILE_MODES:
        raise Invalid(f"mode must be one of {', '.join(FILE_MODES)}", fields={"mode": "unknown"})
    if mode == "proxy" and not identity_checked:
        raise Invalid(
            "the receiving window checks the applicant's identity before sending the file",
            fields={"identity_checked": "confirm the ID card was checked"},
        )
    if not materials and mode != "online":  # online: the item's own form says which are required
        raise Invalid("send the materials the window received", fields={"materials": "at least one file"})
    for key, (_name, data) in materials.items():
        if not data or len(data) > MAX_FILE_BYTES:
            raise Invalid("a material is empty or over 10 MB", fields={f"materials.{key}": "1 byte to 10 MB"})
    partner = service.get_partner(session, partner_region, active_only=True)
    now = utcnow()
    protocol.check_sendable(session, partner, item=bundle, mode=mode, at=now)
    key = f"{rt.settings.federation_region}-{mode}-{now.strftime('%Y%m%d%H%M%S%f')}"
    case = service.open_case(
        session,
        case_key=key,
        partner=partner,
        direction="out",
        kind=mode,
        mode=mode,
        item=bundle,
        title=f"{applicant.name} · {bundle}",
        at=now,
    )
    digests = {k: hashlib.sha256(data).hexdigest() for k, (_n, data) in sorted(materials.items())}
    service.record(
        session,
        case,
        side=rt.settings.federation_region,
        what="received",
        detail={
            "by": actor.username,
            "identity_checked": identity_checked,
            "materials": digests,
            "note": note,
        },
        at=now,
    )
    body = {
        "bundle": bundle,
        "form": form,
        "applicant": {"name": applicant.name, "phone": applicant.phone, "id_number": applicant.id_number},
        "materials": {k: {"filename": n, "data": _b64(d)} for k, (n, d) in sorted(materials.items())},
        "identity_checked": identity_checked,
        "window": rt.settings.federation_name,
        "note": note,
    }
    protocol.send(
        session, rt, partner=partner, kind=FILE, case=key, item=bundle, mode=mode, body=body, at=now
    )
    return case


def _file_acknowledged(session: Session, rt: Runtime, msg: OutboxEntry, result: dict[str, Any]) -> None:
    accepted = service.record_acceptance(session, msg, result)
    if accepted is not None:
        case, code = accepted
        _tell(session, rt, case, "accepted", code=code)


def _tell(session: Session, rt: Runtime, case: CrossCase, what: str, **extra: Any) -> None:
    template = TOLD.get(what)
    phone = _applicant_phone(session, case)
    if template is None or not phone:
        return
    known = form_definition(session, rt, case.item)
    item = known.name if known is not None else case.item
    words = {"window": rt.settings.federation_name, "item": item, "home": case.partner.name, **extra}
    enqueue(
        session,
        channel="sms",
        recipient=phone,
        subject="跨省通办",
        body=template.format_map(
            {k: words.get(k, "") for k in ("window", "item", "home", "code", "tracking_no")}
        ),
        dedupe_key=f"fed:{case.case_key}:{what}",
    )


def _applicant_phone(session: Session, case: CrossCase) -> str | None:
    """The applicant's phone, from the file this side sent (the only place it is kept here)."""
    first = session.scalar(
        select(OutboxEntry.body).where(
            OutboxEntry.partner_id == case.partner_id,
            OutboxEntry.case_key == case.case_key,
            OutboxEntry.seq == 1,
        )
    )
    if not first:
        return None
    phone = (json.loads(first).get("applicant") or {}).get("phone")
    return str(phone) if phone else None


def _on_update(session: Session, rt: Runtime, msg: Incoming) -> dict[str, Any]:
    """A step of the home region's application, recorded on this side's timeline (and told)."""
    case = service.find_case(session, case_key=msg.case, partner=msg.partner)
    if case is None or case.direction != "out":
        raise NotFound(f"no file of ours was sent as case {msg.case}")
    what = str(msg.body.get("event", ""))[:40] or "update"
    detail = {k: v for k, v in msg.body.items() if k != "event"}
    service.record(session, case, side=msg.partner.region, what=what, detail=detail, at=msg.sent_at)
    if case.mode == "joint":  # 多地联办: the partner's part moves our task; no SMS of a file's steps
        joint.on_update(session, rt, case, msg)
        return {"recorded": True}
    status = msg.body.get("status")
    if what == "delivery_posted" or (what == "handed_over"):
        case.state = "done"
    elif status in ("rejected", "withdrawn"):
        case.state = "done"
        _tell(session, rt, case, "rejected")
    if status == "completed" and what != "delivery_posted":
        _tell(session, rt, case, "completed")
    if what == "delivery_posted":
        _tell(session, rt, case, "delivery_posted", tracking_no=detail.get("tracking_no") or "")
    return {"recorded": True}


# --- the home region -----------------------------------------------------------------------------------


def _on_file(session: Session, rt: Runtime, msg: Incoming) -> dict[str, Any]:
    """Create the application of our bundle from the partner window's file."""
    body = msg.body
    bundle = str(body.get("bundle", ""))
    if bundle != msg.item:
        raise Invalid(
            "the file's bundle is not the message's item", fields={"bundle": f"expected {msg.item}"}
        )
    who = body.get("applicant") or {}
    uploads = {}
    for key, f in (body.get("materials") or {}).items():
        try:
            data = base64.b64decode(str(f.get("data", "")), validate=True)
        except (binascii.Error, ValueError, AttributeError):
            raise Invalid("a material is not base64", fields={f"materials.{key}": "base64"}) from None
        uploads[key] = Upload(key=key, filename=str(f.get("filename") or key)[:200], data=data)
    app, outcome = applications.submit(
        session,
        rt,
        bundle=home_bundle(session, rt, bundle),  # our bundle, or our catalogue item's one-task bundle
        form=body.get("form") or {},
        applicant=applications.Applicant(
            name=str(who.get("name") or ""), phone=str(who.get("phone") or ""), id_number=who.get("id_number")
        ),
        actor=service.PARTNER_SUBMITTER,
        uploads=uploads,
        channel="online" if msg.mode == "online" else "window",
        note=f"跨省通办（{service.MODES[msg.mode][0]}）：{body.get('window') or msg.partner.name}",
    )
    now = utcnow()
    case = service.open_case(
        session,
        case_key=msg.case,
        partner=msg.partner,
        direction="in",
        kind=msg.mode,
        mode=msg.mode,
        item=bundle,
        title=f"{app.applicant_name} · {bundle}",
        local_ref=app.code,
        remote_ref=msg.case[-24:],
        at=now,
    )
    return service.record_arrival(
        session,
        case,
        partner_region=msg.partner.region,
        sent_at=msg.sent_at,
        home_region=rt.settings.federation_region,
        what="received",
        detail={"window": body.get("window"), "identity_checked": bool(body.get("identity_checked"))},
        answer={"code": app.code, "status": outcome.status},
        at=now,
    )


def incoming_case(session: Session, code: str) -> CrossCase | None:
    """The partner's case an application of ours answers (None for nearly every application).

    Asked after every step of every application, so the answer is kept for the transaction (an
    application steps several times in one) and asked without flushing what the step wrote: a case is
    flushed when it is opened (``service.open_case``, which forgets the answer for its ``local_ref``).
    """
    memo = service.case_memo(session)
    if code in memo:
        case_id = memo[code]
        return session.get(CrossCase, case_id) if case_id is not None else None
    with session.no_autoflush:
        case_id = session.scalar(
            select(CrossCase.id).where(CrossCase.local_ref == code, CrossCase.direction == "in").limit(1)
        )
    memo[code] = case_id
    return session.get(CrossCase, case_id) if case_id is not None else None


def report_back(step: Any) -> None:
    """After-hook on every application step: one from a partner's window goes back to it."""
    app: Application | None = getattr(step, "app", None)
    session: Session | None = getattr(step, "session", None)
    if app is None or session is None or not app.code:
        return
    if not service.may_answer_partner(app.submitted_by_id, app.submitted_by_name):
        return
    case = incoming_case(session, app.code)
    if case is None:
        return
    task = getattr(step, "task", None)
    payload = step.payload or {}
    event: dict[str, Any] = {"event": step.action, "status": app.status, "code": app.code}
    if task is not None:
        event["task"] = task.task_id
        event["task_status"] = step.to_status.value
        event["task_name"] = task.name
        event["task_name_en"] = task.name_en or ""
    for k in ("tracking_no", "method", "reason"):
        if payload.get(k):
            event[k] = payload[k]
    if case.mode == "joint" and isinstance(payload.get("result"), dict):
        event["result"] = payload["result"]  # 多地联办: the home task is approved with it
    rt = step.rt
    service.record(
        session,
        case,
        side=rt.settings.federation_region,
        what=step.action,
        detail={k: v for k, v in event.items() if k != "event"},
        at=step.at,
    )
    if step.action in ("delivery_posted", "handed_over") or app.status in ("rejected", "withdrawn"):
        case.state = "done"
    if case.mode == "joint" and step.action in ("approve", "reject"):
        case.state = "done"  # 多地联办: our part is decided; the home region delivers
    protocol.send(
        session,
        rt,
        partner=case.partner,
        kind=UPDATE,
        case=case.case_key,
        item=case.item,
        mode=case.mode,
        body=event,
        at=step.at,
    )


protocol.register(FILE, _on_file, on_ack=_file_acknowledged)
protocol.register(UPDATE, _on_update)


def track(session: Session, *, case_key: str, phone_last4: str) -> dict[str, Any]:
    """What the applicant sees at the receiving side: the steps, without anyone's personal data."""
    case = session.scalar(
        select(CrossCase).where(CrossCase.case_key == case_key, CrossCase.direction == "out")
    )
    phone = _applicant_phone(session, case) if case is not None else None
    if case is None or not phone or not phone.endswith(phone_last4):
        raise NotFound("no cross-region case with this key and phone", message_zh="没有找到这件跨省通办")
    steps = [
        {
            "at": e["at"],
            "side": e["side"],
            "what": e["what"],
            "status": e["detail"].get("status"),
            **{k: str(e["detail"][k])[:100] for k in TRACK_DETAIL if e["detail"].get(k)},
        }
        for e in service.timeline(session, case)
    ]
    return {
        "case_key": case.case_key,
        "item": case.item,
        "mode": case.mode,
        "mode_label": service.MODES[case.mode][0],
        "home": case.partner.name,
        "home_region": case.partner.region,
        "remote_ref": case.remote_ref,
        "state": case.state,
        "steps": steps,
    }


# What the applicant's view shows of each step besides its name: nothing personal.
TRACK_DETAIL = ("code", "tracking_no", "method", "task", "task_status", "task_name", "task_name_en")


# --- 全程网办: a resident applies online here for an item of a partner region ------------------------


def form_definition(session: Session, rt: Runtime, code: str) -> Definition | None:
    """This instance's form of an agreement's item: a bundle of that code, or the one-task bundle of a
    catalogue item (checked, not stored: a form to fill, ``applications.single``); None if unknown."""
    row = registry.latest_row(session, code)
    if row is not None:
        return registry.definition_of(rt, row)
    item = session.scalars(select(ServiceItem).where(ServiceItem.code == code[:80])).unique().first()
    if item is None or not item.active:
        return None
    return registry.check(session, rt, files=single.files_for(item))


def home_bundle(session: Session, rt: Runtime, code: str) -> str:
    """The bundle an agreement's item is applied for with here: a bundle of that code, or the one-task
    bundle of the catalogue item (stored now if new); NotFound when it is neither."""
    if registry.latest_row(session, code) is not None:
        return code
    return single.ensure(session, rt, item_code=code).code


def online_offers(session: Session, rt: Runtime, *, lang: str = "zh") -> list[dict[str, Any]]:
    """Partners (active) and the items an agreement in force lets residents here apply for online.

    The form is this instance's definition of the same code (the national lists of 一件事 and the
    shipped bundles are the same in every region); an item this instance does not know is left out.
    """
    today = utcnow().date()
    out = []
    for partner in session.scalars(select(Partner).where(Partner.active.is_(True)).order_by(Partner.region)):
        codes: list[str] = []
        for a in partner.agreements:
            if service.in_force(a, today) and "online" in json.loads(a.modes):
                codes += [c for c in json.loads(a.items) if c not in codes]
        items = []
        for code in codes:
            d = form_definition(session, rt, code) if code != service.HOTLINE_ITEM else None
            if d is None:
                continue
            items.append(
                {
                    "code": code,
                    "name": (d.name_en or d.name) if lang == "en" else d.name,
                    "description": (d.description_en or d.description) if lang == "en" else d.description,
                    "single": single.is_single(d.code),
                }
            )
        if items:
            out.append({"region": partner.region, "name": partner.name, "items": items})
    return out


def online_definition(session: Session, rt: Runtime, *, partner_region: str, item: str) -> Definition:
    """The form of ``item`` for 全程网办 with ``partner_region`` (NotFound unless it is offered)."""
    partner = service.get_partner(session, partner_region, active_only=True)
    covered = service.covering(session, partner, item=item, mode="online", today=utcnow().date())
    definition = form_definition(session, rt, item) if covered is not None else None
    if definition is None:
        raise NotFound(
            f"{partner.name} does not offer {item!r} online to residents here",
            message_zh=f"{partner.name}未开通本地居民在线办理该事项",
        )
    return definition


def precheck(
    definition: Definition,
    *,
    form: dict[str, Any],
    applicant: applications.Applicant,
    uploads: dict[str, Upload],
) -> tuple[applications.Applicant, dict[str, tuple[str, bytes]]]:
    """Check the applicant, the form and the materials here, as the home region will (every problem
    named by its field), before anything goes out: a file refused there would reach the applicant
    days later. Returns the cleaned applicant and the materials to send."""
    who = applications.check_applicant(applicant)
    checked = check_all(uploads)
    problems = form_problems(definition.form_validator, definition.form_schema, form)
    for key in checked:
        if key not in definition.materials:
            problems.append(field_problem(f"materials.{key}", "material_unknown", key=key))
    for key, m in definition.materials.items():
        if m.required and key not in checked:
            problems.append(
                field_problem(f"materials.{key}", "material_required", name=m.name, name_en=m.name_en)
            )
    if problems:
        raise FormError(problems)
    return who, {k: (c.filename, c.data) for k, c in checked.items()}


def check_known(
    session: Session,
    rt: Runtime,
    *,
    bundle: str,
    form: dict[str, Any],
    applicant: applications.Applicant,
    materials: dict[str, tuple[str, bytes]],
) -> None:
    """When this instance knows the item's form too, check the file against it before it goes out (the
    API's 全程网办: the same answer the portal gives, not a refusal at home days later)."""
    definition = form_definition(session, rt, bundle)
    if definition is None:
        return
    uploads = {k: Upload(key=k, filename=n, data=d) for k, (n, d) in materials.items()}
    precheck(definition, form=form, applicant=applicant, uploads=uploads)


def apply_online(
    session: Session,
    rt: Runtime,
    *,
    partner_region: str,
    item: str,
    form: dict[str, Any],
    applicant: applications.Applicant,
    uploads: dict[str, Upload],
) -> CrossCase:
    """全程网办 from the portal: checked here, then filed with the home region like a window's file."""
    definition = online_definition(session, rt, partner_region=partner_region, item=item)
    who, materials = precheck(definition, form=form, applicant=applicant, uploads=uploads)
    return send_file(
        session,
        rt,
        partner_region=partner_region,
        mode="online",
        bundle=item,
        form=form,
        applicant=who,
        materials=materials,
        identity_checked=False,
        actor=CITIZEN_ACTOR,
    )
