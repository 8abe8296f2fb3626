"""letter_count: changed with every public change, equal to a fresh count of the rows."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import inspect, text

from petition import tokens
from petition.extensions import db
from petition.letters import counting
from petition.letters import operations as letters
from petition.models import Letter, LetterCount, Signature, utcnow
from petition.privacy import retention
from petition.signatures import curation, importing, moderation, signing, withdrawal
from tests.factories import make_letter, make_signature
from tests.helpers import confirm_token_from, outbox

# Counted independently of counting.py: plain SQL over the rows, as a reader would write it.
FRESH_COUNT = text("""
    SELECT signer_type, country,
           SUM(CASE WHEN signer_type = 'organization' OR display <> 'anonymous' THEN 1 ELSE 0 END),
           SUM(CASE WHEN signer_type = 'individual' AND display = 'anonymous' THEN 1 ELSE 0 END)
    FROM signature
    WHERE letter_id = :letter AND status = 'confirmed' AND moderation IN ('none', 'approved')
    GROUP BY signer_type, country
""")


def fresh_count(letter_id: int) -> dict[tuple[str, str], tuple[int, int]]:
    rows = db.session.execute(FRESH_COUNT, {"letter": letter_id})
    return {(kind, country): (int(listed), int(unlisted))
            for kind, country, listed, unlisted in rows}


def assert_exact(letter: Letter, total: int) -> None:
    db.session.expire_all()
    assert counting.table(letter.id) == fresh_count(letter.id)
    assert counting.public_total(letter.id) == total


def sign_and_confirm(email: str, **fields) -> Signature:
    values = dict(signer_type="individual", name="Ada Lovelace", country="GB", email=email,
                  lang="fr", display="full")
    values.update(fields)
    signing.sign("appeal", signing.SignatureDetails(**values))
    return signing.confirm(confirm_token_from(outbox()[-1]))


def test_every_public_change_keeps_the_counts_exact(app):
    letter = make_letter(moderate_organizations=True)
    slug = letter.slug
    assert_exact(letter, 0)

    ada = sign_and_confirm("ada@example.org")
    assert_exact(letter, 1)
    sign_and_confirm("anon@example.org", name="Hidden Person", country="DE", display="anonymous")
    assert counting.table(letter.id)[("individual", "DE")] == (0, 1)
    assert_exact(letter, 2)
    org = sign_and_confirm("org@example.org", signer_type="organization", name="Memorial",
                           country="RU")  # held: moderated letter
    assert_exact(letter, 2)

    moderation.approve(slug, [org.public_id])
    assert_exact(letter, 3)
    moderation.hide(slug, [org.public_id])
    assert_exact(letter, 2)
    moderation.approve(slug, [org.public_id])  # unhide
    assert_exact(letter, 3)
    moderation.reject(slug, [org.public_id])
    assert_exact(letter, 2)
    moderation.approve(slug, [org.public_id])
    assert_exact(letter, 3)

    curation.correct(letter, ada.public_id, country="FR")
    assert ("individual", "GB") not in counting.table(letter.id)
    assert_exact(letter, 3)
    curation.correct(letter, ada.public_id, name="Ada King")  # same country: counts stay
    assert_exact(letter, 3)

    paris = curation.add_manual(letter, signer_type="organization", name="Memorial Paris",
                                affiliation=None, country="FR", display="full",
                                provenance="sent by post").public_ids[0]
    paper = curation.add_manual(letter, signer_type="individual", name="Paper Signer",
                                affiliation=None, country="FR", display="initials",
                                provenance="paper list").public_ids[0]
    assert_exact(letter, 5)
    curation.merge(letter, org.public_id, paris)
    assert_exact(letter, 4)
    curation.delete(letter, paper)
    assert_exact(letter, 3)

    report = importing.import_file(slug, b"Nom;Type;Pays\nLinke SDS;organisation;DE\n"
                                   b"Jean Dupont;personne;FR\n", "list.csv")
    assert report.imported == 2
    assert_exact(letter, 5)
    filters = curation.Filters(country="DE")
    curation.bulk(letter, filters, "hide", curation.bulk_count(letter, filters, "hide"))
    assert_exact(letter, 3)
    curation.bulk(letter, curation.Filters(country="FR"), "delete",
                  curation.bulk_count(letter, curation.Filters(country="FR"), "delete"))
    assert_exact(letter, 1)  # Memorial (RU) is left

    bob = sign_and_confirm("bob@example.org", name="Bob", country="UA")
    assert_exact(letter, 2)
    withdrawal.withdraw(tokens.withdraw_token(bob.public_id))
    assert_exact(letter, 1)

    signing.sign(slug, signing.SignatureDetails(signer_type="individual", name="Pending",
                                                country="PL", email="pending@example.org",
                                                lang="fr"))
    retention.purge_unconfirmed(now=utcnow() + dt.timedelta(days=30))
    assert_exact(letter, 1)
    letters.set_status(slug, "closed")
    retention.run(now=utcnow() + dt.timedelta(days=400))
    assert_exact(letter, 1)
    assert counting.table(letter.id) == {("organization", "RU"): (1, 0)}
    assert counting.rebuild(db.session.get(Letter, letter.id)) == []  # nothing drifted


def test_the_page_json_and_index_read_the_counts(client, app):
    letter = make_letter()
    make_signature(letter, country="FR")
    make_signature(letter, country="FR", signer_type="individual", display="anonymous")
    # Kept counts are what the public reads: a count changed behind the use cases shows.
    db.session.execute(LetterCount.__table__.update().where(LetterCount.country == "FR",
                                                          LetterCount.signer_type == "organization")
                       .values(listed=41))
    db.session.commit()
    assert client.get("/letters/appeal.json").get_json()["by_country"][0]["count"] == 42
    assert "42" in client.get("/", follow_redirects=True).get_data(as_text=True)


def test_rebuild_reports_and_fixes_drift(app, runner):
    letter = make_letter()
    make_signature(letter, country="FR")
    make_signature(letter, country="DE", signer_type="individual", display="anonymous")
    db.session.execute(LetterCount.__table__.delete().where(LetterCount.country == "DE"))
    db.session.execute(LetterCount.__table__.insert().values(
        letter_id=letter.id, country="IT", signer_type="organization", listed=3, unlisted=0))
    db.session.commit()
    version = letters.get_letter("appeal").list_version
    result = runner.invoke(args=["counts", "rebuild"])
    assert result.exit_code == 0, result.output
    output = result.output
    assert "appeal: individual DE: kept 0 listed + 0 unlisted, counted 0 + 1: fixed." in output
    assert "appeal: organization IT: kept 3 listed + 0 unlisted, counted 0 + 0: fixed." in output
    assert "2 count(s) drifted and fixed." in result.output
    db.session.expire_all()
    assert counting.table(letter.id) == fresh_count(letter.id)
    assert letters.get_letter("appeal").list_version > version  # caches drop the wrong counts
    again = runner.invoke(args=["counts", "rebuild"])
    assert "Every count matches the signatures." in again.output


def test_the_migration_counts_existing_rows(app, runner):
    letter = make_letter()
    for country, kind, display in [("FR", "organization", "full"),
                                   ("FR", "individual", "full"),
                                   ("FR", "individual", "anonymous"),
                                   ("DE", "individual", "initials")]:
        make_signature(letter, country=country, signer_type=kind, display=display)
    make_signature(letter, country="DE", status="pending")
    make_signature(letter, country="DE", moderation="held")
    letter_id = letter.id
    db.session.remove()
    assert runner.invoke(args=["db", "downgrade", "0008"]).exit_code == 0  # letter_count goes
    db.engine.dispose()
    assert "letter_count" not in inspect(db.engine).get_table_names()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    db.engine.dispose()
    assert counting.table(letter_id) == fresh_count(letter_id) == {
        ("organization", "FR"): (1, 0), ("individual", "FR"): (1, 1), ("individual", "DE"): (1, 0)}


@pytest.mark.postgresql_only
def test_concurrent_confirmations_lose_no_count(app):
    """Sessions confirming at once on PostgreSQL: every confirmation is counted once."""
    make_letter()
    workers = 8
    tokens_ = []
    for number in range(workers):
        signing.sign("appeal", signing.SignatureDetails(
            signer_type="individual", name=f"Signer {number}", country="FR",
            email=f"signer{number}@example.org", lang="fr"))
        tokens_.append(confirm_token_from(outbox()[-1]))
    db.session.remove()
    barrier = threading.Barrier(workers)
    errors: list[Exception] = []

    def click(token: str) -> None:
        with app.app_context():
            barrier.wait()
            try:
                signing.confirm(token)
            except Exception as error:  # collected and asserted on below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=click, args=(token,)) for token in tokens_]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    letter_id = letters.get_letter("appeal").id
    expected = {("individual", "FR"): (workers, 0)}
    assert counting.table(letter_id) == fresh_count(letter_id) == expected


def test_past_the_limit_the_page_counts_individuals_from_the_kept_counts(client, app):
    app.config["PUBLIC_NAMES_LIMIT"] = 1
    letter = make_letter()
    make_signature(letter, name="Zeta Union", country="FR")
    make_signature(letter, name="Alpha Union", country="FR")
    for number, display in enumerate(["full", "initials", "anonymous"]):
        make_signature(letter, signer_type="individual", name=f"Person {number}", country="DE",
                       display=display)
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert "Too many to list" in page and "Person 0" not in page and "P. 1." not in page
    assert page.index("Alpha Union") < page.index("Zeta Union")  # the one ordering
    assert '<span class="count">3</span>' in page and "5 signatures" in page
    # The individuals' figures come from letter_count, not from their rows.
    db.session.execute(LetterCount.__table__.update().where(
        LetterCount.signer_type == "individual").values(listed=40, unlisted=1))
    letters.bump_list_version(db.session.get(Letter, letter.id))
    db.session.commit()
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert '<span class="count">41</span>' in page and "43 signatures" in page
    full = client.get("/letters/appeal/signatories.txt?lang=en").get_data(as_text=True)
    assert "Person 0" in full and "P. 1." in full  # the press list has them all


def test_past_the_limit_an_embargo_still_hides_the_list(client, app):
    app.config["PUBLIC_NAMES_LIMIT"] = 0
    letter = make_letter(embargo_until=utcnow() + dt.timedelta(days=1))
    make_signature(letter, name="Alpha Union", country="FR")
    make_signature(letter, signer_type="individual", name="Person", country="DE")
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert "Alpha Union" not in page and "Too many to list" not in page
    assert 'id="count-heading"' not in page  # nor the count: not chosen for this letter


def test_past_the_limit_the_page_follows_every_change(client, app):
    app.config["PUBLIC_NAMES_LIMIT"] = 0
    letter = make_letter()
    union = make_signature(letter, name="Alpha Union", country="FR")
    make_signature(letter, signer_type="individual", name="Person", country="DE")

    def page() -> str:
        return client.get("/letters/appeal?lang=en").get_data(as_text=True)

    assert "Alpha Union" in page() and "2 signatures" in page()
    organizations_version = db.session.get(Letter, letter.id).organizations_version
    sign_and_confirm("ind@example.org", name="Someone", country="DE")
    assert "Alpha Union" in page() and "3 signatures" in page()
    db.session.expire_all()
    # An individual's confirmation leaves the organisations' names as they were built.
    assert db.session.get(Letter, letter.id).organizations_version == organizations_version
    curation.correct(db.session.get(Letter, letter.id), union.public_id, name="Beta Union")
    assert "Beta Union" in page() and "Alpha Union" not in page()
    letters.set_label("appeal", lang="en", code="FR", label="The Hexagon")
    assert "The Hexagon" in page()
    sign_and_confirm("org@example.org", signer_type="organization", name="Gamma Union",
                     country="FR")
    assert "Gamma Union" in page() and "4 signatures" in page()
    moderation.hide("appeal", [union.public_id])
    assert "Beta Union" not in page() and "3 signatures" in page()
