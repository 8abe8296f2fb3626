"""Every schema change is a migration: the models and the migrations agree, both ways."""
from sqlalchemy import inspect

from petition.extensions import db


def test_models_match_migrations(runner, app):
    result = runner.invoke(args=["db", "check"])
    # Alembic's check exits non-zero when autogenerate finds any difference.
    assert result.exit_code == 0, result.output


def test_a_model_change_without_migration_is_caught(runner, app):
    from sqlalchemy import Column, Integer

    from petition.models import Letter

    column = Column("unmigrated", Integer)
    Letter.__table__.append_column(column)
    try:
        assert runner.invoke(args=["db", "check"]).exit_code != 0
    finally:
        Letter.__table__._columns.remove(column)


def test_downgrade_to_base_and_back(runner, app):
    assert runner.invoke(args=["db", "downgrade", "base"]).exit_code == 0
    db.engine.dispose()
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    db.engine.dispose()
    assert {"letter", "signature", "outbox_mail"} <= set(inspect(db.engine).get_table_names())
