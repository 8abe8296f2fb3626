"""Letter drives: letter.kind, the drive's settings and guidance, personal letters, batches,
replies; the outbox names the personal letter (and reply) a mail is about; the translator role
needs no column (account.role is a string).

Every existing letter is an open letter (the column's server default).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 20:40:00

"""
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('letter', sa.Column('kind', sa.String(length=16), nullable=False,
                                      server_default='open-letter'))
    op.create_table(
        'drive',
        sa.Column('letter_id', sa.Integer(), nullable=False),
        sa.Column('recipient_name', sa.String(length=200), nullable=False),
        sa.Column('recipient_address', sa.Text(), nullable=False),
        sa.Column('delivery_lang', sa.String(length=8), nullable=False),
        sa.Column('body_max', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('show_costs', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], name='fk_drive_letter_id_letter',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('letter_id', name='pk_drive'),
    )
    op.create_table(
        'drive_guidance',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('letter_id', sa.Integer(), nullable=False),
        sa.Column('lang', sa.String(length=8), nullable=False),
        sa.Column('guidance', sa.Text(), nullable=False),
        sa.Column('risky_words', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['letter_id'], ['letter.id'],
                                name='fk_drive_guidance_letter_id_letter', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_drive_guidance'),
        sa.UniqueConstraint('letter_id', 'lang', name='uq_drive_guidance_letter_id_lang'),
    )
    op.create_table(
        'drive_batch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('letter_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=254), nullable=False),
        sa.Column('sent_on', sa.Date(), nullable=True),
        sa.Column('service', sa.String(length=200), nullable=True),
        sa.Column('cost_cents', sa.Integer(), nullable=True),
        sa.Column('sent_by', sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(['letter_id'], ['letter.id'],
                                name='fk_drive_batch_letter_id_letter', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_drive_batch'),
        sa.UniqueConstraint('public_id', name='uq_drive_batch_public_id'),
    )
    op.create_table(
        'drive_letter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('letter_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('country', sa.String(length=16), nullable=False),
        sa.Column('lang', sa.String(length=8), nullable=False),
        sa.Column('letter_lang', sa.String(length=8), nullable=False),
        sa.Column('publish', sa.String(length=10), nullable=False),
        sa.Column('wants_reply', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('signature_encrypted', sa.LargeBinary(), nullable=True),
        sa.Column('body_encrypted', sa.LargeBinary(), nullable=True),
        sa.Column('note_encrypted', sa.LargeBinary(), nullable=True),
        sa.Column('translation_encrypted', sa.LargeBinary(), nullable=True),
        sa.Column('body_chars', sa.Integer(), nullable=False),
        sa.Column('email_hash', sa.String(length=64), nullable=True),
        sa.Column('email_encrypted', sa.LargeBinary(), nullable=True),
        sa.Column('token_nonce', sa.String(length=32), nullable=False),
        sa.Column('link_issued_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.Column('moderated_at', sa.DateTime(), nullable=True),
        sa.Column('moderated_by', sa.String(length=254), nullable=True),
        sa.Column('translated_at', sa.DateTime(), nullable=True),
        sa.Column('translated_by', sa.String(length=254), nullable=True),
        sa.Column('translation_reviewed_by', sa.String(length=254), nullable=True),
        sa.Column('published_name', sa.String(length=200), nullable=True),
        sa.Column('published_body', sa.Text(), nullable=True),
        sa.Column('published_translation', sa.Text(), nullable=True),
        sa.Column('published_at', sa.DateTime(), nullable=True),
        sa.Column('batch_id', sa.Integer(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['letter_id'], ['letter.id'],
                                name='fk_drive_letter_letter_id_letter', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['batch_id'], ['drive_batch.id'],
                                name='fk_drive_letter_batch_id_drive_batch', ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_drive_letter'),
        sa.UniqueConstraint('public_id', name='uq_drive_letter_public_id'),
    )
    op.create_index('ix_drive_letter_letter_status', 'drive_letter', ['letter_id', 'status'])
    op.create_index('ix_drive_letter_letter_email_hash', 'drive_letter',
                    ['letter_id', 'email_hash'])
    op.create_index('ix_drive_letter_batch_id', 'drive_letter', ['batch_id'])
    op.create_table(
        'drive_reply',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('drive_letter_id', sa.Integer(), nullable=False),
        sa.Column('text_encrypted', sa.LargeBinary(), nullable=True),
        sa.Column('file_encrypted', sa.LargeBinary(), nullable=True),
        sa.Column('file_name', sa.String(length=200), nullable=True),
        sa.Column('file_type', sa.String(length=40), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(['drive_letter_id'], ['drive_letter.id'],
                                name='fk_drive_reply_drive_letter_id_drive_letter',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_drive_reply'),
    )
    op.create_index('ix_drive_reply_drive_letter_id', 'drive_reply', ['drive_letter_id'])
    with _keeping_mail_links(), op.batch_alter_table('outbox_mail') as batch:
        batch.add_column(sa.Column('drive_letter_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('drive_reply_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_outbox_mail_drive_letter_id_drive_letter', 'drive_letter',
                                 ['drive_letter_id'], ['id'], ondelete='SET NULL')
        batch.create_foreign_key('fk_outbox_mail_drive_reply_id_drive_reply', 'drive_reply',
                                 ['drive_reply_id'], ['id'], ondelete='SET NULL')
        batch.create_index('ix_outbox_mail_drive_letter_id', ['drive_letter_id'])


@contextmanager
def _keeping_mail_links():
    """On SQLite a batch rebuilds outbox_mail, and dropping the old table (foreign keys on)
    clears signature_version.mail_id, ON DELETE SET NULL: put the links back after."""
    bind = op.get_bind()
    links = []
    if bind.dialect.name == 'sqlite':
        links = [dict(row._mapping) for row in bind.execute(sa.text(
            'SELECT id, mail_id FROM signature_version WHERE mail_id IS NOT NULL'))]
    yield
    if links:
        bind.execute(sa.text('UPDATE signature_version SET mail_id = :mail_id WHERE id = :id'),
                     links)


def downgrade():
    with _keeping_mail_links(), op.batch_alter_table('outbox_mail') as batch:
        batch.drop_index('ix_outbox_mail_drive_letter_id')
        batch.drop_constraint('fk_outbox_mail_drive_reply_id_drive_reply', type_='foreignkey')
        batch.drop_constraint('fk_outbox_mail_drive_letter_id_drive_letter', type_='foreignkey')
        batch.drop_column('drive_reply_id')
        batch.drop_column('drive_letter_id')
    op.drop_index('ix_drive_reply_drive_letter_id', table_name='drive_reply')
    op.drop_table('drive_reply')
    op.drop_index('ix_drive_letter_batch_id', table_name='drive_letter')
    op.drop_index('ix_drive_letter_letter_email_hash', table_name='drive_letter')
    op.drop_index('ix_drive_letter_letter_status', table_name='drive_letter')
    op.drop_table('drive_letter')
    op.drop_table('drive_batch')
    op.drop_table('drive_guidance')
    op.drop_table('drive')
    # In place on both databases (SQLite 3.35+): a batch would rebuild `letter`, and dropping
    # the old table would cascade to every signature (foreign keys are on).
    op.execute('ALTER TABLE letter DROP COLUMN kind')
