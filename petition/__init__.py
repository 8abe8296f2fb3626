"""petition: open letters and petitions with double opt-in, grouped by country."""
from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, ConfigurationError, config_from_env
from petition.core import log_scrubbing, startup_checks

__all__ = ["ConfigurationError", "create_app"]


def create_app(config: Mapping[str, Any] | type[Config] | None = None) -> Flask:
    """Build the app; `config` (a mapping or a Config class) overrides the environment."""
    app = Flask(
        __name__,
        instance_path=str(Path(__file__).resolve().parent.parent / "instance"),
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_object(config_from_env())
    if isinstance(config, type):
        app.config.from_object(config)
    elif config:
        app.config.update(config)

    # First, so not even a refused start logs a token or a client address.
    log_scrubbing.init_app(app)
    startup_checks.check_environment(app)
    _load_secrets(app)
    startup_checks.check_secrets(app)
    startup_checks.check_rate_limit_storage(app)
    startup_checks.warn_missing_identity(app)
    startup_checks.create_private_sqlite_file(app)
    _harden(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    return app


def _load_secrets(app: Flask) -> None:
    """Production must bring its keys; development keeps generated ones in instance/."""
    production = startup_checks.is_production(app)
    for name, make in (("SECRET_KEY", lambda: secrets.token_urlsafe(48)), ("EMAIL_KEY", None)):
        if app.config.get(name):
            continue
        if production:
            raise ConfigurationError(f"{name} must be set in the environment in production")
        app.config[name] = _instance_secret(app, name, make)


def _instance_secret(app: Flask, name: str, make) -> str:
    from petition.addresses import generate_key

    path = Path(app.instance_path) / name.lower()
    if path.exists():
        return path.read_text().strip()
    os.makedirs(app.instance_path, exist_ok=True)
    value = make() if make else generate_key()
    # Create with 0600: this key decrypts signatories' addresses.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def _harden(app: Flask) -> None:
    production = startup_checks.is_production(app)
    if production:
        # Whatever a class or an override says: a session sent over plain HTTP can be stolen.
        app.config["SESSION_COOKIE_SECURE"] = True
    # Trust X-Forwarded-For only from as many proxies as we were told sit in front;
    # otherwise anyone could choose the address that rate limits see.
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Flask's documented way to add WSGI middleware: the instance attribute shadows the
        # method, which mypy cannot express.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    @app.before_request
    def refuse_control_characters():
        # PostgreSQL refuses NUL in any text value (psycopg raises a DataError: a 500 for
        # /letters/a%00b, a login, a search or a file name), and the other C0 controls
        # forge lines in logs, exports and mail. Refused here, once, before any hook or view
        # can hand one to the database. Before CSRFProtect and the limiter: reading the form
        # is safe, the admin's _body_limits (inserted first) has set its size limits.
        if _holds_control_characters():
            from petition.views.errors import control_characters_refused

            return control_characters_refused()
        return None

    @app.after_request
    def security_headers(response):
        # Each header unless the view set its own. Headers.setdefault raises and catches an
        # exception for each header it does not find: the headers are looked at once instead.
        present = {name.lower() for name, _value in response.headers}

        def setdefault(name: str, value: str) -> None:
            if name.lower() not in present:
                response.headers.add(name, value)

        # No third-party script, font or frame: signatories may be watched.
        setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        setdefault("X-Content-Type-Options", "nosniff")
        # same-origin, not no-referrer: the strict check (WTF_CSRF_SSL_STRICT, _check_origin)
        # wants a POST over HTTPS to carry this site's Referer, and with no-referrer browsers
        # send Origin: null instead of the site's, so every form would fail. Other sites
        # still get no Referer. Keep templates/base.html's meta tag the same: it overrides
        # this header inside the page.
        setdefault("Referrer-Policy", "same-origin")
        if not g.get("framable"):  # views/embeds.py's widget alone may be framed
            setdefault("X-Frame-Options", "DENY")
        setdefault("Permissions-Policy", "interest-cohort=()")
        if production:
            # Browsers that came once never try plain HTTP again, where a network can watch.
            setdefault("Strict-Transport-Security", startup_checks.HSTS)
        if request.path.startswith(("/confirm/", "/withdraw/")) or request.path == "/withdraw":
            # The token is in the path, the page names a signer: keep it out of caches.
            response.headers["Cache-Control"] = "no-store"
        return response


# Any C0 control character: no path, query string, field name or file name has a use for one.
_C0 = re.compile("[\x00-\x1f]")
_C0_BYTES = re.compile(b"[\x00-\x1f]")
# In a form field's value only NUL, which the database refuses: a textarea (a letter's text)
# holds tabs and line breaks, and a stray control character pasted into a name gets the
# form back with a message at the field (names.plain_text_problem), not an error page.
_C0_IN_VALUES = re.compile("\x00")


def _holds_control_characters() -> bool:
    """Whether the request's path, query string, field names or file names hold a C0
    control character, or a form value holds NUL."""
    if _C0.search(request.path) or _C0_BYTES.search(unquote_to_bytes(request.query_string)):
        return True
    if any(_C0.search(name) or _C0_IN_VALUES.search(value)
           for name, value in request.form.items(multi=True)):
        return True
    return any(_C0.search(name) or _C0.search(upload.filename or "")
               for name, upload in request.files.items(multi=True))


def _init_extensions(app: Flask) -> None:
    from petition.extensions import babel, csrf, db, init_db, init_limiter
    from petition.views.i18n import select_locale

    if init_db(app):
        from petition.core.pipelining import begin_on_checkout

        with app.app_context():
            begin_on_checkout(db.engine)
    csrf.init_app(app)
    _check_origin(app)
    babel.init_app(app, locale_selector=select_locale)
    init_limiter(app)

    from petition.views import i18n, site_identity, templating

    i18n.init_app(app)
    templating.init_app(app)
    site_identity.init_app(app)

    from petition import worker
    from petition.abuse import alerts as abuse_alerts
    from petition.drive import mails as drive_mails
    from petition.letters import milestones
    from petition.mail import dispatcher
    from petition.news import mails as news_mails
    from petition.signatures import mails, withdrawal

    worker.init_app(app)
    # The signers', writers' and organisers' mails are made at delivery; a withdrawal
    # request becomes link mails, a milestone request one mail per organiser.
    dispatcher.register(app, mails.SIGNER_MAILS)
    dispatcher.register(app, drive_mails.DRIVE_MAILS)
    dispatcher.register(app, milestones.MILESTONE_MAILS)
    dispatcher.register(app, news_mails.NEWS_MAILS)  # an update, to one subscriber
    dispatcher.before_each_pass(app, withdrawal.expand_requests)
    dispatcher.before_each_pass(app, milestones.expand_requests)
    # A trend's alert: one request, one mail per organiser, as a milestone's.
    dispatcher.register(app, abuse_alerts.ABUSE_MAILS)
    dispatcher.before_each_pass(app, abuse_alerts.expand_requests)


def _check_origin(app: Flask) -> None:
    """Over HTTPS, a form must come from this site: its Referer, or its Origin without one.

    Flask-WTF's own check (WTF_CSRF_SSL_STRICT) wants a Referer and refuses a form without
    one, but browsers set to withhold it (a privacy setting, an extension: signatories who
    may be watched use them) still send Origin. As Django does: the Referer when there is
    one, else the Origin; another site's, "null" or neither is refused, and so is a request
    whose Referer and Origin disagree. Flask-WTF keeps checking the token (before this).
    WTF_CSRF_SSL_STRICT=false still turns the origin check off.
    """
    strict = app.config.get("WTF_CSRF_SSL_STRICT", True)
    app.config["WTF_CSRF_SSL_STRICT"] = False  # this check replaces Flask-WTF's
    if not strict:
        return

    @app.before_request
    def same_origin_over_https():
        # csrf_valid: Flask-WTF checked this request's token (a POST not exempt, CSRF on).
        if not request.is_secure or not g.get("csrf_valid"):
            return
        from flask_wtf.csrf import CSRFError

        here = _origin(f"https://{request.host}/")
        referrer, origin = request.headers.get("Referer"), request.headers.get("Origin")
        if not referrer and not origin:
            raise CSRFError("Neither a Referer nor an Origin header.")
        for header, value in (("Referer", referrer), ("Origin", origin)):
            if value and _origin(value) != here:
                raise CSRFError(f"The {header} header is not this site's.")


def _origin(url: str) -> tuple[str, str, int] | None:
    from petition.views.public_cache import origin_of

    return origin_of(url)


def _register_blueprints(app: Flask) -> None:
    from petition.views import (
        api,
        api_v1,
        confirm,
        drive,
        drive_links,  # noqa: F401  (its routes join the drive blueprint on import)
        embeds,
        errors,
        exports,
        health,
        letter_lists,
        news,
        public,
        withdraw,
    )

    app.register_blueprint(public.bp)
    app.register_blueprint(drive.bp)
    app.register_blueprint(confirm.bp)
    app.register_blueprint(withdraw.bp)
    app.register_blueprint(news.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_v1.bp)
    app.register_blueprint(embeds.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(letter_lists.bp)
    health.init_app(app)
    errors.init_app(app)
    from petition.views import public_cache

    public_cache.init_app(app)  # the public forms: checked by origin, not by a token

    from petition import admin

    admin.init_app(app)


def _register_cli(app: Flask) -> None:
    from petition import cli

    cli.init_app(app)
