"""The embargo: nothing of the list is public until its end, then everything is, unasked."""
import datetime as dt
import re

import pytest
from sqlalchemy import select

from petition.exporting.grouping import ListEmbargoed, group_signatories
from petition.extensions import db
from petition.letters.operations import update_letter
from petition.models import INDIVIDUAL, Letter, utcnow
from petition.models.accounts import AuditEvent
from tests.admin_helpers import signed_in_client
from tests.factories import make_letter, make_signature
from tests.helpers import confirm_token_from, outbox, rendered, sign_form

NAMES = ("Campagne FREE120", "Confederacion General del Trabajo", "Marie Curie")


def embargoed_letter(days: float = 1, count: bool = False, **fields) -> Letter:
    letter = make_letter(goal=1000, embargo_until=utcnow() + dt.timedelta(days=days),
                         embargo_count=count, **fields)
    make_signature(letter, name=NAMES[0], country="DE")
    make_signature(letter, name=NAMES[1], country="ES")
    make_signature(letter, name=NAMES[2], country="FR", signer_type=INDIVIDUAL,
                   affiliation="physicist")
    return letter


def lift(letter: Letter) -> None:
    """The embargo's end has come: no one does anything else."""
    letter.embargo_until = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()


def max_age(response) -> int:
    match = re.search(r"max-age=(\d+)", response.headers.get("Cache-Control", ""))
    assert match, response.headers.get("Cache-Control")
    return int(match.group(1))


def assert_no_list(body: str) -> None:
    for name in NAMES:
        assert name not in body
    # The sign form offers every country: the groups are looked for outside it.
    body = re.sub(r"<form .*?</form>", "", body, flags=re.S)
    assert 'class="group"' not in body
    for country in ("Allemagne", "Germany", "Espagne", "France"):
        assert country not in body


# --- the public page, the index, the JSON -------------------------------------------------

def test_letter_page_hides_names_groups_and_count(client, app):
    embargoed_letter()
    response = client.get("/letters/appeal?lang=fr")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_no_list(page)
    assert 'id="count-heading"' not in page and "<progress" not in page
    assert "3 signatures" not in page
    assert "sera publiée" in page or "will be published" in page
    assert "signatories.txt" not in page  # no download link either
    # The page holds no token: shared caches keep it, never past the embargo's end.
    assert response.headers["Cache-Control"].startswith("public")
    assert 0 < max_age(response) <= 30


def test_letter_page_shows_the_count_when_chosen(client, app):
    embargoed_letter(count=True)
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert_no_list(page)
    assert "3 signatures" in page and "<progress" in page
    assert "The list of signatories will be published on" in page


def test_everything_appears_when_the_embargo_ends(client, app):
    letter = embargoed_letter()
    assert NAMES[0] not in client.get("/letters/appeal?lang=fr").get_data(as_text=True)
    lift(letter)
    page = client.get("/letters/appeal?lang=fr").get_data(as_text=True)
    assert all(name in page for name in NAMES) and "Allemagne" in page
    assert "3 signatures" in page
    assert "will be published" not in page


def test_index_count_only_when_chosen(client, app):
    letter = embargoed_letter()
    assert "3 signatures" not in client.get("/?lang=en").get_data(as_text=True)
    letter.embargo_count = True
    db.session.commit()
    assert "3 signatures" in client.get("/?lang=en").get_data(as_text=True)


def test_json_has_no_list_and_total_only_when_chosen(client, app):
    letter = embargoed_letter()
    response = client.get("/letters/appeal.json")
    data = response.get_json()
    assert "by_country" not in data and "total" not in data and "goal" not in data
    assert data["embargo_until"] == letter.embargo_until.isoformat() + "Z"
    assert_no_list(response.get_data(as_text=True))
    update_letter(letter.slug, embargo_count=True)  # as the back office and the CLI do
    data = client.get("/letters/appeal.json").get_json()
    assert data["total"] == 3 and data["goal"] == 1000 and "by_country" not in data
    lift(letter)
    data = client.get("/letters/appeal.json").get_json()
    assert {row["code"] for row in data["by_country"]} == {"DE", "ES", "FR"}
    assert max_age(client.get("/letters/appeal.json")) == 30


def test_no_cache_keeps_an_embargoed_answer_past_the_end(client, app):
    embargoed_letter(days=10 / 86400)  # ten seconds left
    for url in ("/letters/appeal.json", "/letters/appeal/signatories.txt"):
        response = client.get(url)
        assert "public" in response.headers["Cache-Control"]
        assert max_age(response) <= 10, url
    for url in ("/letters/appeal?lang=en", "/?lang=en", "/letters/appeal/badge.svg?lang=en"):
        response = client.get(url)
        assert response.headers["Cache-Control"].startswith("public"), url
        assert max_age(response) <= 10, url
        assert int(re.search(r"stale-while-revalidate=(\d+)",
                             response.headers["Cache-Control"])[1]) + max_age(response) <= 10


