"""LOG_FORMAT=json: one JSON object per line, without token, address or client IP."""
import io
import json
import logging

import pytest
from flask.logging import default_handler

from petition import ConfigurationError, create_app
from petition.core.log_scrubbing import JsonFormatter
from petition.extensions import db
from tests.conftest import base_config
from tests.test_logging import TOKEN

CLIENT_IP = "203.0.113.77"
FORWARDED_IP = "198.51.100.23"
EMAIL = "ivan.petrov@example.org"


@pytest.fixture
def json_app(database_url, tmp_path):
    config = base_config(database_url, tmp_path)
    config.update(LOG_FORMAT="json", TRUSTED_PROXIES=1)
    app = create_app(config)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # log and answer 500, as in production
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    create_app(base_config(database_url, tmp_path))  # plain again for the next tests


def test_a_500_logs_one_json_line_without_token_address_or_ip(json_app):
    def explode(token):
        raise RuntimeError(f"cannot handle {token} for {EMAIL}")

    json_app.add_url_rule("/confirm/<token>/explode", "explode", explode, methods=["POST"])
    stream = io.StringIO()
    response = json_app.test_client().post(
        f"/confirm/{TOKEN}/explode", data={"email": EMAIL, "name": "Secret Signer"},
        headers={"X-Forwarded-For": FORWARDED_IP},
        environ_overrides={"wsgi.errors": stream, "REMOTE_ADDR": CLIENT_IP})
    assert response.status_code == 500

    lines = stream.getvalue().splitlines()
    assert len(lines) == 1, lines
    entry = json.loads(lines[0])
    assert entry["level"] == "ERROR" and entry["logger"] == "petition"
    assert entry["message"] == "Exception on /confirm/<token>/explode [POST]"
    assert entry["method"] == "POST" and entry["path"] == "/confirm/<token>/explode"
    assert entry["time"].endswith("Z")
    assert "RuntimeError: cannot handle <token> for <address>" in entry["exception"]
    for secret in (TOKEN, TOKEN[:20], EMAIL, CLIENT_IP, FORWARDED_IP, "Secret Signer"):
        assert secret not in lines[0]


def test_outside_a_request_there_is_no_method_or_path(json_app):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("petition.test_json_logs")
    logger.addHandler(handler)
    try:
        logger.warning("mail to %s deferred", EMAIL)
    finally:
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["message"] == "mail to <address> deferred"
    assert "method" not in entry and "path" not in entry


@pytest.mark.sqlite_only
def test_plain_is_the_default_and_unknown_formats_are_refused(database_url, tmp_path):
    create_app(base_config(database_url, tmp_path))
    assert not isinstance(default_handler.formatter, JsonFormatter)
    config = base_config(database_url, tmp_path)
    config.update(LOG_FORMAT="jsno")
    with pytest.raises(ConfigurationError, match="LOG_FORMAT"):
        create_app(config)
