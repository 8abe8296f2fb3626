"""Deliver outbox mail: claim due rows, send them, record the outcome.

Delivery is at-least-once: a claim is committed before sending and the outcome after, so a
process that dies in between leaves a `sending` row whose lease runs out and which is sent
again; a mail may then arrive twice (with the same Message-ID), never not at all.

The dispatcher works in a session of its own, so it never commits a caller's half-done work.
One call of dispatch() is one pass; petition.worker runs passes again and again.

The mails of a feature are made at delivery by the renderer it registers (register(); the
signers' mails: petition.signatures.mails), so this package knows no feature's rows.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from flask import Flask, current_app
from sqlalchemy import ColumnElement, CursorResult, case, or_, select, update
from sqlalchemy.orm import Session

from petition.extensions import db
from petition.mail import backends, errors, outbox
from petition.models import (
    MAIL_DROPPED,
    MAIL_FAILED,
    MAIL_QUEUED,
    MAIL_SENDING,
    MAIL_SENT,
    OutboxMail,
    utcnow,
)

# Rows claimed per transaction: the lease must cover sending all of them.
CHUNK = 10
# Read from app.config, whose defaults come from config.py alone: no second set here.
SETTINGS = ("MAIL_LEASE", "MAIL_RETRY_BASE", "MAIL_RETRY_MAX", "MAIL_MAX_ATTEMPTS")


class Renderer(Protocol):
    """What a feature gives the dispatcher for the kinds of mail it queues without a body."""

    kinds: tuple[str, ...]

    def load(self, session: Session, mails: list[OutboxMail]) -> Any:
        """What rendering a batch needs, read at once for the whole batch."""

    def render(self, mail: OutboxMail, session: Session, loaded: Any) -> outbox.Content:
        """The mail as it reads now; outbox.Obsolete when it has nothing true left to say."""


_RENDERERS, _BEFORE_PASS = "petition_mail_renderers", "petition_mail_before_pass"


def register(app: Flask, renderer: Renderer) -> None:
    """Let `renderer` make its kinds of mail in this app's deliveries."""
    renderers: dict[str, Renderer] = app.extensions.setdefault(_RENDERERS, {})
    renderers.update(dict.fromkeys(renderer.kinds, renderer))


def before_each_pass(app: Flask, queue_due: Callable[[], object]) -> None:
    """Run `queue_due` at the start of every pass (a withdrawal request becomes link mails),
    so what it queues goes out in that pass."""
    hooks: list[Callable[[], object]] = app.extensions.setdefault(_BEFORE_PASS, [])
    if queue_due not in hooks:
        hooks.append(queue_due)


def _renderers() -> dict[str, Renderer]:
    return current_app.extensions.get(_RENDERERS, {})


def content(mail: OutboxMail, session: Session, loaded: dict[int, Any]) -> outbox.Content:
    """The mail's subject and bodies: as stored (queued before revision 0010, or a kind
    that carries its own), else made now by its kind's renderer. `loaded` comes from
    load() for the mail's batch."""
    stored = outbox.stored_content(mail)
    if stored is not None:
        return stored
    renderer = _renderers().get(mail.kind)
    if renderer is None:
        raise errors.MailRejected("nothing to send: no body")
    return renderer.render(mail, session, loaded.get(id(renderer)))


def load(session: Session, mails: list[OutboxMail]) -> dict[int, Any]:
    """What each renderer needs for its mails of this batch, by renderer."""
    by_renderer: dict[int, tuple[Renderer, list[OutboxMail]]] = {}
    for mail in mails:
        renderer = _renderers().get(mail.kind)
        if renderer is not None:
            by_renderer.setdefault(id(renderer), (renderer, []))[1].append(mail)
    return {key: renderer.load(session, batch) for key, (renderer, batch) in by_renderer.items()}


def preview(mail_id: int) -> outbox.Content:
    """A waiting mail as delivery would make it now, read in a session of its own as
    delivery does (tests and benchmarks read links this way); outbox.Obsolete if it would
    be dropped."""
    with Session(db.engine) as session:
        mail = session.get(OutboxMail, mail_id)
        if mail is None:
            raise outbox.Obsolete("no such mail")
        return content(mail, session, load(session, [mail]))


def _setting(name: str) -> float:
    return float(current_app.config[name])


@dataclass
class DispatchReport:
    """What one pass did: rows claimed, and how many were sent, deferred, given up, and
    dropped as obsolete (see outbox.Obsolete)."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    dropped: int = 0


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff after `attempts` failed attempts, capped."""
    seconds = _setting("MAIL_RETRY_BASE") * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, _setting("MAIL_RETRY_MAX")))


