"""News subscriptions: the box on the sign form, confirmed by the signature's own link, kept
encrypted apart from the signature, ended in one click (RFC 8058), by withdrawal or erasure
as the person chooses, and by the letter's retention."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import func, select, text

from petition import addresses, tokens
from petition.extensions import db
from petition.models import CLOSED, PETITION, Signature, SignatureVersion, utcnow
from petition.models.accounts import AuditEvent
from petition.models.news import NewsSubscriber
from petition.news import subscriptions
from petition.privacy import retention
from petition.signatures import curation
from tests.admin_helpers import signed_in_client
from tests.conftest import EMAIL_KEY
from tests.factories import make_letter
from tests.helpers import assert_valid_html, confirm_token_from, mails_to, sign_form, statements
from tests.test_withdrawal import withdraw_token_from

ADDRESS = "news.reader@example.org"
UNSUBSCRIBE_RE = re.compile(r"^http://localhost/news/unsubscribe/([A-Za-z0-9_.\-]+)$")


def subscribers() -> list[NewsSubscriber]:
    db.session.expire_all()
    return list(db.session.scalars(select(NewsSubscriber).order_by(NewsSubscriber.id)))


def sign(client, email: str = ADDRESS, lang: str = "en", **fields):
    response = client.post(f"/letters/appeal/sign?lang={lang}",
                           data=sign_form(email=email, **fields))
    assert response.status_code == 303, response.get_data(as_text=True)


def confirm_last(client, email: str = ADDRESS, lang: str = "en") -> str:
    """Confirm with the last mail's link; the page."""
    page = client.post(f"/confirm/{confirm_token_from(mails_to(email)[-1])}?lang={lang}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def subscribed(client, email: str = ADDRESS, lang: str = "en") -> NewsSubscriber:
    sign(client, email, lang, news="y")
    confirm_last(client, email)
    [subscriber] = [row for row in subscribers() if subscriptions.email_of(row) == email]
    return subscriber


def unsubscribe_token(subscriber: NewsSubscriber) -> str:
    match = UNSUBSCRIBE_RE.match(subscriptions.unsubscribe_url(subscriber))
    assert match, subscriptions.unsubscribe_url(subscriber)
    return match.group(1)


# --- The form and the confirmation -----------------------------------------------------------

@pytest.mark.parametrize("kind", ["open-letter", PETITION])
def test_the_form_has_the_box_unticked_before_consent(client, app, kind):
    make_letter(kind=kind)
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="news"[^>]*>', page)
    assert box and "checked" not in box.group(0) and 'type="checkbox"' in box.group(0)
    assert "Send me news about this campaign" in page
    assert "each with a one-click unsubscribe" in page
    assert page.index('name="news"') < page.index('name="consent"')
    assert_valid_html(page)


def test_ticked_the_confirmation_link_subscribes_the_address_encrypted_in_its_language(client,
                                                                                    app):
    make_letter()
    sign(client, lang="ru", news="y")
    pending = db.session.scalar(select(Signature))
    assert pending.news is True
    assert subscribers() == []  # nothing before the link is used
    page = confirm_last(client)
    assert "You will receive news about this campaign; every mail has a link to stop." in page
    [subscriber] = subscribers()
    assert subscriber.lang == "ru"
    assert subscriber.email_hash == addresses.email_hash(ADDRESS)
    assert ADDRESS.encode() not in bytes(subscriber.email_encrypted)
    assert subscriptions.email_of(subscriber) == ADDRESS
    # The signature forgot the address as always; the subscription kept it, apart.
    signature = db.session.scalar(select(Signature))
    assert signature.email_encrypted is None and signature.news is True
    assert subscriptions.count(signature.letter_id) == 1
    # No column of any row holds the address in plain text, on either database.
    raw = db.session.execute(text("SELECT * FROM news_subscriber")).all()
    assert not [value for row in raw for value in row
                if isinstance(value, str) and "news.reader" in value]


@pytest.mark.sqlite_only
def test_the_address_is_not_in_the_database_file_in_plain_text(client, app, database_url):
    make_letter()
    subscribed(client)
    db.session.commit()
    path = Path(database_url.removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    assert ADDRESS.encode() not in raw
    # ...but it is there, encrypted: the check can see it.
    opened = []
    for token in re.findall(rb"gAAAAA[A-Za-z0-9_\-]+=*", raw):
        try:
            opened.append(Fernet(EMAIL_KEY.encode()).decrypt(token))
        except InvalidToken:
            continue
    assert ADDRESS.encode() in opened


def test_unticked_nobody_is_subscribed(client, app):
    make_letter()
    sign(client)
    page = confirm_last(client)
    assert "You will receive news" not in page
    assert subscribers() == []
    assert db.session.scalar(select(Signature.news)) is False


def test_signing_twice_subscribes_once(client, app):
    make_letter()
    sign(client, news="y")
    sign(client, news="y")  # the same details again: the same link, mailed again
    confirm_last(client)
    assert len(subscribers()) == 1
    # Signing again once confirmed ("already signed") adds nothing either.
    sign(client, news="y")
    assert len(subscribers()) == 1
    # Nor does subscribing the address again, by its hash.
    letter_id = subscribers()[0].letter_id
    again = subscriptions.subscribe(letter_id, ADDRESS, "fr")
    db.session.commit()
    assert len(subscribers()) == 1 and again.lang == "en"


def test_a_resubmission_confirms_its_own_box(client, app):
    """Each link confirms exactly its submission: the box included."""
    make_letter()
    sign(client)  # unticked
    first_mail = mails_to(ADDRESS)[-1]
    sign(client, news="y")  # the same details, ticked: a link of its own
    second_mail = mails_to(ADDRESS)[-1]
    assert first_mail.id != second_mail.id
    version = db.session.scalar(select(SignatureVersion))
    assert version is not None and version.news is True
    ask = client.get(f"/confirm/{confirm_token_from(second_mail)}?lang=en")
    assert "You also asked for news about this campaign" in ask.get_data(as_text=True)
    assert client.post(f"/confirm/{confirm_token_from(second_mail)}").status_code == 200
    assert len(subscribers()) == 1
    assert db.session.scalar(select(Signature.news)) is True


def test_the_first_link_of_a_resubmission_keeps_its_unticked_box(client, app):
    make_letter()
    sign(client)
    first_mail = mails_to(ADDRESS)[-1]
    sign(client, news="y")
    assert client.post(f"/confirm/{confirm_token_from(first_mail)}").status_code == 200
    assert subscribers() == []


def test_a_held_signature_still_subscribes_its_confirmed_address(client, app):
    make_letter(moderate_organizations=True)
    sign(client, news="y")
    confirm_last(client)
    assert len(subscribers()) == 1


def test_a_confirmation_with_news_sends_one_more_statement_only(client, app):
    make_letter()
    sign(client, email="plain@example.org")
    sign(client, news="y")
    plain_token = confirm_token_from(mails_to("plain@example.org")[-1])
    news_token = confirm_token_from(mails_to(ADDRESS)[-1])
    db.session.close()
    with statements() as plain:
        assert client.post(f"/confirm/{plain_token}").status_code == 200
    db.session.close()
    with statements() as news:
        assert client.post(f"/confirm/{news_token}").status_code == 200
    assert not [sql for sql in plain if "news_subscriber" in sql]
    inserts = [sql for sql in news if sql.startswith("INSERT INTO news_subscriber")]
    assert len(inserts) == 1
    assert len(news) == len(plain) + 1, (plain, news)
    assert len(subscribers()) == 1


def test_the_scripted_form_post_takes_news(client, app):
    """The documented form fields: `news=y` subscribes, as the box does."""
    make_letter()
    response = client.post("/letters/appeal/sign", data={
        "signer_type": "organization", "name": "Script Org", "country": "FR",
        "email": ADDRESS, "display": "full", "consent": "y", "news": "y"})
    assert response.status_code == 303
    confirm_last(client)
    assert len(subscribers()) == 1


# --- Unsubscribing ----------------------------------------------------------------------------

def test_the_unsubscribe_link_shows_the_letter_and_one_button(client, app):
    make_letter(title="Libérez le mathématicien")
    token = unsubscribe_token(subscribed(client))
    page = client.get(f"/news/unsubscribe/{token}?lang=en")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Libérez le mathématicien" in body
    assert body.count("<button") == 1 and "Stop the news" in body
    assert_valid_html(body)
    assert len(subscribers()) == 1  # GET never unsubscribes (mail scanners open links)


def test_a_one_click_post_unsubscribes_without_csrf_token_or_cookie(client, app):
    make_letter()
    token = unsubscribe_token(subscribed(client))
    app.config["WTF_CSRF_ENABLED"] = True
    provider = app.test_client(use_cookies=False)  # a mail provider's server: no cookie
    response = provider.post(f"/news/unsubscribe/{token}", data="List-Unsubscribe=One-Click",
                             content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert "You will receive no more news" in response.get_data(as_text=True)
    assert subscribers() == []
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "news.unsubscribe"))
    assert event.actor == "subscriber" and event.letter_slug == "appeal"
    assert ADDRESS not in event.detail and token not in event.detail
    # The exemption is this view's alone: another form still needs its token.
    assert provider.post("/letters/appeal/sign", data=sign_form()).status_code == 400
    # The link used again: a clear page, not an error.
    again = client.get(f"/news/unsubscribe/{token}?lang=en")
    assert again.status_code == 404
    assert "You are no longer subscribed" in again.get_data(as_text=True)
    assert provider.post(f"/news/unsubscribe/{token}").status_code == 404


@pytest.mark.parametrize("token", ["nonsense", "a.b.c", "x" * 300])
def test_a_bad_link_says_it_does_not_work(client, app, token):
    make_letter()
    for response in (client.get(f"/news/unsubscribe/{token}?lang=en"),
                     client.post(f"/news/unsubscribe/{token}?lang=en")):
        assert response.status_code == 404
        assert "This link does not work" in response.get_data(as_text=True)


def test_a_token_of_another_purpose_does_not_unsubscribe(client, app):
    make_letter()
    subscriber = subscribed(client)
    forged = tokens.confirm_token(subscriber.public_id, subscriber.token_nonce)
    assert client.post(f"/news/unsubscribe/{forged}").status_code == 404
    assert len(subscribers()) == 1
    assert subscriptions.find_by_token(forged) is None
    assert subscriptions.find_by_token(unsubscribe_token(subscriber)).id == subscriber.id


def test_the_page_speaks_the_subscribers_language(client, app):
    make_letter()
    token = unsubscribe_token(subscribed(client, lang="fr"))
    # A mail opened in another browser: no language chosen there (no cookie).
    page = app.test_client().get(f"/news/unsubscribe/{token}").get_data(as_text=True)
    assert 'lang="fr"' in page and "Arrêter les nouvelles" in page


# --- Withdrawal and erasure -------------------------------------------------------------------

def _signed_with_news(client) -> str:
    """Sign with news, confirm; the withdrawal token from the mail."""
    sign(client, news="y")
    mail = mails_to(ADDRESS)[-1]
    withdraw_token = withdraw_token_from(mail)
    confirm_last(client)
    assert len(subscribers()) == 1
    return withdraw_token


def test_withdrawing_stops_the_news_by_default(client, app):
    make_letter()
    token = _signed_with_news(client)
    page = client.get(f"/withdraw/{token}?lang=en").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="stop_news"[^>]*>', page)
    assert box and "checked" in box.group(0)
    assert "Also stop the news about this campaign" in page
    assert_valid_html(page)
    done = client.post(f"/withdraw/{token}?lang=en",
                       data={"news_choice": "1", "stop_news": "y"})
    assert done.status_code == 200
    assert "also deleted from the list of those who asked for news" in done.get_data(as_text=True)
    assert subscribers() == [] and db.session.scalar(select(func.count(Signature.id))) == 0


def test_withdrawing_with_the_box_unticked_keeps_the_news(client, app):
    make_letter()
    token = _signed_with_news(client)
    done = client.post(f"/withdraw/{token}?lang=en", data={"news_choice": "1"})
    assert done.status_code == 200
    assert "asked for news" not in done.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Signature.id))) == 0
    [kept] = subscribers()
    assert subscriptions.email_of(kept) == ADDRESS


