"""Long lists: the API's cursor pages (keyset, "older than the last row"), the total capped at 10,000,
numbered pages kept for the first 1,000 orders."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from haoban.orders import queries
from haoban.orders.models import Order
from tests.conftest import Api


def _walk(api: Api, params: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Every code of a list, following the ``next`` links from the first page."""
    bodies = []
    r = api.get("/api/v1/orders", as_="operator", params=params)
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        bodies.append(body)
        if not body["next"]:
            assert body["next_cursor"] is None and "Link" not in r.headers
            break
        assert r.headers["Link"] == f'<{body["next"]}>; rel="next"'
        assert body["next"].startswith("/api/v1/orders?")
        r = api.get(body["next"], as_="operator")
    return [i["code"] for b in bodies for i in b["items"]], bodies


def test_cursor_pages_cover_a_list_once_newest_first(api: Api, rt: Any) -> None:
    codes = [api.create(district="珠晖区")["code"] for _ in range(7)]
    api.create(district="石鼓区")  # another district: not in the list
    # Three orders received at the same instant: the id breaks the tie, none skipped or repeated.
    same = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    with rt.db.write() as s:
        s.execute(update(Order).where(Order.code.in_(codes[2:5])).values(received_at=same))
    with rt.db.read() as s:
        expected = [
            o.code
            for o in sorted(
                s.query(Order).filter(Order.code.in_(codes)),
                key=lambda o: (o.received_at, o.id),
                reverse=True,
            )
        ]
    walked, bodies = _walk(api, {"district": "zhuhui", "page_size": 3})
    assert walked == expected
    assert [len(b["items"]) for b in bodies] == [3, 3, 1]
    assert all(b["total"] == 7 and b["total_exact"] for b in bodies)
    assert bodies[0]["page"] == 1 and bodies[1]["page"] is None  # reached by cursor
    # The filters travel with the cursor; numbered pages still work for a short list.
    second = api.get(
        "/api/v1/orders", as_="operator", params={"district": "zhuhui", "page_size": 3, "page": 2}
    )
    assert [i["code"] for i in second.json()["items"]] == expected[3:6]
    assert second.json()["next_cursor"]  # a numbered page also says how to go on by cursor


