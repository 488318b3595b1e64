"""The matching job (免申即享): who qualifies for each policy this period, pushed without an application.

For each policy in force and its current period (a month, a year, or ``once``):

1. **Find the eligible.** One SQL query per policy: the DMN table compiled to a ``CASE`` over the facts
   (``policy.PolicyTable.row_case``) picks, for every subject, the row that holds. A *full* match scans
   every subject; an *incremental* one only the subjects whose data changed since the last run of this
   policy and period (``seq`` above the run's watermark); a *subject* match one or a few subjects (a
   birth just registered).
2. **Push new grants.** An eligible subject without a grant for this policy and period gets one: the
   rule row, the facts that made it eligible, the amount in fen. The database's unique constraint on
   (policy, subject, period) makes a second grant impossible whatever runs twice. Each grant's case file
   starts with the ``push`` event, and an SMS goes to the outbox.
3. **Review what changed.** A grant whose subject's data changed since it was last checked is evaluated
   again on the new data at the grant's own reference date. If the outcome differs (no longer eligible,
   another row, another amount) the grant is *flagged* for review — its amount, status and payment are
   never changed by the job — and the reason is written into its case file.

The facts are taken at the period's reference date (the first day of the month or year; the day of the
match for ``once``), so within a period only data changes can change an outcome.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from haoban.auth.actors import SYSTEM_ACTOR, Actor
from haoban.benefits import gate
from haoban.benefits.facts import subject_query
from haoban.benefits.models import BenefitImport, Grant, GrantEvent, MatchRun
from haoban.benefits.policy import PolicyTable
from haoban.benefits.store import Loaded, in_force
from haoban.benefits.workflow import GrantStatus
from haoban.db import utcnow
from haoban.notifications.models import OutboxMessage

CHUNK = 5000
FULL, INCREMENTAL, SUBJECT = "full", "incremental", "subject"
Progress = Callable[[str, int, int], None]  # (policy code, done, total)


@dataclass
class RunReport:
    policy: str
    version: int
    period: str
    mode: str
    evaluated: int
    eligible: int
    granted: int
    flagged: int
    seconds: float


def period_of(unit: str, day: date) -> tuple[str, date]:
    """The period key and its reference date for a policy's period unit on ``day``."""
    if unit == "month":
        return f"{day.year}-{day.month:02d}", date(day.year, day.month, 1)
    if unit == "year":
        return str(day.year), date(day.year, 1, 1)
    return "once", day


def yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, date | datetime):
        return v.isoformat()
    return v


def match(
    session: Session,
    *,
    today: date,
    full: bool = False,
    actor: Actor = SYSTEM_ACTOR,
    codes: list[str] | None = None,
    subjects: dict[str, list[int]] | None = None,
    progress: Progress | None = None,
) -> list[RunReport]:
    """Run every policy in force (or ``codes``); ``subjects`` limits the run to those subject ids."""
    if session.get_bind().dialect.name == "postgresql":
        # One matching job at a time: two would race for the same new grants.
        session.execute(text("SELECT pg_advisory_xact_lock(7140514)"))
    reports = []
    for loaded in in_force(session, codes):
        ids = None
        if subjects is not None:
            ids = subjects.get(loaded.table.subject_kind)
            if not ids:
                continue
        reports.append(
            _match_policy(session, loaded, today=today, full=full, actor=actor, ids=ids, progress=progress)
        )
    return reports


