"""How many signatures a second one process takes through the form, on SQLite and PostgreSQL.

Each POST validates the form, writes the pending signature and its outbox mail in one
transaction; duplicates (same address again) take the throttled path. In-process WSGI calls:
the figure is the app and the database, not a network or a web server.
"""
from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from petition import create_app, letters, migrations  # noqa: E402
from petition.extensions import db  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
COUNT = 400


def _config(url: str, folder: str) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False, "MAIL_DISPATCH_IN_PROCESS": False,
        "EMAIL_KEY": "k1t3Q1cJ0m0c9pD8yFh0sZ0m9u1vQ2Jd6lq3x8c1n5E=", "EXPORT_DIR": folder,
    }


def _form(number: int) -> dict:
    return {"signer_type": "individual", "name": f"Signer {number}", "country": "FR",
            "email": f"signer{number}@example.org", "display": "full", "consent": "y"}


def measure(url: str, folder: str) -> tuple[float, float]:
    """(new signatures per second, duplicates per second)."""
    app = create_app(_config(url, folder))
    migrations.bind(app)
    with app.app_context():
        upgrade()
        letters.create_letter("bench-sign", lang="fr", title="Bench")
    client = app.test_client()
    rates = []
    for _ in range(2):  # first new addresses, then the same ones again
        started = time.perf_counter()
        for number in range(COUNT):
            assert client.post("/letters/bench-sign/sign", data=_form(number)).status_code == 303
        rates.append(COUNT / (time.perf_counter() - started))
    with app.app_context():
        db.engine.dispose()
    return rates[0], rates[1]


def main() -> None:
    print(f"signing through the form, one process, {COUNT} POSTs each:")
    with tempfile.TemporaryDirectory() as folder:
        new, dup = measure(f"sqlite:///{folder}/sign.sqlite", folder)
        print(f"  sqlite     : {new:6.0f} new signatures/s, {dup:6.0f} duplicates/s")
        name = f"petition_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        except sa.exc.OperationalError:
            print("  postgresql : unreachable, skipped")
            return
        try:
            new, dup = measure(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", folder)
            print(f"  postgresql : {new:6.0f} new signatures/s, {dup:6.0f} duplicates/s")
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
