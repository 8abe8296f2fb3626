"""back office: a letter's deadline, a signature's provenance, the last TOTP step used

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('letter') as batch:
        batch.add_column(sa.Column('deadline', sa.Date(), nullable=True))
    with op.batch_alter_table('signature') as batch:
        batch.add_column(sa.Column('provenance', sa.String(length=500), nullable=True))
    with op.batch_alter_table('account') as batch:
        batch.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('account') as batch:
        batch.drop_column('totp_last_step')
    with op.batch_alter_table('signature') as batch:
        batch.drop_column('provenance')
    with op.batch_alter_table('letter') as batch:
        batch.drop_column('deadline')
