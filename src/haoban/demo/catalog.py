"""The demo city's service catalogue: a real district's item list mapped onto the demo departments, with
guide details written for the demo, plus the hand-written items the shipped bundles use.

Sources (see data/service-items/README.md):
- ``data/service-items/items.csv``: 1,135 real items of 广安区 (name, parent item, national type,
  department). Kept: the name, the parent item, the type; the department is mapped onto Hengyang's.
- ``bundles/definitions/ITEMS.yaml``: the items the five bundles name (name, department, kind, time
  limits, online level) — its values are used as they are, so a bundle and its items always agree.
- ``demo/catalog.yaml``: hand-written guide details for those, and the items whose licences others reuse.

Everything else (time limits, online level, materials, fees, basis, place) is DEMO DATA derived
deterministically from the item's type and name by the rules below: realistic, not official.
"""

from __future__ import annotations

import csv
import hashlib
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from haoban.bundles.definitions import DEFINITIONS_DIR

# The district's departments → the demo city's department codes (city.yaml). Not mapped: departments
# the demo city has no counterpart for (烟草专卖, 气象, 财政, 党委的办事机构, 统计).
DEPARTMENT_MAP = {
    "区行政审批局": "xzsp",
    "区人社局": "rsj",
    "区交通运输局": "jtj",
    "广安区税务局": "tax",
    "区住建局": "zjj",
    "区自然资源和规划局": "zrzy",
    "区公安分局": "gaj",
    "区医疗保障局": "ybj",
    "区文广旅局": "wlj",
    "区教科体局": "jyj",
    "区农业农村局": "nyj",
    "区司法局": "sfj",
    "区卫健局": "wjw",
    "区民政局": "mzj",
    "区市监局": "scjg",
    "区林业局": "lyj",
    "区生态环境局": "sthj",
    "区残联": "cl",
    "区水务局": "slj",
    "区应急管理局": "yjj",
    "区政府办": "zjj",  # its items there are the civil air defence (人防) approvals: 住建 in the demo city
    "区退役军人事务局": "tyjr",
    "区综合执法局": "cgj",
    "区发改局": "fgw",
    "区公管办": "xzsp",
    "区商务局": "swj",
    "区经信局": "gxj",
    "区消防大队": "yjj",
}

# (life event, words in the item's name or parent item)
LIFE_EVENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("出生", ("出生", "新生儿", "生育", "母婴", "预防接种", "独生子女")),
    ("入学", ("学生", "入学", "学籍", "资助", "教师资格", "转学", "幼儿园")),
    ("就业", ("就业", "失业", "职业", "技能", "人才", "招聘", "创业", "见习", "岗位")),
    ("婚姻", ("结婚", "离婚", "婚姻")),
    ("住房", ("住房", "公积金", "房屋", "不动产", "物业", "租赁", "房产")),
    ("社保", ("社会保险", "社保", "医疗保险", "医保", "参保", "工伤", "生育保险")),
    ("养老", ("养老", "老年", "高龄", "敬老", "退休")),
    ("残疾", ("残疾", "残疾人")),
    ("退役", ("退役", "军人", "优抚", "烈士", "伤残抚恤")),
    ("出行", ("驾驶", "机动车", "道路运输", "客运", "货运", "出租汽车", "车辆", "船舶", "航道")),
    ("身后", ("死亡", "丧葬", "殡葬", "遗属", "抚恤金")),
    ("户籍", ("户口", "户籍", "身份证", "居住证")),
    ("开办企业", ("设立登记", "开业", "营业执照", "开办")),
    ("企业经营", ("经营许可", "生产许可", "经营", "许可证核发", "资质")),
    ("工程建设", ("建设工程", "建设项目", "施工", "规划许可", "建筑", "工程竣工", "防空地下室", "人防")),
    ("医疗卫生", ("医疗机构", "医师", "护士", "诊所", "卫生许可", "母婴保健", "药品")),
    ("农业农村", ("农药", "种子", "畜禽", "兽医", "渔业", "农机", "拖拉机", "农村", "宅基地", "养蜂")),
    ("救助", ("救助", "低保", "最低生活保障", "特困", "临时救助")),
)
BUSINESS_WORDS = ("企业", "公司", "单位", "经营", "生产", "许可证", "资质", "建设项目", "施工", "机构")
ONLINE_SHARES = (("full", 64), ("appointment", 28), ("window", 8))
# Inspections, arbitration and on-site matters are done at a window (or on site).
WINDOW_WORDS = ("裁决", "检查", "验收", "勘验", "鉴定", "现场", "查验")


