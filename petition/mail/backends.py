"""Mail backends chosen by MAIL_URL: the console for development, SMTP for real mail.

    console://                       print each mail to stdout (development)
    smtp://[user:pass@]host[:25]     plain SMTP, no TLS (a local relay)
    smtp+starttls://…[:587]          STARTTLS before AUTH
    smtps://…[:465]                  implicit TLS

A backend is opened once per batch (`with backend.open() as conn: conn.send(...)`) so one
SMTP connection carries many mails. Errors come out as MailError (errors.py says which
kind) with a short text that never holds an address: it is stored and shown to admins.
"""
from __future__ import annotations

import smtplib
import ssl
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any, Protocol, TextIO
from urllib.parse import unquote, urlsplit

from petition.mail.errors import MailServerUnavailable, describe, from_smtp

# scheme → (security, default port)
SMTP_SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}
SCHEMES = ("console", *SMTP_SCHEMES)


class MailConfigError(ValueError):
    """MAIL_URL or another MAIL_* setting cannot be used."""


def sender_address(sender: str) -> str:
    """The bare address of MAIL_FROM, used as envelope sender."""
    address = parseaddr(sender)[1]
    if "@" not in address:
        raise MailConfigError(
            "MAIL_FROM must hold an address, e.g. 'petition <noreply@example.org>'"
        )
    return address


def build_message(
    *, sender: str, to: str, subject: str, text: str, html: str | None, message_id: str,
    attachments: list[tuple[str, str, bytes]] | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> EmailMessage:
    """Build a text mail, multipart/alternative when there is HTML, multipart/mixed with
    each (filename, mimetype, data) of `attachments` added, and each (name, value) of
    `headers` (List-Unsubscribe...) set."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    # A title with a line break would be refused as a header (injection guard): fold it.
    message["Subject"] = " ".join(subject.split())
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # no vacation replies to a no-reply sender
    for name, value in headers:
        # EmailMessage refuses a value with a line break (header injection): ValueError.
        message[name] = value
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    for filename, mimetype, data in attachments or ():
        maintype, _slash, subtype = mimetype.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


class Connection(Protocol):
    def send(self, message: EmailMessage, *, sender: str, to: str) -> None: ...


class ConsoleBackend:
    """Print each mail, decoded, so a developer can follow the links in the terminal."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    @contextmanager
    def open(self) -> Iterator[ConsoleBackend]:
        yield self

    def send(self, message: EmailMessage, *, sender: str, to: str) -> None:
        text_part = message.get_body(preferencelist=("plain",))
        text = text_part.get_content() if text_part is not None else ""
        extra = " (+ an HTML alternative)" if message.is_multipart() else ""
        lines = [
            "-" * 30 + " mail" + extra + " " + "-" * 30,
            *(f"{name}: {message[name]}"
              for name in ("From", "To", "Subject", "Date", "Message-ID")),
            # A news mail's unsubscribe headers, so a developer can follow them too.
            *(f"{name}: {message[name]}"
              for name in ("List-Unsubscribe", "List-Unsubscribe-Post") if name in message),
            "",
            text.rstrip("\n"),
            "-" * 30 + " end of mail " + "-" * 30,
        ]
        # Read sys.stdout at call time: capsys and `flask run` may have replaced it.
        stream = self.stream or sys.stdout
        print("\n".join(lines), file=stream, flush=True)


@dataclass(frozen=True)
class SMTPBackend:
    host: str
    port: int
    security: str  # "plain", "starttls" or "tls"
    timeout: float
    tls_verify: bool
    tls_ca_file: str | None
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # keep it out of logs

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.tls_ca_file or None)
        if not self.tls_verify:
            # Only for a relay on a trusted network with a self-signed certificate.
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    @contextmanager
    def open(self) -> Iterator[SMTPConnection]:
        connection = SMTPConnection(self)
        try:
            yield connection
        finally:
            connection.close()


class SMTPConnection:
    """One SMTP session, opened on the first mail and reopened after a broken one."""

    def __init__(self, backend: SMTPBackend) -> None:
        self.backend = backend
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        settings = self.backend
        try:
            if settings.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=settings.timeout,
                    context=settings.tls_context(),
                )
            else:
                smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        except (OSError, smtplib.SMTPException) as error:
            raise MailServerUnavailable(describe(error)) from error
        try:
            smtp.ehlo()
            if settings.security == "starttls":
                smtp.starttls(context=settings.tls_context())
                smtp.ehlo()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
        except (OSError, smtplib.SMTPException) as error:
            smtp.close()
            raise MailServerUnavailable(describe(error)) from error
        return smtp

    def send(self, message: EmailMessage, *, sender: str, to: str) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message, from_addr=sender, to_addrs=[to])
        except (OSError, smtplib.SMTPException) as error:
            failure = from_smtp(error)
            # After a refusal smtplib has sent RSET and the session carries the next mail;
            # after a 421 it has closed the socket, and after anything else its state is
            # unknown: start afresh with the next mail.
            refused = isinstance(error, (smtplib.SMTPResponseException,
                                         smtplib.SMTPRecipientsRefused,
                                         smtplib.SMTPNotSupportedError))
            if not refused or isinstance(failure, MailServerUnavailable):
                self.close()
            raise failure from error
        except Exception:
            self.close()  # a bug halfway through a transaction: never reuse that session
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def parse_mail_url(url: str, *, timeout: float, tls_verify: bool,
                   tls_ca_file: str | None) -> ConsoleBackend | SMTPBackend:
    """Make the backend MAIL_URL names; MailConfigError for anything else."""
    parts = urlsplit(url or "")
    scheme = parts.scheme.lower()
    if scheme == "console":
        return ConsoleBackend()
    if scheme not in SMTP_SCHEMES:
        # Name only the scheme: the URL may carry a password.
        raise MailConfigError(
            f"MAIL_URL scheme {scheme or '(none)'!r} is not supported; "
            "use console://, smtp://, smtp+starttls:// or smtps://"
        )
    security, default_port = SMTP_SCHEMES[scheme]
    try:
        port = parts.port or default_port
    except ValueError as error:
        raise MailConfigError("MAIL_URL has an invalid port") from error
    if not parts.hostname:
        raise MailConfigError("MAIL_URL has no host")
    return SMTPBackend(
        host=parts.hostname,
        port=port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        timeout=timeout,
        tls_verify=tls_verify,
        tls_ca_file=tls_ca_file,
    )


def backend_from_config(config: Mapping[str, Any]) -> ConsoleBackend | SMTPBackend:
    """Make the backend the app's MAIL_* settings describe."""
    # No fallbacks here: config.py holds every default, and a second set would disagree.
    verify = config["MAIL_TLS_VERIFY"]
    if isinstance(verify, str):  # set from the environment as text
        verify = verify.strip().lower() not in {"0", "false", "no", "off"}
    return parse_mail_url(
        config["MAIL_URL"],
        timeout=float(config["MAIL_TIMEOUT"]),
        tls_verify=bool(verify),
        tls_ca_file=config["MAIL_TLS_CA_FILE"] or None,
    )
