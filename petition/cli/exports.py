"""`flask export`: a letter's list in one format. Thin: parse, call, print."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app

from petition.accounts import audit
from petition.exporting.document import LAYOUTS, PRESS
from petition.exporting.formats import (
    FORMATS,
    ExportError,
    default_name,
    export,
    export_detail,
    export_to_path,
)
from petition.letters.operations import LetterNotFound, get_letter


@click.command("export")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("--lang", help="Language of headings and order, e.g. fr. Default: the letter's.")
@click.option("--layout", type=click.Choice(LAYOUTS), default=PRESS, show_default=True)
@click.option("--out", "out",
              help="File to write, or - for standard output. Default: in EXPORT_DIR.")
@click.option("--private", is_flag=True,
              help="csv/xlsx: real names of individuals who chose initials or not to be "
                   "listed, and every name of a petition (its other exports are counts only).")
def export_command(slug: str, fmt: str, lang: str | None, layout: str, out: str | None,
                   private: bool) -> None:
    """Export a letter's signatories, grouped by country. Email addresses are never exported."""
    try:
        letter = get_letter(slug)
        lang = lang or letter.default_lang
        if out == "-":
            sys.stdout.flush()
            export(letter, fmt, lang, layout, sys.stdout.buffer, private)
            sys.stdout.buffer.flush()
        else:
            name = default_name(letter, fmt, lang, layout, private)
            path = Path(out) if out else Path(current_app.config["EXPORT_DIR"]) / name
            export_to_path(letter, fmt, lang, layout, path, private)
    except (LetterNotFound, ExportError, OSError) as error:
        raise click.ClickException(str(error)) from None
    # In the audit log as a download from the back office is; the file's path is not kept.
    audit.record("cli", "export", letter_slug=letter.slug,
                 detail=export_detail(fmt, layout, lang, private, to="stdout" if out == "-"
                                      else "file"))
    if out != "-":
        click.echo(str(path))
