"""Attaching the recipient's reply to a sent letter: a text, a scan (PDF, JPEG, PNG), or
both; the writer, who asked for it, receives it by mail.

The app refuses bodies above MAX_CONTENT_LENGTH (forms are small); this form carries a scan
of up to DRIVE_REPLY_MAX_BYTES, for signed-in accounts only, as the import forms do
(petition/admin/imports.py). What the file is, is read from its bytes by the use case
(petition/drive/replies.py), never from its name or the browser's word.
"""
from __future__ import annotations

from flask import current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from petition.admin import bp, current_account
from petition.admin.drive_common import reason, row_or_404
from petition.admin.drive_review import letter_page
from petition.drive import replies
from petition.drive.values import DriveError
from petition.models import Letter

ENDPOINT = "admin.drive_reply"


def max_bytes() -> int:
    return int(current_app.config["DRIVE_REPLY_MAX_BYTES"])


def _body_limits() -> None:
    """Room for the scan on this form only. Runs before every other hook of the app:
    CSRFProtect parses the form in its own, which would apply the app's limits."""
    # The endpoint first: this runs on every request, the public forms' included.
    if request.endpoint != ENDPOINT or not current_user.is_authenticated:
        return
    # Twice the limit, so that a somewhat larger file gets our message, not a bare 413.
    request.max_content_length = 2 * max_bytes() + 65536


@bp.record_once
def _install_body_limits(state) -> None:
    state.app.before_request_funcs.setdefault(None, []).insert(0, _body_limits)


@bp.post("/letters/<slug>/drive/letters/<public_id>/reply", endpoint="drive_reply")
def drive_reply(slug: str, public_id: str):
    letter: Letter = g.letter
    row = row_or_404(letter, public_id)
    text = request.form.get("text", "")
    storage = request.files.get("file")
    data = b""
    if storage is not None and storage.filename:
        data = storage.stream.read(max_bytes() + 1)
        if not data:
            return letter_page(letter, row, status=400,
                                error=_("The file is empty."), reply_text=text)
    try:
        replies.attach_reply(row.public_id, text=text, data=data or None,
                             actor=current_account().email, letter=letter)
    except DriveError as refusal:
        return letter_page(letter, row, error=reason(refusal), reply_text=text,
                            status=413 if len(data) > max_bytes() else 400)
    flash(_("Reply attached to letter %(id)s: its writer receives it by mail.",
            id=row.public_id))
    return redirect(url_for("admin.drive_letter", slug=letter.slug, public_id=row.public_id),
                    303)
