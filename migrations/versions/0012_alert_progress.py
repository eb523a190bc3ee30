"""Alert progress: for each deadline detection has checked, the day its next rung starts

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 19:01:58.693994

A detection run checks only the deadlines that may have something new; a run with nothing
new reads no deadline. The table starts empty: the first run checks every deadline (as
every run did before) and fills it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "alert_progress",
        sa.Column("subject_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("clock", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("next_on", sa.Date(), nullable=True),
        sa.Column("ladder", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint(
            "subject_type", "subject_id", "clock", "due_on", name=op.f("pk_alert_progress")
        ),
    )
    op.create_index(op.f("ix_alert_progress_checked_on"), "alert_progress", ["checked_on"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_alert_progress_checked_on"), table_name="alert_progress")
    op.drop_table("alert_progress")
