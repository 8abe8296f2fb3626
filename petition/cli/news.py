"""`flask news subscribers|send`: a letter's news from the command line. Thin: read, call,
print."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from petition.cli.errors import fail
from petition.letters.operations import LetterNotFound, get_letter
from petition.news import files, subscriptions, updates
from petition.news.updates import NewsError

news_cli = AppGroup("news", help="A letter's news: subscribers and updates.")


@news_cli.command("subscribers")
@click.argument("slug")
def subscribers_command(slug: str) -> None:
    """Print how many addresses asked for the letter's news (never who)."""
    try:
        letter = get_letter(slug)
    except LetterNotFound as error:
        fail(error)
    click.echo(subscriptions.count(letter.id))


@news_cli.command("send")
@click.argument("slug")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--test-to", "test_to", metavar="EMAIL",
              help="Only send a test of every language to this address.")
def send_command(slug: str, folder: Path, test_to: str | None) -> None:
    """Send the update written in FOLDER to every subscriber of the letter.

    FOLDER holds one Markdown file per language (fr.md, en.md…), its first line the
    subject. Each subscriber gets their language's file, else the letter's own language's.
    """
    try:
        letter = get_letter(slug)
        texts = files.texts_from_dir(folder, letter)
        if test_to is not None:
            count = updates.send_test(letter.slug, texts, test_to, actor="cli")
            click.echo(f"Queued {count} test mail(s), one per language ({', '.join(texts)}).")
            return
        sent = updates.create_and_send(letter.slug, texts, actor="cli")
    except (LetterNotFound, NewsError) as error:
        fail(error)
    minutes = -(-sent.recipients // sent.per_minute)  # rounded up
    click.echo(f"Update {sent.public_id}: queued {sent.recipients} mail(s), sent at "
               f"{sent.per_minute} a minute (about {minutes} minute(s)) by the mail worker.")
