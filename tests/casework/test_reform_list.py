"""The reform list: closed cases and 12345 orders that name an obstacle, grouped by obstacle, item or
department, with counts, the monthly trend, examples and the proposals made of them; as JSON, CSV and
``haoban cases reform-list``. Who complained is never on it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from typer.testing import CliRunner

from haoban import cli, cliutil
from haoban.casework.models import ReformProposal
from tests.builders import make_order
from tests.casework.builders import COMPANY, NAME, PHONE, VALID_USCC, make_case

IDENTITY = (NAME, PHONE, COMPANY, VALID_USCC)


def _setup(rt: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    cases = [make_case(rt, status="closed", now=now) for _ in range(2)]
    proposal_case = make_case(rt, status="consulting", now=now)
    orders = [
        make_order(rt, status="closed", content="办理营业执照跑了好几趟都没办成，每次都说材料不全。"),
        make_order(rt, status="signed", content="社区要求开奇葩证明，证明我妈是我妈，材料繁琐。"),
        make_order(rt, status="dispatched", content="小区路灯坏了三天，晚上很黑。"),  # names no obstacle
    ]
    return {"cases": cases, "proposal_case": proposal_case, "orders": orders}


def test_groups_count_cases_and_orders_with_examples_and_no_identity(api: Any, rt: Any) -> None:
    made = _setup(rt)
    r = api.get("/api/v1/reform/list", as_="supervisor", params={"by": "obstacle", "months": 3})
    assert r.status_code == 200, r.text
    report = r.json()
    assert len(report["months"]) == 3
    groups = {g["key"]: g for g in report["groups"]}
    back = groups["back_and_forth"]
    assert back["label"] == "反复跑腿"
    assert back["cases"] == 2 and back["orders"] == 1 and back["total"] == 3
    assert back["by_month"][-1] == 3 and sum(back["by_month"]) == 3
    assert back["trend"] == "rising"
    codes = {e["code"] for e in back["examples"]}
    assert set(made["cases"]) <= codes and made["orders"][0] in codes
    assert groups["paperwork"]["orders"] == 1 and groups["paperwork"]["cases"] == 0
    assert made["orders"][2] not in r.text  # an order naming no obstacle is not a pain point
    for secret in IDENTITY:
        assert secret not in r.text

    by_item = api.get("/api/v1/reform/list", as_="window", params={"by": "item"}).json()
    assert any(g["key"] == "营业执照变更" and g["cases"] == 2 for g in by_item["groups"])
    by_dept = api.get("/api/v1/reform/list", as_="auditor", params={"by": "department"}).json()
    assert any(g["key"] == "scjg" and g["cases"] == 2 for g in by_dept["groups"])  # where it got stuck

    r = api.get("/api/v1/reform/list.csv", as_="supervisor")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert rows[0][:5] == ["group", "label", "cases", "orders", "total"]
    assert any(row[0] == "back_and_forth" and row[2] == "2" for row in rows[1:])
    for secret in IDENTITY:
        assert secret not in r.text


def test_a_case_concluded_as_a_proposal_puts_it_on_the_list_and_it_moves_on(api: Any, rt: Any) -> None:
    made = _setup(rt)
    code = made["proposal_case"]
    r = api.post(
        f"/api/v1/cases/{code}/conclude",
        as_="h_cgj",
        json={
            "outcome": "proposal",
            "explanation": "现行规定要求三次到场",
            "proposal": "营业执照变更一次办结",
        },
    )
    assert r.status_code == 200, r.text
    report = api.get("/api/v1/reform/list", as_="supervisor").json()
    [p] = report["proposals"]
    assert (p["title"], p["owner"], p["status"], p["source_case"]) == (
        "营业执照变更一次办结",
        "cgj",
        "proposed",
        code,
    )
    assert p in {g["key"]: g for g in report["groups"]}["back_and_forth"]["proposals"]

    r = api.client.patch(
        f"/api/v1/reform/proposals/{p['id']}",
        headers=api.headers("supervisor"),
        json={"status": "accepted", "owner": "scjg"},
    )
    assert r.status_code == 200 and r.json()["status"] == "accepted" and r.json()["owner"] == "scjg"
    for who, body, status in (
        ("h_cgj", {"status": "done"}, 403),
        ("supervisor", {"status": "finished"}, 422),
        ("supervisor", {"owner": "nope"}, 422),
    ):
        r = api.client.patch(f"/api/v1/reform/proposals/{p['id']}", headers=api.headers(who), json=body)
        assert r.status_code == status, r.text
    assert (
        api.client.patch("/api/v1/reform/proposals/999", headers=api.headers("admin"), json={}).status_code
        == 404
    )
    with rt.db.read() as s:
        stored = s.get(ReformProposal, p["id"])
        assert stored is not None and stored.status == "accepted" and stored.owner_department.code == "scjg"

    r = api.post(
        "/api/v1/reform/proposals", as_="window", json={"title": "材料清单统一公布", "obstacle": "paperwork"}
    )
    assert r.status_code == 201 and r.json()["status"] == "proposed"
    assert (
        api.post(
            "/api/v1/reform/proposals", as_="window", json={"title": "x", "obstacle": "nope"}
        ).status_code
        == 422
    )


def test_who_may_read_and_bad_requests(api: Any) -> None:
    for who in ("h_cgj", "operator", "dispatcher"):
        assert api.get("/api/v1/reform/list", as_=who).status_code == 403
    assert api.get("/api/v1/reform/list", as_="supervisor", params={"by": "colour"}).status_code == 422
    assert api.get("/api/v1/reform/list", as_="supervisor", params={"months": 0}).status_code == 422
    assert api.get("/api/v1/reform/list", as_="supervisor", params={"until": "soon"}).status_code == 422


def test_the_command_line_prints_and_writes_csv(rt: Any, monkeypatch: Any, tmp_path: Any) -> None:
    _setup(rt)
    monkeypatch.setattr(cliutil, "runtime", lambda *a, **k: rt)
    result = CliRunner().invoke(cli.app, ["cases", "reform-list", "--months", "2"])
    assert result.exit_code == 0, result.output
    assert "反复跑腿" in result.output and "cases    2" in result.output
    out = tmp_path / "reform.csv"
    result = CliRunner().invoke(cli.app, ["cases", "reform-list", "--by", "department", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    assert "scjg" in out.read_text(encoding="utf-8-sig")
    bad = CliRunner().invoke(cli.app, ["cases", "reform-list", "--by", "colour"])
    assert bad.exit_code != 0 and "obstacle / item / department" in bad.output
    assert CliRunner().invoke(cli.app, ["cases", "reform-list", "--until", "soon"]).exit_code != 0
    verify = CliRunner().invoke(cli.app, ["cases", "verify"])
    assert verify.exit_code == 0 and "3 case files verify" in verify.output
