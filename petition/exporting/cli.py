"""`flask export` and `flask signatures import`: lists out and lists in. Thin: parse, call, print."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from petition.signatures import importing
from petition.countries import display_name
from petition.letters.operations import LetterNotFound, get_letter
from petition.models import SIGNER_TYPES
from petition.exporting.document import LAYOUTS, PRESS
from petition.exporting.formats import FORMATS, ExportError, default_name, export, export_to_path


@click.command("export")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("--lang", help="Language of headings and order, e.g. fr. Default: the letter's.")
@click.option("--layout", type=click.Choice(LAYOUTS), default=PRESS, show_default=True)
@click.option("--out", "out", help="File to write, or - for standard output. Default: in EXPORT_DIR.")
@click.option("--private", is_flag=True,
              help="csv/xlsx: real names of individuals who chose initials or not to be listed.")
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
            return
        name = default_name(letter, fmt, lang, layout, private)
        path = Path(out) if out else Path(current_app.config["EXPORT_DIR"]) / name
        export_to_path(letter, fmt, lang, layout, path, private)
    except (LetterNotFound, ExportError, OSError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(str(path))


signatures_cli = AppGroup("signatures", help="Bring in signatures gathered elsewhere.")


@signatures_cli.command("import")
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report; change nothing.")
@click.option("--type", "default_type", type=click.Choice(SIGNER_TYPES),
              help="Signer type of rows without a type column.")
@click.option("--encoding", default="utf-8-sig", show_default=True, help="Encoding of a CSV file.")
@click.option("--provenance", default=None,
              help='Where the list came from, kept on every row ("paper forms, Paris, 3 May").')
def import_command(slug: str, file: Path, dry_run: bool, default_type: str | None, encoding: str,
                   provenance: str | None) -> None:
    """Import a CSV or XLSX list as confirmed signatures (source "import"; no mail is sent).

    Columns by header: name, country, and optionally type, affiliation, display, email.
    Countries in any language, or ISO codes. An email is only used to find duplicates.
    """
    try:
        report = importing.import_signatures(
            slug, file, dry_run=dry_run, default_type=default_type, encoding=encoding,
            provenance=provenance,
        )
    except LetterNotFound as error:
        raise click.ClickException(str(error)) from None
    except importing.ImportFailed as error:
        raise click.ClickException(
            f"nothing imported: {len(error.problems)} problem(s)\n" + "\n".join(error.problems)
        ) from None
    _print_report(report, get_letter(slug).default_lang)
    if dry_run and report.problems:
        raise SystemExit(1)


def _print_report(report: importing.ImportReport, lang: str) -> None:
    for problem in report.problems:
        click.echo(f"problem: {problem}")
    for duplicate in report.duplicates:
        click.echo(f"duplicate, skipped: {duplicate}")
    if report.ignored_columns:
        click.echo(f"ignored columns: {', '.join(report.ignored_columns)}")
    for code, count in sorted(report.by_country.items(), key=lambda item: -item[1]):
        click.echo(f"  {display_name(code, lang)} ({code}): {count}")
    if report.dry_run:
        verdict = "the file cannot be imported" if report.problems else f"{report.imported} would be imported"
        click.echo(f"dry run: {report.rows} rows, {len(report.duplicates)} duplicates, "
                   f"{len(report.problems)} problems; {verdict}; nothing changed.")
    else:
        click.echo(f"imported {report.imported} of {report.rows} rows "
                   f"({len(report.duplicates)} duplicates skipped); no mail sent.")
