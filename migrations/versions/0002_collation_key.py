"""signature.collation_key (stored UCA key of the name) and an index for list freshness

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 01:00:00

"""
import struct
from functools import lru_cache

import sqlalchemy as sa
from alembic import op
from pyuca.collator import Collator_9_0_0

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
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


def upgrade():
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('collation_key', sa.LargeBinary(), nullable=True))
        batch_op.create_index('ix_signature_letter_updated', ['letter_id', 'updated_at'],
                              unique=False)

    # Fill the key of existing rows; new rows get theirs from the model's listener.
    signature = sa.table(
        'signature',
        sa.column('id', sa.Integer),
        sa.column('name', sa.String),
        sa.column('collation_key', sa.LargeBinary),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(signature.c.id, signature.c.name)).all()
    for start in range(0, len(rows), _BATCH):
        batch = rows[start:start + _BATCH]
        conn.execute(
            signature.update()
            .where(signature.c.id == sa.bindparam('row_id'))
            .values(collation_key=sa.bindparam('key')),
            [{'row_id': row.id, 'key': stored_key(row.name)} for row in batch],
        )


def downgrade():
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_index('ix_signature_letter_updated')
        batch_op.drop_column('collation_key')
