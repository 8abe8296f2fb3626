"""Cookies fed every payload: the session, the language, the back office's. A tampered
cookie is ignored (or ends the login); never a 500."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.admin_helpers import signed_in_client
from tests.factories import make_letter
from tests.helpers import sign_form

from .conftest import assert_no_500, assert_refused, once, row_counts
from .payloads import WALL, header_value, unique_email

ADMIN_COOKIE = "petition_admin"

cookie_value = st.one_of(
    header_value.filter(lambda v: ";" not in v and "," not in v),
    st.sampled_from(["<wall-x>", ".eJyrVkrLz1eyUkpKLFKqBQAdegQ0.abc.def", "x" * 4000, "\"quoted\"",
                     "e30.AAAA.BBBB", ".", "..", "%00", "null"]),
)


def _cookie(client, name: str, value: str, path: str = "/") -> None:
    client.set_cookie(name, value, path=path)


@WALL
@given(session=cookie_value, lang=cookie_value)
def test_tampered_session_and_language_cookies(app, session, lang):
    """A forged session or any lang cookie: the pages in some language, signing works."""
    once(app, make_letter)
    client = app.test_client()
    _cookie(client, "session", session)
    _cookie(client, "lang", lang)
    for path in ("/", "/letters/appeal", "/withdraw", "/letters/appeal/signatories.html"):
        response = client.get(path, follow_redirects=True)  # "/": to ?lang=
        assert response.status_code == 200, (path, response.status_code)
        assert_no_500(response)
    before = row_counts()
    response = client.post("/letters/appeal/sign", data=sign_form(email=unique_email()))
    assert response.status_code == 303
    assert row_counts()["signature"] == before["signature"] + 1


def test_tampered_session_cookie_with_csrf_on(csrf_app):
    """With CSRF on, a forged session cookie on a public form: never read (public pages
    open no session, views/public_cache.py), never answered with a cookie; the form from
    this site signs, the same form from another site is refused."""
    make_letter()
    client = csrf_app.test_client()
    _cookie(client, "session", ".eJyrVkrLz1eyUkpKLFKqBQAdegQ0.abc.def")
    page = client.get("/letters/appeal?lang=en")
    assert page.status_code == 200 and not page.headers.getlist("Set-Cookie")
    before = row_counts()
    response = client.post("/letters/appeal/sign?lang=en", headers={"Origin": "https://evil.example"},
                           data=sign_form())
    assert_refused(response, before, "The form expired or was sent from another site.")
    response = client.post("/letters/appeal/sign?lang=en", headers={"Origin": "http://localhost"},
                           data=sign_form())
    assert response.status_code == 303
    assert not [cookie for cookie in response.headers.getlist("Set-Cookie")
                if cookie.startswith("session=")]


@WALL
@given(value=cookie_value)
def test_tampered_admin_cookie(app, value):
    """A forged back-office cookie: the login page, never a page of the back office."""
    once(app, make_letter)
    client = app.test_client()
    _cookie(client, ADMIN_COOKIE, value, path="/admin")
    for path in ("/admin/", "/admin/letters/appeal", "/admin/letters/appeal/signatures"):
        response = client.get(path + "?lang=en")
        assert_no_500(response)
        assert response.status_code in (302, 303, 401, 403), (path, response.status_code)


def test_admin_cookie_altered_by_one_character(app):
    """A real back-office cookie with one character changed, cut, or moved to another
    path: logged out, no 500."""
    make_letter()
    client = signed_in_client(app)
    real = client.get_cookie(ADMIN_COOKIE, path="/admin")
    assert real is not None
    assert client.get("/admin/letters/appeal?lang=en").status_code == 200
    value = real.value
    flipped = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    for forged in (flipped, value[:-5], value + "x", value.replace(".", "..", 1), value[::-1]):
        other = app.test_client()
        _cookie(other, ADMIN_COOKIE, forged, path="/admin")
        response = other.get("/admin/letters/appeal?lang=en")
        assert_no_500(response)
        assert response.status_code in (302, 303, 401, 403), forged
    # The admin cookie sent as the public session cookie opens nothing either.
    other = app.test_client()
    _cookie(other, "session", value)
    assert other.get("/admin/letters/appeal?lang=en").status_code in (302, 303, 401, 403)
