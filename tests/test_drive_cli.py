"""`flask letter create --kind letter-drive` and `flask drive …`: every back-office action on
a drive from the command line, on both databases; refusals on standard error with exit
status 1 and nothing written; actor "cli" in the audit log."""
from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import pytest
from sqlalchemy import func, select

from petition.drive import review, settings
from petition.extensions import db
from petition.models import LETTER_DRIVE, OPEN_LETTER, Letter
from petition.models.accounts import AuditEvent
from petition.models.drive import (
    APPROVED,
    REJECTED,
    RETURNED,
    REVIEW,
    SENT,
    DriveBatch,
    DriveGuidance,
    DriveLetter,
    DriveReply,
)
from tests.drive_helpers import LETTER_EN, LETTER_RU, make_drive, written
from tests.helpers import outbox, rendered

SLUG = "letters-to-azat"
TRANSLATION = "Дорогой Азат!\n\nМы думаем о вас каждый день.\n\nС тёплыми пожеланиями из Лиона."
# The smallest file the reply check takes for a PDF: its signature, and an end marker.
PDF_SCAN = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def fresh(model, **where):
    db.session.expire_all()
    query = select(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalars(query).first()


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def audit_actions(actor: str = "cli") -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor == actor)
                                   .order_by(AuditEvent.id)))


def invoke(runner, *args: str):
    return runner.invoke(args=list(args))


def refused(result, message: str) -> None:
    """Exit status 1, the message on standard error, nothing on standard output."""
    assert result.exit_code == 1, result.output
    assert message in result.stderr, result.stderr
    assert result.stdout == ""


# flask letter create --kind letter-drive


def test_create_a_drive_with_every_option(runner, app, tmp_path):
    appeal = tmp_path / "appeal.md"
    appeal.write_text("Напишите Азату письмо.", encoding="utf-8")
    result = invoke(runner, "letter", "create", SLUG, "--kind", "letter-drive", "--lang", "ru",
                    "--title", "1000 писем Азату", "--recipient", "Азат  Мифтахов",
                    "--delivery-lang", "ru", "--recipient-address", r"ФКУ СИЗО-1\nг. Москва",
                    "--goal", "1000", "--deadline", "2027-02-15", "--text-file", str(appeal),
                    "--body-max", "3000")
    assert result.exit_code == 0, result.output
    assert "Created letter drive letters-to-azat" in result.stdout
    letter = fresh(Letter, slug=SLUG)
    assert letter.kind == LETTER_DRIVE and letter.goal == 1000
    assert letter.deadline == dt.date(2027, 2, 15)
    assert letter.texts[0].body == "Напишите Азату письмо."
    drive = settings.get_drive(letter)
    assert drive.recipient_name == "Азат Мифтахов"
    assert drive.recipient_address == "ФКУ СИЗО-1\nг. Москва"
    assert (drive.delivery_lang, drive.body_max) == ("ru", 3000)


def test_a_real_line_break_in_the_address_is_kept(runner, app):
    result = invoke(runner, "letter", "create", SLUG, "--kind", "letter-drive", "--lang", "en",
                    "--title", "Letters", "--recipient", "Azat", "--delivery-lang", "ru",
                    "--recipient-address", "SIZO-1\nMoscow")
    assert result.exit_code == 0, result.output
    assert settings.get_drive(SLUG).recipient_address == "SIZO-1\nMoscow"


def test_open_letter_stays_the_default(runner, app):
    result = invoke(runner, "letter", "create", "appeal", "--lang", "fr", "--title", "Appel",
                    "--deadline", "2027-01-31")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Created letter appeal in fr (open).\n"
    letter = fresh(Letter, slug="appeal")
    assert letter.kind == OPEN_LETTER and letter.deadline == dt.date(2027, 1, 31)
    assert letter.accepts_organizations and letter.accepts_individuals


@pytest.mark.parametrize("missing, args", [
    ("--recipient", ["--delivery-lang", "ru"]),
    ("--delivery-lang", ["--recipient", "Azat"]),
    ("--delivery-lang", ["--recipient", "Azat", "--delivery-lang", " "]),
])
def test_a_drive_needs_its_recipient_and_delivery_language(runner, app, missing, args):
    result = invoke(runner, "letter", "create", SLUG, "--kind", "letter-drive", "--lang", "ru",
                    "--title", "Letters", *args)
    assert result.exit_code == 2 and f"a letter drive needs {missing}" in result.stderr
    assert count(Letter) == 0


