"""The public pages in Chromium: the error summary takes the focus without JavaScript, every
control shows the keyboard focus, and a 390 px phone gets no sideways scrolling."""
from __future__ import annotations

import pytest

from petition.extensions import db
from petition.letters import operations as letters
from petition.models import INDIVIDUAL, Letter
from tests.factories import make_signature

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

LONG_NAME = "Confederación General del Trabajo de la Región Autónoma y Solidaria"


@pytest.fixture
def letter_url(live_app):
    with live_app.app_context():
        letters.create_letter("appeal", lang="fr", title="Libérez le mathématicien emprisonné",
                              body="Nous demandons sa **libération**.", goal=1000,
                              place="Paris")
        letter = db.session.query(Letter).one()
        make_signature(letter, name=LONG_NAME, country="ES")
        make_signature(letter, signer_type=INDIVIDUAL, name="Marie Curie",
                       affiliation="physicienne, Institut du radium", country="FR")
        db.session.remove()
    return f"{live_app.config['BASE_URL']}/letters/appeal"


def _context(browser, width: int = 1280, javascript: bool = True):
    return browser.new_context(locale="en-GB", viewport={"width": width, "height": 900},
                               java_script_enabled=javascript)


def test_the_error_summary_takes_the_focus_without_javascript(browser, letter_url):
    context = _context(browser, javascript=False)
    page = context.new_page()
    try:
        page.goto(letter_url)
        page.check("input[name=signer_type][value=individual]")
        page.fill("input[name=email]", "not an address")
        page.click("form[action$='/sign'] button[type=submit]")
        page.wait_for_load_state()
        assert page.evaluate("document.activeElement.id") == "error-summary"
        summary = page.locator("#error-summary")
        assert summary.is_visible() and summary.bounding_box()["y"] < 900  # scrolled to it
        # Tab goes to its first link; following it puts the focus on that field.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#name"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "name"
        # The language links of this page (a POST's answer) lead to the letter.
        page.click("nav.langs a[hreflang=fr]")
        assert page.url == f"{letter_url}?lang=fr"
        assert page.locator("html").get_attribute("lang") == "fr"
    finally:
        context.close()


def _focus_ring(page) -> dict:
    return page.evaluate("""() => {
        const element = document.activeElement, style = getComputedStyle(element);
        return {tag: element.tagName, name: element.name || element.textContent.trim().slice(0, 30),
                style: style.outlineStyle, width: parseFloat(style.outlineWidth),
                color: style.outlineColor};
    }""")


def test_every_control_shows_the_keyboard_focus(browser, letter_url):
    context = _context(browser)
    page = context.new_page()
    try:
        page.goto(letter_url)
        page.keyboard.press("Tab")
        first = _focus_ring(page)
        assert first["name"].startswith("Skip to content")
        assert page.locator(".skip-link").bounding_box()["y"] >= 0  # on screen once focused
        page.check("input[name=signer_type][value=individual]")  # shows the display choice
        page.focus(".brand")  # from there on, by keyboard only
        seen = []
        for _ in range(60):
            page.keyboard.press("Tab")
            ring = _focus_ring(page)
            if ring["tag"] == "BODY":  # past the last control
                break
            assert ring["style"] != "none" and ring["width"] >= 2, ring
            seen.append((ring["tag"], ring["name"]))
        tags = {tag for tag, _ in seen}
        assert {"A", "INPUT", "SELECT", "BUTTON"} <= tags, seen
        assert ("INPUT", "display") in seen and ("INPUT", "consent") in seen, seen
        # The skip link moves the focus past the header.
        page.goto(letter_url)
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
    finally:
        context.close()


def test_a_390_px_phone_reads_the_page_without_sideways_scrolling(browser, letter_url):
    context = _context(browser, width=390)
    page = context.new_page()
    try:
        for url in (letter_url, letter_url.rsplit("/letters", 1)[0] + "/"):
            page.goto(url)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
        page.goto(letter_url)
        page.check("input[name=signer_type][value=individual]")
        # Each radio button and box stays beside the first line of its own words.
        for label in page.locator("label.choice").all():
            button = label.locator("input").bounding_box()
            words = label.locator("span").first.bounding_box()
            assert button["x"] + button["width"] <= words["x"], label.inner_text()
            assert abs(button["y"] - words["y"]) < 12, label.inner_text()
        # Country headings and names fit, the long name wraps inside the column.
        group = page.locator(".signatories .group", has_text=LONG_NAME)
        box = group.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        name = group.locator("li", has_text=LONG_NAME).bounding_box()
        assert name["x"] + name["width"] <= 390 and name["height"] > 30  # two lines, not cut
        # Input borders: at least 3:1 against the form's white.
        color = page.evaluate("getComputedStyle(document.querySelector('#email')).borderTopColor")
        assert _contrast(color, "rgb(255, 255, 255)") >= 3, color
    finally:
        context.close()


def _luminance(rgb: str) -> float:
    channels = [int(part) / 255 for part in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(first: str, second: str) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
