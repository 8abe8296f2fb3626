"""Mails carrying what visitors typed, delivered to a real SMTP server (aiosmtpd): the name
as text in the plain and HTML parts, no header forged by a name, a title or an address, no
recipient added."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.mail import dispatcher
from petition.models import INDIVIDUAL, LetterText
from tests.drive_helpers import make_drive
from tests.factories import make_letter
from tests.helpers import confirm_token_from, outbox, sign_form
from tests.smtp_server import Received, smtp_server

from .payloads import ACCEPTED_NAMES, HEADER_INJECTION, assert_escaped, stored

EXPECTED_HEADERS = {"from", "to", "subject", "date", "message-id", "mime-version",
                    "content-type", "content-transfer-encoding", "auto-submitted",
                    "list-unsubscribe", "list-unsubscribe-post", "list-id", "precedence",
                    "x-auto-response-suppress", "reply-to", "content-language"}


def _deliver(app) -> list[Received]:
    with smtp_server() as server:
        app.config.update(MAIL_URL=f"smtp://127.0.0.1:{server.port}", MAIL_TIMEOUT=5)
        report = dispatcher.dispatch()
        assert report.failed == 0, report
    return server.received


def _check(received: Received, to: str) -> tuple[str, str | None]:
    message = received.message
    assert received.rcpt_tos == [to], received.rcpt_tos
    names = {name.lower() for name in message}
    assert "bcc" not in names and "cc" not in names, names
    assert names <= EXPECTED_HEADERS, names - EXPECTED_HEADERS
    for name, value in message.items():
        assert "\r" not in str(value) and "\n" not in str(value), (name, value)
    assert message["To"].addresses[0].addr_spec == to
    text = message.get_body(("plain",)).get_content()
    html_part = message.get_body(("html",))
    html = html_part.get_content() if html_part else None
    if html:
        assert_escaped(html)
    return text, html


@pytest.mark.parametrize("title", [
    "Appeal\r\nBcc: victim@example.org",
    "Appeal\nSubject: forged <wall-x>",
    "=?utf-8?q?x=0D=0ABcc:_v@example.org?= <wall-x>",
])
def test_signers_mail(app, client, title):
    """A signer's confirmation mail: the name and the organisers' title (even holding a line
    break, as an older row may) forge no header; the HTML part escapes them."""
    make_letter(lang="en", title=title)
    sent = {}
    for number, name in enumerate(ACCEPTED_NAMES):
        email = f"signer{number}@example.org"
        response = client.post("/letters/appeal/sign?lang=en", data=sign_form(
            name=name, email=email, signer_type=INDIVIDUAL, affiliation=name))
        assert response.status_code == 303, name
        sent[email] = stored(name)
    for received in _deliver(app):
        [to] = received.rcpt_tos
        text, html = _check(received, to)
        assert sent[to] in text, (sent[to], text)
        assert "Bcc" not in received.message["Subject"]


def test_header_injection_in_addresses_is_refused(app, client):
    """An address with a line break never reaches the outbox."""
    make_letter()
    for payload in HEADER_INJECTION:
        for email in (f"a@example.org{payload}", f"{payload}@example.org"):
            response = client.post("/letters/appeal/sign?lang=en", data=sign_form(email=email))
            assert response.status_code == 400
    assert outbox() == []


def test_withdrawal_and_already_signed_mails(app, client):
    """The mails sent from the withdraw form and to an address that signed already: the
    names as text."""
    make_letter()
    name = ACCEPTED_NAMES[1]
    client.post("/letters/appeal/sign?lang=en",
                data=sign_form(name=name, email="w@example.org"))
    client.post(f"/confirm/{confirm_token_from(outbox()[-1])}?lang=en")
    client.post("/letters/appeal/sign?lang=en", data=sign_form(name=name, email="w@example.org"))
    client.post("/withdraw?lang=en", data={"email": "w@example.org"})
    received = _deliver(app)
    assert len(received) >= 2
    for mail in received:
        _check(mail, "w@example.org")


def test_drive_mail(app, client):
    """A drive's confirmation mail (which echoes nothing the writer typed but the address)
    forges no header and escapes its HTML."""
    make_drive()
    body = "Dear Azat,\n\n<wall-x>bold</wall-x> & =1+1;=2\n\n\"quoted\" 'single'"
    response = client.post("/letters/letters-to-azat/write?lang=en", data={
        "name": "<wall-x> Marie", "country": "FR", "email": "writer@example.org",
        "language": "en", "body": body, "publish": "full", "consent": "y"})
    assert response.status_code == 303, response.get_data(as_text=True)[-1000:]
    [received] = _deliver(app)
    _check(received, "writer@example.org")


def test_a_title_with_a_line_break_saved_by_the_back_office(app):
    """What the back office saves as a title cannot forge a header in later mails."""
    from tests.admin_helpers import signed_in_client

    make_letter(lang="en")
    root = signed_in_client(app, "root@example.org", "admin", letters=())
    root.post("/admin/letters/appeal/texts?lang=en",
              data={"title-en": "Title\r\nBcc: victim@example.org", "body-en": "Body"})
    title = db.session.scalars(select(LetterText.title)).one()
    client = app.test_client()
    client.post("/letters/appeal/sign?lang=en", data=sign_form(email="t@example.org"))
    [received] = _deliver(app)
    _check(received, "t@example.org")
    assert "\n" not in received.message["Subject"], title


@pytest.mark.parametrize("subject,body", [
    ("News\r\nBcc: victim@example.org", "Hello <wall-x>bold</wall-x> <script>x()</script>"),
    ("<wall-x> =1+1", "[click](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n=1+1"),
    ("x\nSubject: forged", '"><wall-x wallx=1> **ok**'),
])
def test_news_update(app, client, subject, body):
    """A news update typed in the back office: refused, or mailed to each subscriber with
    no forged header and its HTML part free of live markup; the previews escaped too."""
    from petition.models import NewsUpdate
    from tests.admin_helpers import signed_in_client

    make_letter(lang="en")
    client.post("/letters/appeal/sign?lang=en",
                data=sign_form(email="reader@example.org", news="y"))
    client.post(f"/confirm/{confirm_token_from(outbox()[-1])}?lang=en")
    _deliver(app)  # the confirmation's own mails out of the way
    root = signed_in_client(app, "root@example.org", "admin", letters=())
    typed = {"subject-en": subject, "body-en": body}
    preview = root.post("/admin/letters/appeal/news/new?lang=en",
                        data={**typed, "action": "preview"})
    from .conftest import assert_no_500
    assert_no_500(preview)
    saved = root.post("/admin/letters/appeal/news/new?lang=en", data=typed)
    assert_no_500(saved)
    if saved.status_code == 400:  # a subject on two lines: refused, nothing saved
        assert "\n" in subject or "\r" in subject
        assert db.session.scalars(select(NewsUpdate)).first() is None
        return
    news = db.session.scalars(select(NewsUpdate)).one()
    path = f"/admin/letters/appeal/news/{news.public_id}"
    assert_no_500(root.get(path + "?lang=en"))
    assert_no_500(root.get(path + "/send?lang=en"))
    assert_no_500(root.post(path + "/send?lang=en"))
    received = [mail for mail in _deliver(app) if mail.rcpt_tos == ["reader@example.org"]]
    assert len(received) == 1
    _text, html = _check(received[0], "reader@example.org")
    if html:
        assert not re.search(r'(href|src)\s*=\s*["\']?\s*javascript:', html, re.I), html
        assert "<script" not in html.lower()
