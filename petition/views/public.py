"""Public pages: the list of letters, a letter with its signatories, and signing."""
from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from petition.exporting.grouping import ListEmbargoed
from petition.exporting.page_summary import Limits, PageList, letter_page_list
from petition.extensions import limiter
from petition.letters import counting
from petition.letters.front_page import closed_on, front_page
from petition.letters.operations import LetterNotFound, get_public_letter
from petition.models import Letter
from petition.privacy.notice import facts as privacy_facts
from petition.signatures import signing
from petition.views import drive as drive_views
from petition.views import previews, public_letter_or_404, sharing
from petition.views.errors import too_many
from petition.views.forms import SignForm
from petition.views.i18n import show_languages_at
from petition.views.letter_lists import signatories_fragment
from petition.views.public_cache import language_redirect, shared
from petition.views.signature_chart import letter_chart
from petition.views.site_identity import find_logo
from petition.views.submission_guard import client_key, too_fast

bp = Blueprint("public", __name__)
previews.register(bp)  # the share image, favicon and touch icon
sharing.register(bp)  # the Mastodon share page


def current_lang() -> str:
    return str(get_locale())


def _sign_form(letter: Letter, **kwargs) -> SignForm:
    # No country names yet: _render_letter() adds them, with the letter's labels, if shown.
    return SignForm(signer_types=letter.signer_types,
                    display_default=letter.individual_display, **kwargs)


def _render_letter(letter: Letter, form: SignForm, status: int = 200,
                   rate_limited: bool = False, template: str = "letters/show.html"):
    lang = current_lang()
    if request.method == "POST":  # the form again, with errors: GET shows it at the letter
        show_languages_at(url_for("public.show", slug=letter.slug))
    form.label_countries(lang, letter.labels_for(lang))
    listing: PageList | None = None
    count: int | None = None
    try:
        if not letter.embargoed:
            # A big list as counts per country first, its names folded or on each country's
            # page; a previous list while another request rebuilds it: a burst of visitors
            # after a signature must not each pay for the rebuild.
            listing = letter_page_list(letter, lang, _page_limits())
            count = listing.total  # the same snapshot as the list shown
    except ListEmbargoed:  # the embargo was set since the letter was read
        listing = None
    embargoed = letter.embargoed or (count is None)
    if embargoed and letter.embargo_count:
        count = counting.public_total(letter.id)
    response = make_response(
        render_template(
            template,
            letter=letter,
            text=letter.text_for(lang),
            lang=lang,
            total=count,  # None: not shown (embargo)
            closed_on=closed_on(letter),
            embargoed=embargoed,
            sections=listing and (listing.sections or listing.rows),  # anything listed
            signatories=signatories_fragment(letter, lang, listing, embargoed),
            form=form,
            rate_limited=rate_limited,
            chart=None if embargoed else letter_chart(letter, lang),
        ),
        status,
    )
    return response


def render_preview(letter: Letter):
    """A draft's page as the public will see it once open, for admin/letter_preview.py:
    templates/admin/letter_preview.html adds noindex and a banner, and shows the form
    disabled."""
    return _render_letter(letter, _sign_form(letter, formdata=None),
                          template="admin/letter_preview.html")


def _page_limits() -> Limits:
    config = current_app.config
    return Limits(open_names=config["PUBLIC_NAMES_OPEN"], individuals=config["PUBLIC_NAMES_LIMIT"],
                  organizations=config["PUBLIC_ORGANIZATIONS_LIMIT"])


@bp.get("/")
def index():
    moved = language_redirect()  # a cached page is in the language its URL names
    if moved:
        return moved
    lang = current_lang()
    page = front_page(lang)
    response = make_response(render_template("index.html", page=page, lang=lang,
                                              written=drive_views.written_counts(page)))
    return shared(response, [summary.letter for summary in (*page.open, *page.closed)])


@bp.get("/letters/<slug>")
def show(slug: str):
    letter = public_letter_or_404(slug)
    moved = language_redirect()  # a cached page is in the language its URL names
    if moved:
        return moved
    if letter.is_drive:  # its appeal, its count and the form to write a letter
        return shared(drive_views.show(letter), [letter], etag=False)
    return shared(_render_letter(letter, _sign_form(letter, formdata=None)), [letter],
                  etag=False)


