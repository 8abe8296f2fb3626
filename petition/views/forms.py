"""Flask-WTF forms: field validation and normalisation only, no business rules; and how a
form's errors are shown."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from email_validator import EmailNotValidError
from flask import current_app, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, EmailField, Field, Form, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import Select, html_params

from petition import addresses, countries, names
from petition.abuse.disposable import is_disposable
from petition.models import ANONYMOUS, FULL, INDIVIDUAL, INITIALS, ORGANIZATION
from petition.names import AFFILIATION_MAX, NAME_MAX, clean_text

EMAIL_MAX = 254


class PlainText:
    """Refuse line breaks, control characters and bidi overrides (names.plain_text_problem)
    with a clear message."""

    def __call__(self, form, field) -> None:
        why = names.plain_text_problem(field.data or "")
        if why:
            raise ValidationError(gettext(why))


class ListSafe:
    """Refuse links, web and email addresses, and characters that deface the list or hide
    the name (petition.names), with a clear message."""

    def __call__(self, form, field) -> None:
        why = names.problem(field.data or "")
        if why:
            raise ValidationError(gettext(why))


class TextForm(FlaskForm):
    """A form that reads text values only."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: FlaskForm, formdata: Any) -> MultiDict | None:
            # Flask-WTF merges request.files into the form data and reads JSON bodies as is:
            # a file part or a JSON number would reach a text field (a 500 in its filters,
            # or a "checked" consent box). Our forms take no files: keep strings only.
            formdata = super().wrap_formdata(form, formdata)
            if formdata is None:
                return None
            if formdata is request.form:  # a form without files: its values are strings
                return formdata
            return MultiDict([(key, value) for key, value in formdata.items(multi=True)
                              if isinstance(value, str)])


class CachedSelect(Select):
    """A select whose options are rendered once per list of choices and chosen value.

    A form's country list (some 250 names, the same on every page of a language) took
    1.3 ms to render option by option on each page; the same HTML is kept instead. Only
    plain choices (value and text, no groups, no Markup labels, no per-option attributes)
    are kept; any other select renders as WTForms renders it.
    """

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        choices = _plain_choices(field)
        data = field.data
        if (choices is None or self.multiple or getattr(field, "coerce", None) is not str
                or not (data is None or isinstance(data, str))):
            return super().__call__(field, **kwargs)
        # The <select> itself as Select.__call__ writes it, with its validation attributes.
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for name in dir(flags):
            if name in self.validation_attrs and name not in kwargs:
                kwargs[name] = getattr(flags, name)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>"
                      f"{_options(choices, data)}</select>")


def _plain_choices(field: Field) -> tuple[tuple[str, str], ...] | None:
    """The field's choices as (value, text) pairs in this request's language, or None if
    any is more than that."""
    choices = getattr(field, "choices", None)
    if not isinstance(choices, list | tuple):
        return None
    plain = []
    for choice in choices:  # exact types first: this loop runs for some 250 countries
        if type(choice) not in (tuple, list) or len(choice) != 2:
            return None
        value, label = choice
        if type(label) is not str:
            if isinstance(label, Markup):
                return None
            label = str(label)  # a lazy label, in the language of this request
        if type(value) is not str:
            return None
        plain.append((value, label))
    return tuple(plain)


@lru_cache(maxsize=64)
def _options(choices: tuple[tuple[str, str], ...], data: str | None) -> str:
    return "".join(Select.render_option(value, label, value == data)
                   for value, label in choices)


def canonical_email_field(field: Field) -> None:
    """Validate an address someone gives to be mailed at (signing, writing a letter) and
    keep its canonical form."""
    try:
        field.data = addresses.canonical_email(
            field.data or "",
            check_deliverability=current_app.config["EMAIL_CHECK_DELIVERABILITY"],
        )
    except EmailNotValidError:
        raise ValidationError(_l("This does not look like an email address.")) from None
    if is_disposable(field.data.rpartition("@")[2]):
        raise ValidationError(_l("Addresses from throwaway mail services cannot be used "
                                 "here: please give an address you keep (a privacy relay "
                                 "such as SimpleLogin, Proton or Firefox Relay is fine)."))


