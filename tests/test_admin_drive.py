"""A letter drive in the back office, on both databases: who may open what (a translator
sees only the translation queue of its drives), creating and setting up a drive,
moderation with its mails, translation, batches and their downloads in the audit log,
marking sent, replies with a checked scan, and CSRF on every form."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from fpdf import FPDF
from sqlalchemy import select

from petition.accounts import operations as accounts
from petition.drive import batches, review, settings
from petition.extensions import db
from petition.models import Letter
from petition.models.accounts import AuditEvent
from petition.models.drive import (
    APPROVED,
    REJECTED,
    RETURNED,
    REVIEW,
    SENT,
    DriveBatch,
    DriveLetter,
)
from tests.admin_helpers import log_in, make_account
from tests.drive_helpers import LETTER_EN, LETTER_RU, make_drive, written
from tests.factories import make_letter
from tests.helpers import outbox

DRIVE = "letters-to-azat"
ORG, TRANSLATOR = "org@example.org", "tr@example.org"
LETTER_DE = "Lieber Azat,\n\nwir denken jeden Tag an dich.\n\nHerzliche Grüße aus Berlin."


def client_for(app, email: str, role: str, letters: tuple[str, ...]):
    """A test client logged in (with a second factor) as a new account."""
    _, secret = make_account(email, role, letters, totp=True)
    client = app.test_client()
    assert log_in(client, email, secret).status_code in (302, 303)
    return client


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def row_of(public_id: str) -> DriveLetter:
    db.session.expire_all()
    return db.session.scalars(select(DriveLetter).where(DriveLetter.public_id == public_id)).one()


def url(path: str) -> str:
    return f"/admin/letters/{DRIVE}/drive{path}"


def real_pdf(pages: int = 1) -> bytes:
    """A PDF as a scanner's software would write one; uncompressed, many pages make it
    larger than the app's 64 KB limit on other forms."""
    pdf = FPDF()
    pdf.set_compression(False)
    pdf.set_font("helvetica", size=11)
    for number in range(pages):
        pdf.add_page()
        for line in range(40):
            pdf.cell(text=f"Reply page {number} line {line}: thank you for your letters.")
            pdf.ln()
    return bytes(pdf.output())


# --------------------------------------------------------------------------- who sees what


def _fill(rule, values: dict[str, str]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m[1]], rule.rule)


def test_a_translator_sees_only_the_translation_queue_of_its_drives(app):
    make_drive()
    make_drive("other-drive")
    make_letter("appeal")
    english = written(DRIVE, letter_lang="en", body=LETTER_EN, name="Marie Dupont",
                      email="marie@example.org", country="FR")
    russian = written(DRIVE, letter_lang="ru", body=LETTER_RU, email="ivan@example.org")
    review.approve(russian.public_id, actor=ORG)
    batch = batches.create_batch(DRIVE, actor=ORG)
    elsewhere = written("other-drive", letter_lang="de", body=LETTER_DE,
                        email="hans@example.org")
    root, _ = make_account("root@example.org", "admin")
    client = client_for(app, TRANSLATOR, "translator", (DRIVE,))

    # The list: its drive, with the way to the queue; nothing of the others.
    home = client.get("/admin/").get_data(as_text=True)
    assert f'href="/admin/letters/{DRIVE}/drive/translations"' in home
    assert "other-drive" not in home and "appeal" not in home
    assert "1 letter waiting for a translation" in home

    # The queue and the letter to translate: original, signature, language; nothing else.
    queue = client.get(url("/translations"))
    assert queue.status_code == 200
    assert english.public_id in queue.get_data(as_text=True)
    assert russian.public_id not in queue.get_data(as_text=True)  # nothing to translate
    page = client.get(url(f"/translations/{english.public_id}")).get_data(as_text=True)
    assert "Your students miss your lectures" in page and "Marie Dupont" in page
    assert "English" in page
    for private in ("marie@example.org", "France", "Batches", "Moderation", "Approve",
                    "/export", "/signatures"):
        assert private not in page, private

    allowed = {"admin.login", "admin.logout", "admin.totp", "admin.letters", "admin.audit_page",
               "admin.audit_csv", "admin.drive_translations", "admin.drive_translation"}
    values = {"slug": DRIVE, "public_id": english.public_id, "batch_id": batch.public_id,
              "account_id": str(root.id)}
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")]
    for rule in rules:
        if rule.endpoint in allowed:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_fill(rule, values), method=method)
            assert response.status_code in (403, 404), (rule.rule, method,
                                                        response.status_code)
    # Its pages of another drive, a letter of another drive, a letter already in a batch
    # or in the delivery language: as if they did not exist.
    assert client.get("/admin/letters/other-drive/drive/translations").status_code == 404
    assert client.get(url(f"/translations/{elsewhere.public_id}")).status_code == 404
    assert client.get(url(f"/translations/{russian.public_id}")).status_code == 404
    assert client.get(f"/admin/letters/{DRIVE}").status_code == 404
    assert client.get("/admin/letters/appeal/drive/translations").status_code == 404
    # Nothing above changed anything.
    assert row_of(english.public_id).status == REVIEW
    assert row_of(english.public_id).translation_encrypted is None

    # Its audit log holds what it did itself, not the organisers' approvals and batches.
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "drive.approve" not in audit and "drive.batch_create" not in audit
    assert "drive.approve" not in client.get("/admin/audit.csv").get_data(as_text=True)


