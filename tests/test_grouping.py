"""Grouping: who goes under which heading, in which order, for the page and every export."""
from __future__ import annotations

from sqlalchemy import select, text

from petition.collation import stored_key
from petition.exporting.grouping import group_signatories, initials
from petition.extensions import db
from petition.models import (
    ANONYMOUS,
    INDIVIDUAL,
    INITIALS,
    MOD_APPROVED,
    MOD_HELD,
    MOD_REJECTED,
    PENDING,
    WITHDRAWN,
    CountryLabel,
    Signature,
)
from petition.signatures import signing

from .factories import make_letter, make_signature


def _shape(sections):
    return [
        (section.signer_type, [(g.code, g.label, g.names, g.unlisted) for g in section.groups])
        for section in sections
    ]


def test_organisations_first_countries_collated_then_regions_then_international(app):
    letter = make_letter()
    for country, name in [
        ("international", "Boris Kagarlitsky Campaign"), ("africa", "Pan-African Union"),
        ("europe", "ENSU"), ("ES", "CGT"), ("EG", "Égyptiens"), ("DE", "Linke"), ("ZA", "Cosatu"),
    ]:
        make_signature(letter, country=country, name=name)
    make_signature(letter, country="AT", name="Anna Berg", signer_type=INDIVIDUAL)
    sections = group_signatories(letter, "fr")
    assert [s.signer_type for s in sections] == ["organization", "individual"]
    labels = [g.label for g in sections[0].groups]
    assert labels == ["Afrique du Sud", "Allemagne", "Égypte", "Espagne", "Europe", "Afrique",
                      "International"]
    assert sections[0].count == 7 and sections[1].count == 1


def test_names_collated_inside_a_group_and_overrides_applied(app):
    letter = make_letter()
    letter.labels.append(CountryLabel(lang="fr", code="ES", label="Etat espagnol"))
    db.session.commit()
    for name in ["Zapatistas", "Équipo Nizkor", "Ecologistas", "CGT", "Amnistía"]:
        make_signature(letter, country="ES", name=name)
    make_signature(letter, country="EG", name="Égypte libre")
    (section,) = group_signatories(letter, "fr")
    assert [g.label for g in section.groups] == ["Égypte", "Etat espagnol"]
    assert section.groups[1].names == ["Amnistía", "CGT", "Ecologistas", "Équipo Nizkor",
                                       "Zapatistas"]
    # The label is per language: in English, CLDR's name.
    (section,) = group_signatories(letter, "en")
    assert [g.label for g in section.groups] == ["Egypt", "Spain"]


def test_russian_headings_and_names(app):
    letter = make_letter(lang="ru")
    for name in ["Мемориал", "Amnesty", "Ёж", "Ежи"]:
        make_signature(letter, country="RU", name=name)
    make_signature(letter, country="DE", name="Linke")
    make_signature(letter, country="US", name="PEN America")
    (section,) = group_signatories(letter, "ru")
    assert [g.label for g in section.groups] == ["Германия", "Россия", "Соединенные Штаты"]
    assert section.groups[1].names == ["Ёж", "Ежи", "Мемориал", "Amnesty"]


def test_individuals_as_they_chose(app):
    letter = make_letter()
    make_signature(letter, country="FR", name="Émile Zola", signer_type=INDIVIDUAL,
                   affiliation="écrivain")
    make_signature(letter, country="FR", name="Jean-Paul Sartre", signer_type=INDIVIDUAL,
                   display=INITIALS)
    make_signature(letter, country="FR", name="Secret Person", signer_type=INDIVIDUAL,
                   display=ANONYMOUS)
    make_signature(letter, country="BE", name="Also Secret", signer_type=INDIVIDUAL,
                   display=ANONYMOUS)
    (section,) = group_signatories(letter, "fr")
    belgium, france = section.groups
    assert (belgium.label, belgium.names, belgium.unlisted, belgium.count) == ("Belgique", [], 1, 1)
    assert france.names == ["Émile Zola, écrivain", "J.-P. S."] and france.unlisted == 1
    assert "Secret" not in repr(group_signatories(letter, "fr"))


def test_initials():
    assert initials("Jean-Paul Sartre") == "J.-P. S."
    assert initials("  Anna   Maria ") == "A. M."
    assert initials("Ёлкин") == "Ё."


def test_only_confirmed_and_publicly_moderated(app):
    letter = make_letter()
    make_signature(letter, name="Confirmed")
    make_signature(letter, name="Approved", moderation=MOD_APPROVED)
    make_signature(letter, name="Pending", status=PENDING)
    make_signature(letter, name="Withdrawn", status=WITHDRAWN)
    make_signature(letter, name="Held", moderation=MOD_HELD)
    make_signature(letter, name="Rejected", moderation=MOD_REJECTED)
    other = make_letter("other")
    make_signature(other, name="Elsewhere")
    (section,) = group_signatories(letter, "fr")
    assert section.groups[0].names == ["Approved", "Confirmed"]


def test_control_characters_and_line_breaks_never_break_a_line(app):
    letter = make_letter()
    make_signature(letter, name="Evil\nAllemagne\r\nFake\tOrg\x1b[31m\x01 \u2028x\x85y")
    (section,) = group_signatories(letter, "fr")
    (name,) = section.groups[0].names
    assert name == "Evil Allemagne Fake Org\u241b[31m\u2401 x y"


def test_collation_key_filled_on_insert_and_update_and_computed_when_missing(app):
    letter = make_letter()
    signature = make_signature(letter, name="Béatrice")
    assert signature.collation_key == stored_key("Béatrice")
    signature.name = "Anne"
    db.session.commit()
    assert db.session.scalar(select(Signature.collation_key)
                             .where(Signature.id == signature.id)) == stored_key("Anne")
    make_signature(letter, name="Claire")
    # A row written around the ORM has no key: the grouping computes it.
    db.session.execute(text("UPDATE signature SET collation_key = NULL"))
    db.session.commit()
    assert group_signatories(letter, "fr")[0].groups[0].names == ["Anne", "Claire"]


def test_no_signature_no_section(app):
    assert group_signatories(make_letter(), "fr") == []


def test_signing_fills_the_key(app):
    letter = make_letter()
    details = signing.SignatureDetails(
        signer_type="organization", name="Ötztal Solidarität", country="AT",
        email="contact@example.org", lang="de",
    )
    signing.sign(letter.slug, details)
    stored = db.session.scalar(select(Signature).where(Signature.letter_id == letter.id))
    assert stored.collation_key == stored_key("Ötztal Solidarität")


def test_pages_may_get_the_previous_list_while_another_thread_rebuilds(app):
    letter = make_letter()
    make_signature(letter, name="First")
    previous = group_signatories(letter, "fr")
    make_signature(letter, name="Second")
    app.extensions["petition.grouping.building"].add((letter.id, "fr"))  # another thread at work
    assert group_signatories(letter, "fr", fresh=False) is previous
    assert group_signatories(letter, "fr")[0].groups[0].names == ["First", "Second"]
    app.extensions["petition.grouping.building"].clear()
    assert group_signatories(letter, "fr", fresh=False)[0].groups[0].names == ["First", "Second"]
