"""Built press lists, kept per process and, when Redis is configured, shared between processes.

Rendering the press list of 100,000 signatures costs ~70 ms a request and building it after
a change ~0.5 s, in every worker. Here the bytes are built once per state of the list (the
letter's list_token), language and format, kept gzip-compressed (1.7 MB of text is ~0.6 MB),
in this process and in Redis under the token: after a change one process builds and the
others take its bytes. The token is random, so a restored or another database never finds
its own state's key filled with someone else's list.

What callers must do first: check the embargo against the database (grouping.public_state).
Nothing here knows about embargoes; a key is only ever asked for once the list is public.

Redis is an optimisation: any error, a timeout included, and this process goes on alone
(its own cache, its own builds) for RETRY_AFTER seconds, with one warning in the log.

What Redis holds is authenticated: HMAC-SHA256, under a key derived from SECRET_KEY
(HKDF), over the Redis key and the stored bytes. Whoever can write to Redis but does not
know SECRET_KEY cannot have a list of their own (another name added, one taken out) served
as the press list: bytes that fail the check are a miss (built here and stored again),
with one warning in the log.
"""
from __future__ import annotations

import ctypes
import datetime as dt
import gzip
import hashlib
import hmac
import itertools
import logging
import secrets
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app

from petition.extensions import REDIS_SCHEMES

if TYPE_CHECKING:
    import redis

logger = logging.getLogger(__name__)

KEY_PREFIX = "petition:press:"
TTL = 24 * 3600  # a list nobody asked for in a day leaves Redis
LOCK_SECONDS = 10  # a builder that died frees the others after this
WAIT = 2.0  # seconds a process with no previous list waits for another's build
POLL = 0.02
RETRY_AFTER = 10.0  # seconds without Redis after an error
LOCAL_BYTES = 12 * 1024 * 1024  # compressed bytes kept in each process
_EXTENSION = "petition.press_cache"
_MAC_BYTES = 32  # HMAC-SHA256, in front of what Redis keeps
_MAC_INFO = b"petition press cache: redis integrity"  # HKDF's info: this use of SECRET_KEY only


@dataclass(frozen=True)
class Built:
    """One press file: gzip bytes, and the state of the list they show."""

    token: str
    changed_at: dt.datetime | None
    gz: bytes
    seconds: float = 0.0  # what building it took, here or in the process that built it

    def body(self) -> bytes:
        return gzip.decompress(self.gz)


def etag(letter_id: int, token: str, lang: str, fmt: str) -> str:
    """The file's entity tag, known from the list's state alone (no build needed for a 304)."""
    return hashlib.sha256(
        f"{build_id()}:{letter_id}:{token}:{lang}:{fmt}".encode()
    ).hexdigest()[:32]


_build_id: str | None = None


def build_id() -> str:
    """What the bytes depend on besides the list: the code that renders them and the
    translations of its headings. A deploy that changes either must not be served lists
    built by the previous code from Redis."""
    global _build_id
    if _build_id is None:
        import babel

        from petition import text
        from petition.exporting import document, grouping, html_page, md, txt

        digest = hashlib.sha256(babel.__version__.encode())
        files = [Path(module.__file__ or "") for module in (document, grouping, text, txt, md,
                                                            html_page)]
        root = Path(__file__).resolve().parents[2]
        files += sorted((root / "translations").glob("*/LC_MESSAGES/*.mo"))
        for path in files:
            digest.update(path.name.encode())
            digest.update(path.read_bytes() if path.exists() else b"")
        _build_id = digest.hexdigest()[:16]
    return _build_id


def redis_url(config: Any) -> str | None:
    """CACHE_REDIS_URL; unset, the rate limits' Redis if they have one; None: no sharing."""
    url = config.get("CACHE_REDIS_URL")
    if url is None:
        url = config.get("RATELIMIT_STORAGE_URI") or ""
    return url if urlsplit(url).scheme in REDIS_SCHEMES else None


# Requests this process is serving now (views count them in and out): a build running in
# a thread holds the GIL for 5 ms at a time whenever a request wants it, which on a busy
# machine doubled the time of every request served meanwhile. Between batches of rows it
# waits for them instead, MAX_PAUSE at most, so a steady stream of requests cannot starve it.
serving = 0
_serving_lock = threading.Lock()
MAX_PAUSE = 0.05


def count_request(delta: int) -> None:
    """+1 when a request starts, -1 when it ends (never below 0: a request refused by an
    earlier hook ends without having started here)."""
    global serving
    with _serving_lock:
        serving = max(0, serving + delta)


def _yield_to_requests() -> None:
    deadline = time.monotonic() + MAX_PAUSE
    while serving and time.monotonic() < deadline:
        time.sleep(0.002)


