"""A letter's widget: /letters/<slug>/widget, the one page other sites may frame."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from petition.extensions import db
from petition.letters import counting
from petition.letters import operations as letters
from petition.models import CLOSED, DRAFT, ORGANIZATION, utcnow
from tests.admin_helpers import signed_in_client
from tests.drive_helpers import make_drive, written
from tests.factories import make_letter, make_signature
from tests.helpers import assert_valid_html, html_lang

WIDGET = "/letters/appeal/widget"


def page_of(response) -> str:
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert_valid_html(page)
    return page


def plain(page: str) -> str:
    """The page's words with tags dropped and spaces (no-break ones too) folded."""
    return re.sub(r"[\s\u202f\xa0]+", " ", re.sub(r"<[^>]+>", " ", page))


def test_the_widget_shows_title_count_goal_and_a_link_out_of_the_frame(client, app):
    letter = make_letter(goal=5000)
    counting.changed(letter, added=[("DE", ORGANIZATION, True)] * 1234)
    db.session.commit()
    page = page_of(client.get(WIDGET + "?lang=en"))
    assert html_lang(page) == "en"
    words = plain(page)
    assert "Libérez le mathématicien" in words and "1,234 signatures" in words
    assert 'max="5000" value="1234"' in page and "Goal: 5,000" in words
    assert "24% of the goal" in words
    # Every link leaves the frame for the letter, in a new tab, in the widget's language.
    links = re.findall(r"<a [^>]*>", page)
    assert links and all('href="http://localhost/letters/appeal?lang=en"' in link
                         and 'target="_blank"' in link and 'rel="noopener"' in link
                         for link in links)
    assert "Sign this letter" in words
    # Nothing to post, nothing to run.
    assert "<form" not in page and "<script" not in page


def test_the_widget_in_french_and_russian(client, app):
    letter = make_letter(goal=100)
    for _ in range(3):
        make_signature(letter)
    french = page_of(client.get(WIDGET + "?lang=fr"))
    assert html_lang(french) == "fr"
    assert "3 signatures" in plain(french) and "Signer cette lettre" in plain(french)
    russian = page_of(client.get(WIDGET + "?lang=ru"))
    assert html_lang(russian) == "ru"
    assert "3 подписи" in plain(russian) and "Цель: 100" in plain(russian)
    assert "Подписать это письмо" in plain(russian)


def test_a_closed_letter_and_a_drive(client, app):
    make_letter(status=CLOSED)
    assert "Lire la lettre" in plain(page_of(client.get(WIDGET + "?lang=fr")))
    drive = make_drive(goal=1000)
    written(drive)
    words = plain(page_of(client.get("/letters/letters-to-azat/widget?lang=ru")))
    assert "1 письмо написано" in words and "Написать письмо" in words


def test_an_embargo_hides_the_count_unless_shown(client, app):
    letter = make_letter(goal=100, embargo_until=utcnow() + dt.timedelta(hours=1))
    make_signature(letter)
    page = page_of(client.get(WIDGET + "?lang=en"))
    assert "Count not public yet" in page and "<progress" not in page
    letters.update_letter("appeal", embargo_count=True)  # as the back office does
    assert "1 signature" in plain(page_of(client.get(WIDGET + "?lang=en")))


def test_the_title_is_escaped(client, app):
    make_letter(title='<img src=x onerror=alert(1)> "quoted"')
    page = page_of(client.get(WIDGET + "?lang=fr"))
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_only_the_widget_may_be_framed(client, app):
    make_letter()
    response = client.get(WIDGET + "?lang=fr")
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in policy and "X-Frame-Options" not in response.headers
    # Still this site's style sheet only, no script, no form.
    assert "default-src 'none'" in policy and "style-src 'self'" in policy
    assert "script-src" not in policy and "form-action 'none'" in policy
    for path in ("/", "/letters/appeal", "/letters/appeal.json", "/letters/appeal/badge.svg",
                 "/api/v1/letters", "/letters/nope/widget", "/admin/login"):
        other = client.get(path)
        assert other.headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors *" not in other.headers["Content-Security-Policy"], path


def test_the_widget_sets_no_cookie_and_is_cacheable(client, app):
    letter = make_letter()
    response = client.get(WIDGET + "?lang=ru")
    assert "Set-Cookie" not in response.headers
    assert client.get_cookie("lang") is None
    control = response.cache_control
    assert control.public and 0 < control.max_age <= 60
    again = client.get(WIDGET + "?lang=ru", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    make_signature(letter)
    assert client.get(WIDGET + "?lang=ru", headers={
        "If-None-Match": response.headers["ETag"]}).status_code == 200
    # ?lang= is remembered by the pages no cache keeps (the letter's page is cached now:
    # views/public_cache.py).
    assert "Set-Cookie" in client.get("/privacy?lang=ru").headers


@pytest.mark.parametrize("path", ["/letters/draft-one/widget", "/letters/nope/widget"])
def test_drafts_and_unknown_letters_have_no_widget(client, app, path):
    make_letter("draft-one", status=DRAFT)
    assert client.get(path).status_code == 404


# --- the embed code in the back office ------------------------------------------------------


def test_the_back_office_gives_the_embed_code_per_language(app):
    from html import unescape

    make_letter(title='Libérez "A & B"')
    client = signed_in_client(app)
    page = client.get("/admin/letters/appeal?lang=en").get_data(as_text=True)
    assert "Embed on other sites" in page
    for lang in ("fr", "en", "ru"):  # the letter's own language first
        widget = re.search(f'<textarea id="embed-widget-{lang}"[^>]*>([^<]*)</textarea>', page)
        badge = re.search(f'<textarea id="embed-badge-{lang}"[^>]*>([^<]*)</textarea>', page)
        assert widget and badge, lang
        assert unescape(widget.group(1)) == (
            f'<iframe src="http://localhost/letters/appeal/widget?lang={lang}" '
            'title="Libérez &#34;A &amp; B&#34;" width="340" height="230" style="border:0" '
            'loading="lazy"></iframe>')
        assert unescape(badge.group(1)) == (
            f'<a href="http://localhost/letters/appeal?lang={lang}">'
            f'<img src="http://localhost/letters/appeal/badge.svg?lang={lang}" '
            'alt="Libérez &#34;A &amp; B&#34;"></a>')
        assert f'src="/letters/appeal/badge.svg?lang={lang}"' in page  # the preview
    assert page.index('id="embed-fr"') < page.index('id="embed-en"')


def test_a_drive_page_in_the_back_office_gives_it_too(app):
    make_drive()
    client = signed_in_client(app, letters=("letters-to-azat",))
    page = client.get("/admin/letters/letters-to-azat?lang=en").get_data(as_text=True)
    assert "http://localhost/letters/letters-to-azat/widget?lang=ru" in page
    assert "http://localhost/letters/letters-to-azat/badge.svg?lang=en" in page
