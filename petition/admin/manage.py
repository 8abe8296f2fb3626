"""Accounts (admins) and the audit log (everyone, limited to their letters)."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from petition.accounts import audit
from petition.accounts import operations as accounts
from petition.admin import bp, current_account
from petition.extensions import db
from petition.models.accounts import Account


@bp.get("/accounts")
def accounts_page():
    return render_template("admin/accounts.html", accounts=accounts.list_accounts(),
                           me=current_account(),
                           letters=accounts.visible_letters(current_account()))


def _account_or_404(account_id: int) -> Account:
    account = db.session.get(Account, account_id)
    if account is None:
        abort(404)
    return account


@bp.post("/accounts/<int:account_id>/disable")
def disable(account_id: int):
    account = _account_or_404(account_id)
    accounts.disable_account(account.email, actor=current_account().email)
    flash(_("Account %(email)s disabled; its sessions are ended.", email=account.email))
    return redirect(url_for("admin.accounts_page"), 303)


@bp.post("/accounts/<int:account_id>/revoke")
def revoke(account_id: int):
    account = _account_or_404(account_id)
    accounts.revoke_sessions(account, actor=current_account().email)
    flash(_("Every session of %(email)s is ended.", email=account.email))
    return redirect(url_for("admin.accounts_page"), 303)


def _audit_filter() -> tuple[audit.AuditFilter, str | None]:
    filters, bad = audit.AuditFilter.parse(request.args)
    error = _("Write dates as YYYY-MM-DD.") if bad else None
    return filters, error


@bp.post("/accounts/<int:account_id>/letters")
def give_letter(account_id: int):
    account = _account_or_404(account_id)
    slug = request.form.get("slug", "")
    try:
        if request.form.get("action") == "withdraw":
            accounts.withdraw_letter(account.email, slug, actor=current_account().email)
            flash(_("%(email)s no longer sees %(slug)s.", email=account.email, slug=slug))
        else:
            accounts.assign_letter(account.email, slug, actor=current_account().email)
            flash(_("%(email)s now sees %(slug)s.", email=account.email, slug=slug))
    except accounts.AccountError:
        abort(400)
    return redirect(url_for("admin.accounts_page"), 303)


@bp.get("/audit")
def audit_page():
    account = current_account()
    filters, error = _audit_filter()
    before = request.args.get("before", type=int)
    events, older = audit.page_for(account, filters, before)
    return render_template(
        "admin/audit.html", events=events, filters=filters, error=error, older=older,
        paged=before is not None, letters=accounts.visible_letters(account),
    ), 400 if error else 200


@bp.get("/audit.csv")
def audit_csv() -> Response:
    filters, error = _audit_filter()
    if error:
        abort(400)
    events = audit.events_for(current_account(), limit=None, filters=filters)
    response = Response(audit.to_csv(events), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="audit.csv"'
    return response
