"""Helpers shared by tests: read the confirmation link out of the outbox like a mailbox."""
from __future__ import annotations

import contextlib
import re
from html.parser import HTMLParser

from sqlalchemy import select

from petition import addresses
from petition.core import pipelining
from petition.extensions import db
from petition.mail import dispatcher
from petition.mail import outbox as outbox_rows
from petition.models import OutboxMail

LINK_RE = re.compile(r"http://localhost/confirm/([A-Za-z0-9_.\-]+)")


def outbox(kind: str | None = None) -> list[OutboxMail]:
    query = select(OutboxMail).order_by(OutboxMail.id)
    if kind:
        query = query.where(OutboxMail.kind == kind)
    db.session.expire_all()
    return list(db.session.scalars(query))


def mails_to(email: str) -> list[OutboxMail]:
    return [m for m in outbox()
            if m.recipient_encrypted and addresses.decrypt(m.recipient_encrypted) == email]


def rendered(mail: OutboxMail) -> outbox_rows.Content:
    """A waiting mail as the mail worker would send it now (signers' mail holds no body:
    it is rendered at delivery)."""
    return dispatcher.preview(mail.id)


def confirm_token_from(mail: OutboxMail) -> str:
    text = rendered(mail).text
    match = LINK_RE.search(text)
    assert match, f"no confirmation link in: {text!r}"
    return match.group(1)


def sign_form(**overrides) -> dict:
    data = {
        "signer_type": "organization",
        "name": "Campagne #FREE120",
        "affiliation": "",
        "country": "DE",
        "email": "contact@free120.example",
        "display": "full",
        "consent": "y",
    }
    data.update(overrides)
    return data


class _RootLang(HTMLParser):
    """Reads the lang attribute of the first <html> start tag, and nothing else."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.seen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html" and not self.seen:
            self.seen, self.lang = True, dict(attrs).get("lang")


def html_lang(page: str) -> str | None:
    """The language a page declares on its <html> element.

    Not `'lang="ru"' in page`: the language menu on every page has lang="ru" anyway.
    """
    parser = _RootLang()
    parser.feed(page)
    parser.close()
    assert parser.seen, "no <html> element"
    return parser.lang


@contextlib.contextmanager
def statements():
    """The SQL statements run inside the block, as sent to the database."""
    with pipelining.statements_sent(db.engine) as seen:
        yield seen


def assert_valid_html(page: str) -> None:
    """Parse `page` as a browser does, failing on any parse error (a <p> inside a <p>
    leaves a stray </p>, an unclosed element, a duplicate attribute...)."""
    import html5lib

    parser = html5lib.HTMLParser(strict=True)
    try:
        parser.parse(page)
    except html5lib.html5parser.ParseError as error:
        line, column = parser.errors[-1][0] if parser.errors else ("?", "?")
        context = page.splitlines()[line - 1] if isinstance(line, int) else ""
        raise AssertionError(f"invalid HTML at {line}:{column}: {error}\n{context}") from None