def _sign_limit() -> str:
    return current_app.config["RATELIMIT_SIGN"]


@bp.post("/letters/<slug>/sign")
@limiter.limit(_sign_limit, key_func=client_key, methods=["POST"])
def sign(slug: str):
    # Without its texts: a signature takes none (its mail is rendered at delivery); the
    # pages shown on refusal load them.
    letter = public_letter_or_404(slug, with_texts=False)
    if letter.is_drive:  # a drive takes letters (drive.write), not signatures
        abort(404)
    lang = current_lang()
    form = _sign_form(letter)
    if not letter.is_open:
        return render_template("letters/closed.html", letter=letter,
                               text=letter.text_for(lang)), 409
    if not form.validate():
        return _render_letter(letter, form, status=400)
    if form.is_bot or too_fast():
        # Look exactly like success, store nothing but the abuse event: a bot learns nothing.
        signing.drop(letter, form.email.data, request.remote_addr,
                     "honeypot" if form.is_bot else "too-fast")
        return redirect(url_for("public.check_mail", slug=slug), code=303)
    details = signing.SignatureDetails(
        signer_type=form.signer_type.data,
        name=form.name.data,
        affiliation=form.affiliation.data or None,
        country=form.country.data,
        email=form.email.data,
        display=form.display.data,
        lang=lang,
        news=bool(form.news.data),
    )
    try:
        signing.sign(letter, details, client_address=request.remote_addr)
    except signing.LetterClosed:
        return render_template("letters/closed.html", letter=letter,
                               text=letter.text_for(lang)), 409
    except signing.SignerTypeRefused:
        form.signer_type.errors = [_("This letter does not take this kind of signature.")]
        return _render_letter(letter, form, status=400)
    # Same page whatever the address's history: no way to learn who signed.
    return redirect(url_for("public.check_mail", slug=slug), code=303)


@bp.get("/letters/<slug>/sign")
def sign_page(slug: str):
    """The form's address typed or reloaded, or a language link of an old page: the letter."""
    public_letter_or_404(slug)
    lang = request.args.get("lang")
    query: dict[str, Any] = {"lang": lang} if lang else {}
    return redirect(url_for("public.show", slug=slug, **query), code=303)


@bp.errorhandler(429)
def rate_limited(error):
    """Too many signatures from one connection: the form again with what was typed."""
    slug = (request.view_args or {}).get("slug")
    if request.endpoint != "public.sign" or not slug:
        return too_many(error)
    try:
        letter = get_public_letter(slug)
    except LetterNotFound:
        return too_many(error)
    if not letter.is_open:
        return too_many(error)
    return _render_letter(letter, _sign_form(letter), status=429,
                          rate_limited=True)


@bp.get("/letters/<slug>/check-your-mail")
def check_mail(slug: str):
    letter = public_letter_or_404(slug)
    return render_template("letters/check_mail.html", letter=letter,
                           text=letter.text_for(current_lang()),
                           hours=current_app.config["CONFIRM_MAX_AGE"] // 3600,
                           per_hour=current_app.config["MAIL_PER_ADDRESS_PER_HOUR"])


@bp.get("/privacy")
def privacy():
    return render_template("privacy.html", facts=privacy_facts(current_app))


@bp.get("/letters/<slug>/privacy")
def letter_privacy(slug: str):
    """The notice with this letter's own retention period."""
    letter = public_letter_or_404(slug)
    return render_template("privacy.html", facts=privacy_facts(current_app, letter),
                           text=letter.text_for(current_lang()))


@bp.get("/site-logo")
def site_logo():
    """The logo named by SITE_LOGO or found in instance/, with the type its name says."""
    logo = find_logo(current_app)
    if logo is None:
        abort(404)
    response = send_file(logo.path, mimetype=logo.mimetype, max_age=3600, conditional=True)
    # An SVG opened on its own is a document of this site: no script, no form, no frame.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox")
    return response
