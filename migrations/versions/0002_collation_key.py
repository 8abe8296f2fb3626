"""signature.collation_key (stored UCA key of the name) and an index for list freshness

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 01:00:00

"""
from alembic import op
import sqlalchemy as sa

from petition.collation import stored_key


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade():
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('collation_key', sa.LargeBinary(), nullable=True))
        batch_op.create_index('ix_signature_letter_updated', ['letter_id', 'updated_at'], unique=False)

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