def test_a_translator_is_given_drives_only(app, runner):
    make_drive()
    make_drive("other-drive")
    make_letter("appeal")
    result = runner.invoke(args=["admin", "create", TRANSLATOR, "--role", "translator",
                                 "--letter", DRIVE, "--password-stdin"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["admin", "assign", TRANSLATOR, "appeal"])
    assert result.exit_code != 0 and "letter drives only" in result.output
    db.session.expire_all()
    account = accounts.get_account(TRANSLATOR)
    assert [letter.slug for letter in account.letters] == [DRIVE]
    admin = client_for(app, "root@example.org", "admin", ())
    page = admin.get("/admin/accounts").get_data(as_text=True)
    assert "Translator" in page
    # The accounts page offers a translator the drives it lacks, never an open letter.
    offered = re.search(rf"{TRANSLATOR}.*?</tr>", page, re.S)[0]
    assert '<option value="appeal">' not in offered
    assert '<option value="other-drive">' in offered


@pytest.mark.parametrize("who", ["press", "organiser-of-other"])
def test_press_and_organisers_of_other_letters_see_no_drive_page(app, who):
    make_drive()
    make_drive("other-drive")
    row = written(DRIVE, letter_lang="en", body=LETTER_EN)
    if who == "press":
        client = client_for(app, "press@example.org", "press", (DRIVE,))
    else:
        client = client_for(app, ORG, "organiser", ("other-drive",))
    values = {"slug": DRIVE, "public_id": row.public_id, "batch_id": "none"}
    drive_rules = [rule for rule in app.url_map.iter_rules()
                   if rule.endpoint.startswith("admin.drive_")]
    assert len(drive_rules) >= 16
    for rule in drive_rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_fill(rule, values), method=method,
                                   data={"note": "x", "confirm": "1", "translation": "x"})
            assert response.status_code in (403, 404), (rule.rule, method)
    overview = client.get(f"/admin/letters/{DRIVE}")
    if who == "press":
        # Press reads the figures of a drive it is given, never a letter.
        assert overview.status_code == 200
        text = overview.get_data(as_text=True)
        assert "Your students" not in text and "Marie" not in text
        assert "/drive/translations" not in text
    else:
        assert overview.status_code == 404
    assert row_of(row.public_id).status == REVIEW


def test_the_letters_list_leads_an_organiser_to_the_drive_pages(app):
    make_drive()
    make_letter("appeal")
    written(DRIVE)
    client = client_for(app, ORG, "organiser", (DRIVE, "appeal"))
    home = client.get("/admin/").get_data(as_text=True)
    assert "Letter drive" in home
    for path in ("/drive", "/drive/translations", "/drive/batches"):
        assert f'href="/admin/letters/{DRIVE}{path}"' in home
    page = client.get(f"/admin/letters/{DRIVE}").get_data(as_text=True)
    assert "Азат Мифтахов" in page
    for path in ("/drive", "/drive/letters", "/drive/translations", "/drive/batches",
                 "/drive/settings"):
        assert f'href="/admin/letters/{DRIVE}{path}"' in page
    assert re.search(r"Written \(confirmed, neither rejected nor withdrawn\)</th><td class=\"num\">"
                     r"1 / 1000", page)


