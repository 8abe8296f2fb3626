"""A letter drive's public side through HTTP, on both databases: the page and its form, the
confirmation link (GET shows, POST confirms, editing first), the writer's private page,
the JSON, the home page, and what of a letter is public when."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from petition.drive import batches, review, settings, writing
from petition.extensions import db
from petition.models import CLOSED, utcnow
from petition.models.drive import (
    PENDING,
    RETURNED,
    REVIEW,
    WITHDRAWN,
    DriveLetter,
)
from tests.drive_helpers import (
    LETTER_EN,
    LETTER_RU,
    confirm_token,
    make_drive,
    writer_token_of,
    written,
)
from tests.factories import make_letter, make_signature
from tests.helpers import assert_valid_html, html_lang, outbox, rendered

SLUG = "letters-to-azat"
PAGE = f"/letters/{SLUG}"
WRITE = f"/letters/{SLUG}/write"


def letter_form(**overrides) -> dict:
    data = {"name": "Marie Dupont", "country": "FR", "email": "marie@example.org",
            "language": "en", "body": LETTER_EN, "publish": "full", "consent": "y"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def rows() -> list[DriveLetter]:
    db.session.expire_all()
    return list(db.session.scalars(select(DriveLetter).order_by(DriveLetter.id)))


def text_of(response) -> str:
    """The page as a reader sees it: entities decoded (WTForms escapes apostrophes)."""
    return html.unescape(response.get_data(as_text=True))


def spaced(page: str) -> str:
    """`page` with no-break spaces (French typography, CLDR numbers) as plain spaces."""
    return re.sub("[\u00a0\u202f]", " ", page)


def confirm_link(client, **form) -> str:
    """Write a letter through the form; the confirmation link's path from its mail."""
    response = client.post(WRITE + "?lang=en", data=letter_form(**form))
    assert response.status_code == 303, response.get_data(as_text=True)
    return f"/drive/confirm/{confirm_token()}"


# --- the page ----------------------------------------------------------------------------------


def test_the_page_shows_appeal_count_goal_deadline_guidance_and_form(client, app):
    letter = make_drive(goal=1000, deadline=dt.date(2099, 2, 15))
    settings.set_guidance(SLUG, "en", guidance="Do **not** write about the war. "
                          "<script>alert(1)</script> [x](javascript:alert(1))")
    written(letter)
    written(letter, email="b@example.org", country="DE")
    writing.write(letter, writing.LetterDetails(  # pending: not counted
        name="Not Yet", country="IT", email="c@example.org", letter_lang="en",
        body="Pending letter", publish="full", lang="en"))
    response = client.get(PAGE + "?lang=en")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_valid_html(page)
    assert "1000 писем Азату" in page and "Напишите Азату письмо." in page
    assert '<h2 id="count-heading">2 letters written</h2>' in page
    assert "0 sent · from 2 countries" in page
    assert 'max="1000" value="2"' in page and "0.2% of the goal" in page
    assert "Letters are taken until February 15, 2099." in page
    assert "Write to Азат Мифтахов" in page
    # The guidance, Markdown rendered safely.
    assert "Do <strong>not</strong> write about the war." in page
    assert "<script>alert" not in page and 'href="javascript' not in page
    # The form, with its fields named as outside scripts post them.
    for name in ("name", "country", "email", "language", "body", "publish", "consent",
                 "reply"):
        assert f'name="{name}"' in page, name
    assert '<form method="post" action="/letters/letters-to-azat/write"' in page
    assert 'value="no" checked' in page or 'checked id="publish-0"' in page
    assert "4,000 characters left" in page and 'data-left-one="{n} character left"' in page
    assert '<script src="/static/js/drive.js" defer></script>' in page
    # No signature form, no letter text.
    assert "Sign this letter" not in page and "/sign" not in page
    assert "Pending letter" not in page and "Azat,\n\nWe think" not in page


