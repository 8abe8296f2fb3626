"""letter_count: public counts per letter, country and signer type; letter.organizations_version

Kept up to date in the transaction of every change to what the public sees (counting.py),
so the page, the JSON and the index read a few rows per letter instead of counting every
signature. Filled here from the existing rows: confirmed signatures that moderation lets
through; organisations and individuals listed by name or initials are `listed`, those who
chose not to be listed `unlisted`.

letter.organizations_version moves with list_version except when a change touches only
individuals: the page of a big letter keeps its organisations' names across confirmations
of individuals.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 04:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('letter') as batch:
        batch.add_column(sa.Column('organizations_version', sa.Integer(), nullable=False,
                                   server_default='0'))
    op.create_table(
        'letter_count',
        sa.Column('letter_id', sa.Integer(),
                  sa.ForeignKey('letter.id', name='fk_letter_count_letter_id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('country', sa.String(length=16), primary_key=True),
        sa.Column('signer_type', sa.String(length=12), primary_key=True),
        sa.Column('listed', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('unlisted', sa.Integer(), nullable=False, server_default='0'),
    )
    # The same rule as Signature.is_public and counting.entry(), frozen here as SQL.
    op.execute(
        "INSERT INTO letter_count (letter_id, country, signer_type, listed, unlisted) "
        "SELECT letter_id, country, signer_type, "
        "SUM(CASE WHEN signer_type = 'organization' OR display <> 'anonymous' "
        "THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN signer_type = 'organization' OR display <> 'anonymous' "
        "THEN 0 ELSE 1 END) "
        "FROM signature WHERE status = 'confirmed' AND moderation IN ('none', 'approved') "
        "GROUP BY letter_id, country, signer_type"
    )


def downgrade():
    op.drop_table('letter_count')
    # Not a batch: on SQLite a batch copies and drops `letter`, and dropping it would cascade
    # to every signature. ALTER TABLE … DROP COLUMN (SQLite 3.35+) keeps the rows.
    op.drop_column('letter', 'organizations_version')
