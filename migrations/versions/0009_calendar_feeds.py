"""Calendar feeds: a partnership's running deadlines by URL, for Outlook

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 10:30:00.000000

Only a hash of each feed's token is stored; the token is shown once, when the feed is made.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", text(length=64), nullable=False),
        sa.Column("partnerships", sa.JSON(), nullable=False),
        sa.Column("created_by", text(length=100), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feed")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feed_token_hash")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("calendar_feed")
