"""Error pages in the reader's language, never a stack trace."""
from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError


def init_app(app: Flask) -> None:
    @app.errorhandler(404)
    def not_found(error):
        return render_template("error.html", title=_("Page not found"),
                               message=_("There is nothing at this address.")), 404

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        message = _("The form expired or was sent from another site. Please reload the page and try again.")
        return render_template("error.html", title=_("Please try again"), message=message), 400

    @app.errorhandler(413)
    def too_large(error):
        message = _("What you sent is far larger than this form takes. Nothing was recorded.")
        return render_template("error.html", title=_("Too large"), message=message), 413

    @app.errorhandler(429)
    def too_many(error):
        message = _("Too many attempts from your connection. Please wait a few minutes and try again.")
        return render_template("error.html", title=_("Slow down"), message=message), 429

    @app.errorhandler(500)
    def server_error(error):
        message = _("Something went wrong on our side. Nothing you sent was half-saved; please try again.")
        return render_template("error.html", title=_("Server error"), message=message), 500
