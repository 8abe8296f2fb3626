"""Logs name no client address and hold no token: gunicorn as shipped, the dev server, errors."""
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from petition.core.log_scrubbing import ScrubFilter, mask_tokens, scrub
from tests.conftest import EMAIL_KEY

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "WyJzZWNyZXQtcHVibGljLWlkIiwibm9uY2UiXQ.Vy4Q8kUwTwrz4mEC2n5ETuYHQAY"
PATHS = (f"/confirm/{TOKEN}", f"/confirm/{TOKEN}/resend", f"/withdraw/{TOKEN}")


def test_masking_keeps_the_shape_of_the_path():
    assert mask_tokens(f"GET /confirm/{TOKEN}/resend?x=1 HTTP/1.1") == \
        "GET /confirm/<token>/resend?x=1 HTTP/1.1"
    assert mask_tokens(f'"https://example.org/withdraw/{TOKEN}"') == \
        '"https://example.org/withdraw/<token>"'
    assert scrub('192.0.2.7 - - [01/Dec/2026 03:35:12] "GET / HTTP/1.1" 200 -') == \
        '- - - [01/Dec/2026 03:35:12] "GET / HTTP/1.1" 200 -'
    assert scrub("ratelimit 5 per 1 minute (LIMITER/192.0.2.7/public.sign) exceeded at "
                 "endpoint: public.sign") == \
        "ratelimit 5 per 1 minute (-) exceeded at endpoint: public.sign"


def test_gunicorn_names_no_client_of_a_request_it_cannot_read():
    assert scrub("Invalid request from ip=192.0.2.7: [SSL: SSLV3_ALERT_CERTIFICATE_UNKNOWN] "
                 "sslv3 alert certificate unknown (_ssl.c:2580)") == \
        "Invalid request from ip=-: [SSL: SSLV3_ALERT_CERTIFICATE_UNKNOWN] sslv3 alert " \
        "certificate unknown (_ssl.c:2580)"
    assert scrub("Invalid request from ip=2001:db8::7: Invalid HTTP request line: 'x'") == \
        "Invalid request from ip=-: Invalid HTTP request line: 'x'"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def send_garbage(port: int) -> None:
    """A request line gunicorn cannot parse: it answers 400 and logs a warning."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 400")


def get(url: str, method: str = "GET") -> int:
    request = urllib.request.Request(url, method=method,
                                     headers={"Referer": f"{url}?from={TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wait_until_serving(base: str, process: subprocess.Popen, errors: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited: {errors.read_text()}")
        try:
            urllib.request.urlopen(base + "/", timeout=2).close()
            return
        except OSError:  # refused, reset, timed out (a busy machine): not serving yet
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer: {errors.read_text()}")


def test_gunicorn_access_log_has_no_address_and_no_token(tmp_path, sqlite_template):
    database = tmp_path / "petition.sqlite"
    shutil.copy(sqlite_template, database)
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    port = free_port()
    env = {**os.environ, "PETITION_ENV": "development", "DATABASE_URL": f"sqlite:///{database}",
           "EMAIL_KEY": EMAIL_KEY, "SECRET_KEY": "a-test-secret-key-of-enough-length-0123456789",
           "MAIL_DISPATCH_IN_PROCESS": "false"}
    env.pop("FLASK_ENV", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "docs/deployment/gunicorn.conf.py",
         "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", str(access), "--error-logfile", str(errors), "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, process, errors)
        statuses = [get(base + path) for path in PATHS]
        statuses.append(get(base + PATHS[1], method="POST"))
        # A path that would forge a line, a query string that holds a name.
        get(base + "/letters/a%0aFORGED%20200%0d%00?q=Anna+Secret")
        send_garbage(port)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    assert statuses[0] == 404  # a link that does not work: the page says so
    log = access.read_text()
    assert log.count("/confirm/<token>") >= 1 and "/withdraw/<token>" in log
    assert "/confirm/<token>/resend" in log
    assert "127.0.0.1" not in log
    assert TOKEN not in log and TOKEN[:20] not in log
    # The path's newline, CR and NUL escaped: one line, not a forged second one.
    forged = [line for line in log.splitlines() if "FORGED" in line]
    assert len(forged) == 1, forged
    assert '"GET /letters/a\\x0aFORGED 200\\x0d\\x00 HTTP/1.1"' in forged[0], forged
    assert "Anna" not in log
    assert TOKEN not in errors.read_text()
    # The error log names no client either: only the address gunicorn listens on.
    assert "Invalid request from ip=-: " in errors.read_text()
    assert [line for line in errors.read_text().splitlines()
            if "127.0.0.1" in line and "Listening at: " not in line] == []


@pytest.mark.sqlite_only
def test_dev_server_and_error_log_have_no_address_and_no_token(app, caplog):
    def explode(token):
        raise RuntimeError(f"cannot handle {token}")

    app.add_url_rule("/confirm/<token>/explode", "explode", explode, methods=["POST"])
    app.config["PROPAGATE_EXCEPTIONS"] = False  # log and answer 500, as in production
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    caplog.set_level(logging.INFO)
    thread.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        assert get(f"{base}/confirm/{TOKEN}") == 404
        assert get(f"{base}/withdraw/{TOKEN}") == 404
        assert get(f"{base}/confirm/{TOKEN}/explode", method="POST") == 500
    finally:
        server.shutdown()
        thread.join(10)

    requests = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/confirm/<token> HTTP/1.1" in line for line in requests), requests
    assert any("/withdraw/<token> HTTP/1.1" in line for line in requests), requests
    errors = [r for r in caplog.records if r.getMessage().startswith("Exception on")]
    assert [r.getMessage() for r in errors] == ["Exception on /confirm/<token>/explode [POST]"]
    assert "cannot handle" in caplog.text  # the traceback is kept, the token masked
    assert TOKEN not in caplog.text and "127.0.0.1" not in caplog.text


def test_a_bare_token_is_masked_too():
    assert mask_tokens(f"BadSignature: {TOKEN} does not match") == \
        "BadSignature: <token> does not match"


def _werkzeug_record(request_line: str, status: str = "200") -> logging.LogRecord:
    """A record as werkzeug's dev server logs a request (serving.WSGIRequestHandler)."""
    return logging.LogRecord("werkzeug", logging.INFO, __file__, 0,
                             '192.0.2.7 - - [01/Dec/2026 03:35:12] "%s" %s %s\n',
                             (request_line, status, "-"), None)


