"""`flask keys rotate`: every stored secret moves to a new EMAIL_KEY, hashes keep matching."""
from __future__ import annotations

import csv
import io

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import func, select

from petition import addresses
from petition.accounts import operations as accounts
from petition.drive import batches, replies, review
from petition.extensions import db
from petition.mail import dispatcher
from petition.models import (
    CONFIRMED,
    MAIL_FAILED,
    MAIL_SENT,
    PENDING,
    OutboxMail,
    Signature,
    SignatureVersion,
    utcnow,
)
from petition.models.accounts import KeyMaterial
from petition.privacy import key_rotation
from tests.admin_helpers import fresh_code, make_account
from tests.conftest import EMAIL_KEY as OLD_KEY
from tests.drive_helpers import LETTER_RU, make_drive, written
from tests.factories import make_letter
from tests.helpers import confirm_token_from, mails_to, sign_form

NEW_KEY = Fernet.generate_key().decode()
FIRST = "first@example.org"


def stored_tokens() -> dict[str, list[bytes]]:
    """Every stored Fernet token, by column, in a stable order."""
    db.session.expire_all()
    found = {}
    for model, column_name in key_rotation.SECRETS:
        column = getattr(model, column_name)
        [primary] = model.__table__.primary_key.columns
        found[f"{model.__tablename__}.{column_name}"] = [
            bytes(token) for token in db.session.scalars(
                select(column).where(column.is_not(None)).order_by(primary))]
    return found


def fill(client) -> str:
    """A pending signature (address encrypted, mail queued), a confirmed one with initials
    (name encrypted), a re-submission (a version), an account with TOTP; its secret."""
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(email=FIRST))
    client.post("/letters/appeal/sign", data=sign_form(
        signer_type="individual", name="Jean-Paul Sartre", affiliation="Collège de France",
        display="initials", email="jps@example.org", country="FR", news="y"))  # a subscriber
    client.post("/letters/appeal/sign", data=sign_form(
        signer_type="individual", name="Anna Hidden", display="anonymous",
        email="anna@example.org", country="FR"))
    client.post("/letters/appeal/sign", data=sign_form(
        signer_type="individual", name="Anna Hidden", display="initials",
        email="anna@example.org", country="FR"))
    client.post(f"/confirm/{confirm_token_from(mails_to('jps@example.org')[0])}")
    _, secret = make_account("admin@example.org", "admin", totp=True)
    assert db.session.scalar(select(func.count(SignatureVersion.id))) == 1
    fill_drive()
    tokens = stored_tokens()
    assert all(tokens.values()), tokens  # every kind of secret is there to rotate
    return secret


