"""Two browsers handed one copy of the letter page, as a cache hands it out, both sign and
confirm (views/public_cache.py: no session, no token, the form checked by its origin)."""
import re
import time
import urllib.request

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.letters import operations as letters
from petition.models import CONFIRMED, Signature
from tests.e2e.conftest import _live_config, confirmation_link, mails_to, serve, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


@pytest.fixture
def cached_app(database_url, tmp_path, smtp):
    """The app over HTTP with the minimum time on: the stamp in the copy is its own age."""
    config = _live_config(database_url, tmp_path, smtp)
    config["SIGN_MIN_SECONDS"] = 1
    with serve(config) as app:
        yield app


def test_two_browsers_sign_from_one_cached_copy_and_both_confirm(cached_app, smtp, browser):
    with cached_app.app_context():
        letters.create_letter("appeal", lang="en", title="Free the mathematician",
                              body="We ask for his **release**.", goal=1000, place="Paris")
    base = cached_app.config["BASE_URL"]
    url = f"{base}/letters/appeal?lang=en"
    with urllib.request.urlopen(url) as answer:  # what nginx or a CDN would keep
        copy = answer.read()
        assert answer.headers.get_all("Set-Cookie") is None
        assert answer.headers["Cache-Control"].startswith("public")
    assert b'name="csrf_token"' not in copy
    time.sleep(1.2)  # SIGN_MIN_SECONDS after the copy was made

    for email in ("ada@example.org", "emmy@example.org"):
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        # The page from the "cache": the same bytes for both, never the app's.
        page.route(url, lambda route: route.fulfill(
            status=200, body=copy, content_type="text/html; charset=utf-8"))
        page.goto(url)
        page.check("input[name=signer_type][value=individual]")
        page.fill("input[name=name]", email.split("@")[0].title())
        page.select_option("select[name=country]", "FR")
        page.fill("input[name=email]", email)
        page.check("input[name=consent]")
        page.click("form[action$='/sign'] button[type=submit]")
        page.wait_for_url(re.compile(r".*/check-your-mail$"))
        [mail] = wait_for(lambda address=email: mails_to(smtp, address))
        page.goto(confirmation_link(mail, base))
        page.click("form[action*='/confirm/'] button[type=submit]")
        page.wait_for_load_state()
        assert not [cookie for cookie in context.cookies() if cookie["name"] == "session"]
        context.close()

    with cached_app.app_context():
        assert db.session.scalars(select(Signature.status)).all() == [CONFIRMED, CONFIRMED]