def test_options_of_the_other_kind_are_refused(runner, app):
    result = invoke(runner, "letter", "create", SLUG, "--kind", "letter-drive", "--lang", "ru",
                    "--title", "Letters", "--recipient", "Azat", "--delivery-lang", "ru",
                    "--place", "Paris", "--signers", "individuals")
    assert result.exit_code == 2
    assert "--place, --signers: for open letters only" in result.stderr
    result = invoke(runner, "letter", "create", "appeal", "--lang", "fr", "--title", "Appel",
                    "--recipient", "Azat")
    assert result.exit_code == 2 and "--recipient: for a letter drive only" in result.stderr
    assert count(Letter) == 0


def test_a_refused_drive_leaves_nothing(runner, app):
    result = invoke(runner, "letter", "create", SLUG, "--kind", "letter-drive", "--lang", "ru",
                    "--title", "Letters", "--recipient", "Azat", "--delivery-lang", "klingon")
    refused(result, "unknown language 'klingon'")
    result = invoke(runner, "letter", "create", SLUG, "--kind", "letter-drive", "--lang", "ru",
                    "--title", "Letters", "--recipient", "Azat", "--delivery-lang", "ru",
                    "--body-max", "50")
    refused(result, "The length limit must be between 100 and")
    assert count(Letter) == 0


def test_update_takes_a_drive_deadline(runner, app):
    make_drive()
    result = invoke(runner, "letter", "update", SLUG, "--deadline", "2027-02-15")
    assert result.exit_code == 0, result.output
    assert fresh(Letter, slug=SLUG).deadline == dt.date(2027, 2, 15)


# flask drive settings / guidance


def test_settings_change_what_is_given_and_print_them(runner, app):
    make_drive()
    result = invoke(runner, "drive", "settings", SLUG, "--recipient", "Azat Miftakhov",
                    "--recipient-address", r"SIZO-1\nMoscow", "--body-max", "5000",
                    "--currency", "usd", "--show-costs")
    assert result.exit_code == 0, result.output
    assert "Updated drive letters-to-azat: body_max, currency, recipient_address, " \
           "recipient_name, show_costs." in result.stdout
    assert "address: SIZO-1\n         Moscow\n" in result.stdout
    drive = settings.get_drive(SLUG)
    db.session.refresh(drive)
    assert (drive.recipient_name, drive.recipient_address, drive.body_max, drive.currency,
            drive.show_costs) == ("Azat Miftakhov", "SIZO-1\nMoscow", 5000, "USD", True)
    assert drive.delivery_lang == "ru"
    assert audit_actions() == ["letter.create", "drive.update"]

    shown = invoke(runner, "drive", "settings", SLUG)
    assert shown.exit_code == 0 and "Updated" not in shown.stdout
    assert "recipient: Azat Miftakhov" in shown.stdout
    assert "costs: USD, shown" in shown.stdout
    assert invoke(runner, "drive", "settings", SLUG, "--hide-costs").exit_code == 0
    db.session.refresh(drive)
    assert drive.show_costs is False


def test_settings_refused_change_nothing(runner, app):
    make_drive()
    refused(invoke(runner, "drive", "settings", SLUG, "--recipient", "Other",
                   "--currency", "euro"), "The currency is a three-letter code")
    drive = settings.get_drive(SLUG)
    db.session.refresh(drive)
    assert drive.recipient_name == "Азат Мифтахов" and drive.currency == "EUR"
    refused(invoke(runner, "drive", "settings", "no-such"), "no-such")
    invoke(runner, "letter", "create", "appeal", "--lang", "fr", "--title", "Appel")
    refused(invoke(runner, "drive", "settings", "appeal"), "appeal is not a letter drive")


