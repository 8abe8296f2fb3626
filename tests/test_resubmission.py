"""A re-submission never rewrites what an earlier link confirms; links tell nothing ordered;
the per-address mail cap holds mail back instead of dropping it."""
import base64
import datetime as dt
import json
import re

import pytest
from sqlalchemy import func, select

from petition import tokens
from petition.extensions import db
from petition.models import (
    ANONYMOUS,
    CONFIRMED,
    INITIALS,
    MAIL_QUEUED,
    OutboxMail,
    Signature,
    SignatureVersion,
    utcnow,
)
from petition.signatures import signing
from petition.signatures.submissions import Submission
from tests.factories import make_letter, make_signature
from tests.helpers import confirm_token_from, mails_to, outbox, rendered, sign_form

OWNER = "olga@example.org"


def individual(**overrides) -> dict:
    values = dict(signer_type="individual", name="Olga Dmitrieva", country="RU", email=OWNER,
                  display="anonymous")
    return sign_form(**{**values, **overrides})


def payload(token: str) -> list:
    """What anyone can read in a link without the key: the JSON before the signature."""
    body = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def link_of(mail: OutboxMail) -> str:
    return confirm_token_from(mail)


def test_links_carry_nothing_ordered_whoever_signed_before(client, app):
    """Own address, the target's (already signed), own again: the links tell nothing."""
    letter = make_letter()
    make_signature(letter, email="target@example.org")
    for _ in range(30):  # rows before ours, as on a live letter
        make_signature(letter)
    first = client.post("/letters/appeal/sign", data=sign_form(email="me.one@example.org"))
    middle = client.post("/letters/appeal/sign", data=sign_form(email="target@example.org"))
    last = client.post("/letters/appeal/sign", data=sign_form(email="me.two@example.org"))
    # The same answer whatever the target's history.
    assert first.status_code == middle.status_code == last.status_code == 303
    assert first.location == middle.location == last.location
    links = [link_of(mails_to("me.one@example.org")[0]), link_of(mails_to("me.two@example.org")[0])]
    ids = []
    for link in links:
        public_id, nonce = payload(link)
        # Two random strings: no row id, no counter, no time.
        assert re.fullmatch(r"[a-z2-7]{24}", public_id) and re.fullmatch(r"[0-9a-f]{32}", nonce)
        assert tokens.read_confirm_token(link) == (public_id, nonce)
        ids.append(public_id)
    # The row ids behind them depend on the target's history (32 and 33 on SQLite; on
    # PostgreSQL the insert the unique key turned down used up a sequence number: 32 and
    # 34): an old link held that row id. These hold neither number nor anything to subtract.
    rows = {s.public_id: s.id for s in db.session.scalars(select(Signature))}
    assert rows[ids[0]] == 32 and rows[ids[1]] in (33, 34)


def test_a_stranger_cannot_turn_counted_only_into_listed_in_full(client, app):
    make_letter()
    client.post("/letters/appeal/sign", data=individual())
    # A stranger who knows the address re-submits it, asking for the full name.
    client.post("/letters/appeal/sign", data=individual(display="full", name="Olga Dmitrieva",
                                                        affiliation="Memorial"))
    first, second = mails_to(OWNER)
    assert "Counted, not listed (under Russia)" in rendered(first).text
    assert "Listed as: Olga Dmitrieva, Memorial, under Russia" in rendered(second).text
    owner_link, stranger_link = link_of(first), link_of(second)  # both mails delivered
    # The owner's link shows, and confirms, the owner's version.
    shown = page_text(client.get(f"/confirm/{owner_link}?lang=en"))
    assert "Counted, not listed (under Russia)" in shown and "Memorial" not in shown
    done = page_text(client.post(f"/confirm/{owner_link}?lang=en"))
    assert "Counted, not listed (under Russia)" in done
    signature = db.session.scalar(select(Signature))
    db.session.refresh(signature)
    assert (signature.status, signature.display, signature.affiliation) == (
        CONFIRMED, ANONYMOUS, None)
    assert db.session.scalar(select(func.count(SignatureVersion.id))) == 0
    # The stranger's link now only says it is done, and changes nothing.
    assert "already confirmed" in page_text(client.post(f"/confirm/{stranger_link}?lang=en"))
    db.session.refresh(signature)
    assert signature.display == ANONYMOUS
    page = page_text(client.get("/letters/appeal?lang=en"))
    assert "Olga" not in page and "Memorial" not in page


def test_a_correction_by_the_owner_arrives_and_confirms_what_it_shows(client, app):
    make_letter()
    client.post("/letters/appeal/sign", data=individual(display="full", name="Olga Dmitrijeva"))
    client.post("/letters/appeal/sign", data=individual(display="initials"))
    assert len(mails_to(OWNER)) == 2
    correction = link_of(mails_to(OWNER)[1])
    shown = page_text(client.get(f"/confirm/{correction}?lang=en"))
    assert "Listed as: O. D., under Russia" in shown and "As an individual" in shown
    client.post(f"/confirm/{correction}")
    signature = db.session.scalar(select(Signature))
    db.session.refresh(signature)
    assert (Submission.of(signature).name, signature.display) == ("Olga Dmitrieva", INITIALS)
    assert signature.name == "O. D."  # the real name only encrypted
    assert "O. D." in page_text(client.get("/letters/appeal?lang=en"))


