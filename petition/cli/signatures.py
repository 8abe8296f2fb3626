"""`flask signatures import|held|approve|reject`: lists in, and moderation. Thin: parse, call,
print."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from petition import countries
from petition.cli.errors import fail as _fail
from petition.countries import display_name
from petition.letters import operations as letters
from petition.letters.operations import LetterNotFound, get_letter
from petition.models import SIGNER_TYPES
from petition.privacy import hidden_names
from petition.signatures import importing, moderation

signatures_cli = AppGroup("signatures",
                          help="Bring in signatures gathered elsewhere; moderate them.")


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
        verdict = ("the file cannot be imported" if report.problems
                   else f"{report.imported} would be imported")
        click.echo(f"dry run: {report.rows} rows, {len(report.duplicates)} duplicates, "
                   f"{len(report.problems)} problems; {verdict}; nothing changed.")
    else:
        click.echo(f"imported {report.imported} of {report.rows} rows "
                   f"({len(report.duplicates)} duplicates skipped); no mail sent.")


def _moderation_commands(group: click.Group) -> None:
    """`signatures held|approve|reject`: moderation on --moderate letters (organisations, and
    individuals signing with an organisation's name)."""
    @group.command("held")
    @click.argument("slug")
    def held_command(slug) -> None:
        """List confirmed signatures waiting for approval."""
        try:
            waiting = moderation.held(slug)
        except letters.LetterError as error:
            _fail(error)
        for signature in waiting:
            country = countries.cldr_name(signature.country, "en")
            # The organiser decides on the real name, also of one listed by initials.
            name = hidden_names.real(signature).name
            click.echo(f"{signature.public_id}\t{signature.signer_type}\t{name}\t{country}")
        click.echo(f"{len(waiting)} held.")

    for name, decide, verb in (("approve", moderation.approve, "approved"),
                               ("reject", moderation.reject, "rejected")):
        @group.command(name)
        @click.argument("slug")
        @click.argument("ids", nargs=-1, required=True)
        def decide_command(slug, ids, decide=decide, verb=verb) -> None:
            try:
                count = decide(slug, list(ids))
            except (letters.LetterError, moderation.ModerationError) as error:
                _fail(error)
            click.echo(f"{count} {verb}.")

        decide_command.help = f"Mark signatures (by the id `held` and spreadsheets show) as {verb}."


_moderation_commands(signatures_cli)
