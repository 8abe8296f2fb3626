"""The forms of a letter drive's public side: writing a letter, and changing its text (before
confirming, or when the organisers returned it). Field checks only; the use cases in
petition.drive decide."""
from __future__ import annotations

import contextlib
from functools import lru_cache

from babel import Locale
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from petition import countries
from petition.collation import sorted_by
from petition.drive.values import DriveError, check_letter_text
from petition.letters.values import LetterError, check_language
from petition.models.drive import (
    BODY_MAX_DEFAULT,
    PUBLISH_FULL,
    PUBLISH_INITIALS,
    PUBLISH_NO,
)
from petition.names import NAME_MAX, clean_text
from petition.views.forms import (
    EMAIL_MAX,
    CachedSelect,
    ListSafe,
    PlainText,
    TextForm,
    canonical_email_field,
)

# The languages offered for a letter besides the drive's own: those its writers are likely
# to write in. The drive's languages (its delivery language, its page's translations) are
# added to these.
LETTER_LANGUAGES = (
    "ru", "en", "fr", "de", "es", "it", "uk", "pl", "pt", "nl", "be", "kk", "tt", "ba", "hy",
    "ka", "az", "uz", "ro", "cs", "sk", "hu", "bg", "sr", "hr", "sl", "lt", "lv", "et", "fi",
    "sv", "da", "nb", "el", "tr", "he", "ar", "fa", "hi", "ja", "ko", "zh", "ca", "eu",
)


@lru_cache(maxsize=512)
def language_name(code: str, lang: str, choice: bool = True) -> str:
    """The language `code` named in `lang`, as CLDR writes it within a sentence ("allemand"
    on a French page); as a choice, capitalised and with its own name too ("Allemand
    (Deutsch)"): a reader finds their language under either name."""
    try:
        locale = Locale.parse(code)
        here = locale.get_display_name(lang) or code
        own = locale.get_display_name(code) or ""
    except (ValueError, LookupError):
        return code
    if not choice:
        return here
    here = here[:1].upper() + here[1:]
    if own and own.casefold() != here.casefold():
        return f"{here} ({own})"
    return here


@lru_cache(maxsize=1)
def _offered() -> tuple[str, ...]:
    """LETTER_LANGUAGES in their stored form, without any CLDR does not know."""
    codes: list[str] = []
    for code in LETTER_LANGUAGES:
        try:
            codes.append(check_language(code))
        except LetterError:
            continue
    return tuple(codes)


