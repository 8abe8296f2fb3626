"""Retention: a closed letter forgets its signers' email fingerprints after its days."""
import datetime as dt

from sqlalchemy import select

from petition.extensions import db
from petition.letters import operations as letters
from petition.models import (
    CLOSED,
    CONFIRMED,
    INDIVIDUAL,
    INITIALS,
    OPEN,
    PENDING,
    WITHDRAWN,
    Letter,
    Signature,
    SignatureVersion,
    utcnow,
)
from petition.models.accounts import AuditEvent
from petition.privacy import retention
from petition.worker import DispatchLoop
from tests.factories import make_letter, make_signature
from tests.helpers import confirm_token_from, mails_to, sign_form


def signatures(letter_id: int) -> list[Signature]:
    db.session.expire_all()
    return list(db.session.scalars(select(Signature).where(Signature.letter_id == letter_id)
                                   .order_by(Signature.id)))


def populate(letter: Letter) -> None:
    make_signature(letter, country="DE", name="Campagne #FREE120")
    make_signature(letter, country="ES", signer_type=INDIVIDUAL, display=INITIALS,
                   name="Ana Pérez")
    make_signature(letter, country="FR", status=WITHDRAWN)
    pending = make_signature(letter, country="FR", status=PENDING)
    pending.email_encrypted = b"gAAAAA-not-needed-any-more"
    db.session.add(SignatureVersion(signature_id=pending.id, signer_type="organization",
                                    name="Other", country="FR"))
    db.session.commit()


def public_view(client) -> tuple:
    page = client.get("/letters/appeal?lang=fr").get_data(as_text=True)
    listing = client.get("/letters/appeal/signatories.txt?lang=fr").get_data(as_text=True)
    return client.get("/letters/appeal.json?lang=fr").get_json(), listing, page.count("FREE120")


def close_appeal() -> Letter:
    letters.set_status("appeal", CLOSED)
    letter = letters.get_letter("appeal")
    assert letter.closed_at is not None
    return letter


def test_nothing_is_erased_before_the_retention_days(app):
    letter = make_letter()
    populate(letter)
    letter = close_appeal()
    assert retention.run(now=letter.closed_at + dt.timedelta(days=90, seconds=-1)) == []
    rows = signatures(letter.id)
    assert len(rows) == 4 and all(row.email_hash for row in rows)
    assert letters.get_letter("appeal").fingerprints_erased_at is None


def test_after_the_days_fingerprints_go_and_the_list_stays(client, app):
    letter = make_letter()
    populate(letter)
    letter = close_appeal()
    before = [(s.public_id, s.name, s.country, s.status) for s in signatures(letter.id)
              if s.status != PENDING]
    shown = public_view(client)
    assert shown[0]["total"] == 2 and "Campagne #FREE120" in shown[1] and shown[2]

    now = letter.closed_at + dt.timedelta(days=90)
    erased = retention.run(now=now)

    assert [(e.slug, e.fingerprints, e.pending) for e in erased] == [("appeal", 3, 1)]
    rows = signatures(letter.id)
    assert [(s.public_id, s.name, s.country, s.status) for s in rows] == before
    assert all(s.email_hash is None and s.email_encrypted is None for s in rows)
    assert db.session.scalar(select(SignatureVersion)) is None
    assert public_view(client) == shown
    assert letters.get_letter("appeal").fingerprints_erased_at == now
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "retention.erase"))
    assert event.actor == "retention" and event.letter_slug == "appeal"
    assert "fingerprints=3" in event.detail and "pending_deleted=1" in event.detail
    # Done once: the next runs find nothing new and log nothing.
    assert retention.run(now=now + dt.timedelta(days=1)) == []
    assert len(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "retention.erase")).all()) == 1


def test_an_open_letter_is_never_touched(app):
    letter = make_letter()
    populate(letter)
    old = make_letter("old-open")
    make_signature(old).created_at = utcnow() - dt.timedelta(days=3000)
    db.session.commit()
    assert retention.run(now=utcnow() + dt.timedelta(days=3000)) == []
    assert all(s.email_hash for s in signatures(letter.id) + signatures(old.id))


