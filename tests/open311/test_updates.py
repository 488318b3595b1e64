"""The servicerequestupdates extension (as FixMyStreet polls it): an order's public history in a window,
with the department's reply only once the hotline approved it, and nothing of confidential orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

from haoban.runtime import Runtime
from tests.conftest import Api

BASE = "/open311/v2"
W3C = "%Y-%m-%dT%H:%M:%SZ"
REPLY = "已更换灯具，恢复照明。"


def _updates(client: Any, code: str, fmt: str = "json") -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    start, end = (now - timedelta(hours=1)).strftime(W3C), (now + timedelta(hours=1)).strftime(W3C)
    query = f"start_date={start}&end_date={end}"
    r = client.get(f"{BASE}/servicerequestupdates.{fmt}?{query}")
    assert r.status_code == 200, r.text
    if fmt == "xml":
        root = ET.fromstring(r.content)
        assert root.tag == "service_request_updates"
        rows = [{c.tag: c.text for c in u} for u in root.findall("request_update")]
    else:
        rows = r.json()
    return [u for u in rows if u["service_request_id"] == code]


def test_an_orders_public_history_as_updates(client: Any, api: Api, rt: Runtime) -> None:
    code = api.create(department="cgj")["code"]
    assert [u["status"] for u in _updates(client, code)] == ["open", "open"]  # registered, dispatched
    api.act(code, "sign", as_="h_cgj")
    api.act(code, "reply", as_="h_cgj", reply=REPLY)
    draft = _updates(client, code)
    assert [u["status"] for u in draft] == ["open", "open", "in_progress", "in_progress"]
    assert not [u for u in draft if REPLY in u["description"]]  # not approved yet: internal
    dept = rt.directory.department("cgj")
    assert dept is not None and draft[1]["description"] == f"已派单至 {dept.name} (dispatched)"
    api.act(code, "review_reply", as_="dispatcher", decision="approve")
    updates = _updates(client, code)
    assert updates[-1]["status"] == "closed" and updates[-1]["description"] == REPLY
    assert [u["update_id"] for u in updates] == [f"{code}-{n}" for n in range(1, len(updates) + 1)]
    assert updates == sorted(updates, key=lambda u: u["updated_datetime"])
    xml_updates = _updates(client, code, "xml")
    assert [u["update_id"] for u in xml_updates] == [u["update_id"] for u in updates]
    assert xml_updates[-1]["description"] == REPLY and xml_updates[-1]["status"] == "closed"
    # The citizen's own words and phone are not part of any update.
    r = client.get(f"{BASE}/servicerequestupdates.json")
    assert "13812345678" not in r.text and "小区门口的路灯" not in r.text


def test_confidential_orders_and_bad_windows(client: Any, api: Api) -> None:
    report = api.create(type="report", department="cgj")["code"]
    assert _updates(client, report) == []
    now = datetime.now(UTC)
    start = (now - timedelta(days=91)).strftime(W3C)
    r = client.get(f"{BASE}/servicerequestupdates.json?start_date={start}&end_date={now.strftime(W3C)}")
    assert r.status_code == 400
    assert r.json() == [{"code": 400, "description": "start_date and end_date may be at most 90 days apart"}]
    r = client.get(f"{BASE}/servicerequestupdates.xml?api_key=o311_forged")
    assert r.status_code == 403 and ET.fromstring(r.content).findtext("error/code") == "403"


def test_dates_at_the_ends_of_the_calendar_are_refused_not_crashing(client: Any) -> None:
    for query in (
        "start_date=9999-12-31T23:00:00Z",
        "end_date=0001-01-02T00:00:00Z",
        "start_date=9999-10-01T00:00:00-05:00&end_date=9999-12-31T20:00:00-05:00",
    ):
        for path in ("requests", "servicerequestupdates"):
            r = client.get(f"{BASE}/{path}.json?{query}")
            assert r.status_code == 400, (path, query, r.text)
            assert "too far in the past or future" in r.json()[0]["description"]
