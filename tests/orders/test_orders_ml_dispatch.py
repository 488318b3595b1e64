"""Machine-learning dispatch through the catalogue: the threshold moves orders between automatic
dispatch and the human queue; human choices become corrections that the next training uses; the worker
categorises orders that keyword rules dispatched without a category.

The classifier here is a stand-in with the TextClassifier interface, so these tests pin the wiring;
the real model is tested in tests/dispatch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select

from haoban.dispatch.ml import correction_examples
from haoban.dispatch.models import DispatchCorrection
from haoban.orders.models import Order
from tests.conftest import Api


@dataclass(frozen=True)
class _Suggestion:
    label: str
    probability: float


@dataclass(frozen=True)
class _Prediction:
    suggestions: list[_Suggestion]
    confident: bool
    reason: str | None = None


@dataclass(frozen=True)
class StubClassifier:
    """Says 交通运输 with probability 0.8 for every text."""

    threshold: float = 0.5
    labels: tuple[str, ...] = ("交通运输", "城乡建设", "环境保护")
    metadata: Any = None

    def predict(self, text: str) -> _Prediction:
        top = [_Suggestion("交通运输", 0.8), _Suggestion("城乡建设", 0.15), _Suggestion("环境保护", 0.05)]
        return _Prediction(top, confident=top[0].probability >= self.threshold)

    def predict_many(self, texts: list[str]) -> list[_Prediction]:
        return [self.predict(t) for t in texts]


NO_KEYWORD = "早上七点多在中山路那边等了很久也没有来，希望增加班次"  # no catalogue keyword


def test_threshold_moves_orders_between_auto_dispatch_and_the_queue(api: Api, rt: Any) -> None:
    rt.enable_classifier(StubClassifier(threshold=0.5))
    auto = api.create(content=NO_KEYWORD, type="suggestion")
    assert auto["status"] == "dispatched" and auto["department"] == "jtj"
    assert auto["dispatch"]["source"] == "model" and auto["dispatch"]["confidence"] == 0.8
    rt.enable_classifier(StubClassifier(threshold=0.9))
    held = api.create(content=NO_KEYWORD, type="suggestion")
    assert held["status"] == "pending_dispatch"
    detail = api.get(f"/api/v1/orders/{held['code']}", as_="dispatcher").json()
    assert [s["label"] for s in detail["dispatch"]["suggestions"]] == ["交通运输", "城乡建设", "环境保护"]
    rt.enable_classifier(None)
    assert api.create(content=NO_KEYWORD, type="suggestion")["status"] == "pending_dispatch"


def test_human_choice_becomes_a_correction_used_for_training(api: Api, rt: Any) -> None:
    rt.enable_classifier(StubClassifier(threshold=0.9))
    code = api.create(content=NO_KEYWORD, type="suggestion")["code"]
    city = rt.directory.category("城乡建设").code
    api.act(code, "dispatch", as_="dispatcher", department="zjj", category=city)
    with rt.db.read() as s:
        rows = s.scalars(select(DispatchCorrection)).all()
        assert len(rows) == 1 and rows[0].chosen_department == "zjj" and rows[0].source == "human_dispatch"
        examples = correction_examples(s, rt.directory)
    assert examples == [(rows[0].text, "城乡建设", 2.0)]
    listed = api.get("/api/v1/dispatch/corrections", as_="dispatcher").json()
    assert listed[0]["chosen_category"] == city


def test_upheld_return_is_a_correction(api: Api, rt: Any) -> None:
    code = api.create()["code"]  # 路灯 → cgj by keyword
    api.act(code, "return", as_="h_cgj", reason="路灯归供电公司管")
    api.act(code, "review_return", as_="dispatcher", decision="uphold", department="gongdian")
    with rt.db.read() as s:
        c = s.scalars(select(DispatchCorrection)).one()
    assert (c.source, c.suggested_department, c.chosen_department) == ("return", "cgj", "gongdian")


def test_worker_categorises_keyword_dispatched_orders(api: Api, rt: Any) -> None:
    from haoban.worker import tick

    code = api.create()["code"]  # keyword rule: no category needed, none set
    with rt.db.read() as s:
        assert s.scalar(select(Order.category_id).where(Order.code == code)) is None
    rt.enable_classifier(StubClassifier())
    assert tick(rt).categorised == 1
    with rt.db.read() as s:
        category_id = s.scalar(select(Order.category_id).where(Order.code == code))
    assert rt.directory.categories_by_id[category_id].name == "交通运输"
    assert tick(rt).categorised == 0  # nothing left, nothing retried


def test_predict_and_model_endpoints(api: Api, rt: Any) -> None:
    r = api.post("/api/v1/dispatch/predict", as_="operator", json={"text": NO_KEYWORD})
    assert r.status_code == 409 and "no dispatch model" in r.json()["message"]
    assert api.get("/api/v1/dispatch/model", as_="operator").json() == {"loaded": False}
    rt.enable_classifier(replace(StubClassifier(), metadata={"version": "stub"}))
    body = api.post("/api/v1/dispatch/predict", as_="operator", json={"text": NO_KEYWORD}).json()
    assert body["suggestions"][0] == {"label": "交通运输", "probability": 0.8}
    assert body["decision"]["department"] == "jtj"
    info = api.get("/api/v1/dispatch/model", as_="operator").json()
    assert info["loaded"] and info["metadata"] == {"version": "stub"}
    r = api.post("/api/v1/dispatch/predict", as_="operator", json={"text": ""})
    assert r.status_code == 422


def test_district_found_in_the_address_or_text(api: Api) -> None:
    by_address = api.create(content="路灯坏了", address="衡阳市石鼓区人民路12号")
    assert api.get(f"/api/v1/orders/{by_address['code']}", as_="operator").json()["district"] == "石鼓区"
    by_text = api.create(content="耒阳市某小区门口路灯坏了")
    assert api.get(f"/api/v1/orders/{by_text['code']}", as_="operator").json()["district"] == "耒阳市"
    given = api.create(content="耒阳市某小区门口路灯坏了", district="珠晖区")
    assert api.get(f"/api/v1/orders/{given['code']}", as_="operator").json()["district"] == "珠晖区"
