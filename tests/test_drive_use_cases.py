"""The drive's use cases end to end on both databases: write, confirm, review, translate,
batch, send, reply; what is erased when."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from petition.drive import batches, counts, replies, review, writing
from petition.drive.values import DriveError
from petition.extensions import db
from petition.models.accounts import AuditEvent
from petition.models.drive import (
    PENDING,
    REJECTED,
    RETURNED,
    REVIEW,
    SENT,
    WITHDRAWN,
    DriveLetter,
)
from tests.drive_helpers import (
    LETTER_RU,
    confirm_token,
    details,
    make_drive,
    writer_token,
    writer_token_of,
    written,
)
from tests.helpers import outbox, rendered


def test_a_letter_counts_only_once_confirmed(app):
    letter = make_drive()
    row = writing.write(letter, details())
    assert row is not None and row.status == PENDING
    assert counts.counts(letter).written == 0
    # Nothing of the text or the address is stored in clear.
    stored = db.session.execute(select(DriveLetter.body_encrypted, DriveLetter.email_encrypted,
                                       DriveLetter.signature_encrypted)).one()
    assert all(b"Azat" not in bytes(value) and b"marie" not in bytes(value) for value in stored)
    confirmed = writing.confirm(confirm_token())
    assert confirmed.status == REVIEW
    assert counts.counts(letter) == counts.DriveCounts(written=1, sent=0, countries=1,
                                                       cost_cents=0)


def test_a_body_with_a_link_or_an_address_is_refused(app):
    make_drive()
    for body in ("Write to me at marie@example.org", "See https://example.org/x",
                 "Read www.example.org today"):
        with pytest.raises(DriveError, match="without links"):
            writing.write("letters-to-azat", details(body=body))
    assert db.session.scalar(select(DriveLetter.id)) is None
    assert outbox() == []


def test_a_body_over_the_limit_is_refused_with_its_length(app):
    make_drive(body_max=100)
    with pytest.raises(DriveError, match="101 characters long; the limit is 100"):
        writing.write("letters-to-azat", details(body="a" * 101))


def test_risky_words_are_shown_not_refused(app):
    from petition.drive import settings

    make_drive()
    settings.set_guidance("letters-to-azat", "en", guidance="Do not write about the war.",
                          risky_words="war\npolitical prisoner")
    settings.set_guidance("letters-to-azat", "ru", risky_words="войн*")
    row = writing.write("letters-to-azat", details(
        body="I hope the war ends, warmly. You are a political   prisoner. Война!"))
    assert row is not None
    seen = writing.draft(row)
    assert [passage.word for passage in seen.passages] == ["war", "political   prisoner",
                                                          "Война"]


def test_moderation_translation_batch_and_sent_mail(app):
    letter = make_drive()
    row = written(letter)
    pid = row.public_id
    review.approve(pid, actor="org@example.org")
    assert review.letters_of(letter, "translation")[0].public_id == pid
    with pytest.raises(DriveError, match="No letter is ready"):
        batches.create_batch("letters-to-azat")
    review.translate(pid, LETTER_RU, actor="tr@example.org")
    ready = review.letters_of(letter, "ready")
    assert [item.public_id for item in ready] == [pid]
    batch = batches.create_batch("letters-to-azat", actor="org@example.org")
    contents = batches.contents(batch)
    assert contents.letters[0].text == LETTER_RU
    assert contents.letters[0].signature == "Marie Dupont"
    assert contents.letters[0].translator == "tr@example.org"
    batches.mark_sent(batch.public_id, on=dt.date(2026, 12, 1), cost_cents=1250,
                      service="Zonatelecom")
    db.session.expire_all()
    row = db.session.get(DriveLetter, row.id)
    assert row.status == SENT and row.email_encrypted is None
    mail = outbox("drive_sent")[-1]
    assert "December 1, 2026" in rendered(mail).text
    assert counts.counts(letter) == counts.DriveCounts(written=1, sent=1, countries=1,
                                                       cost_cents=1250)
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    for action in ("drive.approve", "drive.translate", "drive.batch_create",
                   "drive.batch_sent"):
        assert action in actions


def test_returned_letter_is_edited_and_goes_back_to_review(app):
    make_drive()
    row = written()
    review.return_to_writer(row.public_id, "Please leave out the trial.")
    mail = outbox("drive_returned")[-1]
    text = rendered(mail).text
    assert "Please leave out the trial." in text
    token = writer_token("drive_returned")
    assert writing.writer_letter(token).status == RETURNED
    writing.resubmit(token, "Dear Azat, we think of you.")
    db.session.expire_all()
    row = db.session.get(DriveLetter, row.id)
    assert row.status == REVIEW and row.note_encrypted is None
    assert writing.draft(row).body == "Dear Azat, we think of you."


def test_withdrawn_and_rejected_letters_keep_no_text(app):
    letter = make_drive()
    first = written(letter)
    token = writer_token_of(first)
    writing.withdraw(token)
    second = written(letter, email="other@example.org")
    review.reject(second.public_id)
    db.session.expire_all()
    for row_id, status in ((first.id, WITHDRAWN), (second.id, REJECTED)):
        row = db.session.get(DriveLetter, row_id)
        assert row.status == status
        assert (row.body_encrypted, row.signature_encrypted, row.email_encrypted,
                row.email_hash) == (None, None, None, None)
    assert counts.counts(letter).written == 0


def test_a_sent_letter_cannot_be_withdrawn_and_a_reply_reaches_its_writer(app):
    make_drive()
    row = written(letter="letters-to-azat", letter_lang="ru", body=LETTER_RU,
                  wants_reply=True)
    token = writer_token_of(row)
    review.approve(row.public_id)
    batch = batches.create_batch("letters-to-azat")
    batches.mark_sent(batch.public_id, on=dt.date(2026, 12, 1))
    with pytest.raises(DriveError, match="sent already"):
        writing.withdraw(token)
    with pytest.raises(DriveError, match="not a PDF, JPEG or PNG"):
        replies.attach_reply(row.public_id, data=b"GIF89a....")
    scan = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    replies.attach_reply(row.public_id, text="Спасибо!", data=scan)
    message = rendered(outbox("drive_reply")[-1])
    assert "Спасибо!" in message.text
    assert message.attachments[0].data == scan
    assert message.attachments[0].mimetype == "application/pdf"


def test_published_letters_show_only_what_the_writer_allowed(app):
    letter = make_drive()
    shown = written(letter, name="Jean-Paul Sartre", publish="initials")
    hidden = written(letter, email="b@example.org", publish="no")
    review.approve(shown.public_id)
    review.approve(hidden.public_id)
    listed = counts.published(letter)
    assert [(item.name, item.body) for item in listed] == [("J.-P. S.", shown_text(shown))]


def shown_text(row: DriveLetter) -> str:
    return writing.draft(row).body
