"""Signing and confirming through HTTP under gunicorn, against a bare one-insert endpoint.

For a SQLite file and a throw-away PostgreSQL database: gunicorn with the shipped config
and 2 workers serves the app (CSRF on, rate limits off: all load comes from one address,
mail left in the outbox); the load generator, a process of its own, runs N clients that
each GET the letter page (/letters/<slug>?lang=fr) once for its form's `form_started` stamp,
then POST the form again and again for a fixed time after a warm-up, each POST with
`Sec-Fetch-Site: same-origin` and the page as Referer, as a browser sends them (the public
forms carry no token and their pages set no cookie: docs/caching.md). The pending
signatures this leaves are then confirmed under the same load (the same headers), with the
tokens their outbox mails hold. The bare
Flask + SQLAlchemy app (bare_app.py) runs the same way on the same database, beside it; the
ratio petition/bare is the figure. The two take turns in short rounds (petition, bare,
petition, bare...), so that a busy stretch of a shared machine weighs on both alike; the
ratio is of their combined rates, each round's is printed too. Worker memory is sampled
from /proc during the load.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Callable

from harness import (
    HERE,
    OUT,
    PYTHON,
    ROOT,
    Gunicorn,
    Summary,
    app_env,
    describe,
    durability,
    flask,
    load,
    machine,
    median,
    pg_database,
    pg_settings,
    sample_rss,
)

sys.path.insert(0, str(ROOT))

SLUG = "bench-sign"
RATIO_TARGET, P99_TARGET, RSS_TARGET = 0.5, 0.250, 150


def _setup_app(url: str):
    from petition import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
        "EMAIL_KEY": app_env(url)["EMAIL_KEY"],
        "MAIL_DISPATCH_IN_PROCESS": False, "RATELIMIT_ENABLED": False, "SIGN_MIN_SECONDS": 0,
        "EXPORT_DIR": str(OUT / "exports"),
    })


def prepare(url: str) -> None:
    """Migrate with `flask db upgrade` (its own process) and create the open letter."""
    flask(["db", "upgrade"], app_env(url))
    from petition.extensions import db
    from petition.letters import operations as letters

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


def combined(results: list[dict]) -> dict:
    """Rounds as one run: requests over their summed time, the median p50, the worst p99."""
    count = sum(result["count"] for result in results)
    elapsed = sum(result["elapsed"] for result in results)
    return {"count": count, "elapsed": elapsed, "rate": count / elapsed if elapsed else 0.0,
            "errors": sum(result["errors"] for result in results),
            "p50": median([result["p50"] for result in results]),
            "p99": max(result["p99"] for result in results)}


def alternate(petition: Callable[[int], dict], bare: Callable[[int], dict],
              rounds: int) -> tuple[dict, dict, list[float]]:
    """`rounds` times petition then bare, back to back: whatever else the machine does in a
    stretch weighs on both alike. Both combined, and the ratio of each round."""
    ours, theirs = [], []
    for number in range(rounds):
        ours.append(petition(number))
        theirs.append(bare(number))
    ratios = [mine["rate"] / other["rate"] if other["rate"] else 0.0
              for mine, other in zip(ours, theirs, strict=True)]
    return combined(ours), combined(theirs), ratios


def measure(kind: str, url: str, clients: int, warmup: float, duration: float, rounds: int,
            folder, summary: Summary) -> None:
    label = "SQLite" if kind == "sqlite" else "PostgreSQL"
    print(f"\n{label}: {durability(kind)}")
    if kind == "postgresql":
        print(f"  server: {pg_settings()}")
    prepare(url)
    env = app_env(url)
    subprocess.run([PYTHON, str(HERE / "bare_app.py"), "init"], env=env, check=True, cwd=ROOT)
    spec = {"clients": clients, "warmup": warmup, "duration": duration}
    with Gunicorn("wsgi:app", env, folder, f"{kind}-petition") as server, \
            Gunicorn("bare_app:app", env, folder, f"{kind}-bare", pythonpath=HERE) as plain:
        server.wait_ready("/healthz")
        plain.wait_ready("/")
        print(f"  {server.settings}; the bare app the same way beside it; load: {clients} "
              f"clients, {rounds} rounds of {warmup:g} s warm-up + {duration:g} s each, "
              f"petition and bare in turn")

        def bare(number: int, phase: str) -> dict:
            return load({**spec, "kind": "bare", "port": plain.port, "path": "/insert",
                         "run_id": f"{kind}-{phase}{number}"})

        with sample_rss(server.workers()) as peaks:
            sign, bare_sign, sign_ratios = alternate(
                lambda number: load({**spec, "kind": "sign", "port": server.port, "slug": SLUG,
                                     "lang": "fr", "run_id": f"{kind}{number}"}),
                lambda number: bare(number, "s"), rounds)
            signatures, mails, found = committed(url)
            share = len(found) // rounds
            confirm, bare_confirm, confirm_ratios = alternate(
                lambda number: load({**spec, "kind": "confirm", "port": server.port,
                                     "slug": SLUG,
                                     "tokens": found[number * share:(number + 1) * share]}),
                lambda number: bare(number, "c"), rounds)
        sign_rss = max(peaks.values())
    print(f"  sign POST   : {describe(sign)}")
    print(f"  bare insert : {describe(bare_sign)}  (in turn with signing)")
    print(f"                {signatures} signatures and {mails} outbox mails committed")
    print(f"  confirm POST: {describe(confirm)}  ({len(found)} links from the outbox)")
    print(f"  bare insert : {describe(bare_confirm)}  (in turn with confirming)")
    print(f"  worker RSS during signing and confirming: max {sign_rss:.0f} MB "
          f"({', '.join(f'{mb:.0f}' for mb in peaks.values())} MB)")
    for name, result, yardstick, ratios in (("sign", sign, bare_sign, sign_ratios),
                                            ("confirm", confirm, bare_confirm, confirm_ratios)):
        ratio = result["rate"] / yardstick["rate"] if yardstick["rate"] else 0.0
        print(f"  {name} ratio petition/bare: {ratio:.2f} "
              f"(rounds: {', '.join(f'{value:.2f}' for value in ratios)})")
        summary.add(f"{name} HTTP {label}: rate petition/bare", f"{ratio:.2f}",
                    f">= {RATIO_TARGET}", ratio >= RATIO_TARGET and not result["errors"])
        summary.add(f"{name} HTTP {label}: p99", f"{result['p99'] * 1000:.0f} ms",
                    f"< {P99_TARGET * 1000:.0f} ms", result["p99"] < P99_TARGET)
    summary.add(f"worker RSS, signing {label}", f"{sign_rss:.0f} MB", f"<= {RSS_TARGET} MB",
                sign_rss <= RSS_TARGET)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--databases", nargs="+", choices=("sqlite", "postgresql"),
                        default=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"signing and confirming through HTTP; {machine()}")
    folder = OUT / "http_signing"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    summary = Summary()
    if "sqlite" in args.databases:
        measure("sqlite", f"sqlite:///{folder / 'sign.sqlite'}", args.clients, args.warmup,
                args.duration, args.rounds, folder, summary)
    if "postgresql" not in args.databases:
        summary.print("signing through HTTP")
        return
    with pg_database("petition_bench_http") as url:
        if url is None:
            print("\nPostgreSQL: unreachable at 127.0.0.1:5432, skipped")
        else:
            measure("postgresql", url, args.clients, args.warmup, args.duration, args.rounds,
                    folder, summary)
    summary.print("signing through HTTP")


if __name__ == "__main__":
    main()
