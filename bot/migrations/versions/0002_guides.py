"""guides in the database, editable by staff

Revision ID: 0002_guides
Revises: 0001_initial
The guides of bot/guidance.py and their versions (bot/guide_store.py).

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002_guides"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # A database the stores made themselves has these tables already (bot.migrations.migrate).
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "guides" not in existing:
        op.create_table(
            "guides",
            sa.Column("number", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("id", sa.String(length=64), nullable=False),
            sa.Column("data", sa.JSON(), nullable=False),
            sa.Column("edited_by", sa.String(length=64), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("number"),
            sa.UniqueConstraint("id"),
        )
    if "guide_versions" not in existing:
        op.create_table(
            "guide_versions",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("guide_id", sa.String(length=64), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("username", sa.String(length=64), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("data", sa.JSON(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("guide_id", "version", name="uq_guide_version"),
        )
        op.create_index(op.f("ix_guide_versions_guide_id"), "guide_versions", ["guide_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_guide_versions_guide_id"), table_name="guide_versions")
    op.drop_table("guide_versions")
    op.drop_table("guides")
