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

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet
from flask import current_app

from petition.addresses import HASH_KEY, derived_hash_key
from petition.collation import stored_key
from petition.exporting.text import clean
from petition.models import initials


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


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
