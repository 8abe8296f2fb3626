"""Soft limits: per letter, how many submissions one client address, one address block
(/24, /64) and one mail domain may send, in a burst and over a day, before what they send
is flagged. A flagged signature is kept, confirmed like any other and mailed like any
other; it is only neither counted nor listed, and waits in the moderation queue with its
reason ("block-burst", "domain-sustained"…). The sender is told nothing.

Counted in the limiter's storage (memory in development and tests, Redis in production,
so every worker shares the counts), not in the abuse_event table: counting one address
over a day there would read every event of a viral letter's day on each signature (the
table is indexed by letter and time only), where a counter costs one INCR, and a
submission's counters go to Redis as one pipeline (tally()). Each rate is a
fixed window keyed by its number (epoch seconds // window), so the clock is ours (tests
travel in time) and the storage only expires old windows. A fixed window lets up to twice
the rate through around its edge: enough for a limit that flags rather than refuses.

Big free-mail providers (ABUSE_COMMON_DOMAINS) are exempt from the domain limit: on a
viral day thousands of real people sign with gmail.com, and counting it like a bot's own
domain would flag them; their submissions still count against the address and block
limits. A storage that fails (Redis away) flags nothing: the hard limits still hold.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.storage import RedisStorage, Storage, storage_from_string

from petition.abuse.network import Network
from petition.accounts import audit
from petition.extensions import db
from petition.letters.operations import get_letter
from petition.models import Letter, utcnow

log = logging.getLogger(__name__)

ADDRESS, BLOCK, DOMAIN = "address", "block", "domain"
KINDS = (ADDRESS, BLOCK, DOMAIN)
_SETTING = {ADDRESS: "ABUSE_SOFT_LIMIT_ADDRESS", BLOCK: "ABUSE_SOFT_LIMIT_BLOCK",
            DOMAIN: "ABUSE_SOFT_LIMIT_DOMAIN"}
OFF = "off"  # a letter's own value turning one kind off
FIELD_MAX = 200  # a rate text, as the back office's field takes it
LONGEST = 31 * 24 * 3600  # no window longer than a month: the storage keeps each that long
_EXTENSION = "petition_soft_limits"
NOT_A_RATE, OUT_OF_RANGE = "not-a-rate", "out-of-range"  # SoftLimitError.code


class SoftLimitError(ValueError):
    """A soft limit that cannot be set: the reason in plain words (English, for the
    command line); `code`, `value` and, when known, `kind` let a page say it in its own
    language next to the field."""

    def __init__(self, message: str, *, code: str = NOT_A_RATE, value: str = "",
                 kind: str | None = None) -> None:
        super().__init__(message)
        self.code, self.value, self.kind = code, value, kind


@dataclass(frozen=True)
class Submission:
    """Where one submission came from, as the limits count it."""

    letter_id: int
    network: Network
    email_domain: str


@lru_cache(maxsize=256)  # the same few texts on every submission
def parse(text: str) -> tuple[RateLimitItem, ...]:
    """Rates in flask-limiter's syntax ("5 per 10 minutes;20 per day"), shortest window
    first; () for "off". SoftLimitError if it is not that."""
    text = (text or "").strip()
    if text.lower() == OFF:
        return ()
    try:
        items = parse_many(text) if text else []
    except ValueError:
        items = []
    if not items:
        raise SoftLimitError(f"{text!r} is not a rate such as \"5 per 10 minutes;20 per day\" "
                             f"(or \"{OFF}\").", value=text)
    for item in items:
        if item.amount < 1 or item.get_expiry() > LONGEST:
            raise SoftLimitError(f"{item} is not a rate of 1 or more per month at most.",
                                 code=OUT_OF_RANGE, value=text)
    return tuple(sorted(items, key=lambda item: item.get_expiry()))


def overrides(letter: Letter) -> dict[str, str]:
    """The letter's own limits, kind → rate text (the site's defaults for the others)."""
    try:
        found = json.loads(letter.soft_limits or "{}")
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {kind: value for kind, value in found.items()
            if kind in KINDS and isinstance(value, str)}


def effective(letter: Letter) -> dict[str, str]:
    """Kind → the rate text in force for the letter (its own, else the site's)."""
    own = overrides(letter)
    config = current_app.config
    return {kind: own.get(kind, config[_SETTING[kind]]) for kind in KINDS}


def site_defaults() -> dict[str, str]:
    """Kind → the site's rate text (ABUSE_SOFT_LIMIT_*), what a letter without its own has."""
    config = current_app.config
    return {kind: config[_SETTING[kind]] for kind in KINDS}


def parse_overrides(text: str) -> dict[str, str]:
    """"address=5 per 10 minutes;20 per day, block=off" → {kind: rate text}, each checked;
    "" or "default" → {} (the site's defaults). Kinds are separated by commas or spaces
    before a "kind="; rates within a kind by ";"."""
    text = (text or "").strip()
    if text.lower() in ("", "default", "defaults"):
        return {}
    found: dict[str, str] = {}
    kind = None
    for token in text.replace(",", " ").split():
        name, equals, rest = token.partition("=")
        if equals and name.strip().lower() in KINDS:
            kind = name.strip().lower()
            if kind in found:
                raise SoftLimitError(f"{kind} is given twice.")
            found[kind] = rest
        elif equals:
            raise SoftLimitError(f"Unknown kind {name!r}: use {', '.join(KINDS)}.")
        elif kind is None:
            raise SoftLimitError("Give each limit as kind=rate, e.g. "
                                 "address=5 per 10 minutes;20 per day.")
        else:
            found[kind] = f"{found[kind]} {token}".strip()
    for kind, value in found.items():
        parse(value)  # checked
        found[kind] = " ".join(value.split())
    return found


def parse_fields(values: dict[str, str]) -> dict[str, str]:
    """One text per kind, as the back office's three fields give them: "" is the site's
    default, "off" none, else a rate; → {kind: rate text} as parse_overrides() gives.
    SoftLimitError naming its `kind` for the first value that is not a rate."""
    found: dict[str, str] = {}
    for kind in KINDS:
        value = " ".join((values.get(kind) or "").split())
        if not value:
            continue
        try:
            if len(value) > FIELD_MAX:
                raise SoftLimitError(f"{value[:40]!r}… is too long for a rate.", value=value)
            parse(value)
        except SoftLimitError as error:
            error.kind = kind
            raise
        found[kind] = OFF if value.lower() == OFF else value
    return found


def set_for_letter(slug: str, text: str, actor: str = "cli") -> Letter:
    """Set the letter's own soft limits from `text` (parse_overrides()); audited,
    committed. SoftLimitError, with nothing written, if a value is not a rate."""
    return set_overrides(slug, parse_overrides(text), actor)


def set_overrides(slug: str, wanted: dict[str, str], actor: str) -> Letter:
    """Set the letter's own soft limits to `wanted` (from parse_overrides() or
    parse_fields(): checked; {} for the site's defaults); audited when they change,
    committed."""
    letter = get_letter(slug)
    before = letter.soft_limits
    letter.soft_limits = json.dumps(wanted, sort_keys=True) if wanted else None
    if letter.soft_limits != before:
        audit.record(actor, "letter.soft_limits", letter_slug=letter.slug,
                     detail=f"{before or 'defaults'} → {letter.soft_limits or 'defaults'}",
                     commit=False)
    db.session.commit()
    return letter


def is_common(domain: str) -> bool:
    """A big mail provider's domain (ABUSE_COMMON_DOMAINS, or a subdomain of one)."""
    common = current_app.config["ABUSE_COMMON_DOMAINS"]
    parts = domain.split(".")
    return any(".".join(parts[index:]) in common for index in range(len(parts) - 1))


def _storage(app: Flask) -> Storage:
    storage = app.extensions.get(_EXTENSION)
    if storage is None:
        options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"], **options)
        assert isinstance(storage, Storage)  # a synchronous one, as the limiter's
        app.extensions[_EXTENSION] = storage
    return storage


@dataclass(frozen=True)
class Tally:
    """What the storage's counters say of one submission."""

    flag_reason: str | None = None  # the first soft limit it passed ("block-burst"…)
    block_may_trend: bool = True  # its block or domain may have reached a trend threshold
    domain_may_trend: bool = True


def tally(submission: Submission, letter: Letter, *, soft: bool = True,
          now: float | None = None) -> Tally:
    """Count one submission: against the letter's soft limits (unless `soft` is false: a
    rule decided), and per block and domain and clock hour for the trends. One round trip
    to Redis (a pipeline), none to the database.

    Soft limits: every kind is counted, even past a limit, so a sender stays flagged while
    it keeps sending; the first rate passed is the reason. Trends: the block (domain) may
    have reached ABUSE_TREND_BLOCK_PER_HOUR (…DOMAIN…) in the last sixty minutes when this
    clock hour's count and the last's together reach it (never less than the sixty
    minutes' own): only then does the signing path count the events in the database
    (alerts.check_and_alert()), a round trip most submissions are spared. A storage that
    fails flags nothing and says "maybe" of the trends."""
    config = current_app.config
    when = now if now is not None else utcnow().timestamp()
    hour = int(when // 3600)
    values = {ADDRESS: submission.network.address_hash, BLOCK: submission.network.block_hash,
              DOMAIN: submission.email_domain}
    # (key, window in seconds, limit, reason) to count; the trends' keys after.
    counted: list[tuple[str, int, int, str | None]] = []
    if soft and config["ABUSE_SOFT_LIMITS_ENABLED"]:
        rates = effective(letter)
        for kind in KINDS:
            value = values[kind]
            if not value or (kind == DOMAIN and is_common(value)):
                continue
            try:
                items = parse(rates[kind])
            except SoftLimitError:  # a letter's value gone bad: counted by nothing
                log.warning("soft limit %s of letter %s is not a rate", kind, letter.id)
                items = ()
            for index, item in enumerate(items):
                seconds = item.get_expiry()
                counted.append((f"petition-soft/{letter.id}/{kind}/{value}/{seconds}/"
                                f"{int(when // seconds)}", seconds, item.amount,
                                f"{kind}-{'burst' if index == 0 else 'sustained'}"))
    trends = []
    for kind, threshold in ((BLOCK, config["ABUSE_TREND_BLOCK_PER_HOUR"]),
                            (DOMAIN, config["ABUSE_TREND_DOMAIN_PER_HOUR"])):
        if values[kind]:
            key = f"petition-trend/{letter.id}/{kind}/{values[kind]}/"
            counted.append((f"{key}{hour}", 7200, int(threshold), None))
            trends.append((kind, f"{key}{hour - 1}", int(threshold)))
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        counts, previous = _count(_storage(app),
                                  [(key, seconds) for key, seconds, _, _ in counted],
                                  [key for _, key, _ in trends])
    except Exception:  # noqa: BLE001 - a storage outage must not stop signing
        log.warning("abuse counters not counted: their storage failed", exc_info=True)
        return Tally()
    reason = next((why for (_, _, limit, why), count in zip(counted, counts, strict=True)
                   if why is not None and count > limit), None)
    this_hour = counts[len(counted) - len(trends):]
    may = {kind: current >= threshold or current + before >= threshold
           for (kind, _, threshold), current, before in zip(trends, this_hour, previous,
                                                           strict=True)}
    return Tally(reason, may.get(BLOCK, False), may.get(DOMAIN, False))


def _count(storage: Storage, increments: list[tuple[str, int]],
           reads: list[str]) -> tuple[list[int], list[int]]:
    """Add one to each key (expiring after its window) and read the others: one pipeline
    on Redis (the limiter's own storage objects send one command at a time)."""
    client = getattr(storage, "storage", None) if isinstance(storage, RedisStorage) else None
    if client is None:  # memory (development, tests), or another kind
        return ([storage.incr(key, seconds) for key, seconds in increments],
                [storage.get(key) for key in reads])
    pipeline = client.pipeline(transaction=False)
    for key, seconds in increments:
        pipeline.incrby(key, 1)
        pipeline.expire(key, seconds, nx=True)
    for key in reads:
        pipeline.get(key)
    answers = pipeline.execute()
    counts = [int(answer) for answer in answers[0:2 * len(increments):2]]
    return counts, [int(answer or 0) for answer in answers[2 * len(increments):]]
