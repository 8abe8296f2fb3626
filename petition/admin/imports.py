"""Imports from the browser: upload, read the dry-run report, then import or cancel.

Nothing is written until the organiser confirms. The upload is not kept on the server (the
app runs as several processes on several machines): the confirm form carries the file
itself, compressed and signed with the app's key, and the confirm step checks it again and
imports it in one transaction, or writes nothing.
"""
from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from itsdangerous import BadData, SignatureExpired, TimestampSigner
from sqlalchemy.exc import IntegrityError

from petition.accounts import audit
from petition.admin import bp, current_account
from petition.admin.labels import human
from petition.countries import display_name
from petition.models import Letter
from petition.signatures import importing

SUFFIXES = (".csv", ".xlsx")
ENCODINGS = {"utf-8-sig": _l("UTF-8 (recommended)"), "cp1252": _l("Windows (Western Europe)"),
             "cp1251": _l("Windows (Cyrillic)"), "latin-1": _l("Latin-1")}
COLUMN_LABELS = {"name": _l("Name"), "type": _l("Type"), "country": _l("Country"),
                 "affiliation": _l("Affiliation"), "email": _l("Email"),
                 "display": _l("Display"), "provenance": _l("Provenance")}
MAX_BYTES = 2_000_000  # default of IMPORT_MAX_BYTES; bigger lists go through the CLI
TOKEN_SALT = "petition.admin.import"
TOKEN_MAX_AGE = 3600


class BadUpload(Exception):
    """The form cannot be checked; the message says why (shown to the organiser)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Upload:
    """A file and the options it was checked with: what the confirm form carries."""

    filename: str
    data: bytes
    default_type: str | None
    encoding: str
    provenance: str | None

    def run(self, slug: str, **options) -> importing.ImportReport:
        return importing.import_file(
            slug, self.data, self.filename, default_type=self.default_type,
            encoding=self.encoding, provenance=self.provenance, **options)


def _signer() -> TimestampSigner:
    return TimestampSigner(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def pack(upload: Upload, slug: str, actor: str) -> str:
    """The upload as a signed, compressed token, good for this letter and account only."""
    head = json.dumps({"slug": slug, "actor": actor, "filename": upload.filename,
                       "type": upload.default_type, "encoding": upload.encoding,
                       "provenance": upload.provenance}).encode()
    blob = zlib.compress(head + b"\n" + upload.data, 9)
    return _signer().sign(base64.urlsafe_b64encode(blob)).decode("ascii")


def unpack(token: str, slug: str, actor: str) -> Upload:
    try:
        blob = base64.urlsafe_b64decode(_signer().unsign(token, max_age=TOKEN_MAX_AGE))
    except SignatureExpired:
        raise BadUpload(_("This check is more than an hour old; upload the file again.")) from None
    except (BadData, ValueError):
        raise BadUpload(_("This confirmation is not valid; upload the file again.")) from None
    head, _newline, data = zlib.decompress(blob).partition(b"\n")
    meta = json.loads(head)
    if meta["slug"] != slug or meta["actor"] != actor:
        raise BadUpload(_("This confirmation is not valid; upload the file again."))
    return Upload(meta["filename"], data, meta["type"], meta["encoding"], meta["provenance"])


def _upload_from_form(letter: Letter) -> Upload:
    """The uploaded file and options, or BadUpload with what is wrong."""
    storage = request.files.get("file")
    if storage is None or not storage.filename:
        raise BadUpload(_("Choose a CSV or XLSX file."))
    # Browsers may send a path; the name goes into the confirm token and the audit log.
    filename = Path(storage.filename.replace("\\", "/")).name[-200:]
    if Path(filename).suffix.lower() not in SUFFIXES:
        raise BadUpload(_("Only CSV and XLSX files can be imported (save the sheet as one)."))
    limit = max_bytes()
    data = storage.stream.read(limit + 1)
    if len(data) > limit:
        raise BadUpload(_("The file is larger than %(size)s MB: split it, or import it with "
                          "flask signatures import.", size=_megabytes(limit)), 413)
    if not data:
        raise BadUpload(_("The file is empty."))
    default_type = request.form.get("default_type") or None
    if default_type is not None and default_type not in letter.signer_types:
        raise BadUpload(_("Choose a signer type this letter takes."))
    encoding = request.form.get("encoding") or "utf-8-sig"
    if encoding not in ENCODINGS:
        raise BadUpload(_("Choose one of the encodings offered."))
    return Upload(filename, data, default_type, encoding,
                  importing.clean_provenance(request.form.get("provenance")))


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g}"


def max_bytes() -> int:
    return int(current_app.config.get("IMPORT_MAX_BYTES") or MAX_BYTES)


def token_limit() -> int:
    """The longest confirm token a file of max_bytes() can give: base64 of the compressed
    file (zlib adds a few bytes to what does not compress) and its options."""
    return (max_bytes() + 8192) * 4 // 3 + 1024


def _body_limits() -> None:
    """The app refuses bodies above MAX_CONTENT_LENGTH (forms are small); the import forms
    carry a file, for signed-in accounts only. Runs before every other hook of the app:
    CSRFProtect parses the form in its own, which would apply the app's limits."""
    # The endpoint first: this runs on every request, the public signing form's included.
    if request.endpoint not in ("admin.import_check", "admin.import_confirm"):
        return
    if not current_user.is_authenticated:
        return
    if request.endpoint == "admin.import_check":
        # Twice the limit, so that a somewhat larger file gets our message, not a bare 413.
        request.max_content_length = 2 * max_bytes() + 65536
    elif request.endpoint == "admin.import_confirm":
        request.max_form_memory_size = token_limit()
        request.max_content_length = token_limit() + 65536