def test_the_withdraw_page_offers_no_choice_without_a_subscription(client, app):
    make_letter()
    sign(client)
    token = withdraw_token_from(mails_to(ADDRESS)[-1])
    confirm_last(client)
    page = client.get(f"/withdraw/{token}?lang=en").get_data(as_text=True)
    assert "stop_news" not in page


def test_an_organiser_erasing_a_signature_chooses_for_the_news(client, app):
    letter = make_letter()
    sign(client, email="keep@example.org", news="y")
    confirm_last(client, "keep@example.org")
    sign(client, email="end@example.org", news="y")
    confirm_last(client, "end@example.org")
    keep, end = (db.session.scalar(select(Signature.public_id).where(
        Signature.email_hash == addresses.email_hash(email)))
        for email in ("keep@example.org", "end@example.org"))
    curation.delete(letter, keep, end_news=False)
    organiser = signed_in_client(app)
    page = organiser.get(f"/admin/letters/appeal/signatures/{end}?lang=en")
    assert 'name="stop_news"' in page.get_data(as_text=True)
    response = organiser.post(f"/admin/letters/appeal/signatures/{end}", data={
        "do": "delete", "confirm": "yes", "news_choice": "1", "stop_news": "y"})
    assert response.status_code == 303
    assert [subscriptions.email_of(row) for row in subscribers()] == ["keep@example.org"]


