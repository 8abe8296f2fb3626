"""Shared fixtures of the bad-input wall: row counts (nothing half-written), the app with
CSRF protection on, and the checks every answer must pass."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from petition import create_app
from petition.extensions import db
from petition.models import (
    CountryLabel,
    Letter,
    LetterText,
    NewsSubscriber,
    OutboxMail,
    Signature,
    SignatureVersion,
)
from petition.models.accounts import AuditEvent
from petition.models.drive import DriveLetter
from tests.conftest import FreshContextClient, base_config, join_refresh_threads

from .payloads import assert_escaped

# Every table a refused input could leave something in.
WATCHED = (Signature, SignatureVersion, OutboxMail, DriveLetter, NewsSubscriber, AuditEvent,
           Letter, LetterText, CountryLabel)


def row_counts() -> dict[str, int]:
    db.session.expire_all()
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in WATCHED}


def assert_no_500(response) -> str:
    """The answer is no server error; its HTML (if any) shows no payload as markup."""
    body = response.get_data(as_text=True)
    assert response.status_code < 500, body[-1500:]
    if response.mimetype == "text/html":
        assert_escaped(body)
    return body


def assert_refused(response, before: dict[str, int], *messages: str) -> str:
    """A clear 4xx: one of `messages` in the page, and not one row written anywhere."""
    body = assert_no_500(response)
    assert 400 <= response.status_code < 500, (response.status_code, body[-800:])
    if messages:
        assert any(message in body for message in messages), body[-2000:]
    assert row_counts() == before
    return body


def once(app, make) -> None:
    """Run `make` once per test, not per Hypothesis example (examples share the app and its
    database)."""
    done = app.extensions.setdefault("wall.once", set())
    if make not in done:
        make()
        done.add(make)


@pytest.fixture
def csrf_app(database_url, tmp_path):
    """The app as deployed: CSRF protection on, one proxy in front (TRUSTED_PROXIES=1)."""
    config = base_config(database_url, tmp_path)
    config.update(WTF_CSRF_ENABLED=True, TRUSTED_PROXIES=1)
    app = create_app(config)
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _join_refresh_threads(request):
    """The csrf_app's list rebuilds, joined as the app fixture joins its own. Set up after
    the app, so torn down before it."""
    apps = [request.getfixturevalue("csrf_app")] if "csrf_app" in request.fixturenames else []
    yield
    for app in apps:
        join_refresh_threads(app)
