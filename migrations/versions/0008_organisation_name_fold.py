"""an organisation's folded name, indexed with its letter, for the moderation's sidestep check

Confirming an individual on a moderated letter asks whether the name is one of the
letter's organisations' (folded: NFKC, casefolded, without spaces, punctuation, symbols or
invisible characters). It read and folded every organisation of the letter at each
confirmation; now the fold is stored and looked up by index. Organisations only: an
individual's row has none (and a hidden name is never folded).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 04:30:00

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BATCH = 1000


def _fold(name: str) -> str:
    # collation.fold_name as of this revision, frozen here: a later change of the rule
    # must come with a migration of its own that folds again.
    text = unicodedata.normalize('NFKC', unicodedata.normalize('NFKC', name).casefold())
    return ''.join(char for char in text if unicodedata.category(char)[0] not in 'PZSC')


def upgrade():
    with op.batch_alter_table('signature') as batch:
        batch.add_column(sa.Column('name_fold', sa.Text(), nullable=True))
        batch.create_index('ix_signature_letter_name_fold', ['letter_id', 'name_fold'])
    signature = sa.table('signature', sa.column('id', sa.Integer), sa.column('name', sa.String),
                         sa.column('signer_type', sa.String), sa.column('name_fold', sa.Text))
    connection = op.get_bind()
    rows = connection.execute(sa.select(signature.c.id, signature.c.name)
                              .where(signature.c.signer_type == 'organization')).all()
    for start in range(0, len(rows), BATCH):
        connection.execute(
            signature.update().where(signature.c.id == sa.bindparam('row_id'))
            .values(name_fold=sa.bindparam('fold')),
            [{'row_id': id_, 'fold': _fold(name or '')} for id_, name in rows[start:start + BATCH]],
        )


def downgrade():
    with op.batch_alter_table('signature') as batch:
        batch.drop_index('ix_signature_letter_name_fold')
        batch.drop_column('name_fold')
