"""`flask letter …`, `flask counts rebuild` and `flask seed-demo`: campaigns from the command
line. Thin: parse, call the letters use cases, print."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from click.core import ParameterSource
from flask.cli import AppGroup

from petition.abuse import limits as abuse_limits
from petition.cli.errors import fail as _fail
from petition.drive import settings as drive_settings
from petition.letters import campaign
from petition.letters import operations as letters
from petition.letters import values as letter_values
from petition.letters.milestones import thresholds as milestone_thresholds
from petition.models import (
    CLOSED,
    DISPLAY_CHOICES,
    INITIALS,
    LETTER_DRIVE,
    LETTER_KINDS,
    OPEN,
    OPEN_LETTER,
)
from petition.models.drive import BODY_MAX_DEFAULT

letter_cli = AppGroup("letter", help="Create and manage letters.")


def _read_text(path: str | None) -> str:
    return Path(path).read_text(encoding="utf-8") if path else ""


# Options of one kind of letter only: given for the other kind, they are refused.
_OPEN_LETTER_ONLY = ("place", "date_", "moderate", "signers")
_DRIVE_ONLY = ("recipient", "delivery_lang", "recipient_address", "body_max")
_DISPLAY_HELP = ("How individuals are listed unless they choose otherwise on the form: full "
                 "(name and affiliation), initials, or anonymous (counted, not listed). A "
                 "petition lists no individual whatever this says.")


def _given(ctx: click.Context, names: tuple[str, ...]) -> list[str]:
    """The options among `names` typed on the command line (not left at their default)."""
    return [f"--{name.rstrip('_').replace('_', '-')}" for name in names
            if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)]


@letter_cli.command("create")
@click.argument("slug")
@click.option("--kind", type=click.Choice(LETTER_KINDS), default=OPEN_LETTER, show_default=True,
              help="An open letter people sign (listed by name); a petition: signatures "
                   "counted by country and type, no name ever public (names only in the "
                   "organisers' --private exports); or a letter drive: people write "
                   "personal letters to one recipient. Fixed once created.")
@click.option("--lang", required=True,
              help="Language of the first text: a locale code such as fr, de or pt_BR.")
@click.option("--title", required=True)
@click.option("--text-file", type=click.Path(exists=True, dir_okay=False), help="Markdown body.")
@click.option("--goal", type=int)
@click.option("--deadline", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Last day signatures or letters are taken (UTC), YYYY-MM-DD.")
@click.option("--place")
@click.option("--date", "date_", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--moderate/--no-moderate", default=False, help="Hold organisations for approval.")
@click.option(
    "--signers",
    type=click.Choice(["both", "organizations", "individuals"]),
    default="both",
    show_default=True,
)
@click.option("--recipient", help="Letter drive: the recipient's name (required).")
@click.option("--delivery-lang",
              help="Letter drive: the language letters are delivered in, e.g. ru (required); "
                   "letters in other languages wait for a translation.")
@click.option("--recipient-address",
              help="Letter drive: the recipient's postal address, lines separated by \\n "
                   "or real line breaks.")
@click.option("--body-max", type=int, default=BODY_MAX_DEFAULT, show_default=True,
              help="Letter drive: the most characters a letter may have.")
@click.option("--individual-display", type=click.Choice(DISPLAY_CHOICES), default=INITIALS,
              show_default=True, help=_DISPLAY_HELP)
@click.pass_context
def create_command(ctx, slug, kind, lang, title, text_file, goal, deadline, place, date_,
                   moderate, signers, recipient, delivery_lang, recipient_address,
                   body_max, individual_display) -> None:
    """Create an open letter, a petition (--kind petition) or a letter drive
    (--kind letter-drive)."""
    if kind == LETTER_DRIVE:
        wrong = _given(ctx, _OPEN_LETTER_ONLY)
        if wrong:
            raise click.UsageError(f"{', '.join(wrong)}: for open letters only, not for a "
                                   "letter drive")
        for value, option in ((recipient, "--recipient"), (delivery_lang, "--delivery-lang")):
            if not (value or "").strip():
                raise click.UsageError(f"a letter drive needs {option}")
        _create_drive(slug, lang, title, text_file, goal, deadline, recipient, delivery_lang,
                      recipient_address, body_max)
        return
    wrong = _given(ctx, _DRIVE_ONLY)
    if wrong:
        raise click.UsageError(f"{', '.join(wrong)}: for a letter drive only "
                               "(--kind letter-drive)")
    try:
        letter = letters.create_letter(
            slug,
            lang=lang,
            title=title,
            body=_read_text(text_file),
            goal=goal,
            deadline=deadline.date() if deadline else None,
            place=place,
            date=date_.date() if date_ else None,
            moderate_organizations=moderate,
            accepts_organizations=signers in ("both", "organizations"),
            accepts_individuals=signers in ("both", "individuals"),
            kind=kind,
            individual_display=individual_display,
        )
    except letters.LetterError as error:
        _fail(error)
    if letter.is_petition:
        click.echo(f"Created petition {letter.slug} in {letter.default_lang} (open): "
                   "signatures are counted by country and type, no name is public.")
        return
    click.echo(f"Created letter {letter.slug} in {letter.default_lang} (open).")


def _create_drive(slug: str, lang: str, title: str, text_file: str | None, goal: int | None,
                  deadline: dt.datetime | None, recipient: str, delivery_lang: str,
                  recipient_address: str | None, body_max: int) -> None:
    try:
        letter = drive_settings.create_drive(
            slug, lang=lang, title=title, body=_read_text(text_file), goal=goal,
            deadline=deadline.date() if deadline else None, recipient=recipient,
            delivery_lang=delivery_lang, body_max=body_max,
            recipient_address=(recipient_address or "").replace("\\n", "\n"), actor="cli")
    except letters.LetterError as error:
        _fail(error)
    drive = drive_settings.get_drive(letter)
    click.echo(f"Created letter drive {letter.slug} in {letter.default_lang} (open): letters "
               f"to {drive.recipient_name}, delivered in {drive.delivery_lang}.")


@letter_cli.command("update")
@click.argument("slug")
@click.option("--goal", type=click.IntRange(min=0), help="New goal; 0 removes it.")
@click.option("--place", help="New place; an empty value removes it.")
@click.option("--date", "date_", help="New date, YYYY-MM-DD; an empty value removes it.")
@click.option("--deadline", help="Last day signatures are taken (UTC), YYYY-MM-DD; "
                                 "'none' removes it.")
@click.option("--signers", type=click.Choice(["both", "organizations", "individuals"]))
@click.option("--moderate/--no-moderate", default=None, help="Hold organisations for approval.")
@click.option("--embargo-until", "embargo", metavar="DATETIME",
              help="Keep the list from the public until then: 2026-12-24T09:00 or "
                   "'2026-12-24 09:00', UTC unless an offset such as +02:00 is given; "
                   "'none' removes the embargo.")
@click.option("--embargo-count/--no-embargo-count", default=None,
              help="Show the count (not the names) during the embargo.")
@click.option("--retention-days", type=click.IntRange(letter_values.RETENTION_MIN,
                                                      letter_values.RETENTION_MAX),
              help="Days after closing before the signers' email fingerprints are erased.")
@click.option("--milestones", metavar="LIST",
              help="Milestones mailed to the organisers when reached and shown on the page: "
                   "counts ('500,1000') or percentages of the goal ('25%,50%'); an empty "
                   "value: 25, 50, 75 and 100 % of the goal.")
@click.option("--chart/--no-chart", "chart", default=None,
              help="Show the chart of signatures per day on the letter's page.")
@click.option("--individual-display", type=click.Choice(DISPLAY_CHOICES),
              help=_DISPLAY_HELP + " Signatures already made keep their own choice.")
@click.option("--soft-limits", metavar="LIMITS",
              help="The letter's own soft limits, past which signatures are flagged: "
                   "'address=5 per 10 minutes;20 per day, block=off, domain=…' (kinds "
                   "address, block, domain; 'off' for none); kinds not given keep the "
                   "site's defaults; 'default' goes back to them all.")
def update_command(slug, goal, place, date_, deadline, signers, moderate, embargo,
                   embargo_count, retention_days, milestones, chart, individual_display,
                   soft_limits) -> None:
    """Change a letter's settings; what is not given stays as it is. The kind (open letter,
    petition, letter drive) is fixed once created."""
    changes: dict = {}
    if goal is not None:
        changes["goal"] = goal or None
    if deadline is not None:
        try:
            changes["deadline"] = letter_values.parse_date(deadline, "deadline")
        except letters.LetterError as error:
            raise click.BadParameter(str(error), param_hint="--deadline") from None
    if place is not None:
        changes["place"] = place
    if date_ is not None:
        changes["date"] = _parse_date(date_) if date_ else None
    if signers is not None:
        changes["accepts_organizations"] = signers in ("both", "organizations")
        changes["accepts_individuals"] = signers in ("both", "individuals")
    if moderate is not None:
        changes["moderate_organizations"] = moderate
    if embargo is not None:
        try:
            changes["embargo_until"] = letter_values.parse_embargo(embargo)
        except letters.LetterError as error:
            raise click.BadParameter(str(error), param_hint="--embargo-until") from None
    if embargo_count is not None:
        changes["embargo_count"] = embargo_count
    if retention_days is not None:
        changes["fingerprint_retention_days"] = retention_days
    if milestones is not None:
        try:
            changes["milestones"] = letter_values.parse_milestones(milestones)
        except letters.LetterError as error:
            raise click.BadParameter(str(error), param_hint="--milestones") from None
    if chart is not None:
        changes["show_chart"] = chart
    if individual_display is not None:
        changes["individual_display"] = individual_display
    if not changes and soft_limits is None:
        raise click.UsageError("nothing to change: give at least one option")
    if soft_limits is not None:
        try:  # checked before anything is written: a refused value leaves the letter as it was
            abuse_limits.parse_overrides(soft_limits)
        except abuse_limits.SoftLimitError as error:
            raise click.BadParameter(str(error), param_hint="--soft-limits") from None
    if changes:
        try:
            letter = letters.update_letter(slug, **changes)
        except letters.LetterError as error:
            _fail(error)
    if soft_limits is not None:
        try:
            letter = abuse_limits.set_for_letter(slug, soft_limits)
        except letters.LetterNotFound as error:
            _fail(error)
        limits_now = ", ".join(f"{kind} {rate}" for kind, rate in
                               abuse_limits.effective(letter).items())
        click.echo(f"Soft limits of {letter.slug}: {limits_now}.")
    if not changes:
        return
    click.echo(f"Updated letter {letter.slug}: {', '.join(sorted(changes))}.")
    if "deadline" in changes:
        click.echo(f"Signatures are taken until {letter.deadline.isoformat()} (UTC)."
                   if letter.deadline else "No deadline.")
    if "milestones" in changes or "goal" in changes:
        marks = milestone_thresholds(letter)
        click.echo(f"Milestones: {', '.join(f'{mark:,}' for mark in marks)}." if marks
                   else "No milestones (percentages of the goal need a goal).")
    if "embargo_until" in changes:
        click.echo(f"The list is kept from the public until "
                   f"{letter.embargo_until.isoformat(sep=' ', timespec='minutes')} UTC."
                   if letter.embargo_until else "No embargo: the list is public.")


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-05-21",
                                 param_hint="--date") from None


@letter_cli.command("translate")
@click.argument("slug")
@click.option("--lang", required=True, help="Language of this text, e.g. en or pt_BR.")
@click.option("--title", required=True)
@click.option("--text-file", type=click.Path(exists=True, dir_okay=False))
@click.option("--place", help="The place as this language names it (Париж); an empty value "
                              "shows the letter's own. Not given: left as it is.")
def translate_command(slug, lang, title, text_file, place) -> None:
    """Add or replace the letter's text in a language."""
    try:
        text = letters.translate_letter(slug, lang=lang, title=title, body=_read_text(text_file),
                                        place=place)
    except letters.LetterError as error:
        _fail(error)
    click.echo(f"Saved the {text.lang} text of {slug}.")  # the stored form: "pt-br" → pt_BR


