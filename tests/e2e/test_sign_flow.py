"""A person signs in Chromium, reads the mail on a real SMTP server, confirms, finds the name."""
import re
import time

import pytest

from petition.letters import operations as letters
from tests.e2e.conftest import confirmation_link, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


def test_sign_confirm_and_appear_under_country(live_app, smtp, page):
    with live_app.app_context():
        letters.create_letter("appeal", lang="fr", title="Libérez le mathématicien",
                              body="Nous demandons sa **libération**.", goal=1000,
                              place="Paris")
        letters.set_label("appeal", lang="fr", code="ES", label="Etat espagnol")
    base = live_app.config["BASE_URL"]

    page.goto(f"{base}/letters/appeal")  # French from the browser's Accept-Language
    assert page.locator("h1").inner_text() == "Libérez le mathématicien"
    page.check("input[name=signer_type][value=organization]")
    page.fill("input[name=name]", "Confederación General del Trabajo")
    page.select_option("select[name=country]", "ES")
    page.fill("input[name=email]", "prensa@cgt.example")
    page.check("input[name=consent]")
    started = time.monotonic()
    page.click("form[action$='/sign'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/check-your-mail$"))

    received = wait_for(lambda: smtp.received)
    delivered_after = time.monotonic() - started
    print(f"confirmation mail received {delivered_after:.2f} s after the click")
    assert delivered_after < 10, f"mail took {delivered_after:.1f} s"
    [mail] = received
    assert mail.rcpt_tos == ["prensa@cgt.example"]
    page.goto(confirmation_link(mail, base))
    assert "Confederación General del Trabajo" in page.content()
    page.click("form[action*='/confirm/'] button[type=submit]")
    page.wait_for_load_state()

    # Another visitor (this browser keeps its copy of the page up to PUBLIC_CACHE_SECONDS,
    # as a shared cache would: docs/caching.md).
    visitor = page.context.browser.new_context(locale="fr-FR")
    page = visitor.new_page()
    page.goto(f"{base}/letters/appeal")
    group = page.locator(".signatories .group", has=page.locator("h4", has_text="Etat espagnol"))
    assert group.locator("li").all_inner_texts() == ["Confederación General del Trabajo"]
    assert page.locator("#count-heading").inner_text().startswith("1 ")
    visitor.close()
