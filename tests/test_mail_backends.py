"""Backends against a real SMTP server (aiosmtpd): plain, AUTH, STARTTLS, implicit TLS."""
from __future__ import annotations

import io
import ssl

import pytest

from config import Config
from petition.mail import backends
from petition.mail import errors as mail_errors
from tests.smtp_server import (
    Collector,
    authenticator,
    free_port,
    make_certificate,
    server_tls_context,
    smtp_server,
)

SENDER = "petition <noreply@petition.example>"
MAIL_SETTINGS = {name: getattr(Config, name) for name in dir(Config) if name.startswith("MAIL_")}


def backend(url: str, **settings: object):
    """The backend the app builds for `url`; other MAIL_* settings as given, else config.py's."""
    given = {f"MAIL_{name.upper()}": value for name, value in settings.items()}
    return backends.backend_from_config(MAIL_SETTINGS | given | {"MAIL_URL": url})


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("tls"))


def message(to: str = "alice@example.org", html: str | None = "<p>Bonjour <b>Alice</b></p>"):
    return backends.build_message(
        sender=SENDER, to=to, subject="Confirmez : Libérez le mathématicien",
        text="Bonjour Alice,\nhttp://localhost/confirm/abc\n", html=html,
        message_id="<0123456789abcdef@petition.example>",
    )


def send(smtp_backend, *messages, to: str = "alice@example.org") -> None:
    with smtp_backend.open() as connection:
        for mail in messages or (message(to),):
            connection.send(mail, sender="noreply@petition.example", to=to)


def test_mail_url_schemes_ports_and_credentials():
    plain = backend("smtp://relay.example")
    assert (plain.host, plain.port, plain.security, plain.username) == (
        "relay.example", 25, "plain", None)
    tls = backend("smtps://u%40x:p%3Aw%2Fd%40@mail.example", timeout=3)
    assert (tls.port, tls.security, tls.username, tls.password, tls.timeout) == (
        465, "tls", "u@x", "p:w/d@", 3)
    assert backend("smtp+starttls://m.example:2525").port == 2525
    assert backend("smtp+starttls://m.example").port == 587
    assert isinstance(backend("console://"), backends.ConsoleBackend)
    assert "secret" not in repr(backend("smtp://u:secret@h"))


@pytest.mark.parametrize("url", ["sendmail://x", "http://u:hunter2@h", "", "smtp://", "smtp://h:99999"])
def test_bad_mail_url_is_a_clear_error_without_the_password(url):
    with pytest.raises(backends.MailConfigError) as error:
        backend(url)
    assert "hunter2" not in str(error.value)


def test_backend_from_config_reads_tls_settings():
    backend = backends.backend_from_config({
        "MAIL_URL": "smtps://h", "MAIL_TIMEOUT": "4", "MAIL_TLS_VERIFY": "false",
        "MAIL_TLS_CA_FILE": "/etc/ca.pem",
    })
    assert (backend.timeout, backend.tls_verify, backend.tls_ca_file) == (4.0, False, "/etc/ca.pem")


def test_message_has_ids_date_and_alternatives():
    mail = message()
    assert mail["Message-ID"] == "<0123456789abcdef@petition.example>"
    assert mail["Date"]
    assert mail.get_content_type() == "multipart/alternative"
    assert "Bonjour Alice" in mail.get_body(("plain",)).get_content()
    assert "<b>Alice</b>" in mail.get_body(("html",)).get_content()
    text_only = message(html=None)
    assert text_only.get_content_type() == "text/plain"


def test_subject_line_breaks_cannot_inject_headers():
    mail = backends.build_message(sender=SENDER, to="a@example.org",
                                  subject="Hi\r\nBcc: x@evil.example",
                                  text="t", html=None, message_id="<1@x>")
    assert mail["Bcc"] is None
    assert mail["Subject"] == "Hi Bcc: x@evil.example"


def test_short_error_hides_addresses():
    text = mail_errors.short_error("550 5.1.1 <bob.smith+x@mail.example.org>: Recipient\n rejected")
    assert text == "550 5.1.1 <<address>>: Recipient rejected"


def test_console_prints_headers_and_decoded_text():
    stream = io.StringIO()
    send(backends.ConsoleBackend(stream))
    out = stream.getvalue()
    assert "To: alice@example.org" in out
    assert "From: petition <noreply@petition.example>" in out
    assert "Subject: Confirmez : Libérez le mathématicien" in out
    # The link is printed whole, not quoted-printable: a developer can click it.
    assert "http://localhost/confirm/abc" in out


def test_plain_smtp_delivers_text_and_html():
    with smtp_server() as server:
        send(backend(f"smtp://127.0.0.1:{server.port}"), message(), message())
    assert len(server.received) == 2  # two mails over one connection
    got = server.received[0]
    assert (got.mail_from, got.rcpt_tos) == ("noreply@petition.example", ["alice@example.org"])
    assert got.message["Subject"] == "Confirmez : Libérez le mathématicien"
    assert "Bonjour Alice" in got.message.get_body(("plain",)).get_content()
    assert "<b>Alice</b>" in got.message.get_body(("html",)).get_content()


def test_smtp_auth_logs_in_with_decoded_credentials():
    with smtp_server(authenticator=authenticator("user@x", "p@ss:word"),
                     auth_require_tls=False) as server:
        send(backend(f"smtp://user%40x:p%40ss%3Aword@127.0.0.1:{server.port}"))
        assert server.received[0].authenticated
        with pytest.raises(mail_errors.MailServerUnavailable, match="535"):
            send(backend(f"smtp://user%40x:wrong@127.0.0.1:{server.port}"))
    assert len(server.received) == 1


