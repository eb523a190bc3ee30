"""Alert digests, the fallback email, and the detection runner's lease

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 08:46:33.428532

A delivery is now one of three kinds: an alert (as before; existing rows become `alert`),
a daily digest, or a fallback email about a delivery that failed. The runner lease is a
row, so exactly one process runs detection on SQLite as well as PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KIND_FIELDS = (
    "(kind = 'alert' AND alert_id IS NOT NULL AND digest_on IS NULL"
    " AND fallback_for IS NULL)"
    " OR (kind = 'digest' AND digest_on IS NOT NULL AND alert_id IS NULL"
    " AND fallback_for IS NULL)"
    " OR (kind = 'fallback' AND fallback_for IS NOT NULL AND target IS NOT NULL"
    " AND alert_id IS NULL AND digest_on IS NULL)"
)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "runner_lease",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_runner_lease")),
    )
    with op.batch_alter_table("alert_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("runner", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sqlmodel.sql.sqltypes.AutoString(length=10),
                nullable=False,
                server_default="alert",
            )
        )
        batch_op.add_column(sa.Column("digest_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("fallback_for", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True)
        )
        batch_op.alter_column("alert_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.create_unique_constraint("uq_delivery_digest", ["subscription_id", "digest_on"])
        batch_op.create_unique_constraint("uq_delivery_fallback", ["fallback_for", "target"])
        batch_op.create_foreign_key(
            batch_op.f("fk_delivery_fallback_for_delivery"), "delivery", ["fallback_for"], ["id"]
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_delivery_kind"), "kind IN ('alert', 'digest', 'fallback')"
        )
        batch_op.create_check_constraint(batch_op.f("ck_delivery_kind_fields"), _KIND_FIELDS)

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        # The model has no server default: every insert names its kind.
        batch_op.alter_column(
            "kind",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=10),
            server_default=None,
        )

    with op.batch_alter_table("partnership", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "alert_fallback_email",
                sqlmodel.sql.sqltypes.AutoString(length=320),
                nullable=True,
            )
        )


def downgrade() -> None:
    """Downgrade schema. Digest and fallback deliveries (and their attempts) are dropped."""
    with op.batch_alter_table("partnership", schema=None) as batch_op:
        batch_op.drop_column("alert_fallback_email")

    op.execute(
        "DELETE FROM delivery_attempt WHERE delivery_id IN "
        "(SELECT id FROM delivery WHERE kind <> 'alert')"
    )
    op.execute("DELETE FROM delivery WHERE kind = 'fallback'")
    op.execute("DELETE FROM delivery WHERE kind <> 'alert'")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_delivery_kind_fields"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_delivery_kind"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_delivery_fallback_for_delivery"), type_="foreignkey"
        )
        batch_op.drop_constraint("uq_delivery_fallback", type_="unique")
        batch_op.drop_constraint("uq_delivery_digest", type_="unique")
        batch_op.alter_column("alert_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("target")
        batch_op.drop_column("fallback_for")
        batch_op.drop_column("digest_on")
        batch_op.drop_column("kind")

    with op.batch_alter_table("alert_run", schema=None) as batch_op:
        batch_op.drop_column("runner")

    op.drop_table("runner_lease")
