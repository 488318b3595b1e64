"""Random sequences of actions by random roles never leave the state table; deadlines never move back;
the case file always verifies; a refused action changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from haoban.auth.actors import Actor
from haoban.db import utcnow
from haoban.errors import DomainError
from haoban.orders import workflow
from haoban.orders.actions import apply_action
from haoban.orders.casefile import verify_chain
from haoban.orders.events import stored_record
from haoban.orders.intake import create_order
from haoban.orders.models import Order, OrderEvent
from haoban.orders.schemas import ActionRequest, OrderCreate

TEXTS = [
    "小区路灯坏了三天，晚上很黑",  # → cgj by keyword
    "路边井盖丢了，很危险",  # → cgj
    "公积金提取需要什么材料",  # → gjj
    "公积金贷款额度",  # → gjj
    "请问这个怎么办理呀",  # → human queue
    "请问这个怎么办理",  # → human queue
    "楼下着火了",  # → transfer 119
    "对法院判决不服",  # → answered with guidance
]
ACTIONS = [a for a in workflow.ACTIONS if a != "follow_master"]
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "reason": st.sampled_from(["原因", ""]),
        "note": st.just("请加快"),
        "answer": st.just("已答复"),
        "reply": st.just("已处理完毕"),
        "decision": st.sampled_from(["uphold", "reject", "approve", "refuse", "maybe"]),
        "result": st.sampled_from(["satisfied", "basically_satisfied", "unsatisfied", "meh"]),
        "target": st.sampled_from(["110", "119", "999"]),
        "department": st.sampled_from(["cgj", "gjj", "zjj", "nope"]),
        "days": st.integers(1, 5),
        "master": st.sampled_from(["self", "other", "HB00000000000000"]),
    },
)
SUCCESSES: set[tuple[str, str]] = set()
ERRORS: list = []
ROLES = ["operator", "dispatcher", "supervisor", "admin", "auditor", "lead_handler", "other_handler"]


def make_machine(rt: Any) -> type[RuleBasedStateMachine]:
    users = {}
    with rt.db.read() as s:
        from haoban.auth.models import User
        from haoban.auth.service import actor_for

        for u in s.scalars(select(User)):
            users[u.username] = actor_for(u)

    class OrderMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.now = utcnow()
            self.codes: list[str] = []
            self.deadlines: dict[str, Any] = {}

        def _actor(self, role: str, order: Order) -> Actor:
            if role == "lead_handler":
                dept = order.lead_department.code if order.lead_department else "cgj"
                return users[f"h_{dept}"]
            if role == "other_handler":
                return users["h_tax"]
            return users[role]

        @rule(text=st.sampled_from(TEXTS), urgent=st.booleans())
        def create(self, text: str, urgent: bool) -> None:
            self.now += timedelta(minutes=7)
            data = OrderCreate(
                content=text,
                type="complaint",
                urgency="urgent" if urgent else "normal",
                citizen_phone="13812345678",
            )
            with rt.db.write() as s:
                created = create_order(s, rt, data=data, actor=users["operator"], now=self.now)
            self.codes.append(created.code)

        @rule(
            index=st.integers(0, 50),
            action=st.sampled_from(ACTIONS),
            role=st.sampled_from(ROLES),
            fields=FIELDS,
            minutes=st.integers(0, 60 * 24 * 5),
            well_formed=st.integers(0, 3).map(bool),
            pick=st.randoms(),
        )
        def act(
            self,
            index: int,
            action: str,
            role: str,
            fields: dict[str, Any],
            minutes: int,
            well_formed: bool,
            pick: Any,
        ) -> None:
            if not self.codes:
                return
            code = self.codes[index % len(self.codes)]
            if well_formed:
                # An attempt a real user might make: an action the state offers, by a permitted role,
                # with every field filled in (guards may still refuse it).
                with rt.db.read() as s:
                    status = workflow.Status(s.scalar(select(Order.status).where(Order.code == code)))
                action = pick.choice(workflow.actions_from(status) or [action])
                t = workflow.BY_ACTION[action]
                roles = sorted({"lead_handler" if r == "handler" else r for r in t.roles} - {"system"})
                role = pick.choice(roles)
                fields = {
                    "reason": "原因",
                    "note": "请加快",
                    "answer": "已答复",
                    "reply": "已处理完毕",
                    "target": "110",
                    "days": 2,
                    "master": "other",
                    "department": pick.choice(["cgj", "gjj", "zjj"]),
                }
                if t.decision_field:
                    fields[t.decision_field] = pick.choice(t.decisions)
            self.now += timedelta(minutes=minutes)
            if fields.get("master") == "self":
                fields["master"] = code
            elif fields.get("master") == "other":
                fields["master"] = self.codes[(index + 1) % len(self.codes)]
            with rt.db.read() as s:
                before = s.scalar(select(Order).where(Order.code == code))
                version, events = before.version, before.event_count
                actor = self._actor(role, before)
            try:
                with rt.db.write() as s:
                    apply_action(
                        s,
                        rt,
                        code=code,
                        action=action,
                        data=ActionRequest(**fields),
                        actor=actor,
                        now=self.now,
                    )
                SUCCESSES.add((action, before.status))
            except DomainError as exc:
                if well_formed:
                    ERRORS.append((action, role, before.status, exc.message))
                with rt.db.read() as s:
                    after = s.scalar(select(Order).where(Order.code == code))
                    assert (after.version, after.event_count) == (version, events), "refused action wrote"

        @invariant()
        def orders_are_consistent(self) -> None:
            with rt.db.read() as s:
                for code in self.codes:
                    order = s.scalar(select(Order).where(Order.code == code))
                    status = workflow.Status(order.status)
                    assert status in workflow.reachable_statuses()
                    events = s.scalars(
                        select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.seq)
                    ).all()
                    for e in events:
                        if e.action == "absorb":
                            continue
                        t = workflow.BY_ACTION[e.action]
                        source = workflow.Status(e.from_status) if e.from_status else None
                        assert source in t.sources, (e.action, e.from_status)
                        if t.stays:
                            assert e.to_status == e.from_status
                        else:
                            assert e.to_status in {v.value for v in t.targets.values()}
                    assert events[-1].to_status == order.status or events[-1].action == "absorb"
                    assert (
                        verify_chain(
                            code,
                            ((stored_record(code, e), e.prev_hash, e.hash) for e in events),
                            head_hash=order.last_hash,
                        )
                        is None
                    )
                    previous = self.deadlines.get(code)
                    if previous is not None:
                        assert order.handle_deadline >= previous, "handle deadline moved backwards"
                    self.deadlines[code] = order.handle_deadline

    return OrderMachine


@pytest.mark.parametrize("seed", [0])
def test_random_action_sequences_respect_the_table(rt: Any, seed: int) -> None:
    machine = make_machine(rt)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=20,
            stateful_step_count=40,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    # The run must have exercised the table, not only refusals.
    assert len(SUCCESSES) >= 12, "\n".join(map(str, sorted(set(ERRORS))))
