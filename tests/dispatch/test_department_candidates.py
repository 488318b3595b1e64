"""Department, not just category (issue 12 item 5): every active department ranked for a text, the
likeliest first with a score and a reason; the console's suggestion and the queue's picker use it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from haoban.dispatch.departments import department_candidates
from haoban.dispatch.routing import CatalogueRouter, CategoryGuess, DispatchRequest, RuleSpec
from tests.builders import make_order
from tests.conftest import Api
from tests.web.test_browser import Browse, LiveServer, live  # noqa: F401
from tests.web.test_pages_access import login

DEPTS = [("cgj", "市城市管理和综合执法局"), ("zjj", "市住房和城乡建设局"), ("gongshui", "市供水公司"),
         ("sthj", "市生态环境局"), ("qu1", "蒸湘区人民政府")]  # fmt: skip
RULES = [
    RuleSpec(
        id=1, position=1, name="火灾转119", outcome="transfer", transfer_target="119", keywords=("着火",)
    ),
    RuleSpec(id=2, position=2, name="供水", department_code="gongshui", keywords=("停水", "自来水")),
    RuleSpec(id=3, position=3, name="城管执法", department_code="cgj", keywords=("占道", "流动摊贩")),
    RuleSpec(id=4, position=4, name="物业", department_code="zjj", keywords=("小区", "物业")),
    RuleSpec(
        id=5, position=5, name="蒸湘区环境", district_code="zx", category_code="env", department_code="qu1"
    ),
    RuleSpec(id=6, position=6, name="环境", category_code="env", department_code="sthj"),
    RuleSpec(id=7, position=7, name="住建", category_code="housing", department_code="zjj"),
]


def _request(text: str, **kw: Any) -> DispatchRequest:
    return DispatchRequest(
        subject="", content=text, order_type="complaint", received_at=datetime.now(UTC), **kw
    )


def _router(guesses: list[tuple[str, float]] = ()) -> CatalogueRouter:  # type: ignore[assignment]
    found = [CategoryGuess(c, p, c) for c, p in guesses]
    return CatalogueRouter(rules=RULES, classify=lambda _t: (found, True))


def _codes(ranked: list[Any]) -> list[str]:
    return [c.code for c in ranked]


@pytest.mark.parametrize(
    ("text", "guesses", "district", "first"),
    [
        ("路口有流动摊贩占道经营，影响通行", [], None, "cgj"),  # 城管 matters → 城管
        ("小区门口流动摊贩占道", [], None, "cgj"),  # first keyword rule first; 物业 follows
        ("我们这边停水两天了", [], None, "gongshui"),
        ("河里有死鱼，水很臭", [("env", 0.8), ("housing", 0.2)], None, "sthj"),
        ("河里有死鱼，水很臭", [("env", 0.8), ("housing", 0.2)], "zx", "qu1"),  # the district's own rule
    ],
)
def test_the_likeliest_department_comes_first_and_each_appears_once(
    text: str, guesses: list[tuple[str, float]], district: str | None, first: str
) -> None:
    ranked = department_candidates(
        router=_router(guesses), departments=DEPTS, request=_request(text, district_code=district)
    )
    assert ranked[0].code == first and ranked[0].score > 0 and ranked[0].reason
    assert sorted(_codes(ranked)) == sorted(c for c, _ in DEPTS)  # every department exactly once
    scores = [c.score for c in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(c.reason == "" for c in ranked if c.score == 0)


def test_other_signals_follow_the_decision() -> None:
    ranked = department_candidates(
        router=_router(), departments=DEPTS, request=_request("小区门口流动摊贩占道")
    )
    assert _codes(ranked)[:2] == ["cgj", "zjj"] and "物业" in ranked[1].reason
    # the model's second category routes to its department too, below the first
    ranked = department_candidates(
        router=_router([("env", 0.7), ("housing", 0.3)]), departments=DEPTS, request=_request("河边臭味")
    )
    assert _codes(ranked)[:2] == ["sthj", "zjj"] and "housing" in ranked[1].reason
    # a transfer decides no department: nobody is pre-selected, the list is still complete
    ranked = department_candidates(router=_router(), departments=DEPTS, request=_request("楼上着火了"))
    assert all(c.score == 0 for c in ranked) and len(ranked) == len(DEPTS)


TEXT_CGJ = "解放路菜市场门口流动摊贩占道经营，行人都没法走"


def test_explain_ranks_every_active_department_with_cgj_first(api: Api) -> None:
    r = api.post(
        "/api/v1/dispatch/explain", as_="operator", json={"text": TEXT_CGJ, "order_type": "complaint"}
    )
    assert r.status_code == 200, r.text
    ranked = r.json()["departments"]
    assert ranked[0]["code"] == "cgj" and ranked[0]["score"] > 0 and "城管执法" in ranked[0]["reason"]
    codes = [d["code"] for d in ranked]
    active = {
        d["code"] for d in api.get("/api/v1/departments", as_="operator").json() if d.get("active", True)
    }
    assert len(codes) == len(set(codes)) and set(codes) == active


def test_queue_pre_selects_the_likeliest_department_first_in_the_list(client: Any, rt: Any) -> None:
    code = make_order(rt, status="pending_dispatch", content=TEXT_CGJ)
    login(client, "dispatcher")
    html = client.get("/console/queue").text
    select = re.search(rf'<select id="dept-{code}".*?</select>', html, re.S)
    assert select, html
    options = re.findall(r'<option value="([^"]*)"', select.group(0))
    assert options[1] == "cgj"  # after the empty "choose"
    assert re.search(r'<option value="cgj"[^>]*selected', select.group(0))
    assert len(options) == len(set(options))  # each department once
    assert 'class="dept-suggested"' in select.group(0)


@pytest.mark.browser
def test_console_lists_the_likeliest_departments_first_while_typing(browser: Any, live: LiveServer) -> None:  # noqa: F811
    b = Browse(browser, live.url)
    b.login("operator")
    b.page.fill("#content", TEXT_CGJ)
    b.page.wait_for_selector("#department optgroup.dept-suggested option[value=cgj]", state="attached")
    first = b.page.eval_on_selector("#department", "el => el.options[1].value")
    assert first == "cgj"
    # a catalogue rule dispatches it: "automatic dispatch" stays chosen (with the rule's co-handlers)
    # and names the department; each department is still in the list once
    assert b.page.input_value("#department") == ""
    assert "→ 市城市管理和综合执法局" in b.page.eval_on_selector(
        "#department", "el => el.options[0].textContent"
    )
    values = b.page.eval_on_selector("#department", "el => Array.from(el.options).map(o => o.value)")
    assert len(values) == len(set(values))
    b.assert_clean()
    b.close()


def test_department_accuracy_maps_labels_through_the_catalogue() -> None:
    from haoban.dispatch.evaluation import department_accuracy

    depts = {"城乡建设": "zjj", "环境保护": "sthj", "交通运输": "jtj", "卫生计生": "wjw"}
    truth = ["城乡建设", "环境保护", "交通运输", "未知类"]
    top = [
        ["城乡建设", "环境保护"],
        ["交通运输", "卫生计生", "环境保护"],
        ["卫生计生", "城乡建设", "环境保护"],
        ["x"],
    ]
    got = department_accuracy(truth, top, depts)
    assert got == {"dept_n": 3, "dept_unrouted": 1, "dept_top1": 1 / 3, "dept_top3": 2 / 3}
