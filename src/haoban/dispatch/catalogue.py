"""The dispatch catalogue (派单目录): ordered rules, edited by admins over the API or from YAML.

Every change appends a revision (who, when, the rule after the change), so the catalogue's history is
auditable and the router knows when to reload.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.rbac import require_role
from haoban.auth.roles import ADMIN_ROLES, READ_CONFIG_ROLES
from haoban.directory.service import DirectorySnapshot
from haoban.dispatch.models import DispatchRule, DispatchRuleRevision
from haoban.dispatch.routing import TRANSFER_TARGETS, RuleSpec
from haoban.errors import Invalid, NotFound
from haoban.revisions import History

OUTCOMES = ("dispatch", "transfer", "answer", "hold")
HISTORY = History(DispatchRuleRevision, "rule_id", "rule")


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    position: int | None = Field(default=None, ge=0, description="Order of evaluation; default: last")
    enabled: bool = True
    category_code: str | None = None
    district_code: str | None = None
    order_type: str | None = None
    keywords: list[str] = Field(default_factory=list, max_length=100)
    hour_from: int | None = Field(default=None, ge=0, le=23)
    hour_to: int | None = Field(default=None, ge=0, le=24)
    outcome: str = "dispatch"
    department_code: str | None = None
    co_handler_codes: list[str] = Field(default_factory=list)
    transfer_target: str | None = None
    guidance: str | None = Field(default=None, max_length=2000)

    @field_validator("keywords")
    @classmethod
    def _clean_keywords(cls, v: list[str]) -> list[str]:
        cleaned = [k.strip() for k in v if k and k.strip()]
        if any("," in k for k in cleaned):
            raise ValueError("a keyword may not contain a comma")
        return cleaned

    @model_validator(mode="after")
    def _outcome_fields(self) -> RuleIn:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        if self.outcome == "dispatch" and not self.department_code:
            raise ValueError("a dispatch rule needs department_code")
        if self.outcome == "transfer" and self.transfer_target not in TRANSFER_TARGETS:
            raise ValueError(f"a transfer rule needs transfer_target, one of {', '.join(TRANSFER_TARGETS)}")
        if self.outcome == "answer" and not self.guidance:
            raise ValueError("an answer rule needs guidance (the text told to the citizen)")
        if (self.hour_from is None) != (self.hour_to is None):
            raise ValueError("give both hour_from and hour_to, or neither")
        return self


def _check_references(rule: RuleIn, directory: DirectorySnapshot) -> RuleIn:
    """Refuse unknown references; return the rule with its category given by code (paths accepted)."""
    errors: dict[str, str] = {}
    category = (
        directory.lookup_category(rule.category_code, errors=errors, field="category_code")
        if rule.category_code
        else None
    )
    if rule.district_code:
        directory.lookup_district(rule.district_code, errors=errors, field="district_code")
    for key, codes in (
        ("department_code", [rule.department_code]),
        ("co_handler_codes", rule.co_handler_codes),
    ):
        for code in codes:
            if code:
                directory.lookup_department(code, errors=errors, field=key, active=False)
    if errors:
        raise Invalid("the rule refers to things that do not exist", fields=errors)
    return rule.model_copy(update={"category_code": category.code}) if category else rule


def rule_to_dict(rule: DispatchRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "position": rule.position,
        "name": rule.name,
        "enabled": rule.enabled,
        "category_code": rule.category_code,
        "district_code": rule.district_code,
        "order_type": rule.order_type,
        "keywords": [k for k in (rule.keywords or "").split(",") if k],
        "hour_from": rule.hour_from,
        "hour_to": rule.hour_to,
        "outcome": rule.outcome,
        "department_code": rule.department_code,
        "co_handler_codes": [c for c in (rule.co_handler_codes or "").split(",") if c],
        "transfer_target": rule.transfer_target,
        "guidance": rule.guidance,
        "revision": rule.revision,
    }


def _record(session: Session, rule: DispatchRule, change: str, actor: Actor, **extra: Any) -> None:
    HISTORY.record(
        session,
        item_id=rule.id,
        revision=rule.revision,
        change=change,
        snapshot={**rule_to_dict(rule), **extra},
        actor=actor.username,
    )


def _apply(rule: DispatchRule, data: RuleIn) -> None:
    rule.name = data.name
    rule.enabled = data.enabled
    rule.category_code = data.category_code
    rule.district_code = data.district_code
    rule.order_type = data.order_type
    rule.keywords = ",".join(data.keywords) or None
    rule.hour_from, rule.hour_to = data.hour_from, data.hour_to
    rule.outcome = data.outcome
    rule.department_code = data.department_code
    rule.co_handler_codes = ",".join(data.co_handler_codes) or None
    rule.transfer_target = data.transfer_target
    rule.guidance = data.guidance


def create_rule(
    session: Session, *, data: RuleIn, directory: DirectorySnapshot, actor: Actor
) -> DispatchRule:
    require_role(actor, *ADMIN_ROLES)
    data = _check_references(data, directory)
    position = data.position
    if position is None:
        position = (session.scalar(select(func.max(DispatchRule.position))) or 0) + 10
    rule = DispatchRule(position=position, revision=1)
    _apply(rule, data)
    session.add(rule)
    session.flush()
    _record(session, rule, "create", actor)
    return rule


def update_rule(
    session: Session, *, rule_id: int, data: RuleIn, directory: DirectorySnapshot, actor: Actor
) -> DispatchRule:
    require_role(actor, *ADMIN_ROLES)
    rule = session.get(DispatchRule, rule_id)
    if rule is None:
        raise NotFound(f"no dispatch rule #{rule_id}")
    data = _check_references(data, directory)
    _apply(rule, data)
    if data.position is not None:
        rule.position = data.position
    rule.revision += 1
    session.flush()
    _record(session, rule, "update", actor)
    return rule


def delete_rule(session: Session, *, rule_id: int, actor: Actor) -> None:
    require_role(actor, *ADMIN_ROLES)
    rule = session.get(DispatchRule, rule_id)
    if rule is None:
        raise NotFound(f"no dispatch rule #{rule_id}")
    rule.revision += 1
    _record(session, rule, "delete", actor)
    session.delete(rule)
    session.flush()


def list_rules(session: Session) -> list[DispatchRule]:
    return list(session.scalars(select(DispatchRule).order_by(DispatchRule.position, DispatchRule.id)))


def rules_for(session: Session, *, actor: Actor) -> list[DispatchRule]:
    """The catalogue in evaluation order, for the roles that read the configuration."""
    require_role(actor, *READ_CONFIG_ROLES)
    return list_rules(session)


def rule_history(session: Session, *, actor: Actor, rule_id: int | None = None) -> list[DispatchRuleRevision]:
    require_role(actor, *READ_CONFIG_ROLES)
    return HISTORY.entries(session, item_id=rule_id)


def deleted_rules(
    session: Session, *, actor: Actor, live: set[int]
) -> list[tuple[DispatchRuleRevision, dict[str, Any]]]:
    """Deleted rules that can be restored, newest first: (delete revision, the rule as it was)."""
    require_role(actor, *READ_CONFIG_ROLES)
    return HISTORY.deleted(session, live=live)


def catalogue_version(session: Session) -> int:
    return session.scalar(select(func.max(DispatchRuleRevision.id))) or 0


def rule_specs(session: Session) -> list[RuleSpec]:
    return [
        RuleSpec(
            id=r.id,
            position=r.position,
            name=r.name,
            outcome=r.outcome,
            category_code=r.category_code,
            district_code=r.district_code,
            order_type=r.order_type,
            keywords=tuple(k for k in (r.keywords or "").split(",") if k),
            hour_from=r.hour_from,
            hour_to=r.hour_to,
            department_code=r.department_code,
            co_handler_codes=tuple(c for c in (r.co_handler_codes or "").split(",") if c),
            transfer_target=r.transfer_target,
            guidance=r.guidance,
        )
        for r in list_rules(session)
        if r.enabled
    ]


def parse_rules_yaml(text: str) -> list[RuleIn]:
    """Parse a YAML catalogue (a list of rules, or ``{rules: [...]}``) with errors naming the rule."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise Invalid(f"not valid YAML: {exc}") from None
    if isinstance(data, dict):
        data = data.get("rules")
    if not isinstance(data, list):
        raise Invalid("expected a list of rules (or a mapping with key 'rules')")
    rules: list[RuleIn] = []
    for index, item in enumerate(data, start=1):
        try:
            rules.append(RuleIn.model_validate(item))
        except Exception as exc:  # pydantic ValidationError: report which rule
            raise Invalid(f"rule #{index} ({(item or {}).get('name', '?')}): {exc}") from None
    return rules