# --------------------------------------------------------------------------- setting up


def test_an_organiser_creates_a_drive_as_a_draft_with_its_recipient(app):
    client = client_for(app, ORG, "organiser", ())
    form = client.get("/admin/letters/new").get_data(as_text=True)
    assert 'name="kind" value="letter-drive"' in form
    new = {"kind": "letter-drive", "slug": "write-to-azat", "lang": "ru",
           "title": "1000 писем Азату", "body": "Напишите Азату.",
           "recipient_name": "Азат Мифтахов", "recipient_address": "ФКУ СИЗО-1\r\nг. Москва",
           "delivery_lang": "ru", "body_max": "3000", "goal": "1000",
           "deadline": "2030-02-15", "retention_days": "30"}
    refused = client.post("/admin/letters/new", data={**new, "recipient_name": " "})
    assert refused.status_code == 400
    assert "needs its recipient" in refused.get_data(as_text=True)
    assert client.post("/admin/letters/new",
                       data={**new, "body_max": "lots"}).status_code == 400
    db.session.expire_all()
    assert db.session.scalar(select(Letter).where(Letter.slug == "write-to-azat")) is None

    response = client.post("/admin/letters/new", data=new)
    assert response.status_code == 303
    assert response.location.endswith("/admin/letters/write-to-azat/drive/settings")
    db.session.expire_all()
    letter = db.session.scalars(select(Letter).where(Letter.slug == "write-to-azat")).one()
    drive = settings.get_drive(letter)
    assert letter.is_drive and letter.status == "draft"
    assert (letter.goal, str(letter.deadline), letter.fingerprint_retention_days) == (
        1000, "2030-02-15", 30)
    assert (drive.recipient_name, drive.recipient_address, drive.delivery_lang,
            drive.body_max) == ("Азат Мифтахов", "ФКУ СИЗО-1\nг. Москва", "ru", 3000)
    # Given to its creator, who can open its pages.
    assert client.get("/admin/letters/write-to-azat/drive").status_code == 200
    # An open letter is still made as before.
    assert client.post("/admin/letters/new", data={
        "slug": "plain", "lang": "en", "title": "Plain", "accepts_individuals": "1",
        "retention_days": "90"}).status_code == 303


def test_drive_settings_and_guidance_are_edited_and_logged(app):
    make_drive()
    client = client_for(app, ORG, "organiser", (DRIVE,))
    page = client.get(url("/settings")).get_data(as_text=True)
    assert "ФКУ СИЗО-1" in page and 'name="recipient_address"' in page
    changed = {"recipient_name": "Azat Miftakhov", "recipient_address": "SIZO-1\nMoscow",
               "delivery_lang": "ru", "body_max": "2500", "currency": "eur",
               "show_costs": "1"}
    # A refused field leaves every field as it was, those before it included.
    refused = client.post(url("/settings"), data={**changed, "body_max": "50"})
    assert refused.status_code == 400
    assert "between 100 and" in refused.get_data(as_text=True)
    drive = settings.get_drive(DRIVE)
    db.session.refresh(drive)
    assert drive.recipient_name == "Азат Мифтахов"

    assert client.post(url("/settings"), data=changed).status_code == 303
    db.session.refresh(drive)
    assert (drive.recipient_name, drive.recipient_address, drive.body_max, drive.currency,
            drive.show_costs) == ("Azat Miftakhov", "SIZO-1\nMoscow", 2500, "EUR", True)
    assert events("drive.update")[-1].actor == ORG

    response = client.post(url("/guidance"), data={
        "lang": "en", "guidance": "Do not write about the **war**.",
        "risky_words": "war\npolitical prisoner\nwar"})
    assert response.status_code == 303
    assert settings.risky_words(drive.letter, "en") == ["war", "political prisoner"]
    assert settings.guidance_for(drive.letter, "en").guidance == "Do not write about the **war**."
    assert events("drive.guidance")[-1].detail == "lang=en"
    bad = client.post(url("/guidance"), data={"lang": "not a language", "guidance": "x"})
    assert bad.status_code == 400
    assert "political prisoner" in client.get(url("/settings")).get_data(as_text=True)


