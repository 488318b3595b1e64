"""Reply templates (答复模板) per category (issue 13): stored in the database, seeded from the YAML file,
administered with history and restore (the dispatch catalogue's mechanism), offered for an order's
category with its placeholders filled. Service, API and permissions."""

from __future__ import annotations

from typing import Any

import pytest

from haoban.auth.actors import Actor
from haoban.errors import Conflict, Forbidden, Invalid, NotFound
from haoban.orders import reply_templates as templates
from haoban.orders.reply_templates import ReplyTemplateIn
from tests.builders import actors
from tests.conftest import Api

ROAD = "城乡建设/城市建设和市政管理"  # a second-level category under 城乡建设


def _admin(rt: Any) -> Actor:
    return actors(rt)["admin"]


def test_the_migration_seeds_the_yaml_templates(rt: Any) -> None:
    with rt.db.read() as session:
        rows = templates.list_templates(session, actor=_admin(rt))
        history = templates.template_history(session, actor=_admin(rt))
    titles = {(t.category, t.title) for t in rows}
    assert (None, "已核实办结") in titles and ("城乡建设", "现场修复") in titles
    assert len(rows) >= 10 and rows[0].category is None  # the general ones first
    assert {h.change for h in history} == {"create"} and len(history) == len(rows)


def test_only_known_placeholders_and_categories(rt: Any) -> None:
    with pytest.raises(ValueError, match=r"unknown placeholder \{name\}"):
        ReplyTemplateIn(title="x", body="您好 {name}")
    with pytest.raises(ValueError):
        ReplyTemplateIn(title=" ", body="x")
    with rt.db.write() as session, pytest.raises(Invalid) as exc:
        templates.create_template(
            session,
            data=ReplyTemplateIn(title="x", body="y", category="没有这个"),
            directory=rt.directory,
            actor=_admin(rt),
        )
    assert "category" in exc.value.detail["fields"]


def test_create_update_delete_restore_keeps_history(rt: Any) -> None:
    admin = _admin(rt)
    code = rt.directory.category(ROAD).code
    with rt.db.write() as session:  # a category by code is kept by path
        t = templates.create_template(
            session,
            data=ReplyTemplateIn(title="路灯", body="{department}已修复。", category=code),
            directory=rt.directory,
            actor=admin,
        )
        tid = t.id
        assert t.category == ROAD
    with rt.db.write() as session:
        t = templates.update_template(
            session,
            template_id=tid,
            data=ReplyTemplateIn(title="路灯维修", body="{department}已于{date}修复。", category=ROAD),
            directory=rt.directory,
            actor=admin,
        )
        assert t.revision == 2
        templates.delete_template(session, template_id=tid, actor=admin)
    with rt.db.read() as session:
        changes = [h.change for h in templates.template_history(session, actor=admin, template_id=tid)]
        deleted = templates.deleted_templates(session, actor=admin, live=set())
    assert changes == ["create", "update", "delete"]
    rev, snap = deleted[0]
    assert snap["title"] == "路灯维修"
    with rt.db.write() as session:
        back = templates.restore_template(session, revision_id=rev.id, directory=rt.directory, actor=admin)
        assert (back.title, back.category) == ("路灯维修", ROAD)
    with rt.db.write() as session, pytest.raises(Conflict):  # once only
        templates.restore_template(session, revision_id=rev.id, directory=rt.directory, actor=admin)
    with rt.db.write() as session, pytest.raises(NotFound):  # a create revision is not a deletion
        templates.restore_template(
            session,
            revision_id=templates.template_history(session, actor=admin, template_id=tid)[0].id,
            directory=rt.directory,
            actor=admin,
        )
    with rt.db.read() as session:
        assert templates.deleted_templates(session, actor=admin, live=set()) == []


def test_only_admins_change_templates(rt: Any) -> None:
    people = actors(rt)
    data = ReplyTemplateIn(title="x", body="y")
    for who in ("operator", "dispatcher", "supervisor", "h_cgj"):
        with rt.db.write() as session, pytest.raises(Forbidden):
            templates.create_template(session, data=data, directory=rt.directory, actor=people[who])
        with rt.db.write() as session, pytest.raises(Forbidden):
            templates.delete_template(session, template_id=1, actor=people[who])


