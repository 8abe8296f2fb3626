"""Reach: a letter's milestones (the thresholds set, and when each was crossed) and its chart

letter.milestones holds the organisers' thresholds as text (empty: 25, 50, 75 and 100 % of
the goal); letter_milestone records each threshold once, with the time it was crossed (the
row and its mail to the organisers are written in one transaction, so a crossing is mailed
once). letter.show_chart: the public chart of signatures per day, off on every existing
letter.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 23:55:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('letter', sa.Column('milestones', sa.String(length=200), nullable=True))
    op.add_column('letter', sa.Column('show_chart', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table(
        'letter_milestone',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('letter_id', sa.Integer(), nullable=False),
        sa.Column('threshold', sa.Integer(), nullable=False),
        sa.Column('reached_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('letter_id', 'threshold', name='uq_letter_milestone'),
    )


def downgrade():
    op.drop_table('letter_milestone')
    # In place on both databases (SQLite 3.35+): a batch would rebuild `letter`, and dropping
    # the old table would cascade to every signature (foreign keys are on).
    op.execute('ALTER TABLE letter DROP COLUMN show_chart')
    op.execute('ALTER TABLE letter DROP COLUMN milestones')