def _due(now: dt.datetime) -> ColumnElement[bool]:
    # A `sending` row whose lease has passed belongs to a worker that died mid-delivery.
    # A request is no mail: withdrawal.expand_requests() answers it, or
    # milestones.expand_requests() makes it the organisers' mails.
    return (
        (OutboxMail.next_attempt_at <= now)
        & OutboxMail.kind.not_in(outbox.REQUESTS)
        & or_(OutboxMail.status == MAIL_QUEUED,
              (OutboxMail.status == MAIL_SENDING)
              & or_(OutboxMail.locked_until.is_(None), OutboxMail.locked_until <= now))
    )


def _claim(session: Session, now: dt.datetime, count: int, lease: dt.datetime) -> list[int]:
    """Mark up to `count` due rows as ours until `lease`, commit, return their ids."""
    candidates = (
        select(OutboxMail.id)
        .where(_due(now))
        .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
        .limit(count)
    )
    values = {
        "status": MAIL_SENDING,
        "locked_until": lease,
        # Re-claiming an abandoned row counts the interrupted attempt, so a mail that kills
        # its worker every time still ends up failed instead of looping forever.
        "attempts": OutboxMail.attempts + case((OutboxMail.status == MAIL_SENDING, 1), else_=0),
    }
    claim = update(OutboxMail).values(**values).execution_options(synchronize_session=False)
    if session.get_bind().dialect.name == "postgresql":
        # Rows another worker has locked are skipped, not waited for nor taken twice.
        ids = list(session.scalars(candidates.with_for_update(skip_locked=True)))
        if ids:
            session.execute(claim.where(OutboxMail.id.in_(ids)))
    else:
        # SQLite has no row locks: take each row only if it is still due as we read it.
        # Losing every race means another worker moved on: read again, do not give up.
        ids, seen = [], True
        while not ids and seen:
            seen = bool(found := session.scalars(candidates).all())
            ids = [row_id for row_id in found if cast(CursorResult[Any], session.execute(
                claim.where(OutboxMail.id == row_id, _due(now)))).rowcount == 1]
    session.commit()
    return ids