def test_the_counter_script_is_served_from_this_site(client, app):
    response = client.get("/static/js/drive.js")
    assert response.status_code == 200
    assert "data-count-for" in response.get_data(as_text=True)
    response.close()


def test_the_page_in_french_and_in_russian(client, app):
    letter = make_drive(goal=1000)
    from petition.letters import operations as letters

    letters.translate_letter(SLUG, lang="fr", title="1000 lettres pour Azat",
                             body="Écrivez à Azat.")
    settings.set_guidance(SLUG, "fr", guidance="N’écrivez pas sur la guerre.")
    settings.set_guidance(SLUG, "ru", guidance="Не пишите о войне.")
    for number in range(5):
        written(letter, email=f"w{number}@example.org", country=("FR", "DE")[number % 2])
    french = text_of(client.get(PAGE + "?lang=fr"))
    assert html_lang(french) == "fr"
    assert_valid_html(client.get(PAGE + "?lang=fr").get_data(as_text=True))  # as sent
    for expected in ("1000 lettres pour Azat", "Écrivez à Azat.", "5 lettres écrites",
                     "0 envoyée", "de 2 pays", "N’écrivez pas sur la guerre.",
                     "Écrire à Азат Мифтахов", "Langue de votre lettre",
                     "Allemand (Deutsch)", "4 000 caractères restants", "Envoyer ma lettre"):
        assert expected in spaced(french), expected
    russian = text_of(client.get(PAGE + "?lang=ru"))
    assert html_lang(russian) == "ru"
    assert_valid_html(client.get(PAGE + "?lang=ru").get_data(as_text=True))  # as sent
    for expected in ("1000 писем Азату", "5 писем написано", "отправлено: 0", "из 2 стран",
                     "Не пишите о войне.", "Написать письмо (адресат: Азат Мифтахов)",
                     "Язык вашего письма",
                     "Немецкий (Deutsch)", "Отправить письмо"):
        assert expected in spaced(russian), expected
    assert "Осталось 4 000 знаков" in spaced(russian)
    written(letter, email="x@example.org", country="RU")
    russian = text_of(client.get(PAGE + "?lang=ru"))
    assert "6 писем написано" in russian and "из 3 стран" in russian


def test_the_page_shows_costs_only_when_the_organisers_choose(client, app):
    letter = make_drive()
    row = written(letter, letter_lang="ru", body=LETTER_RU)
    review.approve(row.public_id)
    batch = batches.create_batch(SLUG)
    batches.mark_sent(batch.public_id, on=dt.date(2026, 12, 1), cost_cents=85050)
    page = text_of(client.get(PAGE + "?lang=fr"))
    assert "1 envoyée" in page and "850,50" not in page
    settings.update_drive(SLUG, show_costs=True)
    page = text_of(client.get(PAGE + "?lang=fr"))
    assert re.search(r"Frais d’envoi à ce jour\s*: 850,50\s€", page), page
    assert "Sending costs so far: €850.50" in text_of(client.get(PAGE + "?lang=en"))


def test_a_closed_drive_says_so_and_has_no_form(client, app):
    from petition.letters import operations as letters

    make_drive()
    letters.set_status(SLUG, CLOSED)
    page = text_of(client.get(PAGE + "?lang=en"))
    assert_valid_html(client.get(PAGE + "?lang=en").get_data(as_text=True))  # as sent
    assert re.search(r"This letter drive closed on \w+ \d+, \d{4} and no longer takes "
                     r"letters\.", page)
    assert 'name="body"' not in page


def test_open_letters_keep_their_page_and_sign_form(client, app):
    letter = make_letter()
    make_signature(letter)
    page = text_of(client.get("/letters/appeal?lang=en"))
    assert "Sign this letter" in page and "1 signature" in page and 'name="body"' not in page
    assert client.post("/letters/appeal/write", data=letter_form()).status_code == 404


# --- the form ----------------------------------------------------------------------------------


