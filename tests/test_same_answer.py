"""Issue 23, item 9: the same answer for everyone. A new signature, a pending one sent
again, one already confirmed, one flagged over a soft limit, one blocked by a rule and
ones dropped (the honeypot, posted too soon) get the same status, the same bytes (the CSRF
value aside), the same cookies by name and attributes, and the same page after the
redirect; the mails sent have the same subject."""
from __future__ import annotations

import json
import re
import time

import pytest
from sqlalchemy import select

from petition import create_app, tokens
from petition.abuse import alerts, rules
from petition.extensions import db
from petition.letters import counting
from petition.models import MOD_FLAGGED, OutboxMail, Signature
from petition.views.submission_guard import FIELD
from tests.conftest import FreshContextClient, base_config
from tests.factories import make_letter
from tests.helpers import confirm_token_from, mails_to, rendered, sign_form

PAGE, SIGN = "/letters/appeal", "/letters/appeal/sign"
CSRF = re.compile(r'(name="csrf_token" type="hidden" value=")[^"]+(")')
STAMP = re.compile(rf'(name="{FIELD}" value=")[^"]+(")')


def masked(body: bytes) -> str:
    """The page with its CSRF value and form stamp (a time) masked."""
    return STAMP.sub(r"\1…\2", CSRF.sub(r"\1…\2", body.decode()))


def cookie_shape(response) -> list[tuple[str, tuple[str, ...]]]:
    """Each Set-Cookie by name and attributes, its value aside."""
    shapes = []
    for header in response.headers.getlist("Set-Cookie"):
        first, *attributes = (part.strip() for part in header.split(";"))
        shapes.append((first.split("=", 1)[0], tuple(sorted(
            attribute for attribute in attributes if not attribute.lower().startswith(
                "expires=")))))
    return sorted(shapes)


def visit_and_sign(app, address: str, email: str, *, seconds_ago: float = 10,
                   **fields) -> dict:
    """A new visitor: the letter's page (its stamp; no token: views/public_cache.py), then
    the form, from this site's page."""
    client = app.test_client()
    environ = {"REMOTE_ADDR": address}
    page = client.get(f"{PAGE}?lang=en", environ_base=environ).get_data(as_text=True)
    data = sign_form(**{"signer_type": "individual", "name": "Ada Lovelace", "email": email,
                        **fields})
    assert STAMP.search(page) and not CSRF.search(page)
    data[FIELD] = tokens.form_started_token(int((time.time() - seconds_ago) * 1000))
    posted = client.post(SIGN, data=data, environ_base=environ,
                         headers={"Origin": "http://localhost"})
    followed = client.get(posted.headers["Location"], environ_base=environ)
    headers = {name: value for name, value in posted.headers.items()
               if name not in ("Set-Cookie", "Date")}
    return {"status": posted.status_code, "body": masked(posted.data), "headers": headers,
            "cookies": cookie_shape(posted), "page_status": followed.status_code,
            "page": masked(followed.data), "page_cookies": cookie_shape(followed)}


@pytest.fixture
def app(database_url, tmp_path):
    config = base_config(database_url, tmp_path)
    config.update(WTF_CSRF_ENABLED=True, SIGN_MIN_SECONDS=3, ABUSE_SOFT_LIMITS_ENABLED=True)
    app = create_app(config)
    app.test_client_class = FreshContextClient  # each request its own `g`, as in production
    with app.app_context():
        alerts.forget_known()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_every_kind_of_submission_gets_the_same_answer(app):
    letter = make_letter("appeal", soft_limits=json.dumps({"address": "1 per day"}))
    rules.add(letter.id, "domain", "blocked.example", "block", "org@example.org")
    # What each case needs first: a pending signature, a confirmed one, an address at its
    # limit (each case below from an address of its own).
    visit_and_sign(app, "192.0.2.2", "pending@example.org")
    visit_and_sign(app, "192.0.2.3", "confirmed@example.org")
    [mail] = mails_to("confirmed@example.org")
    confirming = app.test_client()
    token = confirm_token_from(mail)
    assert confirming.get(f"/confirm/{token}").status_code == 200
    assert confirming.post(f"/confirm/{token}",
                           headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    visit_and_sign(app, "198.51.100.4", "first@flagged.example")
    before = {row.id for row in db.session.scalars(select(OutboxMail))}

    answers = {
        "new": visit_and_sign(app, "198.51.100.1", "new@example.org"),
        "pending": visit_and_sign(app, "198.51.100.2", "pending@example.org"),
        "confirmed": visit_and_sign(app, "198.51.100.3", "confirmed@example.org"),
        "flagged": visit_and_sign(app, "198.51.100.4", "second@flagged.example"),
        "blocked": visit_and_sign(app, "198.51.100.5", "bot@blocked.example"),
        "honeypot": visit_and_sign(app, "198.51.100.6", "bot@example.net",
                                   website="https://spam.example"),
        "too fast": visit_and_sign(app, "198.51.100.7", "fast@example.net", seconds_ago=0.5),
    }
    first = answers["new"]
    assert first["status"] == 303 and first["page_status"] == 200
    assert first["headers"]["Location"] == "/letters/appeal/check-your-mail"
    # The session cookie came with the form (GET); no answer sets one, whatever happened.
    assert first["cookies"] == first["page_cookies"] == []
    for name, answer in answers.items():
        assert answer == first, name

    # What really happened, unseen: each outcome as intended.
    db.session.expire_all()
    flagged = db.session.scalars(select(Signature).where(
        Signature.email_hash.is_not(None), Signature.moderation == MOD_FLAGGED)).all()
    assert [row.flag_reason for row in flagged] == ["address-burst"]
    assert counting.public_total(letter.id) == 1  # the confirmed one only
    mails = [row for row in db.session.scalars(select(OutboxMail)) if row.id not in before]
    assert len(mails) == 4  # new, pending, confirmed, flagged; none blocked or dropped
    subjects = {rendered(row).subject for row in mails}
    assert len(subjects) == 1, subjects
