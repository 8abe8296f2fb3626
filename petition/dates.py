"""Dates as a reader of each language writes them: CLDR's long form, with what CLDR's
patterns leave out ("1er février" in French), and one full stop where a sentence ends on a
date that already ends with one ("до 15 февраля 2027 г.", never "г..")."""
from __future__ import annotations

import datetime as dt

from babel.dates import format_date, format_datetime, format_time


def long_date(value: dt.date, lang: str) -> str:
    """"February 1, 2027", "1er février 2027", "1 февраля 2027 г."."""
    text = format_date(value, format="long", locale=lang)
    return _first_of_month(text, value.day, lang)


def long_utc_time(value: dt.datetime, lang: str) -> str:
    """A naive UTC time: "December 24, 2026, 9:00 AM UTC", "1er décembre 2026, 09:00 UTC"."""
    when = value.replace(tzinfo=dt.UTC)
    return (f"{long_date(when.date(), lang)}, "
            f"{format_time(when, format='short', tzinfo=dt.UTC, locale=lang)} UTC")


def long_date_time(value: dt.datetime, lang: str) -> str:
    """A naive UTC time in CLDR's long form, seconds and zone included (an export's stamp):
    "1er décembre 2026, 09:00:00 TU"."""
    text = format_datetime(value.replace(tzinfo=dt.UTC), "long", tzinfo=dt.UTC, locale=lang)
    return _first_of_month(text, value.day, lang)


def _first_of_month(text: str, day: int, lang: str) -> str:
    # French writes the first day of a month as an ordinal ("le 1er mai"), every other day
    # as a number; CLDR's pattern ("d MMMM y") cannot say so. Its long dates begin with
    # the day, in every French locale.
    if day == 1 and lang.split("_")[0].split("-")[0] == "fr" and text.startswith("1 "):
        return "1er" + text[1:]
    return text


def one_full_stop(message: str, values: dict[str, object]) -> str:
    """`message` (a translation with %(name)s placeholders) without the full stop right after
    a placeholder whose value already ends with one: a sentence ending "%(date)s." with a
    Russian date ("20 декабря 2026 г.") ends with one full stop, as Russian writes it.

    Works on str and markupsafe.Markup alike (their replace() keeps the type)."""
    for name, value in values.items():
        if isinstance(value, str) and value.endswith(".") and not value.endswith(".."):
            message = message.replace(f"%({name})s.", f"%({name})s")
    return message