def _h(*parts: str) -> int:
    """A stable pseudo-random number for an item (the demo must be the same on every machine)."""
    return int(hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:12], 16)


def _pick(seed: int, options: tuple[Any, ...]) -> Any:
    return options[seed % len(options)]


def _code(dept: str, item_code: str, taken: set[str]) -> str:
    basic = item_code.split("-5116")[0].lower()
    basic = re.sub(r"[^a-z0-9-]", "", basic).strip("-")[:60] or "item"
    code = f"{dept}-{basic}"
    n = 2
    while code in taken:
        code = f"{dept}-{basic}-{n}"
        n += 1
    taken.add(code)
    return code


def _limits(task_type: str, name: str, seed: int) -> tuple[str, int, int]:
    """(kind, statutory days, promised days) by the item's national type; demo values."""
    quick = any(w in name for w in ("变更", "补发", "补领", "换领", "注销", "咨询", "查询", "备案"))
    if task_type == "公共服务":
        if quick or seed % 10 < 6:
            return "immediate", _pick(seed >> 4, (1, 1, 3, 5)), 0
        statutory = _pick(seed >> 4, (5, 10, 15))
        return "promised", statutory, max(1, statutory // 3)
    if task_type == "行政许可":
        statutory = _pick(seed >> 4, (20, 20, 15, 30, 10, 45))
        if quick and seed % 3 == 0:
            return "immediate", statutory, 0
        factor = _pick(seed >> 8, (0.2, 0.25, 0.3, 0.4, 0.5))
        return "promised", statutory, max(1, round(statutory * factor))
    if task_type == "行政确认":
        if quick or seed % 10 < 3:
            return "immediate", _pick(seed >> 4, (1, 3, 5)), 0
        statutory = _pick(seed >> 4, (10, 20, 15))
        return "promised", statutory, max(1, statutory // 4)
    if task_type == "行政给付":
        statutory = _pick(seed >> 4, (20, 30))
        return "promised", statutory, _pick(seed >> 8, (5, 7, 10))
    if task_type == "行政奖励":
        return "promised", 30, 15
    if task_type == "行政裁决":
        return "promised", 60, 30
    # 其他行政权力
    if quick or seed % 10 < 3:
        return "immediate", _pick(seed >> 4, (1, 3)), 0
    statutory = _pick(seed >> 4, (20, 10, 15, 30))
    return "promised", statutory, max(1, round(statutory * _pick(seed >> 8, (0.25, 0.3, 0.5))))


def _online(name: str, task_type: str, seed: int) -> str:
    if task_type == "行政裁决" or any(w in name for w in WINDOW_WORDS):
        return "appointment" if seed % 2 else "window"
    roll = seed % 100
    for level, share in ONLINE_SHARES:
        if roll < share:
            return level
        roll -= share
    return "window"


def _events(text: str) -> list[str]:
    return [event for event, words in LIFE_EVENTS if any(w in text for w in words)][:3]


HUKOU = "gaj-newborn-hukou-registration"  # the household register (居民户口簿) is its result


def _materials(name: str, business: bool, events: list[str], seed: int) -> list[dict[str, Any]]:
    """Materials by who applies and what the item is about; the government-held ones name their licence."""
    out: list[dict[str, Any]] = [{"name": f"《{name[:40]}》申请表", "form": "original"}]
    if business:
        out.append(
            {"name": "营业执照", "form": "copy", "licence_kind": "scjg-enterprise-establishment-registration"}
        )
        out.append({"name": "法定代表人居民身份证", "form": "copy", "licence_kind": "gaj-resident-id-card"})
    else:
        out.append({"name": "申请人居民身份证", "form": "original", "licence_kind": "gaj-resident-id-card"})
    if "户籍" in events or "出生" in events or "救助" in events:
        out.append({"name": "居民户口簿", "form": "original", "licence_kind": HUKOU})
    if "婚姻" in events or ("出生" in events and not business):
        out.append({"name": "结婚证", "form": "copy", "licence_kind": "mzj-marriage-registration"})
    if "住房" in events:
        out.append(
            {"name": "不动产权证书", "form": "copy", "licence_kind": "zrzy-real-estate-transfer-registration"}
        )
    if "出行" in events and any(w in name for w in ("车辆", "机动车", "出租汽车")):
        out.append({"name": "机动车行驶证", "form": "copy", "licence_kind": "gaj-motor-vehicle-registration"})
    if "残疾" in events:
        out.append({"name": "残疾人证", "form": "copy"})
    if "工程建设" in events:
        out.append({"name": "设计文件及图纸", "form": "original"})
    if any(w in name for w in ("变更", "延续", "换发", "补发", "注销")):
        out.append({"name": "原证件或证照遗失声明", "form": "original"})
    extra = _pick(seed >> 12, ("相关证明材料", "情况说明", "授权委托书（委托办理时）", "现场照片", None))
    if extra:
        out.append({"name": extra, "form": "copy", "tolerance": seed % 4 == 0})
    return out


LEGAL_BASIS = {
    "行政许可": "《中华人民共和国行政许可法》及相关法律法规、规章（演示数据）",
    "行政确认": "相关法律法规对该事项的确认规定（演示数据）",
    "行政给付": "《社会救助暂行办法》等相关法规及省、市实施办法（演示数据）",
    "行政奖励": "相关法律法规对奖励的规定（演示数据）",
    "行政裁决": "相关法律法规对裁决的规定（演示数据）",
    "其他行政权力": "相关法律法规、规章（演示数据）",
    "公共服务": "相关法规、规范性文件及公共服务事项清单（演示数据）",
}


def items_from_csv(path: Path, *, skip_names: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """Catalogue input rows from the district's list (demo details derived from type and name)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    taken: set[str] = set()
    seen: set[tuple[str, str]] = set(skip_names)
    out = []
    for r in rows:
        dept = DEPARTMENT_MAP.get(r["department"])
        name = r["item_name"].strip()
        if dept is None or (dept, name) in seen:
            continue
        seen.add((dept, name))
        task_type = r["task_type_name"].strip()
        group = r["group"].strip()
        seed = _h(r["item_code"], name)
        kind, statutory, promised = _limits(task_type, name, seed)
        text = f"{group} {name}"
        events = _events(text)
        business = task_type == "行政许可" or any(w in text for w in BUSINESS_WORDS)
        out.append(
            {
                "code": _code(dept, r["item_code"], taken),
                "name": name[:200],
                "department": dept,
                "group_name": group if group and group != "未分类" else None,
                "task_type": task_type or None,
                "audience": "business" if business else "person",
                "kind": kind,
                "statutory_days": statutory,
                "promised_days": promised,
                "online": _online(name, task_type, seed),
                "fee_fen": 0,
                "legal_basis": LEGAL_BASIS.get(task_type, LEGAL_BASIS["其他行政权力"]),
                "form_name": f"《{name[:60]}》申请表",
                "location": None,  # filled with the centre below
                "hours": None,
                "life_events": events,
                "materials": _materials(name, business, events, seed),
                "source": "广安区政务服务事项清单（v-luobo/zwfw, Apache-2.0）；办理要素为演示数据",
            }
        )
    return out


def _demo_yaml() -> dict[str, Any]:
    text = resources.files("haoban.demo").joinpath("catalog.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def bundle_items() -> list[dict[str, Any]]:
    """The items the shipped bundles name, from ITEMS.yaml, with the hand-written guide details."""
    data = yaml.safe_load((DEFINITIONS_DIR / "ITEMS.yaml").read_text(encoding="utf-8"))
    details = _demo_yaml().get("details", {})
    out = []
    for raw in data["items"]:
        item = {
            "code": raw["code"],
            "name": raw["name"],
            "name_en": raw.get("name_en"),
            "department": raw["department"],
            "kind": raw["kind"],
            "statutory_days": raw["statutory_days"],
            "promised_days": raw["promised_days"],
            "online": raw["online"],
            "source": "演示数据（一件事套餐事项，bundles/definitions/ITEMS.yaml）",
        }
        item.update(details.get(raw["code"], {}))
        out.append(item)
    return out


def demo_items(data_dir: Path, *, full: bool = True) -> list[dict[str, Any]]:
    """Every demo item as catalogue input (hand-written first, then the district's list unless not
    ``full``: the bundles' items and the licence items alone are what tests need)."""
    own = _demo_yaml()
    centre, hours = own.get("centre"), own.get("hours")
    core = [
        {**i, "source": i.get("source") or "演示数据（证照来源事项）"} for i in own.get("items", [])
    ] + bundle_items()
    names = {(i["department"], i["name"]) for i in core}
    path = data_dir / "service-items" / "items.csv"
    listed = items_from_csv(path, skip_names=names) if full and path.exists() else []
    items = core + listed
    for item in items:
        item.setdefault("location", None)
        item["location"] = item["location"] or centre
        item["hours"] = item.get("hours") or hours
    return items
