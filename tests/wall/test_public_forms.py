"""The public forms fed every payload: signing, writing a drive's letter, asking for
withdrawal links, searching a name. A clear 400 with the form again, or stored exactly as
the rules say (trimmed, NFC) and printed as text; never a 500, never half-written."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy import select

from petition.drive.values import clean_letter_text, unseal
from petition.extensions import db
from petition.models import INDIVIDUAL, OutboxMail, Signature
from petition.models.drive import DriveLetter
from tests.drive_helpers import LETTER_EN, make_drive
from tests.factories import make_letter, make_signature
from tests.helpers import confirm_token_from, sign_form

from .conftest import assert_no_500, assert_refused, once, row_counts
from .payloads import (
    ACCEPTED_NAMES,
    ALL_TEXT,
    EMAILS_INVALID,
    EMAILS_VALID,
    WALL,
    nasty_text,
    stored,
    unique_email,
)

INVALID_FIELD = 'id="error-summary-title"'  # the form again, its errors listed
NUL_REFUSED = "has no place in text"  # NUL anywhere: refused before the form is read


def _newest(model):
    db.session.expire_all()
    return db.session.scalars(select(model).order_by(model.id.desc()).limit(1)).first()


def _sign(client, **fields):
    return client.post("/letters/appeal/sign?lang=en",
                       data=sign_form(email=unique_email(), **fields))


def _check_sign(client, before: dict[str, int], response, name: str,
                affiliation: str | None = None) -> None:
    """Refused with the form again and nothing written, or stored exactly as typed (NFC,
    trimmed) with its one confirmation mail; the confirm page prints it as text."""
    if response.status_code == 400:
        assert_refused(response, before, INVALID_FIELD, NUL_REFUSED)
        return
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    after = row_counts()
    assert after["signature"] == before["signature"] + 1
    assert after["outbox_mail"] == before["outbox_mail"] + 1
    signature = _newest(Signature)
    assert signature.name == stored(name)
    assert signature.affiliation == (stored(affiliation) if affiliation else None)
    mail = _newest(OutboxMail)
    page = client.get(f"/confirm/{confirm_token_from(mail)}?lang=en")
    assert page.status_code == 200
    assert_no_500(page)


@WALL
@given(name=nasty_text, affiliation=nasty_text)
def test_sign_form_name_and_affiliation(app, client, name, affiliation):
    """Any name and affiliation: refused with a message, or stored as typed (NFC)."""
    once(app, make_letter)
    before = row_counts()
    response = _sign(client, signer_type=INDIVIDUAL, name=name, affiliation=affiliation)
    _check_sign(client, before, response, name, affiliation or None)


def test_nasty_but_accepted_names_are_stored_as_typed(app, client):
    """Markup, SQL, formulas, look-alikes and decomposed accents sign, stored in NFC; each
    confirmed name shows as text on the letter page and in its search."""
    make_letter()
    for name in ACCEPTED_NAMES:
        before = row_counts()
        response = _sign(client, name=name)
        assert response.status_code == 303, (name, response.get_data(as_text=True)[-1500:])
        _check_sign(client, before, response, name)
        confirmed = client.post(f"/confirm/{confirm_token_from(_newest(OutboxMail))}?lang=en")
        assert confirmed.status_code == 200
        assert_no_500(confirmed)
        assert _newest(Signature).name == stored(name)
        found = client.get("/letters/appeal/search",
                           query_string={"q": stored(name)[:40], "lang": "en"})
        assert found.status_code in (200, 400)  # a query of one character is too short
        assert_no_500(found)
    page = assert_no_500(client.get("/letters/appeal?lang=en"))
    for name in ACCEPTED_NAMES:  # as the page escapes what was stored
        assert str(escape(stored(name))) in page, name


@pytest.mark.parametrize("field", ["signer_type", "country", "display", "consent", "email",
                                   "website", "news"])
def test_every_sign_field_takes_any_text(app, client, field):
    """Any payload in any other field: a 400 with its message, or (display, news, the
    honeypot) the field's default; nothing else."""
    make_letter()
    for payload in ALL_TEXT:
        before = row_counts()
        data = sign_form(email=unique_email())
        data[field] = payload
        response = client.post("/letters/appeal/sign?lang=en", data=data)
        if "\x00" in payload:
            assert_refused(response, before, NUL_REFUSED)
            continue
        assert_no_500(response)
        if response.status_code == 400:
            assert_refused(response, before, INVALID_FIELD)
            continue
        assert response.status_code == 303, (payload, response.status_code)
        grew = row_counts()["signature"] - before["signature"]
        # A filled honeypot looks like success and stores nothing.
        assert grew == (0 if field == "website" and payload.strip() else 1), payload


