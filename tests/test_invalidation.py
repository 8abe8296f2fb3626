"""Bulk invalidation: conditions, the count first, a recorded job that takes signatures off the
list and the counts (in the request, or chunk by chunk in the worker), undone once; flagged
signatures listed and waiting in the moderation queue."""
from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from sqlalchemy import func, select

from petition.extensions import db
from petition.letters import counting
from petition.models import (
    CONFIRMED,
    INDIVIDUAL,
    MOD_APPROVED,
    MOD_FLAGGED,
    MOD_HELD,
    MOD_INVALID,
    MOD_NONE,
    PENDING,
    SOURCE_IMPORT,
    Letter,
    Signature,
)
from petition.models.abuse import (
    JOB_DONE,
    JOB_RUNNING,
    JOB_UNDONE,
    AbuseEvent,
    InvalidationItem,
    InvalidationJob,
)
from petition.models.accounts import AuditEvent
from petition.signatures import invalidation, moderation
from petition.signatures.invalidation import Conditions, InvalidationError
from petition.signatures.search import StaleSelection
from petition.worker import DispatchLoop
from tests.admin_helpers import signed_in_client
from tests.factories import make_letter, make_signature
from tests.helpers import confirm_token_from, mails_to, sign_form
from tests.test_withdrawal import withdraw_token_from

URL = "/admin/letters/appeal/invalidation"


@pytest.fixture
def letter(app):
    return make_letter("appeal")


def person(letter: Letter, name: str, *, domain: str | None = None, **fields) -> Signature:
    """A confirmed individual, its domain's keyed hash stored as signing stores it."""
    signature = make_signature(letter, name=name, signer_type=INDIVIDUAL, commit=False,
                               **fields)
    if domain:
        signature.domain_hash = invalidation.domain_hash(domain)
    db.session.commit()
    return signature


def state(letter: Letter) -> tuple[int, int]:
    """(public total, list version), the counts checked against a fresh count of the rows."""
    db.session.expire_all()
    assert counting.table(letter.id) == counting.recount(letter.id)
    fresh = db.session.get(Letter, letter.id)
    assert fresh is not None
    return counting.public_total(letter.id), fresh.list_version


def moderation_of(signature: Signature) -> str:
    db.session.expire_all()
    return db.session.scalar(select(Signature.moderation).where(Signature.id == signature.id))


def conditions(**values: str) -> Conditions:
    return Conditions.parse(values)


def test_count_start_undo_keep_counts_and_list_version(app, letter):
    bots = [person(letter, f"Bot {n}", domain="spam.example") for n in range(3)]
    held = person(letter, "Held Bot", domain="spam.example", moderation=MOD_HELD)
    keep = person(letter, "Real Person", domain="example.org")
    total, version = state(letter)
    assert total == 4

    wanted = conditions(domain="SPAM.example.")
    assert invalidation.count(letter, wanted) == 4  # the held one too: it never counted
    job = invalidation.start(letter, wanted, "org@example.org", expected=4)
    assert (job.status, job.matched, job.changed) == (JOB_DONE, 4, 4)
    after_total, after_version = state(letter)
    assert after_total == 1 and after_version > version
    assert all(moderation_of(s) == MOD_INVALID for s in [*bots, held])
    assert moderation_of(keep) == MOD_NONE
    assert invalidation.count(letter, wanted) == 0  # already invalid: not counted again
    public = app.test_client().get("/letters/appeal.json").get_json()
    assert public["total"] == 1
    page = app.test_client().get("/letters/appeal", follow_redirects=True).get_data(as_text=True)
    assert "Real Person" in page and "Bot 0" not in page

    # Someone approves one meanwhile: undoing leaves that decision alone.
    moderation.approve("appeal", [bots[0].public_id])
    assert state(letter)[0] == 2
    undone = invalidation.undo(job.public_id, "org@example.org")
    assert undone.status == JOB_UNDONE and undone.undone_by == "org@example.org"
    assert moderation_of(bots[0]) == MOD_APPROVED
    assert [moderation_of(s) for s in bots[1:]] == [MOD_NONE, MOD_NONE]
    assert moderation_of(held) == MOD_HELD
    final_total, final_version = state(letter)
    assert final_total == 4 and final_version > after_version

    with pytest.raises(InvalidationError, match="already undone"):
        invalidation.undo(job.public_id, "someone@example.org")
    assert state(letter)[0] == 4
    actions = db.session.execute(select(AuditEvent.action, AuditEvent.detail).where(
        AuditEvent.action.like("signature.invalidate%")).order_by(AuditEvent.id)).all()
    assert [action for action, _ in actions] == ["signature.invalidate",
                                                 "signature.invalidate.undo"]
    assert f"job={job.public_id} matched=4 domain=spam.example" in actions[0][1]
    assert actions[1][1] == f"job={job.public_id} restored=3"


