"""Real-browser journeys: Debian's Chromium through Playwright against a live uvicorn server.

A citizen files an appeal and tracks it; an operator registers a call and dispatches the appeal; the
department's handler signs and replies; a supervisor approves the reply and records the call-back;
the citizen sees the outcome; the dashboard's numbers move. Every page is photographed at desktop
and phone width into ``test-output/screenshots/``. Never ``playwright install``: Debian's chromium.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from haoban.config import Settings
from haoban.db import Database
from haoban.runtime import Runtime
from haoban.wiring import runtime as wired_runtime

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
HELD_TEXT = "邻居家的狗每天晚上一直叫，吵得睡不着，想请有关部门协调一下。"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, rt: Runtime) -> None:
        import uvicorn

        from haoban.app import create_app

        self.rt = rt
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(rt, run_worker=False, upgrade=False)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live(db_url: str) -> Iterator[LiveServer]:
    settings = Settings(
        database_url=db_url,
        secret_key="test-secret-key-for-the-haoban-browser-0123456789",
        sweep_seconds=3600,
        outbox_seconds=3600,
        demo=True,
    )
    rt = wired_runtime(Database(db_url), settings)
    with LiveServer(rt) as server:
        yield server
    rt.db.dispose()


class Browse:
    """One browser context (one person) with helpers: log in, take both screenshots, no crash pages."""

    def __init__(self, browser: Any, base: str, viewport: dict[str, int] = DESKTOP) -> None:
        self.base = base
        self.ctx = browser.new_context(viewport=viewport, locale="zh-CN")
        self.page = self.ctx.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def go(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        self.assert_clean()
        return response

    def login(self, username: str, password: str = "demo") -> None:
        self.ctx.clear_cookies()
        self.go("/login")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("form[action='/login'] button[type=submit]")
        self.page.wait_for_load_state()
        self.assert_clean()

    def assert_clean(self) -> None:
        body = self.page.content()
        for marker in ("Traceback", "Internal Server Error", 'File "/'):
            assert marker not in body, f"{self.page.url} shows a crash"
        assert not self.errors, f"JavaScript errors on {self.page.url}: {self.errors}"

    def close(self) -> None:
        self.ctx.close()


def _kpi(page: Any, name: str) -> str:
    return page.inner_text(f"#kpi-{name} .kpi-value").strip()


def test_journey_file_dispatch_handle_approve_track_dashboard(browser: Any, live: LiveServer) -> None:
    # The dashboard before: nothing finished yet.
    leader = Browse(browser, live.url)
    leader.login("supervisor")
    leader.go("/dashboard")
    assert _kpi(leader.page, "finished") == "0"
    received_before = int(_kpi(leader.page, "received"))

    # 1. A citizen files an appeal on a phone and tracks it.
    citizen = Browse(browser, live.url, PHONE)
    citizen.go("/portal")
    citizen.page.select_option("#type", "help")
    citizen.page.fill("#content", HELD_TEXT)
    citizen.page.fill("#address", "珠晖区东风路 18 号")
    citizen.page.fill("#citizen_phone", "13912345678")
    citizen.page.click("#file-form button[type=submit]")
    code = citizen.page.inner_text("#tracking-code").strip()
    assert re.fullmatch(r"HB\d{8}\d+", code)
    citizen.page.click("text=查询进度")
    assert code in citizen.page.inner_text("main")
    assert "待派单" in citizen.page.inner_text("#track-status")
    assert citizen.page.is_visible("#rate-later")  # 好差评: not before the answer
    assert citizen.page.locator("#rate-form").count() == 0

    # 2. An operator registers another call with the keyboard, then dispatches the appeal.
    operator = Browse(browser, live.url)
    operator.login("operator")
    assert operator.page.url.endswith("/console")
    assert operator.page.evaluate("document.activeElement.id") == "content"  # autofocus
    operator.page.keyboard.type("滨江路的路灯坏了三天，晚上很黑")
    operator.page.keyboard.press("Alt+1")
    operator.page.wait_for_selector("#suggest-dept")  # the dispatch suggestion with its confidence
    assert "城市管理" in operator.page.inner_text("#suggest-dept")
    assert operator.page.inner_text("#suggest-conf").endswith("%")
    operator.page.keyboard.press("Control+Enter")
    operator.page.wait_for_selector("#registered")
    operator.assert_clean()
    operator.go("/console/queue")
    card = operator.page.locator(f"li.order-card[data-code='{code}']")
    card.locator("select[name=department]").select_option("cgj")
    card.locator("button[type=submit]").click()
    operator.page.wait_for_selector("text=已完成")
    operator.assert_clean()

    # 3. The department's handler signs in the inbox, opens the order and replies.
    handler = Browse(browser, live.url)
    handler.login("h_cgj")
    assert handler.page.url.endswith("/inbox")
    row = handler.page.locator("tr", has_text=code)
    row.locator("button", has_text="签收").click()
    handler.page.wait_for_selector("#done")
    handler.go(f"/orders/{code}")
    assert "办理中" in handler.page.inner_text("h1")
    handler.page.click("#btn-reply")  # empty: the error sits next to the field
    assert handler.page.is_visible("#err-reply-reply")
    handler.page.fill("#reply-reply", "已联系社区网格员上门协调，犬主承诺夜间看管，如仍有问题请再次来电。")
    handler.page.click("#btn-reply")
    handler.page.wait_for_selector("#done")
    assert "已答复待审核" in handler.page.inner_text("h1")
    timeline = handler.page.inner_text("#timeline")
    assert "签收" in timeline and "答复" in timeline

    # 4. The supervisor approves the reply on the board and records the call-back.
    supervisor = Browse(browser, live.url)
    supervisor.login("supervisor")
    item = supervisor.page.locator(f"#sec-replies_review li[data-code='{code}']")
    item.locator("button[data-decision=approve]").click()
    supervisor.page.wait_for_selector("#done")
    item = supervisor.page.locator(f"#sec-callbacks_due li[data-code='{code}']")
    item.locator("select[name=result]").select_option("satisfied")
    item.locator("button[type=submit]").click()
    supervisor.page.wait_for_selector("#done")
    supervisor.assert_clean()

    # 5. The citizen tracks the appeal again and reads the reply.
    citizen.go("/portal")
    citizen.page.fill("#code", code)
    citizen.page.fill("#phone_last4", "5678")
    citizen.page.click("form[action='/portal/track'] button[type=submit]")
    assert "已办结" in citizen.page.inner_text("#track-status")
    assert "犬主承诺" in citizen.page.inner_text("#track-reply")
    citizen.page.click("#btn-rate")  # no level chosen: the error sits next to the choice
    assert citizen.page.is_visible("#err-level")
    # ... and focus moved to the choice, so a phone scrolls to it (issue 13)
    assert citizen.page.evaluate("document.activeElement.name") == "level"
    citizen.page.check("input[name=level][value=very_satisfied]")
    citizen.page.fill("#rate-comment", "处理及时，谢谢")
    citizen.page.click("#btn-rate")
    assert "非常满意" in citizen.page.inner_text("#rated")
    assert citizen.page.locator("#rate-form").count() == 0  # once only
    citizen.assert_clean()

    # 6. The dashboard's numbers moved.
    leader.go("/dashboard")
    assert int(_kpi(leader.page, "received")) == received_before + 2
    assert _kpi(leader.page, "finished") == "1"
    assert _kpi(leader.page, "satisfaction_rate") == "100.0%"
    assert _kpi(leader.page, "on_time_rate") == "100.0%"
    leader.page.wait_for_selector("#chart-trend .main-svg")  # plotly drew offline
    for b in (leader, citizen, operator, handler, supervisor):
        b.close()


def test_clear_messages_never_a_stack_trace(browser: Any, live: LiveServer) -> None:
    b = Browse(browser, live.url)
    # A wrong password.
    b.login("operator", "not-the-password")
    assert "用户名或密码错误" in b.page.inner_text("#login-error")
    # A form with a missing field.
    b.go("/portal")
    b.page.fill("#citizen_phone", "13900000000")
    b.page.click("#file-form button[type=submit]")
    assert b.page.is_visible("#err-content")
    assert b.page.get_attribute("#content", "aria-invalid") == "true"
    # Another department's order URL.
    b.login("operator")
    b.page.fill("#content", "占道经营的流动摊贩堵住了人行道")
    b.page.click("#btn-register")
    code = b.page.inner_text("#registered a").strip()
    b.login("h_jyj")
    response = b.go(f"/orders/{code}")
    assert response.status == 404
    assert "未找到或无权查看" in b.page.inner_text("main")
    b.go("/console")  # a page for another role
    assert "无权操作" in b.page.inner_text("main")
    b.close()


PAGES = [
    # (user, path, name)
    (None, "/", "landing"),
    (None, "/login", "login"),
    (None, "/portal", "portal"),
    ("operator", "/console", "console"),
    ("operator", "/console/queue", "queue"),
    ("h_cgj", "/inbox?tab=all", "inbox"),
    ("supervisor", "/board", "board"),
    ("admin", "/admin?tab=departments", "admin-departments"),
    ("admin", "/admin?tab=users", "admin-users"),
    ("admin", "/admin?tab=rules", "admin-rules"),
    ("admin", "/admin?tab=sla", "admin-sla"),
    ("admin", "/admin?tab=calendar", "admin-calendar"),
    ("supervisor", "/dashboard", "dashboard"),
]


def test_screenshots_of_every_page(browser: Any, live: LiveServer) -> None:
    from haoban.demo.seed import seed_orders

    seed_orders(live.rt, count=40)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with live.rt.db.read() as session:
        from sqlalchemy import select

        from haoban.orders.models import Order

        code = session.scalar(select(Order.code).where(Order.status == "signed").order_by(Order.id))
        phone = session.scalar(select(Order.citizen_phone).where(Order.code == code))
    pages = [*PAGES, ("supervisor", f"/orders/{code}", "order"), (None, "/portal?lang=en", "portal-en")]
    names = [name for _u, _p, name in pages] + ["track"]
    own = {f"{name}-{label}.png" for name in names for label in ("desktop", "phone")}
    for old in own:  # only this run's screenshots count below; other browser tests write theirs beside them
        (SHOTS / old).unlink(missing_ok=True)
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        b = Browse(browser, live.url, viewport)
        who = None
        for user, path, name in pages:
            if user != who:
                if user:
                    b.login(user)
                else:
                    b.ctx.clear_cookies()
                who = user
            b.go(path)
            if name == "dashboard":
                b.page.wait_for_selector("#chart-channels .main-svg")
            b.page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
            # Nothing may spill sideways at phone width.
            if viewport is PHONE:
                overflow = b.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 1, f"{name} scrolls sideways at phone width by {overflow}px"
        b.ctx.clear_cookies()
        b.go("/portal?lang=zh")
        b.page.fill("#code", code)
        b.page.fill("#phone_last4", (phone or "")[-4:])
        b.page.click("form[action='/portal/track'] button[type=submit]")
        b.page.screenshot(path=str(SHOTS / f"track-{label}.png"), full_page=True)
        b.close()
    written = {p.name for p in SHOTS.glob("*.png") if p.stat().st_size > 10_000}
    assert own - written == set(), "pages without a (non-blank) screenshot"


def test_intelligence_panels_show_and_work(browser: Any, live: LiveServer) -> None:
    """Alt+K goes to the knowledge search; similar orders appear while typing, in the queue, on the
    order page; the reply score is on the order page; the dashboard lists hotspots."""
    from tests.web.test_panels import ASK, ASK_AGAIN, GOOD_REPLY, LIGHTS, LIGHTS_AGAIN

    b = Browse(browser, live.url)
    b.login("operator")
    b.go("/console")
    b.page.keyboard.press("Alt+k")
    assert b.page.evaluate("document.activeElement && document.activeElement.id") == "kb-q"
    b.page.fill("#kb-q", "公积金贷款")
    b.page.wait_for_selector("#kb-results li")

    # Two callers about one crossing, one question asked twice: the second call shows the first.
    codes = {}
    for key, text in (("lights", LIGHTS), ("ask", ASK), ("ask2", ASK_AGAIN)):
        b.go("/console")
        b.page.fill("#content", text)
        b.page.select_option("#district", label="珠晖区")
        b.page.fill("#citizen_phone", "13900000201")
        if key == "lights":  # the department choice sits in the folded "more" section
            b.page.eval_on_selector("#department", "el => { el.closest('details').open = true; }")
            b.page.select_option("#department", value="cgj")
        b.page.click("#register-form button[type=submit]")
        b.page.wait_for_selector("#registered a")
        codes[key] = b.page.inner_text("#registered a").strip()
    b.go("/console")
    b.page.select_option("#district", label="珠晖区")
    b.page.fill("#content", LIGHTS_AGAIN)
    b.page.wait_for_selector(f"#similar a[href='/orders/{codes['lights']}']", timeout=10_000)

    b.go("/console/queue")
    card = b.page.locator(f"li[data-code='{codes['ask2']}'] .dups")
    assert card.locator(f"a[href='/orders/{codes['ask']}']").count() == 1
    b.go(f"/orders/{codes['ask']}")
    assert b.page.locator(f"#similar-orders a[href='/orders/{codes['ask2']}']").count() == 1
    b.close()

    h = Browse(browser, live.url)
    h.login("h_cgj")
    api_headers = {"Authorization": "Bearer " + _token(live, "h_cgj")}
    for action, body in (("sign", {}), ("reply", {"reply": GOOD_REPLY})):
        url = f"{live.url}/api/v1/orders/{codes['lights']}/{action}"
        r = h.ctx.request.post(url, data=body, headers=api_headers)
        assert r.ok, r.text()
    h.close()

    s = Browse(browser, live.url)
    s.login("supervisor")
    s.go(f"/orders/{codes['lights']}")
    assert int(s.page.get_attribute("#reply-score .score", "data-total")) > 0
    s.go("/dashboard")
    s.page.wait_for_selector("#hotspots li.hotspot", timeout=15_000)
    assert s.page.locator("#hotspots li.hotspot").count() >= 1
    s.close()


def _token(live: LiveServer, username: str) -> str:
    import httpx

    r = httpx.post(f"{live.url}/api/v1/auth/token", data={"username": username, "password": "demo"})
    r.raise_for_status()
    return str(r.json()["access_token"])
