"""The back office's moderation queue: held organisations approved, rejected or hidden, and
nothing held listed or counted publicly."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.models import (
    INDIVIDUAL,
    MOD_APPROVED,
    MOD_HELD,
    MOD_HIDDEN,
    MOD_REJECTED,
    PENDING,
    Signature,
)
from petition.models.accounts import AuditEvent
from petition.signatures import moderation
from tests.admin_helpers import signed_in_client
from tests.factories import make_letter, make_signature

URL = "/admin/letters/appeal/moderation"


@pytest.fixture
def letter(app):
    return make_letter("appeal", moderate_organizations=True)


@pytest.fixture
def queue(letter):
    """Three held organisations, confirmed on three days (the newest made first)."""
    held = {}
    for day, name in ((3, "Newest Org"), (1, "Oldest Org"), (2, "Middle Org")):
        signature = make_signature(letter, name=name, moderation=MOD_HELD)
        signature.confirmed_at = dt.datetime(2024, 5, day, 12)
        held[name] = signature.public_id
    make_signature(letter, name="Listed Person", signer_type=INDIVIDUAL)
    db.session.commit()
    return held


_client_for = signed_in_client


@pytest.fixture
def organiser(app, letter):
    return _client_for(app, "org@example.org", "organiser")


def public(client) -> tuple[str, int]:
    page = client.get("/letters/appeal", follow_redirects=True).get_data(as_text=True)
    return page, client.get("/letters/appeal.json").get_json()["total"]


def moderation_of(public_id: str) -> str:
    db.session.expire_all()
    return db.session.scalar(select(Signature.moderation).where(Signature.public_id == public_id))


def test_queue_lists_held_oldest_first_and_none_is_public(organiser, queue):
    page = organiser.get(URL).get_data(as_text=True)
    positions = [page.index(name) for name in ("Oldest Org", "Middle Org", "Newest Org")]
    assert positions == sorted(positions)
    assert "Listed Person" not in page
    for label in ("Approve", "Reject", "Hide"):
        assert f'name="decision" value="{label.lower()}">{label}</button>' in page
    assert page.count('name="ids"') == 3
    public_page, total = public(organiser)
    assert total == 1 and not any(name in public_page for name in queue)
    letter_page = organiser.get("/admin/letters/appeal").get_data(as_text=True)
    assert ("Moderation (3 waiting)" in letter_page
            and "/admin/letters/appeal/signatures" in letter_page)


def test_approve_reject_hide(organiser, queue):
    response = organiser.post(URL, data={"decision": "approve",
                                         "ids": [queue["Oldest Org"], queue["Middle Org"]]})
    assert response.status_code == 303
    assert "2 signatures approved" in organiser.get(URL).get_data(as_text=True)
    page, total = public(organiser)
    assert total == 3 and "Oldest Org" in page and "Middle Org" in page
    assert "Newest Org" not in page

    # A row's own button decides for that row only.
    organiser.post(URL, data={"row_decision": f"reject:{queue['Newest Org']}"})
    assert moderation_of(queue["Newest Org"]) == MOD_REJECTED
    organiser.post(URL, data={"row_decision": f"hide:{queue['Middle Org']}"})
    assert moderation_of(queue["Middle Org"]) == MOD_HIDDEN
    assert moderation_of(queue["Oldest Org"]) == MOD_APPROVED
    page, total = public(organiser)
    assert total == 2 and "Middle Org" not in page and "Newest Org" not in page
    assert "Nothing is waiting for approval." in organiser.get(URL).get_data(as_text=True)

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("moderation.%"))
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.detail, e.actor, e.letter_slug) for e in events] == [
        ("moderation.approve", " ".join(sorted([queue["Oldest Org"], queue["Middle Org"]])),
         "org@example.org", "appeal"),
        ("moderation.reject", queue["Newest Org"], "org@example.org", "appeal"),
        ("moderation.hide", queue["Middle Org"], "org@example.org", "appeal"),
    ]
    assert "Moderation (0 waiting)" in organiser.get("/admin/letters/appeal").get_data(as_text=True)


def test_bad_requests_change_nothing(organiser, queue, letter):
    pending = make_signature(letter, name="Pending Org", status=PENDING)
    assert organiser.post(URL, data={"decision": "approve"}).status_code == 400
    assert organiser.post(URL, data={"decision": "bless",
                                     "ids": [queue["Oldest Org"]]}).status_code == 400
    response = organiser.post(URL, data={"decision": "approve",
                                         "ids": [queue["Oldest Org"], pending.public_id]})
    assert response.status_code == 400 and "nothing changed" in response.get_data(as_text=True)
    assert moderation_of(queue["Oldest Org"]) == MOD_HELD
    assert public(organiser)[1] == 1
    assert db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("moderation.%"))).all() == []


def test_hide_takes_a_listed_signature_off_the_list(app, letter):
    listed = make_signature(letter, name="Doubtful Org")
    version = letter.list_version
    assert moderation.hide("appeal", [listed.public_id]) == 1
    db.session.refresh(letter)
    assert letter.list_version > version and not db.session.get(Signature, listed.id).is_public
    client = app.test_client()
    assert client.get("/letters/appeal.json").get_json()["total"] == 0
    assert "Doubtful Org" not in client.get("/letters/appeal?lang=en").get_data(as_text=True)


def test_press_is_refused_the_queue(app, queue):
    press = _client_for(app, "press@example.org", "press")
    assert press.get(URL).status_code == 403
    assert press.post(URL, data={"decision": "approve",
                                 "ids": [queue["Oldest Org"]]}).status_code == 403
    assert moderation_of(queue["Oldest Org"]) == MOD_HELD
    assert "Moderation" not in press.get("/admin/letters/appeal").get_data(as_text=True)