def _update(session: Session, *conditions: ColumnElement[bool], **values: object) -> None:
    session.execute(
        update(OutboxMail).where(*conditions).values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def _ours(mail_ids: list[int], lease: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    # Only while our lease holds: after it, another worker may own the row.
    return (OutboxMail.id.in_(mail_ids), OutboxMail.status == MAIL_SENDING,
            OutboxMail.locked_until == lease)


def _mark_sent(session: Session, mail: OutboxMail, subject: str) -> None:
    # Unconditional: it was delivered, whoever holds the lease now. The recipient and bodies
    # go at once (privacy); subject, kind and timestamps stay for the record.
    _update(session, OutboxMail.id == mail.id, status=MAIL_SENT, sent_at=utcnow(),
            locked_until=None, recipient_encrypted=None, body_text=None, body_html=None,
            subject=subject)


def _mark_dropped(session: Session, mail: OutboxMail, lease: dt.datetime, reason: str,
                  report: DispatchReport) -> None:
    """Not sent, and never will be: nothing true left to say. The recipient goes."""
    _update(session, *_ours([mail.id], lease), status=MAIL_DROPPED, locked_until=None,
            recipient_encrypted=None, body_text=None, body_html=None,
            last_error=f"obsolete: {reason}"[:200])
    report.dropped += 1
    current_app.logger.info("mail %s (%s) dropped: %s", mail.id, mail.kind, reason)


def _content(mail: OutboxMail, session: Session, loaded: dict[int, Any]) -> outbox.Content:
    made = content(mail, session, loaded)
    # End the read: a read transaction held while the mail server answers would stall
    # SQLite's checkpoints (core/erasure.py), and nothing read is needed after rendering.
    session.commit()
    return made


def _mark_failed(session: Session, mail: OutboxMail, lease: dt.datetime,
                 error: errors.MailError, report: DispatchReport, counted: bool = True) -> None:
    """Record a failed attempt: retry later, or give up."""
    attempts = mail.attempts + (1 if counted else 0)
    give_up = error.permanent or attempts >= _setting("MAIL_MAX_ATTEMPTS")
    values: dict[str, object] = {"attempts": attempts, "last_error": str(error)[:200],
                                 "locked_until": None}
    if give_up:
        # Recipient and bodies are kept so an admin can `flask mail retry` after fixing the
        # cause; outbox.purge_failed() clears them once the mail could no longer be useful.
        values["status"] = MAIL_FAILED
    else:
        values.update(status=MAIL_QUEUED, next_attempt_at=utcnow() + retry_delay(attempts))
    _update(session, *_ours([mail.id], lease), **values)
    current_app.logger.warning("mail %s (%s) %s after %d attempt(s): %s", mail.id, mail.kind,
                               "failed" if give_up else "deferred", attempts, error)
    if give_up:
        report.failed += 1
    else:
        report.retrying += 1


def _release(session: Session, ids: list[int], lease: dt.datetime) -> None:
    """Hand back the rows still ours after an unexpected error, instead of after the lease."""
    try:
        session.rollback()
        _update(session, *_ours(ids, lease), status=MAIL_QUEUED, locked_until=None)
    except Exception:  # the database may be what failed: the lease will free them
        current_app.logger.exception("could not release claimed mail %s", ids)


def _deliver(session: Session, connection: backends.Connection, ids: list[int],
             lease: dt.datetime, report: DispatchReport, sender: str) -> bool:
    """Send the claimed rows; False when the server is unavailable (stop this pass)."""
    envelope_from = backends.sender_address(sender)
    domain = envelope_from.rsplit("@", 1)[1]
    max_attempts = _setting("MAIL_MAX_ATTEMPTS")
    mails = list(session.scalars(
        select(OutboxMail).where(OutboxMail.id.in_(ids)).order_by(OutboxMail.id)
        .execution_options(populate_existing=True)
    ))
    loaded = load(session, mails)
    for index, mail in enumerate(mails):
        if utcnow() >= lease:
            # Too slow: hand the untried rest back rather than race whoever takes it next.
            _update(session, *_ours([m.id for m in mails[index:]], lease),
                    status=MAIL_QUEUED, locked_until=None)
            return True
        if mail.attempts >= max_attempts:
            # Only after re-claims of interrupted deliveries: do not try yet again.
            error = errors.MailRejected("gave up: delivery was interrupted too often")
            _mark_failed(session, mail, lease, error, report, counted=False)
            continue
        try:
            made = _content(mail, session, loaded)
            message, to = outbox.to_message(mail, made, sender, domain)
            connection.send(message, sender=envelope_from, to=to)
        except outbox.Obsolete as reason:
            _mark_dropped(session, mail, lease, str(reason), report)
        except errors.MailServerUnavailable as error:
            _mark_failed(session, mail, lease, error, report)
            # The rest was not tried: same delay, no attempt counted.
            rest = [m.id for m in mails[index + 1:]]
            if rest:
                _update(session, *_ours(rest, lease), status=MAIL_QUEUED, locked_until=None,
                        last_error=str(error)[:200],
                        next_attempt_at=utcnow() + retry_delay(mail.attempts + 1))
                report.retrying += len(rest)
            return False
        except errors.MailError as error:
            _mark_failed(session, mail, lease, error, report)
        except Exception as error:
            # A bug or a bad row, not the server: count an attempt and back off as for any
            # temporary failure, so this mail neither holds up the ones behind it nor is
            # claimed again at once. (KeyboardInterrupt and the like still end the pass.)
            current_app.logger.error("mail %s (%s) raised an unexpected error:\n%s", mail.id,
                                     mail.kind, errors.traceback_text(error))
            _mark_failed(session, mail, lease, errors.unexpected(error), report)
        else:
            _mark_sent(session, mail, made.subject)
            report.sent += 1
            current_app.logger.info("mail %s (%s) sent", mail.id, mail.kind)
    return True


def dispatch(limit: int | None = 50) -> DispatchReport:
    """Deliver mail due now, at most `limit` (None: all of it), and report the outcome."""
    # Settings are checked before claiming, so a bad one leaves no row claimed.
    backend = backends.backend_from_config(current_app.config)
    sender = current_app.config["MAIL_FROM"]
    backends.sender_address(sender)
    for name in SETTINGS:
        _setting(name)
    lease_seconds = _setting("MAIL_LEASE")
    # Requests first: what they queue goes out in this pass. In an app context of its own,
    # hence a database session of its own: the caller's pending work is never committed by
    # a pass.
    for queue_due in current_app.extensions.get(_BEFORE_PASS, ()):
        with current_app.app_context():
            queue_due()
    now = utcnow()  # rows deferred during this pass are not due again within it
    report = DispatchReport()
    with Session(db.engine, expire_on_commit=False) as session, backend.open() as connection:
        while limit is None or report.claimed < limit:
            want = CHUNK if limit is None else min(CHUNK, limit - report.claimed)
            lease = utcnow() + dt.timedelta(seconds=lease_seconds)
            ids = _claim(session, now, want, lease)
            report.claimed += len(ids)
            if not ids:
                break
            try:
                if not _deliver(session, connection, ids, lease, report, sender):
                    break
            except BaseException:
                _release(session, ids, lease)
                raise
    return report


def deliver_due(limit: int = 50) -> int:
    """Deliver up to `limit` due mails; return how many were delivered."""
    return dispatch(limit).sent


def check_settings(app: Flask) -> None:
    """Fail at start, not silently at the first mail, on a bad MAIL_URL or MAIL_FROM."""
    backend = backends.backend_from_config(app.config)
    backends.sender_address(app.config["MAIL_FROM"])
    if isinstance(backend, backends.ConsoleBackend) and app.config.get("ENV_NAME") == "production":
        app.logger.warning("MAIL_URL is console://: mail, addresses included, goes to stdout")
