"""The page of a 100,000-signature letter in Chromium on a phone: light, counts per country
first, a country's names a tap away, a name found; printed, a list with every name."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from petition.countries import country_codes
from petition.extensions import db
from petition.models import Signature
from tests.factories import make_letter
from tests.test_big_letter import bulk_signatures

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}


def _phone(browser):
    return browser.new_context(locale="en-GB", viewport=PHONE, device_scale_factor=2,
                               is_mobile=True, has_touch=True)


@pytest.mark.sqlite_only
def test_the_100k_letter_on_a_phone(live_app, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    codes = sorted(country_codes())[:150]
    with live_app.app_context():
        letter = make_letter("big", lang="en", title="Free them all")
        # As bench/dataset.py: a few big countries, a long tail.
        bulk_signatures(letter, 100_000, codes, [1 / (rank + 1) for rank in range(len(codes))])
        db.session.remove()
    base = live_app.config["BASE_URL"]
    context = _phone(browser)
    page = context.new_page()
    response = page.goto(f"{base}/letters/big?lang=en")
    assert response is not None and response.status == 200
    assert len(response.body()) <= 100_000, len(response.body())
    assert page.locator("#count-heading").inner_text() == "100,000 signatures"
    page.screenshot(path=SHOTS / "big-letter-phone-top.png")
    table = page.locator("table.country-counts")
    table.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "big-letter-phone-counts.png")
    assert table.locator("tbody tr").count() == 150
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 20_000, height  # was 310,282 px on a phone with every name
    page.screenshot(path=SHOTS / "big-letter-phone-full.png", full_page=True)

    # The biggest country's names, a tap away, a page at a time.
    table.locator("tbody tr th a").first.click()
    page.wait_for_load_state()
    assert "/signatories/" in page.url
    assert page.locator(".country-list li").count() == live_app.config["SIGNATORIES_PAGE_SIZE"]
    assert page.locator("a[rel=next]").is_visible()
    page.screenshot(path=SHOTS / "big-letter-phone-country.png")

    # A name from the middle of the list, found and placed.
    page.goto(f"{base}/letters/big?lang=en")
    page.fill("#name-query", "name54321 surname54321")
    page.click("form.name-search button[type=submit]")
    page.wait_for_load_state()
    assert "found under" in page.locator(".search-answer .found").inner_text()
    page.screenshot(path=SHOTS / "big-letter-phone-found.png")
    page.fill("#name-query", "name54325")  # one in ten individuals is counted only: this one
    page.click("form.name-search button[type=submit]")
    page.wait_for_load_state()
    assert "is not among the 90,000 listed names" in page.locator(".not-found").inner_text()
    context.close()


@pytest.mark.sqlite_only
def test_a_folded_list_prints_open_without_the_forms(live_app, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with live_app.app_context():
        letter = make_letter("mid", lang="en", title="A middling letter", show_chart=True)
        bulk_signatures(letter, 300, ["DE", "FR", "ES", "PL", "UA"])
        # Confirmed over three weeks, more at the start: the chart's bars.
        for number, signature in enumerate(db.session.scalars(select(Signature))):
            signature.confirmed_at -= dt.timedelta(days=min(number % 40, 20))
        db.session.commit()
        db.session.remove()
    context = _phone(browser)
    page = context.new_page()
    page.goto(f"{live_app.config['BASE_URL']}/letters/mid?lang=en")
    first_name = page.locator("details.group li").first
    assert not first_name.is_visible()  # folded on screen
    assert page.locator("form.name-search").is_visible()
    page.locator("details.group summary").first.click()
    assert first_name.is_visible()  # a tap opens it, no script
    page.screenshot(path=SHOTS / "mid-letter-phone-open.png", full_page=True)
    chart = page.locator("section.signature-days")
    assert chart.locator("svg rect").count() == 21
    chart.locator("summary").click()  # the figures as a table
    assert chart.locator("tbody tr").count() == 21
    chart.screenshot(path=SHOTS / "mid-letter-phone-chart.png")
    page.reload()
    page.emulate_media(media="print")
    assert page.locator("details.group li").last.is_visible()
    for form in ("section.sign", "form.name-search"):
        assert not page.locator(form).is_visible(), form
    page.screenshot(path=SHOTS / "mid-letter-print.png", full_page=True)
    context.close()
