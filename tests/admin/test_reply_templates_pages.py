"""The admin page's reply templates (答复模板) tab (issue 13): names not codes, create and edit per
category, errors in the page's language, delete asks first and keeps a history to restore from; only
administrators change them, and only with the CSRF token."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Api
from tests.web.language import untranslated
from tests.web.test_language import ECHOED
from tests.web.test_pages_access import login

ROAD = "城乡建设/城市建设和市政管理"


def _row(page: str, title: str) -> str:
    found = re.search(r'<tr data-template="(\d+)">.*?</tr>', page[page.index(title) - 400 :], re.S)
    assert found, title
    return found.group(0)


def _id(page: str, title: str) -> str:
    row = r'<tr data-template="(\d+)"><td class="small">[^<]*</td><td translate="no">'
    found = re.search(row + title, page)
    assert found, title
    return found.group(1)


def test_the_tab_lists_templates_by_category_name(client: Any) -> None:
    login(client, "admin")
    page = client.get("/admin?tab=templates").text
    assert 'href="/admin?tab=templates" aria-current="page"' in page
    start = page.index('id="templates-table"')
    table = page[start : page.index("</table>", start)]
    assert "全部分类" in table and "城乡建设" in table and "已核实办结" in table
    assert not re.search(r">C\d-\d{4}<", table)  # no category codes
    assert '<option value="城乡建设">城乡建设</option>' in page  # the category picker by name
    assert "{department}" in page and "承办单位" in page  # the placeholders explained
    en = client.get("/admin?tab=templates&lang=en").text
    assert "All categories" in en and "Reply templates" in en
    assert not untranslated(en, "en", allow=ECHOED)
    assert not untranslated(page, "zh", allow=ECHOED)


def test_create_edit_delete_and_restore(client: Any) -> None:
    login(client, "admin")
    r = client.post(
        "/admin/templates",
        data={"title": "路灯已修复", "category": ROAD, "body": "您好！{department}已修复路灯（{code}）。"},
        follow_redirects=True,
    )
    assert r.status_code == 200 and 'id="saved"' in r.text
    assert "城市建设和市政管理" in _row(r.text, "路灯已修复")
    tid = _id(r.text, "路灯已修复")
    # edit: the form starts with the template's values, and saving changes it (not a second one)
    page = client.get(f"/admin?tab=templates&edit={tid}").text
    assert f'name="id" value="{tid}"' in page and "您好！{department}已修复路灯" in page
    assert f'<option value="{ROAD}" selected>' in page
    r = client.post(
        "/admin/templates",
        data={"id": tid, "title": "路灯维修完毕", "category": ROAD, "body": "{department}已于{date}修复。"},
        follow_redirects=True,
    )
    assert "路灯维修完毕" in r.text and r.text.count(f'data-template="{tid}"') == 1
    assert "路灯已修复" not in r.text
    # delete is a link to a confirmation first
    assert f"confirm_delete={tid}" in r.text
    confirm = client.get(f"/admin?tab=templates&confirm_delete={tid}").text
    assert 'id="confirm-delete"' in confirm and "路灯维修完毕" in confirm
    r = client.post("/admin/templates", data={"op": "delete", "template_id": tid}, follow_redirects=True)
    assert f'data-template="{tid}"' not in r.text
    history = r.text[r.text.index('id="template-history"') :]
    revision = re.search(r'data-revision="(\d+)"><td translate="no">路灯维修完毕', history)
    assert revision
    r = client.post(
        "/admin/templates", data={"op": "restore", "revision_id": revision.group(1)}, follow_redirects=True
    )
    assert 'id="restored"' in r.text and "路灯维修完毕" in _row(r.text, "路灯维修完毕")
    assert f'data-revision="{revision.group(1)}"' not in r.text  # restored once
    r = client.post("/admin/templates", data={"op": "restore", "revision_id": revision.group(1)})
    assert r.status_code == 409 and "已经恢复过了" in r.text


def test_errors_are_shown_beside_the_field_in_the_pages_language(client: Any) -> None:
    login(client, "admin")
    r = client.post("/admin/templates", data={"title": "", "body": ""})
    assert r.status_code == 422 and 'id="err-title"' in r.text and 'id="err-body"' in r.text
    r = client.post("/admin/templates", data={"title": "x", "body": "您好 {name}"})
    assert r.status_code == 422
    err = re.search(r'id="err-body" role="alert">([^<]+)<', r.text)
    assert err and "不认识的占位符 {name}" in err.group(1)
    assert "您好 {name}" in r.text  # what was typed is kept
    r = client.post("/admin/templates", data={"title": "x", "body": "y", "category": "没有这个"})
    assert r.status_code == 422 and 'id="err-category"' in r.text and "没有这个分类" in r.text
    r = client.post("/admin/templates", data={"op": "delete", "template_id": "99999"})
    assert r.status_code == 404 and "没有第 99999 号答复模板" in r.text
    r = client.post("/admin/templates?lang=en", data={"title": "x", "body": "{name}"})
    err = re.search(r'id="err-body" role="alert">([^<]+)<', r.text)
    assert err and err.group(1).startswith("Unknown placeholder {name}")


def test_only_admins_edit_and_only_with_the_csrf_token(client: Any, app: Any, api: Api) -> None:
    login(client, "supervisor")  # reads the configuration, cannot change it
    page = client.get("/admin?tab=templates").text
    assert 'id="templates-table"' in page
    assert 'id="template-form"' not in page and "confirm_delete=" not in page
    r = client.post("/admin/templates", data={"title": "x", "body": "y"}, follow_redirects=False)
    assert r.status_code == 403
    login(client, "h_cgj")
    assert client.get("/admin?tab=templates", follow_redirects=False).status_code in (302, 303, 403)
    assert client.post("/admin/templates", data={"op": "delete", "template_id": "1"}).status_code == 403
    bare = TestClient(app)  # a form posted from another site: no CSRF token
    bare.cookies.set("haoban_token", api.token("admin"))
    assert bare.post("/admin/templates", data={"title": "evil", "body": "y"}).status_code == 403
    login(client, "admin")
    assert "evil" not in client.get("/admin?tab=templates").text
