"""Concurrent submissions of one address on PostgreSQL: one signature, the mail cap holds."""
import threading

import pytest
from sqlalchemy import func, select

from petition.extensions import db
from petition.letters import counting
from petition.models import OutboxMail, Signature, utcnow
from petition.signatures import signing
from tests.factories import make_letter

WORKERS = 8


@pytest.mark.postgresql_only
def test_concurrent_duplicates_make_one_signature_and_keep_the_mail_cap(app):
    make_letter()
    barrier = threading.Barrier(WORKERS)
    outcomes, errors = [], []

    def submit(number: int) -> None:
        with app.app_context():
            details = signing.SignatureDetails(
                signer_type="organization", name=f"Org {number}", country="FR",
                email="Same@Example.org", lang="fr",
            )
            barrier.wait()
            try:
                outcomes.append(signing.sign("appeal", details))
            except Exception as error:  # collected and asserted on below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert len(outcomes) == WORKERS
    assert outcomes.count(signing.SignOutcome.CREATED) == 1
    assert db.session.scalar(select(func.count(Signature.id))) == 1
    # Eight at once for one address: the cap's five go now, one waits, none beyond.
    now = utcnow()
    due = db.session.scalar(
        select(func.count(OutboxMail.id)).where(OutboxMail.next_attempt_at <= now))
    waiting = db.session.scalar(
        select(func.count(OutboxMail.id)).where(OutboxMail.next_attempt_at > now))
    assert (due, waiting) == (app.config["MAIL_PER_ADDRESS_PER_HOUR"], 1)


@pytest.mark.postgresql_only
def test_concurrent_confirmations_confirm_once(app):
    from tests.helpers import confirm_token_from, outbox

    letter = make_letter()
    signing.sign("appeal", signing.SignatureDetails(
        signer_type="organization", name="Org", country="FR", email="o@example.org", lang="fr"))
    token = confirm_token_from(outbox()[0])
    barrier = threading.Barrier(4)
    results = []

    def click() -> None:
        with app.app_context():
            barrier.wait()
            try:
                signing.confirm(token)
                results.append("confirmed")
            except signing.AlreadyConfirmed:
                results.append("already")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["already"] * 3 + ["confirmed"]
    # The count's upsert goes with each UPDATE before its answer (round_trips.Together):
    # only the one that confirmed the row moved it.
    assert counting.public_total(letter.id) == 1
