"""The back office under /admin: locked by default.

Every endpoint of the blueprint must name what it needs in PERMISSIONS; the one guard below
reads it before any view runs, and refuses an endpoint the table does not know. A new view
is therefore closed until someone decides who may see it.
"""
from __future__ import annotations

import time

from flask import Blueprint, Flask, abort, current_app, g, redirect, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user
from sqlalchemy import select

from petition.accounts import operations as accounts
from petition.core import startup_checks
from petition.extensions import db
from petition.models import Letter
from petition.models.accounts import Account

bp = Blueprint("admin", __name__, url_prefix="/admin")
login_manager = LoginManager()

# What an endpoint needs, from least to most.
PUBLIC = "public"        # the login page: anyone
SIGNED_IN = "signed-in"  # logged in, second factor maybe still to enrol: logout, enrolment
ANY = "any"              # any account with its login complete
EDITOR = "editor"        # admins and organisers (not press): creating a letter
LETTER = "letter"        # admin, or an account given the letter of <slug> (404 otherwise)
ORGANISE = "organise"    # as LETTER, and not press: every change to a letter or its list
TRANSLATE = "translate"  # a drive's translation queue: admin, or an organiser or translator
                         # given the drive (404 otherwise); a translator has nothing else
ADMIN = "admin"          # admins only

PERMISSIONS: dict[str, str] = {
    "admin.login": PUBLIC,
    "admin.logout": SIGNED_IN,
    "admin.totp": SIGNED_IN,
    "admin.letters": ANY,
    "admin.audit_page": ANY,
    "admin.audit_csv": ANY,
    "admin.letter": LETTER,
    "admin.export_letter": LETTER,
    "admin.accounts_page": ADMIN,
    "admin.disable": ADMIN,
    "admin.revoke": ADMIN,
    "admin.give_letter": ADMIN,
    # Signatures and moderation: the search shows real names of unlisted signers: not press.
    "admin.signatures": ORGANISE,
    "admin.signature": ORGANISE,
    "admin.new_signature": ORGANISE,
    "admin.signatures_bulk": ORGANISE,
    "admin.moderation": ORGANISE,
    "admin.invalidation": ORGANISE,
    "admin.invalidation_undo": ORGANISE,
    # Letters: creating takes an admin or organiser; editing, the letter as well.
    "admin.new_letter": EDITOR,
    "admin.edit_letter": ORGANISE,
    "admin.letter_texts": ORGANISE,
    "admin.letter_labels": ORGANISE,
    "admin.letter_campaign": ORGANISE,
    "admin.letter_status": ORGANISE,
    "admin.letter_preview": ORGANISE,  # a draft as the public will see it: not press
    # News to subscribers: written and sent by those who run the letter, not press.
    "admin.news_new": ORGANISE,
    "admin.news_update": ORGANISE,
    "admin.news_test": ORGANISE,
    "admin.news_send": ORGANISE,
    # Abuse review: trends and the allow and block lists (site-wide ones: admins, checked
    # in the view).
    "admin.abuse": ORGANISE,
    "admin.abuse_rule_add": ORGANISE,
    "admin.abuse_rule_remove": ORGANISE,
    # Imports write signatures: not press.
    "admin.import_form": ORGANISE,
    "admin.import_check": ORGANISE,
    "admin.import_confirm": ORGANISE,
    # Letter drives: the letters are personal data, read and decided on by organisers.
    "admin.drive_queue": ORGANISE,
    "admin.drive_letters": ORGANISE,
    "admin.drive_letter": ORGANISE,
    "admin.drive_approve": ORGANISE,
    "admin.drive_return": ORGANISE,
    "admin.drive_reject": ORGANISE,
    "admin.drive_reply": ORGANISE,
    "admin.drive_translation_reviewed": ORGANISE,
    "admin.drive_batches": ORGANISE,
    "admin.drive_batch": ORGANISE,
    "admin.drive_batch_download": ORGANISE,
    "admin.drive_batch_sent": ORGANISE,
    "admin.drive_settings": ORGANISE,
    "admin.drive_guidance": ORGANISE,
    # Translation: the only pages of a translator, besides the list and its own audit.
    "admin.drive_translations": TRANSLATE,
    "admin.drive_translation": TRANSLATE,
}


class User(UserMixin):
    """Flask-Login's view of an account. The id carries the session version, so bumping
    Account.session_version makes every older session load no user."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def get_id(self) -> str:
        return f"{self.account.id}:{self.account.session_version}"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    try:
        account_id, version = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    account = db.session.get(Account, account_id)
    if account is None or not account.active or account.session_version != version:
        return None
    login_at = session.get("login_at")
    max_age = float(current_app.config["ADMIN_SESSION_HOURS"]) * 3600
    if not isinstance(login_at, (int, float)) or time.time() - login_at > max_age:
        return None
    return User(account)


def current_account() -> Account:
    return current_user.account


def totp_required(app: Flask) -> bool:
    setting = app.config.get("ADMIN_TOTP_REQUIRED")
    return startup_checks.is_production(app) if setting is None else bool(setting)


@bp.before_request
def guard():
    need = PERMISSIONS.get(request.endpoint or "")
    if need is None:
        abort(403)  # not in the table: nobody decided who may see it
    if need == PUBLIC:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("admin.login"))
    if need == SIGNED_IN:
        return None
    if not session.get("second_factor") and totp_required(current_app):
        return redirect(url_for("admin.totp"))
    account = current_account()
    if need == ADMIN and not account.is_admin:
        abort(403)
    if need in (EDITOR, ORGANISE) and not accounts.can_edit(account):
        abort(403)
    if need in (LETTER, ORGANISE, TRANSLATE):
        slug = (request.view_args or {}).get("slug")
        letter = db.session.scalars(select(Letter).where(Letter.slug == slug)).one_or_none()
        allowed = accounts.can_translate if need == TRANSLATE else accounts.can_see_letter
        # The same 404 for a letter that does not exist and one not given: an organiser of
        # one campaign cannot learn the names of others.
        if letter is None or not allowed(account, letter):
            abort(404)
        g.letter = letter
    elif need not in (ANY, ADMIN, EDITOR):
        abort(403)
    return None


@bp.context_processor
def _page_flags() -> dict:
    """On every back-office page: whether to offer changes (not to press), and the number
    of organisations a letter holds for approval."""
    from petition.signatures.moderation import held_count

    may_edit = current_user.is_authenticated and accounts.can_edit(current_account())
    return {"may_edit": bool(may_edit), "waiting_count": held_count}


@bp.after_request
def no_store(response):
    # Back-office pages and files name signatories: no cache may keep them. A view that
    # set its own no-store (the letter preview's "private, no-store") keeps it.
    if "no-store" not in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    # Views register on bp when imported.
    from petition.admin import (  # noqa: F401
        abuse,
        auth,
        drive_batches,
        drive_replies,
        drive_review,
        drive_settings,
        drive_translation,
        exports,
        imports,
        invalidation,
        labels,
        letter_campaign,
        letter_edit,
        letter_preview,
        letters,
        manage,
        moderation_views,
        news,
        signatures,
    )
    from petition.admin.cookie import AdminSessionInterface

    labels.init_app(app)

    app.session_interface = AdminSessionInterface()
    # Flask-Login's own context processor loads the user for every page rendered, public
    # ones included; the proxy loads it only where a template asks (the back office's).
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(lambda: {"current_user": current_user})
    # Our own checks (version, expiry) replace Flask-Login's IP/agent heuristics, which
    # would also write into the public session.
    login_manager.session_protection = None
    app.register_blueprint(bp)