def test_guidance_and_risky_words_per_language(runner, app, tmp_path):
    make_drive()
    guidance = tmp_path / "guidance.md"
    guidance.write_text("Do **not** write about the war.", encoding="utf-8")
    words = tmp_path / "words.txt"
    words.write_text("war\n\ntrial\nWar\n", encoding="utf-8")
    result = invoke(runner, "drive", "guidance", SLUG, "--lang", "en", "--text-file",
                    str(guidance), "--risky-words-file", str(words))
    assert result.exit_code == 0, result.output
    assert "2 risky word(s)" in result.stdout
    row = fresh(DriveGuidance, lang="en")
    assert (row.guidance, row.risky_words) == ("Do **not** write about the war.", "war\ntrial")
    assert "drive.guidance" in audit_actions()

    result = invoke(runner, "drive", "guidance", SLUG, "--lang", "en")
    assert result.exit_code == 2 and "nothing to change" in result.stderr
    refused(invoke(runner, "drive", "guidance", SLUG, "--lang", "xx-nope", "--text-file",
                   str(guidance)), "unknown language")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("procès".encode("latin-1"))
    refused(invoke(runner, "drive", "guidance", SLUG, "--lang", "fr", "--text-file",
                   str(latin1)), "is not UTF-8 text")
    assert count(DriveGuidance) == 1


# flask drive list / approve / reject / return / translate


def _two_letters() -> tuple[DriveLetter, DriveLetter]:
    english = written(email="marie@example.org")
    russian = written(email="ivan@example.org", name="Иван", country="DE", letter_lang="ru",
                      body=LETTER_RU, lang="ru")
    return english, russian


def test_list_one_line_per_letter_tab_separated(runner, app):
    make_drive()
    english, russian = _two_letters()
    result = invoke(runner, "drive", "list", SLUG)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{english.public_id}\treview\tFR\ten\t{len(LETTER_EN)}\tno\t-",
        f"{russian.public_id}\treview\tDE\tru\t{len(LETTER_RU)}\tno\t-",
    ]
    only = invoke(runner, "drive", "list", SLUG, "--status", "translation")
    assert only.stdout.splitlines() == [f"{english.public_id}\treview\tFR\ten\t"
                                        f"{len(LETTER_EN)}\tno\t-"]
    assert invoke(runner, "drive", "list", SLUG, "--status", "sent").stdout == ""
    bad = invoke(runner, "drive", "list", SLUG, "--status", "lost")
    assert bad.exit_code == 2 and "'lost' is not one of" in bad.stderr
    refused(invoke(runner, "drive", "list", "no-such"), "no-such")


def test_approve_reject_return_and_their_refusals(runner, app):
    make_drive()
    english, russian = _two_letters()
    third = written(email="li@example.org", name="Li")

    result = invoke(runner, "drive", "approve", russian.public_id)
    assert result.exit_code == 0 and result.stdout == f"{russian.public_id} approved.\n"
    assert fresh(DriveLetter, public_id=russian.public_id).status == APPROVED
    refused(invoke(runner, "drive", "approve", russian.public_id),
            "Only a letter waiting for review can be approved (this one is approved)")

    result = invoke(runner, "drive", "return", english.public_id, "--note",
                    "Please leave out the name of the city.")
    assert result.exit_code == 0, result.output
    assert fresh(DriveLetter, public_id=english.public_id).status == RETURNED
    assert len(outbox("drive_returned")) == 1
    refused(invoke(runner, "drive", "return", third.public_id, "--note", "  "),
            "Please write a note")
    assert fresh(DriveLetter, public_id=third.public_id).status == REVIEW
    missing = invoke(runner, "drive", "return", third.public_id)
    assert missing.exit_code == 2 and "--note" in missing.stderr

    result = invoke(runner, "drive", "reject", third.public_id)
    assert result.exit_code == 0, result.output
    row = fresh(DriveLetter, public_id=third.public_id)
    assert row.status == REJECTED and row.body_encrypted is None
    refused(invoke(runner, "drive", "reject", third.public_id), "Only a letter not yet in a batch")
    refused(invoke(runner, "drive", "approve", "nope"), "No letter nope.")
    assert audit_actions() == ["letter.create", "drive.approve", "drive.return", "drive.reject"]


