"""time_off: time the owner or a team member took off (the owner's assistant blocks and reopens it)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import silentpartner.store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "time_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business", sa.String(length=64), nullable=False),
        sa.Column("team_member", sa.String(length=128), nullable=True),
        sa.Column("start_at", silentpartner.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_at", silentpartner.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=256), nullable=True),
        sa.Column("created_at", silentpartner.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_time_off_business_start", "time_off", ["business", "start_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_time_off_business_start", table_name="time_off")
    op.drop_table("time_off")
