"""Repair cases stored with JSON null where a list belongs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 18:00:00

Before this release `PATCH /cases/{id}` with `{"children": null}` (or `"themes": null`)
stored the null, and every later read of the case failed. The API now refuses null there;
this turns stored nulls into empty lists, so those cases read again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_case = sa.table(
    "review_case",
    sa.column("id", sa.Uuid()),
    sa.column("children", sa.JSON()),
    sa.column("themes", sa.JSON()),
)


def upgrade() -> None:
    """Replace JSON null children and themes with empty lists."""
    connection = op.get_bind()
    rows = connection.execute(sa.select(_case.c.id, _case.c.children, _case.c.themes)).all()
    for case_id, children, themes in rows:
        repaired = {}
        if children is None:
            repaired["children"] = []
        if themes is None:
            repaired["themes"] = []
        if repaired:
            connection.execute(sa.update(_case).where(_case.c.id == case_id).values(**repaired))


def downgrade() -> None:
    """Nothing to undo: an empty list is what the null always meant."""
