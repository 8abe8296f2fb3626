"""Signing and confirming through HTTP under gunicorn, against a bare one-insert endpoint.

For a SQLite file and a throw-away PostgreSQL database: gunicorn with the shipped config
and 2 workers serves the app (CSRF on, rate limits off: all load comes from one address,
mail left in the outbox); the load generator, a process of its own, runs N clients that
each GET the letter page once for their cookie and form token, then POST the form again
and again for a fixed time after a warm-up. The pending signatures this leaves are then
confirmed under the same load, with the tokens read from their outbox mails. The bare
Flask + SQLAlchemy app (bare_app.py) runs the same way on the same database; the ratio
petition/bare is the figure. Worker memory is sampled from /proc during the load.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys

from harness import (HERE, OUT, PYTHON, ROOT, Gunicorn, Summary, app_env, describe, durability,
                     flask, load, machine, pg_database, pg_settings, sample_rss)

sys.path.insert(0, str(ROOT))

SLUG = "bench-sign"
RATIO_TARGET, P99_TARGET, RSS_TARGET = 0.5, 0.250, 150


def _setup_app(url: str):
    from petition import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "EMAIL_KEY": app_env(url)["EMAIL_KEY"],
        "MAIL_DISPATCH_IN_PROCESS": False, "RATELIMIT_ENABLED": False,
        "EXPORT_DIR": str(OUT / "exports"),
    })


def prepare(url: str) -> None:
    """Migrate with `flask db upgrade` (its own process) and create the open letter."""
    flask(["db", "upgrade"], app_env(url))
    from petition import letters
    from petition.extensions import db

    app = _setup_app(url)
    with app.app_context():
        letters.create_letter(SLUG, lang="fr", title="Bench")
        db.session.remove()
        db.engine.dispose()


def committed(url: str) -> tuple[int, int, list[str]]:
    """(signatures, outbox mails, confirmation tokens of the pending signatures)."""
    from sqlalchemy import func, select

    from petition import tokens
    from petition.extensions import db
    from petition.models import PENDING, OutboxMail, Signature

    app = _setup_app(url)
    with app.app_context():
        signatures = db.session.scalar(select(func.count()).select_from(Signature))
        mails = db.session.scalar(select(func.count()).select_from(OutboxMail))
        # The links the mails will hold (they are rendered at delivery, which this skips).
        rows = db.session.execute(select(Signature.public_id, Signature.token_nonce)
                                  .where(Signature.status == PENDING)).all()
        found = [tokens.confirm_token(public_id, nonce) for public_id, nonce in rows]
        db.session.remove()
        db.engine.dispose()
    return signatures, mails, found


def measure(kind: str, url: str, clients: int, warmup: float, duration: float,
            folder, summary: Summary) -> None:
    label = "SQLite" if kind == "sqlite" else "PostgreSQL"
    print(f"\n{label}: {durability(kind)}")
    if kind == "postgresql":
        print(f"  server: {pg_settings()}")
    prepare(url)
    env = app_env(url)
    spec = {"clients": clients, "warmup": warmup, "duration": duration}
    with Gunicorn("wsgi:app", env, folder, f"{kind}-petition") as server:
        server.wait_ready("/healthz")
        print(f"  {server.settings}; load: {clients} clients, {warmup:g} s warm-up + {duration:g} s")
        with sample_rss(server.workers()) as peaks:
            sign = load({**spec, "kind": "sign", "port": server.port, "slug": SLUG, "run_id": kind})
            signatures, mails, found = committed(url)
            confirm = load({**spec, "kind": "confirm", "port": server.port, "slug": SLUG,
                            "tokens": found})
        sign_rss = max(peaks.values())
    subprocess.run([PYTHON, str(HERE / "bare_app.py"), "init"], env=env, check=True, cwd=ROOT)
    with Gunicorn("bare_app:app", env, folder, f"{kind}-bare", pythonpath=HERE) as server:
        server.wait_ready("/")
        bare = load({**spec, "kind": "bare", "port": server.port, "path": "/insert", "run_id": kind})
    print(f"  bare insert : {describe(bare)}")
    print(f"  sign POST   : {describe(sign)}")
    print(f"                {signatures} signatures and {mails} outbox mails committed")
    print(f"  confirm POST: {describe(confirm)}  ({len(found)} links from the outbox)")
    print(f"  worker RSS during signing and confirming: max {sign_rss:.0f} MB "
          f"({', '.join(f'{mb:.0f}' for mb in peaks.values())} MB)")
    for name, result in (("sign", sign), ("confirm", confirm)):
        ratio = result["rate"] / bare["rate"] if bare["rate"] else 0.0
        print(f"  {name} ratio petition/bare: {ratio:.2f}")
        summary.add(f"{name} HTTP {label}: rate petition/bare", f"{ratio:.2f}",
                    f">= {RATIO_TARGET}", ratio >= RATIO_TARGET and not result["errors"])
        summary.add(f"{name} HTTP {label}: p99", f"{result['p99'] * 1000:.0f} ms",
                    f"< {P99_TARGET * 1000:.0f} ms", result["p99"] < P99_TARGET)
    summary.add(f"worker RSS, signing {label}", f"{sign_rss:.0f} MB", f"<= {RSS_TARGET} MB",
                sign_rss <= RSS_TARGET)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()
    print(f"signing and confirming through HTTP; {machine()}")
    folder = OUT / "http_signing"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    summary = Summary()
    measure("sqlite", f"sqlite:///{folder / 'sign.sqlite'}", args.clients, args.warmup,
            args.duration, folder, summary)
    with pg_database("petition_bench_http") as url:
        if url is None:
            print("\nPostgreSQL: unreachable at 127.0.0.1:5432, skipped")
        else:
            measure("postgresql", url, args.clients, args.warmup, args.duration, folder, summary)
    summary.print("signing through HTTP")


if __name__ == "__main__":
    main()
