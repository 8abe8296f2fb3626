"""The `flask` commands: one module per feature, each a thin layer over its use cases."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from petition.cli.abuse import abuse_cli
    from petition.cli.accounts import admin_cli
    from petition.cli.database import db_cli
    from petition.cli.drive import drive_cli
    from petition.cli.exports import export_command
    from petition.cli.letters import counts_cli, letter_cli, seed_demo_command
    from petition.cli.mail import mail_cli
    from petition.cli.news import news_cli
    from petition.cli.privacy import keys_cli, retention_cli
    from petition.cli.signatures import signatures_cli

    for command in (db_cli, letter_cli, counts_cli, seed_demo_command, signatures_cli,
                    export_command, mail_cli, retention_cli, keys_cli, admin_cli, drive_cli,
                    news_cli, abuse_cli):
        app.cli.add_command(command)
