"""A drive's batches in the back office: gather the letters ready to send, download a batch
as PDF, ZIP or CSV (each download in the audit log), and mark it sent.

Thin: the rules, the writers' mails and the audit log live in petition/drive/batches.py;
the files are petition/drive/batch_files.py's.
"""
from __future__ import annotations

import datetime as dt

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from petition.admin import bp, current_account
from petition.admin.drive_common import batch_or_404, country_namer, drive_or_404, reason
from petition.drive import batches, overview, review
from petition.drive.values import DriveError
from petition.models import Letter, utcnow
from petition.models.drive import DriveBatch

DOWNLOADS = ("pdf", "zip", "csv")


@bp.route("/letters/<slug>/drive/batches", methods=["GET", "POST"], endpoint="drive_batches")
def drive_batches(slug: str):
    """The batches, newest first, and the button that gathers every ready letter."""
    letter: Letter = g.letter
    drive = drive_or_404(letter)
    error = None
    if request.method == "POST":
        try:
            batch = batches.create_batch(letter.slug, actor=current_account().email)
        except DriveError as refusal:
            error = reason(refusal)
        else:
            count = len(batches.batch_rows(batch))
            flash(ngettext("Batch %(id)s created with %(num)d letter.",
                           "Batch %(id)s created with %(num)d letters.", count, id=batch.public_id))
            return redirect(url_for("admin.drive_batch", slug=letter.slug,
                                    batch_id=batch.public_id), 303)
    return render_template("admin/drive_batches.html", letter=letter, drive=drive, error=error,
                           batches=batches.batches_of(letter), sizes=overview.batch_sizes(letter),
                           ready=len(review.letters_of(letter, "ready"))), 400 if error else 200


def _batch_page(letter: Letter, batch: DriveBatch, *, error: str | None = None,
                form=None, status: int = 200):
    return render_template(
        "admin/drive_batch.html", letter=letter, drive=drive_or_404(letter), batch=batch,
        rows=batches.batch_rows(batch), downloads=DOWNLOADS, error=error,
        form=form if form is not None else {"on": utcnow().date().isoformat()},
        country_name=country_namer(letter)), status


@bp.get("/letters/<slug>/drive/batches/<batch_id>", endpoint="drive_batch")
def drive_batch(slug: str, batch_id: str):
    letter: Letter = g.letter
    return _batch_page(letter, batch_or_404(letter, batch_id))


@bp.get("/letters/<slug>/drive/batches/<batch_id>/download", endpoint="drive_batch_download")
def drive_batch_download(slug: str, batch_id: str):
    letter: Letter = g.letter
    batch = batch_or_404(letter, batch_id)
    fmt = request.args.get("format", "")
    if fmt not in DOWNLOADS:
        abort(400)
    # Loaded on the first download only: the PDF writer and its fonts are heavy, and no
    # other page needs them.
    from petition.drive import batch_files

    try:
        data, mimetype, filename = batch_files.render(batches.contents(batch), fmt)
    except DriveError as error:  # the PDF's fonts missing on this server: say so, no 500
        return _batch_page(letter, batch, error=error.translated(), status=503)
    batches.record_download(batch, fmt, current_account().email)
    response = Response(data, content_type=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


def _sent_on(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise DriveError("Give the sending date as YYYY-MM-DD.") from None


@bp.post("/letters/<slug>/drive/batches/<batch_id>/sent", endpoint="drive_batch_sent")
def drive_batch_sent(slug: str, batch_id: str):
    """The batch went: date, service and cost recorded, each writer mailed."""
    letter: Letter = g.letter
    batch = batch_or_404(letter, batch_id)
    form = request.form
    try:
        batches.mark_sent(batch.public_id, on=_sent_on(form.get("on", "")),
                          cost_cents=batches.parse_amount(form.get("cost")),
                          service=form.get("service"), actor=current_account().email,
                          letter=letter)
    except DriveError as refusal:
        return _batch_page(letter, batch, error=reason(refusal), form=form, status=400)
    flash(_("Batch %(id)s marked sent: each writer is told.", id=batch.public_id))
    return redirect(url_for("admin.drive_batch", slug=letter.slug, batch_id=batch.public_id),
                    303)