def test_each_condition(app, letter):
    old = dt.datetime(2024, 5, 1, 12)
    person(letter, "Alpha", domain="bücher.example")
    by_event_domain = person(letter, "Beta")  # signed before the hash was stored
    by_block = person(letter, "Gamma")
    person(letter, "Élodie Bottine")
    person(letter, "Delta", country="FR")
    dated = person(letter, "Epsilon")
    dated.created_at = old
    flagged = person(letter, "Zeta", moderation=MOD_FLAGGED)
    flagged.flag_reason = "block-burst"
    person(letter, "Eta", source=SOURCE_IMPORT)
    other_letter = make_letter("other")
    elsewhere = person(other_letter, "Gamma Elsewhere")
    for signature, domain, block in ((by_event_domain, "relay.example", "b" * 32),
                                     (by_block, "example.org", "a" * 32),
                                     (elsewhere, "relay.example", "a" * 32)):
        db.session.add(AbuseEvent(letter_id=signature.letter_id, signature_id=signature.id,
                                  address_hash="c" * 32, block_hash=block,
                                  email_domain=domain))
    db.session.commit()

    def matched(**values: str) -> set[str]:
        job = invalidation.start(letter, conditions(**values), "cli")
        names = {name for (name,) in db.session.execute(
            select(Signature.name).join(InvalidationItem,
                                        InvalidationItem.signature_id == Signature.id)
            .where(InvalidationItem.job_id == job.id))}
        invalidation.undo(job.public_id, "cli")
        return names

    assert matched(domain="xn--bcher-kva.example") == {"Alpha"}
    assert matched(domain="relay.example") == {"Beta"}
    assert matched(block="A" * 32) == {"Gamma"}
    assert matched(block="a" * 12) == {"Gamma"}  # the start of a hash, as trends may cut it
    assert matched(name="elodie") == {"Élodie Bottine"}
    assert matched(name="BOTT") == {"Élodie Bottine"}
    assert matched(name="é*ine") == {"Élodie Bottine"}
    assert invalidation.count(letter, conditions(name="bot*")) == 0  # "*": the whole name
    assert matched(country="fr") == {"Delta"}
    assert matched(until="2024-05-01") == {"Epsilon"}
    assert matched(since="2024-05-01 12:00", until="2024-05-01 12:01") == {"Epsilon"}
    assert invalidation.count(letter, conditions(since="2024-05-02")) == 7
    assert matched(reason="block-burst") == {"Zeta"}
    assert matched(moderation="flagged") == {"Zeta"}
    assert matched(source="import") == {"Eta"}
    assert invalidation.count(letter, conditions(country="FR", name="alpha")) == 0
    assert moderation_of(elsewhere) == MOD_NONE


@pytest.mark.parametrize("values, message", [
    ({}, "at least one condition"),
    ({"domain": "not a domain"}, "mail domain"),
    ({"block": "xyz"}, "hash"),
    ({"country": "ZZZ"}, "country"),
    ({"source": "carrier pigeon"}, "source"),
    ({"moderation": "invalid"}, "moderation"),
    ({"since": "yesterday"}, "YYYY-MM-DD"),
    ({"until": "9999-12-31"}, "YYYY-MM-DD"),
    ({"since": "2024-05-01T10:00+02:00", "until": "2024-05-01 08:00"}, "after the end"),
    ({"since": "2024-05-03", "until": "2024-05-01"}, "after the end"),
])
def test_bad_conditions_are_refused_clearly(app, values, message):
    with pytest.raises(InvalidationError) as refused:
        Conditions.parse(values)
    assert message in str(refused.value)


def test_a_stale_count_is_refused_with_nothing_written(app, letter):
    for n in range(2):
        person(letter, f"Bot {n}", domain="spam.example")
    wanted = conditions(domain="spam.example")
    shown = invalidation.count(letter, wanted)
    person(letter, "Bot late", domain="spam.example")  # arrives between count and click
    total, version = state(letter)
    with pytest.raises(StaleSelection) as refused:
        invalidation.start(letter, wanted, "org@example.org", expected=shown)
    assert refused.value.count == 3
    assert state(letter) == (total, version)
    assert db.session.scalar(select(func.count(InvalidationJob.id))) == 0
    assert db.session.scalar(select(func.count(InvalidationItem.job_id))) == 0
    with pytest.raises(InvalidationError, match="No signature matches"):
        invalidation.start(letter, conditions(domain="nobody.example"), "cli")


