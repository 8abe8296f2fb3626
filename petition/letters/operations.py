"""Letter use cases: create, update, translate, label, open and close. No request, no flash."""
from __future__ import annotations

import datetime as dt
from typing import Any, cast

from flask import current_app
from sqlalchemy import Table, Update, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from petition import countries

# Every change is logged here, in its own transaction, whoever makes it (web or command
# line: actor "cli"), so no caller can forget.
from petition.accounts import audit
from petition.core.pipelining import Together
from petition.extensions import db

# Re-exported: callers parse and check a letter's values through this module.
from petition.letters.values import (
    LetterError,
    LetterNotFound,
    check_embargo,
    check_goal,
    check_individual_display,
    check_language,
    check_milestones,
    check_retention,
    check_signers,
    check_slug,
    check_title,
    clean_body,
    clean_place,
    parse_milestones,
)
from petition.models import (
    CLOSED,
    DRAFT,
    INITIALS,
    LETTER_DRIVE,
    LETTER_KINDS,
    LETTER_STATES,
    OPEN,
    OPEN_LETTER,
    CountryLabel,
    Letter,
    LetterText,
    new_list_token,
    utcnow,
)
from petition.models.drive import Drive


def get_letter(slug: str, *, with_texts: bool = False) -> Letter:
    """The letter; `with_texts` loads its texts in the same query (a page or mail needs one)."""
    letter = db.session.scalars(_BY_SLUG[with_texts], {"slug": slug}).unique().first()
    if letter is None:
        raise LetterNotFound("no letter with slug %(slug)r", slug=slug)
    return letter


# Built once: every public page and every signature reads a letter by its slug. Joined
# texts: a letter has a handful, and each lazy load is a round trip.
_BY_SLUG = {False: select(Letter).where(Letter.slug == bindparam("slug"))}
_BY_SLUG[True] = _BY_SLUG[False].options(joinedload(Letter.texts))


def get_public_letter(slug: str, *, with_texts: bool = True) -> Letter:
    """The letter if the public may see it: drafts are as good as absent."""
    letter = get_letter(slug, with_texts=with_texts)
    if letter.status == DRAFT:
        raise LetterNotFound("no letter with slug %(slug)r", slug=slug)
    return letter


def bump_list_version(letter: Letter, organizations: bool = True,
                      together: Together | None = None) -> None:
    """Mark the letter's public list as changed, in the caller's transaction.

    Call it in the same transaction as any change to what the public sees of a letter
    (confirmed signatures, moderation, labels, texts): every cache is keyed on the version.
    An SQL increment, not a read-modify-write, so concurrent changes never lose a bump.
    organizations=False only when the change touches no organisation (counting.changed).

    One UPDATE sent now, or with the commit of `together` (it takes the letter's row lock,
    which counting relies on), built once: it runs on every confirmation, where the ORM's
    flush of the same change cost more than the statement. The letter in memory forgets
    the four columns and reads them again if asked.
    """
    (together or Together()).execute(_BUMP[organizations], {
        "letter_id": letter.id, "token": new_list_token(), "now": utcnow()})
    db.session.expire(letter, _BUMPED)


_BUMPED = ["list_version", "list_token", "list_changed_at", "organizations_version"]


def _bump_statement(organizations: bool) -> Update:
    # Two transactions that both bump leave the token of the last to commit: a state no
    # reader saw before, which is all a cache key needs.
    # Core, not update(Letter): the ORM's bulk UPDATE machinery cost more than the statement.
    table = cast(Table, Letter.__table__)
    values = {"list_version": table.c.list_version + 1, "list_token": bindparam("token"),
              "list_changed_at": bindparam("now")}
    if organizations:
        values["organizations_version"] = table.c.organizations_version + 1
    return table.update().where(table.c.id == bindparam("letter_id")).values(**values)


_BUMP = {True: _bump_statement(True), False: _bump_statement(False)}


