"""The back office's signature pages: search, find by address, correct, add by hand, merge,
delete and bulk actions, each audited without any signatory's address."""
from __future__ import annotations

import contextlib
import datetime as dt
import re
import threading

import pytest
from sqlalchemy import event as db_events
from sqlalchemy import func, select

from petition import create_app
from petition.exporting.grouping import group_signatories
from petition.extensions import db
from petition.letters import counting
from petition.models import (
    CONFIRMED,
    INDIVIDUAL,
    INITIALS,
    MAIL_SENT,
    MOD_HELD,
    MOD_HIDDEN,
    PENDING,
    SOURCE_IMPORT,
    SOURCE_MANUAL,
    Letter,
    OutboxMail,
    Signature,
    SignatureVersion,
)
from petition.models.accounts import AuditEvent
from petition.signatures import curation, signing
from tests.admin_helpers import signed_in_client
from tests.conftest import FreshContextClient, base_config
from tests.factories import make_letter, make_signature

BASE = "/admin/letters/appeal/signatures"
REASON = "The signer asked by phone whether their signature counted."


@pytest.fixture
def letter(app) -> Letter:
    return make_letter("appeal")


_client_for = signed_in_client


@pytest.fixture
def organiser(app, letter):
    return _client_for(app)


def public_page(client) -> str:
    return client.get("/letters/appeal", follow_redirects=True).get_data(as_text=True)


def public_json(client) -> dict:
    return client.get("/letters/appeal.json").get_json()


def listed(letter: Letter) -> dict[str, list[str]]:
    """Names the public list shows, by country heading code."""
    db.session.expire_all()
    out: dict[str, list[str]] = {}
    for section in group_signatories(letter, "fr"):
        for group in section.groups:
            out.setdefault(group.code, []).extend(group.names)
    return out


