"""The write path stays cheap: statements per sign and confirm request, the letter read
once, the country labels loaded only for a form that is shown, the sidestep check by index."""
from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from petition import addresses
from petition.extensions import db
from petition.letters import counting
from petition.models import (
    CONFIRMED,
    INDIVIDUAL,
    MOD_HELD,
    MOD_NONE,
    PENDING,
    CountryLabel,
    Letter,
    Signature,
    SignatureVersion,
)
from petition.signatures import importing, moderation, signing
from tests.factories import make_letter, make_signature
from tests.helpers import confirm_token_from, mails_to, rendered, sign_form, statements


def _reads_of(table: str, seen: list[str]) -> list[str]:
    return [sql for sql in seen if sql.startswith("SELECT") and f"FROM {table} " in sql + " "]


_MAIN_TABLE = re.compile(r"^(?:SELECT .*? FROM|INSERT INTO|UPDATE|DELETE FROM) (\w+)")
# The tables signing and confirming wrote and read when these counts were taken: a table
# added later (e.g. counters kept in the same transaction) is counted by its own tests.
_TABLES = {"letter", "letter_text", "country_label", "signature", "signature_version",
           "outbox_mail", "key_material"}


def _ours(seen: list[str]) -> list[str]:
    """The statements on the signing tables, whatever else a request comes to do."""
    return [sql for sql in seen
            if (match := _MAIN_TABLE.match(sql)) is None or match.group(1) in _TABLES]


def _labelled_letter():
    letter = make_letter()
    db.session.add(CountryLabel(letter_id=letter.id, lang="fr", code="ES", label="Etat espagnol"))
    db.session.commit()
    return letter


def _warm(client) -> None:
    """A first signature: the process's first use of the address key stores it, once."""
    client.post("/letters/appeal/sign", data=sign_form(email="first@example.org"))
    db.session.close()


def test_a_new_signature_takes_three_statements_and_one_read_of_the_letter(client, app):
    _labelled_letter()
    _warm(client)
    with statements() as seen:
        response = client.post("/letters/appeal/sign?lang=fr", data=sign_form(country="ES"))
    assert response.status_code == 303
    # The letter (its texts are not needed), the signature (the unique key tells a
    # duplicate: no lookup first), the outbox row: the mail (and the labels its listing
    # names the country with) is rendered at delivery.
    assert len(_ours(seen)) == 3, "\n".join(s[:90] for s in seen)
    assert not _reads_of("signature", seen)
    assert len(_reads_of("letter", seen)) == 1
    assert not _reads_of("letter_text", seen)
    assert not _reads_of("letter_label", seen)
    [mail] = mails_to("contact@free120.example")
    assert "Etat espagnol" in rendered(mail).text  # the labels still name the country


def test_a_duplicate_reads_the_letter_once(client, app):
    make_letter()
    _warm(client)
    client.post("/letters/appeal/sign", data=sign_form())
    db.session.close()
    with statements() as seen:
        assert client.post("/letters/appeal/sign", data=sign_form(name="Other")).status_code == 303
    assert len(_reads_of("letter", seen)) == 1
    # Also: the insert the unique key turned down, the lookup, the lock, the row under it,
    # its counters, its versions, the new version; the outbox row (no labels: the mail is
    # rendered at delivery). On PostgreSQL the new signature's mail is sent with its insert,
    # before the answer, and finds no row with its nonce: it adds nothing.
    turned_down_mail = 1 if db.engine.dialect.name == "postgresql" else 0
    assert len(_ours(seen)) == 9 + turned_down_mail, seen
    assert len(mails_to("contact@free120.example")) == 2
    assert len(mails_to("contact@free120.example")) == 2


def test_an_address_with_an_older_hash_is_looked_up_before_the_insert(client, app):
    """A tagged address was hashed unfolded before duplicate_key(): that hash escapes the
    unique key, so the lookup comes first, and finds the old signature."""
    letter = make_letter()
    old = make_signature(letter, name="Alice Old")
    old.email_hash = addresses.keyed_hash("alice+petition@example.org", "email")
    db.session.commit()
    _warm(client)
    with statements() as seen:
        assert client.post("/letters/appeal/sign", data=sign_form(
            name="Alice New", email="alice+petition@example.org")).status_code == 303
    assert _reads_of("signature", seen)[0].startswith("SELECT signature.id, signature.email_hash")
    assert not [sql for sql in seen if sql.startswith("INSERT INTO signature ")]
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 2  # warm + old


