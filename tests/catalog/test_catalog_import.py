"""Catalogue files: bad rows reported by number (nothing of them stored), re-import idempotent, export
re-imports unchanged, CSV and YAML, the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

from haoban import cli, cliutil
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.catalog import bulk, service
from haoban.catalog.models import ItemMaterial, ServiceItem
from haoban.errors import Invalid

HEADER = [
    "事项编码",
    "事项名称",
    "实施部门",
    "办件类型",
    "法定时限",
    "承诺时限",
    "网办深度",
    "申请材料",
    "收费（分）",
    "设定依据",
    "人生事件",
]
GOOD = [
    "t-pet-licence",
    "犬只登记",
    "gaj",
    "承诺件",
    "20",
    "5",
    "全程网办",
    "居民身份证|原件|1||gaj-resident-id-card; 犬只免疫证明|复印件|1|容缺",
    "5000",
    "《衡阳市养犬管理条例》第十条",
    "出行;户籍",
]
ROWS = [
    GOOD,
    # 3: unknown department, by name
    ["t-bad-dept", "某事项", "市火星局", "即办件", "1", "0", "全程网办", "", "0", "", ""],
    # 4: a promise longer than the law allows
    ["t-bad-limit", "某事项", "gaj", "承诺件", "5", "10", "窗口办理", "", "0", "", ""],
    # 5: a material naming a licence no item issues
    ["t-bad-licence", "某", "mzj", "承诺件", "10", "3", "全程网办", "户口本|原件|1||no-item", "0", "", ""],
    # 6: an unknown kind and an unknown online level
    ["t-bad-kind", "某事项", "mzj", "马上办", "1", "0", "网上冲浪", "", "0", "", ""],
    # 7: a material with too many parts
    ["t-bad-material", "某事项", "mzj", "即办件", "1", "0", "全程网办", "a|原件|1||||x", "0", "", ""],
    # 8: the市 department's full name works; a material names an item defined further down the file
    [
        "t-by-name",
        "犬只年检",
        "市公安局（户政、交管非紧急）",
        "即办件",
        "1",
        "0",
        "网上预约+窗口",
        "登记证|原件|1||t-later",
        "0",
        "",
        "",
    ],
    ["t-later", "后面的事项", "gaj", "即办件", "3", "0", "窗口办理", "", "0", "", ""],
]


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    w.writerows(rows)
    return buf.getvalue()


def _import(rt: Any, text: str, fmt: str = "csv") -> service.ImportReport:
    rows = bulk.read_text(text, fmt=fmt)
    with rt.db.write() as session:
        return service.import_rows(session, rows=rows, directory=rt.directory, actor=SYSTEM_ACTOR)


def _codes(rt: Any, prefix: str = "t-") -> set[str]:
    with rt.db.read() as s:
        return set(s.scalars(select(ServiceItem.code).where(ServiceItem.code.like(f"{prefix}%"))))


def test_bad_rows_are_reported_by_row_number_and_store_nothing(rt: Any) -> None:
    report = _import(rt, _csv(ROWS))
    errors = {row: (code, message) for row, code, message in report.errors}
    assert sorted(errors) == [3, 4, 5, 6, 7]
    assert "unknown department '市火星局'" in errors[3][1]
    assert "promised_days (10) exceeds statutory_days (5)" in errors[4][1]
    assert "materials.0.licence_kind" in errors[5][1] and "no-item" in errors[5][1]
    assert "kind" in errors[6][1] and "online" in errors[6][1] and "承诺件" in errors[6][1]
    assert errors[7] == ("t-bad-material", "materials: material 'a' has 7 parts; at most 6")
    assert (report.total, report.created, report.updated, report.unchanged) == (8, 3, 0, 0)
    assert _codes(rt) == {"t-pet-licence", "t-by-name", "t-later"}
    with rt.db.read() as s:
        item = service.get_item(s, code="t-pet-licence")
        view = service.item_view(item)
    assert view["department"] == "gaj" and view["kind"] == "promised" and view["online"] == "full"
    assert view["fee_fen"] == 5000 and view["life_events"] == ["出行", "户籍"] and view["days_saved"] == 15
    assert [(m["name"], m["form"], m["tolerance"], m["held_by_government"]) for m in view["materials"]] == [
        ("居民身份证", "original", False, True),
        ("犬只免疫证明", "copy", True, False),
    ]


def test_reimport_is_idempotent_and_a_change_updates_in_place(rt: Any) -> None:
    text = _csv(ROWS)
    _import(rt, text)
    with rt.db.read() as s:
        before = {i.code: (i.id, i.version) for i in s.scalars(select(ServiceItem)).unique()}
        materials = s.scalar(select(func.count(ItemMaterial.id)))
    again = _import(rt, text)
    assert (again.created, again.updated, again.unchanged, len(again.errors)) == (0, 0, 3, 5)
    with rt.db.read() as s:
        after = {i.code: (i.id, i.version) for i in s.scalars(select(ServiceItem)).unique()}
        assert s.scalar(select(func.count(ItemMaterial.id))) == materials
    assert after == before

    changed = [[*GOOD[:5], "3", GOOD[6], "居民身份证|原件|1||gaj-resident-id-card", *GOOD[8:]]]
    report = _import(rt, _csv(changed))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    with rt.db.read() as s:
        item = service.get_item(s, code="t-pet-licence")
        assert item.promised_days == 3 and [m.name for m in item.materials] == ["居民身份证"]
        assert (item.id, item.version) == (before["t-pet-licence"][0], before["t-pet-licence"][1] + 1)


def test_yaml_errors_name_the_line_and_export_round_trips(rt: Any) -> None:
    text = """\
