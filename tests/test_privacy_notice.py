"""The privacy notice states who runs the campaign and each period, from the settings."""
from __future__ import annotations

import pytest

from petition import create_app
from tests.conftest import base_config
from tests.factories import make_letter


def _notice(client, path: str = "/privacy", lang: str = "en") -> str:
    response = client.get(f"{path}?lang={lang}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_names_the_organiser_and_links_the_contact(app, client):
    app.config.update(ORGANISER_NAME="Comité Kagarlitsky", ORGANISER_CONTACT="press@free.example")
    page = _notice(client)
    assert "This campaign is run by Comité Kagarlitsky." in page
    assert 'href="mailto:press@free.example"' in page


def test_says_plainly_when_no_organiser_is_configured(app, client):
    app.config.update(ORGANISER_NAME="", ORGANISER_CONTACT="")
    assert "have not given their name or a contact yet" in _notice(client)


def test_each_period_comes_from_the_settings(app, client):
    app.config.update(CONFIRM_MAX_AGE=48 * 3600, UNCONFIRMED_RETENTION=3 * 86400,
                      FINGERPRINT_RETENTION_DAYS=30, MAIL_FAILED_RETENTION=5 * 86400,
                      RATELIMIT_SIGN="10 per minute;60 per hour")
    page = _notice(client)
    assert "A confirmation link works for 48 hours." in page
    assert "deleted 3 days after its last link was sent" in page
    assert "erased 30 days after the letter closes" in page
    assert "keeps them at most 5 days" in page
    assert "remembers it for at most 1 hour." in page


def test_a_letter_notice_gives_that_letter_its_own_period(app, client):
    make_letter("appeal", title="Libérez le mathématicien", fingerprint_retention_days=14)
    page = _notice(client, "/letters/appeal/privacy")
    assert "Libérez le mathématicien" in page
    assert "erased 14 days after the letter closes" in page


def test_explains_how_to_withdraw_with_a_working_link(app, client):
    page = _notice(client)
    assert 'href="/withdraw"' in page
    assert client.get("/withdraw").status_code == 200


@pytest.mark.parametrize("lang, phrase", [
    ("fr", "Comment retirer votre signature"),
    ("ru", "Как отозвать подпись"),
])
def test_notice_in_french_and_russian(app, client, lang, phrase):
    app.config.update(FINGERPRINT_RETENTION_DAYS=90)
    page = _notice(client, lang=lang)
    assert phrase in page
    assert "90" in page


def test_production_without_an_organiser_logs_a_warning(tmp_path, caplog):
    config = base_config(f"sqlite:///{tmp_path / 'p.sqlite'}", tmp_path)
    config.update(ENV_NAME="production", SECRET_KEY="Q2hvb3NlIGEgcmFuZG9tIGtleSBwbGVhc2Ux9z8x",
                  ORGANISER_NAME="")
    create_app(config)
    assert "ORGANISER_NAME" in caplog.text
