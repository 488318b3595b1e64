"""The admin pages (issue 13): transfer rules, names not codes, delete with confirmation and history,
the password policy, and a calendar upload that is explained, previewed and never silently replaces a year.
"""

from __future__ import annotations

import re
from typing import Any

from tests.web.test_pages_access import login, no_trace

FIRST_2027 = (
    "日期,类型,名称\n"
    "2027-01-01,休,元旦\n"
    "2027-02-06,休,春节\n"
    "2027-02-07,休,春节\n"
    "2027-02-08,休,春节\n"
    "2027-02-14,班,\n"
)
# The second upload forgot 春节 (the story): it must be shown and confirmed, not saved silently.
SECOND_2027 = "date,kind,name\n2027-01-01,holiday,元旦\n2027-10-01,holiday,国庆节\n"


def test_transfer_rule_created_and_rules_show_names(client: Any) -> None:
    login(client, "admin")
    r = client.post(
        "/admin/rules",
        data={
            "name": "燃气泄漏转119",
            "keywords": "燃气泄漏，煤气味",
            "outcome": "transfer",
            "transfer_target": "119",
        },
        follow_redirects=True,
    )
    assert r.status_code == 200 and 'id="saved"' in r.text, r.text[-2000:]
    row = re.search(
        r'<tr data-rule="\d+"><td>\d+</td><td translate="no">燃气泄漏转119</td>.*?</tr>', r.text, re.S
    )
    assert row and "119 火警" in row.group(0) and "转警/急救" in row.group(0)
    # a transfer rule without its target: the field says so (not a raw validation message)
    r = client.post("/admin/rules", data={"name": "x", "outcome": "transfer"})
    assert r.status_code == 422 and 'id="err-transfer_target"' in r.text
    # names, not codes: no raw `gjj` or `dispatch` in the rules table
    table = r.text[r.text.index('id="rules-table"') :]
    table = table[: table.index("</table>")]
    assert "市住房公积金管理中心" in table
    assert ">gjj<" not in table and ">dispatch<" not in table and "dispatch/transfer" not in table
    en = client.get("/admin?tab=rules&lang=en").text
    assert "Housing Provident Fund" in en


def test_rule_delete_asks_first_and_can_be_restored(client: Any) -> None:
    login(client, "admin")
    page = client.get("/admin?tab=rules").text
    found = re.search(r'<tr data-rule="(\d+)"><td>\d+</td><td translate="no">([^<]+)</td>', page)
    assert found
    rule_id, name = found.groups()
    # the table's delete is a link to a confirmation, not a one-press POST
    assert f"confirm_delete={rule_id}" in page
    confirm = client.get(f"/admin?tab=rules&confirm_delete={rule_id}").text
    assert 'id="confirm-delete"' in confirm and name in confirm
    r = client.post("/admin/rules", data={"op": "delete", "rule_id": rule_id}, follow_redirects=True)
    assert f'data-rule="{rule_id}"' not in r.text
    history = r.text[r.text.index('id="rule-history"') :]
    revision = re.search(r'data-revision="(\d+)"><td translate="no">' + re.escape(name), history)
    assert revision
    r = client.post(
        "/admin/rules", data={"op": "restore", "revision_id": revision.group(1)}, follow_redirects=True
    )
    assert 'id="restored"' in r.text
    table = r.text[
        r.text.index('id="rules-table"') : r.text.index("</table>", r.text.index('id="rules-table"'))
    ]
    assert f'<td translate="no">{name}</td>' in table
    # restoring twice does not make a second copy: the deleted entry left the history
    assert f'data-revision="{revision.group(1)}"' not in r.text


def test_password_policy_on_the_admin_page(client: Any) -> None:
    login(client, "admin")
    r = client.post(
        "/admin/users",
        data={
            "op": "create",
            "username": "h_short",
            "password": "abcd",
            "role": "handler",
            "department_code": "cgj",
        },
    )
    assert r.status_code == 422 and 'id="err-password"' in r.text
    no_trace(r)


