"""Hotspot clustering and ranking on small hand-made corpora, plus one run on the shipped data."""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haoban.hotspots.clustering import Appeal, ClusterParams, cluster_appeals, find_hotspots, hotspot_score
from haoban.textutil import extract_districts

T0 = datetime(2019, 11, 1, 9, 0)
DATA = Path(__file__).resolve().parents[2] / "data" / "tipdm2020" / "messages_with_votes.csv"

MIXER = [
    (
        "投诉A2区丽发新城附近建搅拌站噪音扰民",
        "丽发新城小区旁边新建了一个搅拌站，每天晚上施工，噪音很大，灰尘污染严重。",
    ),
    ("丽发新城小区附近违建搅拌站噪音扰民", "搅拌站离丽发新城小区只有一百米，夜间施工噪音扰民，请求处理。"),
    ("A2区丽发新城附近修建搅拌站，污染环境", "丽发新城附近的搅拌站粉尘污染，噪音严重影响业主休息。"),
    ("丽发新城搅拌站彻夜施工扰民", "丽发新城小区附近搅拌站彻夜施工，噪音扰民，居民无法入睡。"),
    ("A市丽发新城附近搅拌站噪音扰民和污染环境", "我们是丽发新城业主，附近的搅拌站噪音和灰尘污染太严重了。"),
]
PARKING = [
    ("伊景园滨河苑捆绑销售车位", "伊景园滨河苑开发商强制购房者捆绑购买车位，否则不能购房。"),
    ("投诉伊景园滨河苑捆绑车位销售", "伊景园滨河苑要求业主买房必须同时买车位，捆绑销售违法。"),
    ("关于伊景园滨河苑捆绑销售车位的投诉", "伊景园滨河苑捆绑销售车位，侵害消费者权益，请相关部门查处。"),
]
NOISE = [
    ("咨询A市人才购房补贴政策", "请问A市人才购房补贴需要什么条件，多久能发放？"),
    ("A7县星沙镇某路段路灯不亮", "星沙镇东六路路灯已经坏了一个月，晚上出行不安全。"),
    ("A5区某学校周边交通拥堵", "每天上下学时间学校门口车辆乱停，交通非常拥堵。"),
    ("反映A3区菜市场卫生问题", "菜市场垃圾没人清理，气味难闻，苍蝇很多。"),
]


def _corpus(*, mixer_votes: int = 0, parking_votes: int = 0) -> list[Appeal]:
    out: list[Appeal] = []
    for k, (s, t) in enumerate(MIXER):
        out.append(Appeal(f"m{k}", s, t, T0 + timedelta(days=3 * k), "A2区", votes=mixer_votes, user=f"u{k}"))
    for k, (s, t) in enumerate(PARKING):
        out.append(Appeal(f"p{k}", s, t, T0 + timedelta(days=k), None, votes=parking_votes, user=f"v{k}"))
    for k, (s, t) in enumerate(NOISE):
        d = extract_districts(s)
        out.append(Appeal(f"n{k}", s, t, T0 + timedelta(days=k), d[0] if d else None, user=f"w{k}"))
    return out


def test_finds_the_two_issues_with_place_and_label() -> None:
    hs = find_hotspots(_corpus())
    assert len(hs) == 2
    by_members = {frozenset(h.members): h for h in hs}
    mixer = by_members[frozenset(f"m{k}" for k in range(5))]
    parking = by_members[frozenset(f"p{k}" for k in range(3))]
    assert mixer.place == "丽发新城"
    assert mixer.district == "A2区"
    assert "搅拌站" in mixer.key_phrases
    assert mixer.label.startswith("丽发新城：") and "搅拌站" in mixer.label
    assert parking.place == "伊景园滨河苑"
    assert any("车位" in p or "捆绑" in p for p in parking.key_phrases)
    assert mixer.rank == 1 and parking.rank == 2  # more writers
    assert mixer.size == 5 and mixer.spread == 5 and mixer.days == 5
    assert mixer.start == T0 and mixer.end == T0 + timedelta(days=12)
    assert mixer.samples and mixer.title in [s for s, _ in MIXER]
    assert [h.rank for h in hs] == [1, 2]


def test_votes_change_the_ranking() -> None:
    hs = find_hotspots(_corpus(parking_votes=500))
    assert hs[0].members[0].startswith("p")
    assert hs[0].votes == 1500


def test_against_votes_reduce_support() -> None:
    appeals = [
        Appeal(a.key, a.subject, a.text, a.at, a.district, votes=10, against=4, user=a.user)
        for a in _corpus()
    ]
    mixer = next(h for h in find_hotspots(appeals) if h.members[0].startswith("m"))
    assert mixer.votes == 5 * 10 - 5 * 4 // 2