def test_a_past_deadline_counts_from_the_end_of_its_day(app):
    letter = make_letter(deadline=dt.date(2026, 1, 10), fingerprint_retention_days=30)
    make_signature(letter)
    end_of_day = dt.datetime(2026, 1, 11)
    assert retention.erase_due(now=end_of_day + dt.timedelta(days=30, seconds=-1)) == []
    assert signatures(letter.id)[0].email_hash is not None
    erased = retention.erase_due(now=end_of_day + dt.timedelta(days=30))
    assert [(e.slug, e.closed_since, e.fingerprints) for e in erased] == [
        ("appeal", end_of_day, 1)]
    assert signatures(letter.id)[0].email_hash is None


def test_each_letter_keeps_its_own_days(app):
    short = make_letter("short", status=CLOSED, closed_at=utcnow(), fingerprint_retention_days=7)
    long_ = make_letter("long", status=CLOSED, closed_at=utcnow(), fingerprint_retention_days=365)
    make_signature(short)
    make_signature(long_)
    erased = retention.erase_due(now=utcnow() + dt.timedelta(days=8))
    assert [e.slug for e in erased] == ["short"]
    assert signatures(long_.id)[0].email_hash is not None


def test_a_closed_letter_without_a_closing_time_starts_counting_now(app):
    letter = make_letter(status=CLOSED)  # as letters closed before closed_at existed
    make_signature(letter)
    assert retention.erase_due(now=utcnow() + dt.timedelta(days=1)) == []
    assert letters.get_letter("appeal").closed_at is not None
    assert [e.slug for e in retention.erase_due(now=utcnow() + dt.timedelta(days=91))] == ["appeal"]


def test_a_letter_reopened_after_erasure_keeps_working(client, app):
    letter = make_letter()
    make_signature(letter, email="contact@free120.example", name="Before")
    letter = close_appeal()
    assert retention.run(now=letter.closed_at + dt.timedelta(days=90))
    letters.set_status("appeal", OPEN)
    assert letters.get_letter("appeal").closed_at is None

    response = client.post("/letters/appeal/sign",
                           data=sign_form(email="contact@free120.example", name="After"))
    assert response.status_code == 303
    token = confirm_token_from(mails_to("contact@free120.example")[-1])
    assert client.post(f"/confirm/{token}").status_code == 200
    after = db.session.scalar(select(Signature).where(Signature.name == "After"))
    assert after.status == CONFIRMED and after.email_hash is not None

    # Closed again: the new fingerprints go in their turn.
    letter = close_appeal()
    assert retention.run(now=letter.closed_at + dt.timedelta(days=89)) == []
    erased = retention.run(now=letter.closed_at + dt.timedelta(days=90))
    assert [(e.slug, e.fingerprints) for e in erased] == [("appeal", 1)]
    assert all(s.email_hash is None for s in signatures(letter.id))


def test_retention_run_command_prints_what_it_erased(runner, app):
    letter = make_letter(status=CLOSED, closed_at=utcnow() - dt.timedelta(days=100))
    make_signature(letter)
    make_signature(letter, status=PENDING)
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "appeal: erased 1 email fingerprint(s), deleted 1 pending signature(s)" in result.output
    again = runner.invoke(args=["retention", "run"])
    assert again.exit_code == 0 and "Nothing to erase." in again.output


def test_the_mail_loop_runs_retention(app):
    letter = make_letter(status=CLOSED, closed_at=utcnow() - dt.timedelta(days=100))
    make_signature(letter)
    loop = DispatchLoop(app, interval=0)
    loop.run(max_loops=1)
    assert loop.failures == 0
    assert signatures(letter.id)[0].email_hash is None


def test_new_letters_take_the_configured_days_and_closing_is_dated(app):
    app.config["FINGERPRINT_RETENTION_DAYS"] = 30
    letters.create_letter("fresh", lang="fr", title="Titre")
    assert letters.get_letter("fresh").fingerprint_retention_days == 30
    letters.set_status("fresh", CLOSED)
    closed_at = letters.get_letter("fresh").closed_at
    assert closed_at is not None and abs(closed_at - utcnow()) < dt.timedelta(minutes=1)
    letters.set_status("fresh", OPEN)
    assert letters.get_letter("fresh").closed_at is None