def test_calendar_explains_format_and_offers_a_template(client: Any) -> None:
    login(client, "admin")
    page = client.get("/admin?tab=calendar").text
    assert 'id="calendar-format"' in page and "日期,类型,名称" in page
    r = client.get("/admin/calendar/template.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    body = r.content.decode("utf-8-sig")
    assert "日期,类型,名称" in body
    en = client.get("/admin/calendar/template.csv?lang=en").content.decode("utf-8-sig")
    assert "date,kind,name" in en
    # the template itself previews cleanly
    r = client.post(
        "/admin/calendar", data={"op": "preview"}, files={"file": ("t.csv", body.encode(), "text/csv")}
    )
    assert r.status_code == 200 and 'id="calendar-preview"' in r.text


def test_calendar_second_upload_dropping_spring_festival_is_shown_and_confirmed(client: Any) -> None:
    login(client, "admin")
    # 1. Chinese headers: preview, then confirm
    r = client.post(
        "/admin/calendar",
        data={"op": "preview"},
        files={"file": ("2027.csv", FIRST_2027.encode(), "text/csv")},
    )
    assert r.status_code == 200, r.text[-1500:]
    assert 'id="calendar-preview"' in r.text and 'data-holiday="春节"' in r.text
    assert "春节 (" not in client.get("/admin?tab=calendar").text  # a preview saves nothing
    content = re.search(r'<textarea name="content" hidden>(.*?)</textarea>', r.text, re.S).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/admin/calendar",
        data={"op": "save", "content": content.replace("&amp;", "&"), "filename": "2027.csv"},
        follow_redirects=True,
    )
    assert 'id="saved"' in r.text and "春节 (3)" in r.text

    # 2. English headers, 春节 missing: the preview says so and saving needs the tick
    r = client.post(
        "/admin/calendar",
        data={"op": "preview"},
        files={"file": ("2027b.csv", SECOND_2027.encode(), "text/csv")},
    )
    assert r.status_code == 200
    assert 'id="preview-dropped"' in r.text and "春节" in r.text.split('id="preview-dropped"')[1][:300]
    assert "将替换已上传的本年度安排" in r.text
    r = client.post(
        "/admin/calendar",
        data={"op": "save", "content": SECOND_2027, "filename": "2027b.csv", "dropped": "春节"},
    )
    assert r.status_code == 422 and 'id="err-confirm_dropped"' in r.text
    assert "春节 (3)" in client.get("/admin?tab=calendar").text  # nothing was replaced
    r = client.post(
        "/admin/calendar",
        data={
            "op": "save",
            "content": SECOND_2027,
            "filename": "2027b.csv",
            "dropped": "春节",
            "confirm_dropped": "yes",
        },
        follow_redirects=True,
    )
    assert 'id="saved"' in r.text and "国庆节" in r.text

    # 3. The replaced year is in the history and comes back with one press
    history = r.text[r.text.index('id="calendar-history"') :]
    revision = re.search(r'data-revision="(\d+)"><td>2027</td>', history)
    assert revision and "春节 (3)" in history
    r = client.post(
        "/admin/calendar", data={"op": "restore", "revision_id": revision.group(1)}, follow_redirects=True
    )
    assert 'id="restored"' in r.text
    current = r.text[: r.text.index('id="calendar-history"')]
    assert "春节 (3)" in current


def test_calendar_delete_asks_first_and_keeps_history(client: Any) -> None:
    login(client, "admin")
    client.post(
        "/admin/calendar",
        data={"op": "save", "content": FIRST_2027, "filename": "2027.csv"},
    )
    assert 'id="confirm-delete"' in client.get("/admin?tab=calendar&confirm_delete=2027").text
    r = client.post("/admin/calendar", data={"op": "delete", "year": "2027"}, follow_redirects=True)
    assert 'id="calendar-history"' in r.text and "被删除前" in r.text
