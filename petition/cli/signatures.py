"""`flask signatures import|held|approve|reject|flagged|invalidate`: lists in, moderation, and
bulk invalidation. Thin: parse, call, print."""
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
from petition.signatures import importing, invalidation, moderation

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


@signatures_cli.command("flagged")
@click.argument("slug")
def flagged_command(slug: str) -> None:
    """List flagged signatures (over a soft limit): public id, reason, when signed, status."""
    try:
        found = invalidation.flagged(get_letter(slug))
    except letters.LetterError as error:
        _fail(error)
    for row in found:
        click.echo(f"{row.public_id}\t{row.reason or '-'}\t"
                   f"{row.created_at.isoformat(sep=' ', timespec='seconds')}\t{row.status}")
    click.echo(f"{len(found)} flagged.")


@signatures_cli.command("invalidate")
@click.argument("slug", required=False)
@click.option("--domain", help="Mail domain of the address (example.org).")
@click.option("--block", help="Address block, by the hash `flask abuse trends` prints.")
@click.option("--name", help='Part of the name or affiliation, any case or accents; "*" any.')
@click.option("--country", help="Country or region code.")
@click.option("--since", help="Signed at or after (YYYY-MM-DD or YYYY-MM-DD HH:MM, UTC).")
@click.option("--until", help="Signed before (a day: until its end).")
@click.option("--reason", help="The soft limit that flagged them.")
@click.option("--source", type=click.Choice(invalidation.SOURCES), help="How they came in.")
@click.option("--moderation", help='Their moderation now, e.g. "flagged".')
@click.option("--dry-run", is_flag=True, help="Print the count; change nothing.")
@click.option("--undo", "undo_job", metavar="JOB", help="Undo the job with this id instead.")
def invalidate_command(slug: str | None, dry_run: bool, undo_job: str | None,
                       **values: str | None) -> None:
    """Take a letter's signatures (confirmed or pending) matching the conditions off the list
    and the counts, as one recorded job (its id is printed) that --undo JOB puts back."""
    if undo_job:
        if any(values.values()) or dry_run:
            raise click.UsageError("--undo takes no condition and no --dry-run.")
        try:
            job = invalidation.undo(undo_job, "cli",
                                    letter=get_letter(slug) if slug else None)
        except (letters.LetterError, invalidation.InvalidationError) as error:
            _fail(error)
        click.echo(f"job {job.public_id} undone: {invalidation.restored_count(job)} "
                   f"signature(s) put back.")
        return
    if not slug:
        raise click.UsageError("give the letter's SLUG (or --undo JOB).")
    try:
        letter = get_letter(slug)
        conditions = invalidation.Conditions.parse(values)
        count = invalidation.count(letter, conditions)
        click.echo(f"{count} signature(s) match.")
        if dry_run or not count:
            return
        job = invalidation.start(letter, conditions, "cli", expected=count)
    except (letters.LetterError, invalidation.CurationError) as error:
        _fail(error)  # a bad condition, or the set changed between count and start
    if job.status == "running":
        click.echo(f"job {job.public_id} started: the worker takes them off in chunks.")
    else:
        click.echo(f"job {job.public_id}: {job.changed} signature(s) invalidated; "
                   f"undo with: flask signatures invalidate --undo {job.public_id}")