def test_starttls_with_the_servers_ca(certificate):
    cert, key = certificate
    with smtp_server(tls_context=server_tls_context(cert, key), require_starttls=True,
                     authenticator=authenticator("u", "p")) as server:
        url = f"smtp+starttls://u:p@127.0.0.1:{server.port}"
        send(backend(url, tls_ca_file=str(cert)))
    assert server.received[0].authenticated


def test_implicit_tls_with_the_servers_ca(certificate):
    cert, key = certificate
    with smtp_server(ssl_context=server_tls_context(cert, key)) as server:
        send(backend(f"smtps://127.0.0.1:{server.port}", tls_ca_file=str(cert)))
    assert len(server.received) == 1


def test_tls_refuses_an_unknown_certificate_unless_told_not_to_verify(certificate):
    cert, key = certificate
    with smtp_server(ssl_context=server_tls_context(cert, key)) as server:
        url = f"smtps://127.0.0.1:{server.port}"
        with pytest.raises(mail_errors.MailServerUnavailable, match="certificate verify failed"):
            send(backend(url))
        send(backend(url, tls_verify=False))
    assert len(server.received) == 1


def test_plain_server_refuses_starttls_client():
    with smtp_server() as server:
        with pytest.raises(mail_errors.MailServerUnavailable, match="STARTTLS"):
            send(backend(f"smtp+starttls://127.0.0.1:{server.port}"))


def test_closed_port_is_server_unavailable():
    with pytest.raises(mail_errors.MailServerUnavailable, match="ConnectionRefused"):
        send(backend(f"smtp://127.0.0.1:{free_port()}", timeout=2))


GONE = "gone@example.org"
Unavailable, Temporary, Rejected = (mail_errors.MailServerUnavailable, mail_errors.MailError,
                                    mail_errors.MailRejected)


@pytest.mark.parametrize("collector, to, server, expected", [
    # 5xx to the recipient or to the mail itself: this mail will never go; fail it at once.
    ({"refuse": {GONE: f"550 5.1.1 <{GONE}>: mailbox unavailable"}}, GONE, {}, Rejected),
    ({"refuse": {GONE: f"553 5.1.3 <{GONE}>: mailbox name not allowed"}}, GONE, {}, Rejected),
    ({"refuse": {GONE: "501 5.1.3 Bad recipient address syntax"}}, GONE, {}, Rejected),
    ({}, "a@b@c", {}, Rejected),  # aiosmtpd's own "553 5.1.3 Error: malformed address"
    ({"refuse_data": {GONE: "554 5.7.1 Message rejected as spam"}}, GONE, {}, Rejected),
    ({"refuse_data": {GONE: "552 5.3.4 Message too big"}}, GONE, {}, Rejected),
    # An internationalised address needs SMTPUTF8: a server without it never takes it.
    ({}, "josé@exemple.fr", {"enable_SMTPUTF8": False}, Rejected),
    # 4xx: try again later.
    ({"refuse": {GONE: f"452 4.2.2 <{GONE}>: mailbox full"}}, GONE, {}, Temporary),
    ({"refuse": {GONE: "450 4.7.1 Greylisted, come back later"}}, GONE, {}, Temporary),
    ({"refuse_data": {GONE: "451 4.3.0 Local error, try again"}}, GONE, {}, Temporary),
    # Our sender refused, or the server closing: every mail would fare alike (stop the batch).
    ({"refuse_sender": "553 5.7.1 Sender address rejected: not owned by user"}, GONE, {},
     Unavailable),
    ({"refuse_sender": "451 4.3.0 Try again later"}, GONE, {}, Unavailable),
    ({"refuse": {GONE: "421 4.3.2 Service shutting down"}}, GONE, {}, Unavailable),
], ids=["rcpt-550", "rcpt-553", "rcpt-501", "rcpt-553-malformed", "data-554", "data-552",
        "no-smtputf8", "rcpt-452", "rcpt-450", "data-451", "sender-553", "sender-451",
        "rcpt-421"])
def test_refusals_are_classified(collector, to, server, expected):
    with smtp_server(Collector(**collector), **server) as smtp:
        with backend(f"smtp://127.0.0.1:{smtp.port}").open() as connection:
            with pytest.raises(mail_errors.MailError) as refused:
                connection.send(message(to), sender="n@x.org", to=to)
            if "refuse_sender" not in collector:
                # The connection (reopened after a 421) carries the next mail.
                connection.send(message(), sender="n@x.org", to="alice@example.org")
    assert type(refused.value) is expected
    assert refused.value.permanent == (expected is Rejected)
    assert "gone@" not in str(refused.value) and "josé" not in str(refused.value)
    expected_received = [] if "refuse_sender" in collector else [["alice@example.org"]]
    assert [r.rcpt_tos for r in smtp.received] == expected_received


def test_internationalised_address_goes_through_a_server_with_smtputf8():
    with smtp_server(enable_SMTPUTF8=True) as server:
        send(backend(f"smtp://127.0.0.1:{server.port}"), to="josé@exemple.fr")
    assert [r.rcpt_tos for r in server.received] == [["josé@exemple.fr"]]


def test_after_an_unexpected_error_the_next_mail_gets_a_new_session():
    with smtp_server() as server:
        with backend(f"smtp://127.0.0.1:{server.port}").open() as connection:
            connection.send(message(), sender="n@x.org", to="alice@example.org")
            with pytest.raises(AttributeError):  # a bug: not a message at all
                connection.send("not a message", sender="n@x.org", to="alice@example.org")  # type: ignore[arg-type]
            connection.send(message(), sender="n@x.org", to="alice@example.org")
    first, second = server.received
    # The session's state after a bug is unknown: it is not used again.
    assert first.peer != second.peer


def test_tls_context_defaults_to_verifying():
    context = backend("smtps://h").tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
