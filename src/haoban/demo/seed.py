"""Seed the demo city: directory, catalogue, accounts, and orders in every state from real messages.

The orders are built from the public TipDM 2020 messages (masked places mapped onto Hengyang's
districts); citizens' names and phones are invented. Seeding is idempotent: a second run adds nothing.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from haoban.auth.actors import Actor
from haoban.auth.models import User
from haoban.auth.roles import Role
from haoban.auth.service import actor_for, hash_password
from haoban.db import utcnow
from haoban.directory.models import Category, Department
from haoban.directory.service import load_categories_csv, upsert_department, upsert_district
from haoban.dispatch import catalogue
from haoban.dispatch.models import DispatchRule
from haoban.errors import DomainError
from haoban.orders.actions import apply_action
from haoban.orders.intake import create_order, prepare_order, write_prepared
from haoban.orders.models import Order
from haoban.orders.schemas import ActionRequest, OrderCreate
from haoban.runtime import Runtime

# The platform setting the demo city up (recorded in the catalogue's history as "demo-seed").
SEEDER = Actor(id=None, username="demo-seed", name="演示数据 demo seed", role=Role.SYSTEM)
DEMO_PASSWORD = "demo"
STAFF = [
    ("admin", "admin", "管理员 王敏"),
    ("operator", "operator", "话务员 李娜"),
    ("operator2", "operator", "话务员 周洁"),
    ("dispatcher", "dispatcher", "派单员 陈刚"),
    ("supervisor", "supervisor", "督办员 刘洋"),
    ("auditor", "auditor", "审计员 赵静"),
    ("gate", "gate", "检票员 孙丽"),
    ("window", "window", "窗口人员 周敏"),
    ("volunteer", "volunteer", "帮代办员 黄欣"),
]
# TipDM masks the city as A市 and its districts as A1区 … A9市; map them onto Hengyang.
PLACE_MAP = {
    "A1区": "珠晖区",
    "A2区": "雁峰区",
    "A3区": "石鼓区",
    "A4区": "蒸湘区",
    "A5区": "南岳区",
    "A6区": "衡阳县",
    "A7县": "衡南县",
    "A8县": "衡山县",
    "A9市": "耒阳市",
    "A市": "衡阳市",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文辉建国红梅志鹏斌晨晓琳"


def _city() -> dict[str, Any]:
    return yaml.safe_load(resources.files("haoban.demo").joinpath("city.yaml").read_text(encoding="utf-8"))


def seed_directory(rt: Runtime) -> None:
    city = _city()
    with rt.db.write() as session:
        for d in city["districts"]:
            upsert_district(session, actor=SEEDER, **d)
        session.flush()
        for d in city["departments"]:
            upsert_department(session, actor=SEEDER, **d)
        if not session.scalar(select(func.count(Category.id))):
            load_categories_csv(session, rt.settings.data_dir / "tipdm2020" / "categories.csv")
    rt.invalidate()


def seed_rules(rt: Runtime) -> None:
    with rt.db.write() as session:
        if session.scalar(select(func.count(DispatchRule.id))):
            return
        directory = rt.directory
        for index, raw in enumerate(_city()["rules"], start=1):
            rule = catalogue.RuleIn.model_validate({**raw, "position": index * 10})
            catalogue.create_rule(session, data=rule, directory=directory, actor=SEEDER)
    rt.invalidate()


def seed_catalog(rt: Runtime, *, full: bool = True) -> dict[str, Any]:
    """The demo service catalogue (idempotent: a re-run finds every item unchanged). Not ``full``: only
    the items the shipped bundles name and those whose licences other items reuse (for tests)."""
    from haoban.catalog.service import import_rows
    from haoban.demo.catalog import demo_items

    rows = list(enumerate(demo_items(rt.settings.data_dir, full=full), start=1))
    with rt.db.write() as session:
        report = import_rows(session, rows=rows, directory=rt.directory, actor=SEEDER)
    if report.errors:  # the demo's own data must import cleanly
        raise RuntimeError(f"demo catalogue rows refused: {report.errors[:5]}")
    return report.as_dict()


def seed_accounts(rt: Runtime) -> list[tuple[str, str, str | None]]:
    """Demo accounts, all with password 'demo' (demo mode only)."""
    accounts: list[tuple[str, str, str | None]] = []
    # One hash serves every demo account: Argon2 is slow on purpose and these share a password anyway.
    shared_hash = hash_password(DEMO_PASSWORD)
    with rt.db.write() as session:
        existing = set(session.scalars(select(User.username)))
        for username, role, name in STAFF:
            if username not in existing:
                session.add(User(username=username, display_name=name, password_hash=shared_hash, role=role))
            accounts.append((username, role, None))
        for dept in session.scalars(select(Department).order_by(Department.code)):
            username = f"h_{dept.code}"
            if username not in existing:
                session.add(
                    User(
                        username=username,
                        display_name=f"承办人（{dept.name}）",
                        password_hash=shared_hash,
                        role=Role.HANDLER,
                        department_id=dept.id,
                    )
                )
            accounts.append((username, Role.HANDLER, dept.code))
    return accounts


def demo_messages(data_dir: Path, *, limit: int, seed: int = 7) -> list[dict[str, str]]:
    """Real messages about the masked city A市, with places mapped onto Hengyang."""
    path = data_dir / "tipdm2020" / "messages_unlabelled.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if "A" in r["留言主题"] + r["留言详情"]]
    rng = random.Random(seed)
    rng.shuffle(rows)
    out = []
    pattern = re.compile("|".join(sorted(map(re.escape, PLACE_MAP), key=len, reverse=True)))
    for r in rows:
        text = r["留言主题"] + r["留言详情"]
        if re.search(r"(?<![A-Za-z])[B-Z]\d*[市区县]", text):
            continue  # about another (masked) city
        subject = pattern.sub(lambda m: PLACE_MAP[m.group(0)], r["留言主题"]).strip()[:200]
        content = pattern.sub(lambda m: PLACE_MAP[m.group(0)], r["留言详情"]).strip()
        content = re.sub(r"\s+", " ", content)[:3000]
        if len(content) < 10:
            continue
        district = next((v for k, v in PLACE_MAP.items() if k in text and v != "衡阳市"), None)
        out.append({"ref": r["留言编号"], "subject": subject, "content": content, "district": district})
        if len(out) >= limit:
            break
    return out


def _type_of(subject: str) -> str:
    for word, kind in (
        ("投诉", "complaint"),
        ("举报", "report"),
        ("建议", "suggestion"),
        ("咨询", "consult"),
        ("请问", "consult"),
        ("感谢", "praise"),
        ("表扬", "praise"),
    ):
        if word in subject:
            return kind
    return "help"


# Where the demo leaves each order, by share.
TARGETS = [
    ("pending_dispatch", 6),
    ("dispatched", 12),
    ("return_requested", 3),
    ("signed", 22),
    ("replied", 7),
    ("callback", 9),
    ("closed", 26),
    ("archived", 5),
    ("answered", 4),
    ("merged", 3),
    ("reopened", 3),
]


def seed_orders(
    rt: Runtime, *, count: int, seed: int = 7, progress: Callable[[int], None] | None = None
) -> int:
    with rt.db.read() as session:
        already = session.scalar(select(func.count(Order.id)).where(Order.external_ref.like("demo:%"))) or 0
        users = {u.username: actor_for(u) for u in session.scalars(select(User))}
    if already >= count:
        if progress:
            progress(count)
        return already
    rng = random.Random(seed)
    messages = demo_messages(rt.settings.data_dir, limit=count, seed=seed)
    now = utcnow()
    names, weights = zip(*TARGETS, strict=True)
    masters: list[str] = []
    made = 0
    for index, msg in enumerate(messages):
        ref = f"demo:{msg['ref']}"
        received = now - timedelta(days=rng.uniform(0, 21), minutes=rng.uniform(0, 600))
        target = rng.choices(names, weights)[0] if index >= 5 else "signed"
        data = OrderCreate(
            channel=rng.choice(["phone", "phone", "phone", "web", "app", "wechat", "window"]),
            type=_type_of(msg["subject"]),
            urgency="urgent" if rng.random() < 0.04 else "normal",
            subject=msg["subject"],
            content=msg["content"],
            district=msg["district"],
            citizen_name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2]))),
            citizen_phone="1" + rng.choice("3578") + "".join(str(rng.randrange(10)) for _ in range(9)),
            received_at=received,
            external_ref=ref,
        )
        try:
            with rt.db.write() as session:
                created = create_order(session, rt, data=data, actor=users["operator"], now=received)
                if created.created:
                    _walk(
                        session,
                        rt,
                        code=created.code,
                        target=target,
                        start=received,
                        now=now,
                        rng=rng,
                        users=users,
                        masters=masters,
                    )
                    made += 1
        except DomainError:
            pass  # a message the demo cannot walk (e.g. rules transferred it); skip it
        if progress:
            progress(1)
    return already + made


def _walk(
    session: Any,
    rt: Runtime,
    *,
    code: str,
    target: str,
    start: datetime,
    now: datetime,
    rng: random.Random,
    users: dict[str, Actor],
    masters: list[str],
) -> None:
    """Move a fresh order towards ``target`` with plausible actors and times."""
    clock = start

    def step(action: str, actor: Actor, **fields: Any) -> str:
        nonlocal clock
        clock = min(clock + timedelta(hours=rng.uniform(0.2, 20)), now)
        order = apply_action(
            session, rt, code=code, action=action, data=ActionRequest(**fields), actor=actor, now=clock
        )
        return order.status

    status = session.scalar(select(Order.status).where(Order.code == code))
    if status in ("transferred", "answered"):
        return
    if target == "answered" and status in ("registered", "pending_dispatch"):
        step("answer", users["operator"], answer="已根据知识库即时答复：相关政策及办理渠道已告知来电人。")
        return
    if target == "merged" and masters and status in ("registered", "pending_dispatch", "dispatched"):
        master = rng.choice(masters[-20:])
        try:
            with session.begin_nested():
                step("merge", users["operator"], master=master)
            return
        except DomainError:
            pass
    if target == "pending_dispatch":
        if status != "pending_dispatch":
            return
        return
    if status == "pending_dispatch":
        district = session.scalar(select(Order).where(Order.code == code)).district
        dept = f"gov_{_district_code(rt, district.name)}" if district else "zjj"
        status = step("dispatch", users["dispatcher"], department=dept)
    order = session.scalar(select(Order).where(Order.code == code))
    handler = users.get(f"h_{order.lead_department.code}") if order.lead_department else None
    if handler is None or target == "dispatched":
        if target == "dispatched":
            masters.append(code)
        return
    if target == "return_requested":
        step("return", handler, reason="该事项不属于本单位职责范围，建议改派属地政府处理。")
        return
    step("sign", handler)
    if target == "signed":
        masters.append(code)
        if rng.random() < 0.3:
            step("supervise", users["supervisor"], note="请加快办理进度，按期答复市民。")
        return
    step("reply", handler, reply=_reply_text(rng))
    if target == "replied":
        return
    step("review_reply", users["dispatcher"], decision="approve")
    if target == "callback":
        return
    if target == "reopened":
        step("callback", users["operator"], result="unsatisfied", comment="问题仍未解决。")
        step("reopen", users["supervisor"], reason="市民不满意，退回重办。")
        return
    step("callback", users["operator"], result=rng.choice(["satisfied", "satisfied", "basically_satisfied"]))
    if target == "archived":
        step("archive", users["supervisor"])


def _district_code(rt: Runtime, name: str) -> str:
    ref = rt.directory.district(name)
    return ref.code if ref else "zhuhui"


def _reply_text(rng: random.Random) -> str:
    return rng.choice(
        [
            "您好！您反映的问题已收悉。经核查，情况基本属实，我单位已责成相关责任单位于三个工作日内整改完毕，"
            "并安排专人跟踪落实。如有疑问，请联系经办人，电话0734-8123456。感谢您的监督！",
            "网友您好！收到留言后，我局立即组织人员现场调查。目前已约谈相关企业，要求其限期整改，"
            "整改完成后将组织复查。联系电话：0734-8234567。",
            "您好，您反映的问题我们已转交属地街道办事处处理，街道已于本周内上门核实并答复，如仍有问题请再次来电。",
        ]
    )


QUEUE_SIZE = 6


def seed_queue(rt: Runtime, *, wanted: int = QUEUE_SIZE, seed: int = 11) -> int:
    """Today's dispatch queue: recent calls the router could not place with confidence wait for a
    dispatcher with its suggestions, and the first of them was reported twice (a duplicate to merge).

    Which calls wait is the router's own decision on real messages, not a forced state."""
    with rt.db.read() as session:
        waiting = (
            session.scalar(select(func.count(Order.id)).where(Order.external_ref.like("demo-queue:%"))) or 0
        )
        used = set(session.scalars(select(Order.external_ref).where(Order.external_ref.like("demo:%"))))
        operator = actor_for(session.scalars(select(User).where(User.username == "operator")).one())
    if waiting:
        return waiting
    rng = random.Random(seed)
    now = utcnow()
    made: list[tuple[dict[str, str], datetime]] = []
    for msg in demo_messages(rt.settings.data_dir, limit=len(used) + 2000, seed=seed):
        if len(made) >= wanted:
            break
        if f"demo:{msg['ref']}" in used:
            continue
        received = now - timedelta(hours=rng.uniform(0.5, 6))
        data = _queue_call(msg, rng, received=received, ref=f"demo-queue:{msg['ref']}")
        prepared = prepare_order(rt, data=data, actor=operator, now=received)
        if prepared.row["status"] != "pending_dispatch":
            continue
        with rt.db.write() as session:
            write_prepared(session, [prepared])
        made.append((msg, received))
    if made:
        # A second caller about the first waiting matter, an hour later, in nearly the same words.
        msg, received = made[0]
        again = dict(msg, content=msg["content"].rstrip("。！!") + "，希望尽快处理。")
        at = min(received + timedelta(hours=1), now)
        data = _queue_call(again, rng, received=at, ref=f"demo-queue:{msg['ref']}:again")
        with rt.db.write() as session:
            write_prepared(session, [prepare_order(rt, data=data, actor=operator, now=at)])
    return len(made) + (1 if made else 0)


