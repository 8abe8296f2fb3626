"""Logs that cannot tell who signed: no client address, no token from a link.

A confirmation or withdrawal token in a log line is a working link to someone's signature,
and a client address next to it says who that someone is. The dev server (werkzeug), the
app's own error log ("Exception on /confirm/<token> [POST]"), Flask-Limiter and gunicorn
(through TokenMaskingLogger, named in docs/deployment/gunicorn.conf.py) all go through one
filter. LOG_FORMAT=json makes the app's own log one JSON object per line (JsonFormatter).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

from flask import Flask, has_request_context, request
from flask.logging import default_handler

from config import ConfigurationError

try:  # only gunicorn deployments have it; the app itself does not need it
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover - gunicorn is in requirements.txt
    _GunicornLogger = object

# /confirm/<token>, /confirm/<token>/resend, /withdraw/<token>, a drive's /drive/confirm/
# <token> and the writer's /drive/letter/<token>: the token is one path segment.
TOKEN_PATH = re.compile(r"(/(?:confirm|withdraw|drive/letter)/)[^/\s?#\"'\x1b]+")
MASK = "<token>"
# A token on its own, e.g. in an exception's message: itsdangerous' URL-safe form of a JSON
# list ("WyJ" is base64 for '["'), which is what tokens.py signs.
SIGNED_LIST = re.compile(r"\bWyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]+")
# A query string, up to the end of a URL.
QUERY = re.compile(r"\?[^\s\"]*")
# The query string of the target in werkzeug's request line, up to the space before the
# version (or the closing quote, or the colour code werkzeug wraps the line in).
REQUEST_QUERY = re.compile(r"\?[^\s\"\x1b]*")
# Control characters (C0, DEL, C1): a newline or CR in a decoded path would start a forged
# line in a log. Written as \x0a instead, as werkzeug does for its own request lines.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The same outside the colour codes (ESC [ 33 m) werkzeug puts around a request line.
CONTROL_OUTSIDE_COLOUR = re.compile(r"\x1b\[[0-9;]*m|([\x00-\x1f\x7f-\x9f])")
# Flask's log line for an unhandled exception names the (decoded) path.
FLASK_EXCEPTION = re.compile(r"(Exception on )(.*)( \[[A-Z]+\])", re.S)
# werkzeug's request line starts with the client address: "127.0.0.1 - - [date] ...".
WERKZEUG_ADDRESS = re.compile(r"^\S+( - - \[)")
# gunicorn names the client of a request it cannot read (a refused certificate, a malformed
# line): "Invalid request from ip=192.0.2.7: …", an IPv6 address up to its ": " too.
GUNICORN_ADDRESS = re.compile(r"(\bfrom ip=)\S*?(: )")
# Flask-Limiter names the breached key, which holds the client address.
LIMITER_KEY = re.compile(r"^(ratelimit .*? \().*?(\) exceeded)")
# An email address in a message or a traceback (a validator's complaint, a driver's error).
EMAIL_ADDRESS = re.compile(r"[^\s@<>()\[\]\"',;:]+@[^\s@<>()\[\]\"',;:]+\.[A-Za-z]{2,}")
ADDRESS_MASK = "<address>"
# Flask's default handler's format, restored when an app asks for plain logs.
_PLAIN_FORMAT = "[%(asctime)s] %(levelname)s in %(module)s: %(message)s"
# The loggers whose records carry paths or addresses.
MASKED_LOGGERS = ("werkzeug", "flask-limiter", "gunicorn.error", "gunicorn.access")


def mask_tokens(text: str) -> str:
    """Replace the token of every confirmation or withdrawal path, and any signed token."""
    return SIGNED_LIST.sub(MASK, TOKEN_PATH.sub(rf"\1{MASK}", text))


def escape_controls(text: str) -> str:
    """`text` with every control character written as \\xNN: one log line stays one."""
    return CONTROL.sub(lambda match: f"\\x{ord(match[0]):02x}", text)


def _escape_outside_colour(text: str) -> str:
    return CONTROL_OUTSIDE_COLOUR.sub(
        lambda match: match[0] if match[1] is None else f"\\x{ord(match[1]):02x}", text)


def request_line(record: logging.LogRecord, message: str) -> str:
    """A request's log line as it may be written: without its query string (the dev
    server's; gunicorn's logger leaves it out itself) and with no control character.

    Other records go as they are: a traceback or the dev server's banner keep their lines.
    """
    if record.name == "werkzeug" and WERKZEUG_ADDRESS.match(message):
        # werkzeug escapes the path's control characters itself but logs the query string
        # (a back-office search holds a name); its line ends in a newline of its own.
        body, end = (message[:-1], "\n") if message.endswith("\n") else (message, "")
        return _escape_outside_colour(REQUEST_QUERY.sub("", body)) + end
    if record.name == "gunicorn.access":
        return escape_controls(message)
    exception = FLASK_EXCEPTION.fullmatch(message)
    if exception:
        return exception[1] + escape_controls(exception[2]) + exception[3]
    return message


def scrub(text: str) -> str:
    """`text` without tokens, email addresses, or the client address werkzeug, gunicorn or
    the limiter put in."""
    text = WERKZEUG_ADDRESS.sub(r"-\1", mask_tokens(text))
    text = GUNICORN_ADDRESS.sub(r"\1-\2", text)
    text = EMAIL_ADDRESS.sub(ADDRESS_MASK, text)
    return LIMITER_KEY.sub(r"\1-\2", text)


def first_line(error: BaseException) -> str:
    """The error's class and the first line of what its cause says, for a log line.

    Never the whole message: a SQLAlchemy error goes on with the statement and its
    parameters (names, keyed hashes).
    """
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"


class ScrubFilter(logging.Filter):
    """Rewrite a record before any handler formats it: message, arguments and traceback."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_petition_scrubbed", False):
            return True  # seen by the logger's filter and again by a handler's
        record.msg, record.args = scrub(request_line(record, record.getMessage())), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        record._petition_scrubbed = True
        return True


