"""`flask drive …`: every back-office action on a letter drive, for scripts. Thin: parse,
call the drive use cases (actor "cli" in the audit log), print; a refusal is a message on
standard error and exit status 1, with nothing written."""
from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from petition.cli.errors import fail
from petition.drive import batch_files, batches, replies, review, settings
from petition.letters import operations as letters
from petition.letters.values import LetterError
from petition.models.drive import LETTER_STATES

ACTOR = "cli"
# What `drive list --status` takes: a state, or one of the queues.
LIST_FILTERS = (*LETTER_STATES, "translation", "ready")

drive_cli = AppGroup("drive", help="Letter drives: review, translate, batch and send the "
                                   "letters written to a drive's recipient.")
batch_cli = AppGroup("batch", help="Batches of letters ready to send.")
drive_cli.add_command(batch_cli)

_TEXT_FILE = click.Path(exists=True, dir_okay=False)


def _read_text(path: str) -> str:
    """A UTF-8 text file's content; a clear refusal for anything else."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(f"{path} is not UTF-8 text") from None
    except OSError as error:
        raise click.ClickException(f"{path}: {error.strerror}") from None


@drive_cli.command("list")
@click.argument("slug")
@click.option("--status", type=click.Choice(LIST_FILTERS),
              help="Only letters in this state; 'translation': waiting for a translation; "
                   "'ready': approved and readable, not yet in a batch.")
def list_command(slug: str, status: str | None) -> None:
    """The drive's letters, oldest first: public id, state, country, letter language,
    characters, translated (yes/no) and batch, tab-separated, one per line."""
    try:
        rows = review.letters_of(letters.get_letter(slug), status)
    except LetterError as error:
        fail(error)
    for row in rows:
        translated = "yes" if row.translation_encrypted is not None else "no"
        batch = row.batch.public_id if row.batch is not None else "-"
        click.echo("\t".join((row.public_id, row.status, row.country, row.letter_lang,
                              str(row.body_chars), translated, batch)))


@drive_cli.command("approve")
@click.argument("public_id", metavar="ID")
def approve_command(public_id: str) -> None:
    """Approve a letter waiting for review."""
    try:
        row = review.approve(public_id, actor=ACTOR)
    except LetterError as error:
        fail(error)
    click.echo(f"{row.public_id} approved.")


@drive_cli.command("reject")
@click.argument("public_id", metavar="ID")
def reject_command(public_id: str) -> None:
    """Reject a letter: its writer is told, its text and address are deleted."""
    try:
        row = review.reject(public_id, actor=ACTOR)
    except LetterError as error:
        fail(error)
    click.echo(f"{row.public_id} rejected; its text is deleted.")


@drive_cli.command("return")
@click.argument("public_id", metavar="ID")
@click.option("--note", required=True, help="What the writer should change.")
def return_command(public_id: str, note: str) -> None:
    """Return a letter to its writer with a note; they edit it and send it again."""
    try:
        row = review.return_to_writer(public_id, note, actor=ACTOR)
    except LetterError as error:
        fail(error)
    click.echo(f"{row.public_id} returned to its writer.")


@drive_cli.command("translate")
@click.argument("public_id", metavar="ID")
@click.option("--text-file", type=_TEXT_FILE, required=True,
              help="The translation, UTF-8 text in the delivery language.")
def translate_command(public_id: str, text_file: str) -> None:
    """Keep a translation beside the letter (replacing any earlier one)."""
    try:
        row = review.translate(public_id, _read_text(text_file), actor=ACTOR)
        reading = review.reading(row)
    except LetterError as error:
        fail(error)
    click.echo(f"{row.public_id} translated ({len(reading.translation or '')} characters).")
    if reading.translation_passages:
        # Not a refusal: the organiser decides; the words are named so they can look.
        click.echo("Censors may stop: " + ", ".join(
            passage.word for passage in reading.translation_passages), err=True)


@drive_cli.command("reply")
@click.argument("public_id", metavar="ID")
@click.option("--file", "file_", type=click.Path(exists=True, dir_okay=False),
              help="A scan of the reply: PDF, JPEG or PNG.")
@click.option("--text-file", type=_TEXT_FILE, help="The reply's text, UTF-8.")
def reply_command(public_id: str, file_: str | None, text_file: str | None) -> None:
    """Send the recipient's reply to the writer of a sent letter who asked for it."""
    if file_ is None and text_file is None:
        raise click.UsageError("give the reply: --file, --text-file or both")
    data = None
    if file_ is not None:
        # One byte past the limit is enough for the use case to refuse a larger file.
        limit = int(current_app.config["DRIVE_REPLY_MAX_BYTES"])
        try:
            with open(file_, "rb") as scan:
                data = scan.read(limit + 1)
        except OSError as error:
            raise click.ClickException(f"{file_}: {error.strerror}") from None
    text = _read_text(text_file) if text_file is not None else None
    try:
        reply = replies.attach_reply(public_id, text=text, data=data, actor=ACTOR)
    except LetterError as error:
        fail(error)
    what = " and ".join(part for part, present in (("text", reply.text_encrypted),
                                                    ("file", reply.file_encrypted)) if present)
    click.echo(f"Reply ({what}) to {public_id} queued for its writer.")


