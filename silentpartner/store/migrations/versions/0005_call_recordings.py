"""calls: the recording's key in the recording store and its size

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recording_key", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("recording_bytes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("recording_bytes")
        batch_op.drop_column("recording_key")