def test_a_form_shown_again_names_countries_with_the_letters_labels(client, app):
    _labelled_letter()
    page = client.post("/letters/appeal/sign?lang=fr", data=sign_form(email="not an address"))
    assert page.status_code == 400
    assert '<option value="ES">Etat espagnol</option>' in page.get_data(as_text=True)
    shown = client.get("/letters/appeal?lang=fr").get_data(as_text=True)
    assert '<option value="ES">Etat espagnol</option>' in shown


def test_confirming_takes_three_statements_and_no_lazy_load(client, app):
    _labelled_letter()
    client.post("/letters/appeal/sign?lang=fr", data=sign_form(country="ES"))
    token = confirm_token_from(mails_to("contact@free120.example")[0])
    db.session.close()
    with statements() as seen:
        page = client.post(f"/confirm/{token}?lang=fr")
    assert page.status_code == 200
    assert "Etat espagnol" in page.get_data(as_text=True)
    # Read (the signature, its letter, the texts and the labels for its country joined),
    # update, the list version; the page shows the rows read before the commit, not read
    # again. Mailed once: no version, no waiting mail to look for.
    assert len(_ours(seen)) == 3, seen
    assert not [sql for sql in seen if sql.startswith("DELETE")]
    assert not _reads_of("country_label", seen)
    assert not _reads_of("letter", seen) and not _reads_of("letter_text", seen)
    db.session.expire_all()
    assert db.session.scalar(select(Signature.status)) == CONFIRMED


def test_a_re_submission_in_another_country_is_confirmed_with_that_countrys_label(client, app):
    _labelled_letter()
    client.post("/letters/appeal/sign?lang=fr", data=sign_form(country="DE"))
    client.post("/letters/appeal/sign?lang=fr", data=sign_form(country="ES"))
    version_link = confirm_token_from(mails_to("contact@free120.example")[-1])
    page = client.post(f"/confirm/{version_link}?lang=fr").get_data(as_text=True)
    assert "Etat espagnol" in page


def test_confirming_a_signature_mailed_again_deletes_its_versions_and_waiting_mail(
        client, app):
    app.config["MAIL_PER_ADDRESS_PER_HOUR"] = 1
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form())
    client.post("/letters/appeal/sign", data=sign_form(name="Other Name"))  # waits for the cap
    first, waiting = mails_to("contact@free120.example")
    assert waiting.next_attempt_at > first.next_attempt_at
    first_id = first.id
    assert db.session.scalar(select(func.count()).select_from(SignatureVersion)) == 1
    db.session.close()
    with statements() as seen:
        assert client.post(f"/confirm/{confirm_token_from(first)}").status_code == 200
    assert len([sql for sql in seen if sql.startswith("DELETE")]) == 2, seen
    assert db.session.scalar(select(func.count()).select_from(SignatureVersion)) == 0
    assert [mail.id for mail in mails_to("contact@free120.example")] == [first_id]


def test_a_signature_mailed_again_as_its_link_is_confirmed_is_read_again_and_confirmed(
        client, app, monkeypatch):
    """A re-submission lands between the link's read (mailed once: no deletes planned) and
    the UPDATE: that UPDATE matches nothing, the link is read again, and the confirmation
    deletes the new version and the mail waiting for the cap."""
    app.config["MAIL_PER_ADDRESS_PER_HOUR"] = 1
    letter_id = make_letter().id
    client.post("/letters/appeal/sign", data=sign_form())
    [first] = mails_to("contact@free120.example")
    first_id, token = first.id, confirm_token_from(first)
    db.session.close()
    read = signing.find_link
    reads = []

    def read_then_someone_signs_again(token):
        link = read(token)
        if not reads:  # another request, committed before this one's UPDATE
            assert client.post("/letters/appeal/sign",
                               data=sign_form(name="Other Name")).status_code == 303
        reads.append(link.signature.last_mailed_at != link.signature.created_at)
        return link

    monkeypatch.setattr(signing, "find_link", read_then_someone_signs_again)
    assert client.post(f"/confirm/{token}").status_code == 200
    assert reads == [False, True]  # mailed once as first read, mailed again as read again
    db.session.expire_all()
    assert db.session.scalar(select(Signature.status)) == CONFIRMED
    assert db.session.scalar(select(func.count()).select_from(SignatureVersion)) == 0
    assert [mail.id for mail in mails_to("contact@free120.example")] == [first_id]
    assert counting.public_total(letter_id) == 1