def test_translate_from_a_file(runner, app, tmp_path):
    make_drive()
    settings.set_guidance(SLUG, "ru", risky_words="суд")
    english, russian = _two_letters()
    translation = tmp_path / "translation.txt"
    translation.write_text(TRANSLATION + "\nНи слова про суд.", encoding="utf-8")
    result = invoke(runner, "drive", "translate", english.public_id, "--text-file",
                    str(translation))
    assert result.exit_code == 0, result.output
    assert f"{english.public_id} translated (" in result.stdout
    assert "Censors may stop: суд\n" in result.stderr
    reading = review.reading(fresh(DriveLetter, public_id=english.public_id))
    assert reading.translation == TRANSLATION + "\nНи слова про суд."
    assert fresh(DriveLetter, public_id=english.public_id).translated_by == "cli"

    refused(invoke(runner, "drive", "translate", russian.public_id, "--text-file",
                   str(translation)), "in the delivery language already")
    linked = tmp_path / "linked.txt"
    linked.write_text("Пишите на https://example.org", encoding="utf-8")
    refused(invoke(runner, "drive", "translate", english.public_id, "--text-file", str(linked)),
            "without links")
    assert review.reading(fresh(DriveLetter, public_id=english.public_id)).translation \
        == TRANSLATION + "\nНи слова про суд."
    gone = invoke(runner, "drive", "translate", english.public_id, "--text-file",
                  str(tmp_path / "none.txt"))
    assert gone.exit_code == 2 and "does not exist" in gone.stderr


# flask drive batch … / reply


def test_batch_refusals_write_nothing(runner, app, tmp_path):
    make_drive()
    english, _ = _two_letters()
    refused(invoke(runner, "drive", "batch", "create", SLUG), "No letter is ready to send")
    assert count(DriveBatch) == 0
    review.approve(english.public_id)  # approved, but not translated: not ready
    refused(invoke(runner, "drive", "batch", "create", SLUG), "No letter is ready to send")
    refused(invoke(runner, "drive", "batch", "export", "nope", "--format", "pdf", "--out",
                   str(tmp_path / "x.pdf")), "No batch nope.")
    assert not (tmp_path / "x.pdf").exists()
    bad = invoke(runner, "drive", "batch", "export", "nope", "--format", "docx")
    assert bad.exit_code == 2
    refused(invoke(runner, "drive", "batch", "sent", "nope", "--on", "2026-01-01"),
            "No batch nope.")
    refused(invoke(runner, "drive", "reply", english.public_id, "--text-file",
                   str(_file(tmp_path, "reply.txt", "Спасибо!"))),
            "A reply belongs to a letter that was sent.")
    assert count(DriveReply) == 0
    assert [action for action in audit_actions() if action.startswith("drive.batch")] == []


