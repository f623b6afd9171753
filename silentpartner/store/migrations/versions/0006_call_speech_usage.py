"""calls: the speech engine that answered, Realtime token usage and its cost

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 14:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COUNTS = ("text_tokens_in", "audio_tokens_in", "cached_tokens_in", "text_tokens_out", "audio_tokens_out")


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("speech_engine", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("speech_model", sa.String(length=64), nullable=True))
        for name in COUNTS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("speech_cost_usd", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("speech_cost_usd")
        for name in reversed(COUNTS):
            batch_op.drop_column(name)
        batch_op.drop_column("speech_model")
        batch_op.drop_column("speech_engine")
