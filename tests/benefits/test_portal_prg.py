"""/portal/benefits answers its forms with Post/Redirect/Get like the other portal forms (issue 13): the
look-up and the answers redirect to a bookmarkable result link (notice code and a key, never the phone
digits), so a reload or the language switch never posts again."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.benefits.conftest import City
from tests.benefits.test_pages import _pushed


def test_look_up_and_confirm_redirect_to_a_result_link(rt: Any, client: Any, city: City) -> None:
    g = _pushed(rt, city)
    form = {"who": "person", "code": g.code.lower(), "phone_last4": "1111"}
    r = client.post("/portal/benefits", data=form, follow_redirects=False)
    assert r.status_code == 303
    url = r.headers["location"]
    q = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == "/portal/benefits" and q["code"] == [g.code] and q["who"] == ["person"]
    # No phone digits in the link: only the code, who and a 24-character key (the digits themselves are
    # not looked for, as a code or a random key may hold "1111" by chance).
    assert set(q) == {"code", "who", "k"} and len(q["k"][0]) == 24
    for _ in range(2):  # a reload shows the same page, and posts nothing
        page = client.get(url)
        assert page.status_code == 200 and 'id="bn-list"' in page.text and "高龄津贴" in page.text
    en = client.get(url + "&lang=en")
    assert en.status_code == 200 and 'id="bn-list"' in en.text
    done = client.post("/portal/benefits/confirm", data={**form, "grant": g.code}, follow_redirects=False)
    assert done.status_code == 303 and "done=confirmed" in done.headers["location"]
    after = client.get(done.headers["location"])
    assert 'data-status="confirmed"' in after.text and 'role="status"' in after.text
    # A second confirmation is refused on the page (409), not redirected.
    again = client.post("/portal/benefits/confirm", data={**form, "grant": g.code}, follow_redirects=False)
    assert again.status_code == 409
    # A wrong or forged key finds nothing, like wrong digits.
    assert client.get(url.replace(q["k"][0], "0" * 24)).status_code == 404
    assert client.get(f"/portal/benefits?who=person&code=MS99999999&k={q['k'][0]}").status_code == 404
    # Errors are shown on the page at once (nothing was done, nothing to repeat).
    bad = client.post("/portal/benefits", data={**form, "phone_last4": "12"}, follow_redirects=False)
    assert bad.status_code == 422
