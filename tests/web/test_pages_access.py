"""Pages over TestClient: login, the same RBAC as the API, clear messages instead of stack traces."""

from __future__ import annotations

from typing import Any

import pytest

TRACE_MARKERS = ("Traceback", 'File "', "sqlalchemy.", "Internal Server Error")


def login(client: Any, username: str, password: str = "demo") -> Any:
    client.cookies.clear()
    return client.post("/login", data={"username": username, "password": password}, follow_redirects=False)


def no_trace(r: Any) -> None:
    assert r.headers["content-type"].startswith("text/html")
    for marker in TRACE_MARKERS:
        assert marker not in r.text


def test_landing_links_every_role(client: Any) -> None:
    r = client.get("/")
    assert r.status_code == 200
    for href in ("/portal", "/console", "/console/queue", "/inbox", "/board", "/admin", "/dashboard"):
        assert f'href="{href}"' in r.text


def test_landing_lists_demo_accounts_in_demo_mode(
    client: Any, rt: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "h_cgj" not in client.get("/").text
    monkeypatch.setenv("HAOBAN_DEMO", "1")
    r = client.get("/")
    assert "h_cgj" in r.text and "supervisor" in r.text and "demo" in r.text


def test_login_wrong_password_and_logout(client: Any) -> None:
    r = login(client, "operator", "wrong")
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text
    no_trace(r)
    r = client.post("/login?lang=en", data={"username": "", "password": ""})
    assert r.status_code == 422 and r.text.count("Required") == 2  # one under each empty field
    r = login(client, "operator")
    assert r.status_code == 303 and r.headers["location"] == "/console"
    cookie = r.headers["set-cookie"]
    assert "haoban_token=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert client.get("/console").status_code == 200
    r = client.post("/logout", follow_redirects=False)
    assert r.status_code == 303
    client.cookies.clear()
    r = client.get("/console", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Fconsole")


def test_login_next_stays_on_site(client: Any) -> None:
    client.cookies.clear()
    r = client.post(
        "/login",
        data={"username": "supervisor", "password": "demo", "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/board"
    r = login(client, "supervisor")
    r = client.post(
        "/login",
        data={"username": "supervisor", "password": "demo", "next": "/dashboard"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/dashboard"


@pytest.mark.parametrize(
    ("user", "allowed", "refused"),
    [
        ("operator", ["/console", "/console/queue", "/dashboard"], ["/inbox", "/board", "/admin"]),
        ("h_cgj", ["/inbox"], ["/console", "/console/queue", "/board", "/admin", "/dashboard"]),
        ("supervisor", ["/board", "/admin", "/dashboard", "/console"], ["/inbox"]),
        ("auditor", ["/dashboard", "/admin"], ["/console", "/board", "/inbox"]),
        (
            "admin",
            ["/admin?tab=users", "/admin?tab=rules", "/admin?tab=sla", "/admin?tab=calendar", "/board"],
            [],
        ),
    ],
)
def test_role_pages(client: Any, user: str, allowed: list[str], refused: list[str]) -> None:
    login(client, user)
    for path in allowed:
        r = client.get(path)
        assert r.status_code == 200, (user, path, r.text[:300])
    for path in refused:
        r = client.get(path)
        assert r.status_code == 403, (user, path)
        assert "无权操作" in r.text
        no_trace(r)


def test_other_departments_order_is_not_found(client: Any, api: Any) -> None:
    order = api.create(content="滨江路的路灯坏了三天，晚上很黑", district="珠晖区", department="cgj")
    code = order["code"]
    login(client, "h_cgj")
    r = client.get(f"/orders/{code}")
    assert r.status_code == 200 and code in r.text
    assert 'id="btn-sign"' in r.text and 'id="btn-return"' in r.text
    assert 'id="btn-reply"' not in r.text  # not before signing: the page shows what the API allows
    other = next(u for u in ("h_scjg", "h_zjj", "h_jyj") if login(client, u).status_code == 303)
    r = client.get(f"/orders/{code}")
    assert r.status_code == 404
    assert "未找到或无权查看" in r.text
    no_trace(r)
    r = client.post(f"/orders/{code}/act/sign", data={})
    assert r.status_code == 404
    no_trace(r)
    assert api.get(f"/api/v1/orders/{code}", as_=other).status_code == 404
    login(client, "auditor")
    r = client.get(f"/orders/{code}")
    assert r.status_code == 200 and 'id="no-actions"' in r.text  # auditors read, never act


def test_action_form_errors_sit_next_to_the_field(client: Any, api: Any) -> None:
    code = api.create(department="cgj")["code"]
    login(client, "h_cgj")
    r = client.post(f"/orders/{code}/act/return", data={"reason": "  "})
    assert r.status_code == 422
    assert 'id="err-return-reason"' in r.text and "必填" in r.text
    no_trace(r)
    r = client.post(f"/orders/{code}/act/sign", data={}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/orders/{code}/act/sign", data={})  # twice: the state no longer allows it
    assert r.status_code == 409 and 'id="action-error"' in r.text
    no_trace(r)
    r = client.post(f"/orders/{code}/act/reply", data={"reply": "已修复。"}, follow_redirects=False)
    assert r.status_code == 303
    assert api.get(f"/api/v1/orders/{code}", as_="supervisor").json()["status"] == "replied"


def test_operator_console_register_and_errors(client: Any) -> None:
    login(client, "operator")
    r = client.post("/console", data={"content": "", "type": "complaint", "mode": "dispatch"})
    assert r.status_code == 422 and 'id="err-content"' in r.text
    r = client.post("/console", data={"content": "路灯坏了", "citizen_phone": "12", "mode": "dispatch"})
    assert r.status_code == 422 and 'id="err-citizen_phone"' in r.text
    r = client.post(
        "/console",
        data={
            "content": "滨江路的路灯坏了三天",
            "citizen_phone": "13812345678",
            "type": "complaint",
            "mode": "dispatch",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and "code=HB" in r.headers["location"]
    r = client.post("/console", data={"content": "咨询社保卡办理", "type": "consult", "mode": "answer"})
    assert r.status_code == 422 and 'id="err-answer"' in r.text
    r = client.post(
        "/console",
        data={
            "content": "咨询社保卡怎么补办",
            "type": "consult",
            "mode": "answer",
            "answer": "携带身份证到社保大厅办理。",
        },
        follow_redirects=False,
    )
    code = r.headers["location"].split("code=")[1]
    page = client.get(f"/orders/{code}")
    assert "即时答复" in page.text and "携带身份证到社保大厅办理。" in page.text
    r = client.post(
        "/console",
        data={"content": "楼下起火了，有浓烟", "type": "help", "mode": "transfer", "target": "119"},
        follow_redirects=False,
    )
    code = r.headers["location"].split("code=")[1]
    assert "已转警/急救" in client.get(f"/orders/{code}").text


def test_citizen_portal_file_and_track(client: Any) -> None:
    client.cookies.clear()
    r = client.post("/portal/file", data={"type": "complaint", "content": "", "citizen_phone": ""})
    assert r.status_code == 422 and 'id="err-content"' in r.text and 'id="err-citizen_phone"' in r.text
    r = client.post(
        "/portal/file",
        data={
            "type": "complaint",
            "content": "小区门口垃圾没人清运，已经堆了一周",
            "citizen_phone": "13900001234",
        },
    )
    assert r.status_code == 200 and r.url.path.startswith("/portal/filed/")  # redirected after the POST
    code = r.text.split('id="tracking-code">')[1].split("<")[0]
    assert code.startswith("HB")
    r = client.post("/portal/track", data={"code": code, "phone_last4": "1234"})
    assert r.status_code == 200 and code in r.text
    r = client.post("/portal/track", data={"code": code, "phone_last4": "9999"})
    assert r.status_code == 404 and 'id="track-missing"' in r.text
    no_trace(r)
    r = client.post("/portal/track", data={"code": code, "phone_last4": "12a"})
    assert r.status_code == 422 and 'id="err-phone_last4"' in r.text


def test_admin_writes_need_admin(client: Any) -> None:
    login(client, "supervisor")
    assert "只读" in client.get("/admin").text
    r = client.post("/admin/departments", data={"code": "xx", "name": "新部门"})
    assert r.status_code == 403
    no_trace(r)
    login(client, "admin")
    r = client.post("/admin/departments", data={"code": "", "name": ""})
    assert r.status_code == 422 and 'id="err-code"' in r.text
    r = client.post(
        "/admin/departments",
        data={"code": "xinbm", "name": "新部门", "kind": "department"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "xinbm" in client.get("/admin?tab=departments").text
    r = client.post(
        "/admin/users", data={"op": "create", "username": "h_new", "password": "demo1", "role": "handler"}
    )
    assert r.status_code == 422 and 'id="err-department_code"' in r.text
    r = client.post(
        "/admin/sla",
        data={
            "order_type": "consult",
            "urgency": "normal",
            "sign_amount": "1",
            "sign_unit": "working_days",
            "handle_amount": "2",
            "handle_unit": "working_days",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:500]
    r = client.post("/admin/calendar", files={"file": ("s.yaml", b"not: [a schedule", "application/yaml")})
    assert r.status_code == 422 and 'id="err-file"' in r.text


def test_static_assets_and_language(client: Any) -> None:
    r = client.get("/static/vendor/plotly.min.js")
    assert r.status_code == 200 and len(r.content) > 1_000_000
    assert client.get("/static/app.css").status_code == 200
    r = client.get("/portal?lang=en")
    assert "File an appeal" in r.text and "haoban_lang=en" in r.headers["set-cookie"]
    assert "File an appeal" in client.get("/portal").text  # the cookie keeps it
    r = client.get("/lang/zh?next=/portal", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/portal"


@pytest.mark.parametrize(
    "raw",
    [
        "/static/%2e%2e/pages.py",  # dots percent-encoded: the client does not fold them away
        "/static/..%2fpages.py",  # an encoded slash
        "/static/%2e%2e/%2e%2e/config.py",  # two floors up, out of the web package
        "/static/%2e%2e/templates/base.html",  # a sibling folder of static/
    ],
)
def test_static_files_stay_inside_their_folder(client: Any, raw: str) -> None:
    """The request path arrives raw (httpx keeps percent-escapes); the app decodes it to "../" and
    must refuse to leave static/. Without the guard these answer 200 with the app's own source."""
    import httpx

    assert httpx.URL(f"http://testserver{raw}").raw_path == raw.encode()  # sent as written
    r = client.get(raw)
    assert r.status_code == 404, (raw, r.status_code)
    assert "APIRouter" not in r.text and "get_settings" not in r.text and "{% block" not in r.text


def test_dashboard_page_numbers(client: Any, api: Any) -> None:
    login(client, "supervisor")
    r = client.get("/dashboard")
    assert (
        r.status_code == 200 and 'id="kpi-on_time_rate"' in r.text and "/dashboard/export/kpis.csv?" in r.text
    )
    r = client.get("/dashboard?from=2026-13-01&bucket=year")
    assert r.status_code == 200 and 'id="err-from"' in r.text and 'id="err-bucket"' in r.text
    no_trace(r)


def test_citizen_rates_and_a_bad_rating_opens_a_rectification(client: Any, api: Any) -> None:
    code = api.create(department="cgj", citizen_phone="13812345678")["code"]
    client.cookies.clear()
    r = client.post("/portal/track", data={"code": code, "phone_last4": "5678"})
    assert 'id="rate-later"' in r.text  # not finished yet
    api.act(code, "sign", as_="h_cgj")
    api.act(code, "reply", as_="h_cgj", reply="已处理。")
    api.act(code, "review_reply", as_="supervisor", decision="approve")
    r = client.post("/portal/track", data={"code": code, "phone_last4": "5678"})
    assert 'id="rate-form"' in r.text
    r = client.post("/portal/rate", data={"code": code, "phone_last4": "5678", "level": ""})
    assert r.status_code == 422 and 'id="err-level"' in r.text
    r = client.post("/portal/rate", data={"code": code, "phone_last4": "0000", "level": "unsatisfied"})
    assert r.status_code == 404
    r = client.post(
        "/portal/rate",
        data={"code": code, "phone_last4": "5678", "level": "very_unsatisfied", "comment": "没解决"},
    )
    assert r.status_code == 200 and 'id="rated"' in r.text and 'id="rectification"' in r.text
    assert r.url.path == f"/portal/track/{code}"  # redirected after the POST: a reload cannot rate again
    no_trace(r)
    # Once only: a second rating is refused, and the page still shows the first one.
    r = client.post("/portal/rate", data={"code": code, "phone_last4": "5678", "level": "satisfied"})
    assert r.status_code == 409 and 'id="rated"' in r.text and "非常不满意" in r.text
    r = api.client.get(f"/api/v1/ratings/{code}", params={"phone_last4": "5678"})
    assert r.status_code == 200 and r.json()["level"] == "very_unsatisfied"
