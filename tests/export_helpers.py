"""A small French appeal with both kinds of signatories, shared by the export tests."""
from __future__ import annotations

import datetime as dt
import io

from petition.exporting.formats import export
from petition.extensions import db
from petition.models import ANONYMOUS, FULL, INDIVIDUAL, INITIALS, CountryLabel, Letter

from .factories import make_letter, make_signature

ORGANISATIONS = [
    ("DE", "Campagne #FREE120"),
    ("DE", "BAG Russischsprachige Linke"),
    ("ES", "Confederación General del Trabajo CGT"),
    ("EG", "Égyptiens libres"),
    ("international", "Boris Kagarlitsky International Solidarity Campaign"),
    ("europe", "European Network for Solidarity with Ukraine"),
]
# What the French press list looks like for sample_letter().
FRENCH_PRESS = """ORGANISATIONS

Allemagne
BAG Russischsprachige Linke
Campagne #FREE120

Égypte
Égyptiens libres

Etat espagnol
Confederación General del Trabajo CGT

Europe
European Network for Solidarity with Ukraine

International
Boris Kagarlitsky International Solidarity Campaign

SIGNATAIRES INDIVIDUELS

France
Émile Zola, écrivain
J.-P. S.
et 1 autre signataire
"""


def sample_letter(slug: str = "appeal") -> Letter:
    """Six organisations (one under the organiser's label) and three individuals in France."""
    letter = make_letter(
        slug, title="Libérez le mathématicien",
        body="Nous demandons sa **libération**.\n\nSans délai.",
        place="Paris", date=dt.date(2026, 5, 21),
    )
    letter.labels.append(CountryLabel(lang="fr", code="ES", label="Etat espagnol"))
    db.session.commit()
    for country, name in ORGANISATIONS:
        make_signature(letter, country=country, name=name)
    make_signature(letter, country="FR", name="Émile Zola", signer_type=INDIVIDUAL,
                   affiliation="écrivain", display=FULL)
    make_signature(letter, country="FR", name="Jean-Paul Sartre", signer_type=INDIVIDUAL,
                   display=INITIALS)
    make_signature(letter, country="FR", name="Anne Secret", signer_type=INDIVIDUAL,
                   display=ANONYMOUS)
    return letter


def exported(letter: Letter, fmt: str, lang: str = "fr", layout: str = "press",
             private: bool = False) -> bytes:
    """The bytes of one export."""
    out = io.BytesIO()
    export(letter, fmt, lang, layout, out, private)
    return out.getvalue()
