"""A letter's signatures in the back office: search, find by address, correct, add by hand,
merge, delete, act on a selection. Thin: the rules live in petition/signatures/curation.py.

Every page here is ORGANISE: the search shows the real names of those who chose initials or
no listing (decrypted), and the provenance of entries added by hand. The search itself can
only look at what the list shows: hidden real names are encrypted.
"""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from petition import countries
from petition.accounts import audit
from petition.admin import bp, current_account
from petition.extensions import db, limit_allows
from petition.models import FULL, Letter
from petition.privacy import hidden_names
from petition.signatures import curation
from petition.signatures.curation import (
    ChangedMeanwhile,
    CurationError,
    Filters,
    SignatureNotFound,
)
from petition.signatures.search import Lookup, look_up, lookup_refused


def labels() -> dict:
    """What templates need to name countries (states go through the `human` filter)."""
    letter: Letter = g.letter
    lang = str(get_locale())
    overrides = letter.labels_for(lang)
    return dict(
        country_name=lambda code: countries.display_name(code, lang, overrides),
        country_choices=countries.country_choices(lang, overrides),
        # The real name and affiliation, decrypted for those who chose initials or none.
        real=hidden_names.real,
    )


def _audit(done: curation.Done) -> None:
    """Record the change and commit it with the audit row: both land, or neither."""
    audit.record(current_account().email, done.action, letter_slug=g.letter.slug,
                 detail=done.detail)


@bp.route("/letters/<slug>/signatures", methods=["GET", "POST"])
def signatures(slug: str):
    """The search (GET), and the lookup by exact address (POST: an address in a URL would
    stay in logs and browser history). A lookup tells who signed: it needs a reason, is
    audited found or not, and counts against the account's RATELIMIT_ADDRESS_LOOKUP."""
    letter: Letter = g.letter
    error, found, looked_up = None, None, False
    try:
        filters = Filters.parse(request.args)
    except CurationError as problem:
        filters, error = Filters(), str(problem)
    status = 200
    if request.method == "POST":
        try:
            lookup = Lookup.parse(request.form.get("email", ""), request.form.get("reason", ""))
        except CurationError as problem:
            error, status = str(problem), 400
        else:
            if _lookups_allowed():
                found = look_up(letter, lookup, current_account().email)
                looked_up = True
            else:
                lookup_refused(letter, lookup, current_account().email)
                error, status = _("You have made as many lookups by address as an account may "
                                  "for now. Nothing was looked up; please try again later."), 429
    if error and status == 200:
        status = 400
    page = curation.search(letter, filters, request.args.get("page", 1, type=int))
    return render_template(
        "admin/signatures.html", letter=letter, filters=filters, page=page, found=found,
        looked_up=looked_up, error=error, bulk_actions=curation.BULK_ACTIONS, **labels(),
    ), status


def _lookup_limit() -> str:
    return current_app.config["RATELIMIT_ADDRESS_LOOKUP"]


def _lookup_key() -> str:
    # Per account, whatever the letter or the client address: it is the account that may
    # learn who signed.
    return f"lookup:{current_account().id}"


def _lookups_allowed() -> bool:
    """Count one lookup against the account's limit; False once past it."""
    return limit_allows(_lookup_limit, _lookup_key, "address-lookup")


def _signature_or_404(public_id: str):
    try:
        return curation.get_signature(g.letter, public_id)
    except SignatureNotFound:
        abort(404)


@bp.route("/letters/<slug>/signatures/<public_id>", methods=["GET", "POST"])
def signature(slug: str, public_id: str):
    """One entry: correct it, merge it into another, delete it (field `do` says which)."""
    letter: Letter = g.letter
    if request.method == "POST" and not _still_there(public_id):
        # Gone since its page was loaded: another organiser deleted it, or merged it.
        return _changed_meanwhile(slug, public_id, str(ChangedMeanwhile()))
    signature = _signature_or_404(public_id)
    if request.method == "GET":
        return _signature_page(signature)
    form = request.form
    do = form.get("do")
    try:
        if do == "correct":
            done = curation.correct(letter, public_id, name=form.get("name", ""),
                                    affiliation=form.get("affiliation", ""),
                                    country=form.get("country", ""), commit=False)
            if not done.count:
                flash(_("Nothing to change."))
                return redirect(url_for("admin.signature", slug=slug, public_id=public_id), 303)
            _audit(done)
            flash(_("Signature corrected."))
            return redirect(url_for("admin.signature", slug=slug, public_id=public_id), 303)
        if do == "delete":
            if form.get("confirm") != "yes":
                raise CurationError(_("Please tick the box to confirm the deletion."))
            # The signer's choice, told to the organiser: the news ends too unless unticked.
            end_news = "news_choice" not in form or form.get("stop_news") == "y"
            _audit(curation.delete(letter, public_id, end_news=end_news, commit=False))
            flash(_("Signature deleted."))
            return redirect(url_for("admin.signatures", slug=slug), 303)
        if do == "merge":
            into = form.get("into", "").strip()
            _audit(curation.merge(letter, into, public_id, commit=False))
            flash(_("Merged: this entry was deleted, the one kept is shown."))
            return redirect(url_for("admin.signature", slug=slug, public_id=into), 303)
    except ChangedMeanwhile as problem:
        db.session.rollback()
        return _changed_meanwhile(slug, public_id, str(problem))
    except CurationError as problem:
        db.session.rollback()
        return _signature_page(signature, error=str(problem), form=form), 400
    abort(400)