def _scrubbed(record: logging.LogRecord) -> str:
    assert ScrubFilter().filter(record)
    return record.getMessage()


def test_dev_server_request_lines_hold_no_query_string():
    """Drop the query string from the dev server's request lines, as gunicorn's logger does."""
    line = _scrubbed(_werkzeug_record(
        "GET /admin/letters/appeal/signatures?q=Anna+Secret&page=2 HTTP/1.1"))
    assert line == '- - - [01/Dec/2026 03:35:12] "GET /admin/letters/appeal/signatures ' \
        'HTTP/1.1" 200 -\n'
    coloured = _scrubbed(_werkzeug_record(
        "\x1b[33mGET /admin/letters/appeal/signatures?q=Anna HTTP/1.1\x1b[0m", "404"))
    assert "Anna" not in coloured and "?" not in coloured
    assert '"\x1b[33mGET /admin/letters/appeal/signatures HTTP/1.1\x1b[0m" 404' in coloured
    # An HTTP/0.9 line has no version after the target.
    assert "Anna" not in _scrubbed(_werkzeug_record("GET /admin?q=Anna"))


def test_control_characters_in_logged_paths_are_escaped():
    """Escape newlines, NUL and other control characters of a logged path as \\xNN."""
    line = _scrubbed(_werkzeug_record("GET /x\nFORGED\r\x00\x07 HTTP/1.1"))
    assert line == '- - - [01/Dec/2026 03:35:12] "GET /x\\x0aFORGED\\x0d\\x00\\x07 HTTP/1.1" ' \
        '200 -\n'
    flask = logging.LogRecord("petition", logging.ERROR, __file__, 0,
                              "Exception on /letters/a\nERROR forged [POST]", None, None)
    assert _scrubbed(flask) == "Exception on /letters/a\\x0aERROR forged [POST]"
    access = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 0,
                               '%s "%s" %s', ("-", "GET /a\n/b HTTP/1.1", "404"), None)
    assert _scrubbed(access) == '- "GET /a\\x0a/b HTTP/1.1" 404'
    # The dev server's start-up banner keeps its lines.
    banner = logging.LogRecord("werkzeug", logging.INFO, __file__, 0,
                               " * Running on http://127.0.0.1:5000\nPress CTRL+C to quit",
                               None, None)
    assert _scrubbed(banner).count("\n") == 1
