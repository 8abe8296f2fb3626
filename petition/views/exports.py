"""The public press list as a file: GET /letters/<slug>/signatories.<fmt>?lang=xx."""
from __future__ import annotations

import io

from flask import Blueprint, Response, abort, make_response, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from ..exporting.document import PRESS
from ..exporting.formats import PUBLIC_FORMATS, export, renderer
from ..exporting.grouping import ListEmbargoed
from ..i18n import normalize
from ..models import Letter
from ..templating import utc_when
from . import public_letter_or_404
from .embargo import cache_headers

bp = Blueprint("exports", __name__)


@bp.get("/letters/<slug>/signatories.<fmt>")
def signatories(slug: str, fmt: str) -> Response:
    """The press list in txt, md or html; per-signature formats stay in the back office."""
    if fmt not in PUBLIC_FORMATS:
        abort(404)
    letter = public_letter_or_404(slug)
    lang = normalize(request.args.get("lang")) or str(get_locale())
    out = io.BytesIO()
    try:
        export(letter, fmt, lang, PRESS, out, public=True)
    except ListEmbargoed:
        return _embargoed(letter)
    response = Response(out.getvalue(), content_type=renderer(fmt).MEDIA_TYPE)
    response.headers["Content-Disposition"] = f'inline; filename="{letter.slug}-{lang}.{fmt}"'
    response.headers["Content-Language"] = lang
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


def _embargoed(letter: Letter) -> Response:
    """404 with the reason, kept by no cache past the embargo's end (the list appears then)."""
    when = utc_when(letter.embargo_until) if letter.embargo_until else None
    message = (_("The list of signatories will be published on %(when)s.", when=when) if when
               else _("The list of signatories will be published later."))
    response = make_response(render_template("error.html", title=_("Not published yet"),
                                             message=message), 404)
    return cache_headers(response, letter)
