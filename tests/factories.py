"""One helper per state: make_letter(), make_signature(letter, status=CONFIRMED, country="DE")."""
from __future__ import annotations

import itertools
import secrets

from petition import addresses
from petition.extensions import db
from petition.letters import counting
from petition.models import (
    CONFIRMED,
    FULL,
    MOD_NONE,
    OPEN,
    ORGANIZATION,
    SOURCE_FORM,
    Letter,
    LetterText,
    Signature,
    utcnow,
)
from petition.signatures.submissions import Submission

_counter = itertools.count(1)


def make_letter(
    slug: str = "appeal",
    *,
    lang: str = "fr",
    title: str = "Libérez le mathématicien",
    body: str = "Nous demandons sa **libération**.",
    status: str = OPEN,
    **fields,
) -> Letter:
    letter = Letter(slug=slug, status=status, default_lang=lang, **fields)
    letter.texts.append(LetterText(lang=lang, title=title, body=body))
    db.session.add(letter)
    db.session.commit()
    return letter


def make_signature(
    letter: Letter,
    *,
    status: str = CONFIRMED,
    country: str = "DE",
    name: str | None = None,
    signer_type: str = ORGANIZATION,
    display: str = FULL,
    affiliation: str | None = None,
    moderation: str = MOD_NONE,
    email: str | None = None,
    lang: str = "fr",
    source: str = SOURCE_FORM,
    commit: bool = True,
) -> Signature:
    number = next(_counter)
    email = email or f"signer{number}@example.org"
    # Stored as signing stores it: the real name of a hidden individual encrypted.
    submission = Submission.make(signer_type=signer_type, name=name or f"Signatory {number}",
                                 affiliation=affiliation, country=country, display=display,
                                 lang=lang)
    signature = Signature(
        letter_id=letter.id,
        **submission.columns(),
        status=status,
        moderation=moderation,
        source=source,
        email_hash=addresses.email_hash(email),
        token_nonce=secrets.token_hex(16),
        confirmed_at=utcnow() if status == CONFIRMED else None,
    )
    db.session.add(signature)
    if signature.is_public:
        # As the use cases do: a change to the public list bumps its version and moves its
        # counts, in the same transaction (committed here or by the caller).
        counting.changed(letter, added=[counting.entry(signature)])
    if commit:
        db.session.commit()
    return signature
