"""Open311 client apps and their api_keys: issued and revoked by an admin (API, admin page, CLI), stored
hashed, checked on every call that carries one (403 in the spec's form), rate limited per key."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from xml.etree import ElementTree as ET

from sqlalchemy import select
from typer.testing import CliRunner

from haoban import cli, cliutil
from haoban.open311.keys import BAD_KEY
from haoban.open311.models import Open311Client
from haoban.runtime import Runtime
from tests.conftest import Api

BASE = "/open311/v2"
ADMIN = "/api/v1/admin/open311/clients"


def _issue(api: Api, name: str = "衡阳城管通", **extra: Any) -> dict[str, Any]:
    r = api.post(ADMIN, as_="admin", json={"name": name, "contact": "it@hengyang.example", **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_an_admin_issues_a_key_that_is_stored_hashed_and_shown_once(api: Api, rt: Runtime) -> None:
    issued = _issue(api)
    key = issued["api_key"]
    assert key.startswith("o311_") and len(key) > 40
    client = issued["client"]
    assert client["active"] is True and client["created_by"] == "admin" and client["rate_per_minute"] == 60
    assert key.startswith(client["key_prefix"]) and len(client["key_prefix"]) == 12
    with rt.db.read() as session:
        row = session.scalars(select(Open311Client).where(Open311Client.id == client["id"])).one()
        assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
        stored = [str(v) for v in vars(row).values()]
    assert not [v for v in stored if key in v]  # the key itself is nowhere in the row
    listed = api.get(ADMIN, as_="admin")
    assert listed.status_code == 200
    assert [c["name"] for c in listed.json()] == ["衡阳城管通"]
    assert key not in listed.text and "key_hash" not in listed.text
    # Only admins issue; auditors may read the list; others neither.
    assert api.post(ADMIN, as_="operator", json={"name": "x"}).status_code == 403
    assert api.post(ADMIN, as_="auditor", json={"name": "x"}).status_code == 403
    assert api.get(ADMIN, as_="auditor").status_code == 200
    assert api.get(ADMIN, as_="operator").status_code == 403
    assert api.post(ADMIN, as_="admin", json={"name": ""}).status_code == 422


def test_a_bad_or_revoked_key_answers_403_in_the_spec_form(api: Api, client: Any) -> None:
    issued = _issue(api)
    key, cid = issued["api_key"], issued["client"]["id"]
    assert client.get(f"{BASE}/services.json?api_key={key}").status_code == 200
    r = client.get(f"{BASE}/services.json?api_key=o311_not-a-key")
    assert r.status_code == 403
    assert r.json() == [{"code": 403, "description": BAD_KEY}]
    revoked = api.post(f"{ADMIN}/{cid}/revoke", as_="admin")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert revoked.json()["revoked_by"] == "admin"
    r = client.get(f"{BASE}/requests.xml?api_key={key}")
    assert r.status_code == 403
    root = ET.fromstring(r.content)
    assert root.tag == "errors" and root.findtext("error/code") == "403"
    assert root.findtext("error/description") == BAD_KEY
    # Revoking again changes nothing; an unknown client is a 404; operators may not revoke.
    assert api.post(f"{ADMIN}/{cid}/revoke", as_="admin").json()["revoked_at"] == revoked.json()["revoked_at"]
    assert api.post(f"{ADMIN}/999999/revoke", as_="admin").status_code == 404
    assert api.post(f"{ADMIN}/{_issue(api, 'b')['client']['id']}/revoke", as_="operator").status_code == 403
    # Without a key the reads stay open (the spec: api_key is for POST).
    assert client.get(f"{BASE}/services.json").status_code == 200


def test_each_key_has_its_own_rate_limit(api: Api, client: Any) -> None:
    slow = _issue(api, "slow", rate_per_minute=2)["api_key"]
    other = _issue(api, "other")["api_key"]
    for _ in range(2):
        assert client.get(f"{BASE}/discovery.json?api_key={slow}").status_code == 200
    r = client.get(f"{BASE}/discovery.xml?api_key={slow}")
    assert r.status_code == 429
    assert ET.fromstring(r.content).findtext("error/code") == "429"
    assert "at most 2 a minute" in (ET.fromstring(r.content).findtext("error/description") or "")
    assert client.get(f"{BASE}/discovery.json?api_key={other}").status_code == 200


def _login(client: Any, username: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"username": username, "password": "demo"}, follow_redirects=False)
    assert r.status_code in (302, 303), r.text


def test_the_admin_page_issues_shows_once_and_revokes(client: Any, rt: Runtime) -> None:
    _login(client, "admin")
    page = client.get("/admin?tab=open311")
    assert page.status_code == 200 and 'action="/admin/open311"' in page.text
    r = client.post("/admin/open311", data={"op": "issue", "name": "FixMyStreet", "rate_per_minute": "30"})
    assert r.status_code == 201, r.text
    [key] = re.findall(r"<code>(o311_[A-Za-z0-9_-]+)</code>", r.text)
    assert client.get(f"{BASE}/services.json?api_key={key}").status_code == 200
    again = client.get("/admin?tab=open311")
    assert "FixMyStreet" in again.text and key not in again.text and key[:12] in again.text
    r = client.post("/admin/open311", data={"op": "issue", "name": ""})
    assert r.status_code == 422
    with rt.db.read() as session:
        row = session.scalars(select(Open311Client).where(Open311Client.name == "FixMyStreet")).one()
        cid, issued_at = row.id, row.created_at
    assert f"{issued_at.astimezone(rt.settings.tz):%Y-%m-%d %H:%M} · admin" in again.text  # the city's time
    r = client.post("/admin/open311", data={"op": "revoke", "client_id": str(cid)}, follow_redirects=False)
    assert r.status_code in (302, 303)
    assert client.get(f"{BASE}/services.json?api_key={key}").status_code == 403
    # A dispatcher reads the list, without the forms.
    _login(client, "dispatcher")
    page = client.get("/admin?tab=open311")
    assert page.status_code == 200 and "FixMyStreet" in page.text
    assert 'action="/admin/open311"' not in page.text
    assert client.post("/admin/open311", data={"op": "issue", "name": "x"}).status_code == 403


def _cli(rt: Runtime, monkeypatch: Any, *args: str) -> Any:
    monkeypatch.setattr(cliutil, "runtime", lambda *a, **k: rt)
    return CliRunner().invoke(cli.app, list(args))


def test_cli_issue_list_revoke(rt: Runtime, client: Any, monkeypatch: Any) -> None:
    r = _cli(rt, monkeypatch, "open311", "keys", "issue", "Partner app", "--rate", "5", "--json")
    assert r.exit_code == 0, r.output
    issued = json.loads(r.stdout)
    key = issued["api_key"]
    assert client.get(f"{BASE}/services.json?api_key={key}").status_code == 200
    r = _cli(rt, monkeypatch, "open311", "keys", "list", "--json")
    assert r.exit_code == 0 and key not in r.stdout
    [row] = json.loads(r.stdout)
    assert row["name"] == "Partner app" and row["rate_per_minute"] == 5 and row["created_by"] == "system"
    r = _cli(rt, monkeypatch, "open311", "keys", "revoke", row["key_prefix"], "--by", "admin")
    assert r.exit_code == 0, r.output
    assert "revoked" in r.stdout and "by admin" in r.stdout
    assert client.get(f"{BASE}/services.json?api_key={key}").status_code == 403
    r = _cli(rt, monkeypatch, "open311", "keys", "revoke", "o311_nothing")
    assert r.exit_code != 0 and "no Open311 client" in r.output
    r = _cli(rt, monkeypatch, "open311", "keys", "issue", "x", "--rate", "0")
    assert r.exit_code != 0 and "rate_per_minute" in r.output
