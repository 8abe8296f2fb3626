"""`GET /healthz`: the database decides the status; Redis is reported, never fatal."""
import pytest

from petition import create_app
from petition.extensions import db
from tests.conftest import base_config
from tests.test_rate_limit_storage import redis_db_15  # noqa: F401 - a fixture

UNREACHABLE = {
    # Nothing listens on port 1: PostgreSQL restarting, or a wrong host.
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/petition",
    # A folder that does not exist: SQLite cannot open the file.
    "sqlite": "sqlite:////nonexistent-petition-folder/petition.sqlite",
}


def make_app(database_url: str, tmp_path, **overrides):
    config = base_config(database_url, tmp_path)
    config.update(overrides)
    return create_app(config)


def probe(app):
    with app.app_context():
        try:
            return app.test_client().get("/healthz")
        finally:
            db.session.remove()
            db.engine.dispose()


def test_healthy_without_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "not configured"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_redis_answering_is_reported(database_url, tmp_path, redis_db_15):  # noqa: F811
    response = probe(make_app(database_url, tmp_path, RATELIMIT_STORAGE_URI=redis_db_15))
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_redis_down_is_reported_but_does_not_fail_the_check(database_url, tmp_path, caplog):
    app = make_app(database_url, tmp_path, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    response = probe(app)
    # Limits fall back to each process's memory and signing goes on: still in service.
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "down"}
    assert "health: Redis does not answer" in caplog.text


def test_not_rate_limited(database_url, tmp_path):
    # A default limit of one request a minute: every other page would answer 429.
    app = make_app(database_url, tmp_path, RATELIMIT_ENABLED=True,
                   RATELIMIT_DEFAULT="1 per minute")
    with app.app_context():
        client = app.test_client()
        assert [client.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]
        assert [client.get("/privacy").status_code for _ in range(2)] == [200, 429]
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("backend", sorted(UNREACHABLE))
def test_database_down_answers_503(tmp_path, backend, caplog):
    response = probe(make_app(UNREACHABLE[backend], tmp_path))
    assert response.status_code == 503
    assert response.get_json() == {"status": "down", "database": "down",
                                   "redis": "not configured"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "health: the database does not answer: OperationalError" in caplog.text
