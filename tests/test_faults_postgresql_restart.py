"""Fault: PostgreSQL restarts while people sign and confirm.

A private cluster (never the machine's shared server) serves the app over loopback while a
bounded load signs and confirms; the cluster is stopped for two seconds and started again.
Requests during the outage fail quickly with an error page; after it they succeed; every
signature and confirmation that was answered as done is in the database, and the mail
thread delivering meanwhile (as `make run` does) gets every confirmation mail out.
"""
from __future__ import annotations

import http.client
import itertools
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from petition import addresses, create_app
from petition.extensions import db
from petition.models import CONFIRMED, MAIL_SENT, OutboxMail, Signature
from tests.conftest import base_config
from tests.factories import make_letter
from tests.helpers import LINK_RE, sign_form
from tests.private_postgres import Cluster, migrated_database, private_cluster
from tests.smtp_server import Server, smtp_server

pytestmark = pytest.mark.slow

BEFORE = 30  # signatures made before the load, whose links the load confirms
MAX_REQUESTS = 200
WORKERS = 4
PAUSE = 0.1  # seconds between two requests of one worker: up to 40 requests a second
OUTAGE = 2.0  # seconds between stopping and starting PostgreSQL
TOO_SLOW = 5.0  # seconds: any request slower than this counts as a hang


@dataclass
class Answer:
    kind: str  # "sign" or "confirm"
    key: str  # the address signed with, or the token confirmed
    status: int
    body: str
    seconds: float
    started: float


@contextmanager
def served(config: dict) -> Iterator[tuple[Flask, int]]:
    """The app on a free loopback port, threaded, for the block."""
    app = create_app(config)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, server.port
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        if "petition_mail_dispatcher" in app.extensions:
            app.extensions["petition_mail_dispatcher"].stop()
        with app.app_context():
            db.engine.dispose()