# --------------------------------------------------------------------------- moderation


def test_the_queue_shows_each_letter_with_risky_passages_marked_and_escaped(app):
    make_drive()
    settings.set_guidance(DRIVE, "en", risky_words="war\npolitical prisoner")
    first = written(DRIVE, body="<b>The war</b> & you, a political   prisoner.",
                    email="same@example.org", wants_reply=True, publish="initials")
    written(DRIVE, body=LETTER_EN, email="same@example.org", name="Someone Else")
    written(DRIVE, letter_lang="ru", body=LETTER_RU, email="other@example.org",
            country="DE")
    client = client_for(app, ORG, "organiser", (DRIVE,))
    page = client.get(url("")).get_data(as_text=True)
    assert ("&lt;b&gt;The <mark>war</mark>&lt;/b&gt; &amp; you, a "
            "<mark>political   prisoner</mark>.") in page
    assert "<b>The war" not in page
    assert "2 passages a censor may stop are marked." in page
    assert page.count("2 letters of this drive came from this address.") == 2
    assert "same@example.org" not in page and "other@example.org" not in page
    assert "May be published under initials" in page
    assert "The writer wants the reply" in page and "Germany" in page
    assert "Marie Dupont" in page and "Someone Else" in page
    assert first.public_id in page

    listing = client.get(url("/letters?state=review")).get_data(as_text=True)
    assert listing.count("<code>") == 3 and first.public_id in listing
    assert client.get(url("/letters?state=nonsense")).status_code == 400
    assert "No letter." in client.get(url("/letters?state=sent")).get_data(as_text=True)


def test_approve_return_and_reject_queue_the_right_mails(app):
    make_drive()
    kept = written(DRIVE, email="kept@example.org")
    back = written(DRIVE, email="back@example.org")
    gone = written(DRIVE, email="gone@example.org")
    client = client_for(app, ORG, "organiser", (DRIVE,))

    response = client.post(url(f"/letters/{kept.public_id}/approve"), data={"back": "queue"})
    assert response.status_code == 303 and response.location.endswith(url(""))
    assert row_of(kept.public_id).status == APPROVED
    assert events("drive.approve")[-1].actor == ORG
    again = client.post(url(f"/letters/{kept.public_id}/approve"))
    assert again.status_code == 400 and "Only a letter waiting for review" in again.get_data(
        as_text=True)

    empty = client.post(url(f"/letters/{back.public_id}/return"), data={"note": "  "})
    assert empty.status_code == 400 and "write a note" in empty.get_data(as_text=True)
    assert outbox("drive_returned") == []
    response = client.post(url(f"/letters/{back.public_id}/return"),
                           data={"note": "Please leave out the name of the judge."})
    assert response.status_code == 303
    assert response.location.endswith(url(f"/letters/{back.public_id}"))
    assert row_of(back.public_id).status == RETURNED
    assert len(outbox("drive_returned")) == 1

    unconfirmed = client.post(url(f"/letters/{gone.public_id}/reject"), data={})
    assert unconfirmed.status_code == 400
    assert "deletes the letter" in unconfirmed.get_data(as_text=True)
    assert row_of(gone.public_id).status == REVIEW and outbox("drive_rejected") == []
    assert client.post(url(f"/letters/{gone.public_id}/reject"),
                       data={"confirm": "1"}).status_code == 303
    rejected = row_of(gone.public_id)
    assert rejected.status == REJECTED and rejected.body_encrypted is None
    assert len(outbox("drive_rejected")) == 1
    assert events("drive.reject")[-1].actor == ORG
    page = client.get(url(f"/letters/{gone.public_id}")).get_data(as_text=True)
    assert "were deleted" in page
    # Another drive's letter through this drive's address: not found.
    make_drive("other-drive")
    other = written("other-drive", email="x@example.org")
    assert client.post(url(f"/letters/{other.public_id}/approve")).status_code == 404
    assert row_of(other.public_id).status == REVIEW


