"""The dashboard in Chromium (issue 13): plotly's toolbar speaks Chinese (its zh-CN locale, served by the
app) and offers no button sending a chart to an outside cloud; on a phone there is no toolbar over the
charts and the legend sits under the plot."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.builders import make_order
from tests.web.test_browser import PHONE, Browse, LiveServer, live  # noqa: F401

pytestmark = pytest.mark.browser


def test_dashboard_toolbar_speaks_chinese_without_share_and_stays_off_phones(
    browser: Any,
    live: LiveServer,  # noqa: F811
) -> None:
    make_order(live.rt, status="signed")
    b = Browse(browser, live.url)
    b.login("supervisor")
    b.go("/dashboard")
    b.page.wait_for_selector("#chart-trend .main-svg", state="attached")
    b.page.hover("#chart-trend")
    titles = b.page.eval_on_selector_all(
        "#chart-trend .modebar-btn", "bs => bs.map(x => x.getAttribute('data-title') || '')"
    )
    assert titles and all(re.search(r"[\u4e00-\u9fff]", x) for x in titles), titles  # zh-CN locale
    assert b.page.locator("[data-attr='sendDataToCloud'], .modebar-btn[data-title*='Cloud']").count() == 0
    assert b.page.locator("a.modebar-btn[href*='plot.ly'], .modebar-btn--logo").count() == 0
    b.close()

    p = Browse(browser, live.url, PHONE)
    p.login("supervisor")
    p.go("/dashboard")
    p.page.wait_for_selector("#chart-trend .main-svg", state="attached")
    assert p.page.locator("#chart-trend .modebar").count() == 0  # no toolbar over the legend
    legend = p.page.locator("#chart-trend .legend").bounding_box()
    plot = p.page.locator("#chart-trend .bglayer").bounding_box()
    assert legend is not None and plot is not None
    assert legend["y"] >= plot["y"] + plot["height"] - 1  # the legend sits under the plot area
    p.close()
