"""The abuse review page in Chromium, at 1280 and 390 px: the trends (blocks by hash,
domains), a row blocked with its button, the rule listed and removed; nothing wider than a
phone's screen. Screenshots: abuse_<width>.png ($SCREENSHOTS, else
test-artifacts/screenshots)."""
from __future__ import annotations

import datetime as dt

import pytest

from petition.abuse import events, rules
from petition.abuse.network import Network
from petition.extensions import db
from petition.letters.operations import get_letter
from petition.models import utcnow
from petition.models.abuse import EVENT_BLOCKED, EVENT_COUNTED, EVENT_FLAGGED, RULE_DOMAIN
from tests.admin_helpers import make_account
from tests.e2e.test_admin_phone import ADMIN, OVERFLOWING, _log_in, _shots
from tests.factories import make_letter

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

# (client address, mail domain, how many, outcome, minutes ago)
SUBMISSIONS = [
    ("203.0.113.4", "mail.example", 31, EVENT_COUNTED, 20),
    ("203.0.113.9", "mail.example", 6, EVENT_FLAGGED, 10),
    ("198.51.100.7", "uni.example", 3, EVENT_COUNTED, 200),
    ("2001:db8:5:6::1", "gmail.com", 2, EVENT_COUNTED, 400),
    ("192.0.2.50", "spam.example", 4, EVENT_BLOCKED, 90),
]


def _seed(app) -> str:
    with app.app_context():
        letter = make_letter("appeal", title="Libérez le mathématicien Azat Miftakhov")
        now = utcnow()
        for address, domain, number, outcome, minutes in SUBMISSIONS:
            for _ in range(number):
                event = events.record(letter.id, Network.of(address), domain, outcome)
                event.at = now - dt.timedelta(minutes=minutes)
        db.session.commit()
        _, secret = make_account(ADMIN, "admin", totp=True)
        rules.add(None, RULE_DOMAIN, "*.spam.example", "block", ADMIN, "bulk sign-ups")
        db.session.remove()
    return secret


@pytest.mark.parametrize("width", [1280, 390])
def test_trends_block_and_rules_in_chromium(live_app, browser, width):
    secret = _seed(live_app)
    base = live_app.config["BASE_URL"]
    with live_app.app_context():
        busy = Network.of("203.0.113.0").block_hash
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{base}/admin/login")
    _log_in(page, base, secret)
    page.goto(f"{base}/admin/letters/appeal")
    page.click("a:text('Abuse review')")
    page.wait_for_load_state()
    main = page.inner_text("main")
    assert "46 submissions in the last 24 hours." in main
    first = page.locator("table.abuse").first.locator("tbody tr").first
    assert busy in first.inner_text() and "Trend" in first.inner_text()

    first.locator("button:text('Block')").click()
    page.wait_for_load_state()
    assert f"Blocked: {busy}. Its submissions are dropped without a word." in \
        page.inner_text("main")
    page.screenshot(path=str(_shots() / f"abuse_{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(OVERFLOWING, width) == []
    with live_app.app_context():
        assert rules.verdict(get_letter("appeal").id, None, busy) == "block"
        db.session.remove()

    rows = page.locator("table.abuse").nth(2).locator("tbody tr")  # this letter's rules
    assert busy in rows.first.inner_text()
    rows.first.locator("button:text('Remove')").click()
    page.wait_for_load_state()
    assert f"Rule removed: {busy}." in page.inner_text("main")
    context.close()
