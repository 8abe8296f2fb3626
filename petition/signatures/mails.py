"""The mails petition sends to signers, rendered in their language (text + HTML) when
they are delivered.

What a mail provider or a lock screen shows of them tells nothing about who signed: the
subject is one of two (privacy.notice's SIGN_SUBJECT and WITHDRAW_SUBJECT, which the
privacy notice quotes), never a letter's title, and the sign form's two mails (a link to
confirm, "already signed") open with the same lines; the withdrawal form's answer is one
mail whatever the address signed, listing its signatures or saying there is none. No mail
greets the signer by the name typed in the form: whatever was typed goes to whatever
address was typed.

Queueing one writes a row naming the signature, the link it carries and the language, in
the caller's transaction; nothing readable. The mail worker renders it from the rows as
they are at delivery (render()), so the request that signs pays for no template, and a
waiting mail never holds in clear the real name of a signer listed by initials. What a
link confirms is still exactly what the signer submitted with it: the row its nonce names
(the signature, or one SignatureVersion) is never rewritten, only replaced.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography.fernet import InvalidToken
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from petition import addresses, tokens
from petition.core.pipelining import Together
from petition.letters.campaign import block_for
from petition.mail import outbox
from petition.mail.errors import MailRejected
from petition.mail.outbox import WITHDRAW_ANSWER, Obsolete, enqueue
from petition.models import CONFIRMED, PENDING, Letter, OutboxMail, Signature, SignatureVersion
from petition.privacy.notice import SIGN_SUBJECT, WITHDRAW_SUBJECT
from petition.signatures.submissions import Link, Submission, listing

# WITHDRAW_LINK: one signature's withdrawal link, as queued before the withdrawal form's
# answer became one mail (WITHDRAW_ANSWER); still rendered for rows queued then.
CONFIRM, ALREADY_SIGNED, WITHDRAW_LINK = "confirm", "already_signed", "withdraw_link"


def confirm_url(link: Link) -> str:
    return f"{current_app.config['BASE_URL']}/confirm/{link.token}"


def withdraw_url(signature: Signature) -> str:
    """The signer's private link to take the signature back, pending or confirmed."""
    return f"{current_app.config['BASE_URL']}/withdraw/{tokens.withdraw_token(signature.public_id)}"


def _letter_url(letter: Letter, lang: str) -> str:
    return f"{current_app.config['BASE_URL']}/letters/{letter.slug}?lang={lang}"


# Queueing: in the request's transaction, a few ids and no rendering.

def queue_confirmation(link: Link, email: str, not_before: dt.datetime | None = None) -> OutboxMail:
    """The link that confirms exactly this submission (the signature or version is flushed)."""
    return enqueue(kind=CONFIRM, to=email, signature_id=link.signature.id,
                   link_nonce=link.nonce, lang=link.lang, not_before=not_before)


def queue_new_confirmation(together: Together, letter_id: int, email_hash: str, nonce: str,
                           lang: str, email: str) -> None:
    """queue_confirmation() for a signature inserted without the ORM in this transaction,
    found by its letter, address hash and nonce, sent with the commit (signing._create)."""
    outbox.insert_for_new_signature(together, kind=CONFIRM, to=email, letter_id=letter_id,
                                    email_hash=email_hash, link_nonce=nonce, lang=lang)


def queue_already_signed(signature: Signature, email: str, lang: str,
                         not_before: dt.datetime | None = None) -> OutboxMail:
    return enqueue(kind=ALREADY_SIGNED, to=email, signature_id=signature.id, lang=lang,
                   not_before=not_before)


# Rendering: in the delivery job.

class SignerMails:
    """The dispatcher's renderer of these mails (registered in create_app())."""

    kinds: tuple[str, ...] = (CONFIRM, ALREADY_SIGNED, WITHDRAW_LINK, WITHDRAW_ANSWER)

    def load(self, session: Session, mails: list[OutboxMail]) -> dict[int, Signature]:
        return load_signatures(session, mails)

    def render(self, mail: OutboxMail, session: Session,
               signatures: dict[int, Signature]) -> outbox.Content:
        return render(mail, session, signatures)


SIGNER_MAILS = SignerMails()


def load_signatures(session: Session, mails: list[OutboxMail]) -> dict[int, Signature]:
    """The signatures a batch of mails is about, with their letters' texts and labels and
    their versions, in a handful of queries for the whole batch."""
    ids = {mail.signature_id for mail in mails if mail.signature_id is not None}
    if not ids:
        return {}
    rows = session.scalars(
        select(Signature).where(Signature.id.in_(ids)).options(
            selectinload(Signature.letter).selectinload(Letter.texts),
            selectinload(Signature.letter).selectinload(Letter.labels),
        ).execution_options(populate_existing=True)
    ).all()
    return {row.id: row for row in rows}