def _give_back_memory() -> None:
    """Hand the build's freed heap back to the system (glibc keeps it otherwise): ~10 MB of
    a worker's RSS after each build of a 100,000-name list. Elsewhere (musl, macOS) nothing."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim: Callable[[int], int] | Literal[False] | None = None


def mac_key(secret: str | bytes) -> bytes:
    """The key of the HMAC over what Redis keeps, derived from SECRET_KEY for that use only."""
    material = secret.encode() if isinstance(secret, str) else secret
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_MAC_INFO).derive(material)


def _unpack(token: str, changed_at: dt.datetime | None, packed: bytes) -> Built:
    """A file as Redis keeps it: the seconds its build took, then the gzip bytes."""
    (seconds,) = struct.unpack("!d", packed[:8])
    return Built(token, changed_at, packed[8:], seconds)


class _Job:
    """One build in progress: the requests that want it wait on `done`."""

    def __init__(self, number: int) -> None:
        self.number = number  # jobs started later read a newer (or the same) list state
        self.done = threading.Event()
        self.built: Built = None  # type: ignore[assignment]  # set before done
        self.error: BaseException | None = None


class PressCache:
    """The per-process store and the Redis client of one app."""

    def __init__(self, url: str | None, timeout: float, secret: str | bytes | None = None) -> None:
        """`secret`: the app's SECRET_KEY; without one a key of this process's own (nothing
        another process stored is then ever taken)."""
        self.url, self.timeout = url, timeout
        self._mac_key = mac_key(secret if secret is not None else secrets.token_bytes(32))
        self._warned_integrity = False
        self._client: redis.Redis | None = None
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._local: OrderedDict[tuple, Built] = OrderedDict()
        self._jobs: dict[tuple, _Job] = {}
        self._started = itertools.count()
        self._kept_from: dict[tuple, int] = {}  # slot: the job whose file _local holds

    # --- the one entry point -------------------------------------------------------------

    def get(self, slot: tuple, token: str, changed_at: dt.datetime | None, shareable: bool,
            build: Callable[[], bytes], wait: float) -> Built:
        """The file of `slot` (letter id, language, format) at `token`: from this process,
        from Redis, or built by build() in a thread of its own (once per process and, with
        Redis, once for all processes).

        A list whose last build here took longer than `wait` seconds (a big letter) is
        waited for `wait` seconds at most: past that the previous file of the slot is
        returned (Built.token says so) while the build goes on, as the page does. The first
        visitors after a signature then do not each pay for the rebuild; the next ones get
        the new list. Smaller lists are always waited for: they come back fresh."""
        with self._lock:
            kept = self._local.get(slot)
            if kept is not None and kept.token == token:
                self._local.move_to_end(slot)
                return kept
            job = self._jobs.get((slot, token))
            joined = job is not None
            if job is None:
                job = self._jobs[(slot, token)] = _Job(next(self._started))
                # Flask's stubs type current_app as Flask, not its LocalProxy
                app = current_app._get_current_object()  # type: ignore[attr-defined]
                threading.Thread(target=self._run, daemon=True, name="press-build",
                                 args=(app, job, slot, token, changed_at, shareable,
                                       build)).start()
        # The request that starts a big list's build waits `wait`; those that come while it
        # runs take the previous file at once.
        big = kept is not None and kept.seconds > wait
        patience = (0.0 if joined else wait) if big else WAIT + LOCK_SECONDS
        if not job.done.wait(patience) and kept is not None:
            return kept
        job.done.wait()  # nothing to show instead (a new worker): as long as it takes
        if job.error is not None:
            raise job.error  # ListEmbargoed included: never the previous list then
        return job.built

    def _run(self, app: Flask, job: _Job, slot: tuple, token: str,
             changed_at: dt.datetime | None, shareable: bool, build: Callable[[], bytes]) -> None:
        from petition.exporting.collect import between_batches

        between_batches.pause = _yield_to_requests
        try:
            with app.app_context():
                try:
                    job.built = self._fetch_or_build(slot, token, changed_at, shareable, build)
                    self._keep(slot, job.built, job.number)
                finally:
                    from petition.extensions import db

                    db.session.remove()
                    _give_back_memory()
        except Exception as error:  # the waiting request reports it
            logger.exception("press list: building %s failed", slot)
            job.error = error
        finally:
            with self._lock:
                self._jobs.pop((slot, token), None)
            job.done.set()

    def _fetch_or_build(self, slot: tuple, token: str, changed_at: dt.datetime | None,
                        shareable: bool, build: Callable[[], bytes]) -> Built:
        key = self._key(slot, token)
        client = self._redis() if shareable else None
        owner = False
        if client is not None:
            packed = self._opened(key, self._call(client.get, key))
            if packed:
                return _unpack(token, changed_at, packed)
            owner = bool(self._call(client.set, key + ":lock", 1, nx=True, ex=LOCK_SECONDS))
            if not owner and self._alive():  # another process builds it: take its bytes
                packed = self._wait_for(client, key)
                if packed:
                    return _unpack(token, changed_at, packed)
        try:
            built = self._built(token, changed_at, build)
            if owner and client is not None and self._alive():
                self._call(client.set, key,
                           self._sealed(key, struct.pack("!d", built.seconds) + built.gz), ex=TTL)
        finally:
            # a failed build frees the others at once
            if owner and client is not None and self._alive():
                self._call(client.delete, key + ":lock")
        return built

    # --- helpers --------------------------------------------------------------------------

    @staticmethod
    def _built(token: str, changed_at: dt.datetime | None, build: Callable[[], bytes]) -> Built:
        started = time.perf_counter()
        # Level 1: ~3x smaller for ~15 ms on 1.7 MB; level 6 costs ten times that.
        # mtime=0: the same list gives the same bytes in every process.
        gz = gzip.compress(build(), compresslevel=1, mtime=0)
        return Built(token, changed_at, gz, time.perf_counter() - started)

    def _wait_for(self, client: redis.Redis, key: str) -> bytes | None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and self._alive():
            time.sleep(POLL)
            packed = self._opened(key, self._call(client.get, key))
            if packed:
                return packed
        return None

    def _mac(self, key: str, packed: bytes) -> bytes:
        name = key.encode()
        return hmac.new(self._mac_key, struct.pack("!I", len(name)) + name + packed,
                        hashlib.sha256).digest()

    def _sealed(self, key: str, packed: bytes) -> bytes:
        """What Redis keeps under `key`: the HMAC of the key and the bytes, then the bytes."""
        return self._mac(key, packed) + packed

    def _opened(self, key: str, stored: bytes | None) -> bytes | None:
        """The bytes Redis keeps under `key` if their HMAC is right; None (a miss) if not."""
        if not stored:
            return None
        mac, packed = stored[:_MAC_BYTES], stored[_MAC_BYTES:]
        if len(packed) > 8 and hmac.compare_digest(mac, self._mac(key, packed)):
            return packed
        with self._lock:
            warn, self._warned_integrity = not self._warned_integrity, True
        if warn:
            logger.warning("press lists: a file in Redis failed its integrity check (changed "
                           "in Redis, or stored under another SECRET_KEY): not served, built "
                           "here instead")
        return None

    def _keep(self, slot: tuple, built: Built, number: int) -> None:
        with self._lock:
            if self._kept_from.get(slot, -1) > number:
                return  # a build started after this one finished first: keep the newer
            self._kept_from[slot] = number
            self._local[slot] = built
            self._local.move_to_end(slot)
            while (len(self._local) > 1
                   and sum(len(item.gz) for item in self._local.values()) > LOCAL_BYTES):
                self._kept_from.pop(self._local.popitem(last=False)[0], None)

    @staticmethod
    def _key(slot: tuple, token: str) -> str:
        letter_id, lang, fmt = slot
        return f"{KEY_PREFIX}{build_id()}:{letter_id}:{token}:{lang}:{fmt}"

    def _alive(self) -> bool:
        return time.monotonic() >= self._down_until

    def _redis(self) -> redis.Redis | None:
        if self.url is None or not self._alive():
            return None
        if self._client is None:
            import redis

            # limits spells a Unix socket redis+unix://; redis-py wants unix://.
            url = ("unix" + self.url[len("redis+unix"):] if self.url.startswith("redis+unix")
                   else self.url)
            self._client = redis.Redis.from_url(url, socket_connect_timeout=self.timeout,
                                                socket_timeout=self.timeout)
        return self._client

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """method(*args) on Redis; None (and Redis set aside for a while) on any error."""
        import redis

        try:
            return method(*args, **kwargs)
        except (redis.RedisError, OSError) as error:
            with self._lock:
                was_alive = self._alive()
                self._down_until = time.monotonic() + RETRY_AFTER
            if was_alive:
                logger.warning("press lists: Redis does not answer (%s); each process builds "
                               "its own meanwhile", str(error).splitlines()[0] if str(error) else
                               type(error).__name__)
            return None


def cache(app: Flask | None = None) -> PressCache:
    """The app's PressCache, made on first use (in the worker, after any fork)."""
    # Flask's stubs type current_app as Flask, not its LocalProxy
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get(_EXTENSION)
    if found is None:
        found = app.extensions.setdefault(_EXTENSION, PressCache(
            redis_url(app.config), float(app.config.get("CACHE_REDIS_TIMEOUT", 0.5)),
            app.config.get("SECRET_KEY")))
    return found
