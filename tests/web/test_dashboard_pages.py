"""The dashboard (issue 13): plotly's toolbar in Chinese without the cloud button, filters kept on a bad
range with a translated error, CSVs in the page's language, the caveat beside 按时办结率."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.builders import make_order
from tests.web.test_pages_access import login


def test_plotly_locale_served_offline_and_toolbar_config(client: Any) -> None:
    login(client, "supervisor")
    page = client.get("/dashboard").text
    assert '<script src="/static/vendor/plotly.js-locales/zh-cn.js" defer></script>' in page
    r = client.get("/static/vendor/plotly.js-locales/zh-cn.js")
    assert r.status_code == 200 and "zh-CN" in r.text and "Plotly.register" in r.text
    assert client.get("/static/vendor/plotly.js-locales/LICENSE").status_code == 200
    assert "plotly.js-locales/zh-cn.js" not in client.get("/dashboard?lang=en").text
    js = client.get("/static/dashboard.js").text
    assert "showSendToCloud: false" in js and 'locale: zh ? "zh-CN"' in js


def test_bad_range_keeps_filters_and_says_why_in_chinese(client: Any) -> None:
    login(client, "supervisor")
    r = client.get("/dashboard?from=2026-11-20&to=2026-11-01&district=zhx")
    assert 'value="2026-11-20"' in r.text and 'value="2026-11-01"' in r.text
    assert "开始日期不能晚于结束日期" in r.text and "must not be after" not in r.text
    assert 'id="dash-default"' in r.text
    r = client.get("/dashboard?from=2026-11-20&to=2026-11-01&lang=en")
    assert "The start date must not be after the end date" in r.text
    # every filter is kept, the district too (a real one, selected again in its picker)
    r = client.get("/dashboard?from=2026-11-20&to=2026-11-01&district=zhengxiang&lang=zh")
    assert '<option value="zhengxiang" selected>' in r.text and "开始日期不能晚于结束日期" in r.text
    r = client.get("/dashboard?from=nonsense&lang=zh")
    assert 'value="nonsense"' in r.text and "请按 年-月-日 填写日期" in r.text


def test_on_time_rate_has_its_caveat_and_open_overdue_count(client: Any) -> None:
    login(client, "supervisor")
    html = client.get("/dashboard").text
    card = html[html.index('id="kpi-on_time_rate"') :]
    card = card[: card.index("</li>")]
    assert 'id="on-time-caveat"' in card and 'id="on-time-overdue-open"' in card
    assert "已超时" in card


def test_csv_exports_in_chinese_with_an_english_option(client: Any, rt: Any) -> None:
    make_order(rt, status="dispatched")
    login(client, "supervisor")
    html = client.get("/dashboard").text
    assert "/dashboard/export/kpis.csv?" in html and "lang=en" in html
    zh = client.get("/dashboard/export/kpis.csv?lang=zh")
    assert zh.status_code == 200 and zh.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(zh.content.decode("utf-8-sig"))))
    assert rows[0] == ["指标", "数值"]
    names = [r[0] for r in rows[1:]]
    assert "按时办结率" in names and "超时在办量" in names
    assert not any(n.startswith("count:") or n == "on_time_rate" for n in names)
    en = client.get("/dashboard/export/kpis.csv?lang=en").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(en)))
    assert rows[0] == ["Figure", "Value"] and any(r[0] == "On-time rate" for r in rows)
    ch = list(
        csv.reader(io.StringIO(client.get("/dashboard/export/channels.csv").content.decode("utf-8-sig")))
    )
    assert ch[0] == ["渠道", "工单数"] and ch[1][0] == "电话"
    assert client.get("/dashboard/export/nope.csv").status_code == 404
