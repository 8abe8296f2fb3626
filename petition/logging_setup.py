"""Logs that cannot tell who signed: no client address, no token from a link.

A confirmation or withdrawal token in a log line is a working link to someone's signature,
and a client address next to it says who that someone is. The dev server (werkzeug), the
app's own error log ("Exception on /confirm/<token> [POST]"), Flask-Limiter and gunicorn
(through TokenMaskingLogger, named in docs/deployment/gunicorn.conf.py) all go through one
filter.
"""
from __future__ import annotations

import logging
import re

from flask import Flask
from flask.logging import default_handler

try:  # only gunicorn deployments have it; the app itself does not need it
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover - gunicorn is in requirements.txt
    _GunicornLogger = object  # type: ignore[assignment,misc]

# /confirm/<token>, /confirm/<token>/resend, /withdraw/<token>: the token is one path segment.
TOKEN_PATH = re.compile(r"(/(?:confirm|withdraw)/)[^/\s?#\"'\x1b]+")
MASK = "<token>"
# A token on its own, e.g. in an exception's message: itsdangerous' URL-safe form of a JSON
# list ("WyJ" is base64 for '["'), which is what tokens.py signs.
SIGNED_LIST = re.compile(r"\bWyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]+")
# werkzeug's request line starts with the client address: "127.0.0.1 - - [date] ...".
WERKZEUG_ADDRESS = re.compile(r"^\S+( - - \[)")
# gunicorn names the client of a request it cannot read (a refused certificate, a malformed
# line): "Invalid request from ip=192.0.2.7: …", an IPv6 address up to its ": " too.
GUNICORN_ADDRESS = re.compile(r"(\bfrom ip=)\S*?(: )")
# Flask-Limiter names the breached key, which holds the client address.
LIMITER_KEY = re.compile(r"^(ratelimit .*? \().*?(\) exceeded)")
# The loggers whose records carry paths or addresses.
MASKED_LOGGERS = ("werkzeug", "flask-limiter", "gunicorn.error", "gunicorn.access")


def mask_tokens(text: str) -> str:
    """Replace the token of every confirmation or withdrawal path, and any signed token."""
    return SIGNED_LIST.sub(MASK, TOKEN_PATH.sub(rf"\1{MASK}", text))


def scrub(text: str) -> str:
    """`text` without tokens or the client address werkzeug, gunicorn or the limiter put in."""
    text = WERKZEUG_ADDRESS.sub(r"-\1", mask_tokens(text))
    text = GUNICORN_ADDRESS.sub(r"\1-\2", text)
    return LIMITER_KEY.sub(r"\1-\2", text)


class ScrubFilter(logging.Filter):
    """Rewrite a record before any handler formats it: message, arguments and traceback."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_petition_scrubbed", False):
            return True  # seen by the logger's filter and again by a handler's
        record.msg, record.args = scrub(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        record._petition_scrubbed = True
        return True


SCRUB = ScrubFilter()


def init_app(app: Flask) -> None:
    """Scrub the app's own log, the dev server's and the limiter's."""
    for logger in (app.logger, *(logging.getLogger(name) for name in MASKED_LOGGERS)):
        logger.addFilter(SCRUB)  # addFilter ignores a filter it already has
    # Records of the app's modules (petition.storage, ...) pass no filter of app.logger,
    # only its handlers: Flask's default one when nothing else is configured.
    default_handler.addFilter(SCRUB)


class TokenMaskingLogger(_GunicornLogger):  # type: ignore[misc,valid-type]
    """gunicorn's logger with the client address left out and tokens masked everywhere.

    Whatever access_log_format says: %(h)s is "-", every path, referer and request line is
    masked, and neither headers nor environ variables (X-Forwarded-For, REMOTE_ADDR) can
    be logged.
    """

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(SCRUB)

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        kept = {key: value for key, value in atoms.items() if not key.startswith("{")}
        kept["h"] = "-"
        return {key: mask_tokens(value) if isinstance(value, str) else value
                for key, value in kept.items()}