def _match_policy(
    session: Session,
    loaded: Loaded,
    *,
    today: date,
    full: bool,
    actor: Actor,
    ids: list[int] | None,
    progress: Progress | None,
) -> RunReport:
    started = time.perf_counter()
    started_at = utcnow()
    table, row = loaded.table, loaded.row
    period, ref = period_of(table.period_unit, today)
    dialect = session.get_bind().dialect.name
    seq_to = session.scalar(select(func.max(BenefitImport.id))) or 0
    last = session.scalar(
        select(MatchRun)
        .where(
            MatchRun.policy_code == table.code,
            MatchRun.period == period,
            MatchRun.policy_version == row.version,
            MatchRun.mode.in_((FULL, INCREMENTAL)),
        )
        .order_by(MatchRun.id.desc())
        .limit(1)
    )
    if ids is not None:
        mode, since = SUBJECT, None
    elif full or last is None:
        mode, since = FULL, None
    else:
        mode, since = INCREMENTAL, last.seq_to

    q = subject_query(table.subject_kind, ref=ref, dialect=dialect)
    used = table.used_facts()
    row_expr = table.row_case(q.facts)
    if since is not None:
        # Only what changed: the subject ids first (the seq index), then the facts of those alone, so
        # neither database is tempted to join the whole register.
        ids = list(session.scalars(select(q.id_col).where(q.seq_col > since)))
    evaluated = (
        len(ids) if ids is not None else session.scalar(select(func.count()).select_from(q.table)) or 0
    )
    if progress:
        progress(table.code, 0, evaluated)
    stmt = (
        select(
            q.id_col.label("sid"),
            q.seq_col.label("sseq"),
            row_expr.label("row"),
            q.contact.label("contact"),  # type: ignore[union-attr]
            *[q.facts[n].label(n) for n in used],
        )
        .select_from(q.select_from(used))
        .where(row_expr.is_not(None))
    )
    if ids is None:
        eligible = list(session.execute(stmt).all())
    else:
        eligible = []
        for i in range(0, len(ids), CHUNK):
            eligible += session.execute(stmt.where(q.id_col.in_(ids[i : i + CHUNK]))).all()
    held = _held(session, table, period=period, among=None if mode == FULL else [e.sid for e in eligible])
    fresh = [e for e in eligible if e.sid not in held]
    # Grants are pushed by the system whoever started the run (an admin's "match now" included: the
    # push move is the system's alone); the run's record names who started it.
    granted = _push(
        session, loaded, fresh, used=used, period=period, ref=ref, actor=SYSTEM_ACTOR, progress=progress
    )
    flagged = _review(
        session, table, period=period, dialect=dialect, ids=ids if mode == SUBJECT else None, since=since
    )
    session.add(
        MatchRun(
            policy_code=table.code,
            policy_version=row.version,
            period=period,
            mode=mode,
            seq_from=since or 0,
            seq_to=seq_to,
            evaluated=evaluated,
            granted=granted,
            flagged=flagged,
            actor_name=actor.name,
            started_at=started_at,
            finished_at=utcnow(),
        )
    )
    if progress:
        progress(table.code, evaluated, evaluated)
    return RunReport(
        policy=table.code,
        version=row.version,
        period=period,
        mode=mode,
        evaluated=evaluated,
        eligible=len(eligible),
        granted=granted,
        flagged=flagged,
        seconds=round(time.perf_counter() - started, 3),
    )


def _held(session: Session, table: PolicyTable, *, period: str, among: list[int] | None) -> set[int]:
    """The subjects already holding a grant of this policy and period (all, or ``among`` these)."""
    stmt = select(Grant.subject_id).where(
        Grant.policy_code == table.code, Grant.period == period, Grant.subject_kind == table.subject_kind
    )
    if among is None:
        return set(session.scalars(stmt))
    held: set[int] = set()
    for i in range(0, len(among), CHUNK):
        held.update(session.scalars(stmt.where(Grant.subject_id.in_(among[i : i + CHUNK]))))
    return held


