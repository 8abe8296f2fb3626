"""Abuse: events that forget, allow and block lists, alerts mailed once, invalidation jobs

abuse_event keeps, for hours, keyed hashes of a submission's client address and of its
/24 or /64 block, the e-mail domain, the letter and the time (never the address);
abuse_rule holds the allow and block lists (site-wide when letter_id is NULL); abuse_alert
the trends already mailed; invalidation_job and invalidation_item a bulk invalidation and
each signature's moderation before it, for undoing. signature.flag_reason: the soft limit
that flagged it; signature.domain_hash: keyed hash of the address's domain (erased with
email_hash); letter.soft_limits: the organisers' own limits (JSON). Moderation takes two
new values, "flagged" and "invalid" (a string column: no schema change).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 02:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('letter', sa.Column('soft_limits', sa.Text(), nullable=True))
    op.add_column('signature', sa.Column('flag_reason', sa.String(length=40), nullable=True))
    op.add_column('signature', sa.Column('domain_hash', sa.String(length=64), nullable=True))
    op.create_table(
        'abuse_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('letter_id', sa.Integer(), nullable=False),
        sa.Column('signature_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('address_hash', sa.String(length=64), nullable=False),
        sa.Column('block_hash', sa.String(length=64), nullable=False),
        sa.Column('email_domain', sa.String(length=253), nullable=True),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(['letter_id'], ['letter.id'],
                                name='fk_abuse_event_letter_id_letter', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['signature_id'], ['signature.id'],
                                name='fk_abuse_event_signature_id_signature',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_abuse_event'),
    )
    op.create_index('ix_abuse_event_letter_at', 'abuse_event', ['letter_id', 'at'])
    op.create_index('ix_abuse_event_at', 'abuse_event', ['at'])
    op.create_index('ix_abuse_event_signature_id', 'abuse_event', ['signature_id'])
    op.create_table(
        'abuse_rule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('letter_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('value', sa.String(length=253), nullable=False),
        sa.Column('action', sa.String(length=10), nullable=False),
        sa.Column('note', sa.String(length=300), nullable=False, server_default=''),
        sa.Column('created_by', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['letter_id'], ['letter.id'],
                                name='fk_abuse_rule_letter_id_letter', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_abuse_rule'),
        sa.UniqueConstraint('letter_id', 'kind', 'value',
                            name='uq_abuse_rule_letter_id_kind_value'),
    )
    op.create_table(
        'abuse_alert',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('letter_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('value', sa.String(length=253), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['letter_id'], ['letter.id'],
                                name='fk_abuse_alert_letter_id_letter', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_abuse_alert'),
        sa.UniqueConstraint('letter_id', 'kind', 'value',
                            name='uq_abuse_alert_letter_id_kind_value'),
    )
    op.create_index('ix_abuse_alert_at', 'abuse_alert', ['at'])
    op.create_table(
        'invalidation_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('letter_id', sa.Integer(), nullable=False),
        sa.Column('conditions', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('matched', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('changed', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('created_by', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('undone_by', sa.String(length=254), nullable=True),
        sa.Column('undone_at', sa.DateTime(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['letter_id'], ['letter.id'],
                                name='fk_invalidation_job_letter_id_letter', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_invalidation_job'),
        sa.UniqueConstraint('public_id', name='uq_invalidation_job_public_id'),
    )
    op.create_index('ix_invalidation_job_letter_id', 'invalidation_job', ['letter_id'])
    op.create_table(
        'invalidation_item',
        sa.Column('job_id', sa.Integer(), nullable=False),
        sa.Column('signature_id', sa.Integer(), nullable=False),
        sa.Column('previous_moderation', sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(['job_id'], ['invalidation_job.id'],
                                name='fk_invalidation_item_job_id_invalidation_job',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['signature_id'], ['signature.id'],
                                name='fk_invalidation_item_signature_id_signature',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('job_id', 'signature_id', name='pk_invalidation_item'),
    )
    op.create_index('ix_invalidation_item_signature_id', 'invalidation_item', ['signature_id'])


def downgrade():
    op.drop_index('ix_invalidation_item_signature_id', table_name='invalidation_item')
    op.drop_table('invalidation_item')
    op.drop_index('ix_invalidation_job_letter_id', table_name='invalidation_job')
    op.drop_table('invalidation_job')
    op.drop_index('ix_abuse_alert_at', table_name='abuse_alert')
    op.drop_table('abuse_alert')
    op.drop_table('abuse_rule')
    op.drop_index('ix_abuse_event_signature_id', table_name='abuse_event')
    op.drop_index('ix_abuse_event_at', table_name='abuse_event')
    op.drop_index('ix_abuse_event_letter_at', table_name='abuse_event')
    op.drop_table('abuse_event')
    # In place on both databases (SQLite 3.35+), as 0014-0017 do: no batch rebuild.
    op.execute("UPDATE signature SET moderation = 'hidden' "
               "WHERE moderation IN ('flagged', 'invalid')")
    op.execute('ALTER TABLE signature DROP COLUMN domain_hash')
    op.execute('ALTER TABLE signature DROP COLUMN flag_reason')
    op.execute('ALTER TABLE letter DROP COLUMN soft_limits')