def post(port: int, path: str, fields: dict[str, str] | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TOO_SLOW * 2)
    try:
        connection.request("POST", path, body=urllib.parse.urlencode(fields or {}),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def request(port: int, kind: str, key: str) -> Answer:
    started = time.monotonic()
    if kind == "sign":
        status, body = post(port, "/letters/appeal/sign",
                            sign_form(email=key, name=f"Org {key.split('@')[0]}"))
    else:
        status, body = post(port, f"/confirm/{key}")
    return Answer(kind, key, status, body, time.monotonic() - started, started)


@pytest.fixture
def silent_postgresql() -> Iterator[int]:
    """A port that accepts connections and never answers: a frozen PostgreSQL."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # the kernel completes the handshakes; nobody ever reads
        yield listener.getsockname()[1]


def test_a_postgresql_that_never_answers_fails_requests_in_seconds(silent_postgresql, tmp_path):
    config = base_config(f"postgresql+psycopg://postgres@127.0.0.1:{silent_postgresql}/petition",
                         tmp_path)
    config.update(PROPAGATE_EXCEPTIONS=False, DATABASE_CONNECT_TIMEOUT=2)
    with served(config) as (app, port):
        outcome: list[tuple[int, str]] = []
        started = time.monotonic()
        # In a thread: without a connect timeout the request would wait for ever.
        thread = threading.Thread(target=lambda: outcome.append(
            post(port, "/letters/appeal/sign", sign_form())), daemon=True)
        thread.start()
        thread.join(TOO_SLOW)
        assert outcome, f"the request still waits after {TOO_SLOW} s for a silent database"
    [(status, body)] = outcome
    assert 2 <= time.monotonic() - started < TOO_SLOW
    assert status >= 500 and "Traceback" not in body and "<html" in body


def test_postgresql_restart_under_load_fails_cleanly_and_loses_nothing(tmp_path):
    with private_cluster() as cluster:
        url = migrated_database(cluster, tmp_path)
        addresses.forget_hash_keys()  # a new database: a new address-hash key
        config = base_config(url, tmp_path)
        # Errors answered as production answers them, not re-raised for pytest.
        config["PROPAGATE_EXCEPTIONS"] = False
        with smtp_server() as smtp:
            # Mail goes out from a thread of the web process; a claim lost in the outage
            # is taken again after a short lease.
            config.update(MAIL_URL=f"smtp://127.0.0.1:{smtp.port}", MAIL_TIMEOUT=5,
                          MAIL_DISPATCH_IN_PROCESS=True, MAIL_DISPATCH_INTERVAL=0.2,
                          MAIL_LEASE=3)
            with served(config) as (app, port):
                with app.app_context():
                    make_letter()
                restart_under_load(app, port, cluster, smtp)


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def link_mailed_to(smtp: Server, email: str) -> str:
    [mail] = [mail for mail in list(smtp.received) if email in mail.rcpt_tos]
    return LINK_RE.search(mail.message.get_body(("plain",)).get_content()).group(1)


def restart_under_load(app: Flask, port: int, cluster: Cluster, smtp: Server) -> None:
    before = [request(port, "sign", f"before{n}@example.org") for n in range(BEFORE)]
    assert {answer.status for answer in before} == {303}
    wait_for(lambda: len(smtp.received) >= BEFORE, 30, "the first confirmation mails")
    tokens = [link_mailed_to(smtp, answer.key) for answer in before]
    confirmed_before = [request(port, "confirm", token) for token in tokens[:5]]
    assert {answer.status for answer in confirmed_before} == {200}

    answers, outage = load_through_restart(port, cluster, tokens[5:])
    check_nothing_lost(app, port, smtp, before, confirmed_before, answers, outage, tokens)


def load_through_restart(port: int, cluster: Cluster,
                         tokens: list[str]) -> tuple[list[Answer], tuple[float, float]]:
    """Sign and confirm from a few threads while PostgreSQL stops and starts again."""
    # The load: signatures, and every sixth request a confirmation of a link mailed before.
    waiting = iter(tokens)
    numbers = itertools.count()
    lock = threading.Lock()
    stop = threading.Event()
    answers: list[Answer] = []

    def work() -> None:
        while not stop.is_set():
            with lock:
                number = next(numbers)
                if number >= MAX_REQUESTS:
                    return
                token = next(waiting, None) if number % 6 == 5 else None
            kind, key = ("confirm", token) if token else ("sign", f"load{number}@example.org")
            answer = request(port, kind, key)
            with lock:
                answers.append(answer)
            time.sleep(PAUSE)

    def done(since: float = 0.0) -> int:
        with lock:
            return sum(answer.started >= since for answer in answers)

    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(work) for _ in range(WORKERS)]
        deadline = time.monotonic() + 60
        running = lambda: not all(future.done() for future in futures)  # noqa: E731
        while done() < 30 and running() and time.monotonic() < deadline:
            time.sleep(0.05)
        outage_started = time.monotonic()
        cluster.stop("fast")
        time.sleep(OUTAGE)
        cluster.start()
        outage_ended = time.monotonic()
        # Requests that start a little after the restart must all succeed.
        while done(outage_ended + 0.5) < 20 and running() and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        for future in futures:
            future.result()

    return answers, (outage_started, outage_ended)


def check_nothing_lost(app: Flask, port: int, smtp: Server, before: list[Answer],
                       confirmed_before: list[Answer], answers: list[Answer],
                       outage: tuple[float, float], tokens: list[str]) -> None:
    outage_started, outage_ended = outage
    during = [a for a in answers if outage_started <= a.started < outage_ended]
    after = [a for a in answers if a.started >= outage_ended + 0.5]
    failed = [a for a in answers if a.status not in (200, 303)]
    print(f"{len(answers)} requests: {len(during)} during the outage, {len(failed)} failed "
          f"(statuses {sorted({a.status for a in failed})}), slowest "
          f"{max(a.seconds for a in answers):.2f} s")
    assert failed and during, "the load did not meet the outage"
    for answer in failed:
        assert answer.status >= 500, (answer.kind, answer.status, answer.body[:300])
        assert "Traceback" not in answer.body and "psycopg" not in answer.body
        assert "<html" in answer.body  # the site's page, not a bare server message
    assert max(a.seconds for a in answers) < TOO_SLOW, "a request hung on the outage"
    assert after and all(a.status in (200, 303) for a in after), "no clean resume"
    again = request(port, "sign", "after@example.org")
    assert again.status == 303

    # Nothing answered as done is missing.
    signed = [a.key for a in before + answers + [again] if a.kind == "sign" and a.status == 303]
    confirmed = [a.key for a in confirmed_before + answers if a.kind == "confirm"
                 and a.status == 200]
    assert any(a.kind == "confirm" and a.status == 200 for a in answers)
    assert any(a.kind == "confirm" and a.status >= 500 for a in during)
    with app.app_context():
        for email in signed:
            signature = db.session.scalar(select(Signature).where(
                Signature.email_hash == addresses.email_hash(email)))
            assert signature is not None, f"{email} was answered 303 and is not stored"
            assert db.session.scalar(select(OutboxMail.id).where(
                OutboxMail.signature_id == signature.id)), f"{email} has no mail queued"
        states = dict(db.session.execute(select(Signature.public_id, Signature.status)).all())
        db.session.remove()
    by_token = {token: answer.key for token, answer in zip(tokens, before, strict=True)}
    with app.app_context():
        for token in confirmed:
            email = by_token[token]
            signature = db.session.scalar(select(Signature).where(
                Signature.email_hash == addresses.email_hash(email)))
            assert states[signature.public_id] == CONFIRMED, f"{email}'s confirmation was lost"
        db.session.remove()

    # The mail thread lived through the outage: every signer answered 303 gets the mail.
    def all_sent() -> bool:
        with app.app_context():
            try:
                return not db.session.scalar(select(OutboxMail.id).where(
                    OutboxMail.status != MAIL_SENT).limit(1))
            finally:
                db.session.remove()

    wait_for(all_sent, 30, "the outbox to empty after the restart")
    received = [address for mail in list(smtp.received) for address in mail.rcpt_tos]
    assert set(signed) <= set(received), sorted(set(signed) - set(received))
    print(f"{len(received)} mails for {len(set(received))} signers: "
          f"{len(received) - len(set(received))} duplicate(s)")
