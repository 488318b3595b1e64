"""Admin endpoints for time limits (SLA rules per type × urgency)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from haoban.auth.rbac import ADMIN_ROLES, READ_CONFIG_ROLES, require_role
from haoban.calendar import DurationUnit
from haoban.db import utcnow
from haoban.deps import ActorDep, RuntimeDep
from haoban.orders.models import SlaRule
from haoban.orders.schemas import OrderType, Urgency

router = APIRouter(prefix="/api/v1/admin", tags=["sla"])


class SlaRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_type: str = Field(description="an order type, or '*' for any")
    urgency: Urgency
    sign_amount: float = Field(ge=0, le=365)
    sign_unit: DurationUnit
    handle_amount: float = Field(ge=0, le=365)
    handle_unit: DurationUnit

    @field_validator("order_type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v != "*" and v not in {t.value for t in OrderType}:
            raise ValueError(f"one of {', '.join(t.value for t in OrderType)} or '*'")
        return v


@router.get("/sla-rules", summary="Time limits in force (configured rows over the defaults)")
def list_sla(rt: RuntimeDep, actor: ActorDep) -> list[dict[str, Any]]:
    require_role(actor, *READ_CONFIG_ROLES)
    return rt.sla.as_rows()


@router.put("/sla-rules", summary="Set the time limits for one type × urgency")
def put_sla(rt: RuntimeDep, actor: ActorDep, data: SlaRuleIn) -> list[dict[str, Any]]:
    require_role(actor, *ADMIN_ROLES)
    order_type = data.order_type
    with rt.db.write() as session:
        row = session.scalar(
            select(SlaRule).where(SlaRule.order_type == order_type, SlaRule.urgency == data.urgency.value)
        )
        if row is None:
            row = SlaRule(order_type=order_type, urgency=data.urgency.value)
            session.add(row)
        row.sign_amount, row.sign_unit = data.sign_amount, data.sign_unit.value
        row.handle_amount, row.handle_unit = data.handle_amount, data.handle_unit.value
        row.updated_at = utcnow()
    rt.invalidate()
    return rt.sla.as_rows()
