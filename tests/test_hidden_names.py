"""Real names of those listed by initials or not at all: encrypted at rest, shown where due."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import column, insert, select, text
from sqlalchemy import table as bare_table

from petition import addresses
from petition.collation import stored_key
from petition.exporting.grouping import group_signatories, listed_name
from petition.extensions import db
from petition.mail import dispatcher
from petition.models import (
    ANONYMOUS,
    CONFIRMED,
    DISPLAY_CHOICES,
    FULL,
    INDIVIDUAL,
    INITIALS,
    ORGANIZATION,
    Signature,
    SignatureVersion,
    list_key,
    utcnow,
)
from petition.models.accounts import KeyMaterial
from petition.privacy import hidden_names
from petition.signatures.submissions import Submission
from tests.factories import make_letter, make_signature
from tests.helpers import confirm_token_from, mails_to, rendered, sign_form

# What must never sit in the database in clear: the real names and affiliations.
SECRETS = ("Jean-Paul", "Sartre", "Collège de France", "Simone", "Weil", "Lycée du Puy",
           "Beauvoir", "Sorbonne")


def individual(**overrides) -> dict:
    return sign_form(**{"signer_type": "individual", "country": "FR", **overrides})


def sign_and_confirm(client) -> None:
    """Initials, and counted only (re-submitted once while pending: a version row)."""
    client.post("/letters/appeal/sign", data=individual(
        name="Jean-Paul Sartre", affiliation="Collège de France", display=INITIALS,
        email="jps@example.org"))
    client.post("/letters/appeal/sign", data=individual(
        name="Simone de Beauvoir", affiliation="Sorbonne", display=ANONYMOUS,
        email="sw@example.org"))
    client.post("/letters/appeal/sign", data=individual(
        name="Simone Weil", affiliation="Lycée du Puy", display=ANONYMOUS,
        email="sw@example.org"))
    assert db.session.scalar(select(db.func.count(SignatureVersion.id))) == 1
    pending = stored_text()
    for secret in SECRETS:
        assert secret not in pending, secret  # not even while pending
    links = [confirm_token_from(mails_to("jps@example.org")[0]),
             confirm_token_from(mails_to("sw@example.org")[1])]
    # The mail says how the signer will appear, and greets no name: whatever was typed would
    # reach whatever address was typed (once delivered, its body is cleared).
    mail = rendered(mails_to("jps@example.org")[0]).text
    assert mail.startswith("Hello,\n") and "Listed as: J.-P. S., under France" in mail
    assert "Sartre" not in mail
    assert dispatcher.deliver_due() == 3
    page = client.get(f"/confirm/{links[0]}?lang=en").get_data(as_text=True)
    assert "Listed as: J.-P. S., under France" in page
    for link in links:
        assert client.post(f"/confirm/{link}").status_code == 200


def stored_text() -> str:
    """Every value of the signature tables, as a raw SELECT returns it."""
    values = []
    for table in ("signature", "signature_version"):
        for row in db.session.execute(text(f"SELECT * FROM {table}")):
            values.extend(repr(value) for value in row)
    return "\n".join(values)


def all_tables_text() -> str:
    """Every value of every table, as a raw SELECT returns it."""
    values = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(text(f"SELECT * FROM {table.name}")):
            values.extend(str(value) for value in row)
    return "\n".join(values)


def test_no_hidden_name_in_clear_in_the_database(client, app):
    make_letter()
    sign_and_confirm(client)
    db.session.commit()
    everything = all_tables_text()
    for secret in SECRETS:
        assert secret not in everything, secret
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        path = Path(db.engine.url.database)
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        for secret in SECRETS:
            assert secret.encode() not in raw, secret
        assert b"J.-P. S." in raw  # what the list shows is there, in clear


def test_the_list_shows_initials_counts_the_unlisted_and_sorts_by_what_it_shows(client, app):
    letter = make_letter()
    sign_and_confirm(client)
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert "J.-P. S." in page and "Sartre" not in page and "Weil" not in page
    assert client.get("/letters/appeal.json").get_json()["total"] == 2
    [section] = group_signatories(letter, "fr")
    [group] = section.groups
    assert (group.names, group.unlisted) == (["J.-P. S."], 1)
    rows = {s.display: s for s in db.session.scalars(select(Signature))}
    assert rows[INITIALS].collation_key == stored_key("J.-P. S.")
    assert rows[ANONYMOUS].collation_key is None
    assert (rows[INITIALS].name, rows[INITIALS].affiliation) == ("J.-P. S.", None)
    assert (rows[ANONYMOUS].name, rows[ANONYMOUS].affiliation) == ("", None)
    assert Submission.of(rows[ANONYMOUS]).name == "Simone Weil"  # the confirmed version


def test_the_private_spreadsheet_and_back_office_decrypt(client, app, runner):
    make_letter()
    sign_and_confirm(client)
    result = runner.invoke(args=["export", "appeal", "--format", "csv", "--private", "--out", "-"])
    assert result.exit_code == 0, result.output
    rows = {row["display"]: row for row in csv.DictReader(io.StringIO(
        result.stdout_bytes.decode("utf-8-sig")))}
    assert (rows[INITIALS]["name"], rows[INITIALS]["affiliation"]) == (
        "Jean-Paul Sartre", "Collège de France")
    assert (rows[ANONYMOUS]["name"], rows[ANONYMOUS]["affiliation"]) == (
        "Simone Weil", "Lycée du Puy")
    assert rows[INITIALS]["listed_as"] == "J.-P. S."
    public = runner.invoke(args=["export", "appeal", "--format", "csv", "--out", "-"])
    assert "Sartre" not in public.stdout_bytes.decode("utf-8-sig")


NAMES = ("Jean-Paul Sartre", "Анна  Ахматова", "X - Y", "Jean--Paul  de la Tour",
         "Bell\u0007 Hooks", " Ada   Lovelace ", "Ørsted", "é")


@pytest.mark.parametrize("display", DISPLAY_CHOICES)
def test_stored_rows_list_the_same_lines_as_the_real_names(app, display):
    letter = make_letter()
    for name in NAMES:
        make_signature(letter, signer_type=INDIVIDUAL, name=name, affiliation="Lab",
                       display=display)
    make_signature(letter, name="Some Org", affiliation="Unit")
    expected = sorted(filter(None, (listed_name(INDIVIDUAL, name, "Lab", display)
                                    for name in NAMES)))
    sections = {s.signer_type: s for s in group_signatories(letter, "fr")}
    individuals = sections[INDIVIDUAL].groups[0]
    assert sorted(individuals.names) == expected
    assert individuals.unlisted == (len(NAMES) if display == ANONYMOUS else 0)
    assert sections[ORGANIZATION].groups[0].names == ["Some Org"]
    for signature in db.session.scalars(
            select(Signature).where(Signature.signer_type == INDIVIDUAL)):
        real = Submission.of(signature)
        assert real.name in NAMES and real.affiliation == "Lab"
        assert listed_name(INDIVIDUAL, signature.name, signature.affiliation, display) == \
            listed_name(INDIVIDUAL, real.name, real.affiliation, display)
        assert signature.collation_key == list_key(INDIVIDUAL, signature.name, display)
        assert (signature.private_encrypted is None) == (display == FULL)


def test_a_correction_in_the_back_office_stays_encrypted(app):
    from petition.signatures import curation

    letter = make_letter()
    signature = make_signature(letter, signer_type=INDIVIDUAL, name="Olga Dmitrieva",
                               affiliation="Memorial", display=INITIALS)
    done = curation.correct(letter, signature.public_id, name="Olga Dmitrieva",
                            affiliation="Memorial")
    assert done.count == 0  # compared with the real values, not the stored initials
    curation.correct(letter, signature.public_id, name="Olga Smirnova", affiliation="Memorial")
    db.session.refresh(signature)
    assert (signature.name, signature.affiliation) == ("O. S.", None)
    assert hidden_names.real(signature) == ("Olga Smirnova", "Memorial")
    assert signature.collation_key == stored_key("O. S.")


def test_the_migration_encrypts_existing_rows_and_the_downgrade_decrypts(app, runner):
    letter_id = make_letter().id  # read now: the model's later columns are not there below
    db.session.rollback()  # and end that read, which would hold the tables against the downgrade
    result = runner.invoke(args=["db", "downgrade", "0006"])
    assert result.exit_code == 0, result.output
    db.session.execute(KeyMaterial.__table__.delete())  # as before 0007: derived each time
    plain = dict(letter_id=letter_id, signer_type=INDIVIDUAL, country="FR", status=CONFIRMED,
                 lang="fr", token_nonce="n" * 32, email_hash=None)
    # A bare table of the columns 0006 has: the model would add the Python defaults of
    # columns later migrations made (news, ...), which are not there yet.
    signature_0006 = bare_table("signature", *(column(name) for name in (
        "letter_id", "signer_type", "country", "status", "lang", "token_nonce", "email_hash",
        "public_id", "name", "affiliation", "display", "collation_key", "moderation", "source",
        "created_at", "updated_at", "mail_window_count")))
    now = utcnow()
    plain.update(moderation="none", source="form", created_at=now, updated_at=now,
                 mail_window_count=0, collation_key=None)
    db.session.execute(insert(signature_0006), [
        dict(plain, public_id="a" * 24, name="Jean-Paul Sartre", affiliation="Collège de France",
             display=INITIALS, collation_key=stored_key("Jean-Paul Sartre")),
        dict(plain, public_id="b" * 24, name="Simone Weil", affiliation=None, display=ANONYMOUS),
        dict(plain, public_id="c" * 24, name="Ada Lovelace", affiliation="Lab", display=FULL,
             email_hash="h" * 64),
    ])
    db.session.commit()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    rows = {s.public_id[0]: s for s in db.session.scalars(select(Signature))}
    assert (rows["a"].name, rows["a"].affiliation) == ("J.-P. S.", None)
    assert rows["a"].collation_key == stored_key("J.-P. S.")
    assert hidden_names.real(rows["a"]) == ("Jean-Paul Sartre", "Collège de France")
    assert (rows["b"].name, hidden_names.real(rows["b"])) == ("", ("Simone Weil", None))
    assert (rows["c"].name, rows["c"].private_encrypted) == ("Ada Lovelace", None)
    assert "Sartre" not in stored_text() and "Weil" not in stored_text()
    # The hash key the stored hashes were made with is kept, wrapped under EMAIL_KEY.
    wrapped = db.session.scalar(select(KeyMaterial.wrapped))
    assert addresses.fernet(app.config["EMAIL_KEY"]).decrypt(wrapped) == \
        addresses.derived_hash_key(app.config["EMAIL_KEY"])
    db.session.commit()  # end the test's read: the downgrade (0008) alters the table
    result = runner.invoke(args=["db", "downgrade", "0006"])
    assert result.exit_code == 0, result.output
    back = {row.public_id[0]: row for row in db.session.execute(
        text("SELECT public_id, name, affiliation, private_encrypted FROM signature"))}
    assert (back["a"].name, back["a"].affiliation, back["a"].private_encrypted) == (
        "Jean-Paul Sartre", "Collège de France", None)
    assert back["b"].name == "Simone Weil"
    db.session.commit()  # end the read: the upgrade (0008) alters the table
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0


def test_the_hidden_token_is_plain_fernet_under_email_key(app):
    sealed = hidden_names.seal(INDIVIDUAL, "Jean-Paul Sartre", None, INITIALS)
    assert addresses.decrypt(sealed["private_encrypted"]) == (
        '{"name":"Jean-Paul Sartre","affiliation":null}')
    assert re.fullmatch(r"[A-Z.\- ]+", sealed["name"])
