"""The background worker: mail delivery, then what is due to be forgotten, again and again.

It runs as `flask mail worker` or as a thread of each web process. Each pass calls, in turn,
the mail dispatcher (which first answers withdrawal requests through the hook create_app()
registers), the hourly purge, the daily retention run and SQLite's log checkpoint, so the
mail package never imports what it runs beside.
"""
from __future__ import annotations

import threading
import time

from flask import Flask, Response

from petition.abuse import events as abuse_events
from petition.core import remnants
from petition.mail.dispatcher import check_settings, dispatch
from petition.mail.outbox import take_enqueued_flag
from petition.privacy import retention
from petition.signatures import invalidation

PURGE_EVERY = 3600.0  # seconds between two purges (and PostgreSQL rewrites) by a loop
RETENTION_EVERY = 86400.0  # seconds between two retention runs (and VACUUMs) by a loop
# Seconds a confirmation's cleared address may stay in SQLite's log at most.
CHECKPOINT_EVERY = 60.0


class DispatchLoop:
    """Call dispatch() every `interval` seconds until stopped, surviving errors."""

    def __init__(self, app: Flask, interval: float, batch: int = 50) -> None:
        self.app, self.interval, self.batch = app, interval, batch
        self.stopping = threading.Event()
        self.wakeup = threading.Event()
        self.failures = 0  # passes that raised: for health checks and tests
        self._last_purge = float("-inf")
        self._last_retention = float("-inf")
        # Delivered mail leaves its cleared body in SQLite's log until a checkpoint; one
        # held back by readers is tried again on the next pass.
        self._checkpoint_due = False
        self._last_checkpoint = time.monotonic()

    def run(self, max_loops: int | None = None) -> None:
        loops = 0
        while not self.stopping.is_set():
            busy = False
            try:
                with self.app.app_context():
                    claimed = dispatch(self.batch).claimed
                    busy = claimed >= self.batch
                    self._checkpoint_due = self._checkpoint_due or claimed > 0
                    self._housekeeping()
                    # Big bulk invalidations, a chunk per pass: more left, go on at once.
                    busy = invalidation.run_pending() or busy
            except Exception:  # a database or config hiccup must not end delivery for good
                self.failures += 1
                self.app.logger.exception("mail dispatch failed; trying again later")
            loops += 1
            if max_loops is not None and loops >= max_loops:
                break
            if not busy:  # more is due: go on at once
                self.wakeup.wait(self.interval)
            self.wakeup.clear()

    def _housekeeping(self) -> None:
        """Purge hourly and leave nothing of the hour's withdrawn, purged or confirmed rows
        in PostgreSQL's files; run retention daily; checkpoint SQLite's log after delivering
        mail and every minute (a confirmation clears an address too)."""
        if time.monotonic() - self._last_purge >= PURGE_EVERY:
            retention.purge_expired()
            abuse_events.forget()  # submission events kept ABUSE_EVENT_HOURS, no longer
            # On SQLite a checkpoint; on PostgreSQL the tables rewritten, WAL and all.
            self._checkpoint_due = not remnants.rewrite()
            self._last_purge = time.monotonic()
        if time.monotonic() - self._last_retention >= RETENTION_EVERY:
            for erasure in retention.run():
                self.app.logger.info("retention: erased %d fingerprints and %d pending "
                                     "signatures of %s", erasure.fingerprints, erasure.pending,
                                     erasure.slug)
            self._last_retention = time.monotonic()
        if self._checkpoint_due or time.monotonic() - self._last_checkpoint >= CHECKPOINT_EVERY:
            self._checkpoint_due = not remnants.checkpoint_wal()
            self._last_checkpoint = time.monotonic()

    def stop(self) -> None:
        self.stopping.set()
        self.wakeup.set()


class InProcessDispatcher:
    """One daemon thread per process delivering mail, started by the first request."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.loop: DispatchLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ensure_started(self) -> None:
        # A forked worker (gunicorn) sees the parent's thread as dead and starts its own.
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self.loop = DispatchLoop(self.app, float(self.app.config["MAIL_DISPATCH_INTERVAL"]))
            self._thread = threading.Thread(target=self.loop.run, name="petition-mail",
                                            daemon=True)
            self._thread.start()

    def wake(self) -> None:
        if self.loop is not None:
            self.loop.wakeup.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread and wait for it (tests, orderly shutdown)."""
        if self.loop is not None:
            self.loop.stop()
        if self._thread is not None:
            self._thread.join(timeout)


def init_app(app: Flask) -> None:
    """Check the mail settings; start in-process delivery on the first request if enabled."""
    check_settings(app)
    if not app.config["MAIL_DISPATCH_IN_PROCESS"]:
        return
    dispatcher = InProcessDispatcher(app)
    app.extensions["petition_mail_dispatcher"] = dispatcher
    # Lazily, so CLI commands, migrations and tests never start a thread.
    app.before_request(dispatcher.ensure_started)

    @app.after_request
    def wake_dispatcher(response: Response) -> Response:
        # Mail queued by this request goes out now rather than at the next tick.
        if take_enqueued_flag():
            dispatcher.wake()
        return response
