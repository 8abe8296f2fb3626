"""Fixtures: a real database per test (SQLite file and PostgreSQL), the app, its client.

Every test that takes `app` runs twice, once per database. In CI (CI=true) a skipped test
is a failure: PostgreSQL and the browser are required there.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade

from petition import addresses, create_app
from petition.core import schema_migrations
from petition.extensions import db

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
EMAIL_KEY = "k1t3Q1cJ0m0c9pD8yFh0sZ0m9u1vQ2Jd6lq3x8c1n5E="  # tests only
IN_CI = os.environ.get("CI", "").lower() == "true"


def base_config(database_url: str, tmp_path: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "EMAIL_KEY": EMAIL_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        # Tests post forms at once and sign many times from one address: the tests of
        # these guards (test_abuse_limits.py and others) turn them on.
        "SIGN_MIN_SECONDS": 0,
        "ABUSE_SOFT_LIMITS_ENABLED": False,
        "MAIL_URL": "console://",
        "MAIL_DISPATCH_IN_PROCESS": False,
        "BASE_URL": "http://localhost",
        "EXPORT_DIR": str(tmp_path / "exports"),
    }


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test is required: {report.longrepr}"


def skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def compiled_translations() -> None:
    """Compile stale .mo catalogues, so a bare `pytest` tests the current translations."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in Path(__file__).resolve().parent.parent.glob("translations/*/LC_MESSAGES/*.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as source:
            catalog = read_po(source)
        with mo_path.open("wb") as target:
            write_mo(target, catalog)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite"
    app = create_app(base_config(f"sqlite:///{path}", path.parent))
    schema_migrations.bind(app)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database(tmp_path_factory):
    """A fresh PostgreSQL database for this run, migrated once, dropped at the end."""
    name = f"petition_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        admin.dispose()
        yield None, f"PostgreSQL unreachable at {PG_ADMIN_URL}: {error.orig}"
        return
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    app = create_app(base_config(url, tmp_path_factory.mktemp("pg")))
    schema_migrations.bind(app)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield url, None
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_pg(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tables = [t.name for t in db.metadata.sorted_tables]
        conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(request, tmp_path, sqlite_template) -> str:
    """The database of one test: param "sqlite" (default) or "postgresql"."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url, problem = request.getfixturevalue("pg_database")
    if problem:
        skip_or_fail(problem)
    _truncate_pg(url)
    return url


def pytest_generate_tests(metafunc):
    """Run every test that uses the database on SQLite and on PostgreSQL."""
    if "database_url" in metafunc.fixturenames:
        backends = ["sqlite", "postgresql"]
        if metafunc.definition.get_closest_marker("sqlite_only"):
            backends = ["sqlite"]
        if metafunc.definition.get_closest_marker("postgresql_only"):
            backends = ["postgresql"]
        metafunc.parametrize("database_url", backends, indirect=True)


class FreshContextClient(FlaskClient):
    """Give every request its own app context, as in production.

    The `app` fixture keeps an app context pushed for factories; without this, Flask would
    reuse it for requests, sharing `g` and the database session between them.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, tmp_path):
    # Each test's database is new (PostgreSQL's emptied, same URL): no hash key cached.
    addresses.forget_hash_keys()
    app = create_app(base_config(database_url, tmp_path))
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app
        join_refresh_threads(app)
        db.session.remove()
        db.engine.dispose()


def join_refresh_threads(app) -> None:
    """Wait for the threads that rebuild a stale list (exporting/grouping.py): one still
    running would keep a connection open past the engine's disposal, and a later test would
    fail on its ResourceWarning."""
    for thread in list(app.extensions.get("petition.grouping.threads", {}).values()):
        thread.join(timeout=10)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
