"""Pure fixtures for the bundle engine: shipped definitions, a fixed clock, the worked examples."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from haoban.bundles.definitions import DEFINITIONS_DIR, Definition, shipped_example, shipped_items
from haoban.bundles.engine import BundleEngine, calendar_hooks
from haoban.bundles.loader import load_shipped

# Monday 2026-11-30 10:00 in Hengyang: a plain working day.
MONDAY = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
CITY = Path(__file__).resolve().parents[2] / "src" / "haoban" / "demo" / "city.yaml"


@pytest.fixture(scope="session")
def known_items() -> dict[str, str]:
    return {i["code"]: i["department"] for i in shipped_items()}


@pytest.fixture(scope="session")
def city_departments() -> set[str]:
    return {d["code"] for d in yaml.safe_load(CITY.read_text(encoding="utf-8"))["departments"]}


@pytest.fixture(scope="session")
def shipped(known_items: dict[str, str], city_departments: set[str]) -> dict[str, Definition]:
    return load_shipped(known_items=known_items, known_departments=city_departments)


@pytest.fixture(scope="session")
def newborn(shipped: dict[str, Definition]) -> Definition:
    return shipped["newborn"]


@pytest.fixture
def engine() -> BundleEngine:
    return BundleEngine(hooks=calendar_hooks(now=lambda: MONDAY))


@pytest.fixture(scope="session")
def example() -> dict[str, dict]:
    return {
        p.name: shipped_example(p.name) for p in DEFINITIONS_DIR.iterdir() if (p / "example.yaml").exists()
    }


def newborn_files() -> dict[str, bytes]:
    base = DEFINITIONS_DIR / "newborn"
    return {
        name: (base / name).read_bytes()
        for name in ("process.bpmn", "form.schema.json", "mapping.yaml", "bundle.yaml")
    }
