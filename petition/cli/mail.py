"""`flask mail send|worker|status|retry`: deliver the outbox from the command line."""
from __future__ import annotations

import datetime as dt
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup

from petition.abuse import events as abuse_events
from petition.core import remnants
from petition.mail import dispatcher, outbox
from petition.models import utcnow
from petition.privacy import retention
from petition.worker import DispatchLoop

mail_cli = AppGroup("mail", help="Deliver outbox mail.")


@mail_cli.command("send")
@click.option("--limit", type=click.IntRange(min=1), help="Send at most this many mails.")
def send_command(limit: int | None) -> None:
    """Deliver all due mail once, then exit.

    The exit status is 1 when some mail was deferred or given up.
    """
    report = dispatcher.dispatch(limit)
    retention.purge_expired()
    abuse_events.forget()  # cron-only sites forget submission events on time too
    remnants.checkpoint_wal()  # delivered mail and purged rows out of SQLite's log
    click.echo(f"Sent {report.sent}, deferred {report.retrying}, failed {report.failed}.")
    if report.dropped:
        click.echo(f"Dropped {report.dropped} obsolete (signature withdrawn or confirmed, or "
                   f"its link replaced, before delivery).")
    if report.retrying or report.failed:
        # Non-zero so cron and monitoring notice an unreachable or refusing server.
        raise SystemExit(1)


@contextmanager
def _stop_on_signals(loop: DispatchLoop) -> Iterator[None]:
    """Turn SIGTERM and a first Ctrl-C into a clean stop after the current pass."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handle(signum: int, frame: object) -> None:
        if loop.stopping.is_set():
            raise KeyboardInterrupt  # asked twice: stop now
        loop.stop()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@mail_cli.command("worker")
@click.option("--interval", type=click.FloatRange(min=0),
              help="Seconds between two passes (default: MAIL_DISPATCH_INTERVAL).")
@click.option("--max-loops", type=click.IntRange(min=1), hidden=True)
def worker_command(interval: float | None, max_loops: int | None) -> None:
    """Keep delivering due mail until Ctrl-C or SIGTERM."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if interval is None:
        interval = float(app.config["MAIL_DISPATCH_INTERVAL"])
    loop = DispatchLoop(app, interval)
    click.echo(f"Delivering mail every {interval:g} s; Ctrl-C to stop.")
    try:
        with _stop_on_signals(loop):
            loop.run(max_loops)
    except KeyboardInterrupt:
        pass  # a mail interrupted mid-send stays claimed and goes out after its lease
    click.echo("Mail worker stopped.")


@mail_cli.command("status")
def status_command() -> None:
    """Show how many mails are queued, sending, sent and failed, and the oldest waiting."""
    numbers = outbox.counts()
    for status in ("queued", "sending", "sent", "failed"):
        click.echo(f"{status}: {numbers.get(status, 0)}")
    if numbers.get("dropped"):  # obsolete before delivery: see messages.Obsolete
        click.echo(f"dropped: {numbers['dropped']}")
    now = utcnow()
    waiting = outbox.oldest_waiting(now)
    if waiting is None:
        click.echo("oldest waiting: none")
        return
    click.echo(f"oldest waiting: {_duration(waiting.age(now))} "
               f"(queued {_when(waiting.queued_at)}, {_why(waiting)})")


_WHY = {
    outbox.DUE: "due now",
    outbox.DEFERRED: "deferred after {attempts} failed attempt(s), next try {until}",
    outbox.HELD: "held by the per-address cap until {until}",
    outbox.PACED: "a news update's mail, paced by NEWS_MAILS_PER_MINUTE, due {until}",
    outbox.SENDING: "being sent, lease until {until}",
}


def _why(waiting: outbox.Waiting) -> str:
    until = _when(waiting.until) if waiting.until else ""
    return _WHY[waiting.state].format(attempts=waiting.attempts, until=until)


def _when(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(span: dt.timedelta) -> str:
    """3 min 12 s, 2 h 5 min, 3 d 4 h: two units are enough to read at a glance."""
    seconds = max(int(span.total_seconds()), 0)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
    return " ".join(parts[:2])


@mail_cli.command("retry")
def retry_command() -> None:
    """Queue failed mails again.

    Only those still holding a recipient: failed mails are cleared after
    MAIL_FAILED_RETENTION (default CONFIRM_MAX_AGE) seconds.
    """
    click.echo(f"Queued {outbox.requeue_failed()} failed mail(s) again.")