@letter_cli.command("label")
@click.argument("slug")
@click.option("--lang", required=True)
@click.argument("code")
@click.argument("label")
def label_command(slug, lang, code, label) -> None:
    """Set the letter's own heading for a country or scope."""
    try:
        saved = letters.set_label(slug, lang=lang, code=code, label=label)
    except letters.LetterError as error:
        _fail(error)
    click.echo(f"{saved.code} is shown as {saved.label!r} in {lang}.")


@letter_cli.command("campaign")
@click.argument("slug")
@click.option("--lang", required=True)
@click.option("--donation-url", help="Where to give (https://…); \"\" clears it.")
@click.option("--donation-text", help="What the money is for, one line; \"\" clears it.")
@click.option("--bank-details", help="IBAN, card number, PayPal address as text (lines); "
              "\"\" clears them.")
@click.option("--channel", "channels", multiple=True,
              help="A channel's address (Telegram, Mastodon, a site); repeat for several; "
              "the list given replaces the old one; --channel \"\" clears it.")
@click.option("--contact", help="An address or a name to write to; \"\" clears it.")
@click.pass_context
def campaign_command(ctx, slug, lang, **fields) -> None:
    """Set the campaign block shown beside the letter in one language (never in exports);
    with no field given, show it."""
    changes = {name: list(value) if name == "channels" else value
               for name, value in fields.items()
               if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)}
    try:
        if changes:
            block = campaign.set_campaign(slug, lang, changes)
        else:
            block = campaign.shown_in(slug, lang)
    except letters.LetterError as error:
        _fail(error)
    if block is None:
        click.echo(f"{slug} has no campaign block in {lang}.")
        return
    click.echo(f"Campaign block of {slug} in {block.lang}:")
    for name in campaign.FIELDS:
        value = getattr(block, name)
        shown = " | ".join(value) if isinstance(value, tuple) else value
        click.echo(f"  {name.replace('_', '-')}: {shown or '-'}")


