"""Share links: on the letter page, a drive's page, the thank-you pages and every "already
confirmed" answer; plain links, no script; Mastodon through a page asking for the server."""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from petition.drive import writing
from petition.views.sharing import mastodon_host
from tests.drive_helpers import confirm_token, details, make_drive
from tests.factories import make_letter
from tests.helpers import assert_valid_html, confirm_token_from, outbox, sign_form

NETWORKS = ("Telegram", "WhatsApp", "Bluesky", "Mastodon", "Facebook", "X", "VK")


class ShareSection(HTMLParser):
    """The links and the copy field of the page's share section."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.depth = 0
        self.links: dict[str, dict] = {}
        self.copy_field: dict | None = None
        self._href: dict | None = None
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "script" and self.inside:
            self.scripts += 1
        if tag == "section" and values.get("class") == "share":
            self.inside, self.depth = True, 0
        elif self.inside and tag == "section":
            self.depth += 1
        if not self.inside:
            return
        if tag == "a":
            self._href = values
        if tag == "input" and values.get("id") == "share-url":
            self.copy_field = values

    def handle_data(self, data):
        if self._href is not None and data.strip():
            self.links[data.strip()] = self._href
            self._href = None

    def handle_endtag(self, tag):
        if tag == "section" and self.inside:
            if self.depth == 0:
                self.inside = False
            else:
                self.depth -= 1


def shares(page: str) -> ShareSection:
    parser = ShareSection()
    parser.feed(page)
    return parser


def assert_full_share_section(page: str, app, slug: str = "appeal") -> ShareSection:
    found = shares(page)
    url = f"{app.config['BASE_URL']}/letters/{slug}"
    assert found.copy_field is not None and found.copy_field["value"] == url
    assert "readonly" in found.copy_field
    for network in NETWORKS:
        assert network in found.links, network
    mail = [attrs for attrs in found.links.values() if attrs["href"].startswith("mailto:")]
    assert len(mail) == 1 and url.replace(":", "%3A").replace("/", "%2F") in mail[0]["href"]
    for network, attrs in found.links.items():
        if attrs["href"].startswith("https://"):
            assert attrs["rel"] == "noopener noreferrer" and attrs["target"] == "_blank"
            assert url in str(parse_qs(urlsplit(attrs["href"]).query)), network
    assert found.scripts == 0
    return found


def test_the_letter_page_carries_every_share_link(client, app):
    make_letter()
    for lang in ("en", "fr", "ru"):
        page = client.get(f"/letters/appeal?lang={lang}").get_data(as_text=True)
        assert_valid_html(page)
        found = assert_full_share_section(page, app)
        telegram = parse_qs(urlsplit(found.links["Telegram"]["href"]).query)
        assert "Libérez le mathématicien" in telegram["text"][0]
        assert found.links["Mastodon"]["href"].startswith("/letters/appeal/share/mastodon")


def test_the_share_text_is_in_the_page_language(client, app):
    make_letter()
    english = shares(client.get("/letters/appeal?lang=en").get_data(as_text=True))
    french = shares(client.get("/letters/appeal?lang=fr").get_data(as_text=True))
    assert "Sign this open letter" in english.links["X"]["href"].replace("+", " ")
    assert english.links["X"]["href"] != french.links["X"]["href"]


def test_a_drive_page_carries_them_too(client, app):
    make_drive()
    page = client.get("/letters/letters-to-azat?lang=en").get_data(as_text=True)
    found = assert_full_share_section(page, app, "letters-to-azat")
    assert "Write a letter" in found.links["Bluesky"]["href"].replace("+", " ")


# --- after confirming ------------------------------------------------------------------------


def signed_token(client) -> str:
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(name="BAG Russischsprachige Linke"))
    return confirm_token_from(outbox()[0])


def assert_thank_you_content(page: str, app) -> None:
    assert "BAG Russischsprachige Linke" in page  # how the signature appears
    assert "/withdraw" in page  # how to withdraw it
    found = assert_full_share_section(page, app)
    assert "signed this open letter" in found.links["WhatsApp"]["href"].replace("+", " ")


def test_thank_you_page_and_its_reload_keep_the_same_content(client, app):
    token = signed_token(client)
    done = client.post(f"/confirm/{token}?lang=en")
    assert done.status_code == 200
    assert_thank_you_content(done.get_data(as_text=True), app)
    # A reload re-sends the POST: the link is used, and the answer says all the same.
    reloaded = client.post(f"/confirm/{token}?lang=en")
    page = reloaded.get_data(as_text=True)
    assert reloaded.status_code == 200 and "already confirmed" in page
    assert_valid_html(page)
    assert_thank_you_content(page, app)
    # The link opened again later, too.
    assert_thank_you_content(client.get(f"/confirm/{token}?lang=en").get_data(as_text=True), app)


def test_the_drive_thank_you_page_and_its_reload(client, app):
    make_drive()
    writing.write("letters-to-azat", details(publish="initials"))
    token = confirm_token()
    for response in (client.post(f"/drive/confirm/{token}?lang=en"),
                     client.post(f"/drive/confirm/{token}?lang=en")):
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert_valid_html(page)
        assert "under your initials" in page  # how the letter appears
        assert "/drive/letter/" in page  # the private link, which withdraws it
        found = assert_full_share_section(page, app, "letters-to-azat")
        assert "I wrote a letter" in found.links["Telegram"]["href"].replace("+", " ")


# --- Mastodon --------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "host"), [
    ("mastodon.social", "mastodon.social"),
    ("  https://Eldritch.Cafe/@ana ", "eldritch.cafe"),
    ("@ana@mas.to", "mas.to"),
    ("ana@mas.to", "mas.to"),
    ("café.social", "xn--caf-dma.social"),
    ("", None), ("localhost", None), ("javascript:alert(1)", None), ("a b.org", None),
    ("mas.to:8443", None), ("a@b@mas.to", None),
    ("https://mas.to/@a@evil.org", "mas.to"), ("x" * 400 + ".org", None), ("1.2.3.4", None),
])
def test_the_server_is_read_from_what_people_type(typed, host):
    assert mastodon_host(typed) == host


def test_the_mastodon_page_asks_for_the_server_then_goes_there(client, app):
    make_letter()
    page = client.get("/letters/appeal/share/mastodon?lang=en").get_data(as_text=True)
    assert_valid_html(page)
    assert 'name="instance"' in page and "Sign this open letter" in page
    response = client.post("/letters/appeal/share/mastodon?lang=en",
                           data={"instance": "@ana@mas.to"})
    assert response.status_code == 303
    target = urlsplit(response.headers["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "mas.to", "/share")
    text = parse_qs(target.query)["text"][0]
    assert text == ("Sign this open letter: Libérez le mathématicien "
                    f"{app.config['BASE_URL']}/letters/appeal")


def test_a_bad_server_gets_the_form_again_with_a_message(client, app):
    make_letter()
    for typed in ("", "not a server", "x" * 5000):
        response = client.post("/letters/appeal/share/mastodon?lang=en", data={"instance": typed})
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Type the address of your Mastodon server" in page
        assert 'aria-invalid="true"' in page
    assert client.get("/letters/nothing/share/mastodon").status_code == 404


def test_after_signing_the_mastodon_text_says_so(client, app):
    make_letter()
    response = client.post("/letters/appeal/share/mastodon?lang=en&done=1",
                           data={"instance": "mas.to"})
    assert "I signed this open letter" in parse_qs(
        urlsplit(response.headers["Location"]).query)["text"][0]


def test_the_mastodon_form_must_come_from_this_site(client, app):
    """Else another site could send a visitor through here to any server (public forms are
    checked by origin: views/public_cache.py)."""
    make_letter()
    app.config["WTF_CSRF_ENABLED"] = True
    for headers in ({}, {"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = client.post("/letters/appeal/share/mastodon", headers=headers,
                               data={"instance": "evil.example"})
        assert response.status_code == 400 and "Location" not in response.headers