def test_filters_window_district_and_min_size() -> None:
    appeals = _corpus()
    hs = find_hotspots(appeals, district="A2区")
    assert len(hs) == 1 and hs[0].members[0].startswith("m")
    hs = find_hotspots(appeals, since=T0 + timedelta(days=5))
    assert all(not h.members[0].startswith("p") for h in hs)  # parking appeals are all earlier
    assert all(a >= T0 + timedelta(days=5) for h in hs for a in [h.start])
    assert find_hotspots(appeals, min_size=4)[0].size == 5
    assert len(find_hotspots(appeals, min_size=6)) == 0
    assert len(find_hotspots(appeals, top=1)) == 1


def test_growth_compares_halves_of_the_window() -> None:
    appeals = _corpus()
    # Window of 30 days from T0: mixer appeals at days 0..12 are all in the first half.
    hs = find_hotspots(appeals, since=T0, until=T0 + timedelta(days=30))
    mixer = next(h for h in hs if h.members[0].startswith("m"))
    assert mixer.growth == pytest.approx(1 / 6, abs=1e-3)
    hs = find_hotspots(appeals, since=T0 - timedelta(days=30), until=T0 + timedelta(days=13))
    mixer = next(h for h in hs if h.members[0].startswith("m"))
    assert mixer.growth == 6.0


def test_same_user_posting_many_times_is_not_spread() -> None:
    appeals = [
        Appeal(a.key, a.subject, a.text, a.at, a.district, user="same" if a.key.startswith("m") else a.user)
        for a in _corpus()
    ]
    hs = find_hotspots(appeals)
    mixer = next(h for h in hs if h.members[0].startswith("m"))
    assert mixer.spread == 1
    assert hs[0].members[0].startswith("p")  # three writers beat one writer posting five times


def test_input_order_does_not_matter() -> None:
    appeals = _corpus()
    shuffled = appeals[:]
    random.Random(4).shuffle(shuffled)
    assert find_hotspots(appeals) == find_hotspots(shuffled)


def test_progress_reaches_total_and_empty_input() -> None:
    calls: list[tuple[int, int]] = []
    find_hotspots(_corpus(), progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1][0] == calls[-1][1]
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert find_hotspots([]) == []
    assert find_hotspots(_corpus()[:1]) == []


def test_cluster_labels_and_district_penalty() -> None:
    base = _corpus()
    labels, central = cluster_appeals(base)
    assert len(labels) == len(base) and len(central) == len(base)
    assert len({int(labels[k]) for k in range(5)}) == 1
    assert labels[0] != labels[5]
    # The same complaint filed under another district splits off when the penalty is prohibitive.
    moved = [
        Appeal(a.key, a.subject, a.text, a.at, "A9区" if a.key in ("m3", "m4") else a.district) for a in base
    ]
    strict = ClusterParams(district_penalty=1.0)
    labels, _ = cluster_appeals(moved, params=strict)
    assert labels[0] != labels[3] and labels[3] == labels[4]


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    st.integers(1, 500),
    st.integers(0, 500),
    st.floats(0, 10_000),
    st.integers(1, 300),
    st.floats(0.01, 100),
)
def test_score_is_monotonic(users: int, extra: int, support: float, days: int, growth: float) -> None:
    size = users + extra
    s = hotspot_score(users=users, size=size, support=support, days=days, growth=growth)
    assert hotspot_score(users=users + 1, size=size + 1, support=support, days=days, growth=growth) > s
    assert hotspot_score(users=users, size=size, support=support + 10, days=days, growth=growth) > s
    more_days = hotspot_score(users=users, size=size, support=support, days=days + 1, growth=growth)
    assert more_days > s if days < users else more_days == s  # days count up to the writers
    assert hotspot_score(users=users, size=size, support=support, days=days, growth=growth * 2) >= s


def _parse(value: str) -> datetime:
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
    raise ValueError(value)


@pytest.mark.skipif(not DATA.exists(), reason="shipped TipDM data not present")
def test_known_hotspots_of_the_shipped_data() -> None:
    """TipDM 2020 data: the concrete-mixer and bundled-parking campaigns must top the list."""
    with DATA.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    appeals = []
    for r in rows:
        d = extract_districts(r["留言主题"]) or extract_districts(r["留言详情"])
        appeals.append(
            Appeal(
                key=r["留言编号"],
                subject=r["留言主题"],
                text=r["留言详情"],
                at=_parse(r["留言时间"]),
                district=d[0] if d else None,
                votes=int(r["点赞数"]),
                against=int(r["反对数"]),
                user=r["留言用户"],
            )
        )
    hs = find_hotspots(appeals, top=5)
    places = [h.place for h in hs]
    assert any(p and "丽发新城" in p for p in places)
    assert any(p and "伊景园滨河苑" in p for p in places)
    mixer = next(h for h in hs if h.place and "丽发新城" in h.place)
    assert mixer.size >= 40 and "搅拌站" in mixer.key_phrases