def test_the_same_details_again_resend_the_same_link(client, app):
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form())
    client.post("/letters/appeal/sign", data=sign_form())
    first, second = outbox("confirm")
    assert link_of(first) == link_of(second)
    assert db.session.scalar(select(func.count(SignatureVersion.id))) == 0
    assert "As an organisation" in page_text(client.get(f"/confirm/{link_of(first)}?lang=en"))


def test_a_few_mails_an_hour_then_the_latest_waits_for_the_hour(client, app):
    make_letter()
    limit = app.config["MAIL_PER_ADDRESS_PER_HOUR"]
    assert limit == 5
    answers = [client.post("/letters/appeal/sign", data=individual(name=f"Olga {n}"))
               for n in range(limit + 3)]
    # Every visitor sees the same page, mailed now or later.
    assert {(a.status_code, a.location) for a in answers} == {
        (303, "/letters/appeal/check-your-mail")}
    now = utcnow()
    mails = mails_to(OWNER)
    due = [m for m in mails if m.next_attempt_at <= now]
    waiting = [m for m in mails if m.next_attempt_at > now]
    assert len(due) == limit and len(waiting) == 1
    # The one that waits is the latest request, sent when the hour of the first is over.
    signature = db.session.scalar(select(Signature))
    latest = db.session.scalar(select(SignatureVersion).order_by(SignatureVersion.id.desc()))
    assert waiting[0].link_nonce == latest.nonce and latest.mail_id == waiting[0].id
    hour_later = signature.created_at + dt.timedelta(hours=1)
    assert abs(waiting[0].next_attempt_at - hour_later) < dt.timedelta(seconds=1)
    # Replaced versions are gone with their mail; the rest keep their links.
    assert db.session.scalar(select(func.count(SignatureVersion.id))) == limit
    # The page says so, for everyone alike.
    check = page_text(client.get("/letters/appeal/check-your-mail?lang=en"))
    assert "at most 5 messages an hour" in check
    # Confirming drops the mail that waits: its link could only say "already confirmed".
    client.post(f"/confirm/{link_of(due[0])}")
    assert [m.id for m in mails_to(OWNER)] == [m.id for m in due]


def test_the_waiting_mail_counts_in_the_next_hour(app):
    make_letter()
    form = dict(signer_type="organization", country="FR", email="x@example.org", lang="fr")
    for n in range(6):  # five now, one waiting for the hour
        signing.sign("appeal", signing.SignatureDetails(name=f"Org {n}", **form))
    # Let 61 minutes pass: the waiting mail goes out, and it counts in its own hour.
    signature = db.session.scalar(select(Signature))
    signature.mail_window_start -= dt.timedelta(minutes=61)
    db.session.commit()
    for mail in outbox():
        mail.next_attempt_at -= dt.timedelta(minutes=61)
    db.session.commit()
    for n in range(6, 12):
        signing.sign("appeal", signing.SignatureDetails(name=f"Org {n}", **form))
    now = utcnow()
    in_last_hour = [m for m in outbox() if now - dt.timedelta(hours=1) < m.next_attempt_at <= now]
    assert len(in_last_hour) == 5
    assert len([m for m in outbox() if m.next_attempt_at > now]) == 1


def test_a_mail_retrying_after_a_failure_is_never_replaced(app):
    make_letter()
    form = dict(signer_type="organization", country="FR", email="x@example.org", lang="fr")
    signing.sign("appeal", signing.SignatureDetails(name="Org 0", **form))
    mail = outbox()[0]
    mail.attempts, mail.next_attempt_at = 1, utcnow() + dt.timedelta(minutes=30)
    db.session.commit()
    for n in range(1, 8):
        signing.sign("appeal", signing.SignatureDetails(name=f"Org {n}", **form))
    assert mail.id in [m.id for m in outbox()]
    assert all(m.status == MAIL_QUEUED for m in outbox())


@pytest.mark.parametrize("lang, expected", [
    ("fr", "Affiché ainsi : О. Д., sous « Russie »"),
    ("ru", "Будет указано: О. Д., в разделе «Россия»"),
])
def test_the_confirm_page_says_how_the_signature_will_appear_in_the_signers_language(
        client, app, lang, expected):
    make_letter()
    client.post(f"/letters/appeal/sign?lang={lang}",
                data=individual(name="Ольга Дмитриева", display="initials"))
    [mail] = mails_to(OWNER)
    assert expected in rendered(mail).text
    assert expected in page_text(client.get(f"/confirm/{link_of(mail)}?lang={lang}"))
