"""Milestones: set by the organisers (25/50/75/100 % of the goal by default), recorded once
with their time when a confirmation (or an approval, or a drive letter) crosses them, mailed
once to the letter's organisers through the outbox, shown on the page and in the JSON."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from petition import addresses
from petition.core.pipelining import statements_sent
from petition.dates import long_date
from petition.extensions import db
from petition.letters import milestones
from petition.letters import operations as letters
from petition.letters.values import LetterError, parse_milestones
from petition.mail.outbox import MILESTONE_REQUEST
from petition.models import LetterMilestone, OutboxMail, utcnow
from petition.signatures import signing
from tests.admin_helpers import make_account, signed_in_client
from tests.factories import make_letter, make_signature
from tests.helpers import confirm_token_from, outbox, rendered


def _reached(letter_id: int) -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(select(LetterMilestone.threshold)
                                   .where(LetterMilestone.letter_id == letter_id)
                                   .order_by(LetterMilestone.threshold)))


def _sign(letter, number: int) -> str:
    """Sign as a new address; the confirmation link's token."""
    signing.sign(letter.slug, signing.SignatureDetails(
        signer_type="organization", name=f"Organisation {number}", country="DE",
        email=f"org{number}@example.org", lang="en"))
    return confirm_token_from(outbox("confirm")[-1])


# --- Parsing and thresholds ------------------------------------------------------------

@pytest.mark.parametrize("typed, stored", [
    ("25%,50%,75%,100%", "25%,50%,75%,100%"),
    ("500, 1000", "500,1000"),
    ("1 000; 25 %, 500,", "500,1000,25%"),
    ("1000,500,1000", "500,1000"),
    ("", None),
    ("default", None),
])
def test_milestones_as_typed_are_stored_in_one_form(typed, stored):
    assert parse_milestones(typed) == stored


@pytest.mark.parametrize("typed, message", [
    ("many", "'many' is not a milestone"),
    ("12.5%", "is not a milestone"),
    ("0", "from 1 to"),
    ("2000%", "from 1% to 1000%"),
    ("²", "is not a milestone"),
    (",".join(str(n) for n in range(1, 23)), "at most 20 milestones"),
])
def test_bad_milestones_are_refused_with_a_reason(typed, message):
    with pytest.raises(LetterError) as refused:
        parse_milestones(typed)
    assert message in str(refused.value)


def test_thresholds_default_to_quarters_of_the_goal(app):
    assert milestones.thresholds(make_letter(goal=1000)) == (250, 500, 750, 1000)
    assert milestones.thresholds(make_letter("odd", goal=999)) == (250, 500, 750, 999)
    assert milestones.thresholds(make_letter("no-goal")) == ()  # no goal, no defaults
    assert milestones.thresholds(make_letter("own", milestones="500,1000,50%")) == (500, 1000)
    assert milestones.thresholds(make_letter("mixed", goal=4000,
                                             milestones="500,50%")) == (500, 2000)


# --- Recording a crossing --------------------------------------------------------------

def test_a_confirmation_crossing_a_threshold_records_it_and_queues_one_request(app):
    letter = make_letter(goal=4, lang="en")  # thresholds 1, 2, 3, 4
    first, second = _sign(letter, 1), _sign(letter, 2)
    before = utcnow()
    signing.confirm(first)
    assert _reached(letter.id) == [1]
    assert len(outbox(MILESTONE_REQUEST)) == 1
    signing.confirm(second)
    assert _reached(letter.id) == [1, 2]
    requests = outbox(MILESTONE_REQUEST)
    assert len(requests) == 2 and all(mail.recipient_encrypted is None for mail in requests)
    row = db.session.scalars(select(LetterMilestone).where(LetterMilestone.threshold == 2)).one()
    assert before <= row.reached_at <= utcnow()


def test_a_threshold_is_recorded_and_mailed_once_even_when_crossed_again(app):
    letter = make_letter(goal=4, lang="en")
    token = _sign(letter, 1)
    # Reached already (say, before a withdrawal): the conflict adds nothing and raises nothing.
    db.session.add(LetterMilestone(letter_id=letter.id, threshold=1,
                                   reached_at=dt.datetime(2026, 1, 1)))
    db.session.commit()
    signing.confirm(token)
    assert _reached(letter.id) == [1]
    assert outbox(MILESTONE_REQUEST) == []
    assert db.session.scalars(select(LetterMilestone.reached_at)).one() == dt.datetime(2026, 1, 1)


def test_a_letter_without_thresholds_sends_no_milestone_statement(app):
    letter = make_letter(lang="en")  # no goal, no milestones of its own
    token = _sign(letter, 1)
    with statements_sent(db.engine) as sent:
        signing.confirm(token)
    assert not [statement for statement in sent if "letter_milestone" in statement]
    assert _reached(letter.id) == []


