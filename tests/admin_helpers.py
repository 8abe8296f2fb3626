"""Back-office accounts and logins for tests."""
from __future__ import annotations

import pyotp

from petition.admin import accounts

PASSWORD = "correct horse battery"


def make_account(email: str, role: str, letters: tuple[str, ...] = (), totp: bool = False):
    account = accounts.create_account(email, role, PASSWORD, letters, actor="test")
    secret = None
    if totp:
        secret = accounts.new_totp_secret()
        assert accounts.enrol_totp(account, secret, pyotp.TOTP(secret).now())
    return account, secret


def log_in(client, email: str, secret: str | None = None, password: str = PASSWORD):
    data = {"email": email, "password": password}
    if secret:
        data["totp"] = pyotp.TOTP(secret).now()
    return client.post("/admin/login", data=data)
