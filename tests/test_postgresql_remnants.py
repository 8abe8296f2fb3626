"""What PostgreSQL's files still hold after a withdrawal, a retention run and a key rotation.

The promise is "deleted means gone from the files". A private cluster (its own data
directory and WAL, nothing else written to them) runs each operation through the app, then
a CHECKPOINT; the test reads every file of the database and every WAL segment as bytes.

Before petition rewrote its private tables (core/remnants.rewrite), the withdrawn name was
there 4 times and 2 tokens opened to the address; the erased fingerprint 8 times; the old
key opened 9 tokens after a rotation.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask
from flask.testing import FlaskClient

from petition import create_app
from petition.extensions import db
from petition.models import CLOSED, Letter, Signature, utcnow
from petition.privacy import retention
from petition.worker import DispatchLoop
from tests.conftest import EMAIL_KEY, base_config
from tests.factories import make_letter
from tests.helpers import confirm_token_from, mails_to, sign_form
from tests.private_postgres import Cluster, migrated_database, private_cluster
from tests.test_withdrawal import withdraw_token_from

pytestmark = pytest.mark.slow

NEW_KEY = Fernet.generate_key().decode()
# A Fernet token as stored (bytea holds its URL-safe base64 text).
TOKEN = re.compile(rb"gAAAAA[A-Za-z0-9_\-]{60,}={0,2}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, str]]:
    with private_cluster() as cluster:
        yield cluster, migrated_database(cluster, tmp_path_factory.mktemp("remnants"))


@pytest.fixture
def app(cluster: tuple[Cluster, str], tmp_path: Path) -> Iterator[Flask]:
    app = create_app(base_config(cluster[1], tmp_path))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _files(cluster: Cluster, app: Flask) -> bytes:
    """Every byte of the database's files and of the WAL, after a CHECKPOINT."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("CHECKPOINT"))
        oid = connection.scalar(sa.text(
            "SELECT oid FROM pg_database WHERE datname = current_database()"))
    folders = [cluster.data / "base" / str(oid), cluster.data / "pg_wal"]
    return b"".join(path.read_bytes() for folder in folders for path in folder.iterdir()
                    if path.is_file())


def _opened_by(key: str, data: bytes) -> list[bytes]:
    fernet = Fernet(key.encode())
    opened = []
    for token in set(TOKEN.findall(data)):
        with contextlib.suppress(InvalidToken):
            opened.append(fernet.decrypt(token))
    return opened


def _signed_and_confirmed(client: FlaskClient, name: str, email: str, display: str) -> str:
    """Sign and confirm; the signature's withdrawal token."""
    assert client.post("/letters/appeal/sign", data=sign_form(
        signer_type="individual", name=name, email=email, display=display)).status_code == 303
    mail = mails_to(email)[-1]
    withdraw_token = withdraw_token_from(mail)  # read before confirming makes the mail obsolete
    assert client.post(f"/confirm/{confirm_token_from(mail)}").status_code == 200
    return withdraw_token


@pytest.mark.parametrize("name, email, display", [
    ("Wilhelmina Remnantova", "wilhelmina.remnant@example.org", "full"),
    ("Hieronymus Initialova", "hieronymus.remnant@example.org", "initials"),  # name encrypted
])
def test_a_withdrawn_signature_leaves_nothing_in_the_files(
        app: Flask, cluster: tuple[Cluster, str], name: str, email: str, display: str) -> None:
    """Keep neither the withdrawn name nor a token opening to the address or the name."""
    if db.session.scalar(sa.select(Letter.id).where(Letter.slug == "appeal")) is None:
        make_letter()
    client = app.test_client()
    token = _signed_and_confirmed(client, name, email, display)
    assert client.post(f"/withdraw/{token}").status_code == 200
    worker = DispatchLoop(app, interval=0)
    worker._last_retention = time.monotonic()  # the daily retention (a rewrite too) not due
    worker.run(max_loops=1)  # the worker's hourly pass
    data = _files(cluster[0], app)
    names = data.count(name.encode())
    opened = [clear for clear in _opened_by(EMAIL_KEY, data)
              if email.encode() in clear or name.encode() in clear]
    assert (names, len(opened)) == (0, 0), "copies of the name, tokens opening to it or the address"


def test_erased_fingerprints_leave_nothing_in_the_files(app: Flask,
                                                        cluster: tuple[Cluster, str]) -> None:
    """Keep no fingerprint that retention erased, in the heap, an index or the WAL."""
    letter = make_letter(slug="retained")
    client = app.test_client()
    assert client.post("/letters/retained/sign", data=sign_form(
        name="Retained Org", email="retained@example.org")).status_code == 303
    assert client.post(
        f"/confirm/{confirm_token_from(mails_to('retained@example.org')[-1])}").status_code == 200
    fingerprint = db.session.scalar(sa.select(Signature.email_hash)
                                    .where(Signature.letter_id == letter.id))
    assert fingerprint
    closed = db.session.get(Letter, letter.id)
    closed.status, closed.closed_at = CLOSED, utcnow() - dt.timedelta(days=365)
    db.session.commit()
    erased = retention.run()
    assert [erasure.slug for erasure in erased] == ["retained"]
    assert _files(cluster[0], app).count(fingerprint.encode()) == 0


def test_the_old_key_opens_nothing_after_a_rotation(app: Flask,
                                                    cluster: tuple[Cluster, str]) -> None:
    """Leave no token the old EMAIL_KEY opens once `keys rotate` is done."""
    make_letter(slug="rotated")
    client = app.test_client()
    assert client.post("/letters/rotated/sign", data=sign_form(
        signer_type="individual", name="Pending Person", email="pending@example.org",
        display="initials")).status_code == 303
    app.config["EMAIL_KEY"] = NEW_KEY
    result = app.test_cli_runner().invoke(args=["keys", "rotate", "--old-key-stdin"],
                                          input=EMAIL_KEY + "\n")
    assert result.exit_code == 0, result.output
    assert _opened_by(EMAIL_KEY, _files(cluster[0], app)) == []