SCRUB = ScrubFilter()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request method and path,
    exception text.

    Runs after ScrubFilter, so message and traceback are already without token or
    address; the path is masked here. Never the client address, headers or form values.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC)
                      .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        if has_request_context():
            entry.update(method=request.method, path=mask_tokens(request.path))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = scrub(record.exc_text)
        if record.stack_info:
            entry["stack"] = scrub(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def init_app(app: Flask) -> None:
    """Scrub the app's own log, the dev server's and the limiter's; format it as asked."""
    for logger in (app.logger, *(logging.getLogger(name) for name in MASKED_LOGGERS)):
        logger.addFilter(SCRUB)  # addFilter ignores a filter it already has
    # Records of the app's modules (petition.core.remnants, ...) pass no filter of app.logger,
    # only its handlers: Flask's default one when nothing else is configured.
    default_handler.addFilter(SCRUB)
    _use_format(app, app.config.get("LOG_FORMAT") or "plain")


def _use_format(app: Flask, name: str) -> None:
    # Flask's default handler is one per process: the last app made decides, and a process
    # serves one app.
    default_handler.setFormatter(_formatter(name))
    if name == "json":
        # Flask skips its handler when the root logger has one (gunicorn --log-config, a
        # test runner): write through it anyway, and only through it, so every line of
        # the app's log is JSON and none is written twice in another format.
        if default_handler not in app.logger.handlers:
            app.logger.addHandler(default_handler)
        app.logger.propagate = False
        return
    app.logger.propagate = True
    if logging.getLogger().handlers:
        app.logger.removeHandler(default_handler)  # as Flask decides: the root one writes


def _formatter(name: str) -> logging.Formatter:
    if name == "json":
        return JsonFormatter()
    if name == "plain":
        return logging.Formatter(_PLAIN_FORMAT)
    raise ConfigurationError(f"LOG_FORMAT is {name!r}: it must be 'plain' or 'json'")


class TokenMaskingLogger(_GunicornLogger):
    """gunicorn's logger with the client address left out and tokens masked everywhere.

    Whatever access_log_format says: %(h)s is "-", every path, referer and request line is
    masked, the query string is left out (%(q)s is "-"; a back-office search holds a
    signer's name), control characters of the decoded path (%0a) are written as \\x0a, and
    neither headers nor environ variables (X-Forwarded-For, REMOTE_ADDR) can be logged.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(SCRUB)

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any],
              request_time: dt.timedelta) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        kept = {key: value for key, value in atoms.items() if not key.startswith("{")}
        kept["h"] = kept["q"] = "-"
        kept["r"] = " ".join(str(environ.get(name) or "-")
                             for name in ("REQUEST_METHOD", "PATH_INFO", "SERVER_PROTOCOL"))
        kept["f"] = QUERY.sub("", str(kept.get("f", "-")))
        return {key: escape_controls(mask_tokens(value)) if isinstance(value, str) else value
                for key, value in kept.items()}