def test_a_letter_past_its_last_milestone_skips_the_check_once_seen(app, client):
    letter = make_letter(goal=1, lang="en")
    make_signature(letter)  # reaches its only milestone
    token = _sign(letter, 2)
    assert "1 signature on" in client.get("/letters/appeal?lang=en").get_data(as_text=True)
    with statements_sent(db.engine) as sent:
        signing.confirm(token)
    assert not [statement for statement in sent if "letter_milestone" in statement]


def test_an_approval_or_import_crossing_thresholds_records_each(app):
    letter = make_letter(milestones="2,3,10", lang="en")
    for _ in range(3):
        make_signature(letter)  # counted through counting.changed(), as approvals are
    assert _reached(letter.id) == [2, 3]
    assert len(outbox(MILESTONE_REQUEST)) == 2


def test_a_drive_letter_confirmed_counts_toward_the_drive_milestones(app):
    from petition.drive import writing
    from tests.drive_helpers import confirm_token, details, make_drive

    drive = make_drive(goal=4)  # 1, 2, 3, 4 letters
    make_account("admin@example.org", "admin")
    writing.write(drive.slug, details())
    writing.confirm(confirm_token())
    assert _reached(drive.id) == [1]
    assert len(outbox(MILESTONE_REQUEST)) == 1
    milestones.expand_requests()
    content = rendered(outbox(milestones.MILESTONE_MAIL)[0])  # in the drive's Russian
    assert content.subject == "Рубеж: 1 письмо для «1000 писем Азату»"
    assert "Кампания «1000 писем Азату»: 1 письмо на" in content.text


def test_a_milestone_mail_goes_to_the_organisers_in_the_letters_language(app):
    letter = make_letter(goal=4, lang="fr", title="Libérez-le")
    make_account("org@example.org", "organiser", ("appeal",))
    make_account("admin@example.org", "admin", ("appeal",))
    make_account("other@example.org", "organiser")  # not given this letter
    make_account("press@example.org", "press", ("appeal",))
    signing.confirm(_sign(letter, 1))
    assert milestones.expand_requests() == 1
    assert milestones.expand_requests() == 0  # a request is expanded once
    mails = outbox(milestones.MILESTONE_MAIL)
    assert sorted(addresses.decrypt(mail.recipient_encrypted) for mail in mails) == \
        ["admin@example.org", "org@example.org"]
    assert outbox(MILESTONE_REQUEST) == []
    content = rendered(mails[0])
    assert content.subject == "Étape : 1 signature pour « Libérez-le »"
    today = long_date(utcnow().date(), "fr")
    assert f"La lettre « Libérez-le » a atteint 1 signature le {today}." in content.text
    assert "http://localhost/admin/letters/appeal" in content.text
    assert content.html is not None and "Libérez-le" in content.html


def test_a_letter_nobody_was_given_is_mailed_to_the_admins_in_russian(app):
    letter = make_letter(goal=1, lang="ru", title="Свободу")
    make_account("admin@example.org", "admin")
    make_account("off@example.org", "admin")
    letters.update_letter(letter.slug, goal=1)
    from petition.accounts import operations as accounts
    accounts.disable_account("off@example.org")
    signing.confirm(_sign(letter, 1))
    milestones.expand_requests()
    mails = outbox(milestones.MILESTONE_MAIL)
    assert [addresses.decrypt(mail.recipient_encrypted) for mail in mails] == \
        ["admin@example.org"]
    text = rendered(mails[0]).text
    assert "г.." not in text and "Письмо «Свободу»: 1 подпись на" in text


def test_the_mail_worker_expands_and_sends_milestone_mails(app):
    from petition.mail import dispatcher

    letter = make_letter(goal=1, lang="en", title="Free him")
    make_account("org@example.org", "organiser", ("appeal",))
    signing.confirm(_sign(letter, 1))
    dispatcher.dispatch(limit=None)  # console mail: sends all, the request first expanded
    sent = [mail for mail in outbox(milestones.MILESTONE_MAIL)]
    assert [mail.status for mail in sent] == ["sent"]
    assert sent[0].subject == "Milestone: 1 signature on “Free him”"


def test_no_mail_when_nobody_can_receive_it(app):
    letter = make_letter(goal=1, lang="en")
    signing.confirm(_sign(letter, 1))
    assert milestones.expand_requests() == 1
    assert outbox(milestones.MILESTONE_MAIL) == [] and outbox(MILESTONE_REQUEST) == []


# --- Shown on the page and in the JSON -------------------------------------------------

def test_the_page_and_json_show_reached_milestones_in_each_language(app, client):
    letter = make_letter(milestones="2,5", lang="en")
    make_signature(letter)
    make_signature(letter)
    day = utcnow().date()
    en = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert f"2 signatures on {long_date(day, 'en')}" in en
    assert "5 signatures on" not in en
    fr = client.get("/letters/appeal?lang=fr").get_data(as_text=True)
    assert f"2 signatures le {long_date(day, 'fr')}" in fr
    ru = client.get("/letters/appeal?lang=ru").get_data(as_text=True)
    assert f"2 подписи — {long_date(day, 'ru')}" in ru
    data = client.get("/letters/appeal.json").get_json()
    assert [item["threshold"] for item in data["milestones"]] == [2]
    assert data["milestones"][0]["reached_at"].startswith(day.isoformat())
    # A threshold the organisers remove is no longer shown (and stays recorded).
    letters.update_letter(letter.slug, milestones="5")
    assert client.get("/letters/appeal.json").get_json()["milestones"] == []
    assert _reached(letter.id) == [2]


