"""An organiser logs in with TOTP in Chromium and downloads a docx; press is refused."""
from __future__ import annotations

import pyotp
import pytest

from petition.extensions import db
from tests.admin_helpers import PASSWORD, make_account
from tests.factories import make_letter, make_signature

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


def _log_in(page, base: str, email: str, secret: str) -> None:
    page.goto(f"{base}/admin/")
    assert page.url.endswith("/admin/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.fill("#totp", pyotp.TOTP(secret).now())
    page.click("button[type=submit]:has-text('Log in'), button[type=submit]:has-text('Connexion')")


def test_organiser_downloads_docx_press_is_refused(live_app, browser, tmp_path):
    with live_app.app_context():
        letter = make_letter("appeal")
        make_signature(letter, name="Amnesty Nord", country="DE")
        _, organiser = make_account("org@example.org", "organiser", ("appeal",), totp=True)
        _, press = make_account("press@example.org", "press", ("appeal",), totp=True)
        db.session.remove()
    base = live_app.config["BASE_URL"]

    context = browser.new_context(locale="en-GB", accept_downloads=True)
    page = context.new_page()
    _log_in(page, base, "org@example.org", organiser)
    page.wait_for_url(f"{base}/admin/")
    page.click("a[href='/admin/letters/appeal']")
    page.select_option("#format", "docx")
    with page.expect_download() as download_info:
        page.click("button:has-text('Download')")
    download = download_info.value
    assert download.suggested_filename == "appeal-press-fr.docx"
    path = tmp_path / "list.docx"
    download.save_as(path)
    assert path.read_bytes().startswith(b"PK")
    context.close()

    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    _log_in(page, base, "press@example.org", press)
    page.wait_for_url(f"{base}/admin/")
    assert page.locator("a[href='/admin/accounts']").count() == 0
    token = page.input_value("input[name=csrf_token]")
    response = page.goto(f"{base}/admin/accounts")
    assert response.status == 403
    # An edit refused by the guard itself: a valid CSRF token and Referer, still 403.
    response = page.request.post(f"{base}/admin/accounts/1/disable",
                                 form={"csrf_token": token},
                                 headers={"Referer": f"{base}/admin/"})
    assert response.status == 403
    context.close()