# --------------------------------------------------------------------------- translation


def test_a_translation_is_saved_with_who_made_it_and_reviewed_by_an_organiser(app):
    make_drive()
    settings.set_guidance(DRIVE, "ru", risky_words="войн*")
    row = written(DRIVE, letter_lang="en", body=LETTER_EN)
    translator = client_for(app, TRANSLATOR, "translator", (DRIVE,))
    organiser = client_for(app, ORG, "organiser", (DRIVE,))

    refused = translator.post(url(f"/translations/{row.public_id}"),
                              data={"translation": "Пишите мне на marie@example.org"})
    assert refused.status_code == 400 and "without links" in refused.get_data(as_text=True)
    assert "Пишите мне" in refused.get_data(as_text=True)  # what was typed stays
    assert row_of(row.public_id).translation_encrypted is None

    text = "Дорогой Азат!\n\nПусть кончится война.\n\nС тёплыми пожеланиями из Лиона."
    response = translator.post(url(f"/translations/{row.public_id}"),
                               data={"translation": text})
    assert response.status_code == 303
    saved = row_of(row.public_id)
    assert saved.translated_by == TRANSLATOR
    assert review.reading(saved).translation == text
    assert events("drive.translate")[-1].actor == TRANSLATOR
    page = translator.get(url(f"/translations/{row.public_id}")).get_data(as_text=True)
    assert "Пусть кончится <mark>война</mark>." in page
    assert "by you" in page

    # Reviewing is the organisers': a translator is refused, an organiser records it.
    assert translator.post(url(f"/translations/{row.public_id}/reviewed")).status_code == 403
    queue = organiser.get(url("/translations")).get_data(as_text=True)
    assert TRANSLATOR in queue and "not yet" in queue
    assert organiser.post(url(f"/translations/{row.public_id}/reviewed")).status_code == 303
    assert row_of(row.public_id).translation_reviewed_by == ORG
    assert events("drive.translation_reviewed")[-1].actor == ORG


# --------------------------------------------------------------------------- batches


def _ready_letters() -> tuple[DriveLetter, DriveLetter]:
    """One letter in the delivery language, one translated; both approved."""
    russian = written(DRIVE, letter_lang="ru", body=LETTER_RU, email="ivan@example.org",
                      name="Иван Петров")
    english = written(DRIVE, letter_lang="en", body=LETTER_EN, email="marie@example.org",
                      wants_reply=True)
    for row in (russian, english):
        review.approve(row.public_id, actor=ORG)
    review.translate(english.public_id, "Дорогой Азат! Мы думаем о вас.", actor=TRANSLATOR)
    return russian, english


