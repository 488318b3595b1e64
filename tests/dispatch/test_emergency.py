"""Emergencies at intake: each life-safety kind raises the banner with its line; ordinary complaints
that mention 火 or 气 in other senses (火车站, 天气, 燃气费, 火灾隐患) do not."""

from __future__ import annotations

from typing import Any

import pytest

from haoban.dispatch.emergency import detect
from tests.conftest import Api

# (what the caller says, kind, first line to call)
EMERGENCIES = [
    ("我家厨房燃气泄漏了，一屋子的气味，我老婆已经头晕恶心了", "gas", "119"),
    ("楼道里一股很浓的煤气味，好像是楼上哪家漏气了", "gas", "119"),
    ("蒸湘区解放大道一栋居民楼着火了，冒了好多浓烟", "fire", "119"),
    ("楼下电动车充电起火了，火势越来越大", "fire", "119"),
    ("我被困在电梯里了，电梯卡在七楼和八楼之间", "trapped", "119"),
    ("湘江边有个小孩落水了，快来人", "drowning", "110"),
    ("刚才看到一个女的跳河了，就在大桥下面", "drowning", "110"),
    ("路边的电线断了掉在地上，还在冒火花", "live_wire", "110"),
    ("工地上有人触电了", "live_wire", "110"),
    ("楼下有人拿刀砍人，快派警察来", "violence", "110"),
    ("我老公喝醉了在家打我，我躲在厕所里", "violence", "110"),
    ("我爸突然晕倒了，叫不醒", "medical", "120"),
    ("解放大道上出车祸了，有人躺在地上", "traffic", "122"),
]

ORDINARY = [
    "请问衡阳火车站到南岳的班车几点发车",
    "今天天气太热了，小区的空调外机噪音很大",
    "燃气公司收费太高了，燃气费一个月要三百多",
    "小区消防通道被堵，存在火灾隐患",
    "楼下火锅店油烟太大",
    "希望社区组织消防演练和燃气安全检查",
    "家里生活困难，想申请低保",
    "空气质量太差了，工厂排放黑烟",
    "开发商将消防通道当车位卖，万一起火怎么办？",
    "物业打人民调解电话没人接",
    "滨江路的路灯坏了三天，晚上很黑",
]


@pytest.mark.parametrize(("text", "kind", "line"), EMERGENCIES)
def test_each_life_safety_kind_is_flagged_with_its_line(text: str, kind: str, line: str) -> None:
    found = detect(text)
    assert found is not None, text
    assert kind in found.kinds and line in found.lines
    assert found.evidence and found.label_zh and found.label_en


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_complaints_raise_no_banner(text: str) -> None:
    assert detect(text) is None, detect(text)


def test_gas_with_dizziness_also_suggests_an_ambulance() -> None:
    found = detect("家里一股煤气味，孩子说头痛想吐")
    assert found is not None and found.lines == ("119", "120")
    assert detect("楼道里有煤气味").lines == ("119",)  # type: ignore[union-attr]


def test_the_check_api_and_urgency_at_intake(api: Api) -> None:
    r = api.post("/api/v1/emergency/check", as_="operator", json={"text": EMERGENCIES[2][0]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["emergency"] is True and body["kinds"] == ["fire"] and body["line"] == "119"
    quiet = api.post("/api/v1/emergency/check", as_="operator", json={"text": ORDINARY[0]}).json()
    assert quiet["emergency"] is False and quiet["line"] is None
    assert api.post("/api/v1/emergency/check", as_="operator", json={"text": ""}).status_code == 422

    # A phone call about danger is registered urgent even when the operator left "normal".
    def urgency(**fields: Any) -> str:
        code = api.create(**fields)["code"]
        return api.get(f"/api/v1/orders/{code}", as_="supervisor").json()["urgency"]

    assert urgency(content=EMERGENCIES[4][0], channel="phone", urgency="normal") == "urgent"
    assert urgency(content=ORDINARY[4], channel="phone") == "normal"
    # A board message is not a call for help: its urgency is left alone.
    assert urgency(content=EMERGENCIES[2][0], channel="web") == "normal"


def test_the_console_carries_the_banner_with_one_button_per_line(client: Any) -> None:
    r = client.post("/login", data={"username": "operator", "password": "demo"}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/console").text
    banner = page[page.index('id="emergency-banner"') :]
    banner = banner[: banner.index("</div>")]
    assert "hidden" in banner.split(">", 1)[0] and "紧急警情" in banner
    for line in ("110", "119", "120", "122"):
        assert f'data-line="{line}"' in banner
