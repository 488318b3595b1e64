"""长辈版 (elderly-friendly mode, issue 18) in a real browser: the switch is on every citizen page and
remembered; in the mode every text is at least 18px and every heading at least 24px (computed by
Chromium), all text passes axe's AAA contrast rule (color-contrast-enhanced, 7:1), the 12345 number and
the call-back request stay on screen, and each citizen page is photographed at phone width."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.test_a11y import AXE, AxeBrowse, citizen_pages
from tests.web.test_browser import PHONE, LiveServer, live  # noqa: F401

pytestmark = pytest.mark.browser

TOO_SMALL = """() => {
  const small = [], heads = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || el.closest('.sr, [hidden]')) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (own && size < 18) small.push(el.tagName + '.' + el.className + ' ' + size);
    if (/^H[1-3]$/.test(el.tagName) && size < 24) heads.push(el.tagName + ' ' + size);
  }
  return {small, heads};
}"""
AAA = """async () => {
  const r = await axe.run(document, {runOnly: ['color-contrast-enhanced']});
  return r.violations.flatMap(v => v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary));
}"""
RATIO = """() => {
  const lum = c => { const v = c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(x => x / 255)
      .map(x => x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4);
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const s = getComputedStyle(document.querySelector('main p, main li, main dd') || document.body);
  const a = lum(s.color), b = lum(getComputedStyle(document.body).backgroundColor);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def test_care_mode_switch_sizes_contrast_always_visible_help_and_screenshots(
    browser: Any,
    live: LiveServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    citizen = AxeBrowse(browser, live.url, PHONE)
    pages = citizen_pages(citizen)
    citizen.go("/portal")
    assert "care" not in (citizen.page.get_attribute("html", "class") or "")
    citizen.page.click("#care-toggle")
    citizen.page.wait_for_load_state()
    assert citizen.page.url.endswith("/portal")
    assert "care" in (citizen.page.get_attribute("html", "class") or "")
    for i, path in enumerate(pages):
        citizen.go(path)  # remembered: every page arrives in the mode, rendered by the server
        assert "care" in (citizen.page.get_attribute("html", "class") or ""), path
        sizes = citizen.page.evaluate(TOO_SMALL)
        assert not sizes["small"], (path, sizes["small"][:10])
        assert not sizes["heads"], (path, sizes["heads"])
        assert float(citizen.page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")) >= 18
        assert citizen.page.evaluate(RATIO) >= 7, path
        citizen.page.add_script_tag(path=str(AXE))
        assert citizen.page.evaluate(AAA) == [], path
        for help_id in ("#call-12345", "#call-me-back"):
            box = citizen.page.locator(help_id).bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], (
                path,
                help_id,
            )
            assert box["height"] >= 44, (path, help_id)  # a touch target
        shot = tmp_path / f"care-{i:02d}.png"
        citizen.page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 1000
    assert citizen.page.get_attribute("#call-12345", "href") == "tel:12345"
    citizen.page.click("#care-toggle")  # and back to the standard pages
    citizen.page.wait_for_load_state()
    assert "care" not in (citizen.page.get_attribute("html", "class") or "")
    citizen.close()


def test_care_switch_only_same_site_and_not_on_staff_pages(browser: Any, live: LiveServer) -> None:  # noqa: F811
    citizen = AxeBrowse(browser, live.url, PHONE)
    citizen.go("/care/on?next=//evil.example/x")
    assert citizen.page.url == live.url + "/portal"
    citizen.go("/login")
    assert citizen.page.locator("#care-toggle").count() == 0
    assert "care" not in (citizen.page.get_attribute("html", "class") or "")
    citizen.close()