items:
  - code: t-yaml-good
    name: 犬只登记（YAML）
    department: gaj
    kind: promised
    statutory_days: 20
    promised_days: 5
    online: full
    materials:
      - {name: 居民身份证, form: 原件, licence_kind: gaj-resident-id-card}
  - code: t-yaml-bad
    name: 坏的
    department: gaj
    kind: immediate
    statutory_days: 1
    promised_days: 1
    online: full
  - just a string
"""
    report = _import(rt, text, fmt="yaml")
    assert [(r, c) for r, c, _m in report.errors] == [(11, "t-yaml-bad"), (18, None)]
    assert "immediate item (即办件)" in report.errors[0][2]
    assert report.created == 1

    with rt.db.read() as s:
        exported_csv = service.export_text(s, fmt="csv")
        exported_yaml = service.export_text(s, fmt="yaml")
        total = s.scalar(select(func.count(ServiceItem.id)))
    assert total > 20  # the bundles' items seeded in the template, and ours
    for text, fmt in ((exported_csv, "csv"), (exported_yaml, "yaml")):
        again = _import(rt, text, fmt=fmt)
        assert (again.total, again.unchanged, again.errors) == (total, total, []), fmt
    codes = [i["code"] for i in yaml.safe_load(exported_yaml)["items"]]
    assert codes == sorted(codes)


def test_unknown_columns_and_malformed_yaml_are_refused_whole(rt: Any) -> None:
    with pytest.raises(Invalid, match="unknown columns: 颜色"):
        bulk.read_text("事项编码,颜色\nx,红\n", fmt="csv")
    with pytest.raises(Invalid, match="not valid YAML at line 3"):
        bulk.read_text("items:\n  - code: x\n  name: [y\n", fmt="yaml")


def _cli(rt: Any, monkeypatch: Any, *args: str) -> Any:
    monkeypatch.setattr(cliutil, "runtime", lambda *a, **k: rt)
    return CliRunner().invoke(cli.app, list(args))


def test_cli_import_export_list_show(rt: Any, tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "items.csv"
    path.write_text(_csv(ROWS), encoding="utf-8")
    r = _cli(rt, monkeypatch, "catalog", "import", str(path), "--json")
    assert r.exit_code == 1  # some rows were refused
    data = json.loads(r.stdout)
    assert data["created"] == 3 and [e["row"] for e in data["errors"]] == [3, 4, 5, 6, 7]
    r = _cli(rt, monkeypatch, "catalog", "import", str(path))
    assert r.exit_code == 1 and "unchanged 3" in r.stdout and "row 3" in r.stdout

    out = tmp_path / "export.yaml"
    r = _cli(rt, monkeypatch, "catalog", "export", "-o", str(out))
    assert r.exit_code == 0, r.output
    r = _cli(rt, monkeypatch, "catalog", "import", str(out), "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["created"] == 0

    r = _cli(rt, monkeypatch, "catalog", "list", "--department", "gaj", "--json")
    assert r.exit_code == 0 and "t-pet-licence" in {i["code"] for i in json.loads(r.stdout)["items"]}
    r = _cli(rt, monkeypatch, "catalog", "list", "-q", "新生儿落户", "--json")
    assert json.loads(r.stdout)["items"][0]["code"] == "gaj-newborn-hukou-registration"
    r = _cli(rt, monkeypatch, "catalog", "show", "t-pet-licence")
    assert r.exit_code == 0 and "犬只免疫证明" in r.stdout and "容缺" in r.stdout
    r = _cli(rt, monkeypatch, "catalog", "show", "nope")
    assert r.exit_code != 0 and "no service item 'nope'" in r.output
    r = _cli(rt, monkeypatch, "catalog", "import", str(tmp_path / "missing.csv"))
    assert r.exit_code != 0 and "no such file" in r.output
