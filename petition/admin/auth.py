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
from petition.extensions import db, limiter


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _typed_email() -> str:
    # Also the key of the per-account limit: guessing one account's password from many
    # addresses still counts against that account.
    return "login:" + accounts.normalize_email(request.form.get("email", ""))[:254]


def _failed(response: Response) -> bool:
    return response.status_code != 303


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_limit, methods=["POST"], key_func=_typed_email, deduct_when=_failed)
def login():
    if request.method == "GET":
        return render_template("admin/login.html")
    email = request.form.get("email", "")
    account = accounts.verify_login(email, request.form.get("password", ""),
                                    request.form.get("totp"))
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
    audit.record(current_account().email, "logout")
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
