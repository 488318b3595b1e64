"""axe-core over the citizen pages reached by doing something (issue 18): applying for a bundle (the list,
the form, the form with errors, the timeline), rating (an appeal, a service: the look-up, the form, its
errors, the thanks), the benefits result and its confirmation, and the call-back request — each in zh and
en at phone and desktop width, in the state a person reaches it. Fails on serious or critical violations;
the counts per page go to ``axe-flows-report.md`` in the test's tmp dir."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from haoban.applications import registry
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.benefits import matching, store
from haoban.benefits.models import Grant, Resident
from tests.benefits.conftest import TODAY, City, birthday
from tests.builders import make_order
from tests.web.test_a11y import AXE, BLOCKING, LEVELS, RUN_AXE, AxeBrowse
from tests.web.test_applications_browser import fill_newborn
from tests.web.test_browser import DESKTOP, PHONE, LiveServer, live  # noqa: F401

pytestmark = pytest.mark.browser

_phones = itertools.count(1000)


def _token(b: AxeBrowse, username: str) -> str:
    r = b.ctx.request.post(f"{b.base}/api/v1/auth/token", form={"username": username, "password": "demo"})
    assert r.ok, r.text()
    return str(r.json()["access_token"])


class Flows:
    """Each step leaves the browser on one page in the state a person reaches it; named for the report."""

    def __init__(self, server: LiveServer, city: City) -> None:
        self.live = server
        self.city = city

    # -- 高效办成一件事 ---------------------------------------------------------------------------------
    def apply_list(self, b: AxeBrowse) -> None:
        b.go("/portal/apply")

    def apply_form(self, b: AxeBrowse) -> None:
        b.go("/portal/apply")
        b.page.click("li[data-code='newborn'] a.btn")
        b.page.wait_for_selector("#apply-form")

    def apply_form_errors(self, b: AxeBrowse) -> None:
        self.apply_form(b)
        b.page.click("#btn-apply")
        b.page.wait_for_selector(".field-error")

    def application_timeline(self, b: AxeBrowse) -> None:
        self.apply_form(b)
        fill_newborn(b.page)
        b.page.click("#btn-apply")
        b.page.wait_for_selector("#submitted")

    # -- 好差评: an appeal ------------------------------------------------------------------------------
    def _closed_appeal(self, b: AxeBrowse) -> None:
        code = make_order(self.live.rt, status="closed")  # phone 13812345678
        b.go("/portal")
        b.page.fill("#code", code)
        b.page.fill("#phone_last4", "5678")
        b.page.click("#track button[type=submit]")
        b.page.wait_for_selector("#rate-form")

    def rate_appeal_form(self, b: AxeBrowse) -> None:
        self._closed_appeal(b)

    def rate_appeal_errors(self, b: AxeBrowse) -> None:
        self._closed_appeal(b)
        b.page.click("#btn-rate")
        b.page.wait_for_selector("#err-level")

    def rate_appeal_done(self, b: AxeBrowse) -> None:
        self._closed_appeal(b)
        b.page.check("#rate-form input[name=level] >> nth=0")
        b.page.click("#btn-rate")
        b.page.wait_for_selector("#rated")

    # -- 好差评: a service (a window visit) -------------------------------------------------------------
    def rate_service_lookup(self, b: AxeBrowse) -> None:
        b.go("/portal/rate-service")

    def _visit_form(self, b: AxeBrowse) -> None:
        phone = f"1370000{next(_phones):04d}"
        r = b.ctx.request.post(
            f"{b.base}/api/v1/service-visits",
            headers={"Authorization": f"Bearer {_token(b, 'window')}"},
            data={"item": "gaj-official-seal-engraving", "person_phone": phone},
        )
        assert r.status == 201, r.text()
        b.go("/portal/rate-service")
        b.page.fill("#sr-code", r.json()["code"])
        b.page.fill("#sr-last4", phone[-4:])
        b.page.click("#btn-svc-next")
        b.page.wait_for_selector("#svc-rate-form")

    def rate_service_form(self, b: AxeBrowse) -> None:
        self._visit_form(b)

    def rate_service_errors(self, b: AxeBrowse) -> None:
        self._visit_form(b)
        b.page.click("#btn-svc-rate")
        b.page.wait_for_selector("#err-svc-level")

    def rate_service_done(self, b: AxeBrowse) -> None:
        self._visit_form(b)
        b.page.check("#svc-rate-form input[name=level] >> nth=0")
        b.page.click("#btn-svc-rate")
        b.page.wait_for_selector("#svc-rated")

    # -- 免申即享 ---------------------------------------------------------------------------------------
    def _benefits(self, b: AxeBrowse) -> None:
        phone = f"1380000{next(_phones):04d}"
        self.city.resident(birthday(88), phone=phone, bank_account="6217000022223333")
        with self.live.rt.db.write() as session:
            matching.match(session, today=TODAY)
        with self.live.rt.db.read() as session:
            code = session.scalars(
                select(Grant.code)
                .join(Resident, Resident.id == Grant.subject_id)
                .where(Resident.phone == phone)
            ).first()
        assert code, "no grant pushed"
        b.go("/portal/benefits")
        b.page.fill("#bn-code", code)
        b.page.fill("#bn-last4", phone[-4:])
        b.page.click("#bn-person button[type=submit]")
        b.page.wait_for_selector("#bn-list")

    def benefits_result(self, b: AxeBrowse) -> None:
        self._benefits(b)

    def benefits_confirmed(self, b: AxeBrowse) -> None:
        self._benefits(b)
        b.page.click("form[action='/portal/benefits/confirm'] button[type=submit] >> nth=0")
        b.page.wait_for_selector("[data-status='confirmed']")

    # -- 请工作人员帮我办 -------------------------------------------------------------------------------
    def help_form_errors(self, b: AxeBrowse) -> None:
        b.go("/portal/help")
        b.page.click("#hp-submit")
        b.page.wait_for_selector("#err-name")

    def help_status(self, b: AxeBrowse) -> None:
        b.go("/portal/help")
        b.page.fill("#hp-name", "王奶奶")
        b.page.fill("#hp-phone", "13912345678")
        b.page.fill("#hp-need", "想办老年证")
        b.page.click("#hp-submit")
        b.page.wait_for_selector("#help-code")

    def steps(self) -> list[tuple[str, Callable[[AxeBrowse], None]]]:
        names = [
            "apply_list", "apply_form", "apply_form_errors", "application_timeline",
            "rate_appeal_form", "rate_appeal_errors", "rate_appeal_done",
            "rate_service_lookup", "rate_service_form", "rate_service_errors", "rate_service_done",
            "benefits_result", "benefits_confirmed", "help_form_errors", "help_status",
        ]  # fmt: skip
        return [(n, getattr(self, n)) for n in names]


def test_axe_on_application_rating_and_benefits_pages(
    browser: Any,
    live: LiveServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    with live.rt.db.write() as session:
        registry.install_shipped(session, live.rt, actor=SYSTEM_ACTOR)
        store.install_shipped(session, actor=SYSTEM_ACTOR)
    # One address looks up and rates dozens of times in a few minutes here: not what the limit is for.
    live.rt.settings.track_rate_per_minute = 10_000
    flows = Flows(live, City(live.rt))
    report: list[dict[str, Any]] = []
    blocking: list[str] = []
    for lang in ("zh", "en"):
        for width, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            b = AxeBrowse(browser, live.url, viewport)
            b.go(f"/lang/{lang}?next=/")
            for name, step in flows.steps():
                step(b)
                b.assert_clean()
                assert b.page.get_attribute("html", "lang") == ("en" if lang == "en" else "zh-CN")
                b.page.add_script_tag(path=str(AXE))
                found = list(b.page.evaluate(RUN_AXE))
                counts = {lv: sum(v["nodes"] for v in found if v["impact"] == lv) for lv in LEVELS}
                report.append({"page": name, "lang": lang, "width": width, "counts": counts})
                blocking += [
                    f"{lang}/{width} {name}: {v['impact']} {v['id']} ({v['help']}) at {v['targets']}"
                    for v in found
                    if v["impact"] in BLOCKING
                ]
            b.close()
    lines = ["| page | lang | width | " + " | ".join(LEVELS) + " |", "|---|---|---|" + "---|" * len(LEVELS)]
    for row in report:
        counts = " | ".join(str(row["counts"][lv]) for lv in LEVELS)
        lines.append(f"| {row['page']} | {row['lang']} | {row['width']} | {counts} |")
    totals = {lv: sum(r["counts"][lv] for r in report) for lv in LEVELS}
    lines.append("| **all** | | | " + " | ".join(str(totals[lv]) for lv in LEVELS) + " |")
    (tmp_path / "axe-flows-report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"axe flows report: {tmp_path / 'axe-flows-report.md'} totals {totals}")
    assert len(report) == len(flows.steps()) * 4
    assert not blocking, "serious/critical accessibility violations:\n" + "\n".join(blocking)