def _queue_call(msg: dict[str, str], rng: random.Random, *, received: datetime, ref: str) -> OrderCreate:
    return OrderCreate(
        channel="phone",
        type=_type_of(msg["subject"]),
        subject=msg["subject"],
        content=msg["content"],
        district=msg["district"],
        citizen_name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2]))),
        citizen_phone="1" + rng.choice("3578") + "".join(str(rng.randrange(10)) for _ in range(9)),
        received_at=received,
        external_ref=ref,
    )


def seed_demo(
    rt: Runtime, *, orders: int = 300, progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    seed_directory(rt)
    seed_rules(rt)
    accounts = seed_accounts(rt)
    seed_catalog(rt)
    from haoban.applications.registry import install_shipped

    with rt.db.write() as session:  # the “一件事” bundles people apply for on /portal/apply
        install_shipped(session, rt, actor=SEEDER)
    from haoban.knowledge.service import seed_knowledge

    seed_knowledge(rt)
    from haoban.tourism.tickets import seed_demo_places

    seed_demo_places(rt, actor=SEEDER)
    from haoban.benefits.demo import seed_demo_city

    with rt.db.write() as session:
        today = datetime.now(rt.settings.tz).date()
        benefits = seed_demo_city(session, actor=SEEDER, today=today)
    from haoban.feedback.demo import seed_demo_ratings

    with rt.db.write() as session:
        seed_demo_ratings(session, rt, today=today)
    total = seed_orders(rt, count=orders, progress=progress)
    total += seed_queue(rt)
    return {"accounts": accounts, "orders": total, "benefits": benefits}
