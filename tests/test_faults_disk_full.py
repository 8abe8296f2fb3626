"""Fault: the disk under the SQLite database fills up while people sign.

Two ways to fill it: a real full file system (a 1 MB tmpfs whose free space a ballast file
takes, so writes fail with ENOSPC, where this process may mount one: it needs root), and
SQLite's own page limit (PRAGMA max_page_count on every connection, which fails writes with
SQLITE_FULL exactly as a full disk does). Either way a sign request answers a clear error
page, nothing is half-written, the file stays sound, and signing resumes once there is room.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text

from petition import addresses, create_app
from petition.extensions import db
from petition.models import CONFIRMED, OutboxMail, Signature
from tests.conftest import FreshContextClient, base_config, skip_or_fail
from tests.factories import make_letter
from tests.helpers import confirm_token_from, mails_to, sign_form

DISK_SIZE = "1m"
KEEP_FREE = 48 * 1024  # bytes left beside the ballast: a few sign requests' worth of log


@contextmanager
def small_disk(folder: Path) -> Iterator[Path]:
    """A 1 MB tmpfs mounted on `folder` for the block."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE},mode=0700",
                              "tmpfs", str(folder)], capture_output=True, text=True)
    if mounted.returncode != 0:
        skip_or_fail(f"cannot mount a tmpfs here (root needed): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def fill(folder: Path, keep: int) -> Path:
    """Take all the free space of `folder`'s file system but `keep` bytes; the ballast."""
    ballast = folder / "ballast"
    stats = os.statvfs(folder)
    size = stats.f_bavail * stats.f_frsize - keep
    with ballast.open("wb") as handle:
        handle.write(b"\0" * max(size, 0))
    return ballast


class PageLimit:
    """PRAGMA max_page_count on every new connection of the app's engine."""

    def __init__(self) -> None:
        self.pages: int | None = None

    def __call__(self, dbapi_connection, connection_record) -> None:
        if self.pages is not None:
            dbapi_connection.execute(f"PRAGMA max_page_count={self.pages}")

    def set(self, pages: int | None) -> None:
        self.pages = pages
        db.engine.dispose()  # pooled connections keep the old limit: open new ones


def sign(client, email: str) -> tuple[int, str, float]:
    started = time.monotonic()
    name = f"Org {email.split('@')[0]}"
    response = client.post("/letters/appeal/sign", data=sign_form(email=email, name=name))
    return response.status_code, response.get_data(as_text=True), time.monotonic() - started


def counts() -> tuple[int, int]:
    """Signatures, and confirmation mails queued for them."""
    db.session.expire_all()
    signatures = db.session.scalar(select(func.count()).select_from(Signature))
    mails = db.session.scalar(select(func.count()).select_from(OutboxMail)
                              .where(OutboxMail.kind == "confirm"))
    db.session.commit()
    return signatures, mails


def integrity() -> str:
    with db.engine.connect() as connection:
        return connection.execute(text("PRAGMA integrity_check")).scalar_one()


def confirmed_ids() -> set[str]:
    db.session.expire_all()
    ids = set(db.session.scalars(select(Signature.public_id)
                                 .where(Signature.status == CONFIRMED)))
    db.session.commit()
    return ids


@pytest.mark.parametrize("how", ["tmpfs", "max_page_count"])
def test_a_full_disk_answers_a_clear_error_and_loses_nothing(how, tmp_path, sqlite_template,
                                                             caplog):
    with small_disk(tmp_path / "disk") if how == "tmpfs" else nullcontext():
        folder = tmp_path / "disk" if how == "tmpfs" else tmp_path
        path = folder / "petition.sqlite"
        shutil.copy(sqlite_template, path)
        addresses.forget_hash_keys()
        app = create_app(base_config(f"sqlite:///{path}", tmp_path))
        # The error page as production shows it, not the exception re-raised for pytest.
        app.config["PROPAGATE_EXCEPTIONS"] = False
        app.test_client_class = FreshContextClient
        limit = PageLimit()
        with app.app_context():
            event.listen(db.engine, "connect", limit)
            try:
                run_until_full_and_back(app, how, folder, limit)
                # The failed statements were logged without their values: no signer's name,
                # no mail body with its links.
                assert "database or disk is full" in caplog.text
                assert "Org full" not in caplog.text and "[parameters" not in caplog.text
            finally:
                db.session.remove()
                db.engine.dispose()  # no file left open on the mount


def run_until_full_and_back(app, how: str, folder: Path, limit: PageLimit) -> None:
    client = app.test_client()
    make_letter()
    for number in range(3):
        assert sign(client, f"before{number}@example.org")[0] == 303
    for number in range(2):
        token = confirm_token_from(mails_to(f"before{number}@example.org")[0])
        assert client.post(f"/confirm/{token}").status_code == 200
    confirmed_before = confirmed_ids()
    assert len(confirmed_before) == 2

    # The disk fills up.
    if how == "tmpfs":
        ballast = fill(folder, KEEP_FREE)
    else:
        with db.engine.connect() as connection:
            pages = connection.execute(text("PRAGMA page_count")).scalar_one()
        limit.set(pages + 3)

    # Rows are small (the mail is rendered at delivery, not stored): enough to fill 3 pages.
    answers = [sign(client, f"full{number}@example.org") for number in range(40)]
    failed = [(status, body) for status, body, _ in answers if status != 303]
    assert failed, f"the disk never filled up: {[status for status, _, _ in answers]}"
    first_failure = [status for status, _, _ in answers].index(failed[0][0])
    assert all(status == 303 for status, _, _ in answers[:first_failure])
    for status, body in failed:
        assert status >= 500, status
        assert "Traceback" not in body and "OperationalError" not in body
        assert "<html" in body  # the site's own error page
    assert max(seconds for _, _, seconds in answers) < 5  # no wait on a full disk
    # Pages are still read while nothing can be written.
    assert client.get("/letters/appeal", follow_redirects=True).status_code == 200

    signed = 3 + first_failure + sum(status == 303 for status, _, _ in answers[first_failure:])
    # No signature without its confirmation mail, none recorded for a failed request.
    assert counts() == (signed, signed)
    assert integrity() == "ok"

    # Room again: the ballast goes, or the limit is raised.
    if how == "tmpfs":
        ballast.unlink()
    else:
        limit.set(None)
    for number in range(3):
        assert sign(client, f"after{number}@example.org")[0] == 303
    token = confirm_token_from(mails_to("after0@example.org")[0])
    assert client.post(f"/confirm/{token}").status_code == 200
    assert counts() == (signed + 3, signed + 3)
    assert confirmed_before < confirmed_ids() and len(confirmed_ids()) == 3
    assert integrity() == "ok"
