"""Login, TOTP, logout, expiry and revocation of back-office sessions."""
from __future__ import annotations

import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pyotp
import pytest
from sqlalchemy import select

from petition import create_app
from petition.accounts import operations as accounts
from petition.extensions import db
from petition.models.accounts import AuditEvent
from tests.admin_helpers import PASSWORD, fresh_code, log_in, make_account
from tests.conftest import FreshContextClient, base_config

SAME_MESSAGE = "Wrong email, password or code."


def _actions() -> list[tuple[str, str]]:
    return [tuple(row) for row in db.session.execute(
        select(AuditEvent.actor, AuditEvent.action).order_by(AuditEvent.id))]


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and response.location.endswith("/admin/login")


def test_every_failure_gets_the_same_answer_and_is_audited(app, client):
    make_account("a@example.org", "admin", totp=True)
    make_account("b@example.org", "admin")
    accounts.disable_account("b@example.org")
    answers = [
        log_in(client, "nobody@example.org"),
        client.post("/admin/login", data={"email": "a@example.org", "password": "wrong password!"}),
        client.post("/admin/login", data={"email": "a@example.org", "password": PASSWORD,
                                          "totp": "123456"}),
        log_in(client, "b@example.org"),
    ]
    # The page differs only by the address typed (echoed back) and the CSRF token.
    bodies = {re.sub(r'name="csrf_token" value="[^"]*"|value="[^"]*@example.org"', "",
                     response.get_data(as_text=True)) for response in answers}
    assert all(response.status_code == 200 for response in answers)
    assert len(bodies) == 1 and SAME_MESSAGE in bodies.pop()
    failures = [actor for actor, action in _actions() if action == "login.failure"]
    assert failures == ["nobody@example.org", "a@example.org", "a@example.org", "b@example.org"]
    assert not any(PASSWORD in detail for detail in db.session.scalars(select(AuditEvent.detail)))


def test_login_with_totp_then_logout(app, client):
    _, secret = make_account("a@example.org", "admin", totp=True)
    response = log_in(client, "a@example.org", secret)
    assert response.status_code == 303 and response.location.endswith("/admin/")
    assert client.get("/admin/").status_code == 200
    assert client.post("/admin/logout").status_code == 303
    assert client.get("/admin/").status_code == 302
    assert [action for _, action in _actions()][-2:] == ["login.success", "logout"]


