"""A letter drive's public pages in Chromium: the characters-left count the page's script
keeps (under the site's CSP, in each language's plurals), and axe-core on every step a
writer takes: the page, the form sent back, check-your-mail, the confirmation page with its
marked passages, the thank-you page, the private page."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from petition.drive import settings
from petition.extensions import db
from petition.models.drive import REVIEW, DriveLetter
from tests.drive_helpers import make_drive
from tests.e2e.conftest import mails_to, submit, wait_for
from tests.e2e.test_accessibility import Audit, screenshot_folder  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

SLUG = "letters-to-azat"
COUNTS = {
    "en": ("2 characters left", "1 character too many"),
    "ru": ("Осталось 2 знака", "На 1 знак больше допустимого"),
}


@pytest.mark.parametrize("lang", sorted(COUNTS))
def test_a_writer_goes_the_whole_way_in_the_browser(live_app, smtp, browser,
                                                    screenshot_folder, lang):  # noqa: F811
    with live_app.app_context():
        make_drive(goal=1000, body_max=4000)
        settings.set_guidance(SLUG, lang, guidance="Do **not** write about the trial.",
                              risky_words="topology\nтопологи*")
    base = live_app.config["BASE_URL"]
    context = browser.new_context(locale=lang)
    page = context.new_page()
    # A script the CSP refused, or one that failed (not a 400 page or the missing favicon).
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load")
            else None)
    page.on("pageerror", lambda error: console.append(str(error)))
    audit = Audit(page, lang, screenshot_folder)
    try:
        page.goto(f"{base}/letters/{SLUG}?lang={lang}")
        audit.check("drive")

        # The count follows the typing, in the page's language and plurals.
        counter, live = page.locator("#body-count"), page.locator("#body-live")
        left, over = COUNTS[lang]
        page.fill("textarea[name=body]", "x" * 3998)
        wait_for(lambda: counter.inner_text() == left)
        page.fill("textarea[name=body]", "x" * 4001)
        wait_for(lambda: counter.inner_text() == over)
        wait_for(lambda: live.inner_text() == over)  # told to screen readers once typing stops

        # Sent as it is: no name, too long, no consent: the form comes back with messages.
        submit(page, "form[action$='/write']", status=400)
        assert page.locator(".field-error").count() >= 3
        assert page.locator("#body-count").inner_text() == over
        audit.check("drive-form-errors")

        email = f"writer-{lang}@example.org"
        page.fill("input[name=name]", "Marie Dupont")
        page.select_option("select[name=country]", "FR")
        page.fill("input[name=email]", email)
        page.select_option("select[name=language]", "en")
        page.fill("textarea[name=body]", "Dear Azat,\n\nYour lectures on topology are missed.")
        page.check("input[name=publish][value=initials]")
        page.check("input[name=consent]")
        submit(page, "form[action$='/write']")
        assert page.url.endswith(f"/letters/{SLUG}/write/check-your-mail")
        audit.check("drive-check-mail")

        [mail] = wait_for(lambda: mails_to(smtp, email))
        text = mail.message.get_body(preferencelist=("plain",)).get_content()
        [link] = set(re.findall(rf"{re.escape(base)}/drive/confirm/\S+", text))
        page.goto(link)
        assert page.locator(".letter-text mark").inner_text() == "topology"
        audit.check("drive-confirm")

        submit(page, "form.confirm")
        with live_app.app_context():
            assert db.session.scalar(select(DriveLetter.status)) == REVIEW
        audit.check("drive-thank-you")

        page.goto(page.locator("#writer-url").input_value())
        audit.check("drive-writer")
    finally:
        context.close()
    assert not console, console
    assert not audit.findings, audit.report()
