"""A drive's own settings (recipient, delivery language, length limit, costs) and its
guidance per language. Created with its letter (letters.operations.create_letter)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from petition.accounts import audit
from petition.drive.values import BODY_MAX_LIMIT, DriveError, DriveNotFound, word_list
from petition.extensions import db
from petition.letters import operations as letters
from petition.letters.values import check_language
from petition.models import LETTER_DRIVE, Letter
from petition.models.drive import BODY_MAX_DEFAULT, Drive, DriveGuidance

RECIPIENT_MAX = 200
ADDRESS_MAX = 1000
GUIDANCE_MAX = 20000


def _check_recipient(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DriveError("A letter drive needs its recipient's name.")
    if len(name) > RECIPIENT_MAX:
        raise DriveError("The recipient's name is longer than %(limit)d characters.",
                         limit=RECIPIENT_MAX)
    return name


def _check_address(address: str) -> str:
    lines = [" ".join(line.split()) for line in (address or "").splitlines()]
    address = "\n".join(line for line in lines if line)
    if len(address) > ADDRESS_MAX:
        raise DriveError("The postal address is longer than %(limit)d characters.",
                         limit=ADDRESS_MAX)
    return address


def _check_body_max(value: int) -> int:
    if not 100 <= value <= BODY_MAX_LIMIT:
        raise DriveError("The length limit must be between 100 and %(limit)d characters.",
                         limit=BODY_MAX_LIMIT)
    return value


def _check_currency(code: str) -> str:
    code = (code or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise DriveError("The currency is a three-letter code such as EUR.")
    return code


def create_drive(slug: str, *, lang: str, title: str, recipient: str, delivery_lang: str,
                 body: str = "", recipient_address: str = "", goal: int | None = None,
                 deadline: dt.date | None = None, body_max: int = BODY_MAX_DEFAULT,
                 currency: str = "EUR", status: str = "open", actor: str = "cli",
                 fingerprint_retention_days: int | None = None) -> Letter:
    """Create a letter drive: a letter of kind LETTER_DRIVE with its settings (the
    retention period, FINGERPRINT_RETENTION_DAYS unless given, also bounds how long
    addresses kept for replies stay once the drive is closed)."""
    drive = Drive(recipient_name=_check_recipient(recipient),
                  recipient_address=_check_address(recipient_address),
                  delivery_lang=check_language(delivery_lang),
                  body_max=_check_body_max(body_max), currency=_check_currency(currency),
                  show_costs=False)
    return letters.create_letter(slug, lang=lang, title=title, body=body, goal=goal,
                                 deadline=deadline, status=status, actor=actor,
                                 kind=LETTER_DRIVE, drive=drive,
                                 accepts_organizations=False, accepts_individuals=True,
                                 fingerprint_retention_days=fingerprint_retention_days)


def get_drive(letter: Letter | str) -> Drive:
    """The drive's settings; DriveNotFound if the letter is not a drive."""
    if isinstance(letter, str):
        letter = letters.get_letter(letter)
    drive = db.session.get(Drive, letter.id) if letter.is_drive else None
    if drive is None:
        raise DriveNotFound("%(slug)s is not a letter drive", slug=letter.slug)
    return drive


def update_drive(slug: str, *, actor: str = "cli", **changes: Any) -> Drive:
    """Change a drive's settings: recipient_name, recipient_address, delivery_lang,
    body_max, currency, show_costs. What is not given stays."""
    drive = get_drive(slug)
    checks: dict[str, Callable[[Any], Any]] = {
        "recipient_name": _check_recipient, "recipient_address": _check_address,
        "delivery_lang": check_language, "body_max": _check_body_max,
        "currency": _check_currency, "show_costs": bool}
    for name in changes:
        if name not in checks:
            raise DriveError("unknown drive setting %(name)s", name=name)
    # Every value checked before any is set: a refusal leaves the drive as it was.
    checked = {name: checks[name](value) for name, value in changes.items()}
    shown = []
    for name, value in checked.items():
        if getattr(drive, name) != value:
            setattr(drive, name, value)
            shown.append(f"{name}={value if name != 'recipient_address' else '…'}")
    if shown:
        letters.bump_list_version(drive.letter)
        audit.record(actor, "drive.update", letter_slug=slug, detail=" ".join(shown),
                     commit=False)
    db.session.commit()
    return drive


def guidance_for(letter: Letter, lang: str) -> DriveGuidance | None:
    """The guidance in `lang`, else in the drive's own language, else none."""
    rows = {row.lang: row for row in db.session.scalars(
        select(DriveGuidance).where(DriveGuidance.letter_id == letter.id))}
    return rows.get(lang) or rows.get(letter.default_lang)


def risky_words(letter: Letter, lang: str) -> list[str]:
    """The censor's refusals listed for texts in `lang` (the letter's or the translation's
    language): that language's list, plus the delivery language's, which every letter is
    read in at the end."""
    rows = db.session.scalars(select(DriveGuidance).where(DriveGuidance.letter_id == letter.id))
    words: list[str] = []
    drive = get_drive(letter)
    for row in rows:
        if row.lang in (lang, drive.delivery_lang):
            words.extend(word_list(row.risky_words))
    return word_list("\n".join(words))


def set_guidance(slug: str, lang: str, *, guidance: str | None = None,
                 risky_words: str | None = None, actor: str = "cli") -> DriveGuidance:
    """Set the guidance (Markdown) and/or the risky words (one per line) in `lang`."""
    drive = get_drive(slug)
    lang = check_language(lang)
    row = db.session.scalars(select(DriveGuidance).where(
        DriveGuidance.letter_id == drive.letter_id, DriveGuidance.lang == lang)).first()
    if row is None:
        row = DriveGuidance(letter_id=drive.letter_id, lang=lang, guidance="", risky_words="")
        db.session.add(row)
    if guidance is not None:
        if len(guidance) > GUIDANCE_MAX:
            raise DriveError("The guidance is longer than %(limit)d characters.",
                             limit=GUIDANCE_MAX)
        row.guidance = guidance.strip()
    if risky_words is not None:
        row.risky_words = "\n".join(word_list(risky_words))
    letters.bump_list_version(drive.letter)
    audit.record(actor, "drive.guidance", letter_slug=slug, detail=f"lang={lang}", commit=False)
    db.session.commit()
    return row