@bp.record_once
def _install_body_limits(state) -> None:
    state.app.before_request_funcs.setdefault(None, []).insert(0, _body_limits)


def _form(letter: Letter, error: str | None = None, status: int = 200):
    return render_template("admin/import.html", letter=letter, error=error,
                           types=[(kind, human(kind, "signer_types"))
                                  for kind in letter.signer_types],
                           encodings=ENCODINGS, form=request.form), status


def _report(letter: Letter, report: importing.ImportReport, upload: Upload, token: str | None,
            notice: str | None = None, status: int = 200):
    lang = str(get_locale())  # as the overview: country names in the reader's language
    labels = letter.labels_for(lang)
    by_country = sorted(((display_name(code, lang, labels), count)
                         for code, count in report.by_country.items()),
                        key=lambda item: (-item[1], item[0]))
    return render_template("admin/import_report.html", letter=letter, report=report,
                           upload=upload, token=token, by_country=by_country, notice=notice,
                           columns=COLUMN_LABELS, encodings=ENCODINGS,
                           type_label=human(upload.default_type, "signer_types")), status


@bp.get("/letters/<slug>/import")
def import_form(slug: str):
    return _form(g.letter)


@bp.post("/letters/<slug>/import")
def import_check(slug: str):
    """The dry run: every row checked, the report shown, nothing written."""
    letter: Letter = g.letter
    account = current_account()
    try:
        upload = _upload_from_form(letter)
        report = upload.run(letter.slug, dry_run=True)
        token = None
        if not report.issues and report.imported:
            token = pack(upload, letter.slug, account.email)
    except BadUpload as error:
        return _form(letter, str(error), error.status)
    audit.record(account.email, "import.check", letter_slug=letter.slug,
                 detail=f"file={upload.filename} rows={report.rows} "
                        f"importable={report.imported} problems={len(report.issues)}")
    return _report(letter, report, upload, token)


@bp.post("/letters/<slug>/import/confirm")
def import_confirm(slug: str):
    """Check the carried file again and import it all, or write nothing."""
    letter: Letter = g.letter
    if request.form.get("cancel"):
        flash(_("Import cancelled; nothing was written."))
        return redirect(url_for("admin.letter", slug=letter.slug), 303)
    account = current_account()
    try:
        upload = unpack(request.form.get("token", ""), letter.slug, account.email)
        expected = int(request.form.get("expected", ""))
    except BadUpload as error:
        return _form(letter, str(error), error.status)
    except ValueError:
        return _form(letter, _("This confirmation is not valid; upload the file again."), 400)
    try:
        report = upload.run(letter.slug, actor=account.email, expected=expected)
    except importing.ImportFailed as failure:
        assert failure.report is not None  # import_file() raises it with its report
        return _report(letter, failure.report, upload, None, status=409, notice=_(
            "The list changed since the check and the file can no longer be imported. "
            "Nothing was written."))
    except importing.ImportChanged as change:
        token = request.form["token"] if change.report.imported else None
        return _report(letter, change.report, upload, token, status=409,
                       notice=_("The list changed since the check: %(now)s signatures would "
                                "now be imported, not %(before)s. Nothing was written yet.",
                                now=change.report.imported, before=change.expected))
    except IntegrityError:
        # Someone signed with an address of the file between our check and our insert.
        return _form(letter, _("The list changed while importing; nothing was written. "
                               "Check the file again."), 409)
    flash(ngettext("%(num)s signature imported from %(file)s.",
                   "%(num)s signatures imported from %(file)s.", report.imported,
                   file=upload.filename))
    return redirect(url_for("admin.letter", slug=letter.slug), 303)
