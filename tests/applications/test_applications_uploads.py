"""Material uploads at the edge: application routes take files up to 10 MB each, not the 1 MiB default."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from haoban.applications.materials import MAX_BYTES, TooLarge, Upload, check
from haoban.applications.models import Application, ApplicationMaterial
from haoban.security.edge import DEFAULT_BODY_LIMIT, body_limit
from tests.applications.conftest import PDF, apply, newborn_files


def _count(rt: Any, model: Any) -> int:
    with rt.db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _with(files: list[Any], key: str, data: bytes) -> list[Any]:
    return [f for f in newborn_files() if f[0] != key] + [(key, ("身份证.pdf", data, "application/pdf"))]


def test_a_2_mb_scan_is_accepted(installed: Any, api: Any) -> None:
    scan = PDF + b"0" * (2 * 1024 * 1024)
    assert len(scan) > DEFAULT_BODY_LIMIT  # what the edge refused before upload routes were declared
    r = apply(api, files=_with(newborn_files(), "parents_id_cards", scan))
    assert r.status_code == 201, r.text
    with installed.db.read() as session:
        sizes = dict(session.execute(select(ApplicationMaterial.key, ApplicationMaterial.size)).all())
    assert sizes["parents_id_cards"] == len(scan)


def test_an_11_mb_file_is_refused_with_413_naming_the_material(installed: Any, api: Any) -> None:
    big = PDF + b"0" * (11 * 1024 * 1024)
    r = apply(api, files=_with(newborn_files(), "parents_id_cards", big))
    assert r.status_code == 413, r.text
    body = r.json()
    assert body["error"] == "too_large"
    assert "materials.parents_id_cards" in body["message"] and "10.0 MB" in body["message"]
    assert _count(installed, Application) == 0 and _count(installed, ApplicationMaterial) == 0


def test_resubmission_and_promised_material_routes_take_files_other_routes_do_not() -> None:
    for path in (
        "/api/v1/applications",
        "/api/v1/applications/BJ20261130000001/resubmit",
        "/api/v1/applications/BJ20261130000001/materials",
    ):
        assert body_limit(path) > MAX_BYTES, path
    for path in (
        "/api/v1/applications/BJ20261130000001/tasks/hukou/approve",
        "/api/v1/applications/BJ20261130000001/withdraw",
        "/api/v1/orders",
    ):
        assert body_limit(path) == DEFAULT_BODY_LIMIT, path


def test_the_service_refuses_an_oversize_material_with_413_too() -> None:
    with pytest.raises(TooLarge) as refused:
        check(Upload("birth_proof", "a.pdf", PDF + b"0" * MAX_BYTES))
    assert refused.value.status_code == 413 and "materials.birth_proof" in refused.value.detail["fields"]


def test_a_file_of_the_wrong_type_is_refused_naming_the_material(installed: Any, api: Any) -> None:
    word = b"PK\x03\x04" + b"\x00" * 64  # a .docx (a ZIP archive) renamed to .pdf
    r = apply(api, files=_with(newborn_files(), "parents_id_cards", word))
    assert r.status_code == 422, r.text
    assert "materials.parents_id_cards" in r.json()["fields"] and "ZIP" in r.json()["message"]
    empty = apply(api, files=_with(newborn_files(), "parents_id_cards", b""))
    assert empty.status_code == 422 and "materials.parents_id_cards" in empty.json()["fields"]
    assert _count(installed, Application) == 0 and _count(installed, ApplicationMaterial) == 0
