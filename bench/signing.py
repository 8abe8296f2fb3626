"""How many signatures and confirmations a second one process takes, on SQLite and PostgreSQL.

Each POST validates the form, writes the pending signature and its outbox mail in one
transaction; duplicates (same address again) take the throttled path; confirmations POST
the link of each pending signature. Statements per request are counted too. In-process WSGI calls:
the figure is the app and the database, not a network or a web server.
"""
from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from petition import create_app, tokens  # noqa: E402
from petition.core import pipelining, schema_migrations
from petition.extensions import db  # noqa: E402
from petition.letters import operations as letters
from petition.models import Signature  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
COUNT = 400


def _config(url: str, folder: str) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False, "MAIL_DISPATCH_IN_PROCESS": False, "SIGN_MIN_SECONDS": 0,
        "EMAIL_KEY": "k1t3Q1cJ0m0c9pD8yFh0sZ0m9u1vQ2Jd6lq3x8c1n5E=", "EXPORT_DIR": folder,
    }


def _form(number: int) -> dict:
    return {"signer_type": "individual", "name": f"Signer {number}", "country": "FR",
            "email": f"signer{number}@example.org", "display": "full", "consent": "y"}


def _tokens(app) -> list[str]:
    """The confirmation links of the pending signatures, as their mails hold them."""
    with app.app_context():
        rows = db.session.execute(select(Signature.public_id, Signature.token_nonce)
                                  .order_by(Signature.id)).all()
        return [tokens.confirm_token(public_id, nonce) for public_id, nonce in rows]


def measure(url: str, folder: str) -> list[tuple[str, float, float]]:
    """(what, requests per second, SQL statements per request) for new signatures,
    duplicates and confirmations."""
    app = create_app(_config(url, folder))
    schema_migrations.bind(app)
    with app.app_context():
        upgrade()
        letters.create_letter("bench-sign", lang="fr", title="Bench")
        engine = db.engine
    client = app.test_client()
    client.post("/letters/bench-sign/sign", data=_form(-1))  # first use stores the address key
    runs = [("new signatures", lambda n: client.post("/letters/bench-sign/sign", data=_form(n))),
            # The same addresses again, with the same details.
            ("duplicates", lambda n: client.post("/letters/bench-sign/sign", data=_form(n)))]
    figures = []
    for what, request in runs + [("confirmations", None)]:
        if request is None:
            links = _tokens(app)[1:]
            request = lambda n, links=links: client.post(f"/confirm/{links[n]}")  # noqa: E731
        with pipelining.statements_sent(engine) as seen:
            started = time.perf_counter()
            for number in range(COUNT):
                assert request(number).status_code in (200, 303)
            figures.append((what, COUNT / (time.perf_counter() - started), len(seen) / COUNT))
    with app.app_context():
        db.engine.dispose()
    return figures


def _print(database: str, figures: list[tuple[str, float, float]]) -> None:
    for what, rate, statements in figures:
        print(f"  {database:<11}: {rate:6.0f} {what}/s ({1000 / rate:5.1f} ms, "
              f"{statements:4.1f} SQL statements each)")


def main() -> None:
    print(f"signing and confirming through HTTP, one process, {COUNT} POSTs each:")
    with tempfile.TemporaryDirectory() as folder:
        _print("sqlite", measure(f"sqlite:///{folder}/sign.sqlite", folder))
        name = f"petition_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        except sa.exc.OperationalError:
            print("  postgresql : unreachable, skipped")
            return
        try:
            _print("postgresql", measure(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", folder))
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
