"""calls: heartbeat, instance, collected details and end reason (the crash sweep)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import silentpartner.store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("end_reason", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("instance_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("heartbeat_at", silentpartner.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_calls_status_heartbeat", ["status", "heartbeat_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_status_heartbeat")
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("instance_id")
        batch_op.drop_column("end_reason")
        batch_op.drop_column("details")
