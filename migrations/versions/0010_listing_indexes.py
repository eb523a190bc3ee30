"""Listing indexes: case lists by partnership or state read in list order; references by index

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 15:17:07.081697

`GET /cases` orders by (created_at, id). With an index on the filtered column alone the
database fetched every matching case and sorted them all for one page; these composite
indexes give the page in order. They replace the single-column ones, whose lookups they
also serve (the partnership foreign key included).
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTING = ["created_at", "id"]


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index(
        "ix_review_case_partnership_listing", "review_case", ["partnership_id", *LISTING]
    )
    op.create_index("ix_review_case_state_listing", "review_case", ["state", *LISTING])
    op.create_index("ix_review_case_reference", "review_case", ["reference"])
    op.drop_index("ix_review_case_partnership_id", table_name="review_case")
    op.drop_index("ix_review_case_state", table_name="review_case")


def downgrade() -> None:
    """Downgrade schema."""
    op.create_index("ix_review_case_state", "review_case", ["state"])
    op.create_index("ix_review_case_partnership_id", "review_case", ["partnership_id"])
    op.drop_index("ix_review_case_reference", table_name="review_case")
    op.drop_index("ix_review_case_state_listing", table_name="review_case")
    op.drop_index("ix_review_case_partnership_listing", table_name="review_case")
