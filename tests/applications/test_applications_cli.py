"""``haoban applications`` and ``haoban bundles``: the same rules as the API, errors with a non-zero exit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from typer.testing import CliRunner

from haoban import cli, cliutil
from haoban.applications.models import Application, BundleDefinitionRow
from haoban.bundles.definitions import DEFINITIONS_DIR
from tests.applications.conftest import APPLICANT, NEWBORN, PDF, PNG


class _Run:
    """A command's result, its output with rich's line wrapping undone."""

    def __init__(self, result: Any) -> None:
        self.exit_code = result.exit_code
        self.stdout = result.stdout
        self.output = " ".join(result.output.split())


def _cli(rt: Any, monkeypatch: Any, *args: str) -> Any:
    monkeypatch.setattr(cliutil, "runtime", lambda *a, **k: rt)
    return _Run(CliRunner().invoke(cli.app, list(args)))


def _count(rt: Any, model: Any) -> int:
    with rt.db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _submit_args(tmp_path: Path, *extra: str) -> list[str]:
    form = tmp_path / "form.json"
    form.write_text(json.dumps(NEWBORN["form"], ensure_ascii=False), encoding="utf-8")
    (tmp_path / "id.pdf").write_bytes(PDF)
    (tmp_path / "hh.pdf").write_bytes(PDF + b"hh")
    (tmp_path / "marriage.png").write_bytes(PNG)
    return [
        "applications",
        "submit",
        "newborn",
        "--form",
        str(form),
        "--name",
        APPLICANT["name"],
        "--phone",
        APPLICANT["phone"],
        "--id-number",
        APPLICANT["id_number"],
        "-m",
        f"parents_id_cards={tmp_path / 'id.pdf'}",
        "-m",
        f"household_register={tmp_path / 'hh.pdf'}",
        *extra,
    ]


def test_submit_list_show_and_act_from_the_command_line(
    installed: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    r = _cli(installed, monkeypatch, *_submit_args(tmp_path, "--as", "window", "--json"))
    assert r.exit_code == 0, r.output
    code = json.loads(r.stdout)["code"]
    r = _cli(installed, monkeypatch, "applications", "list", "--as", "h_wjw", "--json")
    assert r.exit_code == 0 and [i["code"] for i in json.loads(r.stdout)["items"]] == [code]
    assert json.loads(r.stdout)["items"][0]["channel"] == "window"
    # The public security bureau has no task yet: it does not see the application at all.
    r = _cli(installed, monkeypatch, "applications", "list", "--as", "h_gaj", "--json")
    assert json.loads(r.stdout)["total"] == 0
    r = _cli(installed, monkeypatch, "applications", "act", code, "hukou", "accept", "--as", "h_gaj")
    assert r.exit_code != 0 and "no application" in r.output

    result = json.dumps(NEWBORN["results"]["birth_certificate"])
    r = _cli(
        installed, monkeypatch, "applications", "act", code, "birth_certificate", "accept", "--as", "h_wjw"
    )
    assert r.exit_code == 0, r.output
    # Another department may not decide the hospital's task.
    r = _cli(
        installed, monkeypatch, "applications", "act", code, "birth_certificate", "approve",
        "--as", "h_ybj", "--result", result,
    )  # fmt: skip
    assert r.exit_code != 0
    bad = _cli(
        installed, monkeypatch, "applications", "act", code, "birth_certificate", "approve",
        "--as", "h_wjw", "--result", '{"certificate_no": "nope"}',
    )  # fmt: skip
    assert bad.exit_code != 0 and "result.certificate_no" in bad.output
    r = _cli(
        installed, monkeypatch, "applications", "act", code, "birth_certificate", "approve",
        "--as", "h_wjw", "--result", result,
    )  # fmt: skip
    assert r.exit_code == 0 and "birth_certificate: approved" in r.output, r.output
    r = _cli(installed, monkeypatch, "applications", "show", code, "--as", "supervisor", "--json")
    shown = json.loads(r.stdout)
    statuses = {t["task_id"]: t["status"] for t in shown["tasks"]}
    assert statuses["birth_certificate"] == "approved" and statuses["hukou"] == "pending"
    assert any("电子证照" in e["text"] for e in shown["timeline"])
    r = _cli(installed, monkeypatch, "applications", "show", code, "--as", "supervisor")
    assert r.exit_code == 0 and "出生医学证明" in r.output


def test_bad_input_exits_non_zero_naming_the_field_and_stores_nothing(
    installed: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    exe = tmp_path / "setup.pdf"
    exe.write_bytes(b"MZ\x90\x00" + b"\x00" * 64)
    args = _submit_args(tmp_path)
    args[args.index(f"parents_id_cards={tmp_path / 'id.pdf'}")] = f"parents_id_cards={exe}"
    r = _cli(installed, monkeypatch, *args)
    assert r.exit_code == 2 and "materials.parents_id_cards" in r.output and "executable" in r.output
    r = _cli(installed, monkeypatch, *_submit_args(tmp_path, "--as", "nobody"))
    assert r.exit_code == 2 and "no account 'nobody'" in r.output
    form = tmp_path / "form.json"
    r = _cli(
        installed,
        monkeypatch,
        *_submit_args(tmp_path)[:3],
        "--form",
        str(form),
        "--name",
        "x",
        "--phone",
        "1",
    )
    assert r.exit_code == 2 and "applicant.phone" in r.output
    form.write_text("{not json", encoding="utf-8")
    r = _cli(
        installed, monkeypatch, "applications", "submit", "newborn", "--form", str(form),
        "--name", "李娟", "--phone", "13812345678",
    )  # fmt: skip
    assert r.exit_code == 2 and "not valid JSON" in r.output
    r = _cli(installed, monkeypatch, "applications", "list", "--status", "lost")
    assert r.exit_code == 2 and "unknown status 'lost'" in r.output
    assert _count(installed, Application) == 0


def test_bundles_list_validate_upload(installed: Any, tmp_path: Path, monkeypatch: Any) -> None:
    r = _cli(installed, monkeypatch, "bundles", "list", "--json")
    assert r.exit_code == 0 and "newborn" in {b["code"] for b in json.loads(r.stdout)}
    directory = tmp_path / "newborn"
    shutil.copytree(DEFINITIONS_DIR / "newborn", directory)
    r = _cli(installed, monkeypatch, "bundles", "validate", str(directory), "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["valid"] is True
    bpmn = directory / "process.bpmn"
    bpmn.write_bytes(
        bpmn.read_bytes().replace(b'value="gaj-newborn-hukou-registration"', b'value="gaj-no-such-item"', 1)
    )
    before = _count(installed, BundleDefinitionRow)
    r = _cli(installed, monkeypatch, "bundles", "validate", str(directory))
    assert r.exit_code == 1 and "hukou" in r.output and "gaj-no-such-item" in r.output
    r = _cli(installed, monkeypatch, "bundles", "upload", str(directory))
    assert r.exit_code == 2 and "process.bpmn:hukou" in r.output
    (directory / "mapping.yaml").unlink()
    r = _cli(installed, monkeypatch, "bundles", "validate", str(directory))
    assert r.exit_code == 2 and "mapping.yaml" in r.output
    assert _count(installed, BundleDefinitionRow) == before
    shutil.copy(DEFINITIONS_DIR / "newborn" / "process.bpmn", bpmn)
    shutil.copy(DEFINITIONS_DIR / "newborn" / "mapping.yaml", directory / "mapping.yaml")
    meta = directory / "bundle.yaml"
    meta.write_bytes(meta.read_bytes().replace(b"3 working_days", b"2 working_days"))
    r = _cli(installed, monkeypatch, "bundles", "upload", str(directory), "--as", "h_wjw")
    assert r.exit_code == 2 and _count(installed, BundleDefinitionRow) == before  # administrators only
    r = _cli(installed, monkeypatch, "bundles", "upload", str(directory), "--as", "admin")
    assert r.exit_code == 0 and "stored as version 2" in r.output, r.output
    r = _cli(installed, monkeypatch, "bundles", "upload", str(directory), "--as", "admin")
    assert r.exit_code == 0 and "unchanged at version 2" in r.output
