"""Locked by default: every /admin rule of the URL map, walked as each kind of visitor."""
from __future__ import annotations

import re

import pytest

from petition.admin import PERMISSIONS
from tests.admin_helpers import log_in, make_account
from tests.factories import make_letter

# What each visitor may open; everything else must be refused.
ALLOWED = {
    "anonymous": {"admin.login"},
    "press": {"admin.login", "admin.logout", "admin.totp", "admin.letters", "admin.audit_page",
              "admin.audit_csv"},
    "organiser-of-other": {"admin.login", "admin.logout", "admin.totp", "admin.letters",
                           "admin.audit_page", "admin.audit_csv"},
}
# Any organiser may create a letter (EDITOR), one of their own or not.
ALLOWED["organiser-of-other"] |= {"admin.new_letter"}


def _url(rule) -> str:
    # "appeal" is the letter none of these visitors is given; 1 an account id that exists.
    return re.sub(r"<(?:int:)?(\w+)>", lambda m: "1" if m[1] == "account_id" else "appeal",
                  rule.rule)


@pytest.mark.parametrize("visitor", sorted(ALLOWED))
def test_every_admin_rule_is_refused_unless_allowed(app, visitor):
    make_letter("appeal")
    make_letter("elsewhere")
    root, _ = make_account("root@example.org", "admin")
    client = app.test_client()
    if visitor == "press":
        _, secret = make_account("press@example.org", "press", totp=True)
        log_in(client, "press@example.org", secret)
    elif visitor == "organiser-of-other":
        _, secret = make_account("org@example.org", "organiser", ("elsewhere",), totp=True)
        log_in(client, "org@example.org", secret)
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")]
    assert {rule.endpoint for rule in rules} == set(PERMISSIONS), "the table and the views differ"
    for rule in rules:
        if rule.endpoint in ALLOWED[visitor] or rule.endpoint == "admin.logout":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_url(rule), method=method)
            if visitor == "anonymous":
                assert response.status_code == 302, (rule.rule, method)
                assert response.location.endswith("/admin/login")
            else:
                assert response.status_code in (403, 404), (rule.rule, method, response.status_code)
    if visitor != "anonymous":
        for endpoint in ("admin.letters", "admin.audit_page", "admin.audit_csv"):
            rule = next(r for r in rules if r.endpoint == endpoint)
            assert client.get(_url(rule)).status_code == 200, endpoint
        assert client.get("/admin/letters/appeal").status_code == 404
        assert client.get("/admin/letters/no-such-letter").status_code == 404
    assert root.active  # nobody above could disable the admin


def test_an_endpoint_missing_from_the_table_is_refused(app, client):
    from petition import admin

    _, secret = make_account("root@example.org", "admin", totp=True)
    log_in(client, "root@example.org", secret)
    del admin.PERMISSIONS["admin.letters"]
    try:
        assert client.get("/admin/").status_code == 403
    finally:
        admin.PERMISSIONS["admin.letters"] = "any"


def test_letter_pages_for_those_given_the_letter(app, client):
    make_letter("appeal")
    _, secret = make_account("org@example.org", "organiser", ("appeal",), totp=True)
    log_in(client, "org@example.org", secret)
    listing = client.get("/admin/").get_data(as_text=True)
    assert "appeal" in listing
    assert client.get("/admin/letters/appeal").status_code == 200
    assert client.get("/admin/accounts").status_code == 403


def test_press_given_the_letter_is_refused_every_change(app, client):
    """Press reads and downloads; every route that changes something answers 403."""
    from petition.admin import ADMIN, EDITOR, ORGANISE

    make_letter("appeal")
    _, secret = make_account("press@example.org", "press", ("appeal",), totp=True)
    log_in(client, "press@example.org", secret)
    rules = [rule for rule in app.url_map.iter_rules()
             if PERMISSIONS.get(rule.endpoint) in (ADMIN, EDITOR, ORGANISE)]
    assert any(PERMISSIONS[rule.endpoint] == ORGANISE for rule in rules) or len(rules) >= 2
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_url(rule), method=method)
            assert response.status_code == 403, (rule.rule, method, response.status_code)
    assert client.get("/admin/letters/appeal").status_code == 200
