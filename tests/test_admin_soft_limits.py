"""A letter's own soft limits in the back office (issue 23): three fields on the edit page,
saved through the command line's use case and audited the same way, each refusal named
beside its field with nothing written; shown read-only on the abuse page."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from petition.abuse import alerts
from petition.extensions import db
from petition.models import MOD_FLAGGED, MOD_NONE, Letter, Signature
from petition.models.accounts import AuditEvent
from tests.admin_helpers import signed_in_client
from tests.drive_helpers import make_drive
from tests.factories import make_letter
from tests.helpers import assert_valid_html, sign_form

EDIT = "/admin/letters/appeal/edit"
ORG = "org@example.org"
# The settings form as the page sends it, the letter's other settings unchanged.
BASE = {"goal": "100", "accepts_organizations": "1", "accepts_individuals": "1"}


@pytest.fixture
def letter(app):
    alerts.forget_known()
    app.config["ABUSE_SOFT_LIMITS_ENABLED"] = True
    return make_letter("appeal", goal=100)


def limits_form(address: str = "", block: str = "", domain: str = "") -> dict:
    return {**BASE, "soft_limit_address": address, "soft_limit_block": block,
            "soft_limit_domain": domain}


def stored() -> dict | None:
    db.session.expire_all()
    text = db.session.scalar(select(Letter.soft_limits).where(Letter.slug == "appeal"))
    return json.loads(text) if text else None


def audited() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "letter.soft_limits").order_by(AuditEvent.id)))


def test_an_organiser_sets_the_limits_and_signing_then_flags_past_them(app, letter):
    client = signed_in_client(app)
    page = client.get(EDIT).get_data(as_text=True)
    assert_valid_html(page)
    assert 'id="soft-limits"' in page and 'name="soft_limit_address"' in page
    assert 'placeholder="50 per 10 minutes;300 per day"' in page
    assert "Site default: 50 per 10 minutes; 300 per day" in page

    answer = client.post(EDIT, data=limits_form(" 2  per 10 minutes ", "OFF", ""))
    assert answer.status_code == 303
    assert stored() == {"address": "2 per 10 minutes", "block": "off"}
    [event] = audited()
    assert event.actor == ORG and event.letter_slug == "appeal"
    assert event.detail.startswith("defaults → ") and '"block": "off"' in event.detail
    page = client.get(EDIT).get_data(as_text=True)
    assert 'value="2 per 10 minutes"' in page and 'value="off"' in page
    # The same form again changes nothing: nothing more is audited.
    assert client.post(EDIT, data=limits_form("2 per 10 minutes", "off")).status_code == 303
    assert len(audited()) == 1

    # The abuse page shows what is in force, and whose it is, with a link to change it.
    abuse = client.get("/admin/letters/appeal/abuse").get_data(as_text=True)
    assert_valid_html(abuse)
    assert "2 per 10 minutes" in abuse and "off (no limit)" in abuse
    assert "100 per 10 minutes; 1000 per day" in abuse  # the domain: the site's default
    assert abuse.count("this letter’s own") == 2 and abuse.count("the site’s default") == 1
    assert f'href="{EDIT}#soft-limits"' in abuse

    # The letter's own address limit now flags the third signature from one address.
    public = app.test_client()
    for n in range(3):
        sent = public.post("/letters/appeal/sign", environ_base={"REMOTE_ADDR": "198.51.100.7"},
                           data=sign_form(signer_type="individual", name=f"Person {n}",
                                          email=f"p{n}@example.org"))
        assert sent.status_code == 303
    db.session.expire_all()
    assert [(row.moderation, row.flag_reason) for row in
            db.session.scalars(select(Signature).order_by(Signature.id))] == [
        (MOD_NONE, None), (MOD_NONE, None), (MOD_FLAGGED, "address-burst")]


def test_empty_fields_go_back_to_the_site_defaults(app, letter):
    letter.soft_limits = json.dumps({"domain": "3 per hour"})
    db.session.commit()
    client = signed_in_client(app, "admin@example.org", "admin")
    assert 'value="3 per hour"' in client.get(EDIT).get_data(as_text=True)
    assert client.post(EDIT, data=limits_form()).status_code == 303
    assert stored() is None
    [event] = audited()
    assert event.actor == "admin@example.org" and event.detail.endswith("→ defaults")
    abuse = client.get("/admin/letters/appeal/abuse").get_data(as_text=True)
    assert abuse.count("the site’s default") == 3 and "this letter’s own" not in abuse


def test_a_form_without_the_fields_leaves_the_limits_as_they_are(app, letter):
    letter.soft_limits = json.dumps({"address": "off"})
    db.session.commit()
    client = signed_in_client(app)
    assert client.post(EDIT, data=BASE).status_code == 303
    assert stored() == {"address": "off"} and audited() == []


@pytest.mark.parametrize("field, value, message", [
    ("address", "lots", "Per client address: “lots” is not a rate such as"),
    ("block", "0 per minute", "Per address block: “0 per minute” must allow 1 or more"),
    ("domain", "5 per 2 years", "Per mail domain: “5 per 2 years” must allow 1 or more"),
    ("domain", "1 per day;" * 40, "Per mail domain: “1 per day;1 per day;"),
    ("address", "address=5 per minute", "Per client address: “address=5 per minute” is not"),
])
def test_a_value_that_is_not_a_rate_is_named_beside_its_field_and_nothing_is_saved(
        app, letter, field, value, message):
    letter.soft_limits = json.dumps({"block": "7 per hour"})
    db.session.commit()
    client = signed_in_client(app)
    typed = {"address": "9 per minute", "block": "8 per minute", "domain": ""}
    typed[field] = value
    data = {**limits_form(**typed), "goal": "555"}
    answer = client.post(EDIT, data=data)
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert_valid_html(page)
    assert "Nothing was saved: a limit that flags submissions for review is not a rate" in page
    assert message in page.replace("&#34;", '"')
    assert f'id="soft_limit_{field}-error"' in page
    assert page.count('aria-invalid="true"') == 1
    # What was typed is shown again, to be corrected.
    assert 'value="9 per minute"' in page or field == "address"
    # Neither the limits nor the other settings were written; nothing audited.
    assert stored() == {"block": "7 per hour"} and audited() == []
    db.session.expire_all()
    assert db.session.scalar(select(Letter.goal).where(Letter.slug == "appeal")) == 100


def test_the_refusal_is_in_the_language_of_the_page(app, letter):
    client = signed_in_client(app)
    answer = client.post(EDIT, data=limits_form(block="beaucoup"),
                         headers={"Accept-Language": "fr"})
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "Par bloc d’adresses : « beaucoup » n’est pas" in page


def test_press_is_refused_and_an_organiser_of_another_letter_gets_404(app, letter):
    make_letter("elsewhere")
    press = signed_in_client(app, "press@example.org", "press")
    assert press.get(EDIT).status_code == 403
    assert press.post(EDIT, data=limits_form("off", "off", "off")).status_code == 403
    other = signed_in_client(app, "other@example.org", letters=("elsewhere",))
    assert other.post(EDIT, data=limits_form("off", "off", "off")).status_code == 404
    assert stored() is None and audited() == []


def test_a_drive_has_no_such_fields_and_ignores_them(app):
    # A drive's letters are not screened by the soft limits (signatures/screening.py only).
    drive = make_drive()
    client = signed_in_client(app, "admin@example.org", "admin", letters=())
    url = f"/admin/letters/{drive.slug}/edit"
    assert 'name="soft_limit_address"' not in client.get(url).get_data(as_text=True)
    assert client.post(url, data=limits_form("lots", "off")).status_code == 303
    db.session.expire_all()
    assert db.session.get(Letter, drive.id).soft_limits is None and audited() == []
