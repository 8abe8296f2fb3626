"""One version per letter: every change to its public list bumps it, every cache follows it,
in one process or several, whatever order commits land in."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import event, select

from petition.exporting.grouping import group_signatories
from petition.extensions import db
from petition.letters import operations as letters
from petition.models import Letter, Signature
from petition.signatures import importing, moderation, signing
from tests.conftest import EMAIL_KEY
from tests.factories import make_letter, make_signature
from tests.helpers import confirm_token_from, mails_to

ROOT = Path(__file__).resolve().parent.parent


def names(letter: Letter, lang: str = "fr") -> list[str]:
    return [name for section in group_signatories(letter, lang)
            for group in section.groups for name in group.names]


def sign(name: str, email: str, **extra) -> str:
    """Sign through the use case; return the confirmation token from the mail."""
    details = dict(signer_type="organization", name=name, country="DE", email=email, lang="fr")
    signing.sign("appeal", signing.SignatureDetails(**{**details, **extra}))
    return confirm_token_from(mails_to(email)[-1])


def version(letter: Letter) -> int:
    return db.session.scalar(select(Letter.list_version).where(Letter.id == letter.id))


def test_every_change_through_the_use_cases_shows_at_once(app, tmp_path):
    letter = make_letter(moderate_organizations=True)
    signing.confirm(sign("Held Org", "held@example.org"))
    first = group_signatories(letter, "fr")
    assert names(letter) == [] and group_signatories(letter, "fr") is first  # cached
    moderation.approve("appeal", [db.session.scalar(select(Signature.public_id))])
    assert names(letter) == ["Held Org"]
    letters.set_label("appeal", lang="fr", code="DE", label="RFA")
    assert group_signatories(letter, "fr")[0].groups[0].label == "RFA"
    source = tmp_path / "list.csv"
    source.write_text("name,country,type\nImported Org,Allemagne,organisation\n", encoding="utf-8")
    importing.import_signatures("appeal", source)
    assert names(letter) == ["Held Org", "Imported Org"]
    moderation.reject("appeal", [db.session.scalar(
        select(Signature.public_id).where(Signature.name == "Held Org"))])
    assert names(letter) == ["Imported Org"]


def test_a_pending_signature_leaves_the_list_and_its_version_alone(app):
    letter = make_letter()
    make_signature(letter, name="Listed")
    before, cached = version(letter), group_signatories(letter, "fr")
    token = sign("Pending Org", "pending@example.org")
    sign("Pending Org again", "pending@example.org")  # a second version, still pending
    assert version(letter) == before
    assert group_signatories(letter, "fr") is cached
    signing.confirm(token)
    assert version(letter) == before + 1
    assert names(letter) == ["Listed", "Pending Org"]


@pytest.mark.postgresql_only
def test_commits_landing_out_of_order_leave_no_signature_out(app):
    """A confirmation that started first but commits last is on the list all the same."""
    letter = make_letter()
    token_a, token_b = sign("Alpha", "a@example.org"), sign("Beta", "b@example.org")
    assert names(letter) == []
    may_commit, holding, errors = threading.Event(), threading.Event(), []

    def confirm(token: str, hold: bool) -> None:
        with app.app_context():
            if hold:
                @event.listens_for(db.session(), "before_commit")
                def wait(session) -> None:
                    holding.set()
                    may_commit.wait(10)
            try:
                signing.confirm(token)
            except Exception as error:  # asserted below
                errors.append(error)
            finally:
                db.session.remove()

    first = threading.Thread(target=confirm, args=(token_a, True))
    first.start()
    assert holding.wait(10)  # Alpha is confirmed but not committed
    second = threading.Thread(target=confirm, args=(token_b, False))
    second.start()
    second.join(0.5)  # Beta commits first: its version bump lands before Alpha's
    names(letter)  # a page read in between, cached under whatever version it saw
    may_commit.set()
    first.join(10)
    second.join(10)
    assert errors == []
    db.session.expire_all()
    assert names(letter) == ["Alpha", "Beta"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


@pytest.fixture
def other_process(app, tmp_path):
    """The same app in another process, on the same database, with a cache of its own."""
    port = _free_port()
    env = {**os.environ, "PETITION_ENV": "development", "FLASK_APP": "wsgi",
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": "another-process-secret-key-of-forty-chars!", "EMAIL_KEY": EMAIL_KEY,
           "MAIL_URL": "console://", "MAIL_DISPATCH_IN_PROCESS": "false",
           "RATELIMIT_ENABLED": "false", "EXPORT_DIR": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "run", "--port", str(port), "--no-reload"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            _get(f"{base}/privacy")
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                server.wait()
                pytest.fail("the other process did not start: "
                            f"{server.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
    try:
        yield base
    finally:
        server.terminate()
        server.wait(10)
        server.stderr.close()


def test_two_processes_show_the_same_list(app, client, other_process):
    letter = make_letter()
    make_signature(letter, name="First Org")
    page = f"{other_process}/letters/appeal?lang=fr"
    assert "First Org" in _get(page)  # the other process has cached the list
    assert "First Org" in client.get("/letters/appeal?lang=fr").get_data(as_text=True)
    signing.confirm(sign("Second Org", "second@example.org"))
    assert "Second Org" in _get(page)
    letters.set_label("appeal", lang="fr", code="DE", label="République fédérale")
    assert "République fédérale" in _get(page)
    assert "République fédérale" in client.get("/letters/appeal?lang=fr").get_data(as_text=True)
    # And a change made by the other side (a command, a third process) reaches this one.
    subprocess.run([sys.executable, "-m", "flask", "letter", "label", "appeal", "--lang", "fr",
                    "DE", "RFA"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "FLASK_APP": "wsgi",
                        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                        "SECRET_KEY": "another-process-secret-key-of-forty-chars!",
                        "EMAIL_KEY": EMAIL_KEY, "PETITION_ENV": "development"})
    assert "<h4>RFA</h4>" in client.get("/letters/appeal?lang=fr").get_data(as_text=True)
    assert "<h4>RFA</h4>" in _get(page)
