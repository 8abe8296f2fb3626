"""Link previews: a meta description on every public page, Open Graph and Twitter card tags
on letter pages, the favicon and the touch icon."""
from __future__ import annotations

import io
from html.parser import HTMLParser

from PIL import Image

from petition.extensions import db
from petition.letters.excerpt import excerpt
from petition.models import LetterText
from tests.drive_helpers import make_drive
from tests.factories import make_letter
from tests.helpers import assert_valid_html

BODY_FR = ("Nous demandons la **libération** immédiate de Boris, [emprisonné](https://example.org/"
           "secret) depuis 2023. Il enseignait les mathématiques à Moscou. Ses collègues du monde "
           "entier signent cette lettre. Nous ne nous tairons pas.")
BODY_EN = "We demand the immediate release of Boris. He taught mathematics in Moscow."


class Head(HTMLParser):
    """The <meta> and <link> tags of a page, as (name or property, content) pairs."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: list[tuple[str, str]] = []
        self.links: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "meta" and ("name" in values or "property" in values):
            self.meta.append((values.get("name") or values["property"], values.get("content")))
        if tag == "link":
            self.links[values["rel"]] = values["href"]


def head(page: str) -> Head:
    parser = Head()
    parser.feed(page)
    return parser


def one(tags: Head, name: str) -> str:
    found = [content for key, content in tags.meta if key == name]
    assert len(found) == 1, (name, found)
    return found[0]


def bilingual_letter():
    letter = make_letter(body=BODY_FR, goal=1000)
    letter.texts.append(LetterText(lang="en", title="Free the mathematician", body=BODY_EN))
    db.session.commit()
    return letter


# --- descriptions ----------------------------------------------------------------------------


def test_excerpt_keeps_whole_sentences_plain_text_within_160():
    text = excerpt(BODY_FR)
    assert text == ("Nous demandons la libération immédiate de Boris, emprisonné depuis 2023. "
                    "Il enseignait les mathématiques à Moscou.")
    assert len(text) <= 160 and "*" not in text and "example.org" not in text


def test_excerpt_cuts_a_long_first_sentence_at_a_word():
    text = excerpt("Мы требуем " + "немедленного " * 30 + "освобождения.")
    assert len(text) <= 160 and text.endswith("немедленного…")
    assert excerpt("") == "" and excerpt("Court.") == "Court."
    assert excerpt("# Titre\n\n> Cité « ici ».\n\n- un\n- deux") == "Titre Cité « ici ». un deux"


def test_the_letter_page_describes_the_letter_in_its_language(client, app):
    bilingual_letter()
    french = head(client.get("/letters/appeal?lang=fr").get_data(as_text=True))
    assert one(french, "description").startswith("Nous demandons la libération immédiate")
    english = head(client.get("/letters/appeal?lang=en").get_data(as_text=True))
    assert one(english, "description") == BODY_EN


def test_every_public_page_has_a_description(client, app):
    make_letter()
    for url in ("/", "/privacy", "/letters/appeal/privacy", "/letters/appeal/check-your-mail",
                "/withdraw", "/letters/appeal/share/mastodon", "/confirm/nonsense",
                "/letters/nothing"):
        for lang in ("en", "fr", "ru"):
            page = client.get(f"{url}?lang={lang}").get_data(as_text=True)
            description = one(head(page), "description")
            assert len(description) > 20, (url, lang)


# --- Open Graph and Twitter ------------------------------------------------------------------


def test_open_graph_and_twitter_tags_in_the_page_language(client, app):
    bilingual_letter()
    response = client.get("/letters/appeal?lang=en")
    page = response.get_data(as_text=True)
    assert_valid_html(page)
    tags = head(page)
    base = app.config["BASE_URL"]
    assert one(tags, "og:title") == "Free the mathematician"
    assert one(tags, "og:description") == BODY_EN
    assert one(tags, "og:url") == f"{base}/letters/appeal?lang=en"
    assert one(tags, "og:type") == "website"
    assert one(tags, "og:locale") == "en_US"
    assert one(tags, "og:locale:alternate") == "fr_FR"
    assert one(tags, "og:site_name") == "Open letters"
    image = one(tags, "og:image")
    assert image == f"{base}/letters/appeal/share.png?lang=en"
    assert one(tags, "og:image:width") == "1200" and one(tags, "og:image:height") == "630"
    assert "Free the mathematician" in one(tags, "og:image:alt")
    assert one(tags, "og:image:alt") == one(tags, "twitter:image:alt")
    assert one(tags, "twitter:card") == "summary_large_image"
    # The image the tags name is served, as what they say.
    served = client.get(image.removeprefix(base))
    assert served.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(served.data)).size == (1200, 630)

    russian = head(client.get("/letters/appeal?lang=ru").get_data(as_text=True))
    assert one(russian, "og:locale") == "ru_RU"
    assert one(russian, "og:image").endswith("share.png?lang=ru")
    assert one(russian, "og:title") == "Libérez le mathématicien"  # no Russian text: French


def test_a_drive_page_has_its_preview_too(client, app):
    make_drive()
    tags = head(client.get("/letters/letters-to-azat?lang=ru").get_data(as_text=True))
    assert one(tags, "og:title") == "1000 писем Азату"
    assert one(tags, "description") == "Напишите Азату письмо."
    assert one(tags, "og:image").endswith("/letters/letters-to-azat/share.png?lang=ru")


def test_other_pages_have_no_open_graph_tags(client, app):
    make_letter()
    tags = head(client.get("/?lang=en").get_data(as_text=True))
    assert not [key for key, _ in tags.meta if key.startswith(("og:", "twitter:"))]


# --- favicon and touch icon ------------------------------------------------------------------


def test_icons_are_linked_and_served(client, app):
    tags = head(client.get("/", follow_redirects=True).get_data(as_text=True))
    assert tags.links["icon"] == "/favicon.ico"
    assert tags.links["apple-touch-icon"] == "/apple-touch-icon.png"
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 200 and favicon.headers["Content-Type"] == "image/x-icon"
    icon = Image.open(io.BytesIO(favicon.data))
    assert icon.format == "ICO" and {(16, 16), (32, 32), (48, 48)} <= set(icon.info["sizes"])
    touch = client.get("/apple-touch-icon.png")
    assert touch.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(touch.data))
    assert image.size == (180, 180)
    assert image.convert("RGB").getpixel((5, 5)) == (0x8A, 0x1C, 0x1C)  # generated: the colour
    assert touch.headers["Cache-Control"].startswith("public")
    again = client.get("/apple-touch-icon.png", headers={"If-None-Match": touch.headers["ETag"]})
    assert again.status_code == 304


def test_icons_are_drawn_from_a_png_logo(client, app, tmp_path):
    logo = tmp_path / "logo.png"
    Image.new("RGB", (400, 200), (0, 90, 200)).save(logo)  # wide: fitted, not stretched
    app.config["SITE_LOGO"] = str(logo)
    image = Image.open(io.BytesIO(client.get("/apple-touch-icon.png").data)).convert("RGB")
    assert image.getpixel((90, 90)) == (0, 90, 200)
    assert image.getpixel((90, 5)) == (255, 255, 255)  # above the logo: opaque white
    favicon = Image.open(io.BytesIO(client.get("/favicon.ico").data)).convert("RGBA")
    assert favicon.getpixel((favicon.width // 2, favicon.height // 2))[:3] == (0, 90, 200)


def test_an_svg_or_broken_logo_gives_the_generated_icon(client, app, tmp_path):
    generated = client.get("/apple-touch-icon.png").data
    svg = tmp_path / "logo.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    app.config["SITE_LOGO"] = str(svg)
    assert client.get("/apple-touch-icon.png").data == generated
    broken = tmp_path / "logo.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    app.config["SITE_LOGO"] = str(broken)
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/x-icon"
    assert client.get("/apple-touch-icon.png").data == generated
