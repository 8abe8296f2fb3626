"""The production configuration, end to end (`make prod-check`).

gunicorn with three workers serving HTTPS itself, PostgreSQL, rate limits in Redis and
`flask mail worker` as its own process, all started as the README deploys them (see
tests/e2e/production.py). Chromium signs and confirms through the real form; the sign limit
must hold across workers; the logs must name no client and hold no token.
"""
from __future__ import annotations

import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from tests.e2e.conftest import confirmation_link, mails_to, submit, wait_for
from tests.e2e.production import (
    SIGN_LIMIT,
    SLUG,
    WORKERS,
    Stack,
    flush_limits,
    pids_in,
    production_stack,
)
from tests.e2e.test_https import sign
from tests.helpers import sign_form

pytestmark = pytest.mark.e2e

T = TypeVar("T")
NAME = "Memorial Deutschland"
EMAIL = "first@memorial.example"
LETTER = f"/letters/{SLUG}"
# Requests sent at once over new connections: more than the workers, so several take some.
BURST = 9
_STATUS = re.compile(r'" (\d{3}) ')


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with production_stack(tmp_path_factory.mktemp("production")) as running:
        yield running


def burst(count: int, send: Callable[[int], T]) -> list[T]:
    """Call send(0), send(1)… from `count` threads released together."""
    start = threading.Barrier(count)

    def one(index: int) -> T:
        start.wait(10)
        return send(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def access_lines_after(stack: Stack, since: int, request_line: str, count: int) -> list[str]:
    """The `count` access-log lines of `request_line` written after byte `since`.

    A worker logs a request once it has answered it: wait for the last lines.
    """
    def lines() -> list[str]:
        return [line for line in stack.access_lines(since) if f'"{request_line}"' in line]

    wait_for(lambda: len(lines()) >= count, timeout=5)
    return lines()


def letter_pages(stack: Stack) -> tuple[list[str], set[int]]:
    """The letter page as bursts of new connections got it, and the workers that served it.

    Bursts go on until two workers or more have answered (three bursts at most).
    """
    pages: list[str] = []
    pids: set[int] = set()
    for _ in range(3):
        since = stack.access_log_size()
        # ?lang=: the page itself, not the redirect to it (views/public_cache.py).
        answers = burst(BURST, lambda _: stack.request("GET", f"{LETTER}?lang=en"))
        assert [status for status, _, _ in answers] == [200] * BURST
        pages += [html for _, _, html in answers]
        # The access log drops the query string.
        pids |= pids_in(access_lines_after(stack, since, f"GET {LETTER} HTTP/1.1", BURST))
        if len(pids) >= 2:
            break
    return pages, pids


def form_session(stack: Stack) -> None:
    """The letter page as a browser (or a cache) gets it: no cookie, no token, public."""
    status, headers, html = stack.request("GET", f"{LETTER}?lang=en")
    assert status == 200
    # PETITION_ENV=production is in force: HSTS; and a page any cache may keep.
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert not headers.get_all("Set-Cookie")
    assert headers["Cache-Control"].startswith("public")
    assert not re.search(r'name="csrf_token"', html), "a token in a cached page"


def post_sign(stack: Stack, index: int) -> int:
    """Submit the sign form as a browser does: no cookie, a same-origin Origin and Referer
    (views/public_cache.py)."""
    body = urlencode({**sign_form(name=f"Probe {index}", email=f"probe{index}@example.org"),
                      "website": ""})
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Origin": stack.base, "Referer": f"{stack.base}{LETTER}"}
    return stack.request("POST", f"{LETTER}/sign", headers, body)[0]


def refuse_certificate(stack: Stack) -> None:
    """Connect as a client that does not trust the certificate, and give up at the handshake."""
    context = ssl.create_default_context()  # the system's authorities, not the test's one
    host, port = stack.base.removeprefix("https://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(sock, server_hostname=host).close()


def stored_probes(stack: Stack) -> int:
    engine = sa.create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT count(*) FROM signature WHERE name LIKE 'Probe %'"))
    finally:
        engine.dispose()


def assert_no_server_error(stack: Stack) -> None:
    statuses = [int(match.group(1)) for line in stack.access_lines()
                if (match := _STATUS.search(line))]
    assert statuses and max(statuses) < 500, stack.access_log.read_text()
    assert "Traceback" not in stack.error_log.read_text()
    assert stack.gunicorn.poll() is None and stack.mail_worker.poll() is None


def test_sign_and_confirm_in_chromium_whatever_worker_answers(browser, stack):
    flush_limits()
    base = stack.base
    pages, _ = letter_pages(stack)  # workers have built the list, still without the name
    assert not any(NAME in html for html in pages)

    context = browser.new_context(locale="en-GB", ignore_https_errors=True)
    try:
        page = context.new_page()
        with stack.mail_worker_paused():
            sign(page, base, NAME, EMAIL)
            time.sleep(1.5)  # three passes of an in-process dispatcher, were one running
            assert not mails_to(stack.smtp, EMAIL), "a web worker sent mail"
        [mail] = wait_for(lambda: mails_to(stack.smtp, EMAIL))  # the mail worker's
        link = confirmation_link(mail, base)
        page.goto(link)
        submit(page, "form[action*='/confirm/']")
        page.goto(f"{base}{LETTER}")
        assert page.locator(".signatories li").all_inner_texts() == [NAME]
    finally:
        context.close()

    pages, pids = letter_pages(stack)
    assert all(NAME in html for html in pages), "a worker serves a list without the new name"
    assert len(pids) >= 2 and pids <= stack.worker_pids(), pids

    # The shipped logging: no client address, no token, in either log.
    token = link.rsplit("/confirm/", 1)[1]
    access, errors = stack.access_log.read_text(), stack.error_log.read_text()
    assert '"GET /confirm/<token> HTTP/1.1" 200 ' in access
    assert '"POST /confirm/<token> HTTP/1.1" 200 ' in access  # the page saying it is done
    assert token not in access and token not in errors
    assert "127.0.0.1" not in access
    refuse_certificate(stack)  # gunicorn logs the failed handshake with the client's address…
    wait_for(lambda: "Invalid request from ip=-: " in stack.error_log.read_text(), timeout=5)
    assert [line for line in stack.error_log.read_text().splitlines()  # …masked
            if "127.0.0.1" in line and "Listening at: " not in line] == []
    assert_no_server_error(stack)


def test_the_sign_limit_holds_across_workers(stack):
    flush_limits()
    form_session(stack)
    since = stack.access_log_size()
    attempts = SIGN_LIMIT + 3
    statuses = burst(attempts, lambda index: post_sign(stack, index))
    # One count in Redis for every worker: per process, each would have let 5 through.
    assert sorted(statuses) == [303] * SIGN_LIMIT + [429] * 3
    lines = access_lines_after(stack, since, f"POST {LETTER}/sign HTTP/1.1", attempts)
    assert len(lines) == attempts
    pids = pids_in(lines)
    assert 2 <= len(pids) <= WORKERS and pids <= stack.worker_pids(), pids
    assert stored_probes(stack) == SIGN_LIMIT
    assert_no_server_error(stack)
