"""Issue 10, CSRF and framing: every state-changing form carries a token and is refused from another
origin; the JSON API takes no cookie for writes; CSP without inline script, no framing, nosniff,
Referrer-Policy, HSTS over HTTPS; /docs from local assets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from haoban.auth.models import User
from haoban.security import csrf
from tests.conftest import Api

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "haoban" / "web" / "templates"
POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.I | re.S)


@pytest.fixture
def bare(app: Any, client: Any) -> Any:
    """A client with no CSRF help: what another site's page can make a browser send (the app is
    already started by ``client``)."""
    return TestClient(app)


def _as(client: Any, api: Api, username: str) -> None:
    client.cookies.set("haoban_token", api.token(username))


def test_a_form_without_the_token_is_refused(bare: Any, api: Api, rt: Any) -> None:
    _as(bare, api, "admin")
    r = bare.post(
        "/admin/users",
        data={"op": "create", "username": "evil_admin", "password": "Lamp-Post-7781-river", "role": "admin"},
    )
    assert r.status_code == 403
    with rt.db.read() as session:
        assert session.scalar(select(User).where(User.username == "evil_admin")) is None


def test_another_origin_of_the_same_site_is_refused_even_with_a_token(bare: Any, api: Api, rt: Any) -> None:
    order = api.create()
    _as(bare, api, "h_cgj")
    page = bare.get(f"/orders/{order['code']}")
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert token, "the order page's forms carry the token"
    r = bare.post(
        f"/orders/{order['code']}/act/sign",
        data={"csrf_token": token.group(1)},
        headers={"Origin": "http://files.testserver"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    r = bare.post(
        f"/orders/{order['code']}/act/sign",
        data={"csrf_token": token.group(1)},
        headers={"Referer": "http://evil.example/page"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert api.get(f"/api/v1/orders/{order['code']}", as_="h_cgj").json()["status"] == "dispatched"
    # The same form from this origin goes through.
    r = bare.post(
        f"/orders/{order['code']}/act/sign",
        data={"csrf_token": token.group(1)},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert api.get(f"/api/v1/orders/{order['code']}", as_="h_cgj").json()["status"] == "signed"


def test_a_token_for_another_seed_is_refused(bare: Any, api: Api, rt: Any) -> None:
    _as(bare, api, "admin")
    bare.cookies.set(csrf.COOKIE, "planted-by-a-sibling-site")
    forged = csrf.token_for("not-the-secret", "planted-by-a-sibling-site")
    r = bare.post("/admin/departments", data={"code": "evil", "name": "x", "csrf_token": forged})
    assert r.status_code == 403


def test_the_json_api_takes_no_cookie_for_writes(bare: Any, api: Api) -> None:
    _as(bare, api, "operator")
    assert bare.get("/api/v1/auth/me").status_code == 200  # reading with the cookie is fine
    body = {"type": "complaint", "content": "路灯坏了三天，晚上很黑", "citizen_phone": "13812345678"}
    r = bare.post("/api/v1/orders", json=body)
    assert r.status_code == 401 and "Bearer" in r.json()["message"]
    # The pages' read-only queries need the page's token as a header.
    q = {"text": "路灯坏了三天", "order_type": "complaint"}
    assert bare.post("/api/v1/dispatch/explain", json=q).status_code == 401
    page = bare.get("/console")
    meta = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', page.text)
    assert meta
    assert (
        bare.post("/api/v1/dispatch/explain", json=q, headers={"X-CSRF-Token": meta.group(1)}).status_code
        == 200
    )
    assert bare.post("/api/v1/orders", json=body, headers={"X-CSRF-Token": meta.group(1)}).status_code == 401


def test_api_calls_draw_no_csrf_seed_and_pages_still_do(
    bare: Any, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A seed drawn for an /api/ request would never reach a browser (the API sets no cookie), so none
    is drawn there; a page without the cookie still gets a fresh seed, its cookie and a working token."""
    drawn: list[str] = []
    real = csrf.new_seed

    def counting() -> str:
        drawn.append(seed := real())
        return seed

    monkeypatch.setattr(csrf, "new_seed", counting)
    body = {"type": "complaint", "content": "路灯坏了三天，晚上很黑", "citizen_phone": "13812345678"}
    r = bare.post("/api/v1/orders", json=body, headers=api.headers("operator"))
    assert r.status_code in (200, 201), r.text
    assert bare.get("/api/v1/workflow").status_code == 200
    assert drawn == [] and "set-cookie" not in r.headers
    # Without the page's cookie a forged header is refused as before (no seed, no valid token).
    _as(bare, api, "operator")
    q = {"text": "路灯坏了三天", "order_type": "complaint"}
    forged = csrf.token_for("not-the-secret", "")
    assert bare.post("/api/v1/dispatch/explain", json=q, headers={"X-CSRF-Token": forged}).status_code == 401
    assert drawn == []
    page = bare.get("/console")
    assert len(drawn) == 1 and f"{csrf.COOKIE}={drawn[0]}" in page.headers["set-cookie"]
    meta = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', page.text)
    assert meta
    r = bare.post("/api/v1/dispatch/explain", json=q, headers={"X-CSRF-Token": meta.group(1)})
    assert r.status_code == 200 and len(drawn) == 1  # the API read the page's seed from its cookie


