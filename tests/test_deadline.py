"""A letter's deadline and status: stated in the reader's language with the days left, closed
by itself once past, and dates written as CLDR (and French) write them, in en, fr and ru."""
from __future__ import annotations

import datetime as dt

from petition import dates
from petition.exporting.document import place_and_date
from petition.extensions import db
from petition.letters import operations as letters
from petition.letters.status import public_status
from petition.models import CLOSED, LETTER_DRIVE, OPEN, utcnow
from petition.views.templating import utc_when
from tests.factories import make_letter, make_signature


def _first_of_a_coming_month() -> dt.date:
    today = utcnow().date()
    return (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def test_long_dates_follow_cldr_and_french_ordinals():
    first = dt.date(2027, 2, 1)
    assert dates.long_date(first, "en") == "February 1, 2027"
    assert dates.long_date(first, "fr") == "1er février 2027"
    assert dates.long_date(first, "fr_CA") == "1er février 2027"
    assert dates.long_date(dt.date(2027, 2, 11), "fr") == "11 février 2027"
    assert dates.long_date(dt.date(2027, 2, 15), "ru") == "15 февраля 2027\u202fг."
    assert dates.long_date(first, "de") == "1. Februar 2027"  # no "er" outside French
    assert place_and_date("Paris", dt.date(2026, 5, 1), "fr") == "Paris, le 1er mai 2026"
    assert dates.long_utc_time(dt.datetime(2026, 12, 1, 9, 0), "fr") == \
        "1er décembre 2026, 09:00 UTC"
    assert dates.long_date_time(dt.datetime(2026, 12, 1, 9, 0), "fr") == \
        "1er décembre 2026, 09:00:00 TU"
    assert dates.long_date_time(dt.datetime(2026, 12, 20, 9, 0), "ru").startswith(
        "20 декабря 2026\u202fг., 09:00:00")


def test_a_sentence_ending_on_an_abbreviated_date_has_one_full_stop():
    values = {"date": "15 февраля 2027 г."}
    assert dates.one_full_stop("до %(date)s.", values) % values == "до 15 февраля 2027 г."
    values = {"date": "February 15, 2027"}
    assert dates.one_full_stop("until %(date)s.", values) % values == "until February 15, 2027."
    # An ellipsis is no abbreviation: the sentence keeps its own stop.
    values = {"date": "soon..."}
    assert dates.one_full_stop("%(date)s.", values) % values == "soon...."


def test_public_status_counts_days_and_closes_by_itself(app):
    today = utcnow().date()
    letter = make_letter(deadline=today + dt.timedelta(days=3))
    state = public_status(letter)
    assert (state.status, state.days_left, state.closed_on) == (OPEN, 3, None)
    assert public_status(letter, utcnow() + dt.timedelta(days=3)).days_left == 0
    after = public_status(letter, utcnow() + dt.timedelta(days=4))
    assert (after.status, after.closed_on) == (CLOSED, letter.deadline)
    no_deadline = public_status(make_letter("open-ended"))
    assert (no_deadline.status, no_deadline.deadline, no_deadline.days_left) == (OPEN, None, None)


def test_closed_on_is_the_day_closed_or_the_deadline_that_closed_it_first(app):
    today = utcnow().date()
    letter = make_letter(deadline=today + dt.timedelta(days=10))
    letters.set_status(letter.slug, CLOSED)
    assert public_status(letter).closed_on == today
    late = make_letter("late", deadline=today - dt.timedelta(days=5))
    letters.set_status(late.slug, CLOSED)
    assert public_status(late).closed_on == today - dt.timedelta(days=5)


def test_letter_page_states_the_deadline_and_days_left_in_each_language(app, client):
    deadline = _first_of_a_coming_month()
    days = (deadline - utcnow().date()).days
    make_letter(deadline=deadline, goal=100)
    fr = client.get("/letters/appeal?lang=fr").get_data(as_text=True)
    assert f"jusqu’au 1er {dates.long_date(deadline, 'fr')[4:]}" in fr
    assert (f"Encore {days} jours." if days > 1 else "Encore 1 jour.") in fr
    ru = client.get("/letters/appeal?lang=ru").get_data(as_text=True)
    assert f"до {dates.long_date(deadline, 'ru')}" in ru
    assert "г.." not in ru
    en = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert f"Open for signatures until {dates.long_date(deadline, 'en')}." in en
    assert (f"{days} days left." if days > 1 else "1 day left.") in en


def test_last_day_is_said_and_the_letter_still_signs(app, client):
    make_letter(deadline=utcnow().date())
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert "Today is the last day." in page
    assert 'name="email"' in page  # the form: still open today


def test_past_deadline_closes_page_home_and_json(app, client):
    deadline = utcnow().date() - dt.timedelta(days=1)
    letter = make_letter(deadline=deadline, lang="ru", title="Свободу")
    make_signature(letter, country="FR")
    page = client.get("/letters/appeal?lang=ru").get_data(as_text=True)
    assert f"закрыт {dates.long_date(deadline, 'ru')}" in page
    assert 'name="email"' not in page
    assert "г.." not in page
    home = client.get("/?lang=ru").get_data(as_text=True)
    assert f"Закрыто {dates.long_date(deadline, 'ru')}" in home or \
        dates.long_date(deadline, "ru") in home
    assert "г.." not in home
    data = client.get("/letters/appeal.json").get_json()
    assert data["status"] == "closed"
    assert data["deadline"] == deadline.isoformat()
    assert data["closed_on"] == deadline.isoformat()
    assert data["total"] == 1


def test_json_of_an_open_letter_gives_its_deadline(app, client):
    deadline = utcnow().date() + dt.timedelta(days=30)
    make_letter(deadline=deadline)
    data = client.get("/letters/appeal.json").get_json()
    assert (data["status"], data["deadline"], data["closed_on"]) == \
        ("open", deadline.isoformat(), None)
    make_letter("no-deadline")
    data = client.get("/letters/no-deadline.json").get_json()
    assert (data["status"], data["deadline"]) == ("open", None)


def test_home_page_dates_in_french_and_russian(app, client):
    deadline = _first_of_a_coming_month()
    make_letter(deadline=deadline)
    fr = client.get("/?lang=fr").get_data(as_text=True)
    assert f"jusqu’au {dates.long_date(deadline, 'fr')}." in fr
    assert dates.long_date(deadline, "fr").startswith("1er ")
    ru = client.get("/?lang=ru").get_data(as_text=True)
    assert f"до {dates.long_date(deadline, 'ru')}" in ru
    assert "г.." not in ru


def test_drive_page_states_its_deadline_and_closes(app, client):
    from tests.drive_helpers import make_drive

    deadline = utcnow().date() + dt.timedelta(days=5)
    letter = make_drive(deadline=deadline)
    assert letter.kind == LETTER_DRIVE
    page = client.get(f"/letters/{letter.slug}?lang=en").get_data(as_text=True)
    assert f"Letters are taken until {dates.long_date(deadline, 'en')}." in page
    assert "5 days left." in page
    letter.deadline = utcnow().date() - dt.timedelta(days=2)
    db.session.commit()
    page = client.get(f"/letters/{letter.slug}?lang=ru").get_data(as_text=True)
    assert dates.long_date(letter.deadline, "ru") in page
    assert "г.." not in page
    data = client.get(f"/letters/{letter.slug}.json").get_json()
    assert (data["status"], data["closed_on"]) == ("closed", letter.deadline.isoformat())


def test_utc_times_in_pages_use_french_ordinals(app):
    with app.test_request_context("/?lang=fr"):
        assert utc_when(dt.datetime(2026, 12, 1, 9, 0), "fr") == "1er décembre 2026, 09:00 UTC"
