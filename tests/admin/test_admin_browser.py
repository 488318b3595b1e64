"""Admin pages in Chromium (issue 13): a transfer rule is created; a calendar upload is previewed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.admin.test_admin_pages import FIRST_2027, SECOND_2027
from tests.web.test_browser import SHOTS, Browse, LiveServer, live  # noqa: F401

pytestmark = pytest.mark.browser


def test_admin_creates_a_transfer_rule(browser: Any, live: LiveServer) -> None:  # noqa: F811
    b = Browse(browser, live.url)
    b.login("admin")
    b.go("/admin?tab=rules")
    b.page.fill("#r-name", "燃气泄漏转119")
    b.page.fill("#r-keywords", "燃气泄漏，煤气味")
    b.page.select_option("#r-outcome", "transfer")
    b.page.select_option("#r-target", "119")
    b.page.click("#rule-add")
    b.page.wait_for_selector("#saved")
    b.assert_clean()
    row = b.page.locator("#rules-table tr", has_text="燃气泄漏转119")
    assert "119 火警" in row.inner_text() and "转警/急救" in row.inner_text()
    # delete asks first, then the rule sits in the history with a restore button
    row.locator("a", has_text="删除").click()
    b.page.wait_for_selector("#confirm-delete")
    b.page.click("#confirm-delete-btn")
    b.page.wait_for_selector("#saved")
    assert b.page.locator("#rules-table tr", has_text="燃气泄漏转119").count() == 0
    b.page.locator("#rule-history tr", has_text="燃气泄漏转119").locator("button").click()
    b.page.wait_for_selector("#restored")
    assert b.page.locator("#rules-table tr", has_text="燃气泄漏转119").count() == 1
    b.close()


def test_admin_calendar_preview_shows_a_dropped_festival(
    browser: Any,
    live: LiveServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "2027.csv", tmp_path / "2027-again.csv"
    first.write_text(FIRST_2027, encoding="utf-8")
    second.write_text(SECOND_2027, encoding="utf-8")
    b = Browse(browser, live.url)
    b.login("admin")
    b.go("/admin?tab=calendar")
    assert b.page.is_visible("#calendar-format") and b.page.is_visible("#calendar-template")
    b.page.set_input_files("#c-file", str(first))
    b.page.click("#calendar-preview-btn")
    b.page.wait_for_selector("#calendar-preview")
    assert "春节" in b.page.inner_text("#preview-table")
    if b.page.locator("#confirm-dropped").count():  # the package's own 2027 had more holidays
        b.page.check("#confirm-dropped")
    b.page.click("#calendar-save")
    b.page.wait_for_selector("#saved")

    b.page.set_input_files("#c-file", str(second))
    b.page.click("#calendar-preview-btn")
    b.page.wait_for_selector("#preview-dropped")
    assert "春节" in b.page.inner_text("#preview-dropped")
    SHOTS.mkdir(parents=True, exist_ok=True)
    b.page.screenshot(path=str(SHOTS / "admin-calendar-preview.png"), full_page=True)
    b.page.click("#calendar-save")  # not ticked: refused, the preview stays
    b.page.wait_for_selector("#err-confirm_dropped")
    assert b.page.is_visible("#calendar-preview")
    b.page.check("#confirm-dropped")
    b.page.click("#calendar-save")
    b.page.wait_for_selector("#saved")
    assert "国庆节" in b.page.inner_text("main") and b.page.is_visible("#calendar-history")
    b.close()
