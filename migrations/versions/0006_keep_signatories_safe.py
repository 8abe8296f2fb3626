"""keep signatories safe: no IP fingerprint, hidden names encrypted, retention, embargo, key ring

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 03:30:00

"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('letter') as batch:
        batch.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('fingerprint_retention_days', sa.Integer(), nullable=False,
                                   server_default='90'))
        batch.add_column(sa.Column('fingerprints_erased_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('embargo_until', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('embargo_count', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    # Letters already closed start their retention period now: when they closed is unknown.
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    letter = sa.table('letter', sa.column('status', sa.String), sa.column('closed_at', sa.DateTime))
    op.execute(letter.update().where(letter.c.status == 'closed').values(closed_at=now))
    with op.batch_alter_table('signature') as batch:
        # Client addresses are not kept with signatures (the limiter's storage forgets them).
        batch.drop_column('ip_hash')
        batch.add_column(sa.Column('private_encrypted', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('signature_version') as batch:
        batch.add_column(sa.Column('private_encrypted', sa.LargeBinary(), nullable=True))
    op.create_table(
        'key_material',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('wrapped', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_key_material')),
    )


def downgrade():
    op.drop_table('key_material')
    with op.batch_alter_table('signature_version') as batch:
        batch.drop_column('private_encrypted')
    with op.batch_alter_table('signature') as batch:
        batch.drop_column('private_encrypted')
        batch.add_column(sa.Column('ip_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('letter') as batch:
        batch.drop_column('embargo_count')
        batch.drop_column('embargo_until')
        batch.drop_column('fingerprints_erased_at')
        batch.drop_column('fingerprint_retention_days')
        batch.drop_column('closed_at')