def test_a_batch_is_created_downloaded_in_three_formats_and_marked_sent(app):
    make_drive()
    russian, english = _ready_letters()
    waiting = written(DRIVE, letter_lang="en", body=LETTER_EN, email="late@example.org")
    client = client_for(app, ORG, "organiser", (DRIVE,))
    page = client.get(url("/batches")).get_data(as_text=True)
    assert "2 letters are ready to send" in page

    response = client.post(url("/batches"))
    assert response.status_code == 303
    batch = db.session.scalars(select(DriveBatch)).one()
    assert response.location.endswith(url(f"/batches/{batch.public_id}"))
    assert {row.public_id for row in batches.batch_rows(batch)} == {russian.public_id,
                                                                  english.public_id}
    assert row_of(waiting.public_id).batch_id is None
    nothing = client.post(url("/batches"))
    assert nothing.status_code == 400 and "No letter is ready" in nothing.get_data(as_text=True)
    listing = client.get(url("/batches")).get_data(as_text=True)
    assert batch.public_id in listing and '<td class="num">2</td>' in listing

    for fmt, media_type, magic in (("pdf", "application/pdf", b"%PDF-"),
                                   ("zip", "application/zip", b"PK"),
                                   ("csv", "text/csv", None)):
        download = client.get(url(f"/batches/{batch.public_id}/download?format={fmt}"))
        assert download.status_code == 200, fmt
        assert download.content_type.startswith(media_type)
        assert "attachment" in download.headers["Content-Disposition"]
        assert download.headers["Cache-Control"] == "no-store"
        if magic:
            assert download.data.startswith(magic)
        else:
            assert russian.public_id in download.get_data(as_text=True)
    assert [(event.actor, event.detail) for event in events("drive.batch_export")] == [
        (ORG, f"batch={batch.public_id} format={fmt}") for fmt in ("pdf", "zip", "csv")]
    assert client.get(url(f"/batches/{batch.public_id}/download?format=docx")).status_code == 400
    assert len(events("drive.batch_export")) == 3

    bad = client.post(url(f"/batches/{batch.public_id}/sent"),
                      data={"on": "2026-01-20", "service": "Zonatelecom", "cost": "a lot"})
    assert bad.status_code == 400 and "amount such as 12.50" in bad.get_data(as_text=True)
    bad_date = client.post(url(f"/batches/{batch.public_id}/sent"), data={"on": "20/01"})
    assert bad_date.status_code == 400
    db.session.expire_all()
    assert db.session.get(DriveBatch, batch.id).sent_on is None
    assert outbox("drive_sent") == []

    response = client.post(url(f"/batches/{batch.public_id}/sent"),
                           data={"on": "2026-01-20", "service": "Zonatelecom",
                                 "cost": "12,50"})
    assert response.status_code == 303
    db.session.expire_all()
    sent = db.session.get(DriveBatch, batch.id)
    assert (sent.sent_on, sent.service, sent.cost_cents, sent.sent_by) == (
        dt.date(2026, 1, 20), "Zonatelecom", 1250, ORG)
    assert row_of(russian.public_id).status == SENT == row_of(english.public_id).status
    assert len(outbox("drive_sent")) == 2
    # The address goes with the "sent" mail, unless the writer asked for the reply.
    assert row_of(russian.public_id).email_encrypted is None
    assert row_of(english.public_id).email_encrypted is not None
    page = client.get(url(f"/batches/{batch.public_id}")).get_data(as_text=True)
    assert "Sent on 2026-01-20" in page and 'name="cost"' not in page
    assert "€12.50" in page  # the amount as the reader's language writes it
    again = client.post(url(f"/batches/{batch.public_id}/sent"), data={"on": "2026-01-21"})
    assert again.status_code == 400


# --------------------------------------------------------------------------- replies


def _sent_letters(client) -> tuple[DriveLetter, DriveLetter]:
    russian, english = _ready_letters()
    client.post(url("/batches"))
    batch = db.session.scalars(select(DriveBatch)).one()
    client.post(url(f"/batches/{batch.public_id}/sent"), data={"on": "2026-01-20"})
    return russian, english