def replace_from_yaml(
    session: Session, *, text: str, directory: DirectorySnapshot, actor: Actor
) -> list[DispatchRule]:
    """Replace the whole catalogue with the YAML file's rules, in file order, as one change."""
    require_role(actor, *ADMIN_ROLES)
    parsed = parse_rules_yaml(text)
    for rule in parsed:
        _check_references(rule, directory)
    for old in list_rules(session):
        delete_rule(session, rule_id=old.id, actor=actor)
    created: list[DispatchRule] = []
    for index, rule in enumerate(parsed, start=1):
        if rule.position is None:
            rule = rule.model_copy(update={"position": index * 10})
        created.append(create_rule(session, data=rule, directory=directory, actor=actor))
    return created


def export_yaml(rules: Sequence[DispatchRule]) -> str:
    out = []
    for rule in rules:
        d = rule_to_dict(rule)
        d.pop("id")
        d.pop("revision")
        out.append({k: v for k, v in d.items() if v not in (None, [], True) or k == "enabled"})
    return yaml.safe_dump({"rules": out}, allow_unicode=True, sort_keys=False)


def restore_rule(
    session: Session, *, revision_id: int, directory: DirectorySnapshot, actor: Actor
) -> DispatchRule:
    """Bring a deleted rule back from its history, at its old position, as a new rule; the history
    records which deletion it undid (``restored_from``), so it is restored once."""
    require_role(actor, *ADMIN_ROLES)
    snap = HISTORY.deletion(session, revision_id=revision_id)
    data = _check_references(
        RuleIn.model_validate({k: v for k, v in snap.items() if k in RuleIn.model_fields}), directory
    )
    position = data.position
    if position is None:
        position = (session.scalar(select(func.max(DispatchRule.position))) or 0) + 10
    rule = DispatchRule(position=position, revision=1)
    _apply(rule, data)
    session.add(rule)
    session.flush()
    _record(session, rule, "restore", actor, restored_from=revision_id)
    session.flush()
    return rule


def restored_deletions(session: Session) -> set[int]:
    """The ids of delete revisions already undone by a restore."""
    return HISTORY.restored(session)
