"""The console's live dispatch explanation speaks the page's language (issue 13): the API keeps its
English reasons for machines; the console's own route gives them, the outcome and the departments'
reasons in Chinese or English."""

from __future__ import annotations

import re
from typing import Any

import pytest

from haoban.web import messages
from tests.web.language import untranslated
from tests.web.test_pages_access import login

TEXT = "滨江路的路灯坏了三天，晚上很黑，城管什么时候来修"
_HTML = "<p>{}</p>"


def _explain(client: Any, lang: str, **body: Any) -> dict[str, Any]:
    client.cookies.set("haoban_lang", lang)
    r = client.post("/console/explain", json={"text": TEXT, "order_type": "complaint", **body})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_live_explanation_is_in_the_pages_language(client: Any, lang: str) -> None:
    login(client, "operator")
    api = client.post("/api/v1/dispatch/explain", json={"text": TEXT, "order_type": "complaint"}).json()
    assert re.match(r"rule #\d+ '.+' matched", api["decision"]["why"])  # the API: unchanged
    out = _explain(client, lang)
    d = out["decision"]
    assert d["outcome"] == api["decision"]["outcome"] and d["department"] == api["decision"]["department"]
    shown = [d["why"], d["outcome_label"], *(c["reason"] for c in out["departments"] if c["reason"])]
    assert len(shown) > 2  # the decision and at least one ranked department explain themselves
    for text in shown:
        names = [
            w for n in re.findall(r"“([^”]+)”", text) for w in re.split(r"[、/]", n)
        ]  # rule and category names: what the admin typed
        assert not untranslated(_HTML.format(text), lang, allow=names), text
    if lang == "zh":
        assert d["why"].startswith("派单目录第") and d["outcome_label"] == "派往承办单位"
    else:
        assert d["why"].startswith("catalogue rule #") and d["outcome_label"] == "Dispatch to a department"


def test_no_rule_matched_and_bad_input(client: Any) -> None:
    login(client, "operator")
    client.cookies.set("haoban_lang", "zh")
    r = client.post("/console/explain", json={"text": "今天天气不错", "order_type": "consult"})
    assert r.status_code == 200
    d = r.json()["decision"]
    if d["outcome"] == "hold":
        assert d["why"].startswith("派单目录没有命中的规则") and d["outcome_label"] == "待人工派单"
    bad = client.post("/console/explain", json={"text": ""})
    assert bad.status_code == 422 and bad.json()["fields"]["text"] == "至少 1 个字"
    client.cookies.clear()
    assert client.post("/console/explain", json={"text": TEXT}, follow_redirects=False).status_code in (
        303,
        401,
    )


def test_every_reason_the_router_and_ranking_give_is_known() -> None:
    reasons = [
        "rule #12 '城管执法' matched; "
        "the category guess is below the confidence threshold, a dispatcher decides",
        "no catalogue rule matched; a dispatcher decides",
        "the catalogue routes here",
        "co-handler of rule '城管执法'",
        "rule #3 '路灯' also matches (路灯、坏了)",
        "rule #3 '路灯' also matches",
        "category 城乡建设/市政设施/路灯 (45%) → rule '路灯'",
    ]
    for r in reasons:
        zh = messages.localize_reasons(r, "zh")
        en = messages.localize_reasons(r, "en")
        assert not untranslated(_HTML.format(zh), "zh"), zh
        names = [w for n in re.findall(r"“([^”]+)”", en) for w in re.split(r"[、/]", n)]
        assert not untranslated(_HTML.format(en), "en", allow=names), en
        assert zh != r and en != r