def _still_there(public_id: str) -> bool:
    try:
        curation.get_signature(g.letter, public_id)
    except SignatureNotFound:
        return False
    return True


def _changed_meanwhile(slug: str, public_id: str, message: str):
    """Nothing was done: say so, and show the entry as it now is, or the list if it is gone."""
    flash(message)
    if _still_there(public_id):
        return redirect(url_for("admin.signature", slug=slug, public_id=public_id), 303)
    return redirect(url_for("admin.signatures", slug=slug), 303)


def _signature_page(signature, error: str | None = None, form=None):
    return render_template("admin/signature.html", letter=g.letter, signature=signature,
                           error=error, form=form or {}, **labels())


@bp.route("/letters/<slug>/signatures/new", methods=["GET", "POST"])
def new_signature(slug: str):
    letter: Letter = g.letter
    form = request.form
    if request.method == "POST":
        try:
            done = curation.add_manual(
                letter, signer_type=form.get("signer_type", ""), name=form.get("name", ""),
                affiliation=form.get("affiliation", ""), country=form.get("country", ""),
                display=form.get("display", FULL), provenance=form.get("provenance", ""),
                commit=False)
        except CurationError as problem:
            db.session.rollback()
            return render_template("admin/signature_new.html", letter=letter, form=form,
                                   error=str(problem), **labels()), 400
        _audit(done)
        flash(_("Signature added."))
        return redirect(url_for("admin.signature", slug=slug, public_id=done.public_ids[0]), 303)
    return render_template("admin/signature_new.html", letter=letter, form={}, error=None,
                           **labels())


BULK_SENTENCES = {
    "approve": lambda n: ngettext("This will approve %(num)d signature.",
                                  "This will approve %(num)d signatures.", n),
    "reject": lambda n: ngettext("This will reject %(num)d signature.",
                                 "This will reject %(num)d signatures.", n),
    "hide": lambda n: ngettext("This will hide %(num)d signature.",
                               "This will hide %(num)d signatures.", n),
    "delete": lambda n: ngettext("This will delete %(num)d signature.",
                                 "This will delete %(num)d signatures.", n),
}
DONE_SENTENCES = {
    "approve": lambda n: ngettext("%(num)d signature approved.", "%(num)d signatures approved.", n),
    "reject": lambda n: ngettext("%(num)d signature rejected.", "%(num)d signatures rejected.", n),
    "hide": lambda n: ngettext("%(num)d signature hidden.", "%(num)d signatures hidden.", n),
    "delete": lambda n: ngettext("%(num)d signature deleted.", "%(num)d signatures deleted.", n),
}


@bp.post("/letters/<slug>/signatures/bulk")
def signatures_bulk(slug: str):
    """Two steps: without expected_count, show the count; with it, act if it still holds."""
    letter: Letter = g.letter
    action = request.form.get("action", "")
    if action not in curation.BULK_ACTIONS:
        abort(400)
    try:
        filters = Filters.parse(request.form)
    except CurationError:
        abort(400)  # hidden fields the search page wrote: not typed by anyone
    expected = request.form.get("expected_count", type=int)
    error, status = None, 200
    if expected is not None:
        try:
            done = curation.bulk(letter, filters, action, expected, commit=False)
        except CurationError as problem:
            db.session.rollback()
            error, status = str(problem), 400
        else:
            _audit(done)
            flash(DONE_SENTENCES[action](done.count))
            search: dict[str, Any] = filters.as_strings()
            return redirect(url_for("admin.signatures", slug=slug, **search), 303)
    count = curation.bulk_count(letter, filters, action)
    return render_template("admin/signatures_bulk.html", letter=letter, filters=filters,
                           action=action, count=count, sentence=BULK_SENTENCES[action](count),
                           error=error, **labels()), status
