"""PLACEHOLDER: `flask mail send|worker`, written by the mail helper."""
import click

mail_cli = click.Group("mail", help="Deliver outbox mail.")
