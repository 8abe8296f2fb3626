"""Public pages shared caches may keep: no cookie, no Vary: Cookie, public with a short
max-age capped by an embargo; their forms protected by origin, not by a session token."""
from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from sqlalchemy import select

from petition import create_app
from petition.extensions import db
from petition.models import CONFIRMED, Letter, Signature, utcnow
from tests.conftest import FreshContextClient, base_config, join_refresh_threads
from tests.factories import make_letter
from tests.helpers import confirm_token_from, mails_to, sign_form

SITE = "https://petition.example.org"
EXPIRED = "The form expired or was sent from another site."

PUBLIC_ROUTES = (
    "/?lang=en",
    "/letters/appeal?lang=en",
    "/letters/appeal?lang=fr",
    "/letters/appeal/signatories.txt?lang=en",
    "/letters/appeal.json?lang=en",
    "/api/v1/letters/appeal?lang=en",
    "/letters/appeal/badge.svg?lang=en",
)


@pytest.fixture
def csrf_app(database_url, tmp_path):
    """The app as deployed: CSRF protection on, one proxy in front, the minimum time on."""
    config = base_config(database_url, tmp_path)
    config.update(WTF_CSRF_ENABLED=True, TRUSTED_PROXIES=1, SIGN_MIN_SECONDS=1)
    app = create_app(config)
    app.test_client_class = FreshContextClient
    with app.app_context():
        make_letter()
        yield app
        join_refresh_threads(app)
        db.session.remove()
        db.engine.dispose()


def _cache_control(response) -> dict[str, str]:
    parts = [part.strip() for part in response.headers.get("Cache-Control", "").split(",")]
    return dict((part.split("=", 1) + [""])[:2] for part in parts if part)


@pytest.mark.parametrize("url", PUBLIC_ROUTES)
def test_each_public_route_sets_no_cookie_and_is_public(csrf_app, url):
    """Each public route: no Set-Cookie (even with ?lang=, even for a visitor holding the
    language cookie), no Vary: Cookie, public with max-age and stale-while-revalidate."""
    client = csrf_app.test_client()
    client.set_cookie("lang", "ru")
    response = client.get(url, base_url=SITE, headers={"Accept-Language": "ru"})
    assert response.status_code == 200, url
    assert not response.headers.getlist("Set-Cookie"), url
    assert "cookie" not in response.headers.get("Vary", "").lower(), url
    cache = _cache_control(response)
    assert "public" in cache and int(cache["max-age"]) == 30, url
    assert int(cache["stale-while-revalidate"]) > 0, url
    # The language the URL names, not the cookie's nor Accept-Language's.
    if url.startswith(("/?", "/letters/appeal?")):
        expected = "fr" if "lang=fr" in url else "en"
        assert f'<html lang="{expected}' in response.get_data(as_text=True), url