def audit_events(action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def assert_no_address_in_audit() -> None:
    """Account events name accounts; those about signatures name no address at all."""
    events = [e for e in audit_events() if e.action.startswith(("signature.", "moderation."))]
    assert events
    for event in events:
        assert "@" not in event.detail, event.detail


def row_ids(html: str) -> set[str]:
    return set(re.findall(r"/signatures/([a-z2-7]{24})\"", html))


def test_search_by_each_filter(organiser, letter):
    amnesty = make_signature(letter, name="Amnesty Nord", country="DE", affiliation="CNRS section")
    olga = make_signature(letter, name="Olga Hidden", signer_type=INDIVIDUAL, display=INITIALS,
                          affiliation="CNRS", country="FR")
    pending = make_signature(letter, name="Pending Org", status=PENDING)
    imported = make_signature(letter, name="Imported Union", source=SOURCE_IMPORT, country="europe")
    held = make_signature(letter, name="Held Org", moderation=MOD_HELD)
    amnesty.confirmed_at = dt.datetime(2024, 1, 10, 23, 30)
    db.session.commit()
    everyone = {s.public_id for s in (amnesty, olga, pending, imported, held)}

    def found(query: str) -> set[str]:
        response = organiser.get(f"{BASE}?{query}")
        assert response.status_code == 200, query
        return row_ids(response.get_data(as_text=True))

    assert found("") == everyone
    assert found("q=NORD") == {amnesty.public_id}
    assert found("q=cnrs") == {amnesty.public_id}  # the affiliation
    # A hidden real name and affiliation are encrypted: the search sees what the list shows.
    assert found("q=O.+H.") == {olga.public_id}
    assert found("q=Olga") == set()
    assert found("q=%25") == set()  # a wildcard is searched for as typed
    assert found("country=fr") == {olga.public_id}
    assert found("country=europe") == {imported.public_id}
    assert found("status=pending") == {pending.public_id}
    assert found("source=import") == {imported.public_id}
    assert found("moderation=held") == {held.public_id}
    assert found("since=2024-01-10&until=2024-01-10") == {amnesty.public_id}
    assert found("since=2024-01-11") == everyone - {amnesty.public_id, pending.public_id}
    assert found("status=confirmed&country=DE") == {amnesty.public_id, held.public_id}
    # The organiser sees the real name of one who asked for initials, and human labels.
    page = organiser.get(BASE).get_data(as_text=True)
    for label in ("Olga Hidden", "Initials only", "Awaiting approval", "Imported", "Confirmed",
                  "Individual", "France"):
        assert f"<td>{label}</td>" in page, label
    assert "<td>confirmed</td>" not in page and "<td>Added by hand</td>" not in page
    assert organiser.get(f"{BASE}?since=10/01/2024").status_code == 400
    assert organiser.get(f"{BASE}?status=lost").status_code == 400
    assert organiser.get(f"{BASE}?country=ZZ").status_code == 400


def test_find_by_exact_email_never_shows_it(organiser, letter, app):
    other = make_letter("other")
    jane = make_signature(letter, name="Jane Org", email="jane@example.org")
    make_signature(other, name="Jane Elsewhere", email="someone@example.org")
    # The list is filtered to pending ones: only the lookup can show Jane's entry.
    response = organiser.post(f"{BASE}?status=pending", data={"email": "  Jane@EXAMPLE.org ",
                                                            "reason": REASON})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Jane Org" in page and jane.public_id in page
    assert "jane@" not in page.lower()
    response = organiser.post(f"{BASE}?status=pending", data={"email": "john@example.org",
                                                            "reason": REASON})
    page = response.get_data(as_text=True)
    assert ("Jane Org" not in page
            and "No signature of this letter was made with this address" in page)
    assert "john@" not in page
    # Another letter's signer is not found here.
    page = organiser.post(f"{BASE}?status=pending",
                          data={"email": "someone@example.org",
                                "reason": REASON}).get_data(as_text=True)
    assert "Jane Elsewhere" not in page and "someone@" not in page
    response = organiser.post(BASE, data={"email": "not an address", "reason": REASON})
    assert (response.status_code == 400
            and "does not look like an email" in response.get_data(as_text=True))


def test_correct_moves_the_signature_to_the_other_country(organiser, letter, app):
    signature = make_signature(letter, name="Amnesty Nord", country="DE")
    url = f"{BASE}/{signature.public_id}"
    version = letter.list_version
    assert listed(letter) == {"DE": ["Amnesty Nord"]}
    response = organiser.post(url, data={"do": "correct", "name": "Amnesty Sud",
                                         "affiliation": "", "country": "fr"})
    assert response.status_code == 303
    assert listed(letter) == {"FR": ["Amnesty Sud"]}
    assert [row["code"] for row in public_json(organiser)["by_country"]] == ["FR"]
    db.session.refresh(letter)
    assert letter.list_version > version
    [event] = audit_events("signature.correct")
    assert event.detail == f"{signature.public_id} name,country"
    assert event.actor == "org@example.org" and event.letter_slug == "appeal"
    # Bad input is refused whole, with a message, and nothing written.
    for bad in ({"name": ""}, {"name": "Two\nlines"}, {"country": "ZZ"},
                {"affiliation": "x" * 201}):
        data = {"do": "correct", "name": "Changed", "affiliation": "", "country": "FR", **bad}
        response = organiser.post(url, data=data)
        assert response.status_code == 400, bad
        assert 'class="form-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Signature, signature.id).name == "Amnesty Sud"
    # Nothing differing: nothing audited.
    organiser.post(url, data={"do": "correct", "name": "Amnesty Sud", "affiliation": "",
                              "country": "FR"})
    assert len(audit_events("signature.correct")) == 1
    # A pending signature is its signer's to confirm as sent.
    pending = make_signature(letter, name="Pending Org", status=PENDING)
    response = organiser.post(f"{BASE}/{pending.public_id}",
                              data={"do": "correct", "name": "Renamed", "country": "DE"})
    assert response.status_code == 400
    assert organiser.get(f"{BASE}/nosuchid").status_code == 404
    assert_no_address_in_audit()


def test_add_by_hand_with_provenance_is_counted(organiser, letter):
    form = organiser.get(f"{BASE}/new").get_data(as_text=True)
    assert 'name="provenance"' in form and 'name="signer_type"' in form
    data = {"signer_type": "organization", "name": "Syndicat Paper", "affiliation": "",
            "country": "BE", "display": "full",
            "provenance": "sent by post on 3 May by its secretary"}
    response = organiser.post(f"{BASE}/new", data={**data, "provenance": "  "})
    assert response.status_code == 400 and "Provenance" in response.get_data(as_text=True)
    response = organiser.post(f"{BASE}/new",
                              data={**data, "provenance": "mail from jo@union.example"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Signature.id))) == 0
    response = organiser.post(f"{BASE}/new", data=data)
    assert response.status_code == 303
    signature = db.session.scalar(select(Signature))
    assert (signature.status, signature.source, signature.email_hash) == (
        CONFIRMED, SOURCE_MANUAL, None)
    assert signature.provenance == "sent by post on 3 May by its secretary"
    assert response.location.endswith(f"/signatures/{signature.public_id}")
    assert public_json(organiser)["total"] == 1
    assert "Syndicat Paper" in public_page(organiser)
    [event] = audit_events("signature.add")
    assert event.detail == (f"{signature.public_id} provenance: "
                            "sent by post on 3 May by its secretary")
    assert "sent by post" in organiser.get(response.location).get_data(as_text=True)


