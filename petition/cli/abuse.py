"""`flask abuse trends|rules|block|unblock|allow|disallow|forget`: abuse review from the
shell. Thin: parse, call, print. Changes are audited with the actor "cli"."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from petition.abuse import events, rules, trends
from petition.cli.errors import fail
from petition.letters.operations import LetterNotFound, get_letter
from petition.models.abuse import RULE_ALLOW, RULE_BLOCK, RULE_DENY, RULE_DOMAIN

ACTOR = "cli"

abuse_cli = AppGroup("abuse", help="Abuse review: trends, allow and block lists.")


def _letter_id(slug: str | None) -> int | None:
    if slug is None:
        return None
    try:
        return get_letter(slug).id
    except LetterNotFound as error:
        fail(error)


@abuse_cli.command("trends")
@click.argument("slug")
@click.option("--hours", type=click.IntRange(1, 24 * 365), default=trends.DEFAULT_HOURS,
              show_default=True, help="How far back (at most ABUSE_EVENT_HOURS).")
def trends_command(slug: str, hours: int) -> None:
    """The busiest address blocks (by hash) and mail domains of a letter, with counts."""
    letter_id = _letter_id(slug)
    assert letter_id is not None
    found = trends.trends(letter_id, hours)
    click.echo(f"{slug}: {found.total} submissions in the last {found.hours} h; trend "
               f"thresholds {found.thresholds[RULE_BLOCK]} per block, "
               f"{found.thresholds[RULE_DOMAIN]} per domain in an hour.")
    for title, rows, kind in (("blocks", found.blocks, RULE_BLOCK),
                              ("domains", found.domains, RULE_DOMAIN)):
        click.echo(f"{title} (usual per hour: {found.usual[kind]:g})")
        if not rows:
            click.echo("  none")
        for row in rows:
            mark = "  TREND" if row.over else ""
            click.echo(f"  {row.value}  total {row.total}  last hour {row.last_hour}  "
                       f"peak {row.peak}  counted {row.counted}  flagged {row.flagged}  "
                       f"blocked {row.blocked}{mark}")


@abuse_cli.command("rules")
@click.option("--letter", "slug", default=None, help="A letter's rules (default: the site's).")
def rules_command(slug: str | None) -> None:
    """List the allow and block rules of the site, or of one letter."""
    listed = rules.listed(_letter_id(slug))
    scope = slug or "site-wide"
    if not listed:
        click.echo(f"{scope}: no rules.")
    for rule in listed:
        note = f"  ({rule.note})" if rule.note else ""
        click.echo(f"{scope}  {rule.action}  {rule.kind}  {rule.value}  by {rule.created_by}"
                   f"{note}")


def _target(domain: str | None, block: str | None) -> tuple[str, str]:
    if (domain is None) == (block is None):
        raise click.UsageError("Give one of --domain D or --block HASH.")
    return (RULE_DOMAIN, domain) if domain is not None else (RULE_BLOCK, block or "")


def _rule_command(name: str, action: str, adding: bool, help_text: str) -> None:
    @abuse_cli.command(name, help=help_text)
    @click.option("--domain", default=None,
                  help='A mail domain ("example.org": that domain only; "*.example.org": '
                       "its subdomains only).")
    @click.option("--block", default=None, help="An address block's hash, as trends print it.")
    @click.option("--letter", "slug", default=None, help="Only this letter (default: site-wide).")
    @click.option("--note", default="", help="Why, for the other organisers.")
    def command(domain: str | None, block: str | None, slug: str | None, note: str) -> None:
        kind, value = _target(domain, block)
        letter_id = _letter_id(slug)
        scope = f"letter {slug}" if slug else "the whole site"
        try:
            if adding:
                rule = rules.add(letter_id, kind, value, action, ACTOR, note)
                click.echo(f"{rule.action}: {rule.kind} {rule.value} for {scope}.")
            else:
                rule = rules.remove(letter_id, kind, value, ACTOR, action)
                click.echo(f"removed: {rule.action} {rule.kind} {rule.value} for {scope}.")
        except rules.RuleError as error:
            fail(error)


_rule_command("block", RULE_DENY, True, "Drop submissions from a domain or block silently.")
_rule_command("unblock", RULE_DENY, False, "Remove a block rule.")
_rule_command("allow", RULE_ALLOW, True,
              "Let submissions from a domain or block skip the soft limits.")
_rule_command("disallow", RULE_ALLOW, False, "Remove an allow rule.")


@abuse_cli.command("forget")
def forget_command() -> None:
    """Delete the events older than ABUSE_EVENT_HOURS now (the worker does it hourly)."""
    click.echo(f"forgot {events.forget()} events.")