@drive_cli.command("settings")
@click.argument("slug")
@click.option("--recipient", help="The recipient's name.")
@click.option("--recipient-address",
              help="The postal address, lines separated by \\n or real line breaks; an empty "
                   "value removes it.")
@click.option("--delivery-lang", help="The language letters are delivered in, e.g. ru.")
@click.option("--body-max", type=int, help="The most characters a letter may have.")
@click.option("--currency", help="Three-letter code of the costs recorded, e.g. EUR.")
@click.option("--show-costs/--hide-costs", default=None,
              help="Whether the page shows the sending costs recorded so far.")
def settings_command(slug: str, recipient: str | None, recipient_address: str | None,
                     delivery_lang: str | None, body_max: int | None, currency: str | None,
                     show_costs: bool | None) -> None:
    """Change a drive's own settings; without options, print them."""
    changes = {name: value for name, value in (
        ("recipient_name", recipient),
        ("recipient_address",
         recipient_address.replace("\\n", "\n") if recipient_address is not None else None),
        ("delivery_lang", delivery_lang), ("body_max", body_max), ("currency", currency),
        ("show_costs", show_costs)) if value is not None}
    try:
        drive = (settings.update_drive(slug, actor=ACTOR, **changes) if changes
                 else settings.get_drive(slug))
    except LetterError as error:
        fail(error)
    if changes:
        click.echo(f"Updated drive {slug}: {', '.join(sorted(changes))}.")
    click.echo(f"recipient: {drive.recipient_name}")
    first, *more = drive.recipient_address.splitlines() or ["-"]
    click.echo(f"address: {first}")
    for line in more:
        click.echo(f"         {line}")
    click.echo(f"delivery language: {drive.delivery_lang}")
    click.echo(f"length limit: {drive.body_max} characters")
    click.echo(f"costs: {drive.currency}, {'shown' if drive.show_costs else 'hidden'}")


@drive_cli.command("guidance")
@click.argument("slug")
@click.option("--lang", required=True, help="The language of the guidance, e.g. en.")
@click.option("--text-file", type=_TEXT_FILE,
              help="The guidance shown beside the form (Markdown); an empty file removes it.")
@click.option("--risky-words-file", type=_TEXT_FILE,
              help="Words and phrases censors refuse, one per line (end one with * for a "
                   "stem: войн* finds война); an empty file removes them.")
def guidance_command(slug: str, lang: str, text_file: str | None,
                     risky_words_file: str | None) -> None:
    """Set a drive's guidance and risky words in one language."""
    if text_file is None and risky_words_file is None:
        raise click.UsageError("nothing to change: give --text-file, --risky-words-file or both")
    guidance = _read_text(text_file) if text_file is not None else None
    words = _read_text(risky_words_file) if risky_words_file is not None else None
    try:
        row = settings.set_guidance(slug, lang, guidance=guidance, risky_words=words,
                                    actor=ACTOR)
    except LetterError as error:
        fail(error)
    count = len(row.risky_words.splitlines()) if row.risky_words else 0
    click.echo(f"Guidance of {slug} in {row.lang}: {len(row.guidance)} characters, "
               f"{count} risky word(s) or phrase(s).")


@batch_cli.command("create")
@click.argument("slug")
def batch_create_command(slug: str) -> None:
    """Gather every letter ready now into a batch; print the batch's id alone."""
    try:
        batch = batches.create_batch(slug, actor=ACTOR)
    except LetterError as error:
        fail(error)
    click.echo(batch.public_id)


@batch_cli.command("export")
@click.argument("batch_id", metavar="BATCH")
@click.option("--format", "fmt", type=click.Choice(batch_files.FORMATS), required=True)
@click.option("--out", help="File to write, or - for standard output. Default: in EXPORT_DIR.")
def batch_export_command(batch_id: str, fmt: str, out: str | None) -> None:
    """Write a batch as a PDF to print, a ZIP of .txt files, or the CSV manifest."""
    try:
        batch = batches.get_batch(batch_id)
        data, _, name = batch_files.render(batches.contents(batch), fmt)
    except LetterError as error:
        fail(error)
    if out == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        path = Path(out) if out else Path(current_app.config["EXPORT_DIR"]) / name
        _write(path, data)
    batches.record_download(batch, fmt, ACTOR)
    if out != "-":
        click.echo(str(path))


def _write(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all, readable by its owner alone (letters are personal
    data)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as error:
        raise click.ClickException(f"{path}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except OSError as error:
        os.unlink(temporary)
        raise click.ClickException(f"{path}: {error.strerror}") from None


@batch_cli.command("sent")
@click.argument("batch_id", metavar="BATCH")
@click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), required=True,
              help="The day the batch went, YYYY-MM-DD.")
@click.option("--cost", help="What sending it cost, in the drive's currency, e.g. 12.50.")
@click.option("--service", help="The service it went through, e.g. Zonatelecom.")
def batch_sent_command(batch_id: str, on: dt.datetime, cost: str | None,
                       service: str | None) -> None:
    """Mark a batch sent: its letters are sent, each writer is mailed."""
    try:
        batch = batches.mark_sent(batch_id, on=on.date(), cost_cents=batches.parse_amount(cost),
                                  service=service, actor=ACTOR)
    except LetterError as error:
        fail(error)
    count = len(batches.batch_rows(batch))
    click.echo(f"Batch {batch.public_id} sent on {on.date().isoformat()}: {count} letter(s).")
