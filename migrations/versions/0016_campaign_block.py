"""The campaign block: per letter and language, beside the text and never inside it

Five columns on letter_text, each '' when unused: a donation link, bank details (IBAN, card
number, PayPal address as text, one a line), a line on what the money is for, the
campaign's channels (URLs, one a line) and a contact. On the text's row because every page
and mail that shows the block reads the text anyway: no further round trip. No export reads
them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 01:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

COLUMNS = (('donation_url', sa.String(length=500)), ('donation_text', sa.String(length=300)),
           ('bank_details', sa.Text()), ('channels', sa.Text()),
           ('contact', sa.String(length=300)))


def upgrade():
    for name, type_ in COLUMNS:
        op.add_column('letter_text', sa.Column(name, type_, nullable=False, server_default=''))


def downgrade():
    # In place on both databases (SQLite 3.35+), as 0014 and 0015 do: no batch rebuild.
    for name, _ in reversed(COLUMNS):
        op.execute(f'ALTER TABLE letter_text DROP COLUMN {name}')
