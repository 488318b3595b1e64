"""The console's routing explanation reads the district from the text when the form has none, so the
form can be filled with it (the caller said "蒸湘区…")."""

from __future__ import annotations

from tests.conftest import Api

TEXT = "蒸湘区红湘路与解放大道交叉口自来水管道爆裂，我们这边停水了"


def test_explain_names_the_district_found_in_the_text(api: Api) -> None:
    r = api.post("/api/v1/dispatch/explain", as_="operator", json={"text": TEXT, "order_type": "complaint"})
    assert r.status_code == 200, r.text
    code = r.json()["district_from_text"]
    districts = {d["code"]: d["name"] for d in api.get("/api/v1/districts", as_="operator").json()}
    assert districts.get(code) == "蒸湘区"
    # Chosen in the form already, or not named in the text: nothing to fill.
    given = {"text": TEXT, "order_type": "complaint", "district": code}
    assert (
        api.post("/api/v1/dispatch/explain", as_="operator", json=given).json()["district_from_text"] is None
    )
    plain = {"text": "路灯坏了三天", "order_type": "complaint"}
    assert (
        api.post("/api/v1/dispatch/explain", as_="operator", json=plain).json()["district_from_text"] is None
    )
