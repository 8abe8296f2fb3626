"""News updates: written per language, previewed, tested, sent through the outbox at a
rate, delivered in each subscriber's language with one-click unsubscribe (RFC 8058)."""
from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from petition import addresses
from petition.extensions import db
from petition.mail import dispatcher
from petition.models import MAIL_DROPPED, MAIL_SENT, LetterText, OutboxMail
from petition.models.accounts import AuditEvent
from petition.models.news import NEWS_DRAFT, NEWS_SENT, NewsSubscriber, NewsUpdate
from petition.news import mails, subscriptions, updates
from petition.news.updates import NewsError, Text
from tests.admin_helpers import signed_in_client
from tests.factories import make_letter
from tests.helpers import assert_valid_html, confirm_token_from, mails_to, sign_form
from tests.smtp_server import smtp_server

TEXTS = {
    "fr": ("La réponse du ministère", "Le ministère a **répondu** à notre lettre."),
    "en": ("The ministry's answer", "The ministry has **answered** our letter."),
    "ru": ("Ответ министерства", "Министерство **ответило** на наше письмо."),
}
ADDRESSES = {"fr": "marie@example.org", "en": "john@example.org", "ru": "olga@example.org"}


def letter_in_three_languages(slug: str = "appeal"):
    letter = make_letter(slug, lang="fr")
    letter.texts.append(LetterText(lang="en", title="Free the mathematician", body="We ask."))
    letter.texts.append(LetterText(lang="ru", title="Свободу математику", body="Мы просим."))
    db.session.commit()
    return letter


def subscribe_three(letter) -> dict[str, NewsSubscriber]:
    # Rows as a confirmed signature with the news box ticked leaves them (the sign form's
    # side is tested with signing).
    found = {lang: subscriptions.subscribe(letter.id, email, lang)
             for lang, email in ADDRESSES.items()}
    db.session.commit()
    return found


def sign_for_news_and_confirm(client) -> dict[str, NewsSubscriber]:
    """The three subscribe as the public does: the sign form in their language with the
    news box ticked, then the confirmation link."""
    for lang, email in ADDRESSES.items():
        response = client.post(f"/letters/appeal/sign?lang={lang}",
                               data=sign_form(email=email, name=f"Signatory {lang}", news="y"))
        assert response.status_code == 303
        [mail] = mails_to(email)
        assert client.post(f"/confirm/{confirm_token_from(mail)}").status_code == 200
    db.session.expire_all()
    found = {row.lang: row for row in db.session.scalars(select(NewsSubscriber))}
    assert {lang: subscriptions.email_of(row) for lang, row in found.items()} == ADDRESSES
    return found


def texts(langs=("fr", "en", "ru")) -> dict[str, Text]:
    return {lang: Text(*TEXTS[lang]) for lang in langs}


def write_folder(folder: Path, langs=("fr", "en", "ru")) -> Path:
    folder.mkdir(exist_ok=True)
    for lang in langs:
        subject, body = TEXTS[lang]
        (folder / f"{lang}.md").write_text(f"# {subject}\n\n{body}\n", encoding="utf-8")
    return folder


def path_of(url: str) -> str:
    return url.removeprefix("http://localhost")


def news_rows() -> list[OutboxMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMail).where(OutboxMail.kind == mails.NEWS)
                                   .order_by(OutboxMail.id)))


def audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_an_update_reaches_each_subscriber_in_their_language_and_not_the_unsubscribed(
        app, runner, tmp_path):
    """Done when: 3 subscribers in 3 languages, one unsubscribed by a one-click POST; the
    update goes through the real SMTP server to the other two only, each in their language,
    with both headers, and the header's URL unsubscribes."""
    letter = letter_in_three_languages()
    client = app.test_client()
    subscribers = sign_for_news_and_confirm(client)
    app.config["WTF_CSRF_ENABLED"] = True  # the one-click POST carries no token
    app.config["NEWS_MAILS_PER_MINUTE"] = 600  # 0.1 s apart
    # RFC 8058: the mail provider POSTs the body below, no cookie, no token.
    response = client.post(path_of(subscriptions.unsubscribe_url(subscribers["ru"])),
                           data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert subscriptions.count(letter.id) == 2

    result = runner.invoke(args=["news", "send", "appeal", str(write_folder(tmp_path / "u"))])
    assert result.exit_code == 0, result.output
    assert re.search(r"queued 2 mail\(s\), sent at 600 a minute", result.output)
    rows = news_rows()
    assert all(row.recipient_encrypted is None and row.body_text is None for row in rows)

    time.sleep(0.3)  # the second mail is due 0.1 s after the first
    with smtp_server() as server:
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{server.port}"
        sent = runner.invoke(args=["mail", "send"])
    assert "Sent 2, deferred 0, failed 0." in sent.output, sent.output
    received = {item.rcpt_tos[0]: item.message for item in server.received}
    assert sorted(received) == sorted([ADDRESSES["fr"], ADDRESSES["en"]])  # not olga
    for lang in ("fr", "en"):
        message = received[ADDRESSES[lang]]
        subject, body = TEXTS[lang]
        assert message["Subject"] == subject
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        assert body in text and body.split("**")[1] in html and "<strong>" in html
        assert f'lang="{lang}"' in html
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = re.fullmatch(r"<(http://localhost/news/unsubscribe/[^>]+)>",
                           message["List-Unsubscribe"])[1]
        assert url in text and url in html
    assert [row.status for row in news_rows()] == [MAIL_SENT, MAIL_SENT]

    # The header's URL works as a mail program uses it: one POST, the subscriber is gone.
    url = re.fullmatch(r"<(.+)>", received[ADDRESSES["en"]]["List-Unsubscribe"])[1]
    response = client.post(path_of(url), data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    remaining = db.session.scalars(select(NewsSubscriber.lang)).all()
    assert remaining == ["fr"]
    news = db.session.scalars(select(NewsUpdate)).one()
    assert news.status == NEWS_SENT and news.recipients == 2 and news.created_by == "cli"
    assert updates.figures([news.id])[news.id] == updates.Figures(sent=2)
    assert [event.actor for event in audit("news.send")] == ["cli"]
    assert news.public_id in audit("news.send")[0].detail


def test_mails_are_spaced_at_the_configured_rate(app):
    letter = letter_in_three_languages()
    subscribe_three(letter)
    app.config["NEWS_MAILS_PER_MINUTE"] = 60
    news = updates.create_update("appeal", texts(), actor="org@example.org")
    sent = updates.send("appeal", news.public_id, actor="org@example.org")
    rows = news_rows()
    assert sent.recipients == 3 and len(rows) == 3
    gaps = [later.next_attempt_at - earlier.next_attempt_at
            for earlier, later in zip(rows, rows[1:], strict=False)]
    assert gaps == [dt.timedelta(seconds=1)] * 2
    assert sent.last_due == rows[-1].next_attempt_at
    assert {row.lang for row in rows} == {"fr", "en", "ru"}
    assert all(row.news_update_id == news.id and row.news_subscriber_id for row in rows)


def test_a_confirmation_queued_after_a_send_goes_before_the_later_news(app):
    letter = letter_in_three_languages()
    subscribe_three(letter)
    app.config["NEWS_MAILS_PER_MINUTE"] = 1  # a minute apart
    news = updates.create_update("appeal", texts(), actor="org@example.org")
    updates.send("appeal", news.public_id, actor="org@example.org")
    from petition.mail import outbox
    outbox.enqueue(kind="confirm", to="late@example.org", subject="Confirm",
                   text="http://localhost/confirm/x\n")
    db.session.commit()
    report = dispatcher.dispatch(None)
    assert report.sent == 2  # the first news mail and the confirmation; the rest wait
    statuses = [row.status for row in news_rows()]
    assert statuses == [MAIL_SENT, "queued", "queued"]


def test_a_subscriber_gone_before_delivery_is_dropped_not_mailed(app):
    letter = letter_in_three_languages()
    subscribers = subscribe_three(letter)
    news = updates.create_update("appeal", texts(), actor="org@example.org")
    updates.send("appeal", news.public_id, actor="org@example.org")
    subscriptions.unsubscribe(subscribers["en"])
    db.session.commit()
    db.session.execute(update(OutboxMail).values(next_attempt_at=dt.datetime(2000, 1, 1)))
    db.session.commit()
    with smtp_server() as server:
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{server.port}"
        report = dispatcher.dispatch(None)
    assert (report.sent, report.dropped) == (2, 1)
    assert ADDRESSES["en"] not in {item.rcpt_tos[0] for item in server.received}
    dropped = [row for row in news_rows() if row.status == MAIL_DROPPED]
    assert len(dropped) == 1 and "unsubscribed" in dropped[0].last_error
    assert updates.figures([news.id])[news.id] == updates.Figures(sent=2, dropped=1)


def test_a_missing_language_gets_the_letters_own(app):
    letter = letter_in_three_languages()
    subscribe_three(letter)
    news = updates.create_update("appeal", texts(("fr", "en")), actor="org@example.org")
    updates.send("appeal", news.public_id, actor="org@example.org")
    ru_row = next(row for row in news_rows() if row.lang == "ru")
    made = dispatcher.preview(ru_row.id)
    assert made.subject == TEXTS["fr"][0] and made.to == ADDRESSES["ru"]
    assert "Se désabonner en un clic" in made.text  # the mail's own words in French too


def test_a_test_goes_only_to_the_test_address_and_is_not_counted(app, runner, tmp_path):
    letter = letter_in_three_languages()
    subscribe_three(letter)
    with smtp_server() as server:
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{server.port}"
        result = runner.invoke(args=["news", "send", "appeal", str(write_folder(tmp_path / "u")),
                                     "--test-to", "me@example.org"])
        assert result.exit_code == 0, result.output
        assert "Queued 3 test mail(s)" in result.output
        runner.invoke(args=["mail", "send"])
    assert {item.rcpt_tos[0] for item in server.received} == {"me@example.org"}
    subjects = sorted(item.message["Subject"] for item in server.received)
    assert subjects == sorted([f"[Test] {TEXTS['fr'][0]}", f"[Test] {TEXTS['en'][0]}",
                               f"[Тест] {TEXTS['ru'][0]}"])  # the mark in each language
    assert news_rows() == [] and db.session.scalar(select(func.count(NewsUpdate.id))) == 0
    assert [event.actor for event in audit("news.test")] == ["cli"]
    assert "me@example.org" not in audit("news.test")[0].detail


def test_a_second_send_is_refused(app):
    letter = letter_in_three_languages()
    subscribe_three(letter)
    news = updates.create_update("appeal", texts(), actor="org@example.org")
    updates.send("appeal", news.public_id, actor="org@example.org")
    with pytest.raises(NewsError, match="already sent"):
        updates.send("appeal", news.public_id, actor="org@example.org")
    with pytest.raises(NewsError, match="already sent"):
        updates.edit_update("appeal", news.public_id, texts(), actor="org@example.org")
    assert len(news_rows()) == 3 and len(audit("news.send")) == 1


def test_no_subscribers_refused_and_nothing_written(app, runner, tmp_path):
    letter_in_three_languages()
    news = updates.create_update("appeal", texts(), actor="org@example.org")
    with pytest.raises(NewsError, match="nobody has subscribed"):
        updates.send("appeal", news.public_id, actor="org@example.org")
    db.session.expire_all()
    assert db.session.get(NewsUpdate, news.id).status == NEWS_DRAFT
    result = runner.invoke(args=["news", "send", "appeal", str(write_folder(tmp_path / "u"))])
    assert result.exit_code == 1 and "nobody has subscribed" in result.output
    assert db.session.scalar(select(func.count(NewsUpdate.id))) == 1  # the draft above only
    assert news_rows() == [] and audit("news.send") == []


@pytest.mark.parametrize("name, problem", [
    ("de.md", "the letter has no text in de"),
    ("notes.txt", "notes.txt: expected one file per language"),
])
def test_cli_refuses_a_folder_it_cannot_read_entirely(app, runner, tmp_path, name, problem):
    letter = letter_in_three_languages()
    subscribe_three(letter)
    folder = write_folder(tmp_path / "u")
    (folder / name).write_text("Subject\n\nBody\n", encoding="utf-8")
    result = runner.invoke(args=["news", "send", "appeal", str(folder)])
    assert result.exit_code == 1 and problem in result.output
    assert db.session.scalar(select(func.count(NewsUpdate.id))) == 0 and news_rows() == []


def test_cli_counts_subscribers(app, runner):
    letter = letter_in_three_languages()
    subscribe_three(letter)
    assert runner.invoke(args=["news", "subscribers", "appeal"]).output.strip() == "3"
    result = runner.invoke(args=["news", "subscribers", "nope"])
    assert result.exit_code == 1 and "no letter" in result.output


def test_checks_of_the_texts(app):
    letter_in_three_languages()
    cases = [
        ({"fr": Text("", "Corps")}, "subject in fr is missing"),
        ({"fr": Text("Sujet", "")}, "text in fr is missing"),
        ({"en": Text("Subject", "Body")}, "letter's own language"),
        ({"fr": Text("x" * 301, "Corps")}, "longer than 300"),
        ({"fr": Text("Sujet", "x" * 20_001)}, "longer than 20000"),
        ({"fr": Text("Sujet\u202e", "Corps")}, "control characters"),
        ({"fr": Text("Sujet", "Corps"), "de": Text("Betreff", "Text")}, "no text in de"),
        ({}, "at least one language"),
    ]
    for typed, problem in cases:
        with pytest.raises(NewsError, match=re.escape(problem)):
            updates.create_update("appeal", typed, actor="org@example.org")
    assert db.session.scalar(select(func.count(NewsUpdate.id))) == 0


def test_preview_renders_markdown_safely(app):
    letter = letter_in_three_languages()
    typed = {"fr": Text("Sujet <b>gras</b>", "Bonjour <script>alert(1)</script> **fort** "
                        "[lien](javascript:alert(2))")}
    [shown] = updates.preview(letter, typed)
    html = str(shown.html_body)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<strong>fort</strong>" in html and 'href="javascript' not in html
    assert "<b>" not in html and "Sujet &lt;b&gt;gras&lt;/b&gt;" in html
    assert "http://localhost/news/unsubscribe/" not in html  # each subscriber's own


def test_admin_writes_previews_tests_and_sends(app):
    letter = letter_in_three_languages()
    subscribe_three(letter)
    client = signed_in_client(app, "org@example.org", "organiser", ("appeal",))
    page = client.get("/admin/letters/appeal").get_data(as_text=True)
    assert "Write an update" in page and "/admin/letters/appeal/news/new" in page
    form = {f"{field}-{lang}": value for lang in ("fr", "en", "ru")
            for field, value in zip(("subject", "body"), TEXTS[lang], strict=True)}
    preview = client.post("/admin/letters/appeal/news/new", data={**form, "action": "preview"})
    assert preview.status_code == 200
    assert "<strong>répondu</strong>" in preview.get_data(as_text=True)
    assert db.session.scalar(select(func.count(NewsUpdate.id))) == 0
    refused = client.post("/admin/letters/appeal/news/new",
                          data={**form, "subject-fr": "", "action": "save"})
    assert refused.status_code == 400 and "subject in fr is missing" in refused.get_data(
        as_text=True)
    saved = client.post("/admin/letters/appeal/news/new", data={**form, "action": "save"})
    assert saved.status_code == 303
    news = db.session.scalars(select(NewsUpdate)).one()
    assert saved.location.endswith(f"/admin/letters/appeal/news/{news.public_id}")
    draft = client.get(saved.location).get_data(as_text=True)
    assert "Send a test to me" in draft and "Send to 3 subscribers" in draft
    for page in (draft, preview.get_data(as_text=True), page_of_letter := client.get(
            "/admin/letters/appeal").get_data(as_text=True)):
        assert_valid_html(page)
    assert "Draft" in page_of_letter

    tested = client.post(f"/admin/letters/appeal/news/{news.public_id}/test")
    assert tested.status_code == 303
    test_rows = db.session.scalars(select(OutboxMail).where(
        OutboxMail.kind == mails.NEWS_TEST)).all()
    assert len(test_rows) == 3
    assert {addresses.decrypt(row.recipient_encrypted) for row in test_rows} == {
        "org@example.org"}
    assert audit("news.test")[0].actor == "org@example.org"

    confirm = client.get(f"/admin/letters/appeal/news/{news.public_id}/send")
    assert "Send this update?" in confirm.get_data(as_text=True)
    assert_valid_html(confirm.get_data(as_text=True))
    assert news_rows() == []  # the GET sends nothing
    sent = client.post(f"/admin/letters/appeal/news/{news.public_id}/send")
    assert sent.status_code == 303 and len(news_rows()) == 3
    again = client.post(f"/admin/letters/appeal/news/{news.public_id}/send",
                        follow_redirects=True)
    assert "already sent" in again.get_data(as_text=True) and len(news_rows()) == 3
    assert "Sent on" in again.get_data(as_text=True)  # the sent update's page, its figures
    assert_valid_html(again.get_data(as_text=True))
    overview = client.get("/admin/letters/appeal").get_data(as_text=True)
    assert TEXTS["fr"][0].replace("'", "&#39;") in overview and "Sent on" in overview
    assert ADDRESSES["fr"] not in overview  # counted, never listed
    assert audit("news.send")[0].actor == "org@example.org"


@pytest.mark.parametrize("email, role, letters, status", [
    ("press@example.org", "press", ("appeal",), 403),
    ("other@example.org", "organiser", (), 404),
])
def test_admin_news_pages_refused(app, email, role, letters, status):
    letter = letter_in_three_languages()
    subscribe_three(letter)
    news = updates.create_update("appeal", texts(), actor="org@example.org")
    client = signed_in_client(app, email, role, letters)
    for url in ("/admin/letters/appeal/news/new", f"/admin/letters/appeal/news/{news.public_id}",
                f"/admin/letters/appeal/news/{news.public_id}/send"):
        assert client.get(url).status_code == status
    for url in (f"/admin/letters/appeal/news/{news.public_id}/test",
                f"/admin/letters/appeal/news/{news.public_id}/send"):
        assert client.post(url).status_code == status
    assert news_rows() == [] and db.session.scalar(select(func.count(OutboxMail.id))) == 0


def test_admin_unknown_update_is_404(app):
    letter_in_three_languages()
    client = signed_in_client(app, "org@example.org", "organiser", ("appeal",))
    assert client.get("/admin/letters/appeal/news/nope").status_code == 404
    assert client.post("/admin/letters/appeal/news/nope/send").status_code == 404


def test_mail_status_says_news_mails_are_paced_and_retry_requeues_failed_ones(app, runner):
    letter = letter_in_three_languages()
    subscribe_three(letter)
    app.config["NEWS_MAILS_PER_MINUTE"] = 1
    news = updates.create_update("appeal", texts(), actor="org@example.org")
    updates.send("appeal", news.public_id, actor="org@example.org")
    db.session.execute(update(OutboxMail).where(OutboxMail.id == news_rows()[0].id)
                       .values(status="failed", attempts=16))
    db.session.commit()
    status = runner.invoke(args=["mail", "status"]).output
    assert "paced by NEWS_MAILS_PER_MINUTE" in status and "per-address cap" not in status
    # No recipient on the row (read from the subscriber at delivery): still retried.
    assert "Queued 1 failed mail(s) again." in runner.invoke(args=["mail", "retry"]).output
    assert [row.status for row in news_rows()] == ["queued"] * 3


def test_the_console_backend_shows_the_unsubscribe_headers(app, runner):
    letter = letter_in_three_languages()
    subscriptions.subscribe(letter.id, ADDRESSES["en"], "en")
    db.session.commit()
    news = updates.create_update("appeal", texts(), actor="org@example.org")
    updates.send("appeal", news.public_id, actor="org@example.org")
    output = runner.invoke(args=["mail", "send"]).output
    assert f"To: {ADDRESSES['en']}" in output and f"Subject: {TEXTS['en'][0]}" in output
    assert "List-Unsubscribe: <http://localhost/news/unsubscribe/" in output
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in output
