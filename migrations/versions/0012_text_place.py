"""letter_text.place: where the letter was written, as each language names it

"Paris, 21 mai 2026" in French, "Париж, 21 мая 2026" in Russian. None (every existing
text): the letter's own place, as before.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 14:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases: nothing references letter_text, and SQLite
    # needs no rebuild for a nullable column.
    op.add_column('letter_text', sa.Column('place', sa.String(length=200), nullable=True))


def downgrade():
    # SQLite drops a column in place since 3.35; the batch keeps older ones working.
    with op.batch_alter_table('letter_text') as batch:
        batch.drop_column('place')
