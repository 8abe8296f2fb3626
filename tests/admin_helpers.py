"""Back-office accounts and logins for tests."""
from __future__ import annotations

import time

import pyotp

from petition.accounts import operations as accounts
from petition.extensions import db

PASSWORD = "correct horse battery"


def make_account(email: str, role: str, letters: tuple[str, ...] = (), totp: bool = False):
    account = accounts.create_account(email, role, PASSWORD, letters, actor="test")
    secret = None
    if totp:
        secret = accounts.new_totp_secret()
        # Enrolled with the previous step's code, so the current one is still unused.
        previous = pyotp.TOTP(secret).at(time.time() - 30)
        assert accounts.enrol_totp(account, secret, previous)
    return account, secret


def fresh_code(email: str, secret: str) -> str:
    """A code the account has not used yet. Each code is good once; when the codes of the
    window are used up, the test acts as if a minute had passed rather than sleeping."""
    account = accounts.get_account(email)
    db.session.refresh(account)
    totp = pyotp.TOTP(secret)
    now = time.time()
    for when in (now, now + totp.interval):
        if account.totp_last_step is None or totp.timecode(when) > account.totp_last_step:
            return totp.at(when)
    account.totp_last_step = None
    db.session.commit()
    return totp.now()


def log_in(client, email: str, secret: str | None = None, password: str = PASSWORD):
    data = {"email": email, "password": password}
    if secret:
        data["totp"] = fresh_code(email, secret)
    return client.post("/admin/login", data=data)


def signed_in_client(app, email: str = "org@example.org", role: str = "organiser",
                     letters: tuple[str, ...] = ("appeal",)):
    """A test client of its own, logged in with TOTP as a new account."""
    _, secret = make_account(email, role, letters, totp=True)
    client = app.test_client()
    log_in(client, email, secret)
    return client
