"""Accounts (admins) and the audit log (everyone, limited to their letters)."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..extensions import db
from ..models import Account
from . import accounts, audit, bp, current_account


@bp.get("/accounts")
def accounts_page():
    return render_template("admin/accounts.html", accounts=accounts.list_accounts(),
                           me=current_account(), letters=accounts.visible_letters(current_account()))


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


@bp.get("/audit")
def audit_page():
    return render_template("admin/audit.html", events=audit.events_for(current_account()))


@bp.get("/audit.csv")
def audit_csv() -> Response:
    events = audit.events_for(current_account(), limit=None)
    response = Response(audit.to_csv(events), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="audit.csv"'
    return response