class SignForm(TextForm):
    class Meta:
        # CSRFProtect checks the token of every POST before the view runs (the template
        # writes it with csrf_token()); a form-level field only made a new token on each
        # signature, a twentieth of its cost.
        csrf = False

    # No choice made for the signer: an individual who overlooked it would otherwise be
    # published in full as an organisation.
    signer_type = RadioField(
        _l("I sign as"),
        choices=[(ORGANIZATION, _l("an organisation")), (INDIVIDUAL, _l("an individual"))],
        validate_choice=False,  # validate_signer_type gives the one clear message
    )
    name = StringField(
        _l("Name"),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please give the name to sign with.")),
            Length(max=NAME_MAX, message=_l("Please use at most %(max)d characters.")),
            PlainText(),
            ListSafe(),
        ],
    )
    affiliation = StringField(
        _l("Affiliation (optional)"),
        description=_l("For example: mathematician, CNRS"),
        filters=[clean_text],
        validators=[
            Optional(),
            Length(max=AFFILIATION_MAX, message=_l("Please use at most %(max)d characters.")),
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
        description=_l("Only used to confirm your signature. Never published."),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please give your email address.")),
            Length(max=EMAIL_MAX, message=_l("Please use at most %(max)d characters.")),
        ],
    )
    display = RadioField(
        _l("Show my name"),
        choices=[
            (FULL, _l("in full")),
            (INITIALS, _l("as initials only")),
            (ANONYMOUS, _l("not at all: count me but do not list me")),
        ],
        # Pre-selected and taken when none is posted: the letter's default (__init__).
        default=FULL,
        validators=[Optional()],
    )
    # Unticked: news goes only to those who asked; the confirmation link confirms it too.
    news = BooleanField(
        _l("Send me news about this campaign"),
        description=_l("A few emails at most, each with a one-click unsubscribe. Kept apart "
                       "from your signature."),
        default=False,
    )
    consent = BooleanField(
        _l("I agree to the privacy notice"),
        validators=[DataRequired(_l("Please agree to the privacy notice to sign."))],
    )
    # Honeypot: hidden from people by CSS, filled in by naive bots.
    # No length limit: a long value refused with a 400 would tell a bot it met the trap.
    website = StringField(_l("Leave this field empty"), validators=[Optional()])

    def __init__(self, *args, signer_types: tuple[str, ...] = (ORGANIZATION, INDIVIDUAL),
                 display_default: str = FULL, **kwargs) -> None:
        # Given as the field's data, a POST without `display` keeps it (WTForms' process()).
        kwargs.setdefault("display", display_default)
        self.display_default = display_default
        super().__init__(*args, **kwargs)
        self.signer_type.choices = [c for c in self.signer_type.choices if c[0] in signer_types]
        if len(signer_types) == 1:
            self.signer_type.default = signer_types[0]
            if not self.signer_type.data or self.signer_type.data not in signer_types:
                self.signer_type.data = signer_types[0]

    def label_countries(self, lang: str, overrides: dict[str, str] | None) -> None:
        """Name the country choices in `lang`, with the letter's own labels: call it before
        the form is shown.

        Only a form that is shown needs them (validation checks codes): a POST that
        succeeds builds no list of some 250 names, nor loads the letter's labels.
        """
        self.country.choices = [("", _l("Choose…"))] + countries.country_choices(lang, overrides)

    def validate_signer_type(self, field) -> None:
        if field.data not in [value for value, _label in field.choices]:
            raise ValidationError(_l("Please choose organisation or individual."))

    def validate_country(self, field) -> None:
        if not countries.is_valid(field.data or ""):
            raise ValidationError(_l("Please choose a country or a region from the list."))

    def validate_email(self, field) -> None:
        canonical_email_field(field)

    def validate_display(self, field) -> None:
        if self.signer_type.data != INDIVIDUAL:
            field.data = FULL  # organisations are always listed by name
        elif field.data not in (FULL, INITIALS, ANONYMOUS):
            field.data = self.display_default

    @property
    def is_bot(self) -> bool:
        return bool(self.website.data)


class WithdrawLinkForm(TextForm):
    """The address a signer used, to mail them a new withdrawal link."""

    class Meta:
        csrf = False  # a public form: checked by origin (views/public_cache.py)

    email = EmailField(
        _l("Email"),
        description=_l("The address you signed with. A link to withdraw each signature made "
                       "with it is sent there, and nowhere else."),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please give your email address.")),
            Length(max=EMAIL_MAX, message=_l("Please use at most %(max)d characters.")),
        ],
    )
    # Honeypot, as on the sign form.
    # No length limit: a long value refused with a 400 would tell a bot it met the trap.
    website = StringField(_l("Leave this field empty"), validators=[Optional()])

    def validate_email(self, field) -> None:
        try:
            # No deliverability check: an address that signed once must always be accepted.
            field.data = addresses.canonical_email(field.data or "")
        except EmailNotValidError:
            raise ValidationError(_l("This does not look like an email address.")) from None

    @property
    def is_bot(self) -> bool:
        return bool(self.website.data)


# How a form's errors are shown: a summary that links to each field, and the ARIA that
# ties a field to its hint and its message (the templates' _fields.html uses both).

@dataclass(frozen=True)
class FieldError:
    target: str | None  # the id to link to; None for a field the reader cannot see
    label: str
    message: str


def _target(field: Field) -> str | None:
    if field.type in ("CSRFTokenField", "HiddenField"):
        return None
    if isinstance(field, RadioField):
        return f"{field.id}-0"  # the group's first button: a link to the fieldset moves no focus
    return field.id


def error_list(form: Form, skip: tuple[str, ...] = ()) -> list[FieldError]:
    """Every message of every field, in the form's order."""
    return [
        FieldError(_target(field), str(field.label.text), str(message))
        for field in form
        if field.name not in skip
        for message in field.errors
    ]


def field_aria(field: Field) -> dict[str, str]:
    """aria-describedby (its hint, its error) and aria-invalid, to pass to field(**...)."""
    ids = [f"{field.id}-hint"] if field.description else []
    attrs: dict[str, str] = {}
    if field.errors:
        ids.append(f"{field.id}-error")
        attrs["aria-invalid"] = "true"
    if ids:
        attrs["aria-describedby"] = " ".join(ids)
    return attrs
