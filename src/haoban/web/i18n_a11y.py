"""Words of the accessibility and 长辈版 (elderly-friendly mode) controls on the citizen pages (issue 18)."""

from __future__ import annotations

A11Y_STRINGS: dict[str, tuple[str, str]] = {
    "care_on": ("长辈版（大字）", "Large-text mode"),
    "care_off": ("返回标准版", "Standard mode"),
    "care_help": ("需要帮助？", "Need help?"),
    "call_12345": ("拨打 12345", "Call 12345"),
    "call_me_back": ("留下电话，请我们回电", "Leave your number, we call you back"),
}
