"""Creating and editing letters in the back office: drafts, settings, texts, labels, status."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from petition.extensions import db
from petition.letters import operations as letters
from petition.models import DRAFT, INDIVIDUAL, CountryLabel, Letter, Signature, utcnow
from petition.models.accounts import AuditEvent
from tests.admin_helpers import log_in, make_account
from tests.factories import make_letter

ORG = "org@example.org"


def fresh(slug: str = "appeal") -> Letter | None:
    db.session.expire_all()
    return db.session.scalar(select(Letter).where(Letter.slug == slug))


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def audit_count() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)))


def logged_in(app, email: str = ORG, role: str = "organiser", letters=("appeal",)):
    _, secret = make_account(email, role, letters, totp=True)
    client = app.test_client()
    assert log_in(client, email, secret).status_code in (302, 303)
    return client


NEW = {
    "slug": "free-him", "lang": "FR", "title": "Libérez-le", "body": "Nous demandons.\r\nVite.",
    "goal": "1000", "deadline": "2030-01-31", "place": "Paris", "date": "2026-05-21",
    "accepts_organizations": "1", "accepts_individuals": "1",
}


def test_an_organiser_creates_a_draft_given_to_them_and_hidden_until_opened(app):
    client = logged_in(app, letters=())
    listing = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/letters/new"' in listing and "New letter" in listing
    form = client.get("/admin/letters/new").get_data(as_text=True)
    assert 'name="accepts_organizations" value="1" checked' in form
    assert 'name="accepts_individuals" value="1" checked' in form
    assert 'name="csrf_token"' in form

    response = client.post("/admin/letters/new", data=NEW)
    assert response.status_code == 303
    assert response.location.endswith("/admin/letters/free-him/edit")
    letter = fresh("free-him")
    assert letter.status == DRAFT and letter.default_lang == "fr"
    assert (letter.goal, str(letter.deadline), letter.place, str(letter.date)) == (
        1000, "2030-01-31", "Paris", "2026-05-21")
    assert letter.text_for("fr").body == "Nous demandons.\nVite."
    assert [a.email for a in letter_accounts(letter)] == [ORG]
    # Draft: the public sees nothing, not even the sign form; the organiser does.
    assert app.test_client().get("/letters/free-him").status_code == 404
    assert app.test_client().post("/letters/free-him/sign", data={}).status_code == 404
    assert "Draft" in client.get("/admin/").get_data(as_text=True)
    page = client.get("/admin/letters/free-him/edit").get_data(as_text=True)
    assert "Open for signatures" in page and "Close the letter" not in page
    [created] = events("letter.create")
    assert (created.actor, created.letter_slug, created.detail) == (ORG, "free-him",
                                                                    "status=draft lang=fr")
    assert [e.letter_slug for e in events("account.assign")][-1] == "free-him"


def letter_accounts(letter: Letter):
    from petition.models.accounts import Account
    return [a for a in db.session.scalars(select(Account)) if letter in a.letters]


def test_an_admin_creates_a_draft_without_being_assigned(app):
    client = logged_in(app, "root@example.org", "admin", ())
    data = dict(NEW, accepts_organizations="", moderate_organizations="1")
    assert client.post("/admin/letters/new", data=data).status_code == 303
    letter = fresh("free-him")
    assert letter.signer_types == (INDIVIDUAL,) and letter.moderate_organizations
    assert letter_accounts(letter) == []


SETTINGS = {"goal": "500", "deadline": "2030-06-30", "place": " Lyon ", "date": "2026-06-01",
            "accepts_individuals": "1", "moderate_organizations": "1"}


def test_edit_settings_records_old_and_new_values(app):
    make_letter("appeal", goal=100, place="Paris")
    client = logged_in(app)
    before = fresh().list_version
    response = client.post("/admin/letters/appeal/edit", data=SETTINGS)
    assert response.status_code == 303
    letter = fresh()
    assert (letter.goal, str(letter.deadline), letter.place, str(letter.date)) == (
        500, "2030-06-30", "Lyon", "2026-06-01")
    assert letter.signer_types == (INDIVIDUAL,) and letter.moderate_organizations
    assert letter.list_version == before + 1
    [update] = events("letter.update")
    assert update.actor == ORG and update.letter_slug == "appeal"
    for change in ("goal: 100→500", "deadline: none→2030-06-30", "place: Paris→Lyon",
                   "accepts_organizations: yes→no", "moderate_organizations: no→yes"):
        assert change in update.detail
    page = client.get("/admin/letters/appeal/edit").get_data(as_text=True)
    assert 'value="2030-06-30"' in page and "Signatures taken until 2030-06-30" in page
    # The same form again changes nothing: nothing is logged.
    assert client.post("/admin/letters/appeal/edit", data=SETTINGS).status_code == 303
    assert len(events("letter.update")) == 1
    # Empty fields clear goal, deadline, place and date.
    cleared = {"accepts_organizations": "1", "accepts_individuals": "1"}
    assert client.post("/admin/letters/appeal/edit", data=cleared).status_code == 303
    letter = fresh()
    assert (letter.goal, letter.deadline, letter.place, letter.date) == (None, None, None, None)


def test_texts_side_by_side_in_several_languages(app):
    make_letter("appeal", lang="fr", title="Libérez-le", body="Texte")
    client = logged_in(app)
    page = client.get("/admin/letters/appeal/edit").get_data(as_text=True)
    assert 'name="title-fr"' in page and 'name="new_lang"' in page
    response = client.post("/admin/letters/appeal/texts", data={
        "title-fr": "Libérez-le", "body-fr": "Texte",  # unchanged
        "new_lang": "en", "new_title": "Free him", "new_body": "We ask.",
    })
    assert response.status_code == 303
    assert fresh().languages == ["en", "fr"]
    assert [e.detail for e in events("letter.text")] == ["lang=en added"]
    # Both columns side by side, and a new empty one.
    page = client.get("/admin/letters/appeal/edit").get_data(as_text=True)
    assert (page.index('name="body-en"') < page.index('name="body-fr"')
            < page.index('name="new_body"'))
    assert ">We ask.</textarea>" in page
    response = client.post("/admin/letters/appeal/texts", data={
        "title-fr": "Libérez-le !", "body-fr": "Texte",
        "title-en": "Free him", "body-en": "We ask.",
        "new_lang": "", "new_title": "", "new_body": "",
    })
    assert response.status_code == 303
    assert fresh().text_for("fr").title == "Libérez-le !"
    assert [e.detail for e in events("letter.text")] == ["lang=en added", "lang=fr changed"]
    assert all(e.actor == ORG and e.letter_slug == "appeal" for e in events("letter.text"))


def test_a_text_gets_its_own_place(app):
    make_letter("appeal", lang="fr", title="Libérez-le", body="Texte")
    letters.update_letter("appeal", place="Paris")
    client = logged_in(app)
    page = client.get("/admin/letters/appeal/edit").get_data(as_text=True)
    assert 'name="place-fr"' in page and 'placeholder="Paris"' in page
    assert client.post("/admin/letters/appeal/texts", data={
        "title-fr": "Libérez-le", "body-fr": "Texte", "place-fr": "",
        "new_lang": "ru", "new_title": "Свободу", "new_body": "", "new_place": "Париж",
    }).status_code == 303
    assert fresh().text_for("ru").place == "Париж" and fresh().text_for("fr").place is None
    assert client.post("/admin/letters/appeal/texts", data={
        "title-fr": "Libérez-le", "body-fr": "Texte", "place-fr": "",
        "title-ru": "Свободу", "body-ru": "", "place-ru": "Москва"}).status_code == 303
    assert fresh().text_for("ru").place == "Москва"
    assert [e.detail for e in events("letter.text")] == ["lang=ru added", "lang=ru changed"]
    page = client.get("/admin/letters/appeal/edit").get_data(as_text=True)
    assert 'value="Москва"' in page


def test_labels_are_added_changed_and_removed(app):
    make_letter("appeal")
    client = logged_in(app)
    assert client.post("/admin/letters/appeal/labels", data={
        "action": "set", "lang": "fr", "code": "es", "label": "Etat espagnol"}).status_code == 303
    assert fresh().labels_for("fr") == {"ES": "Etat espagnol"}
    page = client.get("/admin/letters/appeal/edit").get_data(as_text=True)
    assert "Etat espagnol" in page and 'name="action" value="remove"' in page
    assert client.post("/admin/letters/appeal/labels", data={
        "action": "set", "lang": "fr", "code": "ES", "label": "État espagnol"}).status_code == 303
    assert fresh().labels_for("fr") == {"ES": "État espagnol"}
    assert client.post("/admin/letters/appeal/labels", data={
        "action": "remove", "lang": "fr", "code": "ES"}).status_code == 303
    assert fresh().labels_for("fr") == {}
    assert db.session.scalar(select(func.count(CountryLabel.id))) == 0
    assert [e.detail for e in events("letter.label")] == [
        "lang=fr code=ES: none→Etat espagnol", "lang=fr code=ES: Etat espagnol→État espagnol",
        "lang=fr code=ES: État espagnol→none"]


def test_open_and_close(app):
    make_letter("appeal", status=DRAFT)
    client = logged_in(app)
    public = app.test_client()
    # A draft is opened, not closed.
    refused = client.post("/admin/letters/appeal/status", data={"status": "closed"})
    assert (refused.status_code == 400
            and "cannot go from draft to closed" in refused.get_data(as_text=True))
    assert client.post("/admin/letters/appeal/status", data={"status": "open"}).status_code == 303
    assert fresh().status == "open" and public.get("/letters/appeal?lang=en").status_code == 200
    page = client.get("/admin/letters/appeal/edit").get_data(as_text=True)
    assert "Close the letter" in page
    assert client.post("/admin/letters/appeal/status", data={"status": "closed"}).status_code == 303
    assert fresh().status == "closed"
    assert public.get("/letters/appeal?lang=en").status_code == 200  # the list stays public
    assert public.post("/letters/appeal/sign", data={}).status_code == 409
    assert "Closed" in client.get("/admin/letters/appeal").get_data(as_text=True)
    assert client.post("/admin/letters/appeal/status", data={"status": "open"}).status_code == 303
    assert client.post("/admin/letters/appeal/status", data={"status": "draft"}).status_code == 400
    assert [(e.actor, e.detail) for e in events("letter.status")] == [
        (ORG, "draft→open"), (ORG, "open→closed"), (ORG, "closed→open")]


SIGN = {"signer_type": "individual", "name": "Ana Lima", "country": "DE",
        "email": "ana@example.org", "display": "full", "consent": "y"}


def test_a_deadline_closes_signing_after_its_day(app):
    make_letter("appeal")
    client = logged_in(app)
    today = utcnow().date()
    public = app.test_client()
    # The deadline day itself still takes signatures.
    assert client.post("/admin/letters/appeal/edit", data={
        "deadline": today.isoformat(), "accepts_individuals": "1"}).status_code == 303
    assert fresh().is_open
    yesterday = today - dt.timedelta(days=1)
    assert client.post("/admin/letters/appeal/edit", data={
        "deadline": yesterday.isoformat(), "accepts_individuals": "1"}).status_code == 303
    assert not fresh().is_open
    assert public.post("/letters/appeal/sign", data=SIGN).status_code == 409
    assert db.session.scalar(select(func.count(Signature.id))) == 0
    assert "deadline" in client.get("/admin/").get_data(as_text=True)
    # Reopening past the deadline is refused with the reason.
    client.post("/admin/letters/appeal/status", data={"status": "closed"})
    refused = client.post("/admin/letters/appeal/status", data={"status": "open"})
    assert refused.status_code == 400 and "has passed" in refused.get_data(as_text=True)


@pytest.mark.parametrize("url, data, message", [
    ("/admin/letters/new", dict(NEW, slug="Bad Slug"), "the slug takes lower-case"),
    ("/admin/letters/new", dict(NEW, slug="appeal"), "already exists"),
    ("/admin/letters/new", dict(NEW, slug="new"), "reserved"),
    ("/admin/letters/new", dict(NEW, accepts_organizations="", accepts_individuals=""),
     "organisations, individuals or both"),
    ("/admin/letters/new", dict(NEW, goal="0"), "the goal must be a positive number"),
    ("/admin/letters/new", dict(NEW, goal="-3"), "the goal must be a positive number"),
    ("/admin/letters/new", dict(NEW, goal="many"), "the goal must be a whole number"),
    ("/admin/letters/new", dict(NEW, goal="²"), "the goal must be a whole number"),
    ("/admin/letters/new", dict(NEW, goal="99999999999"), "the goal must be at most"),
    ("/admin/letters/new", dict(NEW, lang="french"), "did you mean fr?"),
    ("/admin/letters/new", dict(NEW, title=" "), "the title must be"),
    ("/admin/letters/new", dict(NEW, deadline="31/01/2030"), "not a date"),
    ("/admin/letters/appeal/edit", {"goal": "0", "accepts_individuals": "1"}, "positive"),
    ("/admin/letters/appeal/edit", {"goal": "-1", "accepts_individuals": "1"}, "positive"),
    ("/admin/letters/appeal/edit", {"goal": "5"}, "organisations, individuals or both"),
    ("/admin/letters/appeal/edit", {"deadline": "soon", "accepts_individuals": "1"}, "not a date"),
    ("/admin/letters/appeal/texts", {"title-fr": "Nouveau", "new_lang": "xx", "new_title": "T"},
     "unknown language"),
    ("/admin/letters/appeal/texts", {"title-fr": "", "body-fr": "x"}, "the title must be"),
    ("/admin/letters/appeal/texts", {"new_title": "No language"}, "unknown language"),
    ("/admin/letters/appeal/labels", {"action": "set", "lang": "fr", "code": "QQ", "label": "X"},
     "QQ"),
    ("/admin/letters/appeal/labels", {"action": "set", "lang": "french", "code": "ES",
                                      "label": "X"}, "unknown language"),
    ("/admin/letters/appeal/labels", {"action": "remove", "lang": "fr", "code": "DE"},
     "no label for DE"),
    ("/admin/letters/appeal/status", {"status": "archived"}, "unknown status"),
])
def test_bad_input_is_refused_with_a_message_and_nothing_written(app, url, data, message):
    make_letter("appeal", lang="fr", title="Appel", goal=10)
    client = logged_in(app)
    events_before, version = audit_count(), fresh().list_version
    response = client.post(url, data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Nothing was saved" in html and message in html, html
    assert audit_count() == events_before
    letter = fresh()
    assert (letter.goal, letter.signer_types, letter.languages, letter.labels, letter.status,
            letter.list_version) == (10, ("organization", "individual"), ["fr"], [], "open",
                                     version)
    assert letter.text_for("fr").title == "Appel"
    assert db.session.scalar(select(func.count(Letter.id))) == 1


def test_press_is_refused_every_change_and_sees_no_edit_links(app):
    make_letter("appeal")
    client = logged_in(app, "press@example.org", "press")
    for method, url, data in [
        ("GET", "/admin/letters/new", None), ("POST", "/admin/letters/new", NEW),
        ("GET", "/admin/letters/appeal/edit", None),
        ("POST", "/admin/letters/appeal/edit", SETTINGS),
        ("POST", "/admin/letters/appeal/texts", {"new_lang": "en", "new_title": "T"}),
        ("POST", "/admin/letters/appeal/labels", {"lang": "fr", "code": "ES", "label": "X"}),
        ("POST", "/admin/letters/appeal/status", {"status": "closed"}),
    ]:
        assert client.open(url, method=method, data=data).status_code == 403, (method, url)
    assert fresh().status == "open" and fresh("free-him") is None
    assert fresh().languages == ["fr"] and fresh().labels == []
    assert "New letter" not in client.get("/admin/").get_data(as_text=True)
    page = client.get("/admin/letters/appeal").get_data(as_text=True)
    assert "/admin/letters/appeal/edit" not in page


def test_an_organiser_of_another_letter_gets_404_and_the_given_one_sees_edit(app):
    make_letter("appeal")
    make_letter("elsewhere")
    client = logged_in(app, letters=("elsewhere",))
    assert client.get("/admin/letters/appeal/edit").status_code == 404
    assert client.post("/admin/letters/appeal/status", data={"status": "closed"}).status_code == 404
    assert fresh().status == "open"
    page = client.get("/admin/letters/elsewhere").get_data(as_text=True)
    assert 'href="/admin/letters/elsewhere/edit"' in page and "Open" in page


@pytest.mark.parametrize("language, expected", [
    ("fr", "Rien n’a été enregistré : l’objectif doit être un nombre positif."),
    ("ru", "Ничего не сохранено: цель должна быть положительным числом."),
])
def test_the_reason_is_given_in_the_language_of_the_page(app, language, expected):
    make_letter("appeal", lang="fr", title="Appel", goal=10)
    client = logged_in(app)
    response = client.post("/admin/letters/appeal/edit",
                           data={"goal": "0", "accepts_individuals": "1"},
                           headers={"Accept-Language": language})
    assert response.status_code == 400
    assert expected in response.get_data(as_text=True)