def _file(folder, name: str, content: str | bytes):
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_the_whole_drive_as_a_script(runner, app, tmp_path):
    """Create the drive, letters written and confirmed, approve, translate, batch, export
    in the three formats, mark sent, reply: every step a command, every action audited."""
    result = invoke(runner, "letter", "create", SLUG, "--kind", "letter-drive", "--lang", "ru",
                    "--title", "1000 писем Азату", "--recipient", "Азат Мифтахов",
                    "--delivery-lang", "ru", "--recipient-address", r"ФКУ СИЗО-1\nг. Москва",
                    "--goal", "1000")
    assert result.exit_code == 0, result.output
    english = written(SLUG, email="marie@example.org", wants_reply=True)
    russian = written(SLUG, email="ivan@example.org", name="Иван Петров", country="DE",
                      letter_lang="ru", body=LETTER_RU, lang="ru")

    for row in (english, russian):
        assert invoke(runner, "drive", "approve", row.public_id).exit_code == 0
    listed = invoke(runner, "drive", "list", SLUG, "--status", "ready").stdout.split()
    assert listed[0] == russian.public_id and english.public_id not in listed
    translation = _file(tmp_path, "translation.txt", TRANSLATION)
    assert invoke(runner, "drive", "translate", english.public_id, "--text-file",
                  str(translation)).exit_code == 0

    created = invoke(runner, "drive", "batch", "create", SLUG)
    assert created.exit_code == 0, created.output
    batch_id = created.stdout.strip()
    assert created.stdout == f"{batch_id}\n"  # the id alone, for scripts
    batch = fresh(DriveBatch, public_id=batch_id)
    assert batch is not None
    listed = invoke(runner, "drive", "list", SLUG).stdout.splitlines()
    assert [line.split("\t")[5:] for line in listed] == [["yes", batch_id], ["no", batch_id]]

    outputs = {}
    for fmt in ("pdf", "zip", "csv"):
        path = tmp_path / "out" / f"batch.{fmt}"
        done = invoke(runner, "drive", "batch", "export", batch_id, "--format", fmt,
                      "--out", str(path))
        assert done.exit_code == 0, done.output
        assert done.stdout == f"{path}\n"
        assert path.stat().st_mode & 0o777 == 0o600  # letters are personal data
        outputs[fmt] = path.read_bytes()
    assert outputs["pdf"].startswith(b"%PDF-")
    to_stdout = invoke(runner, "drive", "batch", "export", batch_id, "--format", "csv",
                       "--out", "-")
    assert to_stdout.exit_code == 0 and to_stdout.stdout_bytes == outputs["csv"]
    with zipfile.ZipFile(io.BytesIO(outputs["zip"])) as archive:
        names = archive.namelist()
        assert names == [f"001-{english.public_id}.txt", f"002-{russian.public_id}.txt"]
        assert TRANSLATION in archive.read(names[0]).decode("utf-8")
    rows = list(csv.reader(io.StringIO(outputs["csv"].decode("utf-8-sig"))))
    assert [row[:5] for row in rows[1:]] == [
        [english.public_id, "Marie Dupont", "FR", "en", "cli"],
        [russian.public_id, "Иван Петров", "DE", "ru", ""]]
    default = invoke(runner, "drive", "batch", "export", batch_id, "--format", "zip")
    assert default.exit_code == 0
    assert default.stdout.strip().endswith(f"{SLUG}-batch-{batch_id}.zip")

    today = dt.date.today().isoformat()
    sent = invoke(runner, "drive", "batch", "sent", batch_id, "--on", today, "--cost", "12,50",
                  "--service", "Zonatelecom")
    assert sent.exit_code == 0, sent.output
    assert sent.stdout == f"Batch {batch_id} sent on {today}: 2 letter(s).\n"
    batch = fresh(DriveBatch, public_id=batch_id)
    assert (batch.sent_on.isoformat(), batch.cost_cents, batch.service, batch.sent_by) == \
        (today, 1250, "Zonatelecom", "cli")
    assert {fresh(DriveLetter, public_id=row.public_id).status
            for row in (english, russian)} == {SENT}
    assert len(outbox("drive_sent")) == 2
    refused(invoke(runner, "drive", "batch", "sent", batch_id, "--on", today),
            "This batch was marked sent on")

    # Only the writer who asked for the reply gets one.
    scan = _file(tmp_path, "reply.pdf", PDF_SCAN)
    text = _file(tmp_path, "reply.txt", "Спасибо за письмо!")
    replied = invoke(runner, "drive", "reply", english.public_id, "--file", str(scan),
                     "--text-file", str(text))
    assert replied.exit_code == 0, replied.output
    assert replied.stdout == f"Reply (text and file) to {english.public_id} queued for its " \
                             "writer.\n"
    assert "Спасибо за письмо!" in rendered(outbox("drive_reply")[-1]).text
    refused(invoke(runner, "drive", "reply", russian.public_id, "--text-file", str(text)),
            "did not ask for the reply")
    fake = _file(tmp_path, "fake.pdf", b"MZ\x90\x00 not a pdf")
    refused(invoke(runner, "drive", "reply", english.public_id, "--file", str(fake)),
            "The file is not a PDF, JPEG or PNG.")
    nothing = invoke(runner, "drive", "reply", english.public_id)
    assert nothing.exit_code == 2 and "--file, --text-file or both" in nothing.stderr
    assert count(DriveReply) == 1

    assert audit_actions() == [
        "letter.create", "drive.approve", "drive.approve", "drive.translate",
        "drive.batch_create", "drive.batch_export", "drive.batch_export", "drive.batch_export",
        "drive.batch_export", "drive.batch_export", "drive.batch_sent", "drive.reply"]
    details = list(db.session.scalars(select(AuditEvent.detail).where(
        AuditEvent.action == "drive.batch_export").order_by(AuditEvent.id)))
    assert details == [f"batch={batch_id} format={fmt}"
                       for fmt in ("pdf", "zip", "csv", "csv", "zip")]
