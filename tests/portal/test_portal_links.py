"""Issue 13, the citizen portal's pages: redirect after every POST, bookmarkable tracking links, plain
progress words, the appeal in full, a merged caller's master and reply, the rating error in view, and
the HTML error page for a browser's unknown address."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from haoban.orders.models import Order
from tests.conftest import Api

LONG = (
    "小区门口的路灯已经坏了整整三天了，晚上出门一片漆黑，"
    "老人孩子都不敢下楼，上周还有人在这里摔倒，请尽快派人修理。"
)
HTML = {"accept": "text/html,application/xhtml+xml"}


def _file(client: Any, **fields: str) -> Any:
    form = {"type": "complaint", "content": LONG, "citizen_phone": "13900001234", **fields}
    return client.post("/portal/file", data=form, follow_redirects=False)


def _dispatched(api: Api, code: str) -> None:
    if api.get(f"/api/v1/orders/{code}", as_="operator").json()["status"] == "pending_dispatch":
        api.act(code, "dispatch", as_="dispatcher", department="cgj")
    assert api.get(f"/api/v1/orders/{code}", as_="operator").json()["department"] == "cgj"


def _orders(rt: Any) -> int:
    with rt.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Order)) or 0)


def test_filing_redirects_and_a_reload_files_nothing(client: Any, rt: Any) -> None:
    client.cookies.clear()
    before = _orders(rt)
    r = _file(client)
    assert r.status_code == 303
    receipt = r.headers["location"]
    assert re.fullmatch(r"/portal/filed/HB\d+\?k=[0-9a-f]{24}", receipt)
    for _ in range(2):  # the receipt is a GET: reloading it shows it again and files nothing
        page = client.get(receipt)
        assert page.status_code == 200 and 'id="tracking-code"' in page.text
    assert _orders(rt) == before + 1
    code = receipt.split("/")[3].split("?")[0]
    # The link proves the phone without showing it: it is only the code and a random key (the fullmatch
    # above). Its last four digits are not looked for: a code's serial (HB…0001234) may end in them.
    assert code in page.text and "13900001234" not in receipt
    link = re.search(r'id="track-link" href="([^"]+)"', page.text)
    assert link and client.get(link.group(1).replace("&amp;", "&")).status_code == 200
    # A forged key reads as an unknown code, on an HTML page.
    r = client.get(f"/portal/filed/{code}?k={'0' * 24}")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")


def test_tracking_link_survives_reload_and_language_switch(client: Any, api: Api) -> None:
    code = api.create(content=LONG, citizen_phone="13812345678")["code"]
    client.cookies.clear()
    r = client.post("/portal/track", data={"code": code, "phone_last4": "5678"}, follow_redirects=False)
    assert r.status_code == 303
    link = r.headers["location"]
    assert link.startswith(f"/portal/track/{code}?k=")
    assert client.get(link).status_code == 200
    assert client.get(link).status_code == 200  # reload
    switch = re.search(r'class="lang" href="([^"]+)"', client.get(link).text)
    assert switch
    r = client.get(switch.group(1).replace("&amp;", "&"))  # the language switch comes back to the link
    assert r.status_code == 200 and r.url.path == f"/portal/track/{code}" and 'lang="en"' in r.text
    assert "We received your appeal" in r.text
    # The addresses that only took a POST answer a GET with the portal, never a JSON 405.
    for path in ("/portal/track", "/portal/file", "/portal/rate"):
        r = client.get(path, headers=HTML)
        assert r.status_code == 200 and r.url.path == "/portal", path
    # A wrong key, or another order's key, is not found.
    other = api.create(citizen_phone="13812345678")["code"]
    key = link.split("k=")[1]
    assert client.get(f"/portal/track/{other}?k={key}").status_code == 404
    assert client.get(f"/portal/track/{code}").status_code == 404


def test_progress_in_plain_words_and_the_appeal_in_full(client: Any, api: Api) -> None:
    code = api.create(content=LONG, citizen_phone="13812345678")["code"]
    _dispatched(api, code)
    api.act(code, "sign", as_="h_cgj")
    api.act(code, "reply", as_="h_cgj", reply="已更换灯泡。")
    api.act(code, "review_reply", as_="supervisor", decision="approve")
    client.cookies.clear()
    zh = client.post("/portal/track", data={"code": code, "phone_last4": "5678"})
    timeline = zh.text.split('id="track-timeline"')[1].split("</ol>")[0]
    for words in ("已收到您的诉求", "已交给承办部门", "承办部门已接手", "答复已审核通过，我们会回访您"):
        assert words in timeline
    for internal in ("→", "派单", "审核报结", "待回访", "签收"):
        assert internal not in timeline
    assert LONG in zh.text  # in full, not cut at 40 characters
    en = client.get(str(zh.url) + "&lang=en")
    timeline = en.text.split('id="track-timeline"')[1].split("</ol>")[0]
    assert "Registered" not in timeline and "→" not in timeline
    assert "Sent to the department" in timeline and "The reply was approved" in timeline


def test_a_merged_caller_sees_the_master_and_its_reply(client: Any, api: Api) -> None:
    master = api.create(content=LONG, citizen_phone="13800000001")["code"]
    dup = api.create(content=LONG + "！", citizen_phone="13800000002")["code"]
    api.act(dup, "merge", as_="dispatcher", master=master)
    client.cookies.clear()
    page = client.post("/portal/track", data={"code": dup, "phone_last4": "0002"})
    link = re.search(r'id="track-master"><a class="mono" href="([^"]+)">' + master, page.text)
    assert link, page.text
    master_page = client.get(link.group(1).replace("&amp;", "&"))
    assert master_page.status_code == 200 and master in master_page.text
    assert "13800000001" not in master_page.text and LONG not in master_page.text  # not the other caller's
    _dispatched(api, master)
    api.act(master, "sign", as_="h_cgj")
    api.act(master, "reply", as_="h_cgj", reply="已派人更换路灯。")
    api.act(master, "review_reply", as_="supervisor", decision="approve")
    page = client.get(str(page.url))
    assert "已派人更换路灯。" in page.text and 'id="track-master-status"' in page.text
    assert "已派人更换路灯。" in client.get(link.group(1).replace("&amp;", "&")).text
    # An order that was not merged has no master page.
    alone = client.post("/portal/track", data={"code": master, "phone_last4": "0001"})
    assert client.get(str(alone.url) + "&master=1").status_code == 404


def test_rating_error_sits_by_the_choice_with_focus(client: Any, api: Api) -> None:
    code = api.create(department="cgj", citizen_phone="13812345678")["code"]
    api.act(code, "sign", as_="h_cgj")
    api.act(code, "reply", as_="h_cgj", reply="已处理。")
    api.act(code, "review_reply", as_="supervisor", decision="approve")
    client.cookies.clear()
    r = client.post("/portal/rate", data={"code": code, "phone_last4": "5678", "level": ""})
    assert r.status_code == 422
    fieldset = r.text.split('<fieldset class="types levels"')[1].split("</fieldset>")[0]
    assert 'id="err-level"' in fieldset and "autofocus" in fieldset
    switch = re.search(r'class="lang" href="([^"]+)"', r.text)
    assert switch and "%2Fportal%2Ftrack%2F" in switch.group(1)  # not back to the POST-only address


def test_unknown_pages_are_html_for_browsers_and_json_for_the_api(client: Any) -> None:
    r = client.get("/nope", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "<h1>" in r.text and '"detail"' not in r.text
    r = client.get("/nope")  # no browser: JSON as before
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
    r = client.get("/api/v1/nope", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
    r = client.delete("/portal", headers=HTML)
    assert r.status_code == 405 and r.headers["content-type"].startswith("text/html")