def fill_drive() -> None:
    """A drive's letters holding every kind of secret: a sent letter with its translation,
    the address kept for the reply and the reply's text and scan; a returned one's note."""
    make_drive()
    answered = written(email="writer@example.org", wants_reply=True)
    review.translate(answered.public_id, LETTER_RU)
    review.approve(answered.public_id)
    batch = batches.create_batch("letters-to-azat")
    batches.mark_sent(batch.public_id, on=utcnow().date())
    replies.attach_reply(answered.public_id, text="Спасибо!",
                         data=b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    returned = written(email="other@example.org")
    review.return_to_writer(returned.public_id, "Please shorten it.")


def rotate(app, runner, old_key: str):
    app.config["EMAIL_KEY"] = NEW_KEY
    return runner.invoke(args=["keys", "rotate", "--old-key-stdin"], input=old_key + "\n")


def test_rotation_moves_every_secret_and_keeps_the_duplicate_check(client, app, runner, capsys):
    secret = fill(client)
    first_hash = db.session.scalar(select(Signature.email_hash).where(
        Signature.status == PENDING, Signature.signer_type == "organization"))
    first_mail = mails_to(FIRST)[0].id
    before = stored_tokens()
    result = rotate(app, runner, OLD_KEY)
    assert result.exit_code == 0, result.output
    assert "signature.private_encrypted: 2 re-encrypted" in result.output  # jps, anna
    after = stored_tokens()
    new, old = Fernet(NEW_KEY.encode()), Fernet(OLD_KEY.encode())
    for column, tokens in after.items():
        assert len(tokens) == len(before[column]), column
        for token, earlier in zip(tokens, before[column], strict=True):
            assert new.decrypt(token) == old.decrypt(earlier), column
            with pytest.raises(InvalidToken):  # the old key alone opens nothing any more
                old.decrypt(token)

    # With the new key: the queued mail goes out, to the right address.
    assert dispatcher.deliver_due() >= 3
    db.session.expire_all()
    assert db.session.get(OutboxMail, first_mail).status == MAIL_SENT
    assert capsys.readouterr().out.count(f"To: {FIRST}") == 1
    assert not db.session.scalar(select(func.count(OutboxMail.id))
                                 .where(OutboxMail.status == MAIL_FAILED))
    # The private spreadsheet shows the real name.
    export = runner.invoke(args=["export", "appeal", "--format", "csv", "--private", "--out", "-"])
    rows = list(csv.DictReader(io.StringIO(export.stdout_bytes.decode("utf-8-sig"))))
    assert [(row["name"], row["affiliation"]) for row in rows if row["display"] == "initials"] \
        == [("Jean-Paul Sartre", "Collège de France")]
    # TOTP still verifies.
    account = accounts.get_account("admin@example.org")
    assert accounts.verify_totp(account, fresh_code("admin@example.org", secret))
    # Signing again with the first address is a duplicate: same hash, no second row.
    assert addresses.email_hash(FIRST) == first_hash
    client.post("/letters/appeal/sign", data=sign_form(email=FIRST))
    assert db.session.scalar(select(func.count(Signature.id))
                             .where(Signature.email_hash == first_hash)) == 1
    assert [mail.kind for mail in mails_to(FIRST)] == ["confirm"]  # the first was sent

    # Run again: nothing left under the old key, nothing changes, no harm.
    now = stored_tokens()
    again = rotate(app, runner, OLD_KEY)
    assert again.exit_code == 0, again.output
    assert "already under the new key" in again.output
    assert stored_tokens() == now

    # With the old key alone, nothing decrypts: not even the hash key.
    app.config["EMAIL_KEY"] = OLD_KEY
    addresses.forget_hash_keys()
    with pytest.raises(addresses.KeyMismatch):
        addresses.email_hash(FIRST)
    with pytest.raises(InvalidToken):
        accounts.totp_secret(account)


@pytest.mark.parametrize("old_key, message", [
    (Fernet.generate_key().decode(), "opens with neither the old key nor EMAIL_KEY"),
    ("not a key", "is not a Fernet key"),
    ("", "is not a Fernet key"),
])
def test_a_wrong_old_key_changes_nothing(client, app, runner, old_key, message):
    fill(client)
    before = stored_tokens()
    result = rotate(app, runner, old_key)
    assert result.exit_code != 0
    assert message in result.output
    assert stored_tokens() == before


def test_the_old_key_given_as_the_new_one_is_refused(client, app, runner):
    fill(client)
    before = stored_tokens()
    result = runner.invoke(args=["keys", "rotate", "--old-key-stdin"], input=OLD_KEY + "\n")
    assert result.exit_code != 0 and "is the current EMAIL_KEY" in result.output
    assert stored_tokens() == before


def test_a_hash_key_never_stored_is_kept_as_the_old_key_made_it(client, app, runner):
    """Hashes made before the hash key was kept in the database still match after rotating."""
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(email=FIRST))
    db.session.execute(KeyMaterial.__table__.delete())  # as on a database of an earlier version
    db.session.commit()
    addresses.forget_hash_keys()
    first_hash = db.session.scalar(select(Signature.email_hash))
    result = rotate(app, runner, OLD_KEY)
    assert result.exit_code == 0, result.output
    assert "address-hash key stored" in result.output
    assert addresses.email_hash(FIRST) == first_hash


def test_without_anything_to_check_the_old_key_a_missing_hash_key_is_refused(client, app, runner):
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(email=FIRST))
    token = confirm_token_from(mails_to(FIRST)[0])
    assert dispatcher.deliver_due() == 1  # the recipient is cleared once sent
    client.post(f"/confirm/{token}")
    db.session.execute(KeyMaterial.__table__.delete())
    db.session.commit()
    assert db.session.scalar(select(Signature.status)) == CONFIRMED
    assert not any(stored_tokens().values())
    result = rotate(app, runner, Fernet.generate_key().decode())
    assert result.exit_code != 0 and "cannot be checked" in result.output
    assert db.session.scalar(select(func.count()).select_from(KeyMaterial)) == 0


def test_the_hash_key_is_created_once_and_stored_wrapped(app):
    assert db.session.scalar(select(func.count()).select_from(KeyMaterial)) == 0
    value = addresses.email_hash(FIRST)
    addresses.forget_hash_keys()
    assert addresses.email_hash(FIRST) == value  # read back from the row, the same
    wrapped = db.session.scalar(select(KeyMaterial.wrapped))
    raw = Fernet(OLD_KEY.encode()).decrypt(wrapped)
    assert raw == addresses.derived_hash_key(OLD_KEY) and raw not in wrapped
    assert db.session.scalar(select(func.count()).select_from(KeyMaterial)) == 1


def test_processes_racing_to_create_the_hash_key_agree(app):
    """Every worker creating the missing row at once ends with the one stored key."""
    import threading

    found, errors = [], []

    def first_use() -> None:
        try:
            with app.app_context():
                found.append(addresses._load_or_create(app.config["EMAIL_KEY"]))
        except Exception as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=first_use) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(found) == 6 and len(set(found)) == 1
    assert db.session.scalar(select(func.count()).select_from(KeyMaterial)) == 1


def test_one_secret_that_will_not_open_undoes_the_whole_rotation(client, app, runner):
    """The last column checked holds a stranger's token: what was already re-encrypted in
    the other columns is rolled back with it."""
    fill(client)
    stranger = make_account("stranger@example.org", "press")[0]
    stranger.totp_secret = Fernet(Fernet.generate_key()).encrypt(b"JBSWY3DPEHPK3PXP")
    db.session.commit()
    before = stored_tokens()
    result = rotate(app, runner, OLD_KEY)
    assert result.exit_code != 0 and "account.totp_secret opens with neither" in result.output
    assert stored_tokens() == before