def test_a_pending_signature_invalidated_stays_off_the_counts_once_confirmed(app, letter):
    client = app.test_client()
    client.post("/letters/appeal/sign", data=sign_form(
        signer_type="individual", name="Bot P", email="bot@spam.example"))
    person(letter, "Bot C", domain="spam.example")
    total, _ = state(letter)
    # The form stored the domain's hash: the job finds the pending signature by it.
    assert invalidation.count(letter, conditions(domain="spam.example")) == 2
    invalidation.start(letter, conditions(domain="spam.example"), "cli")
    assert state(letter)[0] == total - 1  # the confirmed one left; the pending one never came
    pending = db.session.scalars(select(Signature).where(Signature.name == "Bot P")).one()
    assert (pending.status, moderation_of(pending)) == (PENDING, MOD_INVALID)
    [mail] = mails_to("bot@spam.example")
    assert client.post(f"/confirm/{confirm_token_from(mail)}").status_code == 200
    db.session.expire_all()
    pending = db.session.get(Signature, pending.id)
    assert (pending.status, pending.moderation) == (CONFIRMED, MOD_INVALID)
    assert state(letter)[0] == total - 1


def test_a_big_job_runs_in_the_worker_by_chunks(app, letter):
    bot_ids = [person(letter, f"Bot {n}", domain="spam.example").id for n in range(7)]
    total, version = state(letter)
    job = invalidation.start(letter, conditions(domain="spam.example"), "cli", inline_max=3)
    assert (job.status, job.matched, job.changed) == (JOB_RUNNING, 7, 0)
    job_id, public_id, letter_id = job.id, job.public_id, letter.id
    assert state(letter) == (total, version)  # nothing taken off yet

    assert invalidation.run_pending(chunk=3) is True
    db.session.expire_all()
    assert db.session.get(InvalidationJob, job.id).changed == 3
    assert state(letter)[0] == total - 3
    # A crash here (the process killed between chunks) loses nothing: the next pass, in a
    # fresh session, goes on where the committed chunks stopped.
    db.session.remove()
    letter = db.session.get(Letter, letter_id)
    assert invalidation.run_pending(chunk=3) is True
    assert invalidation.run_pending(chunk=3) is False
    db.session.expire_all()
    finished = db.session.get(InvalidationJob, job_id)
    assert (finished.status, finished.changed) == (JOB_DONE, 7)
    assert finished.finished_at is not None
    assert state(letter)[0] == total - 7
    assert all(db.session.get(Signature, id_).moderation == MOD_INVALID for id_ in bot_ids)
    assert invalidation.run_pending() is False  # nothing left to do

    invalidation.undo(public_id, "cli")
    assert state(letter)[0] == total


def test_the_worker_loop_runs_jobs(app, letter):
    app.config["INVALIDATION_INLINE_MAX"] = 1
    for n in range(3):
        person(letter, f"Bot {n}", domain="spam.example")
    job = invalidation.start(letter, conditions(domain="spam.example"), "cli")
    assert job.status == JOB_RUNNING
    DispatchLoop(app, interval=0).run(max_loops=1)
    db.session.expire_all()
    assert db.session.get(InvalidationJob, job.id).status == JOB_DONE
    assert state(letter)[0] == 0


def test_undoing_a_running_job_stops_it(app, letter):
    for n in range(5):
        person(letter, f"Bot {n}", domain="spam.example")
    job = invalidation.start(letter, conditions(domain="spam.example"), "cli", inline_max=0)
    invalidation.run_pending(chunk=2)
    assert state(letter)[0] == 3
    invalidation.undo(job.public_id, "cli")
    assert invalidation.run_pending(chunk=2) is False
    assert state(letter)[0] == 5
    db.session.expire_all()
    assert db.session.get(InvalidationJob, job.id).status == JOB_UNDONE


def test_undo_leaves_what_a_later_job_took_off(app, letter):
    bot = person(letter, "Bot", domain="spam.example", country="FR")
    first = invalidation.start(letter, conditions(domain="spam.example"), "cli")
    moderation.approve("appeal", [bot.public_id])  # put back by hand...
    second = invalidation.start(letter, conditions(country="FR"), "cli")  # ...and again off
    invalidation.undo(first.public_id, "cli")
    assert moderation_of(bot) == MOD_INVALID  # the second job's, not the first's
    invalidation.undo(second.public_id, "cli")
    assert moderation_of(bot) == MOD_APPROVED


