"""Moderation use cases: decide what is held, list held signatures, approve, reject or hide
them. No request, no flash."""
from __future__ import annotations

import unicodedata
from functools import lru_cache

from sqlalchemy import func, select

from petition.collation import fold_name  # noqa: F401 (moderation.fold_name: the rule's own name)
from petition.extensions import db
from petition.letters import counting
from petition.letters.operations import get_letter
from petition.models import (
    CONFIRMED,
    MOD_APPROVED,
    MOD_FLAGGED,
    MOD_HELD,
    MOD_HIDDEN,
    MOD_NONE,
    MOD_REJECTED,
    ORGANIZATION,
    Letter,
    Signature,
)
from petition.names import mixes_scripts, skeleton

# The decisions an organiser takes, by the name forms and the audit log use.
DECISIONS: dict[str, str] = {"approve": MOD_APPROVED, "reject": MOD_REJECTED, "hide": MOD_HIDDEN}


# Organisations whose name an individual may not take unchecked: listed, or waiting for a
# decision (a rejected or hidden one is not on the list to be copied).
_STANDING = (MOD_NONE, MOD_APPROVED, MOD_HELD)


class ModerationError(Exception):
    """A moderation request was refused; the message says why."""


@lru_cache(maxsize=100_000)
def look_alike_fold(name: str) -> str:
    """A name as the look-alike check compares it: its TR39 skeleton (names.skeleton) in
    capitals, then again once case-folded, with fold_name()'s punctuation, spaces, symbols
    and invisible characters taken out. Capitals first, so Cyrillic capitals drawn like
    Latin ones ("АМЕЅ", "Т") match whatever case the other name is in; small letters
    second ("а", "е", "р"). "Аmnesty International" (Cyrillic А) and "AMNESTY
    INTERNATIONAL" fold like "Amnesty International".

    Computed when compared, not stored: the organisations' names are read in clear.
    """
    capitals = skeleton(unicodedata.normalize("NFKC", name).upper())
    text = skeleton(capitals.casefold())
    return "".join(char for char in text if unicodedata.category(char)[0] not in "PZSC")


def must_hold(letter: Letter, signer_type: str, name: str) -> bool:
    """Whether a signature being confirmed waits for an organiser's decision.

    On a letter that moderates organisations, an organisation does; so does an individual
    signing with the name of one of the letter's organisations, listed or held, or anyone
    could list "Amnesty International" by signing as an individual; or with a look-alike
    of one (letters of another script drawn alike: "Аmnesty International" with a Cyrillic
    А); or with a name one of whose words mixes scripts, what look-alikes are made of and
    no real name needs.
    """
    if not letter.moderate_organizations:
        return False
    if signer_type == ORGANIZATION:
        return True
    if mixes_scripts(name):
        return True
    folded = fold_name(name)
    if not folded:
        return False
    standing = (Signature.letter_id == letter.id, Signature.signer_type == ORGANIZATION,
                Signature.status == CONFIRMED, Signature.moderation.in_(_STANDING))
    # The stored fold of each organisation's name, indexed with the letter: one lookup for
    # the same name spelt otherwise.
    taken = db.session.scalar(select(Signature.id).where(
        *standing, Signature.name_fold == folded).limit(1))
    if taken is not None:
        return True
    # Look-alikes: the skeleton of each organisation's name, computed here (and cached per
    # name) rather than stored. One read of the letter's organisations' names.
    wanted = look_alike_fold(name)
    return any(look_alike_fold(other) == wanted for other in db.session.scalars(
        select(Signature.name).where(*standing).distinct()))


def _waiting(letter: Letter) -> tuple:
    """The conditions of a signature waiting for a decision: held, or flagged over a soft
    limit (abuse/; its flag_reason says which)."""
    return (Signature.letter_id == letter.id, Signature.status == CONFIRMED,
            Signature.moderation.in_((MOD_HELD, MOD_FLAGGED)))


def held(slug: str) -> list[Signature]:
    """Confirmed signatures waiting for approval (held or flagged), oldest first."""
    return list(db.session.scalars(
        select(Signature).where(*_waiting(get_letter(slug)))
        .order_by(Signature.confirmed_at, Signature.public_id)
    ))


def held_count(letter: Letter) -> int:
    """How many wait for a decision (the back office's "Moderation (N waiting)")."""
    return db.session.scalar(select(func.count(Signature.id)).where(*_waiting(letter))) or 0


def decide(slug: str, ids: list[str], decision: str, *, commit: bool = True) -> int:
    """Apply `decision` (approve, reject or hide) to all of `ids` (public ids) or, if any is
    not a confirmed signature of the letter, to none.

    With commit=False the change lands with the caller's transaction (e.g. with its audit
    record), or not at all.
    """
    if decision not in DECISIONS:
        raise ModerationError(f"unknown decision {decision!r}")
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
    before = [counting.entry(signature) for signature in signatures]
    for signature in signatures:
        signature.moderation = DECISIONS[decision]
    counting.changed(letter, before, [counting.entry(signature) for signature in signatures])
    if commit:
        db.session.commit()
    return len(signatures)


def approve(slug: str, ids: list[str], *, commit: bool = True) -> int:
    """List these signatures publicly."""
    return decide(slug, ids, "approve", commit=commit)


def reject(slug: str, ids: list[str], *, commit: bool = True) -> int:
    """Keep these signatures off the public list and counts: not genuine."""
    return decide(slug, ids, "reject", commit=commit)


def hide(slug: str, ids: list[str], *, commit: bool = True) -> int:
    """Take these signatures off the public list and counts without calling them not genuine
    (e.g. while a doubt is checked); approving them later lists them again."""
    return decide(slug, ids, "hide", commit=commit)
