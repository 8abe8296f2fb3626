"""Mail dispatch to a local SMTP server: mails per second of one `dispatch(None)` pass.

On a SQLite file and a throw-away PostgreSQL database: 2,000 confirmation mails are queued
by signing (signing.sign, in this process), then one pass delivers them all to aiosmtpd
(tests/smtp_server.py) on 127.0.0.1, run in a process of its own so it does not share this
one's interpreter lock. The server counts the SMTP sessions it saw: one per pass means the
backend reused its connection.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time

from harness import (
    OUT,
    PYTHON,
    ROOT,
    Summary,
    app_env,
    durability,
    flask,
    machine,
    pg_database,
    pg_settings,
)

sys.path.insert(0, str(ROOT))

SLUG = "bench-mail"
RATE_TARGET = 100


def serve() -> None:
    """Run the SMTP server until standard input closes; print what it received."""
    from tests.smtp_server import smtp_server

    with smtp_server() as server:
        print(server.port, flush=True)
        sys.stdin.read()
        received = list(server.received)
    print(json.dumps({"received": len(received),
                      "sessions": len({mail.peer for mail in received})}), flush=True)


def measure(kind: str, url: str, count: int, summary: Summary) -> None:
    from petition import create_app
    from petition.extensions import db
    from petition.letters import operations as letters
    from petition.mail.dispatcher import dispatch
    from petition.signatures import signing

    label = "SQLite" if kind == "sqlite" else "PostgreSQL"
    print(f"\n{label}: {durability(kind)}")
    if kind == "postgresql":
        print(f"  server: {pg_settings()}")
    flask(["db", "upgrade"], app_env(url))
    server = subprocess.Popen([PYTHON, __file__, "--serve"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    port = int(server.stdout.readline())
    env = app_env(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": env["SECRET_KEY"],
                      "EMAIL_KEY": env["EMAIL_KEY"], "MAIL_DISPATCH_IN_PROCESS": False,
                      "RATELIMIT_ENABLED": False, "EXPORT_DIR": env["EXPORT_DIR"],
                      "MAIL_URL": f"smtp://127.0.0.1:{port}"})
    try:
        with app.app_context():
            letters.create_letter(SLUG, lang="fr", title="Bench")
            started = time.perf_counter()
            for number in range(count):
                signing.sign(SLUG, signing.SignatureDetails(
                    signer_type="individual", name=f"Signer {number}", affiliation=None,
                    country="FR", email=f"mail{number}@example.org", display="full", lang="fr"))
            queued = time.perf_counter() - started
            db.session.remove()
            started = time.perf_counter()
            report = dispatch(None)
            seconds = time.perf_counter() - started
            db.session.remove()
            db.engine.dispose()
    finally:
        server.stdin.close()
        seen = json.loads(server.stdout.readline() or "{}")
        server.wait(10)
    rate = report.sent / seconds
    print(f"  queued {count} by signing in {queued:.1f} s ({count / queued:.0f}/s, in-process)")
    print(f"  dispatch(None): {report.sent} sent, {report.retrying} retrying, "
          f"{report.failed} failed "
          f"in {seconds:.2f} s = {rate:.0f} mails/s; the server received "
          f"{seen.get('received')} in {seen.get('sessions')} SMTP session(s)")
    summary.add(f"mail dispatch {label}", f"{rate:.0f}/s", f">= {RATE_TARGET}/s",
                rate >= RATE_TARGET and report.sent == count)
    summary.add(f"mail dispatch {label}: SMTP sessions per pass", str(seen.get("sessions")), "1",
                seen.get("sessions") == 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    print(f"mail dispatch to aiosmtpd on 127.0.0.1, plain SMTP, one pass; {machine()}")
    folder = OUT / "mail_dispatch"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    summary = Summary()
    measure("sqlite", f"sqlite:///{folder / 'mail.sqlite'}", args.count, summary)
    with pg_database("petition_bench_mail") as url:
        if url is None:
            print("\nPostgreSQL: unreachable at 127.0.0.1:5432, skipped")
        else:
            measure("postgresql", url, args.count, summary)
    summary.print("mail dispatch")


if __name__ == "__main__":
    main()
