"""A live server on loopback, a real SMTP server and Debian's Chromium through Playwright."""
from __future__ import annotations

import os
import re
import shutil
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from petition import create_app
from petition.extensions import db
from tests.conftest import base_config, skip_or_fail
from tests.smtp_server import make_certificate, server_tls_context, smtp_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Flags that keep Chromium off the network it cannot reach here.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


def _live_config(database_url: str, tmp_path: Path, smtp) -> dict:
    """The app as `make run` serves it, but mailing through SMTP."""
    config = base_config(database_url, tmp_path)
    config.update(
        WTF_CSRF_ENABLED=True,
        RATELIMIT_ENABLED=True,
        MAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        MAIL_DISPATCH_IN_PROCESS=True,
        MAIL_DISPATCH_INTERVAL=0.5,
    )
    return config


@contextmanager
def serve(config: dict, ssl_context: ssl.SSLContext | None = None) -> Iterator[Flask]:
    """Serve the app on a free loopback port (HTTPS with `ssl_context`) for the block."""
    app = create_app(config)
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context)
    scheme = "https" if ssl_context else "http"
    app.config["BASE_URL"] = f"{scheme}://127.0.0.1:{server.port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        app.extensions["petition_mail_dispatcher"].stop()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def live_app(database_url, tmp_path, smtp):
    """The app over plain HTTP, as `make run` serves it."""
    with serve(_live_config(database_url, tmp_path, smtp)) as app:
        yield app


@pytest.fixture
def live_tls_app(database_url, tmp_path, smtp):
    """The app over HTTPS with a self-signed certificate, as behind a TLS deployment."""
    cert, key = make_certificate(tmp_path)
    with serve(_live_config(database_url, tmp_path, smtp), server_tls_context(cert, key)) as app:
        yield app


@pytest.fixture(scope="session")
def browser():
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not executable:
        skip_or_fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def tls_page(browser):
    """A page that accepts the test's self-signed certificate, in English."""
    context = browser.new_context(locale="en-GB", ignore_https_errors=True)
    page = context.new_page()
    yield page
    context.close()


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.1):
    """Poll until predicate() is truthy; return its value or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"gave up waiting after {timeout} s")


def mails_to(smtp, address: str) -> list:
    """The messages the SMTP server has received for `address`, oldest first."""
    return [mail for mail in smtp.received if mail.rcpt_tos == [address]]


def confirmation_link(mail, base: str) -> str:
    """The one confirmation link in a message's plain-text part, as a signatory would click it."""
    body = mail.message.get_body(preferencelist=("plain",)).get_content()
    [link] = set(re.findall(rf"{re.escape(base)}/confirm/\S+", body))
    return link


def submit(page, form: str, status: int | None = None) -> int:
    """Press the form's button; the status of the page it leads to (after any redirect).

    Below 400 unless `status` says which one is expected (400 for a form sent back).
    """
    with page.expect_navigation() as navigation:
        page.click(f"{form} button[type=submit]")
    response = navigation.value
    assert response is not None
    ok = response.status == status if status is not None else response.status < 400
    assert ok, f"{response.status}: {page.locator('main').inner_text()}"
    return response.status


# Where tests/e2e/test_accessibility.py saved its screenshots, shown at the end of the run.
SCREENSHOT_FOLDER = pytest.StashKey[Path]()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    folder = config.stash.get(SCREENSHOT_FOLDER, None)
    if folder is not None:
        terminalreporter.write_line(f"accessibility screenshots: {folder}")