def create_letter(
    slug: str,
    *,
    lang: str,
    title: str,
    body: str = "",
    goal: int | None = None,
    deadline: dt.date | None = None,
    place: str | None = None,
    date: dt.date | None = None,
    moderate_organizations: bool = False,
    accepts_organizations: bool = True,
    accepts_individuals: bool = True,
    embargo_until: dt.datetime | None = None,
    embargo_count: bool = False,
    fingerprint_retention_days: int | None = None,
    status: str = OPEN,
    actor: str = "cli",
    kind: str = OPEN_LETTER,
    drive: Drive | None = None,
    individual_display: str = INITIALS,
) -> Letter:
    """Create a letter with its first text: open at once, or a draft the public cannot see
    until it is opened (so translations and settings can be added first).

    `individual_display` is how an individual is listed unless they choose otherwise:
    initials unless the organiser says so (the model's own default, full, is what letters
    made before it existed kept). The kind is fixed once created: a petition lists no name,
    so turning an open letter into one (or back) would change what signers agreed to.

    A letter drive comes with its settings (`drive`, checked by drive.settings), stored in
    the same transaction."""
    slug = slug.strip()
    check_slug(slug)
    lang = check_language(lang)
    check_goal(goal)
    check_signers(accepts_organizations, accepts_individuals)
    check_title(title)
    place = clean_place(place)
    check_embargo(None, embargo_until)
    if fingerprint_retention_days is None:
        fingerprint_retention_days = current_app.config["FINGERPRINT_RETENTION_DAYS"]
    check_retention(fingerprint_retention_days)
    check_individual_display(individual_display)
    if status not in (DRAFT, OPEN):
        raise LetterError("a new letter is either a draft or open")
    if kind not in LETTER_KINDS or (kind == LETTER_DRIVE) != (drive is not None):
        raise LetterError("unknown kind of letter %(kind)r", kind=kind)
    letter = Letter(
        slug=slug,
        kind=kind,
        status=status,
        default_lang=lang,
        goal=goal,
        deadline=deadline,
        place=place,
        date=date,
        moderate_organizations=moderate_organizations,
        accepts_organizations=accepts_organizations,
        accepts_individuals=accepts_individuals,
        embargo_until=embargo_until,
        embargo_count=bool(embargo_count),
        fingerprint_retention_days=fingerprint_retention_days,
        individual_display=individual_display,
    )
    letter.texts.append(LetterText(lang=lang, title=title.strip(), body=clean_body(body)))
    db.session.add(letter)
    if drive is not None:
        drive.letter = letter
        db.session.add(drive)
    audit.record(actor, "letter.create", letter_slug=slug,
                 detail=f"status={status} lang={lang}"
                 + (f" kind={kind}" if kind != OPEN_LETTER else ""), commit=False)
    try:
        db.session.commit()
    except IntegrityError:  # the same slug created at the same moment by someone else
        db.session.rollback()
        raise LetterError("a letter with slug %(slug)r already exists", slug=slug) from None
    return letter


class _Unchanged:
    """Marks an option that was not given (None is a value: "no goal")."""


UNCHANGED: Any = _Unchanged()


