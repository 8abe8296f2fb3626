"""letter.list_token and letter.list_changed_at: a random token per state of the public list

list_version is an integer that starts again at 0 in a new or restored database, so a cache
shared between processes and kept outside the database (Redis) could take version 12 of a
restored database for version 12 of the one it was built from. list_token is a fresh random
value (uuid4, hex) set in the transaction of every change to the public list, with the time
of that change (the press list's Last-Modified). Each existing letter gets a token of its own.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 06:00:00

"""
import uuid

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('letter') as batch:
        batch.add_column(sa.Column('list_token', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('list_changed_at', sa.DateTime(), nullable=True))
    letter = sa.table('letter', sa.column('id', sa.Integer), sa.column('list_token', sa.String))
    connection = op.get_bind()
    for (letter_id,) in connection.execute(sa.select(letter.c.id)).all():
        connection.execute(letter.update().where(letter.c.id == letter_id)
                           .values(list_token=uuid.uuid4().hex))
    # Left nullable: making it NOT NULL on SQLite means rebuilding the letter table, and with
    # foreign_keys=ON dropping the old table cascades to every signature. The model's default
    # fills it; code reading a NULL (a row written around the ORM) shares no cache for it.


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+), not a batch rebuild: see upgrade().
    op.drop_column('letter', 'list_changed_at')
    op.drop_column('letter', 'list_token')
