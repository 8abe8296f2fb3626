"""Admins give letters to accounts, and take them back, from the accounts page."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from ..extensions import db
from ..models import Account
from . import accounts, bp, current_account


def _account_or_404(account_id: int) -> Account:
    account = db.session.get(Account, account_id)
    if account is None:
        abort(404)
    return account


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
