"""The campaign block: what a campaign says beside a letter, per language, never inside it.

A donation link and/or bank details with a line on what the money is for, the campaign's
channels (Telegram, Mastodon, a website), a contact. The letter's page, the thank-you page
and the confirmation mail show it in the reader's language (else the letter's own); no
export reads it, so a government submission never carries a bank account.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from petition.accounts import audit
from petition.extensions import db
from petition.letters.operations import bump_list_version, get_letter
from petition.letters.values import LetterError, check_language
from petition.models import Letter, LetterText
from petition.names import N_, plain_text_problem

FIELDS = ("donation_url", "donation_text", "bank_details", "channels", "contact")
MAX_URL = 500
MAX_LINE = 300  # donation text, contact
MAX_BANK = 600
MAX_BANK_LINES = 8
MAX_CHANNELS = 8


@dataclass(frozen=True)
class Block:
    """One language's block, as plain values; `lang` is the language it was written in."""

    lang: str
    donation_url: str = ""
    donation_text: str = ""
    bank_details: tuple[str, ...] = ()  # lines
    channels: tuple[str, ...] = ()
    contact: str = ""

    @property
    def contact_href(self) -> str:
        """A link for the contact when it is an address or a web page, else ""."""
        if _EMAIL.fullmatch(self.contact):
            return f"mailto:{self.contact}"
        return self.contact if _is_web_url(self.contact) else ""

    @property
    def gives(self) -> bool:
        return bool(self.donation_url or self.bank_details)


_EMAIL = re.compile(r"[^@\s<>()\"']+@[^@\s<>()\"']+\.[^@\s<>()\"']+")


def block_for(letter: Letter, lang: str) -> Block | None:
    """The block in `lang`, else in the letter's own language, else None. Read from the
    texts already loaded with the letter: no query of its own."""
    by_lang = {text.lang: text for text in letter.texts}
    for text in (by_lang.get(lang), by_lang.get(letter.default_lang)):
        block = own_block(text) if text is not None else None
        if block is not None:
            return block
    return None


def _block(text: LetterText) -> Block:
    return Block(lang=text.lang, donation_url=text.donation_url,
                 donation_text=text.donation_text,
                 bank_details=tuple(text.bank_details.splitlines()),
                 channels=tuple(text.channels.splitlines()), contact=text.contact)


def set_campaign(slug: str, lang: str, changes: dict[str, str | list[str]],
                 actor: str = "cli") -> Block | None:
    """Set the fields named in `changes` ("" or [] clears one; fields not named stay) and
    return the block in `lang`, None once every field is empty."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown campaign fields: {sorted(unknown)}")
    lang = check_language(lang)
    checked = {name: _CHECKS[name](value) for name, value in changes.items()}
    letter = get_letter(slug, with_texts=True)
    text = next((text for text in letter.texts if text.lang == lang), None)
    if text is None:
        raise LetterError("the letter has no text in %(lang)s: add the text first", lang=lang)
    changed = [name for name in FIELDS if name in checked and checked[name] != getattr(text, name)]
    if changed:
        for name in changed:
            setattr(text, name, checked[name])
        audit.record(actor, "letter.campaign", letter_slug=letter.slug,
                     detail=f"lang={lang}: {', '.join(changed)}", commit=False)
        bump_list_version(letter)  # pages cached per list state show the new block
        db.session.commit()
    return own_block(text)


def _is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:  # "https://[oops": not an address at all
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value


# Each field's messages written out whole, so each reads well once translated.
_TOO_LONG = {
    "donation_url": N_("the donation link must be at most %(limit)s characters"),
    "donation_text": N_("the donation text must be at most %(limit)s characters"),
    "bank_details": N_("each line of the bank details must be at most %(limit)s characters"),
    "channels": N_("each channel must be at most %(limit)s characters"),
    "contact": N_("the contact must be at most %(limit)s characters"),
}
_NOT_ONE_LINE = {
    "donation_url": N_("the donation link must be one line without control characters"),
    "donation_text": N_("the donation text must be one line without control characters"),
    "bank_details": N_("the bank details must not hold control characters"),
    "channels": N_("each channel must be one line without control characters"),
    "contact": N_("the contact must be one line without control characters"),
}
_NOT_WEB = {
    "donation_url": N_("the donation link must start with https:// or http://: %(value)s"),
    "channels": N_("each channel must start with https:// or http://: %(value)s"),
}


def _line(value: str, field: str, limit: int = MAX_LINE) -> str:
    value = value.strip()
    if len(value) > limit:
        raise LetterError(_TOO_LONG[field], limit=limit)
    if plain_text_problem(value):
        raise LetterError(_NOT_ONE_LINE[field])
    return value


def _url(value: str, field: str) -> str:
    value = _line(value, field, MAX_URL)
    if value and not _is_web_url(value):
        raise LetterError(_NOT_WEB[field], value=value)
    return value


def _donation_url(value: str | list[str]) -> str:
    return _url(str(value), "donation_url")


def _donation_text(value: str | list[str]) -> str:
    return _line(str(value), "donation_text")


def _contact(value: str | list[str]) -> str:
    return _line(str(value), "contact")


def _channels(value: str | list[str]) -> str:
    items = value.splitlines() if isinstance(value, str) else value
    urls = list(dict.fromkeys(url for item in items if (url := _url(item, "channels"))))
    if len(urls) > MAX_CHANNELS:
        raise LetterError("at most %(limit)s channels, please", limit=MAX_CHANNELS)
    return "\n".join(urls)


def _bank_details(value: str | list[str]) -> str:
    lines = [_line(line, "bank_details") for line in str(value).strip().splitlines()]
    text = "\n".join(lines)
    if len(text) > MAX_BANK or len(lines) > MAX_BANK_LINES:
        raise LetterError("the bank details must be at most %(limit)s characters on "
                          "%(lines)s lines", limit=MAX_BANK, lines=MAX_BANK_LINES)
    for iban in _IBAN.findall(text):
        if not _iban_valid(iban):
            raise LetterError("the IBAN %(iban)s does not add up: please check it", iban=iban)
    return text


_CHECKS = {"donation_url": _donation_url, "donation_text": _donation_text,
           "bank_details": _bank_details, "channels": _channels, "contact": _contact}

# Two capitals, two digits, then groups of four (the printed form) or one run: an IBAN.
_IBAN = re.compile(r"\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")


def _iban_valid(printed: str) -> bool:
    """ISO 13616: the country and check digits moved to the end, letters as numbers, the
    whole modulo 97 is 1. Any shorter run of groups that adds up counts too (words in capitals
    may follow the number)."""
    groups = printed.split()
    candidates = [printed.replace(" ", "")] if len(groups) == 1 else [
        "".join(groups[:end]) for end in range(len(groups), 0, -1)]
    return any(15 <= len(iban) <= 34 and _mod97(iban) == 1 for iban in candidates)


def _mod97(iban: str) -> int:
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in moved)) % 97


def own_block(text: LetterText) -> Block | None:
    """The block written in this text's language only (no fallback): for its editor."""
    return _block(text) if any(getattr(text, name) for name in FIELDS) else None


def shown_in(slug: str, lang: str) -> Block | None:
    """The block a reader of `lang` sees on the letter's pages."""
    return block_for(get_letter(slug, with_texts=True), check_language(lang))
