"""The widget framed and the badge shown by a page of ANOTHER origin, in Chromium.

The embedding page is served by a second local HTTP server, on another port and under
another host name (localhost, while the app is 127.0.0.1): cross-site, as a partner's site
would be. It holds the snippets the back office gives, as they are given.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from petition.extensions import db
from petition.letters import counting
from petition.letters import operations as letters
from petition.models import ORGANIZATION
from tests.e2e.conftest import wait_for
from tests.factories import make_letter

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@contextmanager
def partner_site(body: str) -> Iterator[str]:
    """Serve `body` as the one page of another site; its address."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802  (http.server's name)
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def embedding_page(base: str, lang: str) -> str:
    """A partner's page holding the snippets, and the letter page itself in a frame too."""
    with_code = [code for code in embed_codes_of(base) if code.lang == lang][0]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Partner</title></head>
<body style="font-family: sans-serif; margin: 16px; background: #eef">
<h1 style="font-size: 18px">A partner's page</h1>
{with_code.widget}
<p>{with_code.badge}</p>
<iframe id="page" src="{base}/letters/appeal" title="the letter page" width="300" height="80">
</iframe>
</body></html>"""


def embed_codes_of(base: str):
    from petition.letters.operations import get_letter
    from petition.views.embeds import embed_codes

    return embed_codes(get_letter("appeal"))


@pytest.fixture
def letter_with_count(live_app):
    with live_app.app_context():
        letter = make_letter(goal=5000)
        letters.translate_letter("appeal", lang="ru", title="Освободите математика", body="…")
        counting.changed(letter, added=[("DE", ORGANIZATION, True)] * 1234)
        db.session.commit()
    return live_app


@pytest.mark.parametrize("lang", ["fr", "ru"])
def test_the_widget_and_badge_on_another_origin(letter_with_count, browser, lang):
    app = letter_with_count
    base = app.config["BASE_URL"]
    with app.test_request_context():
        html = embedding_page(base, lang)
    context = browser.new_context(locale="en-GB", viewport={"width": 720, "height": 560})
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    try:
        with partner_site(html) as partner:
            page.goto(partner, wait_until="load")
            widget = page.frame_locator("iframe[src*='/widget']")
            expected = {"fr": ("1\u202f234 signatures", "Signer cette lettre"),
                        "ru": ("1\xa0234 подписи", "Подписать это письмо")}[lang]
            assert widget.locator("p.count").inner_text() == expected[0]
            assert widget.locator(".widget-action a").inner_text() == expected[1]
            # The site's style sheet applied inside the frame: the count in the accent colour.
            assert widget.locator("p.count").evaluate(
                "node => getComputedStyle(node).color") == "rgb(138, 28, 28)"
            # The badge, an image from the app, drawn.
            badge = page.locator("img[src*='badge.svg']")
            assert badge.evaluate("img => img.complete && img.naturalWidth") > 100
            # The letter page itself may not be framed: Chromium shows its error page.
            refused_frame = page.locator("#page").element_handle().content_frame()
            assert refused_frame is not None
            assert refused_frame.url.startswith("chrome-error://"), refused_frame.url
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"embeds-{lang}.png"), full_page=True)
            # Neither the widget nor the badge set a cookie (?lang= elsewhere would).
            assert context.cookies() == []
            # The link opens the letter outside the frame, in a new tab.
            with context.expect_page() as opened:
                widget.locator(".widget-action a").click()
            letter_page = opened.value
            letter_page.wait_for_url(f"{base}/letters/appeal?lang={lang}")
            assert letter_page.locator("h1").inner_text()  # the letter itself
            letter_page.close()
        # The one refusal: the letter page, framed (reported on its own time).
        wait_for(lambda: refused, timeout=5)
        assert len(refused) == 1 and "frame-ancestors 'none'" in refused[0], refused
    finally:
        context.close()


@pytest.mark.sqlite_only  # the page is the same on both databases
def test_the_widget_passes_axe(letter_with_count, browser):
    from tests.e2e.test_accessibility import axe_findings

    base = letter_with_count.config["BASE_URL"]
    context = browser.new_context(viewport={"width": 340, "height": 230})
    page = context.new_page()
    try:
        findings = []
        for lang in ("en", "fr", "ru"):
            page.goto(f"{base}/letters/appeal/widget?lang={lang}")
            findings += axe_findings(page, f"widget-{lang}")
        assert findings == [], "\n".join(finding.line() for finding in findings)
    finally:
        context.close()
