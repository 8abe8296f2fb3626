"""A drive's personal data at rest: encrypted, re-encrypted by key rotation, erased by
retention, and gone from the database files once withdrawn."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import func, select

from petition.core import remnants
from petition.drive import batches, replies, review, writing
from petition.extensions import db
from petition.letters import operations as letters
from petition.models import CLOSED, utcnow
from petition.models.accounts import AuditEvent
from petition.models.drive import PENDING, DriveLetter, DriveReply
from petition.privacy import retention
from tests.conftest import EMAIL_KEY
from tests.drive_helpers import LETTER_RU, details, make_drive, writer_token_of, written

NEW_KEY = Fernet.generate_key().decode()
SCAN = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def sent_with_reply(letter_id: int | None = None) -> DriveLetter:
    """A letter in English, translated, approved, sent, answered with a scan."""
    row = written(wants_reply=True)
    review.translate(row.public_id, LETTER_RU, actor="tr@example.org")
    review.approve(row.public_id)
    batch = batches.create_batch("letters-to-azat")
    batches.mark_sent(batch.public_id, on=utcnow().date())
    replies.attach_reply(row.public_id, text="Спасибо за письмо!", data=SCAN)
    return row


def test_key_rotation_re_encrypts_every_drive_secret(app, runner):
    make_drive()
    row = sent_with_reply()
    returned = written(email="b@example.org", name="Ivan")
    review.return_to_writer(returned.public_id, "Please remove the name of the judge.")
    app.config["EMAIL_KEY"] = NEW_KEY
    result = runner.invoke(args=["keys", "rotate", "--old-key-stdin"], input=EMAIL_KEY + "\n")
    assert result.exit_code == 0, result.output
    for column in ("drive_letter.body_encrypted", "drive_letter.signature_encrypted",
                   "drive_letter.translation_encrypted", "drive_letter.note_encrypted",
                   "drive_letter.email_encrypted", "drive_reply.text_encrypted",
                   "drive_reply.file_encrypted"):
        assert f"{column}: " in result.output, column
    db.session.expire_all()
    old = Fernet(EMAIL_KEY.encode())
    stored = db.session.get(DriveLetter, row.id)
    with pytest.raises(InvalidToken):
        old.decrypt(stored.body_encrypted)
    reading = review.reading(stored)
    assert reading.translation == LETTER_RU and reading.name == "Marie Dupont"
    assert writing.draft(db.session.get(DriveLetter, returned.id)).note == \
        "Please remove the name of the judge."


def test_retention_erases_reply_addresses_and_replies_after_the_drive_closes(app):
    letter = make_drive()
    answered = sent_with_reply()
    pending = writing.write(letter, details(email="late@example.org"))
    assert pending is not None
    letters.set_status("letters-to-azat", CLOSED)
    letter = letters.get_letter("letters-to-azat")
    days = letter.fingerprint_retention_days

    assert retention.erase_due(utcnow() + dt.timedelta(days=days - 1)) == []
    db.session.expire_all()
    assert db.session.get(DriveLetter, answered.id).email_encrypted is not None

    [erasure] = retention.erase_due(utcnow() + dt.timedelta(days=days, hours=1))
    assert (erasure.fingerprints, erasure.pending) == (1, 1)
    db.session.expire_all()
    kept = db.session.get(DriveLetter, answered.id)
    assert (kept.email_encrypted, kept.email_hash) == (None, None)
    assert db.session.scalar(select(func.count(DriveReply.id))) == 0
    assert db.session.scalar(select(func.count(DriveLetter.id))
                             .where(DriveLetter.status == PENDING)) == 0
    # The letter itself stays (it was sent: the count and the manifest hold it).
    assert kept.status == "sent" and kept.body_encrypted is not None
    assert db.session.scalar(select(AuditEvent.detail).where(
        AuditEvent.action == "retention.erase")).startswith("fingerprints=1 pending_deleted=1")


def test_unconfirmed_letters_are_purged_with_unconfirmed_signatures(app):
    letter = make_drive()
    row = writing.write(letter, details())
    assert row is not None
    row.link_issued_at = utcnow() - dt.timedelta(
        seconds=app.config["UNCONFIRMED_RETENTION"] + 60)
    db.session.commit()
    assert retention.purge_unconfirmed() == 1
    assert db.session.scalar(select(func.count(DriveLetter.id))) == 0


PHRASE = "Уникальная фраза для проверки файлов базы данных"


def file_bytes(database_url: str) -> bytes:
    path = Path(database_url.removeprefix("sqlite:///"))
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


@pytest.mark.sqlite_only
def test_a_withdrawn_published_letter_leaves_nothing_in_the_sqlite_files(app, database_url):
    make_drive()
    row = written(letter_lang="ru", body=f"Дорогой Азат!\n\n{PHRASE}.", publish="full")
    review.approve(row.public_id)
    db.session.commit()
    assert PHRASE.encode() in file_bytes(database_url)  # published: in clear, as the page shows
    writing.withdraw(writer_token_of(row))
    db.session.commit()
    assert remnants.checkpoint_wal()
    raw = file_bytes(database_url)
    assert PHRASE.encode() not in raw
    fernet = Fernet(EMAIL_KEY.encode())
    for token in re.findall(rb"gAAAAA[A-Za-z0-9_\-]+=*", raw):
        try:
            assert PHRASE not in fernet.decrypt(token).decode("utf-8", "replace")
        except InvalidToken:
            continue
