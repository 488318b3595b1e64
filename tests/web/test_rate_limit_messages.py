"""The rate limits' refusals in the page's language: the messages the services raise (English, for
machines) are shown in Chinese in the Chinese UI, and a page refused for its rate says so in Chinese."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from haoban.web import messages
from haoban.web.help_requests import FILE_RATE_PER_MINUTE

RAISED = [
    "too many look-ups from your address; wait a minute and try again",
    "too many requests from your address; wait a minute and try again",
    "too many tries from your address; wait a minute and try again",
    "too many appeals from your address; wait a minute",
    "too many requests from your address; wait a minute or call 12345",
    "too many failed logins; try again in 37 seconds",
]

SRC = Path(__file__).resolve().parents[2] / "src" / "haoban"
# Every refusal for an address's rate that the code can raise (so a new one cannot be missed here).
IN_SOURCE = sorted(
    {
        m
        for p in SRC.rglob("*.py")
        if p.name != "messages.py"
        for m in re.findall(r'"(too many [^"]+ from your address; [^"]+)"', p.read_text(encoding="utf-8"))
    }
)


def test_the_source_raises_the_messages_listed() -> None:
    assert "too many codes asked from your address; wait a minute" in IN_SOURCE  # my appeals (issue 13)
    assert len(IN_SOURCE) >= 6


@pytest.mark.parametrize("text", sorted(set(RAISED) | set(IN_SOURCE)))
def test_every_rate_limit_message_has_chinese_and_english(text: str) -> None:
    zh = messages.localize(text, "zh")
    assert not re.search(r"[A-Za-z]", zh), zh
    assert "分钟" in zh or "秒" in zh
    en = messages.localize(text, "en")
    assert en[0].isupper() and "too many" in en.lower()
    if "37" in text:
        assert "37" in zh and "37" in en


def test_a_help_request_refused_for_its_rate_says_so_in_chinese(client: Any) -> None:
    data = {"name": "王奶奶", "phone": "13912345678", "need": "想办医保", "preferred_time": "morning"}
    for _ in range(FILE_RATE_PER_MINUTE):
        assert client.post("/portal/help", data=data, follow_redirects=False).status_code == 303
    refused = client.post("/portal/help", data=data, follow_redirects=False)
    assert refused.status_code == 429
    assert "同一网络地址的操作过于频繁，请一分钟后再试，或拨打 12345" in refused.text
    assert "too many" not in refused.text


def test_my_appeals_code_refused_for_its_rate_says_so_in_chinese(client: Any) -> None:
    from haoban.web.portal import MINE_CODES_PER_MINUTE

    for _ in range(MINE_CODES_PER_MINUTE):
        r = client.post("/portal/mine/code", data={"phone": "13912345678"}, follow_redirects=False)
        assert r.status_code == 303
    refused = client.post("/portal/mine/code", data={"phone": "13912345678"}, follow_redirects=False)
    assert refused.status_code == 429
    assert "同一网络地址的操作过于频繁，请一分钟后再试" in refused.text and "too many" not in refused.text
