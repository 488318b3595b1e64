"""A year's calendar through the API can be previewed first (issue 13): ``dry_run=true`` saves nothing
and answers with the page's preview — what the file adds and drops — and the open orders whose time runs
over a changed day, with their deadlines."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from haoban.orders.models import Order
from tests.builders import make_order
from tests.web.test_pages_access import login

SH = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/admin/calendar/schedules"
SCHEDULE = (
    "year: 2027\nholidays:\n  - {name: 测试假, days: ['2027-03-03']}\nmakeup_workdays: ['2027-03-06']\n"
)


def _order(rt: Any, received: datetime, deadline: datetime) -> str:
    code = make_order(rt, status="signed")
    with rt.db.write() as session:
        o = session.scalars(select(Order).where(Order.code == code)).one()
        o.received_at, o.handle_deadline = received, deadline
    return code


def _post(api: Any, who: str, params: dict[str, str] | None = None, body: str = SCHEDULE) -> Any:
    headers = {**api.headers(who), "Content-Type": "application/yaml"}
    return api.client.post(URL, headers=headers, content=body, params=params or {})


def test_dry_run_previews_the_change_and_the_orders_it_touches_and_saves_nothing(api: Any, rt: Any) -> None:
    spans = _order(rt, datetime(2027, 3, 1, 9, tzinfo=SH), datetime(2027, 3, 10, 18, tzinfo=SH))
    before = _order(rt, datetime(2027, 2, 22, 9, tzinfo=SH), datetime(2027, 3, 2, 18, tzinfo=SH))
    after = _order(rt, datetime(2027, 3, 8, 9, tzinfo=SH), datetime(2027, 3, 12, 18, tzinfo=SH))
    r = _post(api, "admin", {"dry_run": "true"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] is True and body["year"] == 2027 and body["changed"] is True
    assert body["replaces"] is False and body["makeup_added"] == ["2027-03-06"]
    assert [h["added"] for h in body["holidays"] if h["name"] == "测试假"] == [["2027-03-03"]]
    affected = body["affected_orders"]
    assert [o["code"] for o in affected["orders"]] == [spans] and affected["count"] == 1
    assert affected["orders"][0]["changed_days"] == ["2027-03-03", "2027-03-06"]
    assert affected["orders"][0]["handle_deadline"].startswith("2027-03-10T18:00")
    assert before not in str(body) and after not in str(body)
    assert api.get(URL, as_="admin").json() == []  # nothing saved
    assert _post(api, "operator", {"dry_run": "true"}).status_code == 403
    bad = _post(api, "admin", {"dry_run": "true"}, body="year: 2027\nmakeup_workdays: ['2027-03-03']\n")
    assert bad.status_code == 422 and "Saturday or Sunday" in bad.json()["message"]
    saved = _post(api, "admin")
    assert saved.status_code == 201 and [s["year"] for s in api.get(URL, as_="admin").json()] == [2027]


def test_the_admin_page_preview_lists_the_same_orders(client: Any, rt: Any, api: Any) -> None:
    spans = _order(rt, datetime(2027, 3, 1, 9, tzinfo=SH), datetime(2027, 3, 10, 18, tzinfo=SH))
    from_api = _post(api, "admin", {"dry_run": "true"}).json()["affected_orders"]
    login(client, "admin")
    page = client.post(
        "/admin/calendar",
        data={"op": "preview"},
        files={"file": ("2027.yaml", SCHEDULE.encode(), "application/yaml")},
    )
    assert page.status_code == 200, page.text
    assert 'id="preview-orders"' in page.text and f'data-order="{spans}"' in page.text
    assert [o["code"] for o in from_api["orders"]] == [spans]
