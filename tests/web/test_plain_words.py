"""长辈版 speaks plainly (issue 18): on the key citizen pages, with the mode on, official terms and long
instructions give way to short everyday words, in both languages; the standard mode and the staff pages
keep theirs; the same forms and data underneath."""

from __future__ import annotations

from typing import Any

import pytest

from haoban.web.i18n import STRINGS
from haoban.web.plain import PLAIN_WORDS, is_citizen_page
from tests.builders import make_order
from tests.web.language import untranslated, visible_text

OFFICIAL = ("诉求", "工单", "受理", "承办", "时限")


def main_text(html: str) -> str:
    return " ".join(visible_text(html.split("<main", 1)[1].split("</main>", 1)[0]))


def care(client: Any, on: bool) -> None:
    client.cookies.set("haoban_care", "1") if on else client.cookies.delete("haoban_care")


def test_every_plain_word_replaces_a_known_one_and_is_plain() -> None:
    assert set(PLAIN_WORDS) <= set(STRINGS)
    for key, (zh, en) in PLAIN_WORDS.items():
        assert not any(term in zh for term in OFFICIAL), key
        assert zh and en and (zh, en) != STRINGS[key], key
        assert not any("\u3400" <= c <= "\u9fff" for c in en), key
        # Instructions get shorter, never longer.
        if len(STRINGS[key][0]) > 20:
            assert len(zh) < len(STRINGS[key][0]), key
    assert (
        is_citizen_page("/portal/help")
        and not is_citizen_page("/tour/gate")
        and not is_citizen_page("/board")
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_key_citizen_pages_use_plain_words_in_the_mode(client: Any, rt: Any, lang: str) -> None:
    code = make_order(rt, status="closed")
    filed = client.post(
        f"/portal/file?lang={lang}",
        data={"type": "complaint", "content": "路灯坏了三天，晚上很黑。", "citizen_phone": "13812345678"},
        follow_redirects=False,
    ).headers["location"]
    pages = {
        "/portal": ["file_appeal", "portal_lead", "content", "track"],
        filed: ["filed_title", "filed_next"],
        "/portal/apply": ["ap_title"],
        "/portal/help": ["hp_lead"],
    }
    i = 1 if lang == "en" else 0
    for path, keys in pages.items():
        sep = "&" if "?" in path else "?"
        care(client, False)
        standard = main_text(client.get(f"{path}{sep}lang={lang}").text)
        care(client, True)
        r = client.get(f"{path}{sep}lang={lang}")
        assert r.status_code == 200 and 'class="care"' in r.text
        text = main_text(r.text)
        for key in keys:
            assert PLAIN_WORDS[key][i] in text, (path, key)
            assert STRINGS[key][i] not in text, (path, key)
            assert STRINGS[key][i] in standard, (path, key)
        if lang == "zh":  # (the English pages name places in Chinese: data, not words)
            assert untranslated(r.text, lang) == [], path
        if lang == "zh":
            assert not any(term in " ".join(PLAIN_WORDS[k][0] for k in keys) for term in OFFICIAL)
    # Tracking and rating a finished appeal: same data, plain words.
    care(client, True)
    r = client.post(f"/portal/track?lang={lang}", data={"code": code, "phone_last4": "5678"})
    page = client.get(r.url) if r.status_code in (301, 303) else r
    text = main_text(page.text)
    assert code in page.text and PLAIN_WORDS["rate"][i] in text and PLAIN_WORDS["pt_progress"][i] in text


def test_staff_pages_keep_their_words_with_the_cookie(client: Any) -> None:
    from tests.web.test_pages_access import login

    login(client, "operator")
    care(client, True)
    page = client.get("/console").text
    assert 'class="care"' not in page
    assert STRINGS["content"][0] in page and PLAIN_WORDS["content"][0] not in page
