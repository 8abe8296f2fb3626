"""A petition in Chromium, at a desktop's and a phone's width: its page shows counts by
country and type and no name; its form offers no display choice and says what is public; an
open letter's form says it too, with the letter's default pre-selected.

Set PETITION_SHOTS to a directory to keep the screenshots (petition_*.png) there."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from petition.letters import operations as letters
from petition.models import ANONYMOUS, INDIVIDUAL, ORGANIZATION, PETITION
from tests.factories import make_signature

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

WIDTHS = {"desktop": 1280, "phone": 390}
NAMES = ("Zebulon Quintavalle", "Organisation Xylophage")


def _shots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PETITION_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_petition_and_open_letter_pages(live_app, browser, tmp_path):
    with live_app.app_context():
        petition = letters.create_letter(
            "stop-the-dam", lang="en", title="Stop the dam on the Loue", kind=PETITION,
            body="We ask the prefect to **withdraw the permit** for the dam.", goal=500)
        make_signature(petition, signer_type=ORGANIZATION, country="FR", name=NAMES[1])
        make_signature(petition, signer_type=ORGANIZATION, country="CH", name="Pro Natura")
        for country, name in (("FR", NAMES[0]), ("FR", "Anne Dupont"), ("FR", "Luc Martin"),
                              ("DE", "Karl Weber"), ("BE", "Els Peeters")):
            make_signature(petition, signer_type=INDIVIDUAL, country=country, name=name,
                           display=ANONYMOUS)
        letters.create_letter("appeal", lang="en", title="Free the jailed mathematician")
    shots = _shots_dir(tmp_path)
    base = live_app.config["BASE_URL"]
    for label, width in WIDTHS.items():
        context = browser.new_context(locale="en-GB", viewport={"width": width, "height": 900})
        page = context.new_page()
        try:
            page.goto(f"{base}/letters/stop-the-dam")
            text = page.inner_text("body")
            for name in NAMES:
                assert name not in text
            table = page.locator("table.country-counts")
            assert table.is_visible()
            assert "France" in table.inner_text() and "3" in table.inner_text()
            assert page.locator("input[name=display]").count() == 0
            statement = page.locator("#public-statement")
            assert "No name will be published" in statement.inner_text()
            page.screenshot(path=str(shots / f"petition_page_{label}_{width}.png"),
                            full_page=True)
            page.locator("section.sign").screenshot(
                path=str(shots / f"petition_sign_form_{label}_{width}.png"))

            page.goto(f"{base}/letters/appeal")
            page.check("input[name=signer_type][value=individual]")
            assert page.is_checked("input[name=display][value=initials]")
            assert "Your email address is never published." in page.inner_text(
                "#public-statement")
            page.locator("section.sign").screenshot(
                path=str(shots / f"petition_open_letter_sign_form_{label}_{width}.png"))
        finally:
            context.close()