def test_invalid_addresses_are_refused(app, client):
    make_letter()
    for email in EMAILS_INVALID:
        before = row_counts()
        response = client.post("/letters/appeal/sign?lang=en", data=sign_form(email=email))
        assert_refused(response, before, "email address", NUL_REFUSED, "at most 254 characters")


def test_internationalised_addresses_sign(app, client):
    """An internationalised local part or domain is an address: it signs."""
    make_letter()
    for number, email in enumerate(EMAILS_VALID, 1):
        response = client.post("/letters/appeal/sign?lang=en", data=sign_form(email=email))
        assert response.status_code == 303, (email, response.get_data(as_text=True)[-1500:])
        assert row_counts()["outbox_mail"] == number


def test_an_oversized_body_is_refused_cleanly(app, client):
    """A body over MAX_CONTENT_LENGTH: 413, nothing stored."""
    make_letter()
    before = row_counts()
    response = client.post("/letters/appeal/sign?lang=en",
                           data=sign_form(name="x" * (2 * 1024 * 1024)))
    assert_refused(response, before)
    assert response.status_code == 413


def test_many_fields_and_repeated_fields(app, client):
    """Thousands of fields, or each field twice: no 500, one signature at most."""
    make_letter()
    before = row_counts()
    data = sign_form(email=unique_email())
    junk = {f"f{i}": "x" for i in range(3000)}
    assert_no_500(client.post("/letters/appeal/sign?lang=en", data={**data, **junk}))
    twice = [(key, value) for key, value in data.items()] * 2
    from werkzeug.datastructures import MultiDict
    assert_no_500(client.post("/letters/appeal/sign?lang=en", data=MultiDict(twice)))
    assert row_counts()["signature"] - before["signature"] <= 2


# --- a drive's letter -------------------------------------------------------------------

def _write(client, **fields):
    data = {"name": "Marie Dupont", "country": "FR", "email": unique_email("writer"),
            "language": "en", "body": LETTER_EN, "publish": "full", "consent": "y"}
    data.update(fields)
    return client.post("/letters/letters-to-azat/write?lang=en", data=data)


@WALL
@given(name=nasty_text, body=st.one_of(nasty_text, nasty_text.map(lambda t: LETTER_EN + t)))
def test_drive_letter_form(app, client, name, body):
    """A drive's letter with any signature and text: refused with a message, or kept
    (encrypted) exactly as cleaned."""
    once(app, make_drive)
    before = row_counts()
    response = _write(client, name=name, body=body)
    if "\x00" in name + body:
        assert_refused(response, before, NUL_REFUSED)
        return
    if response.status_code == 400:
        assert_refused(response, before, INVALID_FIELD)
        return
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    row = _newest(DriveLetter)
    assert row_counts()["drive_letter"] == before["drive_letter"] + 1
    assert unseal(row.signature_encrypted) == stored(name)
    assert unseal(row.body_encrypted) == clean_letter_text(body)


@pytest.mark.parametrize("field", ["country", "language", "publish", "email", "reply"])
def test_every_drive_field_takes_any_text(app, client, field):
    make_drive()
    for payload in ALL_TEXT:
        before = row_counts()
        response = _write(client, **{field: payload})
        assert_no_500(response)
        if response.status_code != 303:
            assert_refused(response, before, INVALID_FIELD, NUL_REFUSED)


# --- asking for withdrawal links --------------------------------------------------------

@WALL
@given(email=st.one_of(st.sampled_from(EMAILS_INVALID + EMAILS_VALID), nasty_text))
def test_withdraw_request_form(app, client, email):
    """Any address: the form again with a message, or the same "sent" page."""
    before = row_counts()
    response = client.post("/withdraw?lang=en", data={"email": email})
    if response.status_code == 400:
        assert_refused(response, before)
        return
    assert response.status_code == 200, response.get_data(as_text=True)[-1500:]
    assert_no_500(response)
    assert row_counts()["signature"] == before["signature"]


# --- find a name on the list ------------------------------------------------------------

def _searchable_letter() -> None:
    letter = make_letter()
    for name in ACCEPTED_NAMES:
        make_signature(letter, name=stored(name))


@WALL
@given(query=nasty_text)
def test_name_search(app, client, query):
    """Any query: an answer or a clear 400 (too short, too long), printed as text."""
    once(app, _searchable_letter)
    response = client.get("/letters/appeal/search", query_string={"q": query, "lang": "en"})
    if any(ord(char) < 0x20 for char in query):
        assert response.status_code == 400
        return
    assert response.status_code in (200, 400), response.get_data(as_text=True)[-1500:]
    assert_no_500(response)