def render(mail: OutboxMail, session: Session, signatures: dict[int, Signature]) -> outbox.Content:
    """The mail as it reads now, in its language; Obsolete when sending it would say
    something untrue. `signatures` comes from load_signatures() for the mail's batch."""
    if mail.kind == WITHDRAW_ANSWER:
        return _render_answer(mail, session)
    signature = signatures.get(mail.signature_id) if mail.signature_id is not None else None
    if signature is None:
        raise Obsolete("its signature is gone (withdrawn or purged)")
    lang = mail.lang or signature.lang
    with force_locale(lang):
        return _render_kind(mail, session, signature, lang)


def _render_kind(mail: OutboxMail, session: Session, signature: Signature,
                 lang: str) -> outbox.Content:
    letter = signature.letter
    title = letter.text_for(lang).title
    letter_url = _letter_url(letter, lang)
    if mail.kind == CONFIRM:
        link = _link(session, signature, mail.link_nonce)
        submission = link.submission
        return _render("confirm", lang, _(SIGN_SUBJECT), title=title, link=confirm_url(link),
                       hours=current_app.config["CONFIRM_MAX_AGE"] // 3600,
                       letter_url=letter_url, listing=listing(submission, letter, lang),
                       withdraw_url=withdraw_url(signature),
                       campaign=block_for(letter, lang))
    if mail.kind == ALREADY_SIGNED:
        return _render("already_signed", lang, _(SIGN_SUBJECT), signature=signature,
                       title=title, letter_url=letter_url, withdraw_url=withdraw_url(signature))
    if mail.kind == WITHDRAW_LINK:
        return _render("withdraw_link", lang, _(WITHDRAW_SUBJECT), title=title,
                       link=withdraw_url(signature), letter_url=letter_url,
                       listing=listing(Submission.of(signature), letter, lang))
    raise ValueError(f"mail kind {mail.kind!r} carries its own body")


def _render_answer(mail: OutboxMail, session: Session) -> outbox.Content:
    """The withdrawal form's answer: the withdrawal link of every signature made with the
    address, pending or confirmed, on any letter, as they are now; or that there is none.
    In the language of the form it was asked from."""
    if mail.recipient_encrypted is None:
        raise MailRejected("nothing to send: recipient missing")
    try:
        email = addresses.decrypt(mail.recipient_encrypted)
    except InvalidToken as error:
        raise MailRejected("cannot decrypt the recipient: was EMAIL_KEY changed?") from error
    found = session.scalars(
        select(Signature).where(Signature.email_hash.in_(addresses.email_hashes(email)),
                                Signature.status.in_((PENDING, CONFIRMED)))
        .options(selectinload(Signature.letter).selectinload(Letter.texts),
                 selectinload(Signature.letter).selectinload(Letter.labels))
        .order_by(Signature.id).execution_options(populate_existing=True)
    ).all()
    lang = mail.lang or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(lang):
        entries = [{"title": signature.letter.text_for(lang).title,
                    "listing": listing(Submission.of(signature), signature.letter, lang),
                    "pending": signature.status == PENDING,
                    "link": withdraw_url(signature),
                    "letter_url": _letter_url(signature.letter, lang)} for signature in found]
        return _render("withdraw_answer", lang, _(WITHDRAW_SUBJECT), entries=entries)


def _link(session: Session, signature: Signature, nonce: str | None) -> Link:
    """The pending link the mail was queued for, or Obsolete."""
    if signature.status != PENDING:
        raise Obsolete(f"its signature is {signature.status}")
    if nonce is not None and nonce == signature.token_nonce:
        return Link(signature)
    version = session.scalars(
        select(SignatureVersion).where(SignatureVersion.signature_id == signature.id,
                                       SignatureVersion.nonce == nonce)
    ).first() if nonce is not None else None
    if version is None:
        # A resend renewed the link, or the version was replaced within the cap's wait.
        raise Obsolete("its link was replaced by a newer one")
    return Link(signature, version)


def _render(template: str, lang: str, subject: str, **context: Any) -> outbox.Content:
    text = render_template(f"email/{template}.txt", lang=lang, **context)
    html = render_template(f"email/{template}.html", lang=lang, **context)
    return outbox.Content(subject=subject, text=text, html=html)
