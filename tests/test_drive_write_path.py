"""Writing a letter cheaply and exactly as before: the text checked once per request (the
form's check carried to the use case, which still checks any other text), the link
filter that spares most letters the per-word scan and lets no link through, and the
letter, its mail and the per-address cap written in one round trip."""
from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import func, select

from petition import names
from petition.drive import writing
from petition.drive.values import (
    CheckedText,
    DriveError,
    _link_word,
    check_letter_text,
    checked_letter_text,
)
from petition.extensions import db
from petition.models import OutboxMail
from petition.models.drive import PENDING, DriveLetter
from tests.drive_helpers import LETTER_EN, LETTER_RU, details, make_drive
from tests.helpers import outbox, statements

SLUG = "letters-to-azat"


def per_word(text: str) -> str | None:
    """The link word as the check found it before the filter: holds_link on every word."""
    for word in text.split():
        if names.holds_link(word):
            return word.strip(".,;:!?()[]{}«»\"'")
    return None


# Links as a censor would read them, however they are written, and texts that hold none.
LINKS = [
    "Write to marie@example.org", "Write to marie＠example．org", "See https://x.org/a",
    "see hxxps://example[.]org", "Read www.example.org", "Read ｗｗｗ．example．org",
    "example(dot)com", "example [.] com", "example{.}org", "paypal-verify.support",
    "t.me/xyz", "192.168.1.1", "at fe80::1 now", "[::1]", "exa\u200bmple.com",
    "exa\u00admple.com", "example\u3002com", "example\uff61com", "mail.example.co.uk",
    "пример.рф", "हिन्दी.भारत", "example.com.", "(example.com)", "«example.org»",
    "example\u2024com", "WWW.EXAMPLE.ORG", "example.com [.] xyzzy",
]
PLAIN = [
    LETTER_EN, LETTER_RU, "J.-P. Sartre, M.Sc., e.V.", "It snowed... and then. Then!",
    "Dear Azat:\n\nIt is 3:30 here.", "Page 3.5 of the notes (see above).", "St. Petersburg",
    "A.B.C. and the end.", "(.) and [dot] alone", "", "Lycée, café, naïve — «вот».",
]


@pytest.mark.parametrize("text", LINKS + PLAIN)
def test_the_filter_finds_the_word_the_per_word_scan_finds(text):
    assert _link_word(text) == per_word(text)


def test_the_filter_finds_every_link_the_per_word_scan_finds_in_random_texts():
    # Pieces that make or break a link once read as holds_link reads a word: dots of every
    # kind, obfuscated dots, at signs, colons, invisible characters, combining marks.
    pieces = ["example", "com", "org", "me", "рф", "пример", "t", "www", "hxxp", "x", "1",
              "192", "168", "fe80", "ab", "é", "e\u0301", "\u0308", "\u00a8", ".", "．", "。",
              "｡", "\u2024", "\ufe52", "⒈", "[.]", "(dot)", " (.) ", "@", "＠", ":", "：",
              "://", "/", "-", "_", "\u200b", "\u00ad", "\u034f", "\ufe0f", " ", "\n", "\u00a0",
              "\u3000", ",", "!", "(", ")", "[", "]", "«", "»"]
    rng = random.Random(20)
    for _ in range(4000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 9)))
        assert _link_word(text) == per_word(text), repr(text)


def test_a_checked_text_is_taken_as_it_is_and_any_other_is_checked():
    checked = check_letter_text("  Dear Azat,\r\n\r\n\r\nWe think of you.  ", 100)
    assert isinstance(checked, CheckedText) and checked == "Dear Azat,\n\nWe think of you."
    assert checked_letter_text(checked, 100) is checked
    # A plain string is checked, even when it reads like a checked one.
    assert type(checked_letter_text(str(checked), 100)) is CheckedText
    with pytest.raises(DriveError, match="without links"):
        checked_letter_text("See www.example.org", 100)
    # Anything made from a checked text is plain again, and checked again.
    with pytest.raises(DriveError, match="without links"):
        checked_letter_text(checked + " www.example.org", 100)
    # Checked against a larger limit: the length is checked again.
    with pytest.raises(DriveError, match="the limit is 10"):
        checked_letter_text(checked, 10)


def test_the_use_case_refuses_a_text_checked_for_a_longer_limit(app):
    make_drive(body_max=100)
    long_text = check_letter_text("a" * 150, 200)
    with pytest.raises(DriveError, match="150 characters long; the limit is 100"):
        writing.write(SLUG, details(body=long_text))
    assert db.session.scalar(select(func.count(DriveLetter.id))) == 0 and outbox() == []


def test_the_row_written_is_the_row_stored(app):
    letter = make_drive()
    row = writing.write(letter, details(wants_reply=True, publish="initials"))
    assert row is not None
    mine = {column: getattr(row, column) for column in writing._COLUMNS}
    db.session.expire_all()
    stored = db.session.get(DriveLetter, row.id)
    assert {column: getattr(stored, column) for column in writing._COLUMNS} == mine
    assert stored.status == PENDING and stored.wants_reply and stored.publish == "initials"
    [mail] = outbox("drive_confirm")
    assert (mail.drive_letter_id, mail.link_nonce, mail.lang) == (row.id, row.token_nonce, "en")
    assert mail.recipient_encrypted == stored.email_encrypted


def test_the_cap_counts_the_addresss_letters_of_the_last_hour(app):
    app.config["MAIL_PER_ADDRESS_PER_HOUR"] = 2
    letter = make_drive()
    first = writing.write(letter, details())
    assert first is not None and writing.write(letter, details()) is not None
    assert writing.write(letter, details()) is None  # nothing stored, nothing mailed
    assert db.session.scalar(select(func.count(DriveLetter.id))) == 2
    assert db.session.scalar(select(func.count(OutboxMail.id))) == 2
    assert writing.submit(letter, details(email="other@example.org"))
    # An hour later the first no longer counts.
    db.session.get(DriveLetter, first.id).link_issued_at = \
        first.link_issued_at - dt.timedelta(hours=1, seconds=1)
    db.session.commit()
    assert writing.submit(letter, details())
    assert not writing.submit(letter, details())
    assert db.session.scalar(select(func.count(DriveLetter.id))) == 4
    assert db.session.scalar(select(func.count(OutboxMail.id))) == 4


def test_a_letter_written_through_the_form_sends_three_statements(client, app):
    """The drive's read, the letter under its cap and its mail; on PostgreSQL the last two
    go with the COMMIT (tests/test_write_path.py counts signing's the same way)."""
    make_drive()
    form = {"name": "Marie Dupont", "country": "FR", "email": "marie@example.org",
            "language": "en", "body": LETTER_EN, "publish": "no", "consent": "y"}
    # The first letter reads the address hash key, once per process.
    assert client.post(f"/letters/{SLUG}/write", data=form).status_code == 303
    with statements() as seen:
        response = client.post(f"/letters/{SLUG}/write", data=form)
    assert response.status_code == 303
    assert len(seen) == 3, "\n".join(s[:90] for s in seen)
    assert seen[0].startswith("SELECT letter.id")
    assert seen[1].startswith("INSERT INTO drive_letter")
    assert seen[2].startswith("INSERT INTO outbox_mail")