def test_merge_keeps_one_entry_and_its_details(organiser, letter):
    by_hand = make_signature(letter, name="Amnesty International", country="GB")
    by_hand.email_hash = None
    db.session.commit()
    by_form = make_signature(letter, name="amnesty intl", country="DE",
                             email="info@amnesty.example")
    dropped_hash, dropped_id, dropped_public = by_form.email_hash, by_form.id, by_form.public_id
    person = make_signature(letter, name="A Person", signer_type=INDIVIDUAL)
    assert public_json(organiser)["total"] == 3
    response = organiser.post(f"{BASE}/{by_form.public_id}",
                              data={"do": "merge", "into": person.public_id})
    assert response.status_code == 400 and "organisations" in response.get_data(as_text=True)
    response = organiser.post(f"{BASE}/{by_form.public_id}",
                              data={"do": "merge", "into": by_hand.public_id})
    assert response.status_code == 303 and response.location.endswith(by_hand.public_id)
    db.session.expire_all()
    assert db.session.get(Signature, dropped_id) is None
    kept = db.session.get(Signature, by_hand.id)
    assert (kept.name, kept.country) == ("Amnesty International", "GB")
    assert kept.email_hash == dropped_hash  # the address signing again is a duplicate
    assert public_json(organiser)["total"] == 2
    assert "amnesty intl" not in public_page(organiser)
    [event] = audit_events("signature.merge")
    assert event.detail == f"kept {by_hand.public_id}, deleted {dropped_public}"
    assert_no_address_in_audit()


def test_delete_takes_the_signature_its_versions_and_mail(organiser, letter, app):
    listed_one = make_signature(letter, name="Gone Org")
    gone_public = listed_one.public_id
    make_signature(letter, name="Staying Org")
    details = dict(signer_type="organization", country="DE", email="asker@example.org", lang="fr")
    signing.sign("appeal", signing.SignatureDetails(name="Asker One", **details))
    signing.sign("appeal", signing.SignatureDetails(name="Asker Two", **details))
    pending = db.session.scalar(select(Signature).where(Signature.status == PENDING))
    assert db.session.scalar(select(func.count(SignatureVersion.id))) == 1
    sent = db.session.scalar(select(OutboxMail).where(OutboxMail.signature_id == pending.id))
    sent.status = MAIL_SENT
    db.session.commit()

    url = f"{BASE}/{gone_public}"
    assert "Delete this signature" in organiser.get(url).get_data(as_text=True)
    assert organiser.post(url, data={"do": "delete"}).status_code == 400  # not confirmed
    assert public_json(organiser)["total"] == 2
    assert organiser.post(url, data={"do": "delete", "confirm": "yes"}).status_code == 303
    assert public_json(organiser)["total"] == 1
    assert "Gone Org" not in public_page(organiser)

    pending_public = pending.public_id
    response = organiser.post(f"{BASE}/{pending_public}", data={"do": "delete", "confirm": "yes"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(func.count(SignatureVersion.id))) == 0
    mails = db.session.scalars(select(OutboxMail)).all()
    assert [(mail.status, mail.signature_id) for mail in mails] == [(MAIL_SENT, None)]
    assert [e.detail for e in audit_events("signature.delete")] == [gone_public, pending_public]
    assert_no_address_in_audit()


def test_bulk_shows_the_count_and_refuses_a_stale_one(organiser, letter):
    for number in range(2):
        make_signature(letter, name=f"German {number}", country="DE")
    make_signature(letter, name="French", country="FR")
    filters = {"country": "DE", "q": "german"}
    response = organiser.post(f"{BASE}/bulk", data={"action": "hide", **filters})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "This will hide 2 signatures." in page
    assert 'name="expected_count" value="2"' in page and 'name="country" value="DE"' in page
    assert db.session.scalar(select(func.count()).where(Signature.moderation == MOD_HIDDEN)) == 0

    make_signature(letter, name="German late", country="DE")
    response = organiser.post(f"{BASE}/bulk",
                              data={"action": "hide", "expected_count": "2", **filters})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "The selection has changed" in page
    assert "This will hide 3 signatures." in page
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(Signature.moderation == MOD_HIDDEN)) == 0
    assert public_json(organiser)["total"] == 4

    response = organiser.post(f"{BASE}/bulk",
                              data={"action": "hide", "expected_count": "3", **filters})
    assert response.status_code == 303
    assert public_json(organiser)["total"] == 1
    [event] = audit_events("signature.bulk")
    assert event.detail == "action=hide count=3 q=… country=DE"
    # Hidden ones are not hidden again: nothing left to do.
    page = organiser.post(f"{BASE}/bulk", data={"action": "hide", **filters}).get_data(as_text=True)
    assert "This will hide 0 signatures." in page and "expected_count" not in page

    response = organiser.post(f"{BASE}/bulk",
                              data={"action": "delete", "expected_count": "3", **filters})
    assert response.status_code == 303
    assert db.session.scalar(select(func.count(Signature.id))) == 1
    assert organiser.post(f"{BASE}/bulk", data={"action": "explode"}).status_code == 400
    assert_no_address_in_audit()