# --- files --------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["txt", "md", "html"])
def test_public_press_list_refused_then_published(client, app, fmt):
    letter = embargoed_letter()
    response = client.get(f"/letters/appeal/signatories.{fmt}?lang=fr")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert_no_list(body)
    assert "sera publiée" in body or "will be published" in body
    lift(letter)
    response = client.get(f"/letters/appeal/signatories.{fmt}?lang=fr")
    assert response.status_code == 200
    assert all(name in response.get_data(as_text=True) for name in NAMES)


def test_press_export_refused_organiser_export_works(app):
    letter = embargoed_letter()
    make_letter("other")
    press = signed_in_client(app, "press@example.org", "press")
    response = press.get("/admin/letters/appeal/export?format=txt&lang=fr")
    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "embargo" in body and NAMES[0] not in body
    assert press.get("/admin/letters/appeal/export?format=xlsx").status_code == 403
    overview = press.get("/admin/letters/appeal").get_data(as_text=True)
    assert "embargo" in overview and 'name="format"' not in overview

    organiser = signed_in_client(app, "org@example.org", "organiser")
    response = organiser.get("/admin/letters/appeal/export?format=txt&lang=fr")
    assert response.status_code == 200
    assert all(name in response.get_data(as_text=True) for name in NAMES)

    lift(letter)
    response = press.get("/admin/letters/appeal/export?format=txt&lang=fr")
    assert response.status_code == 200 and NAMES[0] in response.get_data(as_text=True)



def test_press_sees_no_country_breakdown_during_the_embargo(app):
    """Hide an embargoed letter's per-country counts from press; show them to the others."""
    letter = embargoed_letter()
    countries = ("Germany", "Spain", "France")
    press = signed_in_client(app, "press@example.org", "press")
    page = press.get("/admin/letters/appeal?lang=en").get_data(as_text=True)
    assert "Confirmed signatures by country" not in page
    assert not any(f'<th scope="row">{name}</th>' in page for name in countries)
    assert "per-country figures" in page
    for email, role in (("org@example.org", "organiser"), ("root@example.org", "admin")):
        other = signed_in_client(app, email, role)
        page = other.get("/admin/letters/appeal?lang=en").get_data(as_text=True)
        assert all(f'<th scope="row">{name}</th>' in page for name in countries), role
    lift(letter)
    page = press.get("/admin/letters/appeal?lang=en").get_data(as_text=True)
    assert all(f'<th scope="row">{name}</th>' in page for name in countries)

def test_grouping_cache_never_serves_the_public_during_the_embargo(client, app):
    letter = embargoed_letter()
    # An organiser's export fills the per-process cache under the current version...
    sections = group_signatories(letter, "fr")
    assert sections and NAMES[0] in str(sections)
    # ...which public readers must not get.
    with pytest.raises(ListEmbargoed):
        group_signatories(letter, "fr", public=True)
    assert NAMES[0] not in client.get("/letters/appeal?lang=fr").get_data(as_text=True)
    assert client.get("/letters/appeal/signatories.txt?lang=fr").status_code == 404
    lift(letter)  # no version bump: the cached list is simply public now
    assert group_signatories(letter, "fr", public=True) is sections
    assert NAMES[0] in client.get("/letters/appeal?lang=fr").get_data(as_text=True)


def test_confirm_page_and_mails_reveal_no_other_signatory(client, app):
    embargoed_letter()
    client.post("/letters/appeal/sign?lang=en", data=sign_form(name="New Signer Org", country="IT"))
    mail = outbox("confirm")[0]
    for body in (rendered(mail).text, rendered(mail).html):
        assert_no_list(body)
    token = confirm_token_from(mail)
    page = client.post(f"/confirm/{token}?lang=en").get_data(as_text=True)
    assert "New Signer Org" in page  # how the signer will appear: their own line only
    for name in NAMES:
        assert name not in page
    assert "The list of signatories will be published on" in page


# --- setting it: the command line ---------------------------------------------------------

def stored() -> Letter:
    db.session.expire_all()
    return db.session.scalar(select(Letter).where(Letter.slug == "appeal"))


@pytest.mark.parametrize("given, expected", [
    ("2099-12-24T09:00", dt.datetime(2099, 12, 24, 9, 0)),
    ("2099-12-24 09:00", dt.datetime(2099, 12, 24, 9, 0)),
    ("2099-12-24T11:00+02:00", dt.datetime(2099, 12, 24, 9, 0)),
    ("2099-12-24T09:00Z", dt.datetime(2099, 12, 24, 9, 0)),
])
def test_cli_sets_the_embargo_in_utc_and_logs_it(runner, app, given, expected):
    make_letter()
    version = stored().list_version
    result = runner.invoke(args=["letter", "update", "appeal", "--embargo-until", given,
                                 "--embargo-count"])
    assert result.exit_code == 0, result.output
    assert "2099-12-24 09:00 UTC" in result.output
    letter = stored()
    assert letter.embargo_until == expected and letter.embargo_count
    assert letter.list_version == version + 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "letter.update")).one()
    assert "embargo_until: none→2099-12-24 09:00 UTC" in event.detail
    assert "embargo_count: no→yes" in event.detail

    result = runner.invoke(args=["letter", "update", "appeal", "--embargo-until", "none",
                                 "--no-embargo-count"])
    assert result.exit_code == 0, result.output
    assert stored().embargo_until is None and not stored().embargo_count


