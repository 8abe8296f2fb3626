"""The mails a writer receives, rendered in their language when they are delivered:
the link to confirm, a letter returned with a note, not accepted, sent, and a reply.

As for signers' mails, a queued row names the personal letter (and the reply) and nothing
readable; the subject is one of two neutral lines, never the drive's title or recipient,
so a lock screen or a mail provider's list tells nothing. A mail whose letter has moved on
(confirmed, withdrawn) is dropped, not sent.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from petition import tokens
from petition.dates import long_date
from petition.drive.values import unseal, unseal_bytes
from petition.letters.campaign import block_for
from petition.mail import outbox
from petition.mail.outbox import Obsolete, enqueue
from petition.models import Letter, OutboxMail
from petition.models.drive import PENDING, REJECTED, RETURNED, SENT, DriveLetter, DriveReply


def N_(message: str) -> str:
    return message


LETTER_SUBJECT = N_("Your letter")
REPLY_SUBJECT = N_("A reply to your letter")

CONFIRM, RETURNED_MAIL, REJECTED_MAIL = "drive_confirm", "drive_returned", "drive_rejected"
SENT_MAIL, REPLY_MAIL = "drive_sent", "drive_reply"


def confirm_url(row: DriveLetter) -> str:
    token = tokens.drive_confirm_token(row.public_id, row.token_nonce)
    return f"{current_app.config['BASE_URL']}/drive/confirm/{token}"


def writer_url(row: DriveLetter) -> str:
    """The writer's own page of the letter: its state, withdrawal, editing when returned."""
    token = tokens.drive_writer_token(row.public_id)
    return f"{current_app.config['BASE_URL']}/drive/letter/{token}"


def _letter_url(letter: Letter, lang: str) -> str:
    return f"{current_app.config['BASE_URL']}/letters/{letter.slug}?lang={lang}"


def queue(kind: str, row: DriveLetter, email: str, *,
          reply: DriveReply | None = None) -> OutboxMail:
    """Queue a mail about `row` (flushed) to `email`, in the caller's transaction."""
    # Not the confirmation: writing.write() queues it with the letter, in one statement.
    mail = enqueue(kind=kind, to=email, lang=row.lang)
    mail.drive_letter_id = row.id
    if reply is not None:
        mail.drive_reply_id = reply.id
    return mail


class DriveMails:
    """The dispatcher's renderer of these mails (registered in create_app())."""

    kinds: tuple[str, ...] = (CONFIRM, RETURNED_MAIL, REJECTED_MAIL, SENT_MAIL, REPLY_MAIL)

    def load(self, session: Session, mails: list[OutboxMail]) -> dict[int, DriveLetter]:
        ids = {mail.drive_letter_id for mail in mails if mail.drive_letter_id is not None}
        if not ids:
            return {}
        rows = session.scalars(
            select(DriveLetter).where(DriveLetter.id.in_(ids)).options(
                selectinload(DriveLetter.letter).selectinload(Letter.texts),
                selectinload(DriveLetter.batch))
            .execution_options(populate_existing=True)).all()
        return {row.id: row for row in rows}

    def render(self, mail: OutboxMail, session: Session,
               rows: dict[int, DriveLetter]) -> outbox.Content:
        row = rows.get(mail.drive_letter_id) if mail.drive_letter_id is not None else None
        if row is None:
            raise Obsolete("its letter is gone (withdrawn or purged)")
        lang = mail.lang or row.lang
        with force_locale(lang):
            return _render_kind(mail, session, row, lang)


DRIVE_MAILS = DriveMails()


def _render_kind(mail: OutboxMail, session: Session, row: DriveLetter,
                 lang: str) -> outbox.Content:
    letter = row.letter
    common: dict[str, Any] = {"title": letter.text_for(lang).title,
                              "letter_url": _letter_url(letter, lang),
                              "writer_url": writer_url(row)}
    if mail.kind == CONFIRM:
        if row.status != PENDING or mail.link_nonce != row.token_nonce:
            raise Obsolete(f"its letter is {row.status} or has a newer link")
        return _render("drive_confirm", lang, _(LETTER_SUBJECT), link=confirm_url(row),
                       hours=current_app.config["CONFIRM_MAX_AGE"] // 3600,
                       campaign=block_for(letter, lang),
                       **common)
    if mail.kind == RETURNED_MAIL:
        if row.status != RETURNED:
            raise Obsolete(f"its letter is {row.status}")
        return _render("drive_returned", lang, _(LETTER_SUBJECT),
                       note=unseal(row.note_encrypted) or "", **common)
    if mail.kind == REJECTED_MAIL:
        if row.status != REJECTED:
            raise Obsolete(f"its letter is {row.status}")
        return _render("drive_rejected", lang, _(LETTER_SUBJECT), **common)
    if mail.kind == SENT_MAIL:
        if row.status != SENT or row.batch is None or row.batch.sent_on is None:
            raise Obsolete(f"its letter is {row.status}")
        return _render("drive_sent", lang, _(LETTER_SUBJECT),
                       sent_on=long_date(row.batch.sent_on, lang),
                       wants_reply=row.wants_reply, **common)
    if mail.kind == REPLY_MAIL:
        reply = session.get(DriveReply, mail.drive_reply_id) if mail.drive_reply_id else None
        if reply is None:
            raise Obsolete("its reply is gone")
        attachments: tuple[outbox.Attachment, ...] = ()
        if reply.file_encrypted is not None:
            data = unseal_bytes(reply.file_encrypted)
            attachments = (outbox.Attachment(reply.file_name or "reply",
                                             reply.file_type or "application/octet-stream",
                                             data),)
        content = _render("drive_reply", lang, _(REPLY_SUBJECT),
                          reply_text=unseal(reply.text_encrypted) or "",
                          has_file=bool(attachments), **common)
        return outbox.Content(content.subject, content.text, content.html, attachments)
    raise ValueError(f"mail kind {mail.kind!r} is not a drive mail")


def _render(template: str, lang: str, subject: str, **context: Any) -> outbox.Content:
    text = render_template(f"email/{template}.txt", lang=lang, **context)
    html = render_template(f"email/{template}.html", lang=lang, **context)
    return outbox.Content(subject=subject, text=text, html=html)
