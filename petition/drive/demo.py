"""A demo letter drive for `make run`, so a new user can write a letter at once and follow
it through the back office (review, translation, batch, sending)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from petition.drive.settings import create_drive, set_guidance
from petition.extensions import db
from petition.letters.operations import translate_letter
from petition.models import LETTER_DRIVE, Letter, utcnow

SLUG = "letters-to-the-mathematician"

APPEAL_RU = """Математик находится в следственном изоляторе уже больше года. Письма — одна из
немногих связей с внешним миром, которые у него остались.

Напишите ему несколько тёплых слов: о себе, о своём городе, о математике. Цель — **1000
писем** к дедлайну."""

APPEAL_EN = """The mathematician has been held in a pre-trial detention centre for more than a
year. Letters are one of the few links to the outside world he still has.

Write him a few warm words: about yourself, your town, mathematics. The goal is **1,000
letters** by the deadline."""

APPEAL_FR = """Le mathématicien est détenu en maison d'arrêt depuis plus d'un an. Les lettres
sont l'un des rares liens avec l'extérieur qui lui restent.

Écrivez-lui quelques mots chaleureux : sur vous, votre ville, les mathématiques. L'objectif :
**1 000 lettres** avant la date limite."""

GUIDANCE = {
    "ru": "Пишите по-русски, без сокращений и иностранных слов. Не пишите о войне, о деле и "
          "суде, не оскорбляйте сотрудников: цензор не пропустит такое письмо.",
    "en": "Letters are translated into Russian for the prison censor. Do not write about the "
          "war, the case or the trial, avoid abbreviations and slang, and never insult "
          "officials: the censor stops such letters.",
    "fr": "Les lettres sont traduites en russe pour le censeur de la prison. N'écrivez ni sur "
          "la guerre, ni sur l'affaire ou le procès, évitez les abréviations et l'argot, "
          "n'insultez jamais les fonctionnaires : le censeur arrête ces lettres.",
}
RISKY = {"ru": "войн*\nсуд*\nприговор*\nпутин*", "en": "war\nwars\ntrial\nsentence\nputin\nlol",
         "fr": "guerre*\nprocès\ncondamn*\nputin\nmdr"}


def seed_demo_drive() -> bool:
    """Create the demo drive if the database has none; return whether it did."""
    if db.session.scalar(select(func.count(Letter.id)).where(Letter.kind == LETTER_DRIVE)):
        return False
    create_drive(SLUG, lang="ru", title="1000 писем математику", body=APPEAL_RU,
                 recipient="Иванов Иван Иванович",
                 recipient_address="ФКУ СИЗО-1 УФСИН России\nг. Москва",
                 delivery_lang="ru", goal=1000,
                 deadline=utcnow().date() + dt.timedelta(days=70))
    translate_letter(SLUG, lang="en", title="1000 letters to the mathematician", body=APPEAL_EN)
    translate_letter(SLUG, lang="fr", title="1000 lettres au mathématicien", body=APPEAL_FR)
    for lang, text in GUIDANCE.items():
        set_guidance(SLUG, lang, guidance=text, risky_words=RISKY[lang])
    return True
