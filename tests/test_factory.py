"""The app factory, configuration and hardening."""
import pytest

from petition import ConfigurationError, create_app
from config import ProductionConfig


def test_testing_config(app):
    assert app.testing


def test_production_refuses_to_start_without_keys(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("EMAIL_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": None, "EMAIL_KEY": None})


def test_production_config_class_is_strict():
    assert ProductionConfig.SESSION_COOKIE_SECURE is True


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Same origin only: the CSRF check needs our own Referer over HTTPS; others get none.
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in response.get_data(as_text=True)