def test_total_is_capped(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(4):
        api.create()
    monkeypatch.setattr(queries, "TOTAL_CAP", 3)
    body = api.get("/api/v1/orders", as_="operator", params={"page_size": 2}).json()
    assert (body["total"], body["total_exact"]) == (3, False)
    walked, _ = _walk(api, {"page_size": 2})
    assert len(walked) == 4  # the cursor goes past the cap


def test_numbered_pages_stop_at_their_own_cap(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    codes = [api.create()["code"] for _ in range(7)][::-1]  # newest first
    monkeypatch.setattr(queries, "NUMBERED_PAGES_CAP", 3)
    r = api.get("/api/v1/orders", as_="operator", params={"page_size": 2, "page": 2})
    assert r.status_code == 200, r.text  # offset 2 is inside the first 3
    body = r.json()
    assert [i["code"] for i in body["items"]] == codes[2:4]
    assert (body["total"], body["total_exact"]) == (7, True)  # the count is not narrowed with the pages
    r = api.get("/api/v1/orders", as_="operator", params={"page_size": 2, "page": 3})
    assert r.status_code == 422
    why = r.json()["fields"]["page"]
    assert "first 3 orders" in why and "pages 1-2 at 2 a page" in why and "`next`" in why
    # Beyond them the next link (a cursor) goes on from the last numbered page to the end.
    seen = list(body["items"])
    while body["next"]:
        assert "page=" not in body["next"] and "cursor=" in body["next"]
        body = api.get(body["next"], as_="operator").json()
        seen += body["items"]
    assert [i["code"] for i in seen] == codes[2:]


def test_numbered_pages_cover_the_first_thousand_orders(api: Api) -> None:
    assert queries.NUMBERED_PAGES_CAP == 1_000
    assert [queries.last_numbered_page(n) for n in (20, 30, 200, 1_000, 2_000)] == [50, 34, 5, 1, 1]
    api.create()
    last = api.get("/api/v1/orders", as_="operator", params={"page": 50})
    assert last.status_code == 200 and last.json()["items"] == []  # allowed, past a short list's end
    for page, size in ((51, 20), (6, 200), (35, 30)):
        r = api.get("/api/v1/orders", as_="operator", params={"page": page, "page_size": size})
        assert r.status_code == 422, (page, size)
        assert "first 1,000 orders" in r.json()["fields"]["page"]


def test_bad_cursors_are_refused_with_a_message(api: Api) -> None:
    api.create()
    api.create()
    first = api.get("/api/v1/orders", as_="operator", params={"page_size": 1}).json()
    for bad in ("nonsense", "bnwyMDI2", first["next_cursor"][:-3] + "@@@"):
        r = api.get("/api/v1/orders", as_="operator", params={"cursor": bad})
        assert r.status_code == 422 and "cursor" in r.json()["fields"], bad
    both = api.get("/api/v1/orders", as_="operator", params={"cursor": first["next_cursor"], "page": 2})
    assert both.status_code == 422 and "page" in both.json()["fields"]
    far = api.get("/api/v1/orders", as_="operator", params={"page": 100_000, "page_size": 200})
    assert far.status_code == 422 and "cursor" in far.json()["fields"]["page"]


def test_handlers_follow_cursors_within_their_department(api: Api) -> None:
    mine = [api.create(department="cgj")["code"] for _ in range(3)]
    mine.append(api.create(department="gaj", co_handlers=["cgj"])["code"])
    api.create(department="mzj")
    r = api.get("/api/v1/orders", as_="h_cgj", params={"page_size": 2})
    codes = [i["code"] for i in r.json()["items"]]
    codes += [i["code"] for i in api.get(r.json()["next"], as_="h_cgj").json()["items"]]
    assert sorted(codes) == sorted(mine)


def test_inbox_all_tab_pages_by_cursor_newest_first(
    api: Api, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.web.test_pages_access import login

    codes = [api.create(department="cgj")["code"] for _ in range(23)]
    api.act(codes[0], "sign", as_="h_cgj")
    api.create(department="mzj")
    login(client, "h_cgj")
    seen: list[str] = []
    page = client.get("/inbox?tab=all")
    assert "共 23 件" in page.text
    while True:
        assert page.status_code == 200
        seen += re.findall(r'<tr class="row-[^"]*" data-code="([^"]+)"', page.text)
        older = re.search(r'href="(/inbox\?tab=all&amp;after=[^"]+)" rel="next"', page.text)
        if not older:
            break
        page = client.get(older.group(1).replace("&amp;", "&"))
        assert 'rel="first"' in page.text
    assert seen == codes[::-1]  # newest first, each once
    # The other tabs keep their numbered pages and exact counts.
    assert re.search(r'tab=to_sign"[^>]*>[^<]*<span class="count">22</span>', page.text)
    monkeypatch.setattr(queries, "TOTAL_CAP", 10)
    assert "超过 10 件" in client.get("/inbox?tab=all").text
    # The long tab has no numbered pages: a page number (even beyond the numbered pages' cap) shows the
    # first page, whose only way on is the cursor.
    monkeypatch.setattr(queries, "NUMBERED_PAGES_CAP", 20)
    far = client.get("/inbox?tab=all&page=80")
    assert far.status_code == 200
    assert re.findall(r'<tr class="row-[^"]*" data-code="([^"]+)"', far.text) == codes[::-1][:20]
    assert not re.search(r'href="/inbox\?tab=all&amp;page=', far.text)
    assert re.search(r'href="/inbox\?tab=all&amp;after=[^"]+" rel="next"', far.text)
    assert client.get("/inbox?tab=all&after=garbage").status_code == 200  # a mangled cursor: page one
