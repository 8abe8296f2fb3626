"""`flask db …`: Flask-Migrate's commands, imported only when this group is used."""
from __future__ import annotations

import click
from flask import g
from flask.cli import ScriptInfo, with_appcontext

from petition.core.schema_migrations import bind


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
