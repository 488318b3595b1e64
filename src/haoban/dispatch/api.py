"""Dispatch catalogue (派单目录) administration, corrections and routing explanations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from haoban.auth.rbac import require_role
from haoban.auth.roles import CALL_CENTRE, READ_CONFIG_ROLES
from haoban.deps import ActorDep, OptionalRecordId, RecordId, RuntimeDep
from haoban.dispatch import catalogue, emergency
from haoban.dispatch.departments import active_departments, department_candidates
from haoban.dispatch.gazetteer import find_district
from haoban.dispatch.models import DispatchCorrection
from haoban.dispatch.routing import DispatchRequest
from haoban.dispatch.schemas import (
    CorrectionOut,
    EmergencyCheckIn,
    EmergencyOut,
    ExplainIn,
    ExplainOut,
    ModelOut,
    PredictIn,
    PredictOut,
    RuleOut,
    RuleRevisionOut,
    RulesReplaced,
)
from haoban.errors import Conflict

router = APIRouter(prefix="/api/v1", tags=["dispatch"])


@router.get(
    "/admin/dispatch/rules",
    response_model=list[RuleOut],
    summary="The dispatch catalogue, in evaluation order",
)
def list_rules(rt: RuntimeDep, actor: ActorDep) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return [catalogue.rule_to_dict(r) for r in catalogue.rules_for(session, actor=actor)]


@router.post("/admin/dispatch/rules", status_code=201, response_model=RuleOut, summary="Add a rule")
def create_rule(rt: RuntimeDep, actor: ActorDep, data: catalogue.RuleIn) -> dict[str, Any]:
    with rt.db.write() as session:
        out = catalogue.rule_to_dict(
            catalogue.create_rule(session, data=data, directory=rt.directory, actor=actor)
        )
    rt.invalidate()
    return out


@router.put("/admin/dispatch/rules/{rule_id}", response_model=RuleOut, summary="Change a rule")
def update_rule(rt: RuntimeDep, actor: ActorDep, rule_id: RecordId, data: catalogue.RuleIn) -> dict[str, Any]:
    with rt.db.write() as session:
        out = catalogue.rule_to_dict(
            catalogue.update_rule(session, rule_id=rule_id, data=data, directory=rt.directory, actor=actor)
        )
    rt.invalidate()
    return out


@router.delete("/admin/dispatch/rules/{rule_id}", status_code=204, summary="Remove a rule")
def delete_rule(rt: RuntimeDep, actor: ActorDep, rule_id: RecordId) -> None:
    with rt.db.write() as session:
        catalogue.delete_rule(session, rule_id=rule_id, actor=actor)
    rt.invalidate()


@router.get(
    "/admin/dispatch/rules.yaml",
    response_class=Response,
    responses={200: {"content": {"application/yaml": {}}, "description": "the catalogue as YAML"}},
    summary="Export the catalogue as YAML",
)
def export_rules(rt: RuntimeDep, actor: ActorDep) -> Response:
    with rt.db.read() as session:
        text = catalogue.export_yaml(catalogue.rules_for(session, actor=actor))
    return Response(text, media_type="application/yaml")


@router.put(
    "/admin/dispatch/rules.yaml",
    response_model=RulesReplaced,
    summary="Replace the catalogue from YAML (body: the YAML text)",
)
async def import_rules(rt: RuntimeDep, actor: ActorDep, request: Request) -> dict[str, Any]:
    text = (await request.body()).decode("utf-8", errors="replace")
    with rt.db.write() as session:
        rules = catalogue.replace_from_yaml(session, text=text, directory=rt.directory, actor=actor)
        out = {"rules": len(rules)}
    rt.invalidate()
    return out


@router.get(
    "/admin/dispatch/history", response_model=list[RuleRevisionOut], summary="Every change to the catalogue"
)
def history(rt: RuntimeDep, actor: ActorDep, rule_id: OptionalRecordId = None) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return [
            {
                "rule_id": h.rule_id,
                "revision": h.revision,
                "change": h.change,
                "actor": h.actor,
                "at": h.at,
                "snapshot": h.snapshot,
            }
            for h in catalogue.rule_history(session, actor=actor, rule_id=rule_id)
        ]


@router.get(
    "/dispatch/corrections",
    response_model=list[CorrectionOut],
    summary="Human corrections of the dispatcher (training signal)",
)
def corrections(
    rt: RuntimeDep, actor: ActorDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    require_role(actor, *READ_CONFIG_ROLES)
    with rt.db.read() as session:
        rows = session.scalars(select(DispatchCorrection).order_by(DispatchCorrection.id.desc()).limit(limit))
        return [
            {
                "order_id": c.order_id,
                "source": c.source,
                "suggested_category": c.suggested_category,
                "chosen_category": c.chosen_category,
                "suggested_department": c.suggested_department,
                "chosen_department": c.chosen_department,
                "actor": c.actor,
                "at": c.at,
            }
            for c in rows
        ]


@router.post(
    "/dispatch/explain",
    response_model=ExplainOut,
    summary="Which catalogue rule would route this text, and why",
)
def explain(rt: RuntimeDep, actor: ActorDep, data: ExplainIn) -> dict[str, Any]:
    directory = rt.directory
    district = directory.district(data.district) if data.district else None
    from_text = None
    if district is None:
        # The caller named the district: intake would find it too, so route (and fill the form) with it.
        found = find_district(data.text)
        district = directory.district(found.district) if found else None
        from_text = district.code if district else None
    category = directory.category(data.category) if data.category else None
    request = DispatchRequest(
        subject="",
        content=data.text,
        order_type=data.order_type,
        received_at=datetime.now(UTC),
        district_code=district.code if district else None,
        category_code=category.code if category else None,
    )
    decision = rt.dispatcher.decide(request)
    trace = rt.router.explain(request)
    ranked = department_candidates(
        router=rt.router, departments=active_departments(directory), request=request, decision=decision
    )
    return {
        "decision": {
            "outcome": decision.outcome,
            "category": decision.category_code,
            "department": decision.department_code,
            "co_handlers": list(decision.co_handler_codes),
            "confidence": decision.confidence,
            "rule": decision.rule_name,
            "why": decision.reason,
            "suggestions": list(decision.suggestions),
        },
        "trace": [
            {"rule": r.name, "position": r.position, "matched": why is None, "why_not": why}
            for r, why in trace
        ],
        "district_from_text": from_text,
        "departments": [{"code": c.code, "score": round(c.score, 4), "reason": c.reason} for c in ranked],
    }


@router.post(
    "/dispatch/predict",
    response_model=PredictOut,
    summary="Suggested categories (top 3, calibrated) and the routing decision",
)
def predict(rt: RuntimeDep, actor: ActorDep, data: PredictIn) -> dict[str, Any]:
    if rt.classifier is None:
        raise Conflict("no dispatch model is loaded (HAOBAN_DISPATCH_MODEL=off); routing uses rules only")
    prediction = rt.classifier.predict(data.text)
    request = DispatchRequest(
        subject="", content=data.text, order_type="consult", received_at=datetime.now(UTC)
    )
    decision = rt.dispatcher.decide(request)
    return {
        "suggestions": [{"label": s.label, "probability": s.probability} for s in prediction.suggestions],
        "confident": prediction.confident,
        "threshold": rt.classifier.threshold,
        "reason": prediction.reason,
        "decision": {
            "outcome": decision.outcome,
            "department": decision.department_code,
            "rule": decision.rule_name,
            "why": decision.reason,
        },
    }


@router.get(
    "/dispatch/model",
    response_model=ModelOut,
    response_model_exclude_unset=True,
    summary="The loaded dispatch model: version, training data hash, metrics",
)
def model_info(rt: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    if rt.classifier is None:
        return {"loaded": False}
    return {
        "loaded": True,
        "labels": list(rt.classifier.labels),
        "threshold": rt.classifier.threshold,
        "metadata": rt.classifier.metadata,
    }


@router.post(
    "/emergency/check",
    response_model=EmergencyOut,
    summary="While the operator types: is this a life-safety emergency for 110/119/120/122?",
)
def check_emergency(rt: RuntimeDep, actor: ActorDep, data: EmergencyCheckIn) -> dict[str, Any]:
    require_role(actor, *sorted(CALL_CENTRE))
    return emergency.as_dict(emergency.detect(data.text))
