"""Replies: an organiser attaches the recipient's answer (text, or a scan as PDF, JPEG or
PNG) to a sent letter whose writer asked for it, and the writer receives it by mail."""
from __future__ import annotations

from flask import current_app

from petition.accounts import audit
from petition.drive import mails
from petition.drive.review import get_letter_row
from petition.drive.values import DriveError, seal, seal_bytes, unseal
from petition.extensions import db
from petition.models import Letter, utcnow
from petition.models.drive import SENT, DriveReply

# What a file is, read from its first bytes (never from its name or the browser's word).
_SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
TEXT_MAX = 20000


def file_type(data: bytes) -> tuple[str, str] | None:
    """(media type, extension) of a PDF, JPEG or PNG file; None for anything else."""
    for magic, mimetype, extension in _SIGNATURES:
        if data.startswith(magic):
            if extension == "pdf" and b"%%EOF" not in data[-1024:]:
                return None  # cut short, or not a PDF after all
            if extension == "png" and b"IEND" not in data[-16:]:
                return None
            if extension == "jpg" and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
                return None
            return mimetype, extension
    return None


def attach_reply(public_id: str, *, text: str | None = None, data: bytes | None = None,
                 actor: str = "cli", letter: Letter | None = None) -> DriveReply:
    row = get_letter_row(public_id, letter)
    if row.status != SENT:
        raise DriveError("A reply belongs to a letter that was sent.")
    if not row.wants_reply:
        raise DriveError("The writer of this letter did not ask for the reply.")
    email = unseal(row.email_encrypted)
    if email is None:
        raise DriveError("The writer's address is gone (the drive closed and its retention "
                         "period passed): the reply cannot be sent.")
    text = (text or "").strip() or None
    if text is not None and len(text) > TEXT_MAX:
        raise DriveError("The reply's text is longer than %(limit)d characters.",
                         limit=TEXT_MAX)
    kind = None
    if data:
        limit = int(current_app.config["DRIVE_REPLY_MAX_BYTES"])
        if len(data) > limit:
            raise DriveError("The file is larger than %(limit)d MB.", limit=limit // 2**20)
        kind = file_type(data)
        if kind is None:
            raise DriveError("The file is not a PDF, JPEG or PNG.")
    if text is None and kind is None:
        raise DriveError("A reply needs a text or a file.")
    reply = DriveReply(drive_letter_id=row.id, text_encrypted=seal(text), created_by=actor,
                       created_at=utcnow())
    if kind is not None and data:
        reply.file_encrypted = seal_bytes(data)
        reply.file_type, reply.file_name = kind[0], f"reply.{kind[1]}"
    db.session.add(reply)
    db.session.flush()
    mails.queue(mails.REPLY_MAIL, row, email, reply=reply)
    audit.record(actor, "drive.reply", letter_slug=row.letter.slug,
                 detail=f"letter={row.public_id}" + (f" file={kind[1]}" if kind else ""),
                 commit=False)
    db.session.commit()
    return reply
