"""Flask-Migrate, bound on demand.

Importing Alembic costs about 0.3 s, a third of the app's start-up; only `flask db …`,
the tests and the benchmarks need it, so web workers and other commands skip it.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from petition.extensions import db

MIGRATIONS_DIR = str(Path(__file__).resolve().parents[2] / "migrations")


def bind(app: Flask) -> None:
    """Give `app` its Flask-Migrate configuration (needed before flask_migrate.upgrade())."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        # Flask-Migrate 4 compares types and renders SQLite batch operations by default.
        Migrate(app, db, directory=MIGRATIONS_DIR)
