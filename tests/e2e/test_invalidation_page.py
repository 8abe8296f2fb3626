"""The bulk invalidation page in Chromium, at 1280 and 390 px: conditions, the count first,
"Invalidate N signatures", the job in the list, undone with its button; nothing wider than a
phone's screen. Screenshots: invalidation_<width>.png ($SCREENSHOTS, else
test-artifacts/screenshots)."""
from __future__ import annotations

import pytest

from petition.extensions import db
from petition.models import INDIVIDUAL
from petition.signatures import invalidation
from tests.admin_helpers import make_account
from tests.e2e.test_admin_phone import ADMIN, OVERFLOWING, _log_in, _shots
from tests.factories import make_letter, make_signature

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


def _seed(app) -> str:
    with app.app_context():
        letter = make_letter("appeal", title="Libérez le mathématicien Azat Miftakhov")
        for number in range(4):
            bot = make_signature(letter, name=f"Bot {number}", signer_type=INDIVIDUAL,
                                 commit=False)
            bot.domain_hash = invalidation.domain_hash("spam.example")
        make_signature(letter, name="Ada Lovelace", signer_type=INDIVIDUAL, country="GB")
        db.session.commit()
        # An older job, already undone, for the list.
        old = invalidation.start(letter, invalidation.Conditions.parse({"country": "GB"}),
                                 "org@example.org")
        invalidation.undo(old.public_id, "org@example.org")
        _, secret = make_account(ADMIN, "admin", totp=True)
        db.session.remove()
    return secret


@pytest.mark.parametrize("width", [1280, 390])
def test_count_invalidate_and_undo_in_chromium(live_app, browser, width):
    secret = _seed(live_app)
    base = live_app.config["BASE_URL"]
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{base}/admin/login")
    _log_in(page, base, secret)
    page.goto(f"{base}/admin/letters/appeal/invalidation")

    page.fill("#domain", "spam.example")
    page.fill("#since", "2000-01-01")
    page.click("button:text('Count')")
    assert "4 signatures match" in page.inner_text("#invalidation-count")
    page.click("button:text('Invalidate 4 signatures')")
    page.wait_for_load_state()
    assert "4 signatures invalidated" in page.inner_text("main")
    assert page.locator("#invalidation-jobs tbody tr").count() == 2

    # The count of another set, shown above the list of jobs, for the screenshot.
    page.fill("#name", "ada")
    page.click("button:text('Count')")
    assert "1 signature matches" in page.inner_text("#invalidation-count")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(_shots() / f"invalidation_{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(OVERFLOWING, width) == []

    page.locator("#invalidation-jobs tbody tr").first.locator("button:text('Undo')").click()
    page.wait_for_load_state()
    assert "Job undone: 4 signatures put back." in page.inner_text("main")
    with live_app.app_context():
        assert live_app.test_client().get("/letters/appeal.json").get_json()["total"] == 5
    context.close()
