"""A demo letter for `make run`, so a new user has something to sign at once."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from petition.extensions import db
from petition.letters.operations import create_letter, set_label, translate_letter
from petition.models import FULL, Letter

SLUG = "free-the-mathematician"

# The three texts say the same thing, sentence by sentence (tests/test_letters_cli.py checks
# they have as many paragraphs and bold phrases): a visitor switching language reads one letter.

BODY_FR = """Nous, organisations et personnes signataires, demandons la **libération immédiate**
du mathématicien emprisonné pour ses opinions.

Nous appelons les gouvernements à intervenir et les institutions scientifiques à se joindre
à cet appel."""

BODY_EN = """We, the undersigned organisations and individuals, call for the **immediate release**
of the mathematician jailed for his opinions.

We urge governments to intervene and scientific institutions to join this appeal."""

BODY_RU = """Мы, нижеподписавшиеся организации и частные лица, требуем **немедленного освобождения**
математика, заключённого в тюрьму за свои взгляды.

Мы призываем правительства вмешаться, а научные учреждения — присоединиться к этому
обращению."""


def seed_demo() -> bool:
    """Create the demo letter if the database has no letter; return whether it did."""
    if db.session.scalar(select(func.count(Letter.id))):
        return False
    create_letter(
        SLUG,
        lang="fr",
        title="Libérez le mathématicien emprisonné",
        body=BODY_FR,
        goal=1000,
        place="Paris",
        date=dt.date(2026, 5, 21),
        # The appeal has always listed individuals in full unless they chose otherwise.
        individual_display=FULL,
    )
    translate_letter(SLUG, lang="en", title="Free the jailed mathematician", body=BODY_EN)
    translate_letter(SLUG, lang="ru", title="Свободу заключённому математику", body=BODY_RU,
                     place="Париж")
    set_label(SLUG, lang="fr", code="ES", label="Etat espagnol")
    set_label(SLUG, lang="fr", code="international", label="Organisation internationale")
    return True
