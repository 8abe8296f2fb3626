"""Error pages in the reader's language, never a stack trace."""
from __future__ import annotations

from flask import Flask, current_app, render_template, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from petition.core.log_scrubbing import first_line
from petition.extensions import db
from petition.views.i18n import show_languages_at

# Seconds a client is told to wait: about what a PostgreSQL restart takes.
RETRY_AFTER = 30


def init_app(app: Flask) -> None:
    @app.errorhandler(404)
    def not_found(error):
        return render_template("error.html", title=_("Page not found"),
                               message=_("There is nothing at this address.")), 404

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        message = _("The form expired or was sent from another site. "
                    "Please reload the page and try again.")
        return render_template("error.html", title=_("Please try again"), message=message), 400

    @app.errorhandler(413)
    def too_large(error):
        message = _("What you sent is far larger than this form takes. Nothing was recorded.")
        return render_template("error.html", title=_("Too large"), message=message), 413

    app.register_error_handler(429, too_many)

    @app.errorhandler(500)
    def server_error(error):
        message = _("Something went wrong on our side. "
                    "Nothing you sent was half-saved; please try again.")
        return render_template("error.html", title=_("Server error"), message=message), 500

    # The database went away (PostgreSQL restarting, a lost connection, a full or locked
    # SQLite file): the request's transaction is lost whole, so say "try again", not
    # "server error". Not every DBAPIError: an IntegrityError is a bug, and stays a 500.
    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(error: DBAPIError):
        _roll_back()
        current_app.logger.error("database unavailable: %s", first_line(error))
        message = _("The site cannot reach its database just now. Nothing was half-saved; "
                    "please try again in a moment.")
        response = current_app.make_response(
            (render_template("error.html", title=_("Try again in a moment"), message=message),
             503))
        response.headers["Retry-After"] = str(RETRY_AFTER)
        response.headers["Cache-Control"] = "no-store"
        return response


def control_characters_refused():
    """The answer to a request holding control characters (the factory's guard)."""
    # The language links lead to the front page, not back to the address refused.
    show_languages_at(url_for("public.index"))
    message = _("What you sent holds a control character, an invisible character that has "
                "no place in text. Nothing was recorded; please go back, remove it and try "
                "again.")
    return render_template("error.html", title=_("Invisible character refused"),
                           message=message), 400


def too_many(error):
    """The generic 429 page (the sign form has its own: see views.public.rate_limited)."""
    message = _("Too many attempts from your connection. Please wait a few minutes and try again.")
    return render_template("error.html", title=_("Slow down"), message=message), 429


def _roll_back() -> None:
    """Drop whatever the request had in its session; a dead connection may refuse even that."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.close()

