"""encrypt the real names of individuals listed by initials or not at all

Their rows keep in `name` only what the list shows (initials, or nothing), no affiliation,
and the real name and affiliation Fernet-encrypted under the app's EMAIL_KEY in
private_encrypted; the sort key is recomputed from what the list shows. The downgrade
decrypts them back.

Where addresses were hashed, the address-hash key they were hashed with (HKDF of EMAIL_KEY)
is stored now, wrapped, in key_material: so an EMAIL_KEY changed later without
`keys rotate` is refused at first use instead of silently breaking every stored hash.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 03:40:00

"""
import datetime as dt
import json
import re
import struct
from functools import lru_cache

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from pyuca.collator import Collator_9_0_0

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


# Frozen copies of the app's helpers as of this revision (petition.addresses, .collation,
# .exporting.text, .models): a migration must do what it did when written, whatever the
# app's code becomes. Collator_9_0_0 is the table pyuca's Collator() picks on Python >= 3.6.
HASH_KEY = "email-hash"  # the key_material row of the address-hash key


def derived_hash_key(email_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"petition address hash")
    return hkdf.derive(email_key.encode())


@lru_cache(maxsize=1)
def _collator() -> Collator_9_0_0:
    return Collator_9_0_0()


def stored_key(text: str) -> bytes:
    weights = _collator().sort_key(text)
    return struct.pack(f">{len(weights)}H", *(min(weight, 0xFFFF) for weight in weights))


_SPACES = "\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029"
_TABLE: dict[int, str] = {ord(char): " " for char in _SPACES}
_TABLE.update({code: chr(0x2400 + code) for code in range(0x20) if chr(code) not in _SPACES})
_TABLE[0x7F] = "\u2421"
_TABLE.update({code: "\ufffd" for code in range(0x80, 0xA0) if chr(code) not in _SPACES})
_TABLE.update({0xFFFE: "\ufffd", 0xFFFF: "\ufffd"})
_TABLE.update({code: "\ufffd" for code in range(0xD800, 0xE000)})
_RUNS = re.compile(r" {2,}")
_SUSPECT = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]|  |^ | $")


def clean(text: str | None) -> str:
    if not text:
        return ""
    if _SUSPECT.search(text) is None:  # not only speed: strip() below would also drop NBSP
        return text
    result = text.translate(_TABLE)
    if "  " in result:
        result = _RUNS.sub(" ", result)
    return result.strip()


def initials(name: str) -> str:
    parts = []
    for word in name.split():
        pieces = [piece[0] + "." for piece in word.split("-") if piece]
        if pieces:
            parts.append("-".join(pieces))
    return " ".join(parts)


def _table(name: str, with_key: bool) -> sa.Table:
    columns = [sa.column('id', sa.Integer), sa.column('signer_type', sa.String),
               sa.column('name', sa.String), sa.column('affiliation', sa.String),
               sa.column('display', sa.String), sa.column('private_encrypted', sa.LargeBinary)]
    if with_key:
        columns.append(sa.column('collation_key', sa.LargeBinary))
    return sa.table(name, *columns)


TABLES = ((_table('signature', True), True), (_table('signature_version', False), False))


def _fernet() -> Fernet:
    return Fernet(current_app.config['EMAIL_KEY'].encode())


def _keep_hash_key(connection) -> None:
    key_material = sa.table('key_material', sa.column('name', sa.String),
                            sa.column('wrapped', sa.LargeBinary),
                            sa.column('created_at', sa.DateTime))
    signature = sa.table('signature', sa.column('email_hash', sa.String))
    if connection.scalar(sa.select(key_material.c.name).where(key_material.c.name == HASH_KEY)):
        return
    if connection.scalar(sa.select(signature.c.email_hash)
                         .where(signature.c.email_hash.is_not(None)).limit(1)) is None:
        return  # nothing hashed yet: the first use stores it
    email_key = current_app.config['EMAIL_KEY']
    connection.execute(key_material.insert().values(
        name=HASH_KEY, wrapped=_fernet().encrypt(derived_hash_key(email_key)),
        created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)))


def upgrade():
    connection = op.get_bind()
    _keep_hash_key(connection)
    fernet = None
    for table, with_key in TABLES:
        rows = connection.execute(sa.select(
            table.c.id, table.c.name, table.c.affiliation, table.c.display,
        ).where(table.c.signer_type != 'organization', table.c.display != 'full',
                table.c.private_encrypted.is_(None))).all()
        for id_, name, affiliation, display in rows:
            fernet = fernet or _fernet()  # only asked for when there is something to hide
            private = json.dumps({'name': name, 'affiliation': affiliation},
                                 ensure_ascii=False, separators=(',', ':'))
            shown = initials(clean(name)) if display == 'initials' else ''
            values = {'name': shown, 'affiliation': None,
                      'private_encrypted': fernet.encrypt(private.encode())}
            if with_key:
                values['collation_key'] = stored_key(shown) if display == 'initials' else None
            connection.execute(table.update().where(table.c.id == id_).values(**values))


def downgrade():
    # The stored hash key stays: 0006's code does not read it, and it is the same key.
    connection = op.get_bind()
    fernet = None
    for table, _ in TABLES:
        rows = connection.execute(sa.select(table.c.id, table.c.private_encrypted)
                                  .where(table.c.private_encrypted.is_not(None))).all()
        for id_, token in rows:
            fernet = fernet or _fernet()
            private = json.loads(fernet.decrypt(bytes(token)).decode())
            # The sort key stays: it was made from the initials, as 0006's code makes it.
            connection.execute(table.update().where(table.c.id == id_).values(
                name=private['name'], affiliation=private['affiliation'],
                private_encrypted=None))