@pytest.mark.parametrize("given, message", [
    ("tomorrow", "not a date and time"),
    ("2099-12-24", "not a date and time"),
    ("2099-13-24T09:00", "not a date and time"),
    ("2001-01-01T09:00", "already passed"),
])
def test_cli_refuses_bad_embargo_and_changes_nothing(runner, app, given, message):
    make_letter()
    before = stored().list_version
    result = runner.invoke(args=["letter", "update", "appeal", "--embargo-until", given,
                                 "--goal", "5"])
    assert result.exit_code != 0
    assert message in result.output
    letter = stored()
    assert letter.embargo_until is None and letter.goal is None
    assert letter.list_version == before
    assert db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "letter.update")).first() is None


def test_cli_sets_retention_days_within_bounds(runner, app):
    make_letter()
    result = runner.invoke(args=["letter", "update", "appeal", "--retention-days", "30"])
    assert result.exit_code == 0, result.output
    assert stored().fingerprint_retention_days == 30
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "letter.update")).one()
    assert event.detail == "fingerprint_retention_days: 90→30"
    for bad in ("0", "3651", "-1", "ninety"):
        result = runner.invoke(args=["letter", "update", "appeal", "--retention-days", bad])
        assert result.exit_code != 0 and "--retention-days" in result.output, bad
        assert stored().fingerprint_retention_days == 30


# --- setting it: the back office ----------------------------------------------------------

def settings(**overrides) -> dict:
    data = {"goal": "", "deadline": "", "place": "", "date": "",
            "accepts_organizations": "1", "accepts_individuals": "1",
            "embargo_until": "", "retention_days": "90"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_back_office_sets_embargo_and_retention(app):
    make_letter()
    organiser = signed_in_client(app)
    page = organiser.get("/admin/letters/appeal/edit").get_data(as_text=True)
    assert 'name="embargo_until"' in page and 'name="retention_days"' in page
    response = organiser.post("/admin/letters/appeal/edit", data=settings(
        embargo_until="2099-12-24T09:00", embargo_count="1", retention_days="365"))
    assert response.status_code == 303
    letter = stored()
    assert letter.embargo_until == dt.datetime(2099, 12, 24, 9, 0) and letter.embargo_count
    assert letter.fingerprint_retention_days == 365
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "letter.update")).one()
    assert event.actor == "org@example.org"
    assert "embargo_until: none→2099-12-24 09:00 UTC" in event.detail
    assert "fingerprint_retention_days: 90→365" in event.detail
    page = organiser.get("/admin/letters/appeal/edit").get_data(as_text=True)
    assert 'value="2099-12-24T09:00"' in page and 'value="365"' in page
    # Saving the page untouched changes nothing, even once the embargo has passed.
    letter.embargo_until = (utcnow() - dt.timedelta(hours=1)).replace(microsecond=0)
    db.session.commit()
    shown = letter.embargo_until.isoformat(timespec="seconds" if letter.embargo_until.second
                                           else "minutes")
    response = organiser.post("/admin/letters/appeal/edit", data=settings(
        embargo_until=shown, embargo_count="1", retention_days="365"))
    assert response.status_code == 303


@pytest.mark.parametrize("field, value, reason", [
    ("retention_days", "0", "from 1 to 3650"),
    ("retention_days", "", "from 1 to 3650"),
    ("embargo_until", "24/12/2099", "not a date and time"),
    ("embargo_until", "2001-01-01T09:00", "already passed"),
])
def test_back_office_refuses_bad_values_and_saves_nothing(app, field, value, reason):
    make_letter()
    organiser = signed_in_client(app)
    response = organiser.post("/admin/letters/appeal/edit",
                              data=settings(goal="7", **{field: value}))
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    letter = stored()
    assert letter.goal is None and letter.embargo_until is None
    assert letter.fingerprint_retention_days == 90


def test_new_letter_form_takes_the_settings(app):
    organiser = signed_in_client(app, letters=())
    response = organiser.post("/admin/letters/new", data=settings(
        slug="appeal", lang="fr", title="Libérez-le", embargo_until="2099-01-01 08:00",
        retention_days="45"))
    assert response.status_code == 303, response.get_data(as_text=True)
    letter = stored()
    assert letter.embargo_until == dt.datetime(2099, 1, 1, 8, 0)
    assert letter.fingerprint_retention_days == 45
