"""The moderation queue of one letter: signatures held for approval, oldest first (the
organisations, and individuals who signed with the name of one, see moderation.must_hold).

Thin: the rules live in petition/moderation.py. Nothing held is listed or counted publicly
(Signature.is_public); approving lists and counts it.
"""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from petition.accounts import audit
from petition.admin import bp, current_account
from petition.admin.signatures import labels
from petition.extensions import db
from petition.models import Letter
from petition.signatures import moderation

DONE = {
    "approve": lambda n: ngettext("%(num)d signature approved: listed and counted.",
                                  "%(num)d signatures approved: listed and counted.", n),
    "reject": lambda n: ngettext("%(num)d signature rejected.", "%(num)d signatures rejected.", n),
    "hide": lambda n: ngettext("%(num)d signature hidden.", "%(num)d signatures hidden.", n),
}


@bp.route("/letters/<slug>/moderation", methods=["GET", "POST"], endpoint="moderation")
def moderation_queue(slug: str):
    letter: Letter = g.letter
    if request.method == "GET":
        return _page(letter)
    # A row's own button says "approve:<id>"; the buttons under the table act on the ticks.
    decision, _sep, one = request.form.get("row_decision", "").partition(":")
    ids = [one] if one else request.form.getlist("ids")
    decision = decision if one else request.form.get("decision", "")
    if decision not in moderation.DECISIONS:
        return _page(letter, _("Please choose approve, reject or hide.")), 400
    if not ids:
        return _page(letter, _("Please tick at least one signature.")), 400
    try:
        count = moderation.decide(letter.slug, ids, decision, commit=False)
    except moderation.ModerationError:
        db.session.rollback()
        return _page(letter, _("Some of these are not confirmed signatures of this letter "
                               "any more; nothing changed.")), 400
    audit.record(current_account().email, f"moderation.{decision}", letter_slug=letter.slug,
                 detail=" ".join(sorted(ids)))
    flash(DONE[decision](count))
    return redirect(url_for("admin.moderation", slug=slug), 303)


def _page(letter: Letter, error: str | None = None):
    return render_template("admin/moderation.html", letter=letter,
                           held=moderation.held(letter.slug), error=error, **labels())
