"""Why a mail did not go, and whether to try again: the one place that classifies failures.

    MailRejected            this mail will never go (a 5xx about it, no SMTPUTF8): fail it
    MailServerUnavailable   every mail would fare alike (no server, our sender refused, 421):
                            defer the whole batch, counting an attempt on the one tried
    MailError               this mail, for now (4xx, a dropped connection, a bug): back off

Texts never hold an address: they are stored in the outbox and shown to admins.
"""
from __future__ import annotations

import re
import smtplib
import traceback

_ADDRESS = re.compile(r"[^\s<>\"'(),;:\[\]]+@[^\s<>\"'(),;:\[\]]+")


class MailError(Exception):
    """A mail was not handed over; retried later unless `permanent`."""

    permanent = False


class MailServerUnavailable(MailError):
    """The server could not be reached or would not take mail from us: the batch would fail."""


class MailRejected(MailError):
    """The server refused this mail for good, or it cannot be built."""

    permanent = True


def redact(text: str) -> str:
    """`text` with every address replaced."""
    return _ADDRESS.sub("<address>", text)


def short_error(text: object, limit: int = 200) -> str:
    """One line, at most `limit` characters, every address replaced."""
    return redact(" ".join(str(text).split()))[:limit]


def describe(error: BaseException) -> str:
    """A short text for `error`: the server's reply when there is one."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, refusal = next(iter(error.recipients.values()))
        error = smtplib.SMTPResponseException(code, refusal)
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        if isinstance(reply, bytes):
            reply = reply.decode("utf-8", "replace")
        return short_error(f"{error.smtp_code} {reply}")
    return short_error(f"{type(error).__name__}: {error}")


def from_smtp(error: OSError | smtplib.SMTPException) -> MailError:
    """What an error while handing one mail to the server means for that mail."""
    text = describe(error)
    if isinstance(error, smtplib.SMTPSenderRefused):
        # Our MAIL FROM: a wrong MAIL_FROM or relay setting refuses every mail alike.
        # Failing them all at once would turn one setting into lost confirmations.
        return MailServerUnavailable(text)
    if isinstance(error, smtplib.SMTPNotSupportedError):
        # At send time smtplib raises it only for an internationalised address on a server
        # without SMTPUTF8 (RFC 6531): this server will never take this mail.
        return MailRejected(text)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code = next(iter(error.recipients.values()))[0]
    elif isinstance(error, smtplib.SMTPResponseException):
        code = error.smtp_code  # to DATA, or an unexpected reply
    else:
        return MailError(text)  # the connection broke: try again later
    if code == 421:
        return MailServerUnavailable(text)  # the server is closing the connection
    return MailRejected(text) if 500 <= code < 600 else MailError(text)


def unexpected(error: Exception) -> MailError:
    """A temporary failure for an error nobody planned for (a bug, a bad row)."""
    return MailError(short_error(f"unexpected {type(error).__name__}: {error}"))


def traceback_text(error: BaseException) -> str:
    """The traceback of `error` for the log, addresses replaced."""
    return redact("".join(traceback.format_exception(error)).rstrip())
