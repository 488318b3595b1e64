"""“一件事” pages for staff: the window registers a walk-in (or 帮代办 with consent, green channel), each
department finds its task in the inbox next to orders and acts on the application page (only its own),
the window hands the results out; the process page and the dashboard's bundle figures."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from haoban.applications.models import Application, ApplicationAssistance
from tests.applications.conftest import HANDLER, NEWBORN, PNG
from tests.applications.test_applications_pages import newborn_fields, newborn_uploads, submit_page
from tests.web.test_pages_access import login, no_trace


def register(client: Any, **extra: str) -> Any:
    return client.post(
        "/window/register/newborn",
        data={**newborn_fields(), **extra},
        files=newborn_uploads(),
        follow_redirects=False,
    )


def code_of(r: Any) -> str:
    m = re.search(r"/(?:applications|portal/applications)/(BJ\d+)", r.headers["location"])
    assert m, r.headers.get("location")
    return m.group(1)


def result_fields(task: str) -> dict[str, str]:
    return {f"result.{k}": str(v) for k, v in NEWBORN["results"][task].items()}


def finish_on_page(client: Any, code: str, task: str) -> None:
    login(client, HANDLER[task])
    r = client.post(f"/applications/{code}/tasks/{task}/accept", follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(f"/applications/{code}")
    assert f'id="form-{task}-approve"' in page.text
    r = client.post(
        f"/applications/{code}/tasks/{task}/approve", data=result_fields(task), follow_redirects=False
    )
    assert r.status_code == 303, r.text


def test_window_registers_a_walk_in_with_a_green_channel(installed: Any, client: Any) -> None:
    login(client, "window")
    home = client.get("/window")
    assert home.status_code == 200 and 'href="/window/register/newborn"' in home.text
    form = client.get("/window/register/newborn")
    assert 'name="green_channel"' in form.text and 'name="consent_signature"' in form.text
    r = register(client, mode="window", green_channel="elderly")
    assert r.status_code == 303, r.text
    code = code_of(r)
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and 'id="green"' in page.text and 'id="done"' in page.text
    no_trace(page)
    with installed.db.read() as s:
        app = s.scalars(select(Application).where(Application.code == code)).one()
        assert (app.channel, app.green_channel, app.visits, app.submitted_by_name) == (
            "window",
            "elderly",
            1,
            "窗口人员 周敏",
        )
    assert f'data-code="{code}"' in client.get("/window").text
    # The applicant follows it online with the phone digits like any other.
    assert client.get(f"/portal/applications/{code}", params={"p": "5678"}).status_code == 200


def test_on_someones_behalf_needs_consent(installed: Any, client: Any) -> None:
    login(client, "volunteer")
    r = register(client, mode="assisted", consent_method="signature")
    assert r.status_code == 422 and 'id="err-consent"' in r.text
    r = client.post(
        "/window/register/newborn",
        data={
            **newborn_fields(),
            "mode": "assisted",
            "consent_method": "signature",
            "green_channel": "disabled",
        },
        files=[*newborn_uploads(), ("consent_signature", ("签名.png", PNG + b"sig", "image/png"))],
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    code = code_of(r)
    with installed.db.read() as s:
        app = s.scalars(select(Application).where(Application.code == code)).one()
        assert app.channel == "assisted"
        proxy = s.scalars(
            select(ApplicationAssistance).where(ApplicationAssistance.application_id == app.id)
        ).one()
        assert proxy.consent_method == "signature" and proxy.helper_name == "帮代办员 黄欣"
    # A volunteer registers but does not hand out results.
    assert 'id="hand-out"' not in client.get("/window").text


def test_each_department_acts_on_its_own_task_from_the_inbox_to_the_mailed_results(
    installed: Any, client: Any
) -> None:
    code = code_of(submit_page(client))
    login(client, "h_wjw")
    inbox = client.get("/inbox")
    assert inbox.status_code == 200
    section = inbox.text[inbox.text.index('id="bundle-tasks"') :]
    assert f'data-code="{code}"' in section and 'data-task="birth_certificate"' in section
    assert "row-on_time" in section  # the same deadline colours as orders
    login(client, "h_gaj")
    assert f'data-code="{code}"' not in client.get("/inbox").text  # no task of theirs yet
    assert client.get(f"/applications/{code}").status_code == 404
    finish_on_page(client, code, "birth_certificate")
    # gaj now sees the application but only acts on its own task.
    login(client, "h_gaj")
    page = client.get(f"/applications/{code}")
    assert 'id="btn-hukou-accept"' in page.text and 'id="btn-vaccination-accept"' not in page.text
    r = client.post(f"/applications/{code}/tasks/vaccination/accept", follow_redirects=False)
    assert r.status_code == 403
    # An approval without its result names the missing field next to it.
    client.post(f"/applications/{code}/tasks/hukou/accept")
    r = client.post(f"/applications/{code}/tasks/hukou/approve", data={"result.registered_on": "2026-12-01"})
    assert r.status_code == 422 and 'id="err-f-result-citizen_id_number"' in r.text
    r = client.post(
        f"/applications/{code}/tasks/hukou/approve", data=result_fields("hukou"), follow_redirects=False
    )
    assert r.status_code == 303, r.text
    for task in ("vaccination", "insurance_enrolment", "insurance_payment", "social_security_card"):
        finish_on_page(client, code, task)
    login(client, "window")
    home = client.get("/window")
    assert f'data-code="{code}"' in home.text[home.text.index('id="hand-out"') :]
    page = client.get(f"/applications/{code}")
    delivery = re.search(r"/applications/BJ\d+/deliveries/(\d+)/hand-over", page.text)
    assert delivery
    r = client.post(
        f"/applications/{code}/deliveries/{delivery.group(1)}/hand-over", data={"back": "/window"}
    )
    assert r.status_code == 200 and 'id="done"' in r.text
    client.cookies.clear()
    track = client.get(f"/portal/applications/{code}", params={"p": "5678"})
    assert 'id="tracking-no"' in track.text and "EMS" in track.text and "已寄出" in track.text
    assert track.text.count('data-status="approved"') == 6
    # The licences issued on approval, each downloadable by the applicant as the holder's copy.
    codes = re.findall(r'<li data-code="([A-Z0-9]+)">', track.text.split('id="licences"')[1])
    assert len(codes) >= 3
    copy = client.get(f"/portal/applications/{code}/licences/{codes[0]}", params={"p": "5678"})
    assert copy.status_code == 200 and len(copy.json()["sha256"]) == 64
    wrong = client.get(f"/portal/applications/{code}/licences/{codes[0]}", params={"p": "0000"})
    assert wrong.status_code == 404
    other = client.get(f"/portal/applications/{code}/licences/ABCDEFGHJKMNPQRS", params={"p": "5678"})
    assert other.status_code == 404


def test_a_correction_flags_several_items_at_once(installed: Any, client: Any) -> None:
    code = code_of(submit_page(client))
    login(client, "h_wjw")
    r = client.post(
        f"/applications/{code}/tasks/birth_certificate/request_correction",
        data={
            "fields": ["mother.id_number", "baby.name"],
            "materials": ["parents_id_cards"],
            "reason": "证件不清晰",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    client.cookies.clear()
    page = client.get(f"/portal/applications/{code}", params={"p": "5678"})
    form = page.text.split('id="resubmit-form"')[1].split("</form>")[0]
    for name in ('name="mother.id_number"', 'name="baby.name"', 'name="material.parents_id_cards"'):
        assert name in form


def test_process_page_draws_the_bpmn_with_states(installed: Any, client: Any) -> None:
    r = client.get("/bundles/newborn")
    assert r.status_code == 200 and "<svg" in r.text
    assert r.text.count('class="bpmn-task"') == 6 and "<polyline" in r.text and "bpmn-parallel" in r.text
    code = code_of(submit_page(client))
    r = client.get("/bundles/newborn", params={"app": code, "p": "5678"})
    assert r.status_code == 200
    assert re.search(r'data-id="birth_certificate" data-state="pending"', r.text)
    assert client.get("/bundles/newborn", params={"app": code, "p": "0000"}).status_code == 404
    assert client.get("/bundles/business_startup", params={"app": code, "p": "5678"}).status_code == 404
    login(client, "supervisor")
    assert 'data-state="pending"' in client.get("/bundles/newborn", params={"app": code}).text


def test_dashboard_shows_each_bundles_figures(installed: Any, client: Any) -> None:
    submit_page(client)
    login(client, "supervisor")
    r = client.get("/dashboard")
    assert r.status_code == 200
    row = r.text[r.text.index('id="bundle-kpis"') :]
    row = row[row.index('data-code="newborn"') :].split("</tr>")[0]
    assert re.search(r'data-k="applications">1 ', row) and 'data-k="online">100.0%' in row


def test_promised_material_accompanied_handling_and_assistance_figures(installed: Any, client: Any) -> None:
    code = code_of(submit_page(client))
    login(client, "h_wjw")
    r = client.post(
        f"/applications/{code}/tasks/birth_certificate/accept_tolerated",
        data={"material": "marriage_certificate", "promised_by": "2099-01-01"},
    )
    assert r.status_code == 422  # more than 90 days away: named, nothing changes
    r = client.post(
        f"/applications/{code}/tasks/birth_certificate/accept_tolerated",
        data={"material": "marriage_certificate", "promised_by": "2026-12-10"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    login(client, "window")
    page = client.get(f"/applications/{code}")
    assert 'id="awaited"' in page.text and 'name="material.marriage_certificate"' in page.text
    r = client.post(
        f"/applications/{code}/materials",
        files=[("material.marriage_certificate", ("结婚证.png", PNG + b"2", "image/png"))],
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert 'id="awaited"' not in client.get(f"/applications/{code}").text
    assert client.post(f"/applications/{code}/accompany", data={"note": ""}).status_code == 422
    r = client.post(
        f"/applications/{code}/accompany", data={"note": "陪同到出生医院补办"}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    login(client, "supervisor")
    board = client.get("/dashboard").text
    helpers = board[board.index('id="assist-helpers"') :].split("</table>")[0]
    assert "窗口人员 周敏" in helpers


def test_the_window_registers_any_single_catalogue_item(installed: Any, client: Any) -> None:
    login(client, "window")
    found = client.get("/window", params={"q": "公章刻制"})
    assert 'data-code="gaj-official-seal-engraving"' in found.text
    r = client.post("/window/items/gaj-official-seal-engraving", follow_redirects=False)
    assert (
        r.status_code == 303 and r.headers["location"] == "/window/register/item-gaj-official-seal-engraving"
    )
    form = client.get(r.headers["location"])
    assert form.status_code == 200 and 'name="request.details"' in form.text
    r = client.post(
        r.headers["location"],
        data={
            "mode": "window",
            "applicant_name": "陈刚",
            "applicant_phone": "13900001111",
            "request.details": "新设公司刻制公章一枚",
            "contact.phone": "13900001111",
            "delivery.method": "window",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    code = code_of(r)
    # The same item again is the same stored bundle; it is no life event on the portal.
    assert client.post("/window/items/gaj-official-seal-engraving", follow_redirects=False).status_code == 303
    assert "item-gaj-official-seal-engraving" not in client.get("/portal/apply").text
    login(client, "h_gaj")
    assert f'data-code="{code}"' in client.get("/inbox").text
    client.post(f"/applications/{code}/tasks/item/accept")
    r = client.post(
        f"/applications/{code}/tasks/item/approve", data={"result.outcome": "已刻制"}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    login(client, "window")
    assert f'data-code="{code}"' in client.get("/window").text.split('id="hand-out"')[1]
    assert client.post("/window/items/no-such-item", follow_redirects=False).status_code == 404
    drawn = client.get("/bundles/item-gaj-official-seal-engraving", params={"app": code})
    assert drawn.status_code == 200 and 'data-id="item" data-state="approved"' in drawn.text  # laid out here


def test_a_supervisor_supervises_a_late_task_from_the_application_page(installed: Any, client: Any) -> None:
    code = code_of(submit_page(client))
    login(client, "h_wjw")
    assert 'id="btn-birth_certificate-supervise"' not in client.get(f"/applications/{code}").text
    assert (
        client.post(f"/applications/{code}/tasks/birth_certificate/supervise", data={"note": "x"}).status_code
        == 403
    )
    login(client, "supervisor")
    page = client.get(f"/applications/{code}")
    assert (
        'id="btn-birth_certificate-supervise"' in page.text
        and 'id="btn-birth_certificate-accept"' not in page.text
    )
    assert client.post(f"/applications/{code}/tasks/birth_certificate/supervise", data={}).status_code == 422
    r = client.post(
        f"/applications/{code}/tasks/birth_certificate/supervise",
        data={"note": "请今日内出证"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert "督办 ×1" in client.get(f"/applications/{code}").text