def test_flagged_listing_and_moderation_queue(app, letter):
    flagged = person(letter, "Flagged Person", moderation=MOD_FLAGGED)
    flagged.flag_reason = "domain-burst"
    db.session.commit()
    person(letter, "Plain Person")
    rows = invalidation.flagged(letter)
    assert [(row.public_id, row.reason) for row in rows] == [(flagged.public_id, "domain-burst")]
    assert state(letter)[0] == 1  # flagged: not counted

    organiser = signed_in_client(app)
    page = organiser.get("/admin/letters/appeal/moderation").get_data(as_text=True)
    assert "Flagged Person" in page and "domain-burst" in page and "Flagged" in page
    assert "Plain Person" not in page
    letter_page = organiser.get("/admin/letters/appeal").get_data(as_text=True)
    assert "Moderation (1 waiting)" in letter_page and URL in letter_page
    organiser.post("/admin/letters/appeal/moderation",
                   data={"row_decision": f"approve:{flagged.public_id}"})
    assert moderation_of(flagged) == MOD_APPROVED
    assert state(letter)[0] == 2
    assert invalidation.flagged(letter) == []


@pytest.mark.parametrize("taken_off", [MOD_FLAGGED, MOD_INVALID])
def test_flagged_and_invalid_signers_see_what_anyone_sees(client, letter, taken_off):
    """The signer is told nothing: the confirmation and withdrawal pages are those of any
    confirmed signature, and withdrawing leaves the counts exact."""
    links = {}
    for email in ("plain@example.org", "bot@spam.example"):
        assert client.post("/letters/appeal/sign",
                           data=sign_form(email=email)).status_code == 303
        mail = mails_to(email)[-1]
        links[email] = (confirm_token_from(mail), withdraw_token_from(mail))
        assert client.post(f"/confirm/{links[email][0]}").status_code == 200
    bot = db.session.scalars(select(Signature).order_by(Signature.id.desc())).first()
    bot.moderation = taken_off
    counting.changed(letter, removed=[(bot.country, bot.signer_type, True)])
    db.session.commit()
    assert state(letter)[0] == 1

    def pages(email: str) -> list[str]:
        confirm, withdraw = links[email]
        answers = [client.post(f"/confirm/{confirm}?lang=en"),
                   client.get(f"/withdraw/{withdraw}?lang=en")]
        assert [answer.status_code for answer in answers] == [200, 200]
        return [answer.get_data(as_text=True).replace(confirm, "T").replace(withdraw, "T")
                for answer in answers]

    assert pages("bot@spam.example") == pages("plain@example.org")
    assert client.post(f"/withdraw/{links['bot@spam.example'][1]}?lang=en").status_code == 200
    assert state(letter)[0] == 1


def test_cli(app, runner, letter):
    person(letter, "Bot 1", domain="spam.example")
    person(letter, "Bot 2", domain="spam.example")
    flagged = person(letter, "Flagged", moderation=MOD_FLAGGED)
    flagged.flag_reason = "block-burst"
    db.session.commit()

    refused = runner.invoke(args=["signatures", "invalidate", "appeal"])
    assert refused.exit_code == 1 and "at least one condition" in refused.output
    dry = runner.invoke(args=["signatures", "invalidate", "appeal", "--domain", "spam.example",
                              "--dry-run"])
    assert dry.exit_code == 0 and dry.output == "2 signature(s) match.\n"
    assert state(letter)[0] == 2
    done = runner.invoke(args=["signatures", "invalidate", "appeal", "--domain", "spam.example",
                               "--since", "2000-01-01"])
    assert done.exit_code == 0, done.output
    job = db.session.scalars(select(InvalidationJob)).one()
    assert f"job {job.public_id}: 2 signature(s) invalidated" in done.output
    assert json.loads(job.conditions) == {"domain": "spam.example",
                                          "since": "2000-01-01 00:00:00"}
    assert state(letter)[0] == 0

    listing = runner.invoke(args=["signatures", "flagged", "appeal"])
    assert listing.exit_code == 0
    assert f"{flagged.public_id}\tblock-burst\t" in listing.output
    assert listing.output.endswith("1 flagged.\n")

    undone = runner.invoke(args=["signatures", "invalidate", "--undo", job.public_id])
    assert undone.exit_code == 0 and "2 signature(s) put back" in undone.output
    again = runner.invoke(args=["signatures", "invalidate", "--undo", job.public_id])
    assert again.exit_code == 1 and "already undone" in again.output
    assert runner.invoke(args=["signatures", "invalidate", "--undo", "nope"]).exit_code == 1
    assert runner.invoke(args=["signatures", "invalidate"]).exit_code == 2
    assert runner.invoke(args=["signatures", "invalidate", "nowhere", "--domain",
                               "x.example"]).exit_code == 1
    assert state(letter)[0] == 2
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.actor == "cli", AuditEvent.action.like("signature.invalidate%"))) == 2


