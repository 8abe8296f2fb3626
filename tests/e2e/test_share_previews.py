"""The share image, the icons and the share links in Chromium: the image a preview shows,
rendered by the browser; the letter page's share section at desktop and phone widths.
Screenshots are kept in test-artifacts/screenshots/ for a person to look at."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from petition.extensions import db
from petition.letters import operations as letters
from petition.models import Letter, LetterText
from tests.factories import make_signature

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

REPO = Path(__file__).resolve().parents[2]
TITLE_RU = ("Свободу Борису Кагарлицкому: открытое письмо учёных, профсоюзов и правозащитников "
            "всего мира")


@pytest.fixture(scope="module")
def screenshots() -> Path:
    folder = Path(os.environ.get("A11Y_SCREENSHOTS") or REPO / "test-artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def base(live_app) -> str:
    with live_app.app_context():
        letters.create_letter("appeal", lang="fr", title="Libérez le mathématicien emprisonné",
                              body="Nous demandons sa **libération** immédiate. Il est "
                                   "emprisonné depuis 2023.", goal=1000)
        letter = db.session.query(Letter).one()
        letter.texts.append(LetterText(lang="ru", title=TITLE_RU,
                                       body="Мы требуем его немедленного освобождения."))
        db.session.commit()
        for number in range(3):
            make_signature(letter, name=f"Организация {number}", country="DE")
        db.session.remove()
    return live_app.config["BASE_URL"]


def test_the_share_image_renders_in_chromium(browser, base, screenshots):
    context = browser.new_context(locale="ru-RU", viewport={"width": 1200, "height": 630})
    page = context.new_page()
    try:
        response = page.goto(f"{base}/letters/appeal/share.png?lang=ru")
        assert response is not None and response.headers["content-type"] == "image/png"
        size = page.evaluate("[document.images[0].naturalWidth, document.images[0].naturalHeight]")
        assert size == [1200, 630]
        page.screenshot(path=str(screenshots / "share-image-ru.png"), full_page=False)
        page.goto(f"{base}/letters/appeal/share.png?lang=fr")
        page.screenshot(path=str(screenshots / "share-image-fr.png"), full_page=False)
        # The icons the pages link to are images the browser can draw.
        page.goto(f"{base}/apple-touch-icon.png")
        assert page.evaluate("document.images[0].naturalWidth") == 180
        page.goto(f"{base}/favicon.ico")
        assert page.evaluate("document.images[0].naturalWidth") in (16, 32, 48)
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_letter_page_shows_its_share_links(browser, base, screenshots, width):
    context = browser.new_context(locale="ru-RU", viewport={"width": width, "height": 900},
                                  java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{base}/letters/appeal?lang=ru")
        # The preview tags name the image in the page's language.
        image = page.locator("meta[property='og:image']").get_attribute("content")
        assert image == f"{base}/letters/appeal/share.png?lang=ru"
        section = page.locator("section.share")
        section.scroll_into_view_if_needed()
        links = section.locator("ul.share-links a")
        names = [name.strip() for name in links.all_inner_texts()]
        assert {"Telegram", "WhatsApp", "Bluesky", "Mastodon", "Facebook", "X", "VK"} <= set(names)
        for index in range(links.count()):
            assert links.nth(index).is_visible()
        assert section.locator("#share-url").input_value() == f"{base}/letters/appeal"
        # No sideways scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        section.screenshot(path=str(screenshots / f"share-links-{width}.png"))
        # Mastodon: a page of ours asks for the server, then sends the reader there.
        section.locator("a", has_text="Mastodon").click()
        page.fill("#instance", "not a server")
        page.click("form button[type=submit]")
        assert page.locator("#instance-error").is_visible()
        page.screenshot(path=str(screenshots / f"share-mastodon-{width}.png"), full_page=True)
    finally:
        context.close()
