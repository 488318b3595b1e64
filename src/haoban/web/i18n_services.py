"""Words of the citizen and services pages found by the language test (issue 13, part 2): units, the
benefits data sources and frequencies, actor kinds, and the live dispatch explanation."""

from __future__ import annotations

SERVICES_STRINGS: dict[str, tuple[str, str]] = {
    "unit_km": ("公里", "km"),
    "unit_kb": ("KB", "KB"),
    "actor_system": ("系统", "System"),
    "actor_citizen": ("市民", "Citizen"),
}
SERVICES_STRINGS.update(
    {
        # 免申即享: the data sources, how often a policy pays, who receives it
        "bn_src_residents": ("户籍人口", "Registered residents"),
        "bn_src_births": ("出生登记", "Birth registrations"),
        "bn_src_insurance": ("医保参保", "Medical insurance enrolment"),
        "bn_src_companies": ("市场主体", "Companies"),
        "bn_src_tax": ("税务（社保费征收）", "Tax (social insurance contributions)"),
        "bn_src_employment": ("就业参保", "Employment insurance"),
        "bn_period_month": ("按月", "Monthly"),
        "bn_period_year": ("按年", "Yearly"),
        "bn_period_once": ("一次性", "Once"),
        "bn_kind_resident": ("个人", "person"),
        "bn_kind_company": ("企业", "company"),
    }
)
SERVICES_STRINGS.update(
    {
        "tour_gate_hint": ("大庙东门", "e.g. East gate"),
        "tour_ask_example": ("南岳大庙几点开门", "Questions are answered in Chinese"),
    }
)
SERVICES_STRINGS.update(
    {
        "calendar_affected": ("受影响的在办工单", "Open orders affected"),
        "calendar_affected_help": (
            "这些工单的办理期间跨过了变动的日子；已定的时限不会因上传而改变，请按需延期或说明。",
            "Their time runs over a changed day; deadlines already set do not move with the upload — "
            "extend them or tell the departments where needed.",
        ),
    }
)
