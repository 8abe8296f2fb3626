"""Flask-Migrate, bound on demand.

Importing Alembic costs about 0.3 s, a third of the app's start-up; only `flask db …`,
the tests and the benchmarks need it, so web workers and other commands skip it.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, g
from flask.cli import ScriptInfo, with_appcontext

from petition.extensions import db

MIGRATIONS_DIR = str(Path(__file__).resolve().parents[2] / "migrations")


def bind(app: Flask) -> None:
    """Give `app` its Flask-Migrate configuration (needed before flask_migrate.upgrade())."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        # Flask-Migrate 4 compares types and renders SQLite batch operations by default.
        Migrate(app, db, directory=MIGRATIONS_DIR)


class LazyDbGroup(click.Group):
    """`flask db …`: Flask-Migrate's own commands, imported when this group is used."""

    def _group(self, ctx: click.Context) -> click.Group:
        bind(ctx.ensure_object(ScriptInfo).load_app())
        from flask_migrate.cli import db as db_group

        return db_group

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._group(ctx).list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._group(ctx).get_command(ctx, name)


@with_appcontext
def _defaults() -> None:
    # What Flask-Migrate's own group callback sets; its commands read these from `g`.
    g.directory = None
    g.x_arg = ()


db_cli = LazyDbGroup("db", callback=_defaults,
                     help="Database migrations (Flask-Migrate / Alembic).")
