"""Start-up checks: refuse a configuration that would run unsafely or fail on every signature."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy.engine import make_url

from config import ConfigurationError, config_class

PRODUCTION = "production"
HSTS = "max-age=63072000; includeSubDomains"  # two years, as preload lists expect
MIN_SECRET_KEY_LENGTH = 32
# Words of the placeholders that example files and tutorials ship ("change-me", "your-secret").
_PLACEHOLDER_WORDS = ("change", "secret", "example", "placeholder", "replace", "default",
                      "insecure", "password")
# A generated key (token_urlsafe, token_hex) uses many distinct characters; "aaaa…" or
# "01230123…" does not. 8 keeps even a 32-character hex key clear of false alarms.
_MIN_DISTINCT_CHARACTERS = 8
_NEW_EMAIL_KEY = ("python -c 'from cryptography.fernet import Fernet; "
                  "print(Fernet.generate_key().decode())'")
_NEW_SECRET_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


def is_production(app: Flask) -> bool:
    return app.config.get("ENV_NAME") == PRODUCTION


def check_environment(app: Flask) -> None:
    """Refuse an unknown environment name, and the debugger in production."""
    config_class(app.config.get("ENV_NAME"), "ENV_NAME")
    if is_production(app) and app.debug:
        # The Werkzeug debugger runs whatever Python a visitor types into an error page.
        raise ConfigurationError("debug mode is on in production: unset FLASK_DEBUG (and DEBUG)")


def check_secrets(app: Flask) -> None:
    """Refuse an EMAIL_KEY that Fernet cannot use, and a guessable SECRET_KEY in production."""
    _check_email_key(app.config.get("EMAIL_KEY"))
    if is_production(app):
        _check_secret_key(app.config.get("SECRET_KEY"))


def check_rate_limit_storage(app: Flask) -> None:
    """Refuse per-process rate limits when the settings say several processes serve."""
    config = app.config
    problem = shared_limits_problem(config.get("ENV_NAME"), int(config.get("WEB_WORKERS") or 1),
                                    config.get("RATELIMIT_STORAGE_URI") or "memory://",
                                    bool(config.get("RATELIMIT_ENABLED")))
    if problem:
        raise ConfigurationError(problem)


def shared_limits_problem(env_name: object, workers: int, storage_uri: str,
                          enabled: bool = True) -> str | None:
    """Why this would not limit anyone in production, or None; gunicorn.conf.py asks too.

    With memory:// each worker counts on its own: N workers let N times the limit through,
    and a restart forgets every count. Rate limits are what keeps a script from signing
    thousands of names, so production refuses instead of quietly multiplying them.
    """
    if env_name != PRODUCTION or not enabled or workers <= 1:
        return None
    if urlsplit(storage_uri).scheme != "memory":
        return None
    return (f"RATELIMIT_STORAGE_URI is {storage_uri!r} with {workers} workers in production: "
            "each worker would count rate limits on its own. Set RATELIMIT_STORAGE_URI to a "
            "shared storage such as redis://127.0.0.1:6379/0 (or run one worker)")


def warn_missing_identity(app: Flask) -> None:
    """A public site must say who runs it: the privacy notice names ORGANISER_NAME."""
    if is_production(app) and not (app.config.get("ORGANISER_NAME") or "").strip():
        app.logger.warning("ORGANISER_NAME is not set: the privacy notice cannot say who runs "
                           "the campaign; set it, and ORGANISER_CONTACT")


def _check_email_key(key: object) -> None:
    # Checked in every environment: a bad key starts fine, then every signature fails.
    try:
        if not isinstance(key, str):
            raise TypeError
        Fernet(key.encode())
    except (TypeError, ValueError):
        # `from None` and no value in the message: the key must not end up in logs.
        raise ConfigurationError(
            "EMAIL_KEY is not a Fernet key (URL-safe base64 of 32 bytes); make one with: "
            + _NEW_EMAIL_KEY
        ) from None


def _check_secret_key(key: object) -> None:
    problem = _secret_key_weakness(key if isinstance(key, str) else "")
    if problem:
        # Anyone who guesses it can forge confirmation links and sessions.
        raise ConfigurationError(f"SECRET_KEY is {problem}; make one with: {_NEW_SECRET_KEY}")


def _secret_key_weakness(key: str) -> str | None:
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"shorter than {MIN_SECRET_KEY_LENGTH} characters"
    if any(word in key.lower() for word in _PLACEHOLDER_WORDS):
        return "a placeholder, not a random key"
    if len(set(key)) < _MIN_DISTINCT_CHARACTERS:
        return "too repetitive to be a random key"
    return None


def create_private_sqlite_file(app: Flask) -> None:
    """Create a new SQLite database file as 0600, before SQLite creates it under the umask.

    It holds names and encrypted addresses; SQLite gives its -wal and -shm files the
    database file's mode, so they stay private too.
    """
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    if "uri" in url.query:  # sqlite:///file:…?uri=true: SQLite's own URI syntax, left alone
        return
    path = Path(url.database)
    if not path.is_absolute():
        # Where Flask-SQLAlchemy puts a relative path, creating the folder as it does.
        os.makedirs(app.instance_path, exist_ok=True)
        path = Path(app.instance_path) / path
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        _warn_if_shared(app, path)
    except FileNotFoundError:
        pass  # no such folder: SQLite refuses to open it and says so


def _warn_if_shared(app: Flask, path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if is_production(app) and mode & 0o077:
        app.logger.warning("the database %s can be read by other users (mode %o): chmod 600 it",
                           path, mode)
