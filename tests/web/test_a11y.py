"""Accessibility measured in a real browser (issue 18): axe-core over every citizen page.

axe-core (npm registry, vendored as a test asset in tests/assets/axe-core/, version in VERSION there) is
injected by Playwright into each citizen page, in Chinese and English, at phone and desktop width. The
test fails on any serious or critical violation and writes the count of every impact level per page to
``axe-report.json`` + ``axe-report.md`` in the test's tmp dir (path printed; summary in bench/RESULTS.md).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.web.test_browser import DESKTOP, PHONE, Browse, LiveServer, live  # noqa: F401

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[1] / "assets" / "axe-core" / "axe.min.js"
LEVELS = ("critical", "serious", "moderate", "minor")
BLOCKING = ("critical", "serious")
APPEAL = "小区门口的路灯坏了三天，晚上很黑，老人出门不方便，请尽快修理。"

RUN_AXE = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.length, targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


class AxeBrowse(Browse):
    """A Browse whose context lets Playwright inject axe despite the pages' CSP (script-src 'self')."""

    def __init__(self, browser: Any, base: str, viewport: dict[str, int] = DESKTOP) -> None:
        self.base = base
        self.ctx = browser.new_context(viewport=viewport, locale="zh-CN", bypass_csp=True)
        self.page = self.ctx.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))


def file_appeal(citizen: Browse) -> tuple[str, str]:
    """File an appeal through the portal; returns (filed page path, tracking page path)."""
    citizen.go("/portal")
    citizen.page.select_option("#type", "help")
    citizen.page.fill("#content", APPEAL)
    citizen.page.fill("#citizen_phone", "13912345678")
    citizen.page.click("#file-form button[type=submit]")
    citizen.page.wait_for_selector("#tracking-code")
    filed = citizen.page.url.removeprefix(citizen.base)
    code = citizen.page.inner_text("#tracking-code").strip()
    track = re.sub(r"^/portal/filed/", "/portal/track/", filed)
    assert code in track
    return filed, track


def citizen_pages(citizen: Browse) -> list[str]:
    filed, track = file_appeal(citizen)
    return [
        "/",
        "/portal",
        filed,
        "/portal/track",
        track,
        "/portal/benefits",
        "/services",
        "/services?q=%E4%B8%8A%E6%88%B7%E5%8F%A3",
        "/services/items/gaj-newborn-hukou-registration",
        "/verify",
        "/verify/NOSUCHCODE",
        "/tour",
        "/tour/places/nanyue-damiao",
        "/tour/places/nanyue-damiao/book",
        "/tour/map",
        "/tour/ask?q=%E5%BC%80%E6%94%BE%E6%97%B6%E9%97%B4",
    ]


def axe_violations(citizen: Browse, path: str) -> list[dict[str, Any]]:
    citizen.go(path)
    citizen.page.add_script_tag(path=str(AXE))
    return list(citizen.page.evaluate(RUN_AXE))


def test_axe_every_citizen_page_both_languages_phone_and_desktop(
    browser: Any,
    live: LiveServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    report: list[dict[str, Any]] = []
    blocking: list[str] = []
    setup = Browse(browser, live.url, DESKTOP)
    pages = citizen_pages(setup)
    setup.close()
    for lang in ("zh", "en"):
        for width, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            citizen = AxeBrowse(browser, live.url, viewport)
            citizen.go(f"/lang/{lang}?next=/")
            for path in pages:
                found = axe_violations(citizen, path)
                html_lang = citizen.page.get_attribute("html", "lang")
                assert html_lang == ("en" if lang == "en" else "zh-CN"), (path, lang, html_lang)
                counts = {level: sum(v["nodes"] for v in found if v["impact"] == level) for level in LEVELS}
                report.append(
                    {"page": path, "lang": lang, "width": width, "counts": counts, "violations": found}
                )
                blocking += [
                    f"{lang}/{width} {path}: {v['impact']} {v['id']} ({v['help']}) at {v['targets']}"
                    for v in found
                    if v["impact"] in BLOCKING
                ]
            citizen.close()
    (tmp_path / "axe-report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    lines = ["| page | lang | width | " + " | ".join(LEVELS) + " |", "|---|---|---|" + "---|" * len(LEVELS)]
    for row in report:
        page = re.sub(r"\?k=.*", "?k=…", row["page"])
        lines.append(
            f"| {page} | {row['lang']} | {row['width']} | "
            + " | ".join(str(row["counts"][lv]) for lv in LEVELS)
            + " |"
        )
    totals = {lv: sum(r["counts"][lv] for r in report) for lv in LEVELS}
    lines.append("| **all** | | | " + " | ".join(str(totals[lv]) for lv in LEVELS) + " |")
    (tmp_path / "axe-report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"axe report: {tmp_path / 'axe-report.md'} totals {totals}")
    assert len(report) == len(pages) * 4
    assert not blocking, "serious/critical accessibility violations:\n" + "\n".join(blocking)
