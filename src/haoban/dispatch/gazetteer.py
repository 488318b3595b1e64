"""Find the district (区县) a message or address is about (地名识别).

The default gazetteer is the demo city, Hengyang (衡阳市): its 12 county-level districts and the
streets (街道) and towns/townships (镇/乡) listed below, each mapped to its district. Only names we
are confident of are listed, in full (西渡镇, not 西渡): short town names collide with ordinary words
and with places elsewhere. A city passes its own entries with `Gazetteer.extended(...)` or builds a
`Gazetteer` from scratch.

The public TipDM data masks places as A市, A3区, G7县 …; such codes are matched as districts of
their own (kind "masked") so demo data gets a district too.

The longest matching name wins (蔡子池街道 over 耒阳市); among equally long names, the first one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

DEMO_CITY = "衡阳市"

HENGYANG_DISTRICTS: tuple[str, ...] = (
    "珠晖区",
    "雁峰区",
    "石鼓区",
    "蒸湘区",
    "南岳区",
    "衡阳县",
    "衡南县",
    "衡山县",
    "衡东县",
    "祁东县",
    "耒阳市",
    "常宁市",
)

# Where each district's seat lies (WGS-84, approximate: a map's starting points and the district of a
# pin, not a boundary). A city replaces these with its own.
DISTRICT_CENTRES: dict[str, tuple[float, float]] = {
    "珠晖区": (26.894, 112.650),
    "雁峰区": (26.868, 112.613),
    "石鼓区": (26.926, 112.598),
    "蒸湘区": (26.912, 112.567),
    "南岳区": (27.255, 112.738),
    "衡阳县": (26.970, 112.370),
    "衡南县": (26.745, 112.678),
    "衡山县": (27.230, 112.868),
    "衡东县": (27.081, 112.953),
    "祁东县": (26.797, 112.090),
    "耒阳市": (26.422, 112.860),
    "常宁市": (26.421, 112.399),
}

# Short forms people write for a district. 衡山 is left out on purpose: it usually means the
# mountain (南岳衡山), which lies in 南岳区, not 衡山县; 衡阳 alone is the city.
_DISTRICT_ALIASES: dict[str, str] = {
    "珠晖": "珠晖区",
    "雁峰": "雁峰区",
    "蒸湘": "蒸湘区",
    "南岳": "南岳区",
    "衡南": "衡南县",
    "衡东": "衡东县",
    "祁东": "祁东县",
    "耒阳": "耒阳市",
    "常宁": "常宁市",
}

# Streets (街道) and towns/townships (镇/乡) per district.
_SUBDIVISIONS: dict[str, tuple[str, ...]] = {
    "珠晖区": (
        "东风路街道",
        "广东路街道",
        "冶金街道",
        "苗圃街道",
        "粤汉街道",
        "衡花路街道",
        "东阳渡街道",
        "茶山坳镇",
        "和平乡",
        "酃湖乡",
    ),
    "雁峰区": ("先锋街道", "天马山街道", "白沙洲街道", "黄茶岭街道", "雁峰街道", "金龙坪街道", "岳屏镇"),
    "石鼓区": ("人民路街道", "青山街道", "五一街道", "潇湘街道", "合江街道", "黄沙湾街道", "松木乡"),
    "蒸湘区": ("红湘街道", "蒸湘街道", "联合街道", "呆鹰岭镇", "雨母山镇"),
    "南岳区": ("祝融街道", "南岳镇", "寿岳乡"),
    "衡阳县": (
        "西渡镇",
        "渣江镇",
        "界牌镇",
        "台源镇",
        "金兰镇",
        "演陂镇",
        "三湖镇",
        "洪市镇",
        "井头镇",
        "曲兰镇",
        "杉桥镇",
        "集兵镇",
    ),
    "衡南县": (
        "云集镇",
        "车江镇",
        "茶市镇",
        "冠市镇",
        "江口镇",
        "宝盖镇",
        "花桥镇",
        "松江镇",
        "泉湖镇",
        "廖田镇",
        "三塘镇",
        "硫市镇",
        "栗江镇",
        "近尾洲镇",
        "谭子山镇",
        "洪山镇",
        "相市乡",
    ),
    "衡山县": ("开云镇", "白果镇", "店门镇", "萱洲镇", "长江镇", "新桥镇", "东湖镇"),
    "衡东县": (
        "大浦镇",
        "吴集镇",
        "甘溪镇",
        "杨桥镇",
        "霞流镇",
        "草市镇",
        "石湾镇",
        "新塘镇",
        "荣桓镇",
        "高湖镇",
    ),
    "祁东县": (
        "洪桥街道",
        "永昌街道",
        "白地市镇",
        "归阳镇",
        "过水坪镇",
        "黄土铺镇",
        "灵官镇",
        "砖塘镇",
        "风石堰镇",
        "金桥镇",
        "粮市镇",
        "步云桥镇",
        "双桥镇",
        "石亭子镇",
        "官家嘴镇",
        "太和堂镇",
    ),
    "耒阳市": (
        "蔡子池街道",
        "水东江街道",
        "五里牌街道",
        "灶市街街道",
        "三架街道",
        "龙塘镇",
        "公平圩镇",
        "小水镇",
        "夏塘镇",
        "哲桥镇",
        "南京镇",
        "大义镇",
        "遥田镇",
    ),
    "常宁市": (
        "宜阳街道",
        "泉峰街道",
        "培元街道",
        "水口山镇",
        "松柏镇",
        "柏坊镇",
        "烟洲镇",
        "荫田镇",
        "西岭镇",
        "洋泉镇",
        "庙前镇",
        "罗桥镇",
        "胜桥镇",
        "塔山瑶族乡",
    ),
}

# Masked codes of the public data: a capital letter, 1–2 digits and 区/县/市 (A3区, G7县, D12市).
# A bare "A市" is a masked city, not a district, and is not matched.
_MASKED = re.compile(r"(?<![A-Za-z0-9Ａ-Ｚａ-ｚ０-９])[A-ZＡ-Ｚ][0-9０-９]{1,2}[区县市]")


@dataclass(frozen=True)
class DistrictMatch:
    surface: str  # the text as found, e.g. "西渡镇"
    district: str  # e.g. "衡阳县"
    start: int
    end: int
    kind: str  # "district", "alias", "subdivision", "extra" or "masked"


class Gazetteer:
    """Place names mapped to their district; build once, match many times."""

    def __init__(
        self,
        entries: Mapping[str, str],
        *,
        kinds: Mapping[str, str] | None = None,
        match_masked: bool = True,
        city: str = DEMO_CITY,
    ) -> None:
        cleaned = {name.strip(): district.strip() for name, district in entries.items()}
        if any(not name or not district for name, district in cleaned.items()):
            raise ValueError("gazetteer entries need a non-empty name and district")
        self.entries: dict[str, str] = cleaned
        self.kinds: dict[str, str] = {name: (kinds or {}).get(name, "extra") for name in cleaned}
        self.match_masked = match_masked
        self.city = city
        # At each position the lookahead finds the longest name starting there (alternatives are
        # tried longest first); overlapping matches are all seen because the lookahead is empty.
        names = sorted(cleaned, key=lambda n: (-len(n), n))
        self._pattern = re.compile("(?=(" + "|".join(map(re.escape, names)) + "))") if names else None

    def extended(self, extra: Mapping[str, str]) -> Gazetteer:
        """A copy with more (or overriding) entries, e.g. a city's villages or estates."""
        entries = {**self.entries, **extra}
        kinds = {**self.kinds, **dict.fromkeys(extra, "extra")}
        return Gazetteer(entries, kinds=kinds, match_masked=self.match_masked, city=self.city)

    @property
    def districts(self) -> list[str]:
        return sorted(set(self.entries.values()))

    def find(self, text: str) -> DistrictMatch | None:
        best: DistrictMatch | None = None
        if self._pattern is not None:
            for m in self._pattern.finditer(text):
                name = m.group(1)
                if best is None or len(name) > len(best.surface):
                    start = m.start(1)
                    best = DistrictMatch(name, self.entries[name], start, start + len(name), self.kinds[name])
        if self.match_masked:
            for m in _MASKED.finditer(text):
                longer = best is None or len(m.group()) > len(best.surface)
                if longer or (len(m.group()) == len(best.surface) and m.start() < best.start):
                    best = DistrictMatch(m.group(), m.group(), m.start(), m.end(), "masked")
        return best

    def find_all(self, text: str) -> set[str]:
        """Every district named in ``text`` (through any name of it, or masked as A3区)."""
        found: set[str] = set()
        if self._pattern is not None:
            found.update(self.entries[m.group(1)] for m in self._pattern.finditer(text))
        if self.match_masked:
            found.update(m.group() for m in _MASKED.finditer(text))
        return found


def hengyang_entries() -> tuple[dict[str, str], dict[str, str]]:
    """(name → district, name → kind) for the demo city."""
    entries: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for district in HENGYANG_DISTRICTS:
        entries[district] = district
        kinds[district] = "district"
    for alias, district in _DISTRICT_ALIASES.items():
        entries[alias] = district
        kinds[alias] = "alias"
    for district, names in _SUBDIVISIONS.items():
        for name in names:
            entries[name] = district
            kinds[name] = "subdivision"
    return entries, kinds


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    entries, kinds = hengyang_entries()
    return Gazetteer(entries, kinds=kinds)


def find_district(text: str, *, gazetteer: Gazetteer | None = None) -> DistrictMatch | None:
    """The district named in `text` (longest match wins), or None."""
    if not text:
        return None
    return (gazetteer or default_gazetteer()).find(text)