def test_applies_to_the_category_and_its_children() -> None:
    assert templates.applies_to(None, None) and templates.applies_to(None, "交通运输")
    assert templates.applies_to("城乡建设", "城乡建设") and templates.applies_to("城乡建设", ROAD)
    assert not templates.applies_to("城乡建设", "城乡建设二") and not templates.applies_to("城乡建设", None)
    assert not templates.applies_to(ROAD, "城乡建设")
    values = {"department": "城管局", "code": "HB1"}
    assert templates.fill("{department}：{code}，{x}", values) == "城管局：HB1，{x}"


def _signed(api: Api, category: str | None) -> str:
    fields = {"department": "cgj", **({"category": category} if category else {})}
    code = api.create(**fields)["code"]
    api.act(code, "sign", as_="h_cgj")
    return str(code)


def test_api_crud_history_restore_and_permissions(api: Api) -> None:
    base = "/api/v1/admin/reply-templates"
    r = api.post(
        base, as_="admin", json={"title": "路灯", "body": "{department}已修复{code}。", "category": ROAD}
    )
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    assert r.json()["category"] == ROAD
    r = api.post(base, as_="admin", json={"title": "x", "body": "{foo}"})
    assert r.status_code == 422 and "body" in r.json()["fields"] and "{foo}" in r.json()["fields"]["body"]
    r = api.post(base, as_="admin", json={"title": "x", "body": "y", "category": "没有这个"})
    assert r.status_code == 422 and "category" in r.json()["fields"]
    r = api.put(
        f"{base}/{tid}", as_="admin", json={"title": "路灯维修", "body": "已修复。", "category": ROAD}
    )
    assert r.status_code == 200 and r.json()["revision"] == 2
    assert api.get(f"{base}/{tid}", as_="supervisor").json()["title"] == "路灯维修"  # read: config readers
    for who in ("operator", "supervisor", "h_cgj"):
        assert api.post(base, as_=who, json={"title": "x", "body": "y"}).status_code == 403
        assert api.put(f"{base}/{tid}", as_=who, json={"title": "x", "body": "y"}).status_code == 403
        r = api.client.delete(f"{base}/{tid}", headers=api.headers(who))
        assert r.status_code == 403
    assert api.get(base, as_="h_cgj").status_code == 403
    assert api.client.delete(f"{base}/{tid}", headers=api.headers("admin")).status_code == 204
    assert api.get(f"{base}/{tid}", as_="admin").status_code == 404
    history = api.get(f"{base}/history", as_="admin", params={"template_id": tid}).json()
    assert [h["change"] for h in history] == ["create", "update", "delete"]
    deletion = history[-1]["id"]
    assert api.post(f"{base}/history/{deletion}/restore", as_="h_cgj").status_code == 403
    r = api.post(f"{base}/history/{deletion}/restore", as_="admin")
    assert r.status_code == 201 and r.json()["title"] == "路灯维修"
    r = api.post(f"{base}/history/{deletion}/restore", as_="admin")
    assert r.status_code == 409 and "already restored" in r.json()["message"]


def test_an_orders_templates_follow_its_category_with_values_filled(api: Api) -> None:
    base = "/api/v1/admin/reply-templates"
    api.post(
        base,
        as_="admin",
        json={"title": "路灯专用", "body": "工单{code}：{department}，{category}", "category": ROAD},
    )
    api.post(base, as_="admin", json={"title": "交通专用", "body": "交通", "category": "交通运输"})
    road = _signed(api, ROAD)
    got = api.get(f"/api/v1/orders/{road}/reply-templates", as_="h_cgj").json()
    titles = [t["title"] for t in got]
    assert titles[0] == "路灯专用"  # the most specific first
    assert "现场修复" in titles and "已核实办结" in titles and "交通专用" not in titles
    assert titles.index("现场修复") < titles.index("已核实办结")  # then the parent's, then the general ones
    assert got[0]["text"] == f"工单{road}：市城市管理和综合执法局，城市建设和市政管理"
    assert all("{" not in t["text"] for t in got)
    plain = _signed(api, None)  # no category: only the general ones
    got = {t["title"] for t in api.get(f"/api/v1/orders/{plain}/reply-templates", as_="h_cgj").json()}
    assert "已核实办结" in got and "现场修复" not in got and "路灯专用" not in got
    # another department's handler cannot see the order, nor its templates
    assert api.get(f"/api/v1/orders/{road}/reply-templates", as_="h_jtj").status_code == 404