def test_a_valid_letter_is_stored_pending_and_mailed(client, app):
    make_drive()
    response = client.post(WRITE + "?lang=fr", data=letter_form(
        publish="initials", reply="y", language="de", country="CH",
        body="Lieber Azat,\r\n\r\nwir denken an dich.  \r\n"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/letters/letters-to-azat/write/check-your-mail")
    [row] = rows()
    assert (row.status, row.country, row.letter_lang, row.lang, row.publish,
            row.wants_reply) == (PENDING, "CH", "de", "fr", "initials", True)
    assert writing.draft(row).body == "Lieber Azat,\n\nwir denken an dich."
    assert writing.draft(row).name == "Marie Dupont"
    [mail] = outbox("drive_confirm")
    assert "Confirmer ma lettre" in rendered(mail).html  # in the page's language
    page = client.get(response.headers["Location"] + "?lang=en")
    text = text_of(page)
    assert page.status_code == 200 and "Check your mail" in text
    assert_valid_html(page.get_data(as_text=True))


def test_nothing_is_counted_or_published_before_confirming(client, app):
    make_drive()
    client.post(WRITE, data=letter_form())
    page = text_of(client.get(PAGE + "?lang=en"))
    assert "0 letters written" in page and "0 sent" not in page  # no "from 0 countries"
    figures = client.get(PAGE + ".json").get_json()
    assert figures["written"] == 0


@pytest.mark.parametrize("field, value, message", [
    ("name", "", "Please say how the letter is signed."),
    ("name", "Marie https://example.org", "link"),
    ("country", "", "Please choose a country or a region."),
    ("country", "europe", "Please choose a country or a region from the list."),
    ("country", "ZZ", "Please choose a country or a region from the list."),
    ("email", "not-an-address", "This does not look like an email address."),
    ("email", "", "Please give your email address."),
    ("language", "xx-nowhere", "Please choose the language of your letter."),
    ("language", "", "Please choose the language of your letter."),
    ("body", "", "Please write your letter."),
    ("body", "   \n  ", "Please write your letter."),
    ("body", "a" * 4001, "The letter is 4001 characters long; the limit is 4000."),
    ("body", "Write to me at marie@example.org", "without links"),
    ("body", "Dear Azat\u202e, hello", "invisible control characters"),
    ("publish", "everywhere", "Please choose whether your letter may appear on this page."),
    ("consent", None, "Please agree to the privacy notice to write."),
])
def test_each_invalid_field_gets_its_message_and_nothing_is_stored(client, app, field, value,
                                                                    message):
    make_drive()
    typed = "Кому: Азату. Мы помним о вас."
    data = letter_form(**{field: value})
    if field != "body":
        data["body"] = typed
        data["language"] = data.get("language", "ru") if field == "language" else "ru"
    response = client.post(WRITE + "?lang=en", data=data)
    page = text_of(response)
    assert response.status_code == 400
    assert message in page
    assert_valid_html(response.get_data(as_text=True))
    # The message sits by its field, which names it, and the summary links to it.
    assert 'id="error-summary"' in page
    target = f"{field}-0" if field == "publish" else field
    assert f'href="#{target}"' in page
    assert f'{field}-error' in page
    if field != "body":
        assert typed in page  # what was written is kept
    assert rows() == [] and outbox() == []


def test_a_letter_up_to_the_longest_limit_passes_the_size_guard(client, app):
    make_drive(body_max=20000)
    body = "Дорогой Азат! " + "Мы помним о вас. " * 1150  # ~20,000 characters, ~110 kB sent
    assert len(body) <= 20000
    response = client.post(WRITE, data=letter_form(body=body, language="ru"))
    assert response.status_code == 303
    assert writing.draft(rows()[0]).body == body.strip()


def test_a_bot_filling_the_honeypot_sees_success_and_stores_nothing(client, app):
    make_drive()
    human = client.post(WRITE, data=letter_form(email="h@example.org"))
    bot = client.post(WRITE, data=letter_form(email="bot@example.org", website="http://x"))
    assert bot.status_code == human.status_code == 303
    assert bot.headers["Location"] == human.headers["Location"]
    assert len(rows()) == 1 and len(outbox()) == 1


def test_the_per_address_cap_answers_the_same_page(client, app):
    app.config["MAIL_PER_ADDRESS_PER_HOUR"] = 1
    make_drive()
    first = client.post(WRITE, data=letter_form())
    again = client.post(WRITE, data=letter_form(body="A second letter."))
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert len(rows()) == 1 and len(outbox("drive_confirm")) == 1


def test_a_closed_drive_refuses_with_409_and_stores_nothing(client, app):
    make_drive(deadline=dt.date(2020, 1, 1))
    response = client.post(WRITE + "?lang=en", data=letter_form())
    assert response.status_code == 409
    page = text_of(response)
    assert "This letter drive is closed" in page and "Nothing was recorded." in page
    assert rows() == []


def test_the_write_address_opened_leads_to_the_page(client, app):
    make_drive()
    response = client.get(WRITE)
    assert response.status_code == 303 and response.headers["Location"].endswith(PAGE)
    assert client.get("/letters/nope/write").status_code == 404


def test_a_drive_takes_no_signature(client, app):
    make_drive()
    response = client.post(f"/letters/{SLUG}/sign", data={
        "signer_type": "individual", "name": "X", "country": "FR",
        "email": "x@example.org", "consent": "y"})
    assert response.status_code == 404


@pytest.mark.sqlite_only
def test_rate_limit_keeps_what_was_written(database_url, tmp_path):
    from petition import create_app
    from tests.conftest import base_config

    config = base_config(database_url, tmp_path)
    config.update(RATELIMIT_ENABLED=True, RATELIMIT_SIGN="2 per minute",
                  RATELIMIT_STORAGE_URI="memory://")
    app = create_app(config)
    with app.app_context():
        make_drive()
        client = app.test_client()
        codes = [client.post(WRITE, data=letter_form(email=f"r{i}@example.org")).status_code
                 for i in range(3)]
        assert codes == [303, 303, 429]
        refused = client.post(WRITE + "?lang=en", data=letter_form(
            name="Typed Before The Limit", email="kept@example.org", country="ES",
            language="es", body="Querido Azat,\n\npensamos en ti.", publish="initials"))
        assert refused.status_code == 429
        page = text_of(refused)
        assert "Too many letters were sent from your connection" in page
        assert 'value="Typed Before The Limit"' in page and 'value="kept@example.org"' in page
        assert '<option selected value="ES">' in page
        assert '<option selected value="es">' in page
        assert "Querido Azat,\n\npensamos en ti." in page
        assert 'checked id="publish-1"' in page
        assert_valid_html(refused.get_data(as_text=True))
        assert len(rows()) == 2
        # The page itself is not limited.
        assert client.get(f"{PAGE}?lang=en").status_code == 200
        db.session.remove()
        db.engine.dispose()


# --- the confirmation link ---------------------------------------------------------------------


def test_the_confirm_page_shows_the_letter_and_get_never_confirms(client, app):
    make_drive()
    settings.set_guidance(SLUG, "en", guidance="Avoid *politics*.",
                          risky_words="topology\nwarm wishes")
    link = confirm_link(client, publish="initials")
    response = client.get(link)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_valid_html(page)
    assert response.headers["Cache-Control"] == "no-store"
    assert "<mark>topology</mark>" in page and "<mark>warm wishes</mark>" in page
    assert "Marie Dupont" in page and "Avoid <em>politics</em>." in page
    assert "under your initials" in page
    assert f'<form class="confirm" method="post" action="{link}">' in page
    # Opening the link (twice, as mail scanners do) confirms nothing.
    client.get(link)
    assert rows()[0].status == PENDING
    done = client.post(link)
    assert done.status_code == 200
    text = text_of(done)
    assert "Thank you, your letter is confirmed" in text
    assert re.search(r'value="http://localhost/drive/letter/[\w.\-]+"', text)
    assert rows()[0].status == REVIEW
    assert_valid_html(done.get_data(as_text=True))
    # Again: confirmed already, with the private link; nothing changes.
    again = client.post(link)
    assert again.status_code == 200 and "confirmed already" in text_of(again)
    assert "confirmed already" in text_of(client.get(link))
    assert "1 letter written" in text_of(client.get(PAGE + "?lang=en"))


def test_the_letter_is_edited_before_confirming(client, app):
    make_drive()
    settings.set_guidance(SLUG, "en", risky_words="trial")
    link = confirm_link(client)
    edited = client.post(link, data={"body": "Dear Azat,\n\nI read about the trial."})
    assert edited.status_code == 303
    page = client.get(edited.headers["Location"])
    text = text_of(page)
    assert "Your changes are saved" in text
    assert "I read about the <mark>trial</mark>." in text
    assert rows()[0].status == PENDING  # editing does not confirm
    # An edit that breaks a rule: the message at the box, the stored text unchanged.
    refused = client.post(link, data={"body": "See www.example.org"})
    assert refused.status_code == 400
    assert "without links" in text_of(refused) and 'id="body-error"' in text_of(refused)
    assert_valid_html(refused.get_data(as_text=True))
    assert writing.draft(rows()[0]).body == "Dear Azat,\n\nI read about the trial."
    client.post(link)
    row = rows()[0]
    assert row.status == REVIEW
    assert writing.draft(row).body == "Dear Azat,\n\nI read about the trial."


def test_highlighting_escapes_the_letter_text(client, app):
    make_drive()
    settings.set_guidance(SLUG, "en", risky_words="war")
    link = confirm_link(client, body="<script>alert('war')</script> & <b>war</b> is over")
    page = client.get(link).get_data(as_text=True)
    assert "<script>alert" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#39;<mark>war</mark>&#39;)&lt;/script&gt; &amp; " \
           "&lt;b&gt;<mark>war</mark>&lt;/b&gt; is over" in page
    assert_valid_html(page)


@pytest.mark.parametrize("problem", ["invalid", "tampered", "expired", "closed"])
def test_confirm_link_problems_have_clear_pages(client, app, problem):
    make_drive()
    link = confirm_link(client)
    expected = {"invalid": (404, "This link does not work"),
                "tampered": (404, "This link does not work"),
                "expired": (410, "This link has expired"),
                "closed": (409, "This letter drive is closed")}[problem]
    if problem == "invalid":
        link = "/drive/confirm/nonsense"
    elif problem == "tampered":
        link = link[:-3] + ("abc" if not link.endswith("abc") else "xyz")
    elif problem == "expired":
        row = rows()[0]
        row.link_issued_at = utcnow() - dt.timedelta(days=10)
        db.session.commit()
    else:
        from petition.letters import operations as letters

        letters.set_status(SLUG, CLOSED)
    for response in (client.get(link + "?lang=en"), client.post(link + "?lang=en"),
                     client.post(link + "?lang=en", data={"body": "New text"})):
        assert response.status_code == expected[0], problem
        assert expected[1] in text_of(response)
        assert_valid_html(response.get_data(as_text=True))
    assert rows()[0].status == PENDING


# --- the writer's private page ----------------------------------------------------------------


def test_the_writer_page_says_each_state_in_words(client, app):
    letter = make_drive()
    row = written(letter)
    link = f"/drive/letter/{writer_token_of(row)}?lang=en"
    page = text_of(client.get(link))
    assert "Confirmed: it counts, and waits for the organisers to read it." in page
    assert "We think of you every day." in page
    review.approve(row.public_id)
    assert "it waits for its translation into Russian" in text_of(client.get(link))
    review.translate(row.public_id, LETTER_RU)
    assert "Approved: it will be sent with the next batch" in text_of(client.get(link))
    batch = batches.create_batch(SLUG)
    batches.mark_sent(batch.public_id, on=dt.date(2026, 12, 1))
    page = text_of(client.get(link))
    assert "Sent on December 1, 2026." in page
    assert "Withdraw my letter" not in page
    assert client.post(link.replace("?", "/withdraw?")).status_code == 409
    pending = writing.write(letter, writing.LetterDetails(
        name="P", country="FR", email="p@example.org", letter_lang="en", body="Hello",
        publish="no", lang="en"))
    assert pending is not None
    assert "Waiting for your confirmation" in text_of(
        client.get(f"/drive/letter/{writer_token_of(pending)}?lang=en"))
    rejected = written(letter, email="r@example.org")
    review.reject(rejected.public_id)
    assert "Not accepted" in text_of(
        client.get(f"/drive/letter/{writer_token_of(rejected)}?lang=en"))
    assert client.get("/drive/letter/nonsense").status_code == 404


def test_the_writer_withdraws_the_letter(client, app):
    letter = make_drive()
    row = written(letter)
    token = writer_token_of(row)
    page = client.get(f"/drive/letter/{token}?lang=en")
    assert page.headers["Cache-Control"] == "no-store"
    assert_valid_html(page.get_data(as_text=True))
    assert f'action="/drive/letter/{token}/withdraw"' in page.get_data(as_text=True)
    done = client.post(f"/drive/letter/{token}/withdraw?lang=en")
    assert done.status_code == 200
    assert "Your letter is withdrawn" in text_of(done)
    assert "your address are deleted" in text_of(done)
    assert_valid_html(done.get_data(as_text=True))
    [stored] = rows()
    assert stored.status == WITHDRAWN and stored.body_encrypted is None
    assert stored.email_encrypted is None
    later = text_of(client.get(f"/drive/letter/{token}?lang=en"))
    assert "Withdrawn: its text" in later and "We think of you" not in later
    assert "0 letters written" in text_of(client.get(PAGE + "?lang=en"))


def test_a_returned_letter_is_changed_and_sent_again(client, app):
    make_drive()
    row = written()
    token = writer_token_of(row)
    edit = f"/drive/letter/{token}/edit"
    # Only a returned letter can be changed.
    assert client.post(edit, data={"body": "New"}).status_code == 409
    review.return_to_writer(row.public_id, "Please <b>leave out</b> the lectures.")
    page = client.get(f"/drive/letter/{token}?lang=en")
    text = page.get_data(as_text=True)
    assert_valid_html(text)
    assert "The organisers returned your letter" in text_of(page)
    assert "Please &lt;b&gt;leave out&lt;/b&gt; the lectures." in text
    assert f'action="{edit}"' in text and 'name="body"' in text
    refused = client.post(edit + "?lang=en", data={"body": ""})
    assert refused.status_code == 400 and "Please write your letter." in text_of(refused)
    assert rows()[0].status == RETURNED
    response = client.post(edit, data={"body": "Dear Azat,\n\nWe think of you."})
    assert response.status_code == 303
    assert rows()[0].status == REVIEW
    assert writing.draft(rows()[0]).body == "Dear Azat,\n\nWe think of you."
    assert "waits for the organisers to read it" in text_of(
        client.get(response.headers["Location"] + "?lang=en"))


def test_the_writer_page_speaks_the_writers_language(client, app):
    make_drive()
    row = written(lang="ru")
    page = text_of(client.get(f"/drive/letter/{writer_token_of(row)}"))
    assert html_lang(page) == "ru"
    assert "Отозвать письмо" in page


# --- the JSON, the home page, and what is public ------------------------------------------------


def test_the_json_counts_letters_and_carries_no_text(client, app):
    letter = make_drive(goal=1000, deadline=dt.date(2099, 2, 15))
    shown = written(letter, publish="full")
    written(letter, email="b@example.org", country="DE", letter_lang="ru", body=LETTER_RU)
    review.approve(shown.public_id)
    response = client.get(PAGE + ".json")
    figures = response.get_json()
    assert figures["kind"] == "letter-drive"
    assert (figures["total"], figures["written"], figures["sent"], figures["countries"],
            figures["goal"], figures["deadline"]) == (2, 2, 0, 2, 1000, "2099-02-15")
    raw = response.get_data(as_text=True)
    assert "Azat" not in raw and "Marie" not in raw and "Мы думаем" not in raw
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    # An open letter's JSON is as it was.
    make_signature(make_letter(goal=10))
    plain = client.get("/letters/appeal.json").get_json()
    assert "kind" not in plain and "written" not in plain and plain["total"] == 1


def test_the_home_page_counts_letters_written(client, app):
    letter = make_drive(goal=1000, deadline=dt.date(2099, 2, 15))
    written(letter)
    page = text_of(client.get("/?lang=en"))
    assert_valid_html(page)
    card = page[page.index("1000 писем Азату"):]
    assert "1 letter written" in card and "signature" not in card.split("</li>")[0]
    assert "Letters are taken until February 15, 2099." in card


def test_no_letter_text_is_public_before_approval_nor_ever_without_publish(client, app):
    letter = make_drive()
    full = written(letter, name="Marie Dupont", body="Full text, may be shown.",
                   publish="full")
    initials = written(letter, name="Jean-Paul Sartre", email="j@example.org",
                       body="Initials text, may be shown.", publish="initials")
    private = written(letter, name="Secret Writer", email="s@example.org",
                      body="Private text, never shown.", publish="no")
    texts = ("Full text", "Initials text", "Private text", "Marie", "Jean-Paul", "Secret")

    def public_pages() -> str:
        return "".join(client.get(url).get_data(as_text=True) for url in (
            PAGE + "?lang=en", PAGE + "?lang=ru", PAGE + ".json", "/?lang=en",
            f"/letters/{SLUG}/signatories.txt", f"/letters/{SLUG}/signatories.html"))

    seen = public_pages()
    assert not [text for text in texts if text in seen]
    for row in (full, initials, private):
        review.approve(row.public_id)
    review.translate(full.public_id, "Полный текст.")
    seen = public_pages()
    assert "Full text, may be shown." in seen and "Marie Dupont" in seen
    assert "Полный текст." in seen
    assert "Initials text, may be shown." in seen and "J.-P. S." in seen
    assert "Jean-Paul" not in seen
    assert "Private text" not in seen and "Secret" not in seen
    page = client.get(PAGE + "?lang=en").get_data(as_text=True)
    assert_valid_html(page)
    assert "Translation into Russian" in page
    # Withdrawn after publication: gone from the page.
    writing.withdraw(writer_token_of(full))
    assert "Full text" not in public_pages()


def test_mail_templates_are_translated(client, app):
    make_drive()
    client.post(WRITE + "?lang=ru", data=letter_form(email="ru@example.org"))
    message = rendered(outbox("drive_confirm")[-1])
    assert "Подтвердить письмо" in message.html and "Здравствуйте" in message.text
    row = rows()[0]
    writing.confirm(confirm_token())
    review.return_to_writer(row.public_id, "Уберите, пожалуйста, фамилию судьи.")
    returned = rendered(outbox("drive_returned")[-1])
    assert "Уберите, пожалуйста" in returned.text and "отправить снова" in returned.text
    assert returned.subject == "Ваше письмо"


def test_the_writers_links_are_masked_in_logs(app):
    from petition.core.log_scrubbing import mask_tokens

    make_drive()
    row = written()
    token = writer_token_of(row)
    for path in (f"/drive/letter/{token}", f"/drive/letter/{token}/withdraw",
                 f"/drive/confirm/{token}"):
        masked = mask_tokens(f'"POST {path} HTTP/1.1" 200')
        assert token not in masked and "<token>" in masked
    assert mask_tokens("GET /letters/letters-to-azat HTTP/1.1") == \
        "GET /letters/letters-to-azat HTTP/1.1"
