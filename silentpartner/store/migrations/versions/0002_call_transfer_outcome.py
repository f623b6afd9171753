"""calls.transfer_outcome: how a warm transfer to the owner ended

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transfer_outcome", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("transfer_outcome")