def test_an_organisations_fold_is_stored_and_kept_up_to_date(client, app):
    letter = make_letter()
    org = make_signature(letter, name="Campagne #FREE-120")
    person = make_signature(letter, name="Jean Dupont", signer_type=INDIVIDUAL)
    assert org.name_fold == moderation.fold_name("campagne free120")
    assert person.name_fold is None
    org.name = "Amnesty International"
    db.session.commit()
    assert db.session.scalar(select(Signature.name_fold).where(Signature.id == org.id)) \
        == "amnestyinternational"
    # Confirming writes with an UPDATE statement, without the model's listener.
    client.post("/letters/appeal/sign", data=sign_form(name="Memorial Ltd."))
    token = confirm_token_from(mails_to("contact@free120.example")[0])
    assert client.post(f"/confirm/{token}").status_code == 200
    assert db.session.scalar(select(Signature.name_fold).where(Signature.name == "Memorial Ltd.")) \
        == "memorialltd"


def test_an_imported_organisation_is_found_by_the_sidestep_check(client, app, tmp_path):
    letter = make_letter(moderate_organizations=True)
    source = tmp_path / "orgs.csv"
    source.write_text("Nom;Type;Pays\nRéseau Solidarité;organisation;France\n",
                      encoding="utf-8")
    report = importing.import_signatures("appeal", source)
    assert report.imported == 1, report
    db.session.expire_all()
    imported = db.session.scalar(select(Signature))
    assert imported.name_fold == moderation.fold_name("réseau  solidarité")
    assert moderation.must_hold(letter, INDIVIDUAL, "RÉSEAU-SOLIDARITÉ")
    assert not moderation.must_hold(letter, INDIVIDUAL, "Réseau")


def test_the_sidestep_check_is_one_indexed_lookup_then_one_read_of_names(app):
    letter = make_letter(moderate_organizations=True)
    for number in range(30):
        make_signature(letter, name=f"Organisation {number}", commit=False)
    make_signature(letter, name="Held Org", moderation=MOD_HELD)
    db.session.refresh(letter)
    with statements() as seen:
        assert moderation.must_hold(letter, INDIVIDUAL, "held org")
    # The same name spelt otherwise: one indexed lookup, one id at most.
    assert len(seen) == 1 and "name_fold" in seen[0] and "LIMIT" in seen[0], seen
    with statements() as seen:
        assert not moderation.must_hold(letter, INDIVIDUAL, "Unknown Org")
    # Then look-alikes: the organisations' names, read once (their skeletons are computed
    # here, not stored), never one query per organisation.
    assert len(seen) == 2 and "LIMIT" in seen[0] and "name_fold" not in seen[1], seen


def test_the_migration_folds_existing_organisations(app, runner):
    letter = make_letter(moderate_organizations=True)
    make_signature(letter, name="Campagne #FREE120", moderation=MOD_NONE)
    make_signature(letter, name="Anne Martin", signer_type=INDIVIDUAL)
    db.session.commit()
    db.session.close()
    assert runner.invoke(args=["db", "downgrade", "0007"]).exit_code == 0
    db.engine.dispose()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    db.engine.dispose()
    rows = dict(db.session.execute(text("SELECT name, name_fold FROM signature")).all())
    assert rows == {"Campagne #FREE120": "campagnefree120", "Anne Martin": None}
    letter = db.session.merge(letter)
    assert moderation.must_hold(letter, INDIVIDUAL, "campagne free-120")


@pytest.fixture
def traced(tmp_path):
    """libpq's own trace of every connection made from now on, to one file."""
    db.session.close()
    db.engine.dispose()
    trace = tmp_path / "libpq.trace"
    with open(trace, "a") as file:  # open until the last traced connection is gone
        connections = []

        def on_connect(dbapi_connection, record):
            dbapi_connection.pgconn.trace(file.fileno())
            connections.append(dbapi_connection)

        def flush() -> None:
            """libpq writes the trace through a buffer: untracing flushes it."""
            for connection in connections:
                if not connection.closed:
                    connection.pgconn.untrace()
                    connection.pgconn.trace(file.fileno())

        event.listen(db.engine, "connect", on_connect)
        yield trace, flush
        event.remove(db.engine, "connect", on_connect)
        db.session.close()
        db.engine.dispose()


