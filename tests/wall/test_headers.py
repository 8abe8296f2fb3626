"""Request headers fed every payload: Accept-Language, Host, X-Forwarded-* behind a trusted
proxy, Origin and Referer with CSRF protection on. A page or a clear 4xx; never a 500,
never a foreign form accepted."""
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import make_letter
from tests.helpers import sign_form

from .conftest import assert_no_500, assert_refused, once, row_counts
from .payloads import WALL, header_value, unique_email

SITE = "https://petition.example.org"
EXPIRED = "The form expired or was sent from another site."
TOKEN_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')

HOSTS = ["evil.example", "<wall-x>", "localhost:99999", "[::1", "a b", "x" * 300,
         "petition.example.org@evil.example", "localhost\\evil", "xn--80ak6aa92e.com", "", ":80"]
FORWARDED_FOR = ["", "garbage", "1.2.3.4, <wall-x>", "999.1.1.1", "::1", "fe80::1%eth0",
                 "::ffff:192.0.2.1", "192.0.2.1:1234", ", , ,", "1.2.3.4," * 200,
                 "'; DROP TABLE abuse_event; --"]
ORIGINS = ["null", "https://evil.example", "http://petition.example.org", "javascript:alert(1)",
           "https://[", "https://petition.example.org:99999", "https://petition.example.org.evil",
           "//petition.example.org", "https://petition.example.org@evil.example", "<wall-x>",
           "file:///etc/passwd", "https://PETITION.example.org:443x"]


@WALL
@given(language=header_value)
def test_accept_language(app, client, language):
    """Any Accept-Language: served in some language, signing still works or is refused."""
    once(app, make_letter)
    for path in ("/", "/letters/appeal", "/letters/appeal.json", "/letters/appeal/signatories.txt",
                 "/withdraw", "/api/v1/letters"):
        # Without ?lang= the pages redirect to their language (views/public_cache.py).
        response = client.get(path, headers={"Accept-Language": language},
                              follow_redirects=True)
        assert_no_500(response)
        assert response.status_code == 200, (path, response.status_code)
    response = client.post("/letters/appeal/sign", data=sign_form(email=unique_email()),
                           headers={"Accept-Language": language})
    assert response.status_code == 303


@pytest.mark.parametrize("host", HOSTS)
def test_host_header(app, client, host):
    """A forged Host: the page (links in it are relative) or a 400; never reflected as
    markup; a signature's mail links still use BASE_URL."""
    make_letter()
    response = client.get("/letters/appeal?lang=en", headers={"Host": host})
    assert_no_500(response)
    before = row_counts()
    signed = client.post("/letters/appeal/sign?lang=en", headers={"Host": host},
                         data=sign_form(email=unique_email()))
    assert_no_500(signed)
    if signed.status_code == 303:
        from tests.helpers import outbox, rendered
        assert "http://localhost/confirm/" in rendered(outbox()[-1]).text
    else:
        assert_refused(signed, before)


def test_x_forwarded_headers_behind_a_trusted_proxy(csrf_app):
    """Behind TRUSTED_PROXIES=1, any X-Forwarded-For, -Proto or -Host: no 500, and a
    same-origin form still signs (the abuse events hash whatever address there is)."""
    make_letter()
    client = csrf_app.test_client()
    for value in FORWARDED_FOR:
        for extra in ({}, {"X-Forwarded-Proto": value[:20]}, {"X-Forwarded-Host": value[:40]}):
            headers = {"X-Forwarded-For": value, **extra}
            page = client.get("/letters/appeal?lang=en", headers=headers)
            assert_no_500(page)
            if page.status_code != 200:
                continue
            assert not TOKEN_RE.search(page.get_data(as_text=True))  # public: no token
            before = row_counts()
            response = client.post("/letters/appeal/sign?lang=en",
                                   headers={**headers, "Origin": "http://localhost"},
                                   data=sign_form(email=unique_email()))
            assert_no_500(response)
            if response.status_code != 303:
                assert_refused(response, before)
    # Garbage from the proxy is no reason to refuse a same-origin signature.
    assert row_counts()["signature"] >= len(FORWARDED_FOR)


def _form_and_token(client) -> tuple[dict, str]:
    """A sign form (public: no token) and the back office's login token of `client`."""
    page = client.get("/admin/login", base_url=SITE)
    return sign_form(email=unique_email()), TOKEN_RE.search(page.get_data(as_text=True))[1]


def test_missing_or_forged_csrf_token(csrf_app):
    """The back office's login without its token, with another's, a truncated or a forged
    one: 400, nothing stored. (The public forms carry none: views/public_cache.py.)"""
    make_letter()
    client = csrf_app.test_client()
    _data, token = _form_and_token(client)
    login = {"email": "nobody@example.org", "password": "wrong password"}
    headers = {"Origin": SITE}
    stranger = csrf_app.test_client()
    _other, foreign = _form_and_token(stranger)
    for forged in (None, "", token[:-3], token + "x", foreign, "<wall-x>", "a.b.c", "x" * 5000):
        before = row_counts()
        form = dict(login) if forged is None else {**login, "csrf_token": forged}
        response = client.post("/admin/login", base_url=SITE, data=form, headers=headers)
        assert_refused(response, before, EXPIRED)
    # The same token on the same session still works afterwards: nothing was spoiled.
    response = client.post("/admin/login", base_url=SITE,
                           data={**login, "csrf_token": token}, headers=headers)
    assert response.status_code != 400 and EXPIRED not in response.get_data(as_text=True)


@WALL
@given(origin=st.one_of(st.sampled_from(ORIGINS), header_value),
       referer=st.one_of(st.none(), st.sampled_from(ORIGINS), header_value))
def test_foreign_origin_or_referer(csrf_app, origin, referer):
    """A valid token with another site's, a malformed or a "null" Origin or Referer: 400
    and nothing stored; this site's exactly: signed."""
    once(csrf_app, make_letter)
    client = csrf_app.test_client()
    data, token = _form_and_token(client)
    headers = {"Origin": origin}
    if referer is not None:
        headers["Referer"] = referer
    before = row_counts()
    response = client.post("/letters/appeal/sign?lang=en", base_url=SITE,
                           data={**data, "csrf_token": token}, headers=headers)
    same = [value for value in (origin, referer) if value]
    if same and all(value.strip().rstrip("/").lower() in (SITE, SITE + ":443") or
                    value.strip().lower().startswith(SITE + "/") for value in same):
        assert_no_500(response)
        return  # this site's own (perhaps with its port): accepted or refused, both fine
    assert_refused(response, before, EXPIRED)


@pytest.mark.parametrize("path,data", [
    ("/withdraw", {"email": "a@example.org"}),
    ("/letters/letters-to-azat/write", {"name": "M"}),
    ("/admin/login", {"email": "a@example.org", "password": "x"}),
])
def test_other_forms_refuse_a_foreign_origin(csrf_app, path, data):
    """The other public forms and the login refuse a form from another site too."""
    from tests.drive_helpers import make_drive
    make_drive()
    client = csrf_app.test_client()
    before = row_counts()
    response = client.post(path + "?lang=en", base_url=SITE, data=data,
                           headers={"Origin": "https://evil.example"})
    assert_refused(response, before, EXPIRED)