def _shown(value: object) -> str:
    """A setting's value as the audit log shows it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes") + " UTC"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def update_letter(
    slug: str,
    *,
    goal: int | None = UNCHANGED,
    deadline: dt.date | None = UNCHANGED,
    place: str | None = UNCHANGED,
    date: dt.date | None = UNCHANGED,
    accepts_organizations: bool = UNCHANGED,
    accepts_individuals: bool = UNCHANGED,
    moderate_organizations: bool = UNCHANGED,
    embargo_until: dt.datetime | None = UNCHANGED,
    embargo_count: bool = UNCHANGED,
    fingerprint_retention_days: int = UNCHANGED,
    milestones: str | None = UNCHANGED,
    show_chart: bool = UNCHANGED,
    individual_display: str = UNCHANGED,
    actor: str = "cli",
) -> Letter:
    """Change a letter's settings; what is not given stays. None clears goal, deadline,
    place, date or embargo. Only what really changes is written and logged, old → new.

    Turning moderation on holds organisations that confirm from then on; those already
    listed stay listed. A deadline in the past stops signing at once (the letter reads
    as closed). An embargo (naive UTC) hides the list from the public until it ends, and
    the count too unless embargo_count; its end must not be past already. `milestones`
    as values.parse_milestones() returns them (None: the defaults); in per cent only with
    a goal.
    """
    letter = get_letter(slug)
    wanted: dict[str, Any] = {}
    if goal is not UNCHANGED:
        check_goal(goal)
        wanted["goal"] = goal
    if deadline is not UNCHANGED:
        wanted["deadline"] = deadline
    if place is not UNCHANGED:
        wanted["place"] = clean_place(place)
    if date is not UNCHANGED:
        wanted["date"] = date
    if accepts_organizations is not UNCHANGED:
        wanted["accepts_organizations"] = bool(accepts_organizations)
    if accepts_individuals is not UNCHANGED:
        wanted["accepts_individuals"] = bool(accepts_individuals)
    if moderate_organizations is not UNCHANGED:
        wanted["moderate_organizations"] = bool(moderate_organizations)
    if embargo_until is not UNCHANGED:
        check_embargo(letter.embargo_until, embargo_until)
        wanted["embargo_until"] = embargo_until
    if embargo_count is not UNCHANGED:
        wanted["embargo_count"] = bool(embargo_count)
    if fingerprint_retention_days is not UNCHANGED:
        check_retention(fingerprint_retention_days)
        wanted["fingerprint_retention_days"] = fingerprint_retention_days
    if milestones is not UNCHANGED:
        wanted["milestones"] = parse_milestones(milestones or "")  # checked, stored form
    if milestones is not UNCHANGED or "goal" in wanted:
        check_milestones(wanted.get("milestones", letter.milestones),
                         wanted.get("goal", letter.goal))
    if show_chart is not UNCHANGED:
        wanted["show_chart"] = bool(show_chart)
    if individual_display is not UNCHANGED:
        # The default for signatures to come: those already made keep what they chose.
        check_individual_display(individual_display)
        wanted["individual_display"] = individual_display
    check_signers(wanted.get("accepts_organizations", letter.accepts_organizations),
                   wanted.get("accepts_individuals", letter.accepts_individuals))
    # Everything is checked above: nothing is set on the letter before it is all valid.
    changes = []
    for field, new in wanted.items():
        old = getattr(letter, field)
        if old != new:
            changes.append(f"{field}: {_shown(old)}→{_shown(new)}")
            setattr(letter, field, new)
    if changes:
        bump_list_version(letter)
        audit.record(actor, "letter.update", letter_slug=letter.slug, detail="; ".join(changes),
                     commit=False)
        db.session.commit()
    return letter


def save_texts(slug: str, texts: list[tuple], actor: str = "cli") -> list[str]:
    """Add or replace the letter's texts, given as (lang, title, body) or (lang, title, body,
    place): all or none. The place is where the letter was written as this language names
    it ("" or None for the letter's own; a 3-tuple leaves it as it is).

    Returns the languages whose text changed; an unchanged text is not written again.
    """
    checked: dict[str, tuple[str, str, Any]] = {}
    for lang, title, body, *place in texts:
        lang = check_language(lang)
        check_title(title)
        if lang in checked:
            raise LetterError("two texts in %(lang)s: give each language once", lang=lang)
        checked[lang] = (title.strip(), clean_body(body),
                         clean_place(place[0]) if place else UNCHANGED)
    letter = get_letter(slug)
    changed = []
    for lang, (title, body, place) in checked.items():
        text = next((text for text in letter.texts if text.lang == lang), None)
        if text is None:
            letter.texts.append(LetterText(lang=lang, title=title, body=body,
                                           place=None if place is UNCHANGED else place))
            detail = f"lang={lang} added"
        elif (text.title, text.body) != (title, body) or place not in (UNCHANGED, text.place):
            text.title, text.body = title, body
            if place is not UNCHANGED:
                text.place = place
            detail = f"lang={lang} changed"
        else:
            continue
        changed.append(lang)
        audit.record(actor, "letter.text", letter_slug=letter.slug, detail=detail, commit=False)
    if changed:
        bump_list_version(letter)
        db.session.commit()
    return changed


def translate_letter(slug: str, *, lang: str, title: str, body: str = "",
                     place: str | None = None, actor: str = "cli") -> LetterText:
    """Add or replace the text of a letter in one language; `place` None leaves the text's
    place as it is ("" removes it: the letter's own is shown)."""
    text = (lang, title, body) if place is None else (lang, title, body, place)
    save_texts(slug, [text], actor=actor)
    lang = check_language(lang)
    return next(text for text in get_letter(slug).texts if text.lang == lang)


def _label_key(lang: str, code: str) -> tuple[str, str]:
    """The stored (lang, code) of a label: "FR", " es" → ("fr", "ES"); scopes in lower case."""
    lang = check_language(lang)  # a label under "french" would silently never show
    code = countries.normalize_code(code)
    if not countries.is_valid(code):
        raise LetterError("%(code)r is neither an ISO 3166-1 alpha-2 code nor a scope", code=code)
    return lang, code


def set_label(slug: str, *, lang: str, code: str, label: str, actor: str = "cli") -> CountryLabel:
    """Set the letter's own heading for a country or scope in one language."""
    lang, code = _label_key(lang, code)
    label = label.strip()
    if not label or len(label) > 200:
        raise LetterError("the label must be 1 to 200 characters")
    letter = get_letter(slug)
    existing = next((row for row in letter.labels if row.lang == lang and row.code == code), None)
    old = existing.label if existing else None
    if existing is None:
        existing = CountryLabel(lang=lang, code=code, label=label)
        letter.labels.append(existing)
    elif existing.label == label:
        return existing
    else:
        existing.label = label
    bump_list_version(letter)
    audit.record(actor, "letter.label", letter_slug=letter.slug,
                 detail=f"lang={lang} code={code}: {_shown(old)}→{label}", commit=False)
    db.session.commit()
    return existing


def remove_label(slug: str, *, lang: str, code: str, actor: str = "cli") -> None:
    """Remove the letter's own heading: the country's usual name shows again."""
    lang, code = _label_key(lang, code)
    letter = get_letter(slug)
    existing = next((row for row in letter.labels if row.lang == lang and row.code == code), None)
    if existing is None:
        raise LetterError("the letter has no label for %(code)s in %(lang)s", code=code, lang=lang)
    letter.labels.remove(existing)  # delete-orphan: the row goes
    bump_list_version(letter)
    audit.record(actor, "letter.label", letter_slug=letter.slug,
                 detail=f"lang={lang} code={code}: {existing.label}→none", commit=False)
    db.session.commit()


# A letter goes from draft to open once (the public has seen it then), and between open
# and closed as often as needed. A draft is not closed: it was never open.
STATUS_MOVES = {(DRAFT, OPEN), (OPEN, CLOSED), (CLOSED, OPEN)}


def set_status(slug: str, status: str, actor: str = "cli") -> Letter:
    if status not in LETTER_STATES:
        raise LetterError("unknown status %(status)r", status=status)
    letter = get_letter(slug)
    old = letter.status
    if old == status:
        return letter  # already so: nothing to write or log
    if (old, status) not in STATUS_MOVES:
        raise LetterError("a letter cannot go from %(old)s to %(new)s", old=old, new=status)
    if status == OPEN and letter.past_deadline:
        assert letter.deadline is not None  # past_deadline is False without a deadline
        raise LetterError("the deadline %(date)s has passed: move or clear it before opening "
                          "the letter", date=letter.deadline.isoformat())
    letter.status = status
    # Retention counts from the closing; a reopened letter starts afresh when closed again.
    letter.closed_at = utcnow() if status == CLOSED else None
    bump_list_version(letter)
    audit.record(actor, "letter.status", letter_slug=letter.slug,
                 detail=f"{old}→{status}", commit=False)
    db.session.commit()
    return letter
