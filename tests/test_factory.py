"""The app factory, configuration and hardening: what a deployment refuses and what it sends."""
import base64
import os
import secrets
import stat

import pytest
from sqlalchemy import text

from petition import ConfigurationError, create_app
from petition.extensions import db
from tests.conftest import FreshContextClient, base_config
from tests.factories import make_letter

STRONG_KEY = secrets.token_urlsafe(48)


def production_config(database_url: str, tmp_path, **overrides) -> dict:
    config = base_config(database_url, tmp_path)
    config.update(ENV_NAME="production", SECRET_KEY=STRONG_KEY, TESTING=False)
    config.update(overrides)
    return config


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A SQLite database that does not exist yet (no migration: these apps never query)."""
    return f"sqlite:///{tmp_path / 'new.sqlite'}"


def test_production_refuses_to_start_without_keys(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("EMAIL_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": None, "EMAIL_KEY": None})


@pytest.mark.parametrize("name", ["prod", "Production", "production ", "staging", ""])
def test_unknown_environment_name_is_refused(monkeypatch, sqlite_url, tmp_path, name):
    """A typo must not quietly run development (generated keys, no secure cookies)."""
    monkeypatch.setenv("PETITION_ENV", name)
    with pytest.raises(ConfigurationError, match="PETITION_ENV"):
        create_app(base_config(sqlite_url, tmp_path))


def test_unknown_environment_name_in_overrides_is_refused(sqlite_url, tmp_path):
    with pytest.raises(ConfigurationError, match="ENV_NAME is 'prod'"):
        create_app(production_config(sqlite_url, tmp_path, ENV_NAME="prod"))


@pytest.mark.parametrize("name", ["development", "production"])
def test_known_environment_names_start(monkeypatch, sqlite_url, tmp_path, name):
    monkeypatch.setenv("PETITION_ENV", name)
    config = production_config(sqlite_url, tmp_path)
    del config["ENV_NAME"]
    assert create_app(config).config["ENV_NAME"] == name


@pytest.mark.parametrize("key", [
    "short",
    "x" * 31,
    "change-me-to-a-long-random-string-in-production",
    "replace-this-with-your-own-secret-key-value",
    "a" * 64,
    "0123" * 16,
])
def test_production_refuses_a_weak_secret_key(sqlite_url, tmp_path, key):
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(production_config(sqlite_url, tmp_path, SECRET_KEY=key))


@pytest.mark.parametrize("generated", [secrets.token_urlsafe(32), secrets.token_hex(32)],
                         ids=["token_urlsafe", "token_hex"])
def test_production_takes_a_generated_secret_key(sqlite_url, tmp_path, generated):
    app = create_app(production_config(sqlite_url, tmp_path, SECRET_KEY=generated))
    assert app.config["SECRET_KEY"] == generated


@pytest.mark.parametrize("env", ["development", "production"])
@pytest.mark.parametrize("key", [
    "not-a-fernet-key",
    base64.urlsafe_b64encode(os.urandom(16)).decode(),
    secrets.token_hex(32),
], ids=["text", "16-bytes", "hex"])
def test_invalid_email_key_is_refused_everywhere(sqlite_url, tmp_path, env, key):
    """Otherwise the app starts and every signature fails with a 500."""
    with pytest.raises(ConfigurationError, match="EMAIL_KEY") as refused:
        create_app(production_config(sqlite_url, tmp_path, ENV_NAME=env, EMAIL_KEY=key))
    assert key not in str(refused.value)  # a secret has no business in logs


def test_production_refuses_flask_debug(monkeypatch, sqlite_url, tmp_path):
    """The debugger runs whatever code a visitor types into it."""
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(ConfigurationError, match="debug"):
        create_app(production_config(sqlite_url, tmp_path))
    assert create_app(production_config(sqlite_url, tmp_path, ENV_NAME="development")).debug


def test_production_refuses_debug_from_overrides(sqlite_url, tmp_path):
    with pytest.raises(ConfigurationError, match="debug"):
        create_app(production_config(sqlite_url, tmp_path, DEBUG=True))


def _cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def test_production_sends_hsts_and_only_secure_cookies(database_url, tmp_path):
    app = create_app(production_config(database_url, tmp_path, WTF_CSRF_ENABLED=True))
    with app.app_context():
        make_letter()
        app.test_client_class = FreshContextClient  # each request its own `g`
        client = app.test_client()
        # The letter's page sets none (caches keep it: views/public_cache.py); the login
        # form puts a CSRF token in the back office's session; ?lang= on a page no cache
        # keeps sets the language cookie.
        page = client.get("/letters/appeal?lang=fr")
        login = client.get("/admin/login")
        response = client.get("/privacy?lang=fr")
        db.session.remove()
        db.engine.dispose()
    assert page.status_code == login.status_code == response.status_code == 200
    assert _cookies(page) == {}
    cookies = {**_cookies(login), **_cookies(response)}
    assert set(cookies) == {"petition_admin", "lang"}
    for header in cookies.values():
        assert "; Secure" in header, header
    hsts = response.headers["Strict-Transport-Security"]
    assert hsts == "max-age=63072000; includeSubDomains"


def test_development_sends_no_hsts_and_plain_cookies(client, app):
    """Development serves http://127.0.0.1, where Secure cookies would never come back."""
    make_letter()
    response = client.get("/privacy?lang=fr")
    assert "Strict-Transport-Security" not in response.headers
    assert "; Secure" not in _cookies(response)["lang"]


@pytest.fixture
def umask_022():
    """The usual umask, under which files are created world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.parametrize("env", ["development", "production"])
def test_sqlite_database_file_is_created_owner_only(umask_022, tmp_path, env):
    path = tmp_path / "new.sqlite"
    app = create_app(production_config(f"sqlite:///{path}", tmp_path, ENV_NAME=env))
    with app.app_context():
        with db.engine.connect() as connection:  # journal_mode=WAL: -wal and -shm too
            connection.execute(text("CREATE TABLE probe (x INTEGER)"))
            connection.commit()
            files = sorted(tmp_path.glob("new.sqlite*"))
            modes = {file.name: stat.S_IMODE(file.stat().st_mode) for file in files}
        db.engine.dispose()
    assert "new.sqlite" in modes and len(modes) == 3, modes
    assert set(modes.values()) == {0o600}, modes


def test_production_warns_about_a_database_others_can_read(umask_022, tmp_path, caplog):
    path = tmp_path / "old.sqlite"
    path.touch()  # an existing file, made under the umask: 0644
    create_app(production_config(f"sqlite:///{path}", tmp_path))
    assert f"the database {path} can be read by other users (mode 644)" in caplog.text
    path.chmod(0o600)
    caplog.clear()
    create_app(production_config(f"sqlite:///{path}", tmp_path))
    assert "can be read by other users" not in caplog.text


def test_security_headers(client):
    response = client.get("/", follow_redirects=True)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Same origin only: the CSRF check needs our own Referer over HTTPS; others get none.
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in response.get_data(as_text=True)
