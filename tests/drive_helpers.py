"""Helpers for letter-drive tests: a drive, a letter written and confirmed as a writer would."""
from __future__ import annotations

import re

from petition.drive import settings, writing
from petition.models import Letter
from petition.models.drive import DriveLetter
from tests.helpers import outbox, rendered

DRIVE_LINK_RE = re.compile(r"http://localhost/drive/confirm/([A-Za-z0-9_.\-]+)")
WRITER_LINK_RE = re.compile(r"http://localhost/drive/letter/([A-Za-z0-9_.\-]+)")

LETTER_EN = ("Dear Azat,\n\nWe think of you every day. Your students miss your lectures on "
             "topology.\n\nWith warm wishes from Lyon.")
LETTER_RU = "Дорогой Азат!\n\nМы думаем о вас каждый день.\n\nС тёплыми пожеланиями из Парижа."


def make_drive(slug: str = "letters-to-azat", **overrides) -> Letter:
    values = {"lang": "ru", "title": "1000 писем Азату", "recipient": "Азат Мифтахов",
              "recipient_address": "ФКУ СИЗО-1\nг. Москва", "delivery_lang": "ru",
              "goal": 1000, "body": "Напишите Азату письмо."}
    values.update(overrides)
    return settings.create_drive(slug, **values)


def details(**overrides) -> writing.LetterDetails:
    values = {"name": "Marie Dupont", "country": "FR", "email": "marie@example.org",
              "letter_lang": "en", "body": LETTER_EN, "publish": "full", "lang": "en",
              "wants_reply": False}
    values.update(overrides)
    return writing.LetterDetails(**values)


def confirm_token(email_kind: str = "drive_confirm") -> str:
    mail = outbox(email_kind)[-1]
    match = DRIVE_LINK_RE.search(rendered(mail).text)
    assert match, rendered(mail).text
    return match.group(1)


def writer_token_of(row: DriveLetter) -> str:
    """The writer's link as its confirmation mail carried it (that mail is dropped once
    the letter is confirmed, as delivery would have sent it by then)."""
    from petition import tokens

    return tokens.drive_writer_token(row.public_id)


def writer_token(mail_kind: str = "drive_confirm") -> str:
    mail = outbox(mail_kind)[-1]
    match = WRITER_LINK_RE.search(rendered(mail).text)
    assert match, rendered(mail).text
    return match.group(1)


def written(letter: Letter | str = "letters-to-azat", **overrides) -> DriveLetter:
    """A letter written and confirmed (waiting for review)."""
    row = writing.write(letter, details(**overrides))
    assert row is not None
    return writing.confirm(confirm_token())
