"""A letter's badge: /letters/<slug>/badge.svg, the count and goal as an image for other sites."""
from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ElementTree

import pytest

from petition.extensions import db
from petition.letters import counting
from petition.letters import operations as letters
from petition.models import DRAFT, INDIVIDUAL, ORGANIZATION, utcnow
from tests.drive_helpers import make_drive, written
from tests.factories import make_letter, make_signature

SVG = "{http://www.w3.org/2000/svg}"
BADGE = "/letters/appeal/badge.svg"


def with_count(letter, count: int, signer_type: str = ORGANIZATION) -> None:
    """`count` public signatures from Germany, as the counts would hold them."""
    counting.changed(letter, added=[("DE", signer_type, True)] * count)
    db.session.commit()


def words(response) -> list[str]:
    """The badge's texts, box by box, from the SVG as a viewer parses it."""
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(response.get_data())
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    return [text.text or "" for text in root.iter(f"{SVG}text")]


def title_of(response) -> str:
    root = ElementTree.fromstring(response.get_data())
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == root.get("aria-label")
    return title.text


def test_the_badge_says_count_and_goal_in_each_language(client, app):
    letter = make_letter(goal=5000)
    with_count(letter, 1234)
    assert words(client.get(BADGE + "?lang=en")) == ["1,234 signatures", "Goal: 5,000"]
    # French numbers group with a narrow no-break space, as CLDR writes them.
    assert words(client.get(BADGE + "?lang=fr")) == ["1\u202f234 signatures",
                                                      "Objectif\xa0: 5\u202f000"]
    assert words(client.get(BADGE + "?lang=ru")) == ["1\xa0234 подписи", "Цель: 5\xa0000"]


@pytest.mark.parametrize(("count", "expected"), [(1, "1 подпись"), (3, "3 подписи"),
                                                 (5, "5 подписей"), (21, "21 подпись")])
def test_russian_takes_its_three_plural_forms(client, app, count, expected):
    with_count(make_letter(), count, INDIVIDUAL)
    assert words(client.get(BADGE + "?lang=ru")) == [expected]  # no goal: one box


def test_a_reached_goal_says_so(client, app):
    with_count(make_letter(goal=10), 12)
    assert words(client.get(BADGE + "?lang=en")) == ["12 signatures", "Goal reached"]


def test_only_public_signatures_count(client, app):
    letter = make_letter()
    make_signature(letter)
    make_signature(letter, status="pending")
    make_signature(letter, moderation="held")
    assert words(client.get(BADGE + "?lang=en")) == ["1 signature"]


def test_a_drive_counts_letters_written(client, app):
    drive = make_drive(goal=1000)
    written(drive)
    written(drive, email="b@example.org", country="DE")
    response = client.get("/letters/letters-to-azat/badge.svg?lang=fr")
    assert words(response) == ["2 lettres écrites", "Objectif\xa0: 1\u202f000"]
    assert title_of(response).startswith("1000 писем Азату: ")
    written(drive, email="c@example.org", country="IT")  # a new badge, not the one kept
    assert words(client.get("/letters/letters-to-azat/badge.svg?lang=fr"))[0] == (
        "3 lettres écrites")


def test_the_title_is_escaped(client, app):
    make_letter(title='<script>alert("x")</script> & <a href="javascript:x">')
    response = client.get(BADGE + "?lang=en")
    assert b"<script" not in response.get_data() and b"<a " not in response.get_data()
    assert title_of(response) == (
        '<script>alert("x")</script> & <a href="javascript:x">: 0 signatures')


def test_an_embargo_hides_the_count_unless_shown_and_bounds_caching(client, app):
    until = utcnow() + dt.timedelta(seconds=25)
    letter = make_letter(goal=100, embargo_until=until)
    with_count(letter, 7)
    response = client.get(BADGE + "?lang=en")
    assert words(response) == ["Count not public yet"]
    control = response.cache_control
    assert control.max_age + int(control["stale-while-revalidate"]) <= 25
    assert words(client.get(BADGE + "?lang=fr")) == ["Décompte pas encore public"]
    letters.update_letter("appeal", embargo_count=True)  # as the back office does
    assert words(client.get(BADGE + "?lang=en")) == ["7 signatures", "Goal: 100"]


def test_the_badge_is_a_cacheable_image_with_its_own_policy(client, app):
    letter = make_letter(goal=100)
    with_count(letter, 5)
    response = client.get(BADGE + "?lang=fr")
    assert response.headers["Content-Type"] == "image/svg+xml; charset=utf-8"
    # Opened on its own it is a document of this site: nothing may run in it.
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response.headers  # ?lang= sets none here
    control = response.cache_control
    assert control.public and 0 < control.max_age <= 60
    assert int(control["stale-while-revalidate"]) > 0
    etag, weak = response.get_etag()
    assert etag and not weak
    again = client.get(BADGE + "?lang=fr", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    # Another language, or a new signature, is another badge.
    assert client.get(BADGE + "?lang=en", headers={
        "If-None-Match": response.headers["ETag"]}).status_code == 200
    make_signature(letter)
    assert client.get(BADGE + "?lang=fr", headers={
        "If-None-Match": response.headers["ETag"]}).status_code == 200


def test_without_lang_the_badge_follows_accept_language_and_says_so(client, app):
    with_count(make_letter(), 2)
    response = client.get(BADGE, headers={"Accept-Language": "ru"})
    assert words(response) == ["2 подписи"]
    assert "Accept-Language" in response.headers["Vary"]
    assert words(client.get(BADGE + "?lang=xx", headers={"Accept-Language": "en"})) == [
        "2 signatures"]


def test_drafts_and_unknown_letters_have_no_badge(client, app):
    make_letter("draft-one", status=DRAFT)
    assert client.get("/letters/draft-one/badge.svg").status_code == 404
    assert client.get("/letters/nope/badge.svg").status_code == 404