def test_admin_page_counts_then_invalidates_then_undoes(app, letter):
    for n in range(2):
        person(letter, f"Bot {n}", domain="spam.example")
    person(letter, "Real Person")
    organiser = signed_in_client(app)
    assert organiser.get(URL).status_code == 200

    counted = organiser.post(URL, data={"domain": "spam.example"})
    page = counted.get_data(as_text=True)
    assert counted.status_code == 200
    assert "2 signatures match these conditions." in page
    assert "Invalidate 2 signatures" in page and 'name="expected_count" value="2"' in page
    assert state(letter)[0] == 3  # counting changes nothing

    person(letter, "Bot late", domain="spam.example")
    stale = organiser.post(URL, data={"domain": "spam.example", "expected_count": "2"})
    assert stale.status_code == 400 and "now holds 3" in stale.get_data(as_text=True)
    assert "Invalidate 3 signatures" in stale.get_data(as_text=True)
    assert state(letter)[0] == 4

    done = organiser.post(URL, data={"domain": "spam.example", "expected_count": "3"})
    assert done.status_code == 303
    page = organiser.get(URL).get_data(as_text=True)
    assert "3 signatures invalidated" in page
    job = db.session.scalars(select(InvalidationJob)).one()
    assert job.public_id in page and "org@example.org" in page and "Done" in page
    assert state(letter)[0] == 1

    undo = f"{URL}/{job.public_id}/undo"
    assert organiser.post(undo).status_code == 303
    page = organiser.get(URL).get_data(as_text=True)
    assert "Job undone: 3 signatures put back." in page and "Undone by" in page
    assert state(letter)[0] == 4
    again = organiser.post(undo)
    assert again.status_code == 400 and "already undone" in again.get_data(as_text=True)

    bad = organiser.post(URL, data={"since": "soon"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_data(as_text=True)
    empty = organiser.post(URL, data={})
    assert empty.status_code == 400 and "at least one condition" in empty.get_data(as_text=True)


def test_admin_page_is_for_the_letters_organisers_only(app, letter):
    person(letter, "Bot", domain="spam.example")
    job = invalidation.start(letter, conditions(domain="spam.example"), "cli")
    make_letter("other")
    press = signed_in_client(app, "press@example.org", "press")
    assert press.get(URL).status_code == 403
    assert press.post(f"{URL}/{job.public_id}/undo").status_code == 403
    stranger = signed_in_client(app, "stranger@example.org", "organiser", letters=("other",))
    assert stranger.get(URL).status_code == 404
    assert stranger.post(f"{URL}/{job.public_id}/undo").status_code == 404
    # Another letter's page cannot undo this letter's job.
    refused = stranger.post(f"/admin/letters/other/invalidation/{job.public_id}/undo")
    assert refused.status_code == 400
    assert moderation_of(db.session.scalars(select(Signature)).one()) == MOD_INVALID


def test_concurrent_jobs_and_workers_take_each_count_off_once(app, letter):
    """Two organisers invalidating overlapping sets at once, and two workers on one big
    job: every signature leaves the counts once."""
    for n in range(6):
        person(letter, f"Bot {n}", domain="spam.example", country="FR" if n % 2 else "DE")
    big = invalidation.start(letter, conditions(country="DE"), "cli", inline_max=0)
    big_id, letter_id = big.id, letter.id
    db.session.remove()
    barrier = threading.Barrier(4)
    errors: list[Exception] = []

    def run(action) -> None:
        with app.app_context():
            barrier.wait()
            try:
                action()
            except InvalidationError:
                pass  # the other one took them all first: "No signature matches"
            except Exception as error:  # collected and asserted on below
                errors.append(error)
            finally:
                db.session.remove()

    def start() -> None:
        invalidation.start(db.session.get(Letter, letter_id), conditions(domain="spam.example"),
                           "cli")

    def work() -> None:
        while invalidation.work(big_id, chunk=1):
            pass

    threads = [threading.Thread(target=run, args=(action,))
               for action in (start, start, work, work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    letter = db.session.get(Letter, letter_id)
    assert state(letter)[0] == 0
    changed = db.session.scalars(select(InvalidationJob.changed)).all()
    assert sum(changed) == 6
