"""The index of published reviews (the public feed's source) and partnership website origins

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 09:29:08.935062

`published_review` holds only the public facts of each published review, so the public
feed reads indexed columns, never a case's timeline. `db upgrade` fills it from the stored
timelines after migrating (as it refreshes the stored deadlines).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "published_review",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.Column("partnership_id", sa.Uuid(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("review_type", text(length=30), nullable=False),
        sa.Column("title", text(length=300), nullable=False),
        sa.Column("report_url", text(length=2000), nullable=False),
        sa.Column("learning_summary_url", text(length=2000), nullable=True),
        sa.Column("publication_mode", text(length=20), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("archived_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "publication_mode IN ('full', 'redacted', 'improvements_only')",
            name=op.f("ck_published_review_publication_mode"),
        ),
        sa.CheckConstraint(
            "review_type IN ('lcspr', 'local_learning_review', 'national_review')",
            name=op.f("ck_published_review_review_type"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_case.id"],
            name=op.f("fk_published_review_case_id_review_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_published_review_partnership_id_partnership"),
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_published_review")),
        sa.UniqueConstraint("public_id", name=op.f("uq_published_review_public_id")),
    )
    with op.batch_alter_table("published_review", schema=None) as batch_op:
        batch_op.create_index(
            "ix_published_review_feed",
            ["partnership_id", "listed", "published_on", "public_id"],
            unique=False,
        )

    with op.batch_alter_table("partnership", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("website_origins", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    op.execute("UPDATE partnership SET updated_at = created_at")
    with op.batch_alter_table("partnership", schema=None) as batch_op:
        # The model has no server defaults: every insert names its values.
        batch_op.alter_column("website_origins", existing_type=sa.JSON(), server_default=None)
        batch_op.alter_column(
            "updated_at", existing_type=sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("partnership", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("website_origins")

    with op.batch_alter_table("published_review", schema=None) as batch_op:
        batch_op.drop_index("ix_published_review_feed")

    op.drop_table("published_review")
