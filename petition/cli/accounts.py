"""`flask admin …`: back-office accounts. There is no sign-up: accounts start here."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from petition.accounts import operations as accounts
from petition.models.accounts import ROLES

admin_cli = AppGroup("admin", help="Back-office accounts.")


def _password_from_stdin() -> str:
    # One line from standard input: a password on the command line would land in the
    # shell history and in `ps`.
    return sys.stdin.readline().rstrip("\r\n")


def _run(action, *args, **kwargs):
    try:
        return action(*args, **kwargs)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None


@admin_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password (12 characters or more) from standard input.")
@click.option("--letter", "letters", multiple=True, metavar="SLUG",
              help="A letter the account is given (repeat for several).")
def create_command(email: str, role: str, password_stdin: bool, letters: tuple[str, ...]) -> None:
    """Create an account."""
    account = _run(accounts.create_account, email, role, _password_from_stdin(), letters)
    click.echo(f"Created {account.role} account {account.email}.")


@admin_cli.command("list")
def list_command() -> None:
    """List accounts: email, role, state, TOTP, letters."""
    for account in accounts.list_accounts():
        state = "active" if account.active else "disabled"
        totp = "totp" if account.totp_secret is not None else "no-totp"
        slugs = ",".join(letter.slug for letter in account.letters) or "-"
        click.echo(f"{account.email}\t{account.role}\t{state}\t{totp}\t{slugs}")


@admin_cli.command("disable")
@click.argument("email")
def disable_command(email: str) -> None:
    """Disable an account and end its sessions."""
    account = _run(accounts.disable_account, email)
    click.echo(f"Disabled {account.email}; its sessions are ended.")


@admin_cli.command("reset-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the new password from standard input.")
def reset_password_command(email: str, password_stdin: bool) -> None:
    """Set a new password and end every session (the TOTP enrolment stays)."""
    account = _run(accounts.reset_password, email, _password_from_stdin())
    click.echo(f"New password for {account.email}; its sessions are ended.")


@admin_cli.command("assign")
@click.argument("email")
@click.argument("slug")
def assign_command(email: str, slug: str) -> None:
    """Give an account a letter."""
    account = _run(accounts.assign_letter, email, slug)
    click.echo(f"{account.email} now has {slug}.")
