"""Knowledge base over the API: review before publication, search by paraphrase, never an expired
article, answering from an article (即时答复率), seeding from the government's replies."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from haoban import cli, cliutil
from haoban.knowledge.service import city_day, knowledge_cache
from tests.conftest import Api

LOAN = {
    "question": "公积金贷款需要什么材料",
    "answer": "申请住房公积金贷款需提供身份证、户口本、婚姻证明、购房合同和首付款发票。"
    "请携带上述材料到市住房公积金管理中心办理，咨询电话12329。",
    "department": "gjj",
    "tags": ["公积金", "贷款"],
    "source": "市住房公积金管理中心 办事指南（2026）",
}
NOISE = {
    "question": "夜间施工噪音扰民怎么投诉",
    "answer": "夜间施工噪音可拨打12345或向生态环境部门投诉，执法人员将到现场核查。",
    "tags": ["噪音"],
}
PENDING_TEXT = "请问这个事情怎么办理呢？谢谢"  # no catalogue rule: waits in registered/pending_dispatch


def _propose(api: Api, body: dict[str, Any], as_: str = "operator") -> dict[str, Any]:
    r = api.post("/api/v1/knowledge/articles", as_=as_, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _publish(api: Api, article_id: int) -> dict[str, Any]:
    r = api.post(
        f"/api/v1/knowledge/articles/{article_id}/review", as_="supervisor", json={"decision": "publish"}
    )
    assert r.status_code == 200, r.text
    return r.json()


def _search(api: Api, q: str, as_: str = "operator") -> list[int]:
    r = api.get("/api/v1/knowledge/search", as_=as_, params={"q": q})
    assert r.status_code == 200, r.text
    return [i["id"] for i in r.json()["items"]]


def test_review_before_publication_then_found_by_paraphrase(api: Api) -> None:
    draft = _propose(api, LOAN)
    assert draft["status"] == "draft" and draft["author"] and draft["department"] == "gjj"
    paraphrase = "用住房公积金买房贷款要带哪些证件"
    assert _search(api, paraphrase) == []  # drafts are never offered
    r = api.post(
        f"/api/v1/knowledge/articles/{draft['id']}/review", as_="operator", json={"decision": "publish"}
    )
    assert r.status_code == 403
    published = _publish(api, draft["id"])
    assert published["status"] == "published" and published["reviewer"] and published["published_at"]
    other = _propose(api, NOISE)
    _publish(api, other["id"])
    r = api.get("/api/v1/knowledge/search", as_="operator", params={"q": paraphrase})
    items = r.json()["items"]
    assert items[0]["id"] == draft["id"] and items[0]["department_name"] and items[0]["snippet"]
    assert r.json()["took_ms"] < 1000
    assert _search(api, "工地晚上施工噪音太大去哪里投诉", as_="h_cgj")[0] == other["id"]
    # Department filter.
    assert _search(api, paraphrase) == _search(api, paraphrase)
    r = api.get("/api/v1/knowledge/search", as_="operator", params={"q": "噪音", "department": "gjj"})
    assert r.json()["items"] == []


def test_expired_article_is_never_returned_nor_citable(api: Api) -> None:
    yesterday = city_day() - timedelta(days=1)
    art = _propose(api, {**LOAN, "valid_to": str(city_day())})
    _publish(api, art["id"])
    assert _search(api, "公积金贷款材料") == [art["id"]]
    # An admin shortens its validity: the edit is a draft again, publishing an expired one is refused.
    r = api.put(
        f"/api/v1/knowledge/articles/{art['id']}",
        as_="admin",
        json={"valid_to": str(yesterday), "valid_from": str(yesterday - timedelta(days=30))},
    )
    assert r.status_code == 200 and r.json()["status"] == "draft" and r.json()["expired"] is True
    assert _search(api, "公积金贷款材料") == []
    r = api.post(f"/api/v1/knowledge/articles/{art['id']}/review", as_="admin", json={"decision": "publish"})
    assert r.status_code == 422 and "valid_to" in r.json()["fields"]


def test_article_expiring_today_is_offered_until_tomorrow(api: Api, rt: Any) -> None:
    art = _propose(api, {**NOISE, "valid_to": str(city_day())})
    _publish(api, art["id"])
    from haoban.knowledge.service import search

    with rt.db.read() as session:
        today = search(session, rt, q="施工噪音投诉", today=city_day())
        tomorrow = search(session, rt, q="施工噪音投诉", today=city_day() + timedelta(days=1))
    assert [i["id"] for i in today] == [art["id"]] and tomorrow == []


def test_answer_from_an_article_counts_toward_the_instant_answer_rate(api: Api) -> None:
    art = _propose(api, LOAN, as_="admin")
    _publish(api, art["id"])
    code = api.create(content=PENDING_TEXT, type="consult")["code"]
    answered = api.act(code, "answer", as_="operator", answer=LOAN["answer"], knowledge_article_id=art["id"])
    assert answered["status"] == "answered"
    events = api.get(f"/api/v1/orders/{code}/events", as_="auditor").json()
    assert events[-1]["action"] == "answer" and events[-1]["payload"]["knowledge_article_id"] == art["id"]
    api.create(content=PENDING_TEXT + "。再问一次", type="consult")
    api.create()  # dispatched to a department: not a first-contact answer
    stats = api.get("/api/v1/knowledge/stats", as_="supervisor").json()
    assert stats["orders"] == 3 and stats["answered_instantly"] == 1
    assert stats["instant_answer_rate"] == round(1 / 3, 4)
    assert stats["answered_from_knowledge"] == 1 and stats["knowledge_share"] == 1.0
    assert stats["top_articles"] == [{"id": art["id"], "question": LOAN["question"], "uses": 1}]
    assert stats["articles"]["published"] == 1
    r = api.get(
        "/api/v1/knowledge/stats", as_="supervisor", params={"since": "2026-02-01", "until": "2026-01-01"}
    )
    assert r.status_code == 422 and "since" in r.json()["fields"]
    assert api.get("/api/v1/knowledge/stats", as_="h_cgj").status_code == 403


def test_answer_citing_an_unknown_unpublished_or_expired_article_is_422(api: Api, rt: Any) -> None:
    code = api.create(content=PENDING_TEXT, type="consult")["code"]
    for article_id in (987654, _propose(api, NOISE)["id"]):  # unknown; a draft
        r = api.post(
            f"/api/v1/orders/{code}/answer",
            as_="operator",
            json={"answer": "可拨打12345", "knowledge_article_id": article_id},
        )
        assert r.status_code == 422 and "knowledge_article_id" in r.json()["fields"]
    # An article that expired after publication (a city's policy ran out): refused, and not offered.
    art = _propose(api, NOISE)
    _publish(api, art["id"])
    from sqlalchemy import update

    from haoban.knowledge.models import KnowledgeArticle

    with rt.db.write() as session:
        session.execute(
            update(KnowledgeArticle)
            .where(KnowledgeArticle.id == art["id"])
            .values(valid_to=date(2020, 1, 1), version=KnowledgeArticle.version + 1)
        )
    knowledge_cache(rt).mark_stale()
    r = api.post(
        f"/api/v1/orders/{code}/answer",
        as_="operator",
        json={"answer": "可拨打12345", "knowledge_article_id": art["id"]},
    )
    assert r.status_code == 422 and "expired" in r.json()["fields"]["knowledge_article_id"]
    assert _search(api, "施工噪音投诉") == []
    assert api.get(f"/api/v1/orders/{code}", as_="operator").json()["status"] != "answered"


def test_editing_rejecting_archiving_and_permissions(api: Api) -> None:
    art = _propose(api, NOISE, as_="operator")
    # Reject needs a note; the author edits and it is a draft again.
    r = api.post(
        f"/api/v1/knowledge/articles/{art['id']}/review", as_="supervisor", json={"decision": "reject"}
    )
    assert r.status_code == 422 and "note" in r.json()["fields"]
    r = api.post(
        f"/api/v1/knowledge/articles/{art['id']}/review",
        as_="supervisor",
        json={"decision": "reject", "note": "请注明执法部门"},
    )
    assert r.json()["status"] == "rejected" and r.json()["review_note"] == "请注明执法部门"
    r = api.put(
        f"/api/v1/knowledge/articles/{art['id']}",
        as_="operator",
        json={"answer": NOISE["answer"] + "由区城管执法大队负责。", "expected_version": r.json()["version"]},
    )
    assert r.status_code == 200 and r.json()["status"] == "draft" and r.json()["review_note"] is None
    # Stale version → 409; another operator may not edit it; nobody edits with an empty body.
    assert (
        api.put(
            f"/api/v1/knowledge/articles/{art['id']}",
            as_="operator",
            json={"answer": "x" * 5, "expected_version": 1},
        ).status_code
        == 409
    )
    assert (
        api.put(
            f"/api/v1/knowledge/articles/{art['id']}", as_="operator2", json={"answer": "abc"}
        ).status_code
        == 403
    )
    r = api.put(f"/api/v1/knowledge/articles/{art['id']}", as_="operator", json={})
    assert r.status_code == 422
    published = _publish(api, art["id"])
    assert published["status"] == "published"
    # Published: the author may not edit it any more; a supervisor's edit sends it back to review.
    assert (
        api.put(f"/api/v1/knowledge/articles/{art['id']}", as_="operator", json={"answer": "abc"}).status_code
        == 403
    )
    r = api.put(f"/api/v1/knowledge/articles/{art['id']}", as_="supervisor", json={"tags": ["噪音", "施工"]})
    assert r.json()["status"] == "draft" and r.json()["tags"] == ["噪音", "施工"]
    assert _search(api, "施工噪音投诉") == []
    _publish(api, art["id"])
    assert _search(api, "施工噪音投诉") == [art["id"]]
    # Published twice? 409. Archive: withdrawn from search, kept for the record.
    r = api.post(
        f"/api/v1/knowledge/articles/{art['id']}/review", as_="supervisor", json={"decision": "publish"}
    )
    assert r.status_code == 409
    assert (
        api.client.delete(
            f"/api/v1/knowledge/articles/{art['id']}", headers=api.headers("operator")
        ).status_code
        == 403
    )
    r = api.client.delete(f"/api/v1/knowledge/articles/{art['id']}", headers=api.headers("admin"))
    assert r.status_code == 200 and r.json()["status"] == "archived"
    assert _search(api, "施工噪音投诉") == []
    assert (
        api.put(f"/api/v1/knowledge/articles/{art['id']}", as_="admin", json={"answer": "abc"}).status_code
        == 409
    )
    # Lists for editors; handlers may search but not read drafts.
    listed = api.get("/api/v1/knowledge/articles", as_="supervisor", params={"status": "archived"}).json()
    assert [a["id"] for a in listed["items"]] == [art["id"]]
    assert api.get("/api/v1/knowledge/articles", as_="h_cgj").status_code == 403
    draft = _propose(api, LOAN)
    assert api.get(f"/api/v1/knowledge/articles/{draft['id']}", as_="h_cgj").status_code == 404
    assert api.get(f"/api/v1/knowledge/articles/{draft['id']}", as_="auditor").status_code == 200
    assert api.post("/api/v1/knowledge/articles", as_="h_cgj", json=LOAN).status_code == 403


def test_bad_input_is_422_with_fields(api: Api) -> None:
    r = api.post("/api/v1/knowledge/articles", as_="operator", json={**LOAN, "department": "nope"})
    assert r.status_code == 422 and "department" in r.json()["fields"]
    r = api.post(
        "/api/v1/knowledge/articles",
        as_="operator",
        json={**LOAN, "valid_from": "2026-05-01", "valid_to": "2026-04-01"},
    )
    assert r.status_code == 422
    r = api.post("/api/v1/knowledge/articles", as_="operator", json={"question": "只有问题"})
    assert r.status_code == 422 and "answer" in r.json()["fields"]
    r = api.post("/api/v1/knowledge/articles", as_="operator", json={**LOAN, "colour": "red"})
    assert r.status_code == 422 and "colour" in r.json()["fields"]
    assert api.get("/api/v1/knowledge/search", as_="operator", params={"q": ""}).status_code == 422
    r = api.get("/api/v1/knowledge/search", as_="operator", params={"q": "  "})
    assert r.status_code == 422 and "q" in r.json()["fields"]
    r = api.get("/api/v1/knowledge/search", as_="operator", params={"q": "噪音", "department": "nope"})
    assert r.status_code == 422 and "department" in r.json()["fields"]
    r = api.get("/api/v1/knowledge/articles", as_="operator", params={"status": "secret"})
    assert r.status_code == 422 and "status" in r.json()["fields"]
    assert api.get("/api/v1/knowledge/articles/999999", as_="operator").status_code == 404
    r = api.post("/api/v1/knowledge/articles/999999/review", as_="admin", json={"decision": "maybe"})
    assert r.status_code == 422 and "decision" in r.json()["fields"]


def _cli(rt: Any, monkeypatch: Any, *args: str) -> Any:
    monkeypatch.setattr(cliutil, "runtime", lambda *a, **k: rt)
    return CliRunner().invoke(cli.app, list(args))


def test_seed_from_government_replies(api: Api, rt: Any, tmp_path: Path, monkeypatch: Any) -> None:
    src = rt.settings.data_dir / "tipdm2020" / "messages_with_replies.csv"
    with src.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames
        rows = [next(reader) for _ in range(60)]
    path = tmp_path / "replies.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    result = _cli(rt, monkeypatch, "knowledge", "seed", "--file", str(path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["created"] >= 30 and report["created"] + report["skipped"] == 60
    again = json.loads(_cli(rt, monkeypatch, "knowledge", "seed", "--file", str(path), "--json").stdout)
    assert again["created"] == 0 and again["already_present"] == report["created"]
    # A message's own subject finds the government's reply to it.
    listed = api.get("/api/v1/knowledge/articles", as_="admin", params={"page_size": 5}).json()
    assert listed["total"] == report["created"]
    article = listed["items"][0]
    assert article["status"] == "published" and article["source"].startswith("TipDM 2020")
    assert article["id"] in _search(api, article["question"])
    out = _cli(rt, monkeypatch, "knowledge", "search", article["question"], "--json")
    assert out.exit_code == 0 and article["id"] in [i["id"] for i in json.loads(out.stdout)]
    bad = _cli(rt, monkeypatch, "knowledge", "seed", "--file", str(tmp_path / "missing.csv"))
    assert bad.exit_code == 2 and "no such file" in bad.output
    stats = _cli(rt, monkeypatch, "knowledge", "stats")
    assert stats.exit_code == 0 and "即时答复率" in stats.output
