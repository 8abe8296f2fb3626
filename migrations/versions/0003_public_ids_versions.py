"""random public ids, one link per submission (signature_version), the per-address mail
window, the letter's list version, sort keys from what the list shows, longer subjects

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 12:00:00

"""
import base64
import secrets
import struct
from functools import lru_cache

import sqlalchemy as sa
from alembic import op
from pyuca.collator import Collator_9_0_0

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_BATCH = 1000


# Frozen copy of petition.collation.stored_key() as of this revision: a migration must do
# what it did when written, whatever the app's helpers become. Collator_9_0_0 is the table
# pyuca's Collator() picks on Python >= 3.6, named so a new default cannot change the keys.
@lru_cache(maxsize=1)
def _collator() -> Collator_9_0_0:
    return Collator_9_0_0()


def stored_key(text: str) -> bytes:
    """The UCA key of `text` as bytes: byte order equals collation order (root, no tailoring)."""
    weights = _collator().sort_key(text)
    # DUCET weights, implicit ones included, fit in 16 bits; big-endian keeps the order.
    return struct.pack(f">{len(weights)}H", *(min(weight, 0xFFFF) for weight in weights))


def _initials(name):
    # Frozen copy of models.initials() as of this revision: migrations must not follow code.
    return " ".join("-".join(p[0] + "." for p in word.split("-") if p) for word in name.split())


def _public_id():
    # Frozen copy of models.new_public_id() as of this revision.
    return base64.b32encode(secrets.token_bytes(15)).decode('ascii').lower()


def _fill_signatures(conn):
    signature = sa.table(
        'signature',
        sa.column('id', sa.Integer), sa.column('name', sa.String),
        sa.column('signer_type', sa.String), sa.column('display', sa.String),
        sa.column('status', sa.String), sa.column('public_id', sa.String),
        sa.column('collation_key', sa.LargeBinary), sa.column('link_issued_at', sa.DateTime),
        sa.column('last_mailed_at', sa.DateTime), sa.column('created_at', sa.DateTime),
    )
    rows = conn.execute(sa.select(signature.c.id, signature.c.name, signature.c.signer_type,
                                  signature.c.display)).all()
    for start in range(0, len(rows), _BATCH):
        params = []
        for row in rows[start:start + _BATCH]:
            if row.signer_type == 'organization' or row.display == 'full':
                key = stored_key(row.name)
            elif row.display == 'initials':
                key = stored_key(_initials(row.name))
            else:
                key = None  # unlisted: no key, so nothing of the hidden name is kept in it
            params.append({'row_id': row.id, 'public_id': _public_id(), 'key': key})
        conn.execute(
            signature.update().where(signature.c.id == sa.bindparam('row_id'))
            .values(public_id=sa.bindparam('public_id'), collation_key=sa.bindparam('key')),
            params,
        )
    # Links made before this revision were timed by their token; now the row keeps the time.
    conn.execute(
        signature.update().where(signature.c.status == 'pending')
        .values(link_issued_at=sa.func.coalesce(signature.c.last_mailed_at, signature.c.created_at))
    )


def upgrade():
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('list_version', sa.Integer(), server_default='0',
                                      nullable=False))

    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('link_issued_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('mail_window_start', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('mail_window_count', sa.Integer(), server_default='0',
                                      nullable=False))
        # The list's freshness is the letter's list_version now, not a scan of updated_at.
        batch_op.drop_index('ix_signature_letter_updated')

    _fill_signatures(op.get_bind())

    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.alter_column('public_id', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_signature_public_id'), ['public_id'])

    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.alter_column('subject', existing_type=sa.String(length=300), type_=sa.Text(),
                              existing_nullable=False)
        batch_op.create_index('ix_outbox_mail_signature_id', ['signature_id'], unique=False)

    op.create_table('signature_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('signature_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('signer_type', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('affiliation', sa.String(length=200), nullable=True),
    sa.Column('country', sa.String(length=16), nullable=False),
    sa.Column('display', sa.String(length=10), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('link_issued_at', sa.DateTime(), nullable=False),
    sa.Column('mail_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['mail_id'], ['outbox_mail.id'],
                            name=op.f('fk_signature_version_mail_id_outbox_mail'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['signature_id'], ['signature.id'],
                            name=op.f('fk_signature_version_signature_id_signature'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signature_version')),
    sa.UniqueConstraint('signature_id', 'nonce',
                        name=op.f('uq_signature_version_signature_id_nonce'))
    )


def downgrade():
    op.drop_table('signature_version')
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_mail_signature_id')
        batch_op.alter_column('subject', existing_type=sa.Text(), type_=sa.String(length=300),
                              existing_nullable=False, postgresql_using='left(subject, 300)')
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_signature_public_id'), type_='unique')
        batch_op.create_index('ix_signature_letter_updated', ['letter_id', 'updated_at'],
                              unique=False)
        batch_op.drop_column('mail_window_count')
        batch_op.drop_column('mail_window_start')
        batch_op.drop_column('link_issued_at')
        batch_op.drop_column('public_id')
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.drop_column('list_version')
