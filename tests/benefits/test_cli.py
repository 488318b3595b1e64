"""``haoban benefits``: import with line-numbered refusals, match with its report, upload refused by row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from haoban import cli, cliutil
from haoban.benefits import demo, store
from tests.benefits.conftest import birthday


def _cli(rt: Any, monkeypatch: Any, *args: str) -> Any:
    monkeypatch.setattr(cliutil, "runtime", lambda *a, **k: rt)
    return CliRunner().invoke(cli.app, ["benefits", *args])


def test_import_match_verify(rt: Any, tmp_path: Path, monkeypatch: Any) -> None:
    assert json.loads(_cli(rt, monkeypatch, "install", "--json").stdout)["installed"]
    born = birthday(86)
    idn = demo.id_number(born, True, 9)
    good = tmp_path / "residents.csv"
    good.write_text(
        f"id_number,name,sex,birth_date,phone\n{idn},示例,M,{born.isoformat()},13800009876\n", "utf-8"
    )
    r = _cli(rt, monkeypatch, "import", "residents", str(good), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["inserted"] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("id_number,name,sex,birth_date\n123,甲,M,1950-01-01\n", "utf-8")
    r = _cli(rt, monkeypatch, "import", "residents", str(bad))
    assert r.exit_code == 2 and "line 2" in r.output
    r = _cli(rt, monkeypatch, "match", "--date", "2026-11-30", "--json")
    assert r.exit_code == 0, r.output
    runs = {x["policy"]: x for x in json.loads(r.stdout.strip().splitlines()[-1])}
    assert runs["elderly_allowance"]["granted"] == 1 and runs["elderly_allowance"]["mode"] == "full"
    r = _cli(rt, monkeypatch, "verify")
    assert r.exit_code == 0 and "1 grants checked, 0 broken" in r.output


def test_upload_refused_with_the_row(rt: Any, tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "e.dmn"
    text = (store.SHIPPED / "elderly_allowance.dmn").read_text("utf-8")
    path.write_text(text.replace("[90..100)", "[85..100)"), "utf-8")
    r = _cli(rt, monkeypatch, "upload", str(path))
    assert r.exit_code == 2 and "row 2" in r.output and "overlaps row 1" in r.output


def test_list_the_eligible_as_csv(rt: Any, tmp_path: Path, monkeypatch: Any) -> None:
    import csv

    _cli(rt, monkeypatch, "install")
    born = birthday(91)
    good = tmp_path / "residents.csv"
    good.write_text(
        f"id_number,name,sex,birth_date\n{demo.id_number(born, True, 11)},示例长者,M,{born}\n", "utf-8"
    )
    _cli(rt, monkeypatch, "import", "residents", str(good))
    _cli(rt, monkeypatch, "match", "--date", "2026-11-30")
    out = tmp_path / "eligible.csv"
    r = _cli(rt, monkeypatch, "list", "--policy", "elderly_allowance", "-o", str(out))
    assert r.exit_code == 0, r.output
    (row,) = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert (row["rule_row"], row["amount_fen"], row["subject"]) == ("2", "20000", "示***")
    assert json.loads(row["facts"]) == {"age": 91, "hukou_status": "active"}
