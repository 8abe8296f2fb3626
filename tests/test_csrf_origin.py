"""Forms over HTTPS: the token, and a same-origin Referer, or Origin when the Referer is gone."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from petition import create_app
from petition.extensions import db
from petition.models import Signature
from tests.conftest import FreshContextClient, base_config
from tests.factories import make_letter
from tests.helpers import sign_form

SITE = "https://petition.example.org"
EXPIRED = "The form expired or was sent from another site."


@pytest.fixture
def secure_app(database_url, tmp_path):
    """The app as deployed: CSRF protection on, one proxy in front (TRUSTED_PROXIES=1)."""
    config = base_config(database_url, tmp_path)
    config.update(WTF_CSRF_ENABLED=True, TRUSTED_PROXIES=1)
    app = create_app(config)
    app.test_client_class = FreshContextClient
    with app.app_context():
        make_letter()
        yield app
        db.session.remove()
        db.engine.dispose()


def _post_sign(app, headers: dict[str, str], base_url: str = SITE):
    """Send the letter's form with `headers` (and no Referer unless given). A public form
    carries no token (views/public_cache.py): its origin is all that is checked."""
    client = app.test_client()
    data = sign_form()
    return client.post("/letters/appeal/sign?lang=en", base_url=base_url, data=data,
                       headers={"Accept-Language": "en", **headers})


def _signatures() -> int:
    return db.session.scalar(select(func.count()).select_from(Signature))


def _accepted(response) -> None:
    assert response.status_code == 303, response.get_data(as_text=True)[-600:]


def _refused(response) -> None:
    assert response.status_code == 400
    assert EXPIRED in response.get_data(as_text=True)


def test_a_same_origin_referer_is_accepted(secure_app):
    """Accept a form sent over HTTPS with this site's Referer, as before."""
    _accepted(_post_sign(secure_app, {"Referer": f"{SITE}/letters/appeal"}))
    assert _signatures() == 1


def test_a_same_origin_origin_is_accepted_when_the_referer_is_stripped(secure_app):
    """Accept this site's Origin from a browser that sends no Referer."""
    _accepted(_post_sign(secure_app, {"Origin": SITE}))
    assert _signatures() == 1


@pytest.mark.parametrize("headers", [
    {},
    {"Origin": "null"},
    {"Origin": "https://evil.example"},
    {"Origin": "http://petition.example.org"},
    {"Origin": "https://petition.example.org:8443"},
    {"Referer": "https://evil.example/letters/appeal"},
    {"Referer": f"{SITE}/letters/appeal", "Origin": "https://evil.example"},
    {"Referer": "https://evil.example/", "Origin": SITE},
])
def test_a_cross_origin_null_or_missing_origin_is_refused(secure_app, headers):
    """Refuse a form whose Referer or Origin is another site's, "null", or both absent."""
    _refused(_post_sign(secure_app, headers))
    assert _signatures() == 0


def test_a_public_form_needs_no_token(secure_app):
    """Accept a same-origin public form without a token: cached pages hold none (the back
    office's token is tested in test_public_cache.py)."""
    _accepted(_post_sign(secure_app, {"Origin": SITE}))
    assert _signatures() == 1


def test_behind_the_proxy_on_another_port(secure_app):
    """Accept a form through a proxy on port 8443 that forwards the Host with its port."""
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.7",
               "X-Forwarded-Host": "petition.example.org:8443"}
    local = "http://127.0.0.1:8000"
    _accepted(_post_sign(secure_app, {**proxied, "Origin": f"{SITE}:8443"}, base_url=local))
    _accepted(_post_sign(secure_app, {**proxied, "Referer": f"{SITE}:8443/letters/appeal"},
                         base_url=local))
    # What nginx sent with `$host`: the port dropped, so the browser's origin did not match.
    dropped = {**proxied, "X-Forwarded-Host": "petition.example.org"}
    _refused(_post_sign(secure_app, {**dropped, "Origin": f"{SITE}:8443"}, base_url=local))
