"""The campaign's voice: petitions, each letter's default display of individuals, and news

letter.individual_display: how an individual is listed unless they choose otherwise; every
existing letter keeps "full", as it was shown. A petition is a letter of kind "petition"
(letter.kind is text already): no schema change.

News to those who asked: signature.news and signature_version.news record the box ticked
with a submission; confirming it makes a news_subscriber row (the address Fernet-encrypted,
its keyed hash, the language), apart from the signature. news_update and news_update_text
hold the organisers' updates, one text per language; outbox_mail names the update and the
subscriber of each news mail, rendered at delivery (no body stored).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 02:50:00

"""
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('letter', sa.Column('individual_display', sa.String(length=10),
                                      nullable=False, server_default='full'))
    for table in ('signature', 'signature_version'):
        op.add_column(table, sa.Column('news', sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    op.create_table(
        'news_subscriber',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('token_nonce', sa.String(length=32), nullable=False),
        sa.Column('letter_id', sa.Integer(), nullable=False),
        sa.Column('lang', sa.String(length=8), nullable=False),
        sa.Column('email_hash', sa.String(length=64), nullable=False),
        sa.Column('email_encrypted', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['letter_id'], ['letter.id'],
                                name='fk_news_subscriber_letter_id_letter', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_news_subscriber'),
        sa.UniqueConstraint('public_id', name='uq_news_subscriber_public_id'),
        sa.UniqueConstraint('letter_id', 'email_hash',
                            name='uq_news_subscriber_letter_id_email_hash'),
    )
    op.create_table(
        'news_update',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('letter_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('created_by', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('sent_by', sa.String(length=254), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('recipients', sa.Integer(), nullable=False, server_default='0'),
        sa.ForeignKeyConstraint(['letter_id'], ['letter.id'],
                                name='fk_news_update_letter_id_letter', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_news_update'),
        sa.UniqueConstraint('public_id', name='uq_news_update_public_id'),
    )
    op.create_index('ix_news_update_letter_id', 'news_update', ['letter_id'])
    op.create_table(
        'news_update_text',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('update_id', sa.Integer(), nullable=False),
        sa.Column('lang', sa.String(length=8), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['update_id'], ['news_update.id'],
                                name='fk_news_update_text_update_id_news_update',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_news_update_text'),
        sa.UniqueConstraint('update_id', 'lang', name='uq_news_update_text_update_id_lang'),
    )
    with _keeping_mail_links(), op.batch_alter_table('outbox_mail') as batch:
        batch.add_column(sa.Column('news_update_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('news_subscriber_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_outbox_mail_news_update_id_news_update', 'news_update',
                                 ['news_update_id'], ['id'], ondelete='SET NULL')
        batch.create_foreign_key('fk_outbox_mail_news_subscriber_id_news_subscriber',
                                 'news_subscriber', ['news_subscriber_id'], ['id'],
                                 ondelete='SET NULL')
        batch.create_index('ix_outbox_mail_news_update_id', ['news_update_id'])


@contextmanager
def _keeping_mail_links():
    """On SQLite a batch rebuilds outbox_mail, and dropping the old table (foreign keys on)
    clears signature_version.mail_id, ON DELETE SET NULL: put the links back after (as 0014
    does; migrations share no code)."""
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
        batch.drop_index('ix_outbox_mail_news_update_id')
        batch.drop_constraint('fk_outbox_mail_news_subscriber_id_news_subscriber',
                              type_='foreignkey')
        batch.drop_constraint('fk_outbox_mail_news_update_id_news_update', type_='foreignkey')
        batch.drop_column('news_subscriber_id')
        batch.drop_column('news_update_id')
    op.drop_table('news_update_text')
    op.drop_index('ix_news_update_letter_id', table_name='news_update')
    op.drop_table('news_update')
    op.drop_table('news_subscriber')
    # In place on both databases (SQLite 3.35+), as 0014-0016 do: no batch rebuild.
    op.execute('ALTER TABLE signature_version DROP COLUMN news')
    op.execute('ALTER TABLE signature DROP COLUMN news')
    op.execute('ALTER TABLE letter DROP COLUMN individual_display')