def test_press_is_refused_every_signature_page(app, letter):
    signature = make_signature(letter, name="Amnesty Nord")
    press = _client_for(app, "press@example.org", "press")
    for method, url in (("GET", BASE), ("POST", BASE), ("GET", f"{BASE}/new"),
                        ("POST", f"{BASE}/new"), ("GET", f"{BASE}/{signature.public_id}"),
                        ("POST", f"{BASE}/{signature.public_id}"), ("POST", f"{BASE}/bulk")):
        assert press.open(url, method=method).status_code == 403, (method, url)
    letter_page = press.get("/admin/letters/appeal").get_data(as_text=True)
    assert "/signatures" not in letter_page and "/moderation" not in letter_page


CHANGED_MEANWHILE = "changed or deleted by someone else meanwhile"


@contextlib.contextmanager
def deleted_by_another_organiser_before_the_first_write(app, public_id: str):
    """The signature is deleted and committed by another session just before this thread's
    request writes anything: after it read the signature, before it acted on what it read."""
    here, done = threading.get_ident(), []

    def other_organiser() -> None:
        with app.app_context():
            try:
                other = db.session.scalar(select(Letter).where(Letter.slug == "appeal"))
                curation.delete(other, public_id)
                done.append("deleted")
            finally:
                db.session.remove()

    def before_write(conn, cursor, statement, parameters, context, executemany):
        if done or threading.get_ident() != here:
            return
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            worker = threading.Thread(target=other_organiser)
            worker.start()
            worker.join(30)
            assert done == ["deleted"]

    db_events.listen(db.engine, "before_cursor_execute", before_write)
    try:
        yield done
    finally:
        db_events.remove(db.engine, "before_cursor_execute", before_write)


@pytest.mark.parametrize("do", ["correct", "delete"])
def test_a_deletion_racing_a_change_says_it_changed_meanwhile(organiser, letter, do):
    """Answer a correction or deletion of a signature deleted meanwhile: nothing done."""
    signature = make_signature(letter, name="Racing Org", country="DE")
    make_signature(letter, name="Staying Org", country="DE")
    url = f"{BASE}/{signature.public_id}"
    assert organiser.get(url).status_code == 200  # the edit form, loaded
    data = ({"do": "correct", "name": "Racing Org", "affiliation": "", "country": "FR"}
            if do == "correct" else {"do": "delete", "confirm": "yes"})
    with deleted_by_another_organiser_before_the_first_write(organiser.application,
                                                             signature.public_id) as done:
        response = organiser.post(url, data=data, headers={"Accept-Language": "en"})
    assert done == ["deleted"]
    assert response.status_code == 303, response.get_data(as_text=True)[-800:]
    page = organiser.get(response.headers["Location"]).get_data(as_text=True)
    assert CHANGED_MEANWHILE in page
    assert audit_events(f"signature.{do}") == []
    # The counts are those of what is left: one organisation, in Germany.
    assert public_json(organiser)["total"] == 1
    assert listed(letter) == {"DE": ["Staying Org"]}
    db.session.refresh(letter)
    assert counting.table(letter.id) == counting.recount(letter.id)


