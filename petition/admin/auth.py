"""Login with password and TOTP, logout, TOTP enrolment."""
from __future__ import annotations

import time

import segno
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from petition import addresses
from petition.accounts import audit
from petition.accounts import operations as accounts
from petition.admin import User, bp, current_account, totp_required
from petition.extensions import db, limit_allows, limiter


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _typed_email() -> str:
    # Also the key of the per-account limit: guessing one account's password from many
    # addresses still counts against that account.
    return "login:" + accounts.normalize_email(request.form.get("email", ""))[:254]


def _failed(response: Response) -> bool:
    return response.status_code != 303


def _account_throttled() -> bool:
    """Count one attempt against the account typed, whoever sends it; True once past
    RATELIMIT_LOGIN. Called on failures only (see login())."""
    # Here rather than as a decorator, which would look before the password is.
    return not limit_allows(_login_limit, _typed_email, "login-account")


def _throttled(email: str) -> tuple[str, int]:
    actor = accounts.normalize_email(email)[:254] or "-"
    event = audit.record(actor, "login.throttled",
                         detail="failed logins past RATELIMIT_LOGIN for this address")
    # No address in the log: the audit event names it, for those allowed to read it.
    current_app.logger.warning("back-office login throttled: too many failed attempts on one "
                               "account (audit event %d)", event.id)
    return render_template(
        "admin/login.html", email=email,
        error=_("Too many failed attempts on this account. Check your password and code, "
                "then try again in a few minutes.")), 429


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
def login():
    if request.method == "GET":
        return render_template("admin/login.html")
    email = request.form.get("email", "")
    account = accounts.verify_login(email, request.form.get("password", ""),
                                    request.form.get("totp"))
    # The limit per account (from any address) counts failures and is looked at only on a
    # failure: strangers' guesses never keep out the right password and code. A password
    # alone (no second factor enrolled) is counted like a guess: a stranger needs no more.
    if (account is None or account.totp_secret is None) and _account_throttled():
        db.session.rollback()
        return _throttled(email)
    if account is None:
        db.session.rollback()
        audit.record(email.strip() or "-", "login.failure")
        # One message for an unknown address, a wrong password, a wrong code or a disabled
        # account: the form must not tell which addresses have accounts.
        return render_template("admin/login.html", email=email,
                               error=_("Wrong email, password or code.")), 200
    second_factor = account.totp_secret is not None
    audit.record(account.email, "login.success", commit=False)
    db.session.commit()
    # A new session for the new login: nothing planted before it survives (fixation).
    session.clear()
    login_user(User(account))
    session["login_at"] = time.time()
    session["second_factor"] = second_factor
    if not second_factor:
        return redirect(url_for("admin.totp"), 303)
    return redirect(url_for("admin.letters"), 303)


@bp.post("/logout")
def logout():
    accounts.log_out(current_account())
    logout_user()
    session.clear()
    return redirect(url_for("admin.login"), 303)


@bp.route("/account/totp", methods=["GET", "POST"])
def totp():
    account = current_account()
    if account.totp_secret is not None:
        session["second_factor"] = True
        return redirect(url_for("admin.letters"), 303)
    # The secret waits in the (signed, not secret) session cookie encrypted, until a code
    # proves the authenticator app has it.
    pending = session.get("totp_pending")
    secret = addresses.decrypt(pending.encode()) if pending else None
    if secret is None:
        secret = accounts.new_totp_secret()
        session["totp_pending"] = addresses.encrypt(secret).decode()
    error = None
    if request.method == "POST":
        if accounts.enrol_totp(account, secret, request.form.get("totp", "")):
            session.pop("totp_pending", None)
            session["second_factor"] = True
            flash(_("Two-factor authentication is on."))
            return redirect(url_for("admin.letters"), 303)
        error = _("Wrong code. Type the code your app shows now.")
    qr = segno.make(accounts.totp_uri(account, secret), error="m")
    return render_template(
        "admin/totp.html",
        secret=secret,
        qr=qr.svg_data_uri(scale=5, border=2),
        required=totp_required(current_app),
        error=error,
    ), (400 if error else 200)