def test_the_home_page_answers_304_to_its_etag(csrf_app):
    client = csrf_app.test_client()
    page = client.get("/?lang=en")
    assert page.headers["ETag"]
    again = client.get("/?lang=en", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("url", ["/", "/letters/appeal", "/letters/appeal?lang=FR",
                                 "/letters/appeal?lang=xx&x=1"])
def test_a_page_without_its_language_in_the_url_redirects_uncached(csrf_app, url):
    """The cached pages vary on their URL only: without ?lang= (or with one not as the
    cache keys it), a redirect to the reader's language, which no shared cache keeps."""
    client = csrf_app.test_client()
    response = client.get(url, headers={"Accept-Language": "fr, en;q=0.5"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("lang=fr")
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert not response.headers.getlist("Set-Cookie")
    client.set_cookie("lang", "ru")
    # The cookie chooses when the URL does not ("FR" names French: lang=fr, one cache key).
    expected = "lang=fr" if "lang=FR" in url else "lang=ru"
    assert client.get(url).headers["Location"].endswith(expected)


def test_the_cap_under_an_embargo(csrf_app):
    """While an embargo runs, max-age plus stale-while-revalidate never pass its end."""
    letter = db.session.scalars(select(Letter)).one()
    letter.embargo_until = utcnow() + dt.timedelta(seconds=12)
    db.session.commit()
    client = csrf_app.test_client()
    for url in PUBLIC_ROUTES:
        response = client.get(url)
        if response.status_code == 404:  # the press list, not published yet
            assert "public" in response.headers["Cache-Control"]
            continue
        cache = _cache_control(response)
        assert "public" in cache, url
        assert int(cache["max-age"]) + int(cache.get("stale-while-revalidate", "0")) <= 12, url


def test_errors_are_not_kept(csrf_app):
    response = csrf_app.test_client().get("/letters/nothing-here?lang=en")
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"


def _form_values(page: str) -> dict[str, str]:
    """The hidden fields of the sign form as the page holds them."""
    form = re.search(r'<form method="post" action="/letters/appeal/sign.*?</form>', page, re.S)
    assert form, "no sign form"
    return dict(re.findall(r'<input[^>]*type="hidden" name="([^"]+)" value="([^"]*)"',
                           form[0]))


def test_two_browsers_sign_from_one_cached_page_and_both_confirm(csrf_app):
    """One page as a cache would hand it to everyone; two clients without any cookie post
    it (after SIGN_MIN_SECONDS), and confirm through their links."""
    cached = csrf_app.test_client().get("/letters/appeal?lang=en", base_url=SITE)
    html = cached.get_data(as_text=True)
    hidden = _form_values(html)
    assert "csrf_token" not in hidden and "form_started" in hidden
    time.sleep(1.1)  # SIGN_MIN_SECONDS=1: the stamp is as old as the cached copy
    for email in ("one@example.org", "two@example.org"):
        browser = csrf_app.test_client()  # its own, empty cookie jar
        response = browser.post(
            "/letters/appeal/sign?lang=en", base_url=SITE,
            data={**sign_form(email=email, name=email.split("@")[0].title()), **hidden},
            headers={"Origin": SITE, "Sec-Fetch-Site": "same-origin"})
        assert response.status_code == 303, response.get_data(as_text=True)[-400:]
        # No session (only the language, remembered by an answer no cache keeps).
        assert [cookie for cookie in response.headers.getlist("Set-Cookie")
                if not cookie.startswith("lang=")] == []
        token = confirm_token_from(mails_to(email)[0])
        ask = browser.get(f"/confirm/{token}", base_url=SITE)
        assert ask.status_code == 200 and "csrf_token" not in ask.get_data(as_text=True)
        done = browser.post(f"/confirm/{token}", base_url=SITE,
                            headers={"Sec-Fetch-Site": "same-origin"})
        assert done.status_code in (200, 303), done.status_code
    statuses = db.session.scalars(select(Signature.status)).all()
    assert statuses == [CONFIRMED, CONFIRMED]


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site", "Origin": SITE},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Referer": "https://evil.example/page"},
    {"Referer": f"{SITE}/letters/appeal", "Origin": "https://evil.example"},
    {},
])
@pytest.mark.parametrize("path", ["/letters/appeal/sign?lang=en", "/withdraw", "/confirm/x"])
def test_a_cross_site_post_is_refused(csrf_app, headers, path):
    """A public form posted from another site (or with no sign of where from) is refused,
    and writes nothing."""
    response = csrf_app.test_client().post(path, base_url=SITE, data=sign_form(),
                                           headers=headers)
    assert response.status_code == 400
    assert EXPIRED in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert db.session.scalars(select(Signature)).all() == []
    assert mails_to("contact@free120.example") == []


def test_the_back_office_still_wants_its_token(csrf_app):
    """The back office keeps its session and Flask-WTF's token: same origin is not enough."""
    client = csrf_app.test_client()
    page = client.get("/admin/login", base_url=SITE)
    assert page.headers.getlist("Set-Cookie") or "csrf_token" in page.get_data(as_text=True)
    response = client.post("/admin/login", base_url=SITE,
                           data={"email": "a@example.org", "password": "x" * 12},
                           headers={"Origin": SITE, "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 400
    assert EXPIRED in response.get_data(as_text=True)