def _look_up(client, email: str, reason: str | None = REASON):
    data = {"email": email} if reason is None else {"email": email, "reason": reason}
    return client.post(BASE, data=data)


FOUND_HEADING = "The signature made with this address"
NOT_FOUND = "No signature of this letter was made with this address"


def test_each_lookup_is_audited_with_its_reason_never_the_address(organiser, letter):
    """Audit every lookup with the letter, found or not, and the reason; never the address."""
    jane = make_signature(letter, name="Jane Org", email="jane@example.org")
    page = _look_up(organiser, "Jane@Example.org", "Asked by phone, call of 3 May").get_data(
        as_text=True)
    assert FOUND_HEADING in page
    response = _look_up(organiser, "john@example.org", "John wrote to the campaign")
    assert response.status_code == 200 and NOT_FOUND in response.get_data(as_text=True)
    events = audit_events("signature.lookup")
    assert [(e.actor, e.letter_slug) for e in events] == [("org@example.org", "appeal")] * 2
    assert events[0].detail == f"found {jane.public_id}; reason: Asked by phone, call of 3 May"
    assert events[1].detail == "not found; reason: John wrote to the campaign"
    # A reason holding an address is refused before any lookup: the log keeps none.
    response = _look_up(organiser, "jane@example.org", "asked by jane@example.org")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and FOUND_HEADING not in page
    assert len(audit_events("signature.lookup")) == 2
    for recorded in audit_events():
        assert "example.org" not in recorded.detail or recorded.action.startswith("account.")


def test_a_lookup_needs_a_reason(organiser, letter):
    """Refuse a lookup without a reason, before looking anything up."""
    make_signature(letter, name="Jane Org", email="jane@example.org")
    form = organiser.get(BASE).get_data(as_text=True)
    assert re.search(r'<input[^>]*name="reason"[^>]*required', form)
    for reason in (None, "   "):
        response = _look_up(organiser, "jane@example.org", reason)
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and "Reason for this lookup: this is required." in page
        assert FOUND_HEADING not in page and NOT_FOUND not in page
    assert audit_events("signature.lookup") == []


def test_press_may_not_look_up_an_address(app, letter):
    """Answer 403 to a press account's lookup, and audit nothing."""
    make_signature(letter, name="Jane Org", email="jane@example.org")
    press = _client_for(app, "press@example.org", "press", ("appeal",))
    assert _look_up(press, "jane@example.org").status_code == 403
    assert audit_events("signature.lookup") == []


def test_the_21st_lookup_in_an_hour_is_refused(tmp_path, database_url):
    """Refuse an account's 21st lookup in an hour with a 429 page; others may still look."""
    config = base_config(database_url, tmp_path)
    config["RATELIMIT_ENABLED"] = True
    limited = create_app(config)
    limited.test_client_class = FreshContextClient
    with limited.app_context():
        try:
            make_letter("appeal")
            organiser = _client_for(limited)
            codes = [_look_up(organiser, f"n{n}@example.org").status_code for n in range(20)]
            assert codes == [200] * 20
            refused = _look_up(organiser, "n20@example.org")
            page = refused.get_data(as_text=True)
            assert refused.status_code == 429 and "Nothing was looked up" in page
            assert NOT_FOUND not in page
            assert len(audit_events("signature.lookup")) == 20
            assert [e.actor for e in audit_events("signature.lookup_refused")] == [
                "org@example.org"]
            # The limit is the account's: another organiser of the letter may still look.
            other = _client_for(limited, "other@example.org")
            assert _look_up(other, "n0@example.org").status_code == 200
        finally:
            db.session.remove()
            db.engine.dispose()


def test_a_correction_of_a_signature_deleted_since_its_form_was_loaded(organiser, letter):
    """Answer a correction posted after another organiser deleted the signature."""
    signature = make_signature(letter, name="Racing Org", country="DE")
    url = f"{BASE}/{signature.public_id}"
    assert organiser.get(url).status_code == 200
    curation.delete(letter, signature.public_id)
    response = organiser.post(url, data={"do": "correct", "name": "Renamed Org",
                                         "affiliation": "", "country": "FR"},
                              headers={"Accept-Language": "en"})
    assert response.status_code == 303 and response.headers["Location"].endswith(BASE)
    assert CHANGED_MEANWHILE in organiser.get(BASE).get_data(as_text=True)
    assert audit_events("signature.correct") == []
    assert organiser.get(url).status_code == 404
