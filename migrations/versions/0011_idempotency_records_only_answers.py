"""Idempotency records hold answers only: no claim is written before a request runs

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 18:45:00

A request with an `Idempotency-Key` used to commit an `in_flight` claim first and complete
it later. Now its record is written once, with its answer, in the transaction of its
change, so `status` goes and the answer's columns are required. Claims left by the
previous version belong to requests that did not finish (the upgrade restarts every
process): they are deleted, which frees their keys.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANSWER = {
    "response_status": sa.Integer(),
    "response_headers": sa.JSON(),
    "response_body": sa.LargeBinary(),
}


def upgrade() -> None:
    """Upgrade schema."""
    op.execute("DELETE FROM idempotency_record WHERE status <> 'completed'")
    with op.batch_alter_table("idempotency_record") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_idempotency_record_status"), type_="check")
        batch_op.drop_column("status")
        for column, type_ in ANSWER.items():
            batch_op.alter_column(column, existing_type=type_, nullable=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("idempotency_record") as batch_op:
        for column, type_ in ANSWER.items():
            batch_op.alter_column(column, existing_type=type_, nullable=True)
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="completed")
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_idempotency_record_status"), "status IN ('in_flight', 'completed')"
        )
    with op.batch_alter_table("idempotency_record") as batch_op:
        batch_op.alter_column("status", server_default=None, existing_type=sa.String(length=16))
