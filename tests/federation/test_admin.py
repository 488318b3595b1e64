"""Partners and agreements through the admin API and the command line; the identity never shows the
private key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from haoban import cli, cliutil
from haoban.federation import messages
from tests.conftest import Api


def _key() -> str:
    return messages.public_b64(Ed25519PrivateKey.generate())


def test_partners_and_agreements_admin_api(api: Api) -> None:
    partner = {
        "region": "451300",
        "name": "来宾市",
        "endpoint": "https://12345.laibin.example/",
        "public_key": _key(),
    }
    assert api.post("/api/v1/admin/federation/partners", as_="operator", json=partner).status_code == 403
    r = api.post("/api/v1/admin/federation/partners", as_="admin", json=partner)
    assert r.status_code == 200, r.text
    assert r.json()["endpoint"] == "https://12345.laibin.example"
    bad = api.post(
        "/api/v1/admin/federation/partners", as_="admin", json={**partner, "public_key": "bm9wZQ=="}
    )
    assert bad.status_code == 422 and "public_key" in bad.json()["fields"]
    own = api.post("/api/v1/admin/federation/partners", as_="admin", json={**partner, "region": "430400"})
    assert own.status_code == 422 and "region" in own.json()["fields"]
    agreement = {
        "partner": "451300",
        "items": ["newborn", "hotline"],
        "modes": ["proxy", "transfer"],
        "valid_from": "2024-01-01",
    }
    r = api.post("/api/v1/admin/federation/agreements", as_="admin", json=agreement)
    assert r.status_code == 201 and r.json()["in_force"] is True
    wrong = api.post(
        "/api/v1/admin/federation/agreements", as_="admin", json={**agreement, "modes": ["teleport"]}
    )
    assert wrong.status_code == 422 and "modes" in wrong.json()["fields"]
    backwards = api.post(
        "/api/v1/admin/federation/agreements", as_="admin", json={**agreement, "valid_to": "2023-01-01"}
    )
    assert backwards.status_code == 422
    unknown = api.post(
        "/api/v1/admin/federation/agreements", as_="admin", json={**agreement, "partner": "999999"}
    )
    assert unknown.status_code == 404
    [listed] = api.get("/api/v1/admin/federation/partners", as_="supervisor").json()
    assert listed["agreements"][0]["items"] == ["hotline", "newborn"]


def test_identity_shows_the_public_key_only(api: Api, rt: Any, tmp_path: Path, monkeypatch: Any) -> None:
    key_file = tmp_path / "fed.key"
    monkeypatch.setattr(rt.settings, "federation_key_file", key_file)
    assert api.client.get("/api/v1/federation/identity").json()["public_key"] is None
    monkeypatch.setattr(cliutil, "runtime", lambda *a, **k: rt)
    r = CliRunner().invoke(cli.app, ["federation", "keygen"])
    assert r.exit_code == 0, r.output
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    seed = key_file.read_text().strip()
    ident = api.client.get("/api/v1/federation/identity").json()
    assert ident["region"] == "430400" and ident["public_key"] in r.output
    assert seed not in api.client.get("/api/v1/federation/identity").text
    again = CliRunner().invoke(cli.app, ["federation", "keygen"])
    assert again.exit_code != 0 and "exists" in again.output
    assert key_file.read_text().strip() == seed


def test_cli_partners_agreements_outbox(rt: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(cliutil, "runtime", lambda *a, **k: rt)
    run = CliRunner().invoke
    r = run(
        cli.app,
        [
            "federation",
            "partners",
            "add",
            "451300",
            "--name",
            "来宾市",
            "--endpoint",
            "http://127.0.0.1:9",
            "--public-key",
            _key(),
        ],
    )
    assert r.exit_code == 0, r.output
    bad = run(
        cli.app,
        [
            "federation",
            "partners",
            "add",
            "12",
            "--name",
            "x",
            "--endpoint",
            "http://x",
            "--public-key",
            _key(),
        ],
    )
    assert bad.exit_code == 2 and "region" in bad.output
    r = run(
        cli.app,
        [
            "federation",
            "agreements",
            "add",
            "451300",
            "--items",
            "newborn,hotline",
            "--modes",
            "proxy,transfer",
        ],
    )
    assert r.exit_code == 0, r.output
    r = run(cli.app, ["federation", "agreements", "list", "--json"])
    assert '"newborn"' in r.output
    r = run(cli.app, ["federation", "partners", "list"])
    assert "451300" in r.output
    r = run(cli.app, ["federation", "outbox", "list"])
    assert r.exit_code == 0, r.output
