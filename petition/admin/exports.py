"""Downloads of a letter's list in every format, each recorded in the audit log."""
from __future__ import annotations

import io

from flask import Response, abort, g, render_template, request
from flask_babel import gettext as _

from petition.accounts import audit
from petition.accounts import operations as accounts
from petition.admin import bp, current_account
from petition.admin.letters import PRIVATE_FORMATS
from petition.exporting.document import LAYOUTS, PRESS
from petition.exporting.formats import (
    FORMATS,
    ExportError,
    KeyMismatch,
    check_lang,
    default_name,
    export,
    export_detail,
    renderer,
)
from petition.models import Letter
from petition.views.templating import utc_when


@bp.get("/letters/<slug>/export")
def export_letter(slug: str) -> Response:
    letter: Letter = g.letter
    account = current_account()
    fmt = request.args.get("format", "")
    layout = request.args.get("layout", PRESS)
    private = request.args.get("private") == "1"
    if fmt not in FORMATS or layout not in LAYOUTS:
        abort(400)
    try:
        lang = check_lang(request.args.get("lang") or letter.default_lang)
    except ExportError:
        abort(400)
    if private:
        # Real names of those who asked for initials or no listing: never to the press.
        if not accounts.can_export_private(account):
            abort(403)
        if fmt not in PRIVATE_FORMATS:
            abort(400)
    if letter.embargoed and not accounts.can_export_embargoed(account):
        assert letter.embargo_until is not None  # embargoed: an embargo_until in the future
        # The organisers prepare the release with the list; the press gets it at the end.
        message = _("The list is under embargo until %(when)s: it can be downloaded from then "
                    "on.", when=utc_when(letter.embargo_until))
        return Response(render_template("admin/refused.html", letter=letter, message=message),
                        status=403)
    out = io.BytesIO()
    try:
        export(letter, fmt, lang, layout, out, private)
    except KeyMismatch:
        message = _("The private names cannot be decrypted: the encryption key (EMAIL_KEY) was "
                    "changed without rotating it. Put the previous key back, then rotate it.")
        return Response(render_template("admin/refused.html", letter=letter, message=message),
                        status=409)
    audit.record(account.email, "export", letter_slug=letter.slug,
                 detail=export_detail(fmt, layout, lang, private))
    response = Response(out.getvalue(), content_type=renderer(fmt).MEDIA_TYPE)
    name = default_name(letter, fmt, lang, layout, private)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