def test_nothing_to_find_once_the_fingerprint_is_erased(client, app):
    letter = make_letter()
    sign(client, news="y")
    confirm_last(client)
    signature = db.session.scalar(select(Signature))
    signature.email_hash = None  # as retention leaves it
    db.session.commit()
    curation.delete(letter, signature.public_id)
    assert len(subscribers()) == 1


# --- Retention, key rotation, the back office ---------------------------------------------------

def test_retention_erases_the_letters_subscribers(client, app, runner):
    letter = make_letter()
    subscribed(client)
    other = make_letter("other")
    subscriptions.subscribe(other.id, "elsewhere@example.org", "en")
    db.session.commit()
    letter.status, letter.closed_at = CLOSED, utcnow() - dt.timedelta(days=100)
    db.session.commit()
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "1 news subscriber(s)" in result.output
    assert [subscriptions.email_of(row) for row in subscribers()] == ["elsewhere@example.org"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "retention.erase"))
    assert "news_subscribers_deleted=1" in event.detail


def test_retention_reports_subscribers_alone(client, app):
    """A letter whose fingerprints went already still loses a list made since."""
    letter = make_letter(status=CLOSED, closed_at=utcnow() - dt.timedelta(days=100))
    assert [e.subscribers for e in retention.run()] == [0]
    subscriptions.subscribe(letter.id, ADDRESS, "en")
    db.session.commit()
    assert [e.subscribers for e in retention.run()] == [1]
    assert subscribers() == []


def test_key_rotation_keeps_subscribers_readable(client, app, runner):
    make_letter()
    subscribed(client)
    new_key = Fernet.generate_key().decode()
    app.config["EMAIL_KEY"] = new_key
    result = runner.invoke(args=["keys", "rotate", "--old-key-stdin"], input=EMAIL_KEY + "\n")
    assert result.exit_code == 0, result.output
    assert "news_subscriber.email_encrypted: 1 re-encrypted" in result.output
    [subscriber] = subscribers()
    assert Fernet(new_key.encode()).decrypt(bytes(subscriber.email_encrypted)) == ADDRESS.encode()
    assert subscriptions.find_by_hash(subscriber.letter_id,
                                      addresses.email_hash(ADDRESS)).id == subscriber.id


def test_the_back_office_counts_subscribers_and_never_lists_them(client, app):
    make_letter()
    subscribed(client)
    subscribed(client, email="second.reader@example.org")
    page = signed_in_client(app).get("/admin/letters/appeal?lang=en").get_data(as_text=True)
    assert "2 people asked for news." in page
    assert "news.reader" not in page and "second.reader" not in page
