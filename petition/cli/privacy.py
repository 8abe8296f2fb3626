"""`flask retention run` and `flask keys rotate`: forgetting on time, and a new EMAIL_KEY."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from petition.cli.errors import fail as _fail
from petition.privacy import key_rotation, retention

retention_cli = AppGroup("retention", help="Forget what is kept no longer than promised.")


@retention_cli.command("run")
def retention_run_command() -> None:
    """Erase the email fingerprints of letters closed longer than their retention days."""
    erased = retention.run()
    for erasure in erased:
        click.echo(f"{erasure.slug}: erased {erasure.fingerprints} email fingerprint(s), "
                   f"deleted {erasure.pending} pending signature(s) and "
                   f"{erasure.subscribers} news subscriber(s) "
                   f"(closed {erasure.closed_since:%Y-%m-%d %H:%M} UTC, "
                   f"kept {erasure.days} days).")
    if not erased:
        click.echo("Nothing to erase.")


keys_cli = AppGroup("keys", help="Keys of what is stored encrypted.")


@keys_cli.command("rotate")
@click.option("--old-key-stdin", is_flag=True, required=True,
              help="Read the old EMAIL_KEY from standard input; EMAIL_KEY holds the new one.")
def rotate_command(old_key_stdin: bool) -> None:
    """Re-encrypt every stored secret under the new EMAIL_KEY, in one transaction."""
    # From standard input: a key on the command line would land in shell history and `ps`.
    old_key = sys.stdin.readline().strip()
    try:
        rotation = key_rotation.rotate(old_key)
    except key_rotation.RotationError as error:
        _fail(error)
    for column, count in rotation.rotated.items():
        click.echo(f"{column}: {count} re-encrypted")
    if rotation.already:
        click.echo(f"{rotation.already} already under the new key")
    if rotation.created_hash_key:
        click.echo("address-hash key stored, wrapped under the new key")
    click.echo(f"Done: {rotation.total} secrets now under the new EMAIL_KEY. Restart every "
               "process (web, mail worker) with it.")
