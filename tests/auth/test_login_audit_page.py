"""Issue 10: the login audit as an administrator's page (/admin/logins): who tried, when, from where,
through which door and the outcome, filtered by account, result, address and day, fifty to a page, in
Chinese and English; administrators only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from haoban.auth.models import LoginEvent
from tests.web.test_pages_access import login, no_trace


def _rows(html: str) -> list[str]:
    body = html.split('id="login-events"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr class=\"(?:ok|failed)\">(.*?)</tr>", body, flags=re.S)


def _seed(rt: Any, count: int, *, at: datetime, username: str, address: str, outcome: str) -> None:
    with rt.db.write() as session:
        for i in range(count):
            session.add(
                LoginEvent(
                    at=at + timedelta(minutes=i),
                    username=username,
                    user_id=None,
                    address=address,
                    via="api",
                    success=outcome == "ok",
                    outcome=outcome,
                )
            )


def test_admin_reads_filters_and_pages_the_login_audit(client: Any, rt: Any) -> None:
    assert login(client, "operator", "wrong-password").status_code != 303  # a failure, from a page
    assert login(client, "admin").status_code == 303
    r = client.get("/admin/logins")
    assert r.status_code == 200
    rows = _rows(r.text)
    assert "登录日志" in r.text and len(rows) == 2
    assert "admin" in rows[0] and "成功" in rows[0] and "页面" in rows[0]  # newest first
    assert "operator" in rows[1] and "密码错误" in rows[1] and "testclient" in rows[1]
    assert 'href="/admin/logins"' in client.get("/admin").text  # linked from the admin page

    # By account and result.
    failed = _rows(client.get("/admin/logins", params={"username": "operator", "result": "failure"}).text)
    assert len(failed) == 1 and "operator" in failed[0]
    assert _rows(client.get("/admin/logins", params={"username": "operator", "result": "success"}).text) == []
    assert len(_rows(client.get("/admin/logins", params={"result": "wrong_password"}).text)) == 1

    # By address (or its beginning) and by day.
    long_ago = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in the city
    _seed(rt, 60, at=long_ago, username="ghost", address="203.0.113.9", outcome="wrong_password")
    by_address = client.get("/admin/logins", params={"address": "203.0.113."})
    assert "共 60" in by_address.text and len(_rows(by_address.text)) == 50
    assert all("203.0.113.9" in row and "无此账号" in row for row in _rows(by_address.text))
    day = client.get("/admin/logins", params={"since": "2025-03-01", "until": "2025-03-01"})
    assert "共 60" in day.text
    assert "共 0" in client.get("/admin/logins", params={"since": "2025-03-02", "until": "2025-03-31"}).text
    today = datetime.now(rt.settings.tz).date().isoformat()
    assert "共 2" in client.get("/admin/logins", params={"since": today}).text

    # Fifty to a page; the links keep the filters.
    first = client.get("/admin/logins", params={"username": "ghost"})
    assert len(_rows(first.text)) == 50 and 'id="la-prev"' not in first.text
    nxt = re.search(r'id="la-next"', first.text) and re.search(r'href="([^"]+)" rel="next"', first.text)
    assert nxt and "username=ghost" in nxt.group(1) and "page=2" in nxt.group(1)
    second = client.get(nxt.group(1).replace("&amp;", "&"))
    assert (
        len(_rows(second.text)) == 10 and 'id="la-next"' not in second.text and 'id="la-prev"' in second.text
    )
    assert set(_rows(first.text)).isdisjoint(_rows(second.text))

    # English.
    en = client.get("/admin/logins", params={"lang": "en", "username": "operator"})
    assert "Login audit" in en.text and "Wrong password" in en.text and "Page" in en.text

    # Bad filters: a clear message on the page, nothing broken.
    bad = client.get("/admin/logins", params={"since": "2025-13-45", "result": "nonsense", "lang": "zh"})
    assert bad.status_code == 422 and "年-月-日" in bad.text and "未知的结果类型" in bad.text
    no_trace(bad)
    assert client.get("/admin/logins", params={"page": "99999999999999999999"}).status_code == 200


@pytest.mark.parametrize("user", ["operator", "supervisor", "auditor", "dispatcher", "h_cgj"])
def test_only_administrators_see_the_login_audit_page(client: Any, user: str) -> None:
    login(client, user)
    r = client.get("/admin/logins")
    assert r.status_code == 403 and "无权操作" in r.text
    no_trace(r)
    assert 'href="/admin/logins"' not in client.get("/admin").text


def test_the_login_audit_page_needs_a_login(client: Any) -> None:
    client.cookies.clear()
    r = client.get("/admin/logins", follow_redirects=False)
    assert r.status_code in (302, 303) and "/login" in r.headers["location"]


def test_the_api_filters_by_address_and_day_too(client: Any, rt: Any, api: Any) -> None:
    _seed(
        rt,
        3,
        at=datetime(2025, 3, 1, 2, 0, tzinfo=UTC),
        username="ghost",
        address="198.51.100.7",
        outcome="locked",
    )
    r = api.get(
        "/api/v1/admin/login-events", as_="auditor", params={"address": "198.51.100.", "since": "2025-03-01"}
    )
    assert r.status_code == 200 and [e["outcome"] for e in r.json()] == ["locked"] * 3
    none = api.get("/api/v1/admin/login-events", as_="admin", params={"until": "2025-02-28"})
    assert none.status_code == 200 and none.json() == []
    assert api.get("/api/v1/admin/login-events", as_="operator").status_code == 403