@letter_cli.command("open")
@click.argument("slug")
def open_command(slug) -> None:
    """Let the letter take signatures."""
    try:
        letters.set_status(slug, OPEN)
    except letters.LetterError as error:
        _fail(error)
    click.echo(f"{slug} is open.")


@letter_cli.command("close")
@click.argument("slug")
def close_command(slug) -> None:
    """Stop taking signatures; the list stays public."""
    try:
        letters.set_status(slug, CLOSED)
    except letters.LetterError as error:
        _fail(error)
    click.echo(f"{slug} is closed.")


counts_cli = AppGroup("counts", help="The public counts kept per letter and country.")


@counts_cli.command("rebuild")
def counts_rebuild_command() -> None:
    """Recount every letter's public counts from its signatures; fix and report any drift."""
    from petition.letters import counting

    drifts = counting.rebuild_all()
    for drift in drifts:
        click.echo(f"{drift.slug}: {drift.signer_type} {drift.country}: kept "
                   f"{drift.kept[0]} listed + {drift.kept[1]} unlisted, counted "
                   f"{drift.counted[0]} + {drift.counted[1]}: fixed.")
    click.echo(f"{len(drifts)} count(s) drifted and fixed." if drifts else
               "Every count matches the signatures.")


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Create the demo letter when the database has no letter yet, and the demo letter
    drive when it has no drive yet (a database made before drives existed gets one)."""
    from petition.drive.demo import seed_demo_drive
    from petition.letters.demo import seed_demo

    created = seed_demo()
    click.echo("Seeded the demo letter." if created else "Letters exist; no demo seeded.")
    if seed_demo_drive():
        click.echo("Seeded the demo letter drive.")
