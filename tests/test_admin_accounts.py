"""Account use cases and `flask admin …`."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from petition.accounts import operations as accounts
from petition.extensions import db
from petition.models.accounts import Account, AuditEvent
from tests.admin_helpers import PASSWORD, make_account
from tests.factories import make_letter


def test_passwords_are_argon2id_and_emails_lower_case(app):
    account, _ = make_account("Ana@Example.ORG", "admin")
    assert account.email == "ana@example.org"
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash


def test_short_password_duplicate_and_unknown_role_are_refused(app):
    with pytest.raises(accounts.AccountError, match="12 characters"):
        accounts.create_account("a@example.org", "admin", "short")
    make_account("a@example.org", "admin")
    with pytest.raises(accounts.AccountError, match="already exists"):
        accounts.create_account("A@example.org", "press", PASSWORD)
    with pytest.raises(accounts.AccountError, match="unknown role"):
        accounts.create_account("b@example.org", "editor", PASSWORD)


def test_verify_login(app):
    make_account("a@example.org", "organiser")
    assert accounts.verify_login("A@example.org", PASSWORD, None).email == "a@example.org"
    assert accounts.verify_login("a@example.org", PASSWORD + "x", None) is None
    assert accounts.verify_login("nobody@example.org", PASSWORD, None) is None
    accounts.disable_account("a@example.org")
    assert accounts.verify_login("a@example.org", PASSWORD, None) is None


def test_totp_secret_is_stored_encrypted(app):
    account, secret = make_account("a@example.org", "admin", totp=True)
    assert secret.encode() not in account.totp_secret
    assert accounts.totp_secret(account) == secret
    assert accounts.verify_login("a@example.org", PASSWORD, None) is None
    assert accounts.verify_login("a@example.org", PASSWORD, "000000" if secret else "") is None


def test_reset_password_and_disable_bump_the_session_version_and_keep_totp(app):
    account, secret = make_account("a@example.org", "admin", totp=True)
    version = account.session_version
    accounts.reset_password("a@example.org", "another long password")
    assert account.session_version == version + 1
    assert accounts.totp_secret(account) == secret
    accounts.disable_account("a@example.org")
    assert account.session_version == version + 2 and not account.active


def test_cli_create_list_assign_disable_reset(app, runner):
    make_letter("appeal")
    make_letter("other")
    result = runner.invoke(args=["admin", "create", "Org@Example.org", "--role", "organiser",
                                 "--password-stdin", "--letter", "appeal"],
                           input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "Created organiser account org@example.org" in result.output
    result = runner.invoke(args=["admin", "assign", "org@example.org", "other"])
    assert result.exit_code == 0, result.output
    listing = runner.invoke(args=["admin", "list"]).output
    assert "org@example.org\torganiser\tactive\tno-totp\tappeal,other" in listing
    result = runner.invoke(args=["admin", "reset-password", "org@example.org", "--password-stdin"],
                           input="a brand new password\n")
    assert result.exit_code == 0, result.output
    assert accounts.verify_login("org@example.org", "a brand new password", None)
    assert runner.invoke(args=["admin", "disable", "org@example.org"]).exit_code == 0
    assert "disabled" in runner.invoke(args=["admin", "list"]).output
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["account.create", "account.assign", "account.reset_password",
                       "account.disable"]


def test_cli_errors_exit_non_zero(app, runner):
    result = runner.invoke(args=["admin", "create", "a@example.org", "--role", "admin",
                                 "--password-stdin"], input="short\n")
    assert result.exit_code != 0 and "12 characters" in result.output
    result = runner.invoke(args=["admin", "create", "a@example.org", "--role", "admin",
                                 "--password-stdin", "--letter", "nope"], input=PASSWORD + "\n")
    assert result.exit_code != 0 and "no letter nope" in result.output
    assert db.session.scalars(select(Account)).all() == []
    assert runner.invoke(args=["admin", "disable", "ghost@example.org"]).exit_code != 0
    assert runner.invoke(args=["admin", "assign", "ghost@example.org", "x"]).exit_code != 0


def test_an_admin_gives_and_takes_back_a_letter_in_the_browser(app, client):
    from tests.admin_helpers import log_in
    from tests.factories import make_letter

    make_letter("appeal")
    _, secret = make_account("root@example.org", "admin", totp=True)
    press, _ = make_account("press@example.org", "press")
    log_in(client, "root@example.org", secret)
    page = client.get("/admin/accounts").get_data(as_text=True)
    assert "Press officer" in page and ">press<" not in page
    url = f"/admin/accounts/{press.id}/letters"
    assert client.post(url, data={"slug": "appeal"}).status_code == 303
    assert [letter.slug
            for letter in accounts.get_account("press@example.org").letters] == ["appeal"]
    assert client.post(url, data={"slug": "no-such"}).status_code == 400
    assert client.post(url, data={"slug": "appeal", "action": "withdraw"}).status_code == 303
    accounts.db.session.expire_all()
    assert accounts.get_account("press@example.org").letters == []
    actions = [(e.action, e.letter_slug, e.detail) for e in accounts.audit.events_for(
        accounts.get_account("root@example.org"))]
    assert ("account.assign", "appeal", "press@example.org") in actions
    assert ("account.withdraw", "appeal", "press@example.org") in actions
