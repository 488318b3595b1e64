"""办事 pages (no login): search → guide, browse by department and life event, the catalogue's figures,
licence verification; in Chinese and English."""

from __future__ import annotations

import re
from typing import Any

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.licences import service as licences


def test_search_leads_to_the_guide(client: Any) -> None:
    r = client.get("/services", params={"q": "新生儿落户"})
    assert r.status_code == 200
    first = re.search(r'href="/services/items/([a-z0-9-]+)"', r.text)
    assert first and first.group(1) == "gaj-newborn-hukou-registration"

    r = client.get("/services/items/gaj-newborn-hukou-registration")
    assert r.status_code == 200
    page = r.text
    assert "出生登记（新生儿入户）" in page and "市公安局" in page
    assert "法定时限" in page and "承诺时限" in page and "比法定时限少" in page
    materials = page[page.index('id="materials"') :]
    assert "出生医学证明" in materials and "免提交" in materials and "可容缺" in materials
    assert "《中华人民共和国户口登记条例》" in page


def test_the_guide_in_english_and_an_unknown_item(client: Any) -> None:
    r = client.get("/services/items/wjw-birth-medical-certificate", params={"lang": "en"})
    assert r.status_code == 200
    assert "Service guide" in r.text and "Not needed" in r.text and "Birth medical certificate" in r.text
    assert client.get("/services/items/no-such-item").status_code == 404


def test_browse_by_department_and_life_event(client: Any) -> None:
    home = client.get("/services")
    assert (
        home.status_code == 200
        and "按人生事件" in home.text
        and 'href="/services?department=gaj"' in home.text
    )
    r = client.get("/services", params={"department": "scjg"})
    assert r.status_code == 200 and "scjg-enterprise-establishment-registration" in r.text
    r = client.get("/services", params={"event": "开办企业"})
    codes = set(re.findall(r'href="/services/items/([a-z0-9-]+)"', r.text))
    assert {"scjg-enterprise-establishment-registration", "gaj-official-seal-engraving"} <= codes
    assert "zrzy-real-estate-transfer-registration" not in codes
    assert client.get("/services", params={"q": "   "}).status_code == 200  # an empty search shows the home


def test_catalogue_figures_page(client: Any) -> None:
    r = client.get("/services/metrics")
    assert r.status_code == 200
    assert "网上可办率" in r.text and 'id="by-department"' in r.text and "市公安局" in r.text


def test_verify_page(client: Any, rt: Any) -> None:
    r = client.get("/verify", params={"code": "ABCDEFGHJKMNPQRS"})
    assert r.status_code == 404 and 'data-status="unknown"' in r.text
    with rt.db.write() as s:
        lic = licences.issue(
            s,
            kind="wjw-birth-medical-certificate",
            holder_id="430402202611300011",
            holder_name="张小宝",
            actor=SYSTEM_ACTOR,
        )
        code, digest = lic.code, lic.sha256
    r = client.get(f"/verify/{code}")
    assert r.status_code == 200 and 'data-status="valid"' in r.text and digest in r.text
    assert "张**" in r.text and "430402202611300011" not in r.text and "张小宝" not in r.text
    r = client.get("/verify", params={"code": code, "lang": "en"})
    assert "Valid" in r.text and "Verify a licence" in r.text


def test_the_city_dashboard_shows_the_catalogue_figures(client: Any) -> None:
    from tests.web.test_pages_access import login

    login(client, "supervisor")
    r = client.get("/dashboard")
    assert r.status_code == 200 and 'id="catalog-figures"' in r.text
    online = re.search(r'id="kpi-svc-online-rate">.*?class="kpi-value">([^<]+)<', r.text, re.S)
    assert online and online.group(1).endswith("%")
