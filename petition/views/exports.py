"""The public press list as a file: GET /letters/<slug>/signatories.<fmt>?lang=xx."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    render_template,
    request,
)
from flask_babel import gettext as _

from petition.exporting import press, press_cache
from petition.exporting.formats import PUBLIC_FORMATS, renderer
from petition.models import Letter
from petition.views import public_letter_or_404
from petition.views.embargo import cache_headers, embed_cache_headers
from petition.views.i18n import asked_language, set_no_cookie
from petition.views.templating import utc_when

bp = Blueprint("exports", __name__)


@bp.before_app_request
def _count_in() -> None:
    # Every request of the process: a press list build running meanwhile lets them go first.
    press_cache.count_request(+1)


@bp.teardown_app_request
def _count_out(error: BaseException | None = None) -> None:
    press_cache.count_request(-1)


@bp.get("/letters/<slug>/signatories.<fmt>")
def signatories(slug: str, fmt: str) -> Response:
    """The press list in txt, md or html; per-signature formats stay in the back office.

    Built once per state of the list and shared between workers (exporting.press); a client
    or cache that has this state already gets a 304 for the price of one database read.
    """
    if fmt not in PUBLIC_FORMATS:
        abort(404)
    letter = public_letter_or_404(slug)
    # Never the language cookie: caches keep this answer (views/public_cache.py).
    lang, named = asked_language(current_app.config["BABEL_DEFAULT_LOCALE"])
    gzipped = "gzip" in request.accept_encodings
    try:
        state = press.current_state(letter)  # the embargo as committed now, before any cache
        if request.if_none_match.contains_weak(_etag(letter, state.token, lang, fmt, gzipped)):
            response = Response(status=304)
            token, changed_at = state.token, state.changed_at
        else:
            # Possibly the previous list, while another worker builds this state's.
            built = press.press_file(letter, state, lang, fmt)
            token, changed_at = built.token, built.changed_at
            response = Response(built.gz if gzipped else built.body(),
                                content_type=renderer(fmt).MEDIA_TYPE)
            if gzipped:  # as kept: most clients take gzip, and the bytes need no work then
                response.headers["Content-Encoding"] = "gzip"
    except press.ListEmbargoed:
        return _embargoed(letter)
    response.set_etag(_etag(letter, token, lang, fmt, gzipped))
    if changed_at is not None:
        response.last_modified = changed_at
    response.headers["Content-Disposition"] = f'inline; filename="{letter.slug}-{lang}.{fmt}"'
    response.headers["Content-Language"] = lang
    response.vary.add("Accept-Encoding")
    if not named:  # the language came from Accept-Language
        response.vary.add("Accept-Language")
    set_no_cookie()
    # A list the public may read: shared caches may keep it briefly, then ask again with the
    # ETag (a 304 costs one database read); never past a running embargo.
    return embed_cache_headers(response, [letter],
                               max_age=int(current_app.config["PUBLIC_CACHE_SECONDS"]))


def _etag(letter: Letter, token: str, lang: str, fmt: str, gzipped: bool) -> str:
    """The state's tag; the gzip encoding is another representation, so another tag."""
    tag = press.etag(letter, token, lang, fmt)
    return f"{tag}-gzip" if gzipped else tag


def _embargoed(letter: Letter) -> Response:
    """404 with the reason, kept by no cache past the embargo's end (the list appears then)."""
    when = utc_when(letter.embargo_until) if letter.embargo_until else None
    message = (_("The list of signatories will be published on %(when)s.", when=when) if when
               else _("The list of signatories will be published later."))
    response = make_response(render_template("error.html", title=_("Not published yet"),
                                             message=message), 404)
    return cache_headers(response, letter)
