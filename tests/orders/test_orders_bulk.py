"""Import historic orders (bad rows reported, good rows kept, re-runs add nothing) and export."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from haoban import cli, cliutil
from haoban.orders.models import Order

ROWS = [
    ["编号", "类型", "主题", "内容", "电话", "区县", "受理时间"],
    ["A-1", "投诉", "路灯不亮", "小区路灯坏了", "13812345678", "珠晖区", "2026/11/02 10:00:00"],
    ["A-2", "咨询", "公积金", "公积金怎么提取", "0734-8123456", "石鼓区", "2026-11-03 09:30"],
    ["A-3", "投诉", "空内容", "", "13812345678", "珠晖区", "2026/11/02 10:00:00"],
    ["A-4", "投诉", "坏电话", "有问题", "12345", "珠晖区", "2026/11/02 10:00:00"],
    ["A-5", "投诉", "未知区", "有问题", "13812345678", "火星区", "2026/11/02 10:00:00"],
    ["A-6", "投诉", "坏时间", "有问题", "13812345678", "珠晖区", "yesterday"],
]


def _cli(rt: Any, monkeypatch: Any, *args: str) -> Any:
    monkeypatch.setattr(cliutil, "runtime", lambda *a, **k: rt)
    return CliRunner().invoke(cli.app, list(args))


def _count(rt: Any) -> int:
    with rt.db.read() as s:
        return s.scalar(select(func.count(Order.id)))


def test_import_csv_reports_bad_rows_keeps_good_and_is_idempotent(
    rt: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    path = tmp_path / "history.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(ROWS)
    result = _cli(rt, monkeypatch, "orders", "import", str(path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["created"] == 2 and report["total"] == 6
    assert sorted(e["row"] for e in report["errors"]) == [4, 5, 6, 7]
    reasons = {e["row"]: e["reason"] for e in report["errors"]}
    assert "content" in reasons[4] and "citizen_phone" in reasons[5] and "district" in reasons[6]
    assert "time" in reasons[7]
    assert _count(rt) == 2
    again = json.loads(_cli(rt, monkeypatch, "orders", "import", str(path), "--json").stdout)
    assert again["created"] == 0 and again["already_present"] == 2
    assert _count(rt) == 2


def test_import_xlsx(rt: Any, tmp_path: Path, monkeypatch: Any) -> None:
    wb = Workbook()
    ws = wb.active
    for row in ROWS[:3]:
        ws.append(row)
    path = tmp_path / "history.xlsx"
    wb.save(path)
    result = _cli(rt, monkeypatch, "orders", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "created 2" in result.output
    assert _count(rt) == 2


def test_import_bad_file_is_a_clear_error(rt: Any, tmp_path: Path, monkeypatch: Any) -> None:
    result = _cli(rt, monkeypatch, "orders", "import", str(tmp_path / "missing.csv"))
    assert result.exit_code == 2 and "no such file" in result.output
    odd = tmp_path / "data.pdf"
    odd.write_bytes(b"%PDF")
    result = _cli(rt, monkeypatch, "orders", "import", str(odd))
    assert result.exit_code == 2 and ".csv or .xlsx" in result.output


def test_import_tipdm_messages(rt: Any, tmp_path: Path, monkeypatch: Any) -> None:
    src = rt.settings.data_dir / "tipdm2020" / "messages_unlabelled.csv"
    path = tmp_path / "sample.csv"
    with src.open(encoding="utf-8-sig") as fh:
        lines = [next(fh) for _ in range(21)]
    path.write_text("".join(lines), encoding="utf-8")
    report = json.loads(_cli(rt, monkeypatch, "orders", "import", str(path), "--json").stdout)
    assert report["created"] + len(report["errors"]) == 20
    assert report["created"] >= 15


def test_export_cli_masks(rt: Any, tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "history.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(ROWS[:2])
    _cli(rt, monkeypatch, "orders", "import", str(path))
    out = tmp_path / "out.csv"
    result = _cli(rt, monkeypatch, "orders", "export", "-o", str(out))
    assert result.exit_code == 0
    text = out.read_text(encoding="utf-8-sig")
    assert "138****5678" in text and "13812345678" not in text


def test_user_create_cli(rt: Any, monkeypatch: Any) -> None:
    result = _cli(
        rt,
        monkeypatch,
        "user",
        "create",
        "newbie",
        "--role",
        "handler",
        "--department",
        "cgj",
        "--password",
        "river-lamp-9931",
    )
    assert result.exit_code == 0, result.output
    weak = _cli(rt, monkeypatch, "user", "create", "x3", "--role", "operator", "--password", "1234")
    assert weak.exit_code == 2 and "password" in weak.output  # the policy holds on the command line too
    bad = _cli(rt, monkeypatch, "user", "create", "x2", "--role", "handler", "--password", "river-lamp-9931")
    assert bad.exit_code == 2 and "department" in bad.output
    dup = _cli(
        rt, monkeypatch, "user", "create", "newbie", "--role", "operator", "--password", "river-lamp-9931"
    )
    assert dup.exit_code == 2 and "already exists" in dup.output