@contextmanager
def _round_trips_traced(traced, *, new_connections: bool):
    """Round trips in the block, from the trace: each is a run of messages we send followed
    by the server's answers. `new_connections`: the pool starts empty; else the block takes
    the connection an earlier request gave back (the pool's ping included)."""
    trace, flush = traced
    db.session.close()
    if new_connections:
        db.engine.dispose()
    flush()
    start = trace.stat().st_size
    counted: list[int] = []
    try:
        yield counted
    finally:
        db.session.close()
        flush()
        with open(trace) as file:
            file.seek(start)
            lines = file.read().splitlines()
        senders = [line.split("\t")[1] for line in lines
                   if line.count("\t") >= 2 and line.split("\t")[1] in ("F", "B")]
        counted.append(sum(1 for sent, answer in zip(senders, senders[1:], strict=False)
                           if (sent, answer) == ("F", "B")))


@pytest.mark.postgresql_only
@pytest.mark.parametrize("new_connections", [True, False], ids=["new", "pooled"])
def test_signing_and_confirming_take_three_round_trips_on_postgresql(client, app, traced,
                                                                     new_connections):
    """One fewer than the bare one-insert endpoint with the pool's ping (SELECT 1, BEGIN,
    the insert, COMMIT): the BEGIN that is the ping (round_trips.begin_on_checkout), a
    read, then the writes and the COMMIT (round_trips.committed_together), those that
    depend on the first write's answer checking it in SQL. The same on a connection just
    made."""
    make_letter()
    _warm(client)
    with _round_trips_traced(traced, new_connections=new_connections) as sign_trips:
        assert client.post("/letters/appeal/sign", data=sign_form()).status_code == 303
    token = confirm_token_from(mails_to("contact@free120.example")[0])
    with _round_trips_traced(traced, new_connections=new_connections) as confirm_trips:
        assert client.post(f"/confirm/{token}").status_code == 200
    # BEGIN; the letter; the allow and block lists (abuse/rules.verdict); the signature,
    # the outbox row, the abuse event + COMMIT (the trends' count only when the limiter's
    # storage says a block or domain may have reached a threshold: limits.tally())
    assert sign_trips == [4]
    # BEGIN; the link's read; the UPDATE, the list version, the count + COMMIT
    assert confirm_trips == [3]
    assert db.session.scalar(select(func.count()).select_from(Signature)
                             .where(Signature.status == CONFIRMED)) == 1


def test_a_write_that_fails_with_the_commit_leaves_nothing_written(client, app, monkeypatch):
    """A statement sent with the COMMIT (round_trips.committed_together) fails: the error is
    SQLAlchemy's, the confirmation is not committed, the next request works."""
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form())
    token = confirm_token_from(mails_to("contact@free120.example")[0])
    db.session.close()
    monkeypatch.setattr(counting, "_upsert_if_written_here",
                        lambda dialect: text("INSERT INTO no_such_table VALUES (1)"))
    with pytest.raises(DBAPIError):
        with app.test_request_context():
            signing.confirm(token)
    db.session.remove()
    assert db.session.scalar(select(Signature.status)) == PENDING
    assert db.session.scalar(select(Letter.list_version)) == 0  # the bump went back too
    monkeypatch.undo()
    assert client.post(f"/confirm/{token}").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(Signature.status)) == CONFIRMED


@pytest.mark.postgresql_only
def test_a_pooled_connection_the_server_dropped_is_replaced_at_checkout(client, app):
    """The BEGIN sent at checkout is the pool's ping (SQLAlchemy's own is off): a connection
    the server closed while it sat in the pool fails it, and the request gets a new one."""
    make_letter()
    assert db.engine.pool._pre_ping is False
    assert client.get("/letters/appeal", follow_redirects=True).status_code == 200
    db.session.close()
    dropped = db.session.scalar(text("SELECT pg_backend_pid()"))
    db.session.close()  # back to the pool
    other = create_engine(db.engine.url, poolclass=NullPool)
    with other.connect() as connection:
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
    other.dispose()
    assert client.post("/letters/appeal/sign", data=sign_form()).status_code == 303
    assert db.session.scalar(text("SELECT pg_backend_pid()")) != dropped
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 1
