"""A letter's bulk invalidation page: conditions, the count first, then "Invalidate N
signatures" as a recorded job; the past jobs with an Undo button. Thin: the rules live in
petition/signatures/invalidation.py (which audits each start and undo with its change).

ORGANISE, as the signatures pages: it acts on the list, so not press.
"""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import ngettext

from petition.admin import bp, current_account
from petition.admin.signatures import labels
from petition.extensions import db
from petition.models import Letter
from petition.models.abuse import JOB_RUNNING
from petition.signatures import invalidation
from petition.signatures.invalidation import Conditions, CurationError


@bp.route("/letters/<slug>/invalidation", methods=["GET", "POST"], endpoint="invalidation")
def invalidation_page(slug: str):
    """GET: the form and the jobs. POST without expected_count: the count, and a button to
    go on; with it: the job, if the count still holds (else the new count, to confirm)."""
    letter: Letter = g.letter
    if request.method == "GET":
        return _page(letter)
    try:
        conditions = Conditions.parse(request.form)
    except CurationError as problem:
        return _page(letter, values=request.form, error=str(problem)), 400
    expected = request.form.get("expected_count", type=int)
    if expected is not None:
        try:
            job = invalidation.start(letter, conditions, current_account().email, expected)
        except CurationError as problem:
            db.session.rollback()
            return _page(letter, conditions=conditions, error=str(problem)), 400
        if job.status == JOB_RUNNING:
            flash(ngettext("%(num)d signature is being invalidated in the background; the "
                           "list below shows when it is done.",
                           "%(num)d signatures are being invalidated in the background; the "
                           "list below shows when it is done.", job.matched))
        else:
            flash(ngettext("%(num)d signature invalidated: no longer listed or counted.",
                           "%(num)d signatures invalidated: no longer listed or counted.",
                           job.changed))
        return redirect(url_for("admin.invalidation", slug=slug), 303)
    return _page(letter, conditions=conditions)


@bp.post("/letters/<slug>/invalidation/<public_id>/undo", endpoint="invalidation_undo")
def invalidation_undo(slug: str, public_id: str):
    letter: Letter = g.letter
    try:
        job = invalidation.undo(public_id, current_account().email, letter=letter)
    except CurationError as problem:
        db.session.rollback()
        return _page(letter, error=str(problem)), 400
    restored = invalidation.restored_count(job)
    flash(ngettext("Job undone: %(num)d signature put back.",
                   "Job undone: %(num)d signatures put back.", restored))
    return redirect(url_for("admin.invalidation", slug=slug), 303)


def _page(letter: Letter, *, conditions: Conditions | None = None, values=None,
          error: str | None = None):
    """The page; with `conditions`, their count and the button to invalidate them."""
    shown = conditions.as_strings() if conditions else {
        name: (values.get(name) or "") for name in Conditions.FIELDS} if values else {}
    # With conditions, their count now (after a refused start: the new count to confirm).
    count = invalidation.count(letter, conditions) if conditions is not None else None
    jobs = invalidation.jobs(letter)
    return render_template("admin/invalidation.html", letter=letter, values=shown, count=count,
                           jobs=jobs, conditions_of=invalidation.conditions_of,
                           restored=invalidation.restored_count, error=error,
                           JOB_RUNNING=JOB_RUNNING, **labels())


__all__ = ["invalidation_page", "invalidation_undo"]