def language_choices(page_lang: str, extra: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Every language a letter may be declared in, named in the page's language, sorted as
    a reader of it sorts."""
    return list(_language_choices(page_lang, tuple(dict.fromkeys(extra))))


@lru_cache(maxsize=256)
def _language_choices(page_lang: str, extra: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    # Sorted once per page language and drive languages, not on every page shown.
    codes = dict.fromkeys((*extra, *_offered()))
    named = [(code, language_name(code, page_lang)) for code in codes]
    return tuple(sorted_by(named, lambda choice: choice[1], page_lang))


@lru_cache(maxsize=256)
def _country_choices(lang: str, overrides: tuple[tuple[str, str], ...]
                     ) -> tuple[tuple[str, str], ...]:
    # Countries only: "from how many countries" counts where writers are, and a region or
    # "international" is nowhere. Filtered once per language and label set.
    return tuple((code, name) for code, name in countries.country_choices(lang, dict(overrides))
                 if countries.is_country(code))


class LetterTextCheck:
    """The letter's text as the use case checks it (length, links, controls): the message
    at the field, with every other field's, before anything is stored."""

    def __call__(self, form, field) -> None:
        try:
            field.data = check_letter_text(field.data or "", form.body_max)
        except DriveError as error:
            raise ValidationError(error.translated()) from None


class LetterForm(TextForm):
    """A letter to a drive's recipient, as the public writes it."""

    class Meta:
        # CSRFProtect checks every POST's token before the view (as for SignForm).
        csrf = False

    name = StringField(
        _l("Your name, as the letter is signed"),
        description=_l("The recipient reads it under your letter. Published only if you "
                       "allow it below."),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please say how the letter is signed.")),
            Length(max=NAME_MAX, message=_l("Please use at most %(max)d characters.")),
            PlainText(),
            ListSafe(),
        ],
    )
    country = SelectField(
        _l("Country"),
        validators=[DataRequired(_l("Please choose a country or a region."))],
        validate_choice=False,  # checked against ISO codes below, whatever the language
        widget=CachedSelect(),
    )
    email = EmailField(
        _l("Email"),
        description=_l("Only used to confirm your letter and tell you what becomes of it. "
                       "Never published, never given to the recipient."),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please give your email address.")),
            Length(max=EMAIL_MAX, message=_l("Please use at most %(max)d characters.")),
        ],
    )
    language = SelectField(
        _l("Language of your letter"),
        description=_l("Letters in another language than the recipient's are translated "
                       "by volunteers before they are sent."),
        validate_choice=False,  # validate_language gives the one clear message
        widget=CachedSelect(),
    )
    body = TextAreaField(
        _l("Your letter"),
        validators=[DataRequired(_l("Please write your letter.")), LetterTextCheck()],
    )
    publish = RadioField(
        _l("May your letter appear on this page?"),
        choices=[
            (PUBLISH_NO, _l("No: only the organisers, the translators and the recipient "
                            "read it")),
            (PUBLISH_INITIALS, _l("Yes, under my initials")),
            (PUBLISH_FULL, _l("Yes, under my name as I signed it")),
        ],
        default=PUBLISH_NO,
        validate_choice=False,  # validate_publish gives the one clear message
    )
    reply = BooleanField(
        _l("Send me the reply if one comes"),
        description=_l("We then keep your address, encrypted, until a reply comes, and no "
                       "longer than the drive plus its retention period."),
    )
    consent = BooleanField(
        _l("I agree to the privacy notice"),
        validators=[DataRequired(_l("Please agree to the privacy notice to write."))],
    )
    # Honeypot, as on the sign form: hidden from people by CSS, filled in by naive bots.
    # No length limit: a long value refused with a 400 would tell a bot it met the trap.
    website = StringField(_l("Leave this field empty"), validators=[Optional()])

    def __init__(self, *args, body_max: int = BODY_MAX_DEFAULT, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.body_max = body_max

    def label_choices(self, lang: str, overrides: dict[str, str] | None,
                      languages: tuple[str, ...]) -> None:
        """Name the countries and languages in `lang`: call it before the form is shown."""
        self.country.choices = [("", _l("Choose…")), *_country_choices(
            lang, tuple(sorted((overrides or {}).items())))]
        with contextlib.suppress(LetterError):  # a valid language sent from elsewhere
            languages = (*languages, check_language(self.language.data or ""))
        self.language.choices = language_choices(lang, languages)

    def validate_country(self, field) -> None:
        if not countries.is_country(field.data or ""):
            raise ValidationError(_l("Please choose a country or a region from the list."))

    def validate_email(self, field) -> None:
        canonical_email_field(field)

    def validate_language(self, field) -> None:
        # Any language CLDR knows, in its stored form: the choices are a convenience (a
        # form built elsewhere may name another), the check is the letters' own.
        try:
            field.data = check_language(field.data or "")
        except LetterError:
            raise ValidationError(_l("Please choose the language of your letter.")) from None

    def validate_publish(self, field) -> None:
        if field.data not in (PUBLISH_NO, PUBLISH_INITIALS, PUBLISH_FULL):
            raise ValidationError(_l("Please choose whether your letter may appear on this "
                                     "page."))

    @property
    def is_bot(self) -> bool:
        return bool(self.website.data)


class TextOnlyForm(TextForm):
    """A letter's new text: before confirming, or when the organisers returned it."""

    class Meta:
        csrf = False

    body = TextAreaField(
        _l("Your letter"),
        validators=[DataRequired(_l("Please write your letter.")), LetterTextCheck()],
    )

    def __init__(self, *args, body_max: int = BODY_MAX_DEFAULT, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.body_max = body_max
