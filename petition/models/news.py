"""News to those who asked: a letter's subscribers (kept apart from the signatures) and the
updates its organisers write, one text per language."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petition.extensions import Model
from petition.models.stamps import new_nonce, new_public_id, utcnow

# An update's states: written (and tested) until sent, then queued for every subscriber once.
NEWS_DRAFT, NEWS_SENT = "draft", "sent"
NEWS_STATES = (NEWS_DRAFT, NEWS_SENT)


class NewsSubscriber(Model):
    """An address that asked for a letter's news, confirmed by the signature's own link.

    Not linked to the signature: withdrawing or erasing the signature leaves the
    subscription as the person chose, and the list says nothing of who signed what. The
    address is only Fernet-encrypted; the keyed hash finds a second subscription and the
    subscriber of a signature being withdrawn. Deleted on unsubscribing and when the letter's
    retention runs out.
    """

    __tablename__ = "news_subscriber"
    __table_args__ = (UniqueConstraint("letter_id", "email_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unsubscribe link carries (public_id, token_nonce), never the id.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    token_nonce: Mapped[str] = mapped_column(String(32), default=new_nonce)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(8))
    email_hash: Mapped[str] = mapped_column(String(64))
    email_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class NewsUpdate(Model):
    """One piece of news, written per language, sent once to every subscriber."""

    __tablename__ = "news_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"),
                                           index=True)
    status: Mapped[str] = mapped_column(String(10), default=NEWS_DRAFT)
    created_by: Mapped[str] = mapped_column(String(254))  # the account's address, or "cli"
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_by: Mapped[str | None] = mapped_column(String(254))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # How many mails the send queued (the subscribers then); delivery figures are read from
    # the outbox rows that name the update.
    recipients: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    texts: Mapped[list[NewsUpdateText]] = relationship(
        back_populates="update", cascade="all, delete-orphan", order_by="NewsUpdateText.lang"
    )

    def text_for(self, lang: str, fallback: str) -> NewsUpdateText | None:
        """The text in `lang`, else in `fallback` (the letter's first language), else any."""
        by_lang = {text.lang: text for text in self.texts}
        return by_lang.get(lang) or by_lang.get(fallback) or (self.texts[0] if self.texts
                                                               else None)


class NewsUpdateText(Model):
    __tablename__ = "news_update_text"
    __table_args__ = (UniqueConstraint("update_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("news_update.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown, rendered safely

    update: Mapped[NewsUpdate] = relationship(back_populates="texts")
