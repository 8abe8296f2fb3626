"""Path segments and query parameters fed every payload: slugs, country codes, formats,
?lang=, page numbers, the back office's filters. A 4xx or the page; never a 500."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.admin_helpers import signed_in_client
from tests.drive_helpers import make_drive
from tests.factories import make_letter, make_signature

from .conftest import assert_no_500, once, row_counts
from .payloads import ACCEPTED_NAMES, ALL_TEXT, WALL, nasty_segment, stored

PUBLIC_PATHS = [
    "/letters/{}", "/letters/{}.json", "/letters/{}/signatories.txt", "/letters/{}/signatories.md",
    "/letters/{}/signatories.html", "/letters/{}/signatories.{}", "/letters/{}/sign",
    "/letters/{}/check-your-mail", "/letters/{}/privacy", "/letters/{}/search",
    "/letters/{}/signatories/{}", "/letters/{}/badge.svg", "/letters/{}/widget",
    "/letters/{}/write", "/letters/{}/write/check-your-mail", "/api/v1/letters/{}",
    "/api/v1/{}", "/confirm/{}", "/withdraw/{}", "/drive/confirm/{}", "/drive/letter/{}",
    "/news/unsubscribe/{}", "/{}",
]


def _letters() -> None:
    letter = make_letter()
    for name in ACCEPTED_NAMES:
        make_signature(letter, name=stored(name))
    make_drive()


def _segment(text: str) -> str:
    return quote(text, safe="")


def _controls(text: str) -> bool:
    return any(ord(char) < 0x20 for char in text)


@WALL
@given(segment=nasty_segment, other=nasty_segment)
def test_path_segments(app, client, segment, other):
    """Any slug, code, format or token in any public path: a 4xx or a page, no 500, nothing
    written; a control character is a 400."""
    once(app, _letters)
    before = row_counts()
    for template in PUBLIC_PATHS:
        path = template.format(_segment(segment), _segment(other))
        response = client.get(path + "?lang=en")
        assert_no_500(response)
        if _controls(segment + (other if template.count("{}") > 1 else "")):
            assert response.status_code == 400, (path, response.status_code)
    for template in ("/letters/{}/sign", "/confirm/{}", "/withdraw/{}", "/drive/confirm/{}",
                     "/news/unsubscribe/{}", "/letters/{}/write"):
        assert_no_500(client.post(template.format(_segment(segment)) + "?lang=en", data={}))
    assert row_counts() == before


@WALL
@given(lang=nasty_segment, page=st.one_of(nasty_segment, st.integers().map(str)),
       q=nasty_segment)
def test_query_parameters(app, client, lang, page, q):
    """Any ?lang=, ?page=, ?q=: served (an unknown language falls back) or a 4xx."""
    once(app, _letters)
    query = {"lang": lang, "page": page, "q": q, "format": q, "layout": lang}
    for path in ("/", "/letters/appeal", "/letters/appeal.json", "/letters/appeal/search",
                 "/letters/appeal/signatories/DE", "/letters/appeal/signatories.txt",
                 "/letters/appeal/signatories.html", "/letters/appeal/badge.svg",
                 "/letters/appeal/widget", "/api/v1/letters", "/api/v1/letters/appeal",
                 "/letters/letters-to-azat", "/privacy", "/withdraw", "/letters/appeal/sign"):
        response = client.get(path, query_string=query)
        assert_no_500(response)
        if _controls(lang + page + q):
            assert response.status_code == 400, path


@pytest.mark.parametrize("page", ["0", "-1", "1e3", "²", "١", "999999", "9" * 40, "1.5", " 1",
                                  "0x10", "", "NaN"])
def test_page_numbers(app, client, page):
    """A page number that is no page: 404; the first page as itself."""
    letter = make_letter()
    make_signature(letter, country="DE")
    response = client.get("/letters/appeal/signatories/DE",
                          query_string={"page": page, "lang": "en"})
    assert_no_500(response)
    assert response.status_code in (200, 404)


def test_admin_query_parameters(app):
    """The back office's filters, pages and formats with every payload: a 4xx or a page."""
    once(app, _letters)
    root = signed_in_client(app, "root@example.org", "admin")
    before = row_counts()
    for payload in ALL_TEXT:
        for path, names in (
            ("/admin/letters/appeal/signatures", ("q", "country", "status", "source",
                                                  "moderation", "since", "until", "page")),
            ("/admin/audit", ("actor", "action", "letter", "before", "since")),
            ("/admin/letters/appeal/export", ("format", "layout", "lang", "private")),
            ("/admin/letters/letters-to-azat/drive/letters", ("state",)),
        ):
            response = root.get(path, query_string={name: payload for name in names})
            assert_no_500(response)
            if "\x00" in payload:
                assert response.status_code == 400
    after = row_counts()
    # Reading writes nothing but the audit log's record of downloads.
    assert {k: v for k, v in after.items() if k != "audit_event"} == \
        {k: v for k, v in before.items() if k != "audit_event"}


def test_oversized_paths_and_queries(app, client):
    """A path segment or a query value of tens of thousands of characters: a 4xx or the
    page, nothing written."""
    once(app, _letters)
    before = row_counts()
    huge = "é" * 20000
    for path in ("/letters/" + quote(huge), "/confirm/" + "A" * 50000,
                 "/letters/appeal/signatories/" + "D" * 20000, "/withdraw/" + "x." * 20000):
        assert_no_500(client.get(path))
        assert_no_500(client.post(path))
    for params in ({"q": huge}, {"lang": huge}, {"page": "9" * 20000}, {huge[:100]: huge}):
        for path in ("/letters/appeal/search", "/letters/appeal/signatories/DE", "/",
                     "/letters/appeal.json", "/letters/appeal/signatories.txt"):
            response = client.get(path, query_string=params)
            assert_no_500(response)
    assert row_counts() == before
