"""How a form's errors are shown: a summary that links to each field, and the ARIA that ties
a field to its hint and its message (the templates' _fields.html uses both)."""
from __future__ import annotations

from dataclasses import dataclass

from wtforms import Field, Form
from wtforms.fields import RadioField


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
