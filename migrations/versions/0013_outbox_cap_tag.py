"""outbox_mail.cap_tag: the address tag of a withdrawal answer, for its per-address cap

A withdrawal request is answered by one mail whether the address signed or not; the answers
to one mailbox are capped per hour like a signer's mails. The tag (a keyed hash of the
mailbox) is kept on the answer for that hour only. Empty on every existing row.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 19:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases: SQLite needs no rebuild for a nullable column.
    op.add_column('outbox_mail', sa.Column('cap_tag', sa.String(length=32), nullable=True))


def downgrade():
    # SQLite drops a column in place since 3.35; the batch keeps older ones working.
    with op.batch_alter_table('outbox_mail') as batch:
        batch.drop_column('cap_tag')
