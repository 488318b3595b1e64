"""Hotspots over the database: board messages imported with their votes, ranked by the API and the CLI,
deterministic for a fixed seed, with a field-level 422 for every bad parameter."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from haoban import cli, cliutil
from haoban.hotspots import service
from haoban.hotspots.models import OrderVote
from tests.conftest import Api

WINDOW = {"since": "2019-01-01", "until": "2020-01-31"}


@pytest.fixture
def board_file(rt: Any, tmp_path: Path) -> Path:
    """A slice of messages_with_votes.csv: two campaigns (丽发新城, 伊景园) and 150 other messages."""
    src = rt.settings.data_dir / "tipdm2020" / "messages_with_votes.csv"
    with src.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames
        rows = list(reader)
    campaign = [r for r in rows if "丽发新城" in r["留言主题"] or "伊景园" in r["留言主题"]]
    others = [r for r in rows if r not in campaign][:150]
    path = tmp_path / "board.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(campaign + others)
    return path


def _cli(rt: Any, monkeypatch: Any, *args: str) -> Any:
    monkeypatch.setattr(cliutil, "runtime", lambda *a, **k: rt)
    return CliRunner().invoke(cli.app, list(args))


def test_import_votes_then_rank_hotspots(api: Api, rt: Any, board_file: Path, monkeypatch: Any) -> None:
    result = _cli(rt, monkeypatch, "hotspots", "import-votes", str(board_file), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["created"] >= 200 and report["votes_stored"] == report["created"]
    with rt.db.read() as session:
        assert session.scalar(select(func.count()).select_from(OrderVote)) == report["created"]
        assert session.scalar(select(func.sum(OrderVote.votes_up))) > 0
    again = json.loads(_cli(rt, monkeypatch, "hotspots", "import-votes", str(board_file), "--json").stdout)
    assert again["created"] == 0 and again["already_present"] == report["created"]

    r = api.get("/api/v1/hotspots", as_="supervisor", params={**WINDOW, "top": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["orders"] == report["created"]
    top = body["hotspots"]
    labels = " ".join(h["label"] for h in top[:2])
    assert "丽发新城" in labels and "伊景园" in labels
    first = top[0]
    assert first["rank"] == 1 and first["size"] >= 20 and first["spread"] >= 20
    assert first["start"] <= first["end"] and first["key_phrases"]
    assert first["sample_orders"][0]["code"].startswith("HB")
    assert first["sample_orders"][0]["code"] in first["members"]
    assert [h["score"] for h in top] == sorted((h["score"] for h in top), reverse=True)
    # The members are real orders the caller may open.
    detail = api.get(f"/api/v1/orders/{first['members'][0]}", as_="supervisor").json()
    assert detail["subject"]


def test_hotspots_are_deterministic_for_a_fixed_seed(
    api: Api, rt: Any, board_file: Path, monkeypatch: Any
) -> None:
    _cli(rt, monkeypatch, "hotspots", "import-votes", str(board_file))
    params = {**WINDOW, "top": 8, "seed": 3}
    one = api.get("/api/v1/hotspots", as_="operator", params=params).json()
    service._hotspot_cache_clear(rt)  # compute again from scratch, not from the cache
    two = api.get("/api/v1/hotspots", as_="operator", params=params).json()
    assert one == two and one["hotspots"]
    service._hotspot_cache_clear(rt)
    out = _cli(rt, monkeypatch, "hotspots", "--since", "2019-01-01", "--until", "2020-01-31", "--top", "8")
    assert out.exit_code == 0, out.output
    cli_json = _cli(
        rt,
        monkeypatch,
        "hotspots",
        "--since",
        "2019-01-01",
        "--until",
        "2020-01-31",
        "--top",
        "8",
        "--seed",
        "3",
        "--json",
    )
    assert cli_json.exit_code == 0, cli_json.output
    assert json.loads(cli_json.stdout) == one
    # Another seed may word the labels differently but finds the same groups.
    other = api.get("/api/v1/hotspots", as_="operator", params={**params, "seed": 4}).json()
    assert [h["members"] for h in other["hotspots"]] == [h["members"] for h in one["hotspots"]]


def test_hotspots_bad_parameters_are_422_and_handlers_403(api: Api, rt: Any, monkeypatch: Any) -> None:
    r = api.get("/api/v1/hotspots", as_="supervisor", params={"since": "2020-02-01", "until": "2020-01-01"})
    assert r.status_code == 422 and "since" in r.json()["fields"]
    r = api.get("/api/v1/hotspots", as_="supervisor", params={"district": "火星区"})
    assert r.status_code == 422 and "district" in r.json()["fields"]
    r = api.get("/api/v1/hotspots", as_="supervisor", params={"top": 0})
    assert r.status_code == 422 and "top" in r.json()["fields"]
    r = api.get("/api/v1/hotspots", as_="supervisor", params={"since": "yesterday"})
    assert r.status_code == 422 and "since" in r.json()["fields"]
    assert api.get("/api/v1/hotspots", as_="h_cgj").status_code == 403
    # Nothing in the window: an empty list, not an error.
    empty = api.get("/api/v1/hotspots", as_="auditor", params={"district": "珠晖区"}).json()
    assert empty["hotspots"] == [] and empty["district"] == "珠晖区"
    bad = _cli(rt, monkeypatch, "hotspots", "--since", "2020-02-01", "--until", "2020-01-01")
    assert bad.exit_code == 2 and "since" in bad.output
    bad = _cli(rt, monkeypatch, "hotspots", "--since", "someday")
    assert bad.exit_code == 2 and "since" in bad.output


def test_import_votes_refuses_files_without_votes(rt: Any, tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("留言编号,留言主题,留言详情\n1,路灯,路灯坏了\n", encoding="utf-8")
    result = _cli(rt, monkeypatch, "hotspots", "import-votes", str(path))
    assert result.exit_code == 2 and "点赞数" in result.output
    result = _cli(rt, monkeypatch, "hotspots", "import-votes", str(tmp_path / "missing.csv"))
    assert result.exit_code == 2 and "no such file" in result.output
