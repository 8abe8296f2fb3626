"""Moderation use cases: list held signatures, approve or reject them. No request, no flash."""
from __future__ import annotations

from sqlalchemy import select

from .extensions import db
from .letters import bump_list_version, get_letter
from .models import CONFIRMED, MOD_APPROVED, MOD_HELD, MOD_REJECTED, Signature


class ModerationError(Exception):
    """A moderation request was refused; the message says why."""


def held(slug: str) -> list[Signature]:
    """Confirmed signatures waiting for approval, oldest first."""
    letter = get_letter(slug)
    return list(db.session.scalars(
        select(Signature)
        .where(Signature.letter_id == letter.id, Signature.status == CONFIRMED,
               Signature.moderation == MOD_HELD)
        .order_by(Signature.confirmed_at, Signature.public_id)
    ))


def _decide(slug: str, ids: list[str], decision: str) -> int:
    """Set `decision` on all of `ids` (public ids) or, if any is not a confirmed signature of
    the letter, on none."""
    letter = get_letter(slug)
    signatures = list(db.session.scalars(
        select(Signature).where(Signature.letter_id == letter.id, Signature.public_id.in_(ids),
                                Signature.status == CONFIRMED)
    ))
    missing = sorted(set(ids) - {signature.public_id for signature in signatures})
    if missing:
        raise ModerationError(
            f"not confirmed signatures of {slug}: {', '.join(map(str, missing))}; nothing changed"
        )
    for signature in signatures:
        signature.moderation = decision
    bump_list_version(letter)
    db.session.commit()
    return len(signatures)


def approve(slug: str, ids: list[str]) -> int:
    """List these signatures publicly."""
    return _decide(slug, ids, MOD_APPROVED)


def reject(slug: str, ids: list[str]) -> int:
    """Keep these signatures off the public list and counts."""
    return _decide(slug, ids, MOD_REJECTED)
