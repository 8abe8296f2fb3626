"""outbox_mail.link_nonce and outbox_mail.lang: signers' mail is rendered at delivery

A mail to a signer (confirmation, "already signed", withdrawal link) is now queued as the
signature it is about, the link it carries (the nonce of the signature or of the version
the link confirms) and its language; the mail worker renders it when it sends it, from the
rows as they are then. The body, which for a signer listed by initials names them in
full, is no longer stored in clear while the mail waits. Rows queued before this revision
keep their bodies and are sent as they are.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 06:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_mail') as batch:
        batch.add_column(sa.Column('link_nonce', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('lang', sa.String(length=8), nullable=True))


def downgrade():
    # Rows still waiting without a body could not be sent by the older code: drop them
    # (their signers can ask for a new link), as a downgrade must not leave unsendable mail.
    op.execute("DELETE FROM outbox_mail WHERE body_text IS NULL"
               " AND status IN ('queued', 'sending', 'failed')")
    op.execute("UPDATE outbox_mail SET status = 'sent' WHERE status = 'dropped'")
    with op.batch_alter_table('outbox_mail') as batch:
        batch.drop_column('lang')
        batch.drop_column('link_nonce')
