"""Over HTTPS, in Chromium: sign, confirm, and ask for a new link, with CSRF's strict check on.

Browsers send a Referer only as the page's Referrer-Policy allows, and Flask-WTF refuses a
secure POST without a same-origin Referer: this is where the two must agree.
"""
import threading
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from petition.extensions import db
from petition.letters import operations as letters
from petition.models import CONFIRMED, PENDING, Signature
from tests.e2e.conftest import confirmation_link, mails_to, submit, wait_for
from tests.smtp_server import make_certificate, server_tls_context

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

def sign(page, base: str, name: str, email: str) -> None:
    page.goto(f"{base}/letters/appeal")
    page.check("input[name=signer_type][value=organization]")  # nothing is chosen in advance
    page.fill("input[name=name]", name)
    page.select_option("select[name=country]", "DE")
    page.fill("input[name=email]", email)
    page.check("input[name=consent]")
    submit(page, "form[action$='/sign']")
    assert page.url.endswith("/letters/appeal/check-your-mail")


def status_of(app, name: str) -> str:
    with app.app_context():
        return db.session.scalar(select(Signature.status).where(Signature.name == name))


def test_sign_confirm_and_resend_over_https(live_tls_app, smtp, tls_page):
    app, page = live_tls_app, tls_page
    app.config["MAIL_RESEND_INTERVAL"] = 0  # the new link is asked for within seconds
    with app.app_context():
        letters.create_letter("appeal", lang="en", title="Free the mathematician",
                              body="We ask for his **release**.")
    base = app.config["BASE_URL"]
    assert base.startswith("https://")

    sign(page, base, "Memorial Deutschland", "first@memorial.example")
    first = confirmation_link(wait_for(lambda: mails_to(smtp, "first@memorial.example"))[0], base)
    page.goto(first)
    submit(page, "form[action*='/confirm/']")
    assert status_of(app, "Memorial Deutschland") == CONFIRMED
    page.goto(f"{base}/letters/appeal")
    assert page.locator(".signatories li").all_inner_texts() == ["Memorial Deutschland"]

    sign(page, base, "Campagne FREE120", "second@free120.example")
    [mail] = wait_for(lambda: mails_to(smtp, "second@free120.example"))
    old_link = confirmation_link(mail, base)
    app.config["CONFIRM_MAX_AGE"] = 0  # links older than the current second have expired
    time.sleep(1.1)
    response = page.goto(old_link)
    assert response is not None and response.status == 410
    submit(page, "form[action$='/resend']")
    assert page.url == f"{old_link}/resend"
    new_mails = wait_for(lambda: mails_to(smtp, "second@free120.example")[1:])
    assert confirmation_link(new_mails[0], base) != old_link
    assert status_of(app, "Campagne FREE120") == PENDING


@contextmanager
def referer_recorder(tmp_path):
    """Another HTTPS origin (another port) that records the Referer it is sent."""
    seen: list[str | None] = []

    def application(environ, start_response):
        request = Request(environ)
        if request.path == "/":  # not the favicon the browser asks this other site for
            seen.append(request.headers.get("Referer"))
        return Response("elsewhere")(environ, start_response)

    tmp_path.mkdir()
    cert, key = make_certificate(tmp_path)
    server = make_server("127.0.0.1", 0, application, ssl_context=server_tls_context(cert, key))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.port}/", seen
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def test_no_referer_goes_to_another_site(live_tls_app, tls_page, tmp_path):
    with live_tls_app.app_context():
        letters.create_letter("appeal", lang="en", title="Free the mathematician")
    base = live_tls_app.config["BASE_URL"]
    with referer_recorder(tmp_path / "elsewhere") as (elsewhere, seen):
        tls_page.goto(f"{base}/letters/appeal")
        # A plain link, as a letter could hold one were it not for its rel="noreferrer".
        with tls_page.expect_navigation():
            tls_page.evaluate("url => { location.href = url; }", elsewhere)
        assert tls_page.content().count("elsewhere") == 1
    assert seen == [None]
