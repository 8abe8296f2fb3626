"""The public press list as a file: GET /letters/<slug>/signatories.<fmt>?lang=xx."""
from __future__ import annotations

import io

from flask import Blueprint, Response, abort, request
from flask_babel import get_locale

from ..exporting.document import PRESS
from ..exporting.formats import PUBLIC_FORMATS, export, renderer
from ..i18n import normalize
from . import public_letter_or_404

bp = Blueprint("exports", __name__)


@bp.get("/letters/<slug>/signatories.<fmt>")
def signatories(slug: str, fmt: str) -> Response:
    """The press list in txt, md or html; per-signature formats stay in the back office."""
    if fmt not in PUBLIC_FORMATS:
        abort(404)
    letter = public_letter_or_404(slug)
    lang = normalize(request.args.get("lang")) or str(get_locale())
    out = io.BytesIO()
    export(letter, fmt, lang, PRESS, out)
    response = Response(out.getvalue(), content_type=renderer(fmt).MEDIA_TYPE)
    response.headers["Content-Disposition"] = f'inline; filename="{letter.slug}-{lang}.{fmt}"'
    response.headers["Content-Language"] = lang
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response