def _push(
    session: Session,
    loaded: Loaded,
    fresh: list[Any],
    *,
    used: list[str],
    period: str,
    ref: date,
    actor: Actor,
    progress: Progress | None,
) -> int:
    if not fresh:
        return 0
    table, prow = loaded.table, loaded.row
    now = utcnow()
    next_id = (session.scalar(select(func.max(Grant.id))) or 0) + 1
    done = 0
    for i in range(0, len(fresh), CHUNK):
        grants, payloads, messages = [], [], []
        for e in fresh[i : i + CHUNK]:
            facts = {n: _plain(getattr(e, n)) for n in used}
            rule = table.rule(e.row)
            amount = rule.amount(facts)
            code = f"MS{next_id:08d}"
            grants.append(
                {
                    "id": next_id,
                    "code": code,
                    "policy_code": table.code,
                    "policy_version": prow.version,
                    "subject_kind": table.subject_kind,
                    "subject_id": e.sid,
                    "period": period,
                    "ref_date": ref,
                    "rule_row": rule.row,
                    "rule_label": rule.label[:200],
                    "amount_fen": amount,
                    "facts": json.dumps(facts, ensure_ascii=False, sort_keys=True),
                    "subject_seq": e.sseq,
                    "checked_seq": e.sseq,
                    "review_reason": None,
                    "account": None,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
            payloads.append(
                {
                    "policy": table.code,
                    "policy_version": prow.version,
                    "period": period,
                    "row": rule.row,
                    "amount_fen": amount,
                    "facts": facts,
                }
            )
            if e.contact:
                messages.append(
                    {
                        "channel": "sms",
                        "recipient": e.contact,
                        "subject": table.name,
                        "body": (
                            f"【好办】您符合{table.name}条件（{period}，{yuan(amount)}元），无需申请。"
                            f"请凭通知码{code}和手机号后四位在市民服务“免申即享”页确认。"
                        ),
                        "dedupe_key": f"benefit:{code}",
                        "status": "pending",
                        "attempts": 0,
                        "created_at": now,
                    }
                )
            next_id += 1
        event_rows = gate.pushed_rows(grants, actor=actor, at=now, payloads=payloads)
        session.execute(insert(Grant), grants)
        session.execute(insert(GrantEvent), event_rows)
        if messages:
            session.execute(insert(OutboxMessage), messages)
        done += len(grants)
        if progress:
            progress(table.code, done, len(fresh))
    return done


def _review(
    session: Session,
    table: PolicyTable,
    *,
    period: str,
    dialect: str,
    ids: list[int] | None,
    since: int | None,
) -> int:
    """Flag the grants of this period whose subject's corrected data no longer gives the same outcome.

    An incremental run looks only at subjects changed since the last run (``since``): every earlier
    change was checked by that run or one before it, so the subject's ``seq`` index narrows the search.
    """
    q0 = subject_query(table.subject_kind, ref=date.today(), dialect=dialect)
    stmt = (
        select(
            Grant.id,
            Grant.subject_id,
            Grant.ref_date,
            Grant.rule_row,
            Grant.amount_fen,
            q0.seq_col.label("sseq"),
        )
        .join(q0.table, q0.id_col == Grant.subject_id)
        .where(
            Grant.policy_code == table.code,
            Grant.period == period,
            Grant.subject_kind == table.subject_kind,
            q0.seq_col > Grant.checked_seq,
            # Declined or withdrawn grants pay nothing: a correction there needs no review.
            Grant.status.in_((GrantStatus.PUSHED.value, GrantStatus.CONFIRMED.value, GrantStatus.PAID.value)),
        )
    )
    if ids is not None:
        stmt = stmt.where(Grant.subject_id.in_(ids))
    if since is not None:
        stmt = stmt.where(q0.seq_col > since)
    candidates = session.execute(stmt).all()
    if not candidates:
        return 0
    flagged = 0
    by_ref: dict[date, list[Any]] = {}
    for c in candidates:
        by_ref.setdefault(c.ref_date, []).append(c)
    used = table.used_facts()
    now = utcnow()
    for ref, group in by_ref.items():
        q = subject_query(table.subject_kind, ref=ref, dialect=dialect)
        row_expr = table.row_case(q.facts)
        for i in range(0, len(group), CHUNK):
            part = group[i : i + CHUNK]
            current = {
                r.sid: r
                for r in session.execute(
                    select(q.id_col.label("sid"), row_expr.label("row"), *[q.facts[n].label(n) for n in used])
                    .select_from(q.select_from(used))
                    .where(q.id_col.in_([c.subject_id for c in part]))
                )
            }
            outcome: dict[int, tuple[Any, dict[str, Any], int | None, int | None]] = {}
            for c in part:
                now_row = current.get(c.subject_id)
                facts = {n: _plain(getattr(now_row, n)) for n in used} if now_row is not None else {}
                row = now_row.row if now_row is not None else None
                amount = table.rule(row).amount(facts) if row is not None else None
                if row != c.rule_row or amount != c.amount_fen:
                    outcome[c.id] = (now_row, facts, row, amount)
            # The grants to flag, loaded together rather than one query each.
            to_flag = {g.id: g for g in session.scalars(select(Grant).where(Grant.id.in_(list(outcome))))}
            for c in part:
                if c.id not in outcome:
                    continue
                _now_row, facts, row, amount = outcome[c.id]
                grant = to_flag[c.id]
                shown = ", ".join(f"{k}={v}" for k, v in facts.items())
                if row is None:
                    reason = f"数据更正后不再符合条件 / no longer eligible after a data correction: {shown}"
                else:
                    reason = (
                        f"数据更正后应按第{row}行发放{yuan(amount or 0)}元 / "
                        f"after a data correction row {row} applies, {amount} fen: {shown}"
                    )
                gate.transition(
                    session,
                    grant,
                    action="flag",
                    actor=SYSTEM_ACTOR,
                    at=now,
                    payload={
                        "was": {"row": c.rule_row, "amount_fen": c.amount_fen},
                        "now": {"row": row, "amount_fen": amount, "facts": facts},
                        "data_seq": c.sseq,
                    },
                    effect=lambda g, reason=reason: setattr(g, "review_reason", reason),
                )
                flagged += 1
    # Every candidate has now been checked against its current data.
    session.flush()
    t = Grant.__table__
    session.execute(
        update(t).where(t.c.id == bindparam("gid")).values(checked_seq=bindparam("cs")),
        [{"gid": c.id, "cs": c.sseq} for c in candidates],
    )
    return flagged