def test_the_admin_cookie_is_its_own(app, client):
    _, secret = make_account("a@example.org", "admin", totp=True)
    response = log_in(client, "a@example.org", secret)
    cookie = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith("petition_admin="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin" in cookie
    # Public pages never receive it.
    assert client.get_cookie("petition_admin", path="/admin") is not None
    assert client.get_cookie("session") is None


def test_enrolment_then_login_requires_the_code(app, client):
    make_account("a@example.org", "organiser")
    response = log_in(client, "a@example.org")
    assert response.location.endswith("/admin/account/totp")
    page = client.get("/admin/account/totp").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page
    secret = page.split('class="secret">')[1].split("<")[0]
    assert client.post("/admin/account/totp", data={"totp": "000000"}).status_code == 400
    response = client.post("/admin/account/totp", data={"totp": pyotp.TOTP(secret).now()})
    assert response.status_code == 303
    client.post("/admin/logout")
    assert SAME_MESSAGE in log_in(client, "a@example.org").get_data(as_text=True)
    assert log_in(client, "a@example.org", secret).status_code == 303


def test_totp_required_blocks_pages_until_enrolled(app, client):
    app.config["ADMIN_TOTP_REQUIRED"] = True
    make_account("a@example.org", "admin")
    log_in(client, "a@example.org")
    response = client.get("/admin/")
    assert response.status_code == 302 and response.location.endswith("/admin/account/totp")
    assert "Later" not in client.get("/admin/account/totp").get_data(as_text=True)


def test_optional_totp_in_development(app, client):
    make_account("a@example.org", "admin")
    log_in(client, "a@example.org")
    assert client.get("/admin/").status_code == 200


def test_sessions_expire(app, client):
    _, secret = make_account("a@example.org", "admin", totp=True)
    log_in(client, "a@example.org", secret)
    with client.session_transaction(path="/admin/") as session:
        session["login_at"] = time.time() - 8 * 3600 - 1
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("revoke", ["disable", "reset", "button"])
def test_sessions_are_revoked(app, client, revoke):
    account, secret = make_account("a@example.org", "organiser", totp=True)
    _, admin_secret = make_account("root@example.org", "admin", totp=True)
    log_in(client, "a@example.org", secret)
    assert client.get("/admin/").status_code == 200
    if revoke == "disable":
        accounts.disable_account("a@example.org")
    elif revoke == "reset":
        accounts.reset_password("a@example.org", "another long password")
    else:
        admin = app.test_client()
        log_in(admin, "root@example.org", admin_secret)
        assert admin.post(f"/admin/accounts/{account.id}/revoke").status_code == 303
    assert client.get("/admin/").status_code == 302


def test_repeated_failures_get_429(tmp_path, database_url):
    config = base_config(database_url, tmp_path)
    config.update(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    app = create_app(config)
    app.test_client_class = FreshContextClient
    with app.app_context():
        try:
            client = app.test_client()
            codes = [client.post("/admin/login", data={"email": f"x{n}@example.org",
                                                       "password": "wrong password!"},
                                 environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code
                     for n in range(4)]
            assert codes == [200, 200, 200, 429]
            # The same account from other addresses is limited too.
            codes = [client.post("/admin/login", data={"email": "target@example.org",
                                                       "password": "wrong password!"},
                                 environ_base={"REMOTE_ADDR": f"10.0.1.{n}"}).status_code
                     for n in range(4)]
            assert codes == [200, 200, 200, 429]
        finally:
            db.session.remove()
            db.engine.dispose()


def test_a_code_is_good_for_one_login_only(app, client):
    _, secret = make_account("a@example.org", "admin", totp=True)
    code = pyotp.TOTP(secret).now()
    data = {"email": "a@example.org", "password": PASSWORD, "totp": code}
    assert client.post("/admin/login", data=data).status_code == 303
    client.post("/admin/logout")
    # Someone who overheard or replayed the code gets the same refusal as a wrong one.
    replay = client.post("/admin/login", data=data)
    assert replay.status_code == 200 and SAME_MESSAGE in replay.get_data(as_text=True)
    older = pyotp.TOTP(secret).at(time.time() - 30)  # the step enrolment used
    data["totp"] = older
    assert SAME_MESSAGE in client.post("/admin/login", data=data).get_data(as_text=True)


def test_one_code_opens_one_session_however_many_use_it_at_once(app):
    """Open one session when four logins race with the same code."""
    _, secret = make_account("a@example.org", "admin", totp=True)
    data = {"email": "a@example.org", "password": PASSWORD,
            "totp": fresh_code("a@example.org", secret)}
    start = threading.Barrier(4)

    def attempt(_: int) -> int:
        client = app.test_client()  # its own cookies; each request its own app context
        start.wait()
        return client.post("/admin/login", data=data).status_code

    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(attempt, range(4)))
    assert codes == [200, 200, 200, 303]
    db.session.expire_all()
    assert [action for _, action in _actions()].count("login.success") == 1


def test_a_copied_cookie_is_refused_after_logout(app, client):
    """Refuse a session cookie copied before its logout."""
    _, secret = make_account("a@example.org", "admin", totp=True)
    log_in(client, "a@example.org", secret)
    copied = client.get_cookie("petition_admin", path="/admin").value
    assert client.post("/admin/logout").status_code == 303
    thief = app.test_client()
    thief.set_cookie("petition_admin", copied, path="/admin")
    response = thief.get("/admin/")
    assert response.status_code == 302 and response.location.endswith("/admin/login")
    # The owner logs in again as before.
    assert log_in(client, "a@example.org", secret).status_code == 303
    assert client.get("/admin/").status_code == 200


@contextmanager
def _limited_app(tmp_path, database_url, **settings):
    config = base_config(database_url, tmp_path)
    config.update(RATELIMIT_ENABLED=True, **settings)
    limited = create_app(config)
    limited.test_client_class = FreshContextClient
    with limited.app_context():
        try:
            yield limited
        finally:
            db.session.remove()
            db.engine.dispose()


def _fail(client, address: str, email: str = "a@example.org") -> int:
    return client.post("/admin/login", data={"email": email, "password": "wrong password!"},
                       environ_base={"REMOTE_ADDR": address}).status_code


def test_failures_never_lock_the_owner_out(tmp_path, database_url):
    """Log the owner in with the right password and code after others' failures."""
    with _limited_app(tmp_path, database_url, RATELIMIT_LOGIN="5 per minute") as limited:
        _, secret = make_account("a@example.org", "admin", totp=True)
        attacker = limited.test_client()
        assert [_fail(attacker, "10.0.0.1") for _ in range(6)] == [200] * 5 + [429]
        owner = limited.test_client()
        response = owner.post("/admin/login", environ_base={"REMOTE_ADDR": "10.0.0.2"}, data={
            "email": "a@example.org", "password": PASSWORD,
            "totp": fresh_code("a@example.org", secret)})
        assert response.status_code == 303 and response.location.endswith("/admin/")
        assert owner.get("/admin/").status_code == 200


def test_failures_past_the_account_limit_are_throttled_and_told(tmp_path, database_url,
                                                                caplog):
    """Throttle failures on one account from many addresses; audit and log it."""
    with _limited_app(tmp_path, database_url, RATELIMIT_LOGIN="5 per minute") as limited:
        _, secret = make_account("a@example.org", "organiser", totp=True)
        client = limited.test_client()
        assert [_fail(client, f"10.0.1.{n}") for n in range(5)] == [200] * 5
        with caplog.at_level(logging.WARNING):
            assert _fail(client, "10.0.2.1", "  A@Example.org ") == 429
            # The right password with a wrong code is a failure like any other.
            wrong_code = client.post("/admin/login", data={
                "email": "a@example.org", "password": PASSWORD, "totp": "000000"},
                environ_base={"REMOTE_ADDR": "10.0.2.2"})
            assert wrong_code.status_code == 429
        assert [action for _, action in _actions()][-2:] == ["login.throttled"] * 2
        assert ("a@example.org", "login.throttled") in _actions()
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING
                    and "throttled" in r.getMessage()]
        assert len(warnings) == 2 and not any("@" in line for line in warnings)
        # The owner sees it in the back office's audit log.
        owner = limited.test_client()
        assert log_in(owner, "a@example.org", secret).status_code == 303
        page = owner.get("/admin/audit").get_data(as_text=True)
        assert "login.throttled" in page
