"""Deleted means gone from the files: no cleared address or delivered mail in SQLite's
database or log, and PostgreSQL vacuumed after retention."""
import datetime as dt
import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, text

from petition.core import remnants
from petition.extensions import db
from petition.letters import operations as letters
from petition.models import CLOSED, OutboxMail, Signature, utcnow
from petition.privacy import retention
from tests.conftest import EMAIL_KEY
from tests.factories import make_letter
from tests.helpers import LINK_RE, outbox, rendered, sign_form

ADDRESS = "contact@free120.example"
CLIENT_IP = "203.0.113.77"  # the signer's address as the app sees it (TEST-NET-3)
FERNET_TOKEN = re.compile(rb"gAAAAA[A-Za-z0-9_\-]+=*")


def sign_and_read_mail(client) -> tuple[str, list[str]]:
    """Sign through the real form; the token and lines of the mail as it will be delivered."""
    make_letter()
    signed = client.post("/letters/appeal/sign", data=sign_form(email=ADDRESS),
                         environ_base={"REMOTE_ADDR": CLIENT_IP})
    assert signed.status_code == 303
    mail = rendered(outbox("confirm")[0])
    token = LINK_RE.search(mail.text).group(1)
    # Lines of the delivered mail found nowhere else: the link, the invitation (it names
    # the letter, whose title alone is public) and a line of the HTML part.
    text_lines = [line for line in mail.text.splitlines() if len(line) > 60]
    html_lines = [line.strip() for line in mail.html.splitlines()
                  if len(line.strip()) > 60 and token not in line]
    db.session.commit()  # end the test's own read: it is no reader the checkpoint must wait for
    return token, [token, text_lines[0], html_lines[0]]


def deliver(runner, sent: int) -> None:
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert f"Sent {sent}," in result.output


def confirm(client, token: str) -> None:
    confirmed = client.post(f"/confirm/{token}", environ_base={"REMOTE_ADDR": CLIENT_IP})
    assert confirmed.status_code == 200


def sign_and_confirm(client, runner) -> None:
    """Sign, receive the mail, confirm with its link: as a signer does."""
    token, _ = sign_and_read_mail(client)
    deliver(runner, sent=1)
    confirm(client, token)


def file_bytes(database_url: str) -> bytes:
    path = Path(database_url.removeprefix("sqlite:///"))
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def addresses_in(raw: bytes) -> list[str]:
    """Every address a Fernet token in `raw` decrypts to with the test key."""
    fernet, found = Fernet(EMAIL_KEY.encode()), []
    for token in FERNET_TOKEN.findall(raw):
        try:
            found.append(fernet.decrypt(token).decode("utf-8", "replace"))
        except InvalidToken:  # a name's token under another key, or a torn fragment
            continue
    return found


@pytest.mark.sqlite_only
def test_sqlite_files_keep_no_address_or_delivered_mail(client, runner, app, database_url):
    token, phrases = sign_and_read_mail(client)
    before = file_bytes(database_url)
    # The check can see it: before delivery the outbox holds the address, encrypted...
    assert ADDRESS in addresses_in(before)
    # ...but never the mail itself, rendered when it is delivered.
    for phrase in phrases:
        assert phrase.encode() not in before, f"the waiting mail is stored: {phrase!r}"
    deliver(runner, sent=1)
    confirm(client, token)
    deliver(runner, sent=0)  # `mail send` checkpoints the log even with nothing to send

    raw = file_bytes(database_url)
    assert ADDRESS not in addresses_in(raw)
    assert ADDRESS.encode() not in raw
    for phrase in phrases:
        assert phrase.encode() not in raw, f"delivered mail still in the file: {phrase!r}"
    assert token.encode() not in raw
    assert CLIENT_IP.encode() not in raw, "the signer's IP address is in the database file"


def test_no_row_holds_the_signers_ip_address(client, runner, app):
    """Whatever the table, on SQLite and PostgreSQL: no column keeps the client's address."""
    sign_and_confirm(client, runner)
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            assert CLIENT_IP not in repr(tuple(row)), f"{table.name} keeps the client IP"


@pytest.mark.sqlite_only
def test_checkpoint_held_back_by_a_reader_is_no_error(app, database_url):
    make_letter()
    reader = db.engine.raw_connection()
    try:
        cursor = reader.cursor()
        cursor.execute("BEGIN")
        cursor.execute("SELECT count(*) FROM letter").fetchall()  # holds a read snapshot
        db.session.execute(text("UPDATE letter SET goal = 10"))
        db.session.commit()
        assert remnants.checkpoint_wal() is False
        cursor.execute("COMMIT")
    finally:
        reader.close()
    assert remnants.checkpoint_wal() is True
    wal = Path(database_url.removeprefix("sqlite:///") + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def relation_files() -> dict[str, int]:
    db.session.commit()
    rows = db.session.execute(text(
        "SELECT relname, relfilenode FROM pg_class WHERE relname = ANY(:tables)"),
        {"tables": list(remnants.SECRET_TABLES)}).all()
    return dict(rows)


@pytest.mark.postgresql_only
def test_postgresql_tables_are_rewritten_after_retention(client, runner, app):
    """Rewrite every table holding secrets into new files after a retention run."""
    sign_and_confirm(client, runner)
    letters.set_status("appeal", CLOSED)
    before = relation_files()
    assert set(before) == set(remnants.SECRET_TABLES)

    erased = retention.run(now=utcnow() + dt.timedelta(days=91))

    assert [(e.slug, e.fingerprints) for e in erased] == [("appeal", 1)]
    after = relation_files()
    assert all(after[table] != before[table] for table in remnants.SECRET_TABLES), (before, after)
    db.session.expire_all()
    signature = db.session.scalar(select(Signature))
    assert signature.email_hash is None and signature.email_encrypted is None
    for mail in db.session.scalars(select(OutboxMail)):
        assert mail.recipient_encrypted is None and mail.body_text is None
    values = db.session.execute(text(
        "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM signature) t")).scalar_one()
    assert ADDRESS not in values


@pytest.mark.sqlite_only
def test_the_mail_loop_checkpoints_after_delivering(client, app, database_url):
    import time

    from petition.worker import DispatchLoop

    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(email=ADDRESS))
    db.session.commit()
    assert ADDRESS in addresses_in(file_bytes(database_url))
    loop = DispatchLoop(app, interval=0)
    loop._last_purge = loop._last_retention = time.monotonic()  # neither is due: only mail
    loop.run(max_loops=1)
    assert loop.failures == 0
    wal = Path(database_url.removeprefix("sqlite:///") + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    # The signature still holds its encrypted address (pending); the outbox no longer does.
    raw = file_bytes(database_url)
    assert addresses_in(raw).count(ADDRESS) == 1
