"""Every link's token tampered, truncated, made with another purpose's salt, reused and
expired: confirm, withdraw, a drive's confirm and writer links, news unsubscribe. A clear
4xx page (or the "already done" page), nothing changed; never a 500."""
from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from itsdangerous import BadData, URLSafeSerializer
from itsdangerous.encoding import base64_decode
from sqlalchemy import select

from petition import tokens
from petition.extensions import db
from petition.models import CONFIRMED, PENDING, NewsSubscriber, Signature, utcnow
from petition.models.drive import DriveLetter
from tests.drive_helpers import confirm_token as drive_confirm_token
from tests.drive_helpers import details, make_drive, writer_token_of
from tests.factories import make_letter
from tests.helpers import confirm_token_from, outbox, sign_form

from .conftest import assert_no_500, assert_refused, row_counts
from .payloads import WALL, nasty_segment, unique_email

ALL_SALTS = (tokens.CONFIRM_SALT, tokens.WITHDRAW_SALT, tokens.DRIVE_CONFIRM_SALT,
             tokens.DRIVE_WRITER_SALT, tokens.NEWS_UNSUBSCRIBE_SALT, "petition.other")


def variants(app, token: str, payload) -> list[str]:
    """The token spoiled every way a reader or an attacker might: each character changed,
    cut, lengthened, its payload re-signed under every other salt and under another key."""
    spoiled = [token[:-1], token[:len(token) // 2], token + "A", token + ".", "." + token,
               token.replace(".", ""), token.upper(), token[::-1], "", "x", "a.b", "..",
               token.split(".")[0]]
    for index in (0, len(token) // 2, len(token) - 1):
        char = "A" if token[index] != "A" else "B"
        spoiled.append(token[:index] + char + token[index + 1:])
    for salt in ALL_SALTS:
        spoiled.append(URLSafeSerializer(app.config["SECRET_KEY"], salt=salt).dumps(payload))
        spoiled.append(URLSafeSerializer("another-secret-key", salt=salt).dumps(payload))
    # Payloads of the wrong shape, signed with the right key and salt of each purpose.
    for salt in ALL_SALTS:
        for shape in (None, 1, [], {}, [1, 2], ["a"], ["a", "b", "c"], "<wall-x>", ["\x00", "x"]):
            spoiled.append(URLSafeSerializer(app.config["SECRET_KEY"], salt=salt).dumps(shape))
    return [value for value in spoiled if not _same(value, token)]


def _same(value: str, token: str) -> bool:
    """Whether `value` is `token` itself, or spelled differently in the last base64 digit's
    unused bits ("...SB" and "...SA" may decode alike): the same token, not a tampered one."""
    if value == token:
        return True
    try:
        payload, signature = value.rsplit(".", 1)
        original_payload, original_signature = token.rsplit(".", 1)
        return payload == original_payload and \
            base64_decode(signature) == base64_decode(original_signature)
    except (ValueError, BadData):
        return False


def _pages(client, base: str, token: str, posts: tuple[str, ...] = ("",)) -> None:
    before = row_counts()
    response = client.get(f"{base}/{token}?lang=en")
    assert_no_500(response)
    if token and "/" not in token:
        assert 400 <= response.status_code < 500, (base, token, response.status_code)
    for suffix in posts:
        response = client.post(f"{base}/{token}{suffix}?lang=en", data={})
        assert_no_500(response)
        if token and "/" not in token:
            assert_refused(response, before)
    assert row_counts() == before


def _signed(client, **fields) -> Signature:
    client.post("/letters/appeal/sign?lang=en", data=sign_form(email=unique_email(), **fields))
    return db.session.scalars(select(Signature).order_by(Signature.id.desc())).first()


def test_confirm_and_withdraw_tokens(app, client):
    make_letter()
    signature = _signed(client, news="y")
    token = confirm_token_from(outbox()[-1])
    for spoiled in variants(app, token, [signature.public_id, signature.token_nonce]):
        _pages(client, "/confirm", spoiled, ("", "/resend"))
    # Reused: the second click says "already", and counts once.
    assert client.post(f"/confirm/{token}?lang=en").status_code == 200
    before = row_counts()
    again = client.post(f"/confirm/{token}?lang=en")
    assert again.status_code == 200
    assert_no_500(again)
    assert row_counts() == before
    db.session.refresh(signature)
    assert signature.status == CONFIRMED
    withdraw = tokens.withdraw_token(signature.public_id)
    for spoiled in variants(app, withdraw, signature.public_id):
        _pages(client, "/withdraw", spoiled)
    # Used once, then gone: the second POST is a 404 with nothing changed.
    assert client.post(f"/withdraw/{withdraw}?lang=en").status_code == 200
    before = row_counts()
    gone = client.post(f"/withdraw/{withdraw}?lang=en")
    assert gone.status_code == 404
    assert_no_500(gone)
    assert row_counts() == before


def test_expired_confirmation_link(app, client):
    """An expired link: 410 with the way to a new one; the new link works, the old never."""
    make_letter()
    signature = _signed(client)
    token = confirm_token_from(outbox()[-1])
    app.config["CONFIRM_MAX_AGE"] = -1
    before = row_counts()
    for method in (client.get, client.post):
        response = method(f"/confirm/{token}?lang=en")
        assert response.status_code == 410
        assert_no_500(response)
    assert row_counts() == before
    db.session.refresh(signature)
    assert signature.status == PENDING


def test_drive_tokens(app, client):
    from petition.drive import writing

    make_drive()
    row = writing.write("letters-to-azat", details(email=unique_email("writer")))
    token = drive_confirm_token()
    for spoiled in variants(app, token, [row.public_id, row.token_nonce]):
        _pages(client, "/drive/confirm", spoiled)
    # Expired: the link's age is in the database.
    db.session.get(DriveLetter, row.id).link_issued_at = row.link_issued_at - dt.timedelta(days=30)
    db.session.commit()
    before = row_counts()
    assert_no_500(client.post(f"/drive/confirm/{token}?lang=en"))
    assert row_counts() == before
    db.session.get(DriveLetter, row.id).link_issued_at = utcnow()
    db.session.commit()
    assert client.post(f"/drive/confirm/{token}?lang=en").status_code in (200, 303)
    before = row_counts()
    assert_no_500(client.post(f"/drive/confirm/{token}?lang=en"))  # reused
    assert row_counts() == before
    writer = writer_token_of(row)
    for spoiled in variants(app, writer, row.public_id):
        _pages(client, "/drive/letter", spoiled, ("/edit", "/withdraw"))


def test_news_unsubscribe_tokens(app, client):
    make_letter()
    signature = _signed(client, news="y")
    client.post(f"/confirm/{confirm_token_from(outbox()[-1])}?lang=en")
    subscriber = db.session.scalars(select(NewsSubscriber)).one()
    token = tokens.news_unsubscribe_token(subscriber.public_id, subscriber.token_nonce)
    for spoiled in variants(app, token, [subscriber.public_id, subscriber.token_nonce]):
        _pages(client, "/news/unsubscribe", spoiled)
    # A signature's confirm token is no unsubscribe link (same shape, other salt).
    confirm = tokens.confirm_token(signature.public_id, signature.token_nonce)
    _pages(client, "/news/unsubscribe", confirm)
    assert client.post(f"/news/unsubscribe/{token}?lang=en").status_code == 200
    before = row_counts()
    again = client.post(f"/news/unsubscribe/{token}?lang=en")  # reused
    assert again.status_code == 404
    assert_no_500(again)
    assert row_counts() == before


@WALL
@given(garbage=st.one_of(nasty_segment, st.binary(max_size=60).map(lambda b: b.hex())))
def test_any_token_text(app, client, garbage):
    """Any text where a token goes: a 4xx, never a 500, nothing written."""
    from urllib.parse import quote

    segment = quote(garbage, safe="")
    for base in ("/confirm", "/withdraw", "/drive/confirm", "/drive/letter", "/news/unsubscribe"):
        before = row_counts()
        assert_no_500(client.get(f"{base}/{segment}?lang=en"))
        assert_no_500(client.post(f"{base}/{segment}?lang=en"))
        assert row_counts() == before