def test_a_reply_with_a_real_pdf_reaches_the_writer_and_a_false_one_is_refused(app):
    make_drive()
    client = client_for(app, ORG, "organiser", (DRIVE,))
    russian, english = _sent_letters(client)
    page = client.get(url(f"/letters/{english.public_id}")).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="file"' in page
    assert 'name="file"' not in client.get(url(f"/letters/{russian.public_id}")).get_data(
        as_text=True)  # no reply asked for

    fake = client.post(url(f"/letters/{english.public_id}/reply"), data={
        "text": "", "file": (io.BytesIO(b"%PDF-1.7\nnot really a pdf"), "reply.pdf")},
        content_type="multipart/form-data")
    assert fake.status_code == 400
    assert "not a PDF, JPEG or PNG" in fake.get_data(as_text=True)
    script = client.post(url(f"/letters/{english.public_id}/reply"), data={
        "file": (io.BytesIO(b"<script>alert(1)</script>"), "scan.png")},
        content_type="multipart/form-data")
    assert script.status_code == 400
    refused = client.post(url(f"/letters/{russian.public_id}/reply"),
                          data={"text": "Спасибо"})
    assert refused.status_code == 400 and "did not ask" in refused.get_data(as_text=True)
    assert outbox("drive_reply") == []

    # Larger than the 64 KB other forms may send, within DRIVE_REPLY_MAX_BYTES.
    scan = real_pdf(pages=40)
    assert 64 * 1024 < len(scan) < app.config["DRIVE_REPLY_MAX_BYTES"]
    response = client.post(url(f"/letters/{english.public_id}/reply"), data={
        "text": "Спасибо за письмо!", "file": (io.BytesIO(scan), "scan.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[-400:]
    assert len(outbox("drive_reply")) == 1
    assert events("drive.reply")[-1].detail == f"letter={english.public_id} file=pdf"
    page = client.get(url(f"/letters/{english.public_id}")).get_data(as_text=True)
    assert "reply.pdf" in page


def test_a_scan_over_the_limit_is_refused_with_a_message(app):
    make_drive()
    client = client_for(app, ORG, "organiser", (DRIVE,))
    _russian, english = _sent_letters(client)
    app.config["DRIVE_REPLY_MAX_BYTES"] = 100_000
    scan = real_pdf(pages=60)
    assert len(scan) > 100_000
    response = client.post(url(f"/letters/{english.public_id}/reply"), data={
        "file": (io.BytesIO(scan), "scan.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "larger than" in response.get_data(as_text=True)
    assert outbox("drive_reply") == []


# --------------------------------------------------------------------------- CSRF


def test_the_drive_forms_need_the_csrf_token(app):
    make_drive()
    row = written(DRIVE)
    client = client_for(app, ORG, "organiser", (DRIVE,))
    app.config["WTF_CSRF_ENABLED"] = True
    for path, data in ((f"/letters/{row.public_id}/approve", {}),
                       (f"/letters/{row.public_id}/reject", {"confirm": "1"}),
                       (f"/letters/{row.public_id}/return", {"note": "Change it."}),
                       (f"/translations/{row.public_id}", {"translation": "Текст"}),
                       ("/batches", {}), ("/settings", {"recipient_name": "X"}),
                       ("/guidance", {"lang": "en", "guidance": "x"})):
        assert client.post(url(path), data=data).status_code == 400, path
    assert row_of(row.public_id).status == REVIEW
    assert row_of(row.public_id).translation_encrypted is None

    page = client.get(url("")).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    response = client.post(url(f"/letters/{row.public_id}/approve"),
                           data={"csrf_token": token, "back": "queue"})
    assert response.status_code == 303
    assert row_of(row.public_id).status == APPROVED


def test_the_reply_form_takes_its_token_and_its_file_together(app):
    make_drive()
    client = client_for(app, ORG, "organiser", (DRIVE,))
    _russian, english = _sent_letters(client)
    app.config["WTF_CSRF_ENABLED"] = True
    scan = real_pdf(pages=40)
    without = client.post(url(f"/letters/{english.public_id}/reply"), data={
        "file": (io.BytesIO(scan), "scan.pdf")}, content_type="multipart/form-data")
    assert without.status_code == 400 and outbox("drive_reply") == []
    page = client.get(url(f"/letters/{english.public_id}")).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    response = client.post(url(f"/letters/{english.public_id}/reply"), data={
        "csrf_token": token, "file": (io.BytesIO(scan), "scan.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    assert len(outbox("drive_reply")) == 1


# --------------------------------------------------------------------------- languages


@pytest.mark.parametrize("lang, expected", [
    ("ru", ("Письма, ожидающие проверки", "Одобрить", "Вернуть автору с примечанием",
            "С этого адреса пришло 2 письма этой кампании.")),
    ("fr", ("Lettres en attente de relecture", "Renvoyer à l’auteur avec une note",
            "2 lettres de cette campagne viennent de cette adresse.")),
])
def test_the_drive_pages_speak_the_back_office_languages(app, lang, expected):
    make_drive()
    row = written(DRIVE, email="same@example.org")
    written(DRIVE, email="same@example.org")
    client = client_for(app, ORG, "organiser", (DRIVE,))
    page = client.get(url(f"?lang={lang}")).get_data(as_text=True)
    for text in expected:
        assert text in page, text
    for path in ("/letters", f"/letters/{row.public_id}", "/translations",
                 f"/translations/{row.public_id}", "/batches", "/settings"):
        assert client.get(url(path)).status_code == 200, path
    refused = client.post(url(f"/letters/{row.public_id}/return"), data={"note": ""})
    assert refused.status_code == 400
    assert ("Напишите примечание" if lang == "ru" else "Écrivez une note") in refused.get_data(
        as_text=True)
