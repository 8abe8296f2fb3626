"""Curating a letter's signatures from the back office: correct, add by hand, merge, delete
and act on a filtered selection (finding them: signatures/search.py). No request, no flash:
views and the command line call these and turn the outcome into a page or a message.

Every change returns a Done that says what it did in words fit for the audit log: public
ids, field names and counts. Never an address, and never a name: press accounts read the
log of their letters, and a name may be one its signer asked not to have listed.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast, overload

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.orm.exc import StaleDataError

from petition import countries, names
from petition.extensions import db
from petition.letters import counting
from petition.letters.operations import UNCHANGED
from petition.models import (
    CONFIRMED,
    DISPLAY_CHOICES,
    MAIL_FAILED,
    MAIL_QUEUED,
    MOD_APPROVED,
    MOD_NONE,
    ORGANIZATION,
    PROVENANCE_MAX,
    SIGNER_TYPES,
    SOURCE_MANUAL,
    Letter,
    OutboxMail,
    Signature,
    utcnow,
)
from petition.names import AFFILIATION_MAX, NAME_MAX, clean_text
from petition.news import subscriptions
from petition.signatures import moderation

# Re-exported: the back office finds signatures and reads refusals through this module.
from petition.signatures.search import (  # noqa: E402
    SOURCES,
    ChangedMeanwhile,
    CurationError,
    Filters,
    SignatureNotFound,
    StaleSelection,
    find_by_email,
    get_signature,
    search,
    selection,
)
from petition.signatures.submissions import Submission, display_on

BULK_ACTIONS = ("approve", "reject", "hide", "delete")


@dataclass(frozen=True)
class Done:
    """What a change did: the audit action, its detail, and the signatures it touched."""

    action: str
    detail: str
    count: int = 1
    public_ids: tuple[str, ...] = field(default=())


# --- Validation, as the signing form does it -------------------------------------------

@overload
def _text(value: str | None, label: Any, limit: int, required: Literal[True],
          listed: bool = False) -> str: ...
@overload
def _text(value: str | None, label: Any, limit: int, required: bool,
          listed: bool = False) -> str | None: ...
def _text(value: str | None, label: Any, limit: int, required: bool,
          listed: bool = False) -> str | None:
    """Trimmed, NFC, on one line, without control or text-direction characters; what the
    list shows (listed) also without links or defacing characters (names.problem)."""
    value = clean_text(value) or ""
    if not value:
        if required:
            raise CurationError(_l("%(field)s: this is required.", field=label))
        return None
    if len(value) > limit:
        raise CurationError(_l("%(field)s: please use at most %(max)d characters.",
                               field=label, max=limit))
    if why := names.plain_text_problem(value):  # the signing form's own rule
        raise CurationError(_l("%(field)s: %(problem)s", field=label, problem=gettext(why)))
    if listed and (why := names.problem(value)):
        raise CurationError(_l("%(field)s: %(problem)s", field=label, problem=gettext(why)))
    return value


def _country(code: str | None) -> str:
    code = countries.normalize_code(code or "")
    if not countries.is_valid(code):
        raise CurationError(_l("Please choose a country or a region from the list."))
    return code


def _finish(commit: bool) -> None:
    try:
        db.session.flush()
    except StaleDataError:
        # A row this change read was deleted by another session before it was written.
        raise ChangedMeanwhile() from None
    if commit:
        db.session.commit()


# What a change to one signature reads and decides on (its state, what the list shows,
# its counts, its address hash): another session changing any of these between the read
# and the write makes the change refused, not applied to what nobody saw.
_DECIDED_ON = ("status", "moderation", "signer_type", "name", "affiliation", "country",
               "display", "private_encrypted", "email_hash")


def _hold_as_read(*signatures: Signature) -> None:
    """Hold each row as it was read until the commit, or raise ChangedMeanwhile.

    An UPDATE that rewrites nothing and matches the row only as it was read: it takes the
    write lock (the row's on PostgreSQL, which first waits for a concurrent writer's
    commit and then checks again; the database's on SQLite), so nobody changes or deletes
    it between this check and the change. Rows in id order: two changes never wait on
    each other crosswise.
    """
    for signature in sorted(signatures, key=lambda row: row.id):
        as_read = [getattr(Signature, column).is_not_distinct_from(getattr(signature, column))
                   for column in _DECIDED_ON]
        held = cast(CursorResult[Any], db.session.execute(
            update(Signature).where(Signature.id == signature.id, *as_read)
            .values(status=Signature.status)
            .execution_options(synchronize_session=False)))
        if held.rowcount != 1:
            raise ChangedMeanwhile()


# --- Changes -------------------------------------------------------------------------------

def correct(letter: Letter, public_id: str, *, name: str = UNCHANGED,
            affiliation: str | None = UNCHANGED, country: str = UNCHANGED,
            commit: bool = True) -> Done:
    """Correct the name, affiliation or country of a confirmed signature.

    A pending one is not corrected: its confirmation link confirms exactly what its signer
    sent, and would overwrite the correction anyway. Done.count is 0 when nothing differed.
    """
    signature = get_signature(letter, public_id)
    if signature.status != CONFIRMED:
        raise CurationError(_l("Only confirmed signatures can be corrected: a pending one "
                               "is confirmed as its signer sent it."))
    wanted: dict[str, str | None] = {}
    if name is not UNCHANGED:
        wanted["name"] = _text(name, _l("Name"), NAME_MAX, required=True, listed=True)
    if affiliation is not UNCHANGED:
        wanted["affiliation"] = _text(affiliation, _l("Affiliation"), AFFILIATION_MAX,
                                      required=False, listed=True)
    if country is not UNCHANGED:
        wanted["country"] = _country(country)
    current = Submission.of(signature)  # the real name, even when hidden
    changed = [key for key, value in wanted.items() if getattr(current, key) != value]
    if changed:
        _hold_as_read(signature)
        before = counting.entry(signature)  # a new country moves it between counts
        changes: dict[str, Any] = {key: wanted[key] for key in changed}  # Submission fields
        corrected = replace(current, **changes)
        for column, value in corrected.columns().items():
            setattr(signature, column, value)
        if signature.is_public:
            counting.changed(letter, [before], [counting.entry(signature)])
    _finish(commit)
    return Done("signature.correct", f"{public_id} {','.join(changed)}", 1 if changed else 0,
                (public_id,))


def add_manual(letter: Letter, *, signer_type: str, name: str, affiliation: str | None,
               country: str, display: str, provenance: str, commit: bool = True) -> Done:
    """A confirmed signature received another way ("sent by email on 3 May by ..."), with no
    address. An organisation added on a moderated letter counts as approved: adding it was
    the organiser's decision. A closed letter takes them too (late mail, paper lists)."""
    if signer_type not in SIGNER_TYPES:
        raise CurationError(_l("Please choose organisation or individual."))
    if signer_type not in letter.signer_types:
        raise CurationError(_l("This letter does not take this kind of signer."))
    if display not in DISPLAY_CHOICES:
        raise CurationError(_l("Please choose how the name is shown."))
    name = _text(name, _l("Name"), NAME_MAX, required=True, listed=True)
    affiliation = _text(affiliation, _l("Affiliation"), AFFILIATION_MAX, required=False,
                        listed=True)
    provenance = _text(provenance, _l("Provenance"), PROVENANCE_MAX, required=True)
    if names.holds_address(provenance):
        raise CurationError(_l("Provenance: please say who sent it without their email "
                               "address; no address is kept in plain text."))
    submission = Submission.make(signer_type=signer_type, name=name, affiliation=affiliation,
                                 country=_country(country),
                                 display=display_on(letter, signer_type, display),
                                 lang=letter.default_lang)
    held = signer_type == ORGANIZATION and letter.moderate_organizations
    signature = Signature(letter_id=letter.id, status=CONFIRMED, confirmed_at=utcnow(),
                          moderation=MOD_APPROVED if held else MOD_NONE, source=SOURCE_MANUAL,
                          provenance=provenance, **submission.columns())
    db.session.add(signature)
    db.session.flush()  # the public id is drawn on insert
    counting.changed(letter, added=[counting.entry(signature)])
    _finish(commit)
    return Done("signature.add", f"{signature.public_id} provenance: {provenance}", 1,
                (signature.public_id,))


def merge(letter: Letter, keep_public_id: str, drop_public_id: str, *,
          commit: bool = True) -> Done:
    """Two confirmed entries of the same organisation become one: `drop` is deleted.

    The kept entry keeps its own name, affiliation and country, untouched: choosing which
    entry to keep is choosing which details are right, and mixing fields of both would list
    a line neither signer sent (correct the kept one afterwards if need be). Only the keyed
    hash of the dropped entry's address moves over when the kept one has none (typed in by
    hand, imported without address): that address signing again is then recognised as
    already signed, not listed a second time. When both have one, only the kept address is
    remembered: the dropped one could sign again as a new entry (one hash per signature).
    """
    if keep_public_id == drop_public_id:
        raise CurationError(_l("An entry cannot be merged into itself."))
    keep = get_signature(letter, keep_public_id)
    drop = get_signature(letter, drop_public_id)
    if keep.signer_type != ORGANIZATION or drop.signer_type != ORGANIZATION:
        raise CurationError(_l("Only two organisations can be merged."))
    if keep.status != CONFIRMED or drop.status != CONFIRMED:
        raise CurationError(_l("Only confirmed entries can be merged."))
    _hold_as_read(keep, drop)
    moved_hash = drop.email_hash if keep.email_hash is None else None
    remove_signatures(letter, [drop.id])  # first: the hash is unique per letter
    if moved_hash:
        keep.email_hash = moved_hash  # not public: the list does not change for it
    _finish(commit)
    return Done("signature.merge", f"kept {keep_public_id}, deleted {drop_public_id}", 1,
                (keep_public_id, drop_public_id))


def delete(letter: Letter, public_id: str, *, end_news: bool = True,
           commit: bool = True) -> Done:
    """Delete a signature on its signer's request, in any state; see remove_signatures().
    `end_news`: the letter's news subscription of the same address (if any) ends too, as
    the signer chose. Whether there was one is not said: the back office never learns who
    asked for news."""
    signature = get_signature(letter, public_id)
    if end_news:
        subscriptions.end_for_hash(letter.id, signature.email_hash)
    if not remove_signatures(letter, [signature.id]):
        raise ChangedMeanwhile()  # deleted by someone else since it was read
    _finish(commit)
    return Done("signature.delete", public_id, 1, (public_id,))


def remove_signatures(letter: Letter, ids: list[int]) -> int:
    """Delete signatures and what points at them; how many were still there to delete.

    Mail still waiting to go (or failed, waiting to be retried) to them is deleted with
    them: it holds the address and a link to nothing. The database does the rest (see the
    foreign keys in models.py): SignatureVersion rows cascade, mails already sent or in
    flight lose their link (SET NULL); sent ones hold no address any more. Public ones
    leave the letter's counts, and its list version is bumped, in the same transaction.
    The counts are those of the rows as deleted (RETURNING), not as read before: a row
    another session deleted or hid meanwhile is not taken off them a second time.
    """
    if not ids:
        return 0
    db.session.execute(sql_delete(OutboxMail).where(
        OutboxMail.signature_id.in_(ids), OutboxMail.status.in_((MAIL_QUEUED, MAIL_FAILED))
    ).execution_options(synchronize_session=False))
    deleted = db.session.execute(
        sql_delete(Signature).where(Signature.letter_id == letter.id, Signature.id.in_(ids))
        .returning(Signature.country, Signature.signer_type, Signature.display,
                   Signature.is_public)).all()
    public = [(country, kind, counting.is_listed(kind, display))
              for country, kind, display, is_public in deleted if is_public]
    if public:
        counting.changed(letter, removed=public)
    return len(deleted)


# --- Acting on a selection -------------------------------------------------------------

def bulk_targets(letter: Letter, filters: Filters, action: str) -> list[tuple[int, str, bool]]:
    """(id, public id, is public) of what `action` would change in the selection.

    Moderation reaches confirmed signatures not already in the state it sets: the count
    shown is the count changed.
    """
    if action not in BULK_ACTIONS:
        raise CurationError(_l("Unknown action."))
    query = selection(letter, filters).with_only_columns(
        Signature.id, Signature.public_id, Signature.is_public)
    if action in moderation.DECISIONS:
        query = query.where(Signature.status == CONFIRMED,
                            Signature.moderation != moderation.DECISIONS[action])
    return [tuple(row) for row in db.session.execute(query)]


def bulk_count(letter: Letter, filters: Filters, action: str) -> int:
    return len(bulk_targets(letter, filters, action))


def bulk(letter: Letter, filters: Filters, action: str, expected_count: int, *,
         commit: bool = True) -> Done:
    """Apply `action` to the selection, if it still holds `expected_count` signatures.

    The count is what the user confirmed; a selection that grew or shrank since (a new
    signature, another organiser's change) is refused whole rather than acted on blind.
    """
    targets = bulk_targets(letter, filters, action)
    if len(targets) != expected_count:
        raise StaleSelection(len(targets))
    if not targets:
        raise CurationError(_l("No signature matches: nothing to do."))
    public_ids = [public_id for _, public_id, _ in targets]
    if action == "delete":
        remove_signatures(letter, [id_ for id_, _, _ in targets])
    else:
        moderation.decide(letter.slug, public_ids, action, commit=False)
    _finish(commit)
    return Done("signature.bulk", f"action={action} count={len(targets)} {filters.for_audit()}",
                len(targets), tuple(public_ids))


__all__ = [
    "BULK_ACTIONS", "ChangedMeanwhile", "CurationError", "Done", "Filters", "SOURCES",
    "SignatureNotFound", "StaleSelection", "add_manual", "bulk", "bulk_count", "correct", "delete",
    "find_by_email", "get_signature", "merge", "search", "selection",
]