def test_a_drive_page_says_letters(app, client):
    from petition.drive import writing
    from tests.drive_helpers import confirm_token, details, make_drive

    drive = make_drive(goal=4)
    writing.write(drive.slug, details())
    writing.confirm(confirm_token())
    page = client.get(f"/letters/{drive.slug}?lang=en").get_data(as_text=True)
    assert f"1 letter on {long_date(utcnow().date(), 'en')}" in page


def test_an_embargo_hiding_the_count_hides_the_milestones(app, client):
    letter = make_letter(milestones="1", lang="en",
                         embargo_until=utcnow() + dt.timedelta(days=1))
    make_signature(letter)
    assert _reached(letter.id) == [1]
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert "1 signature on" not in page
    assert client.get("/letters/appeal.json").get_json()["milestones"] == []


# --- Set by the organisers -------------------------------------------------------------

def test_cli_sets_milestones_and_the_chart(runner, app):
    make_letter(goal=1000)
    result = runner.invoke(args=["letter", "update", "appeal", "--milestones", "10%, 500",
                                 "--chart"])
    assert result.exit_code == 0, result.output
    assert "Milestones: 100, 500." in result.output
    letter = letters.get_letter("appeal")
    assert (letter.milestones, letter.show_chart) == ("500,10%", True)
    result = runner.invoke(args=["letter", "update", "appeal", "--milestones", "",
                                 "--no-chart"])
    assert result.exit_code == 0 and "250, 500, 750, 1,000" in result.output
    db.session.expire_all()
    assert (letter.milestones, letter.show_chart) == (None, False)


def test_cli_refuses_bad_milestones_and_percentages_without_a_goal(runner, app):
    make_letter()
    result = runner.invoke(args=["letter", "update", "appeal", "--milestones", "lots"])
    assert result.exit_code != 0 and "'lots' is not a milestone" in result.output
    result = runner.invoke(args=["letter", "update", "appeal", "--milestones", "25%"])
    assert result.exit_code != 0 and "need a goal" in result.output
    assert letters.get_letter("appeal").milestones is None


def test_back_office_edit_page_sets_milestones_and_the_chart(app):
    make_letter(goal=1000)
    client = signed_in_client(app)
    page = client.get("/admin/letters/appeal/edit?lang=en").get_data(as_text=True)
    assert 'name="milestones"' in page and 'name="show_chart"' in page
    assert "Now: 250, 500, 750, 1,000." in page
    form = {"goal": "1000", "deadline": "", "place": "", "date": "", "retention_days": "90",
            "accepts_organizations": "1", "accepts_individuals": "1",
            "milestones": "100, 20%", "show_chart": "1"}
    response = client.post("/admin/letters/appeal/edit", data=form)
    assert response.status_code == 303
    letter = letters.get_letter("appeal")
    assert (letter.milestones, letter.show_chart) == ("100,20%", True)
    response = client.post("/admin/letters/appeal/edit?lang=en",
                           data={**form, "milestones": "half"})
    assert response.status_code == 400
    assert "is not a milestone" in response.get_data(as_text=True)
    db.session.expire_all()
    assert letters.get_letter("appeal").milestones == "100,20%"


def test_a_drives_edit_page_counts_its_milestones_in_letters(app):
    from tests.drive_helpers import make_drive
    make_drive(goal=1000)
    client = signed_in_client(app, letters=("letters-to-azat",))
    page = client.get("/admin/letters/letters-to-azat/edit?lang=fr")
    text = page.get_data(as_text=True)
    assert "Nombres de lettres écrites" in text and "Nombres de signatures" not in text


def test_concurrent_confirmations_crossing_one_threshold_record_it_once(app):
    """Two transactions on the letter at once: the letter's row lock orders them, the
    unique key and ON CONFLICT make the second add nothing (and raise nothing)."""
    import threading

    letter = make_letter(goal=2, lang="en")  # thresholds 1 and 2
    tokens = [_sign(letter, number) for number in range(1, 5)]
    start = threading.Barrier(len(tokens))
    outcomes: list[object] = []

    def confirm(token: str) -> None:
        with app.app_context():
            start.wait()  # all at once
            try:
                outcomes.append(signing.confirm(token).status)
            except Exception as error:  # an IntegrityError would land here
                outcomes.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=confirm, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes == ["confirmed"] * len(tokens)
    assert _reached(letter.id) == [1, 2]
    assert len(outbox(MILESTONE_REQUEST)) == 2
    references = db.session.scalars(select(OutboxMail.link_nonce).where(
        OutboxMail.kind == MILESTONE_REQUEST)).all()
    assert len(set(references)) == 2  # one request per milestone