def test_security_headers_on_pages_and_the_api(client: Any, app: Any) -> None:
    for path in ("/admin", "/portal", "/api/v1/workflow", "/login"):
        r = client.get(path, follow_redirects=False)
        h = r.headers
        assert h["x-frame-options"] == "DENY"
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "same-origin"
        policy = h["content-security-policy"]
        assert "frame-ancestors 'none'" in policy
        script = re.search(r"script-src ([^;]+)", policy).group(1)
        assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
        assert "strict-transport-security" not in h
    secure = TestClient(app, base_url="https://testserver")
    assert "max-age=" in secure.get("/portal").headers["strict-transport-security"]


def test_no_inline_script_in_any_template() -> None:
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (path.name, tag)
        assert not re.search(r"\son[a-z]+\s*=", text), path.name
        assert "javascript:" not in text, path.name


def test_every_post_form_in_every_template_carries_the_token() -> None:
    missing = []
    for path in TEMPLATES.glob("*.html"):
        for body in POST_FORM.findall(path.read_text(encoding="utf-8")):
            if "csrf_field()" not in body:
                missing.append(path.name)
    assert missing == [], "add {{ csrf_field() }} inside these POST forms"


@pytest.mark.parametrize(
    ("user", "paths"),
    [
        (None, ["/login", "/portal"]),
        ("admin", ["/admin?tab=departments", "/admin?tab=users", "/admin?tab=rules", "/admin?tab=sla"]),
        ("admin", ["/admin?tab=calendar"]),
        ("operator", ["/console", "/console/queue"]),
        ("h_cgj", ["/inbox"]),
        ("supervisor", ["/board"]),
    ],
)
def test_every_rendered_post_form_carries_the_token(
    client: Any, api: Api, user: str | None, paths: list[str]
) -> None:
    if user:
        client.cookies.set("haoban_token", api.token(user))
    for path in paths:
        r = client.get(path)
        assert r.status_code == 200, path
        forms = POST_FORM.findall(r.text)
        for body in forms:
            assert 'name="csrf_token"' in body, path


def test_docs_use_local_assets(client: Any) -> None:
    for path in ("/docs", "/redoc"):
        r = client.get(path)
        assert r.status_code == 200
        srcs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
        assert srcs and all(s.startswith("/") for s in srcs), srcs
        for s in srcs:
            if s.startswith("/static/"):
                assert client.get(s).status_code == 200, s
    assert client.get("/openapi.json").status_code == 200
