"""The intelligence panels are on the pages, always: the console's knowledge and similar-order panels,
duplicate hints in the dispatch queue and on the order page, reply-quality scores on the order page and
the board, and the dashboard's hotspots. Each test fails if its panel disappears."""

from __future__ import annotations

import html
import re
from typing import Any

from tests.conftest import Api

# No catalogue rule matches these: they wait in the dispatch queue.
ASK = "我想咨询一下老人优待证在哪里可以办，需要准备什么东西，谢谢"
ASK_AGAIN = "想咨询一下老人优待证在哪里可以办，需要准备什么东西"
LIGHTS = "珠晖区东风路与解放路交叉口的红绿灯坏了，车辆乱成一团，请尽快派人维修"
LIGHTS_AGAIN = "东风路与解放路交叉口红绿灯坏了，车辆乱成一团，请尽快维修"
GOOD_REPLY = "您好，已于当日更换东风路与解放路交叉口的信号灯控制器，路口红绿灯已恢复正常，感谢您的反映。"


def login(client: Any, username: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"username": username, "password": "demo"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def block(page: str, element_id: str) -> str:
    """The HTML of the element with ``id`` up to its closing tag (the panels do not nest their own tag)."""
    m = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>', page)
    assert m, f"#{element_id} is missing from the page"
    end = page.index(f"</{m.group(1)}>", m.end())
    return page[m.start() : end]


def test_console_shows_the_knowledge_and_similar_order_panels(client: Any) -> None:
    login(client, "operator")
    page = client.get("/console").text
    kb = block(page, "kb-panel")
    assert 'id="kb-q"' in kb and 'id="kb-results"' in kb
    similar = block(page, "similar-panel")
    assert "hidden" not in similar.split(">", 1)[0]
    assert 'id="similar"' in similar and "暂无相似的在办工单" in similar


def test_queue_shows_a_duplicate_hint_for_near_identical_orders(api: Api, client: Any) -> None:
    first = api.create(content=ASK, type="consult", citizen_phone="13900000101")
    second = api.create(content=ASK_AGAIN, type="consult", citizen_phone="13900000102")
    assert first["status"] == second["status"] == "pending_dispatch"
    login(client, "dispatcher")
    page = client.get("/console/queue").text
    for code, other in ((first["code"], second["code"]), (second["code"], first["code"])):
        card = page[page.index(f'data-code="{code}"') :]
        card = card[: card.index("</li>")]
        assert 'class="dups"' in card and f'href="/orders/{other}"' in card, f"no hint on {code}"


def test_order_page_shows_duplicates_and_the_reply_score(api: Api, client: Any) -> None:
    master = api.create(content=LIGHTS, district="珠晖区", department="cgj", citizen_phone="13900000111")
    dup = api.create(content=LIGHTS_AGAIN, district="珠晖区", citizen_phone="13900000112")
    login(client, "dispatcher")
    similar = block(client.get(f"/orders/{dup['code']}").text, "similar-orders")
    assert f'href="/orders/{master["code"]}"' in similar and "%" in similar
    # Before a reply there is nothing to score; after it, the score is on the page with its grade.
    assert 'id="reply-score"' not in client.get(f"/orders/{master['code']}").text
    api.act(master["code"], "sign", as_="h_cgj")
    api.act(master["code"], "reply", as_="h_cgj", reply=GOOD_REPLY)
    expected = api.get(f"/api/v1/orders/{master['code']}/reply-score", as_="dispatcher").json()["latest"]
    score = block(client.get(f"/orders/{master['code']}").text, "reply-score")
    assert f'data-total="{round(expected["total"])}"' in score
    assert f'class="score {expected["grade"]}"' in score
    # A handler may not read either panel (the API answers 403): the page does not show them.
    login(client, "h_cgj")
    page = client.get(f"/orders/{master['code']}").text
    assert 'id="reply-score"' not in page and 'id="similar-orders"' not in page


def test_board_shows_the_reply_score_of_replies_to_review(api: Api, client: Any) -> None:
    order = api.create(content=LIGHTS, district="珠晖区", department="cgj")
    api.act(order["code"], "sign", as_="h_cgj")
    api.act(order["code"], "reply", as_="h_cgj", reply=GOOD_REPLY)
    expected = api.get(f"/api/v1/orders/{order['code']}/reply-score", as_="supervisor").json()["latest"]
    login(client, "supervisor")
    section = block(client.get("/board").text, "sec-replies_review")
    item = section[section.index(f'data-code="{order["code"]}"') :]
    assert 'class="score-panel"' in item
    assert f'data-total="{round(expected["total"])}"' in item


def test_dashboard_shows_hotspots(api: Api, client: Any) -> None:
    codes = {
        api.create(content=text, district="珠晖区", citizen_phone=f"1390000012{i}")["code"]
        for i, text in enumerate((LIGHTS, LIGHTS_AGAIN, LIGHTS + "。", LIGHTS_AGAIN + "！"))
    }
    login(client, "supervisor")
    panel = block(client.get("/dashboard").text, "hotspots-panel")
    url = html.unescape(re.search(r'data-url="([^"]+)"', panel).group(1))
    assert url.startswith("/api/v1/hotspots?since=") and "until=" in url
    found = api.get(url, as_="supervisor").json()["hotspots"]
    assert found, "the dashboard's hotspot query finds nothing"
    assert codes <= set(found[0]["members"])
