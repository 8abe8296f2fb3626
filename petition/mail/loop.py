"""Run dispatch() again and again: the `flask mail worker` loop and the in-process thread."""
from __future__ import annotations

import threading
import time

from flask import Flask

from .. import housekeeping
from .dispatcher import dispatch

PURGE_EVERY = 3600.0  # seconds between two purges of expired failed mail by a loop


class DispatchLoop:
    """Call dispatch() every `interval` seconds until stopped, surviving errors."""

    def __init__(self, app: Flask, interval: float, batch: int = 50) -> None:
        self.app, self.interval, self.batch = app, interval, batch
        self.stopping = threading.Event()
        self.wakeup = threading.Event()
        self.failures = 0  # passes that raised: for health checks and tests
        self._last_purge = float("-inf")

    def run(self, max_loops: int | None = None) -> None:
        loops = 0
        while not self.stopping.is_set():
            busy = False
            try:
                with self.app.app_context():
                    busy = dispatch(self.batch).claimed >= self.batch
                    if time.monotonic() - self._last_purge >= PURGE_EVERY:
                        housekeeping.run()
                        self._last_purge = time.monotonic()
            except Exception:  # a database or config hiccup must not end delivery for good
                self.failures += 1
                self.app.logger.exception("mail dispatch failed; trying again later")
            loops += 1
            if max_loops is not None and loops >= max_loops:
                break
            if not busy:  # more is due: go on at once
                self.wakeup.wait(self.interval)
            self.wakeup.clear()

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
