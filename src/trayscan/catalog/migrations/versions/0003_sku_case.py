"""SKUs are unique whatever their case: `ts0001` cannot be created beside `TS0001`.

A unique index on upper(sku) (an expression index: SQLite 3.9+ and PostgreSQL). A catalog that already holds two
SKUs differing only in case fails this migration with an integrity error naming them: rename one first.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE UNIQUE INDEX ix_products_sku_upper ON products (upper(sku))")


def downgrade() -> None:
    op.execute("DROP INDEX ix_products_sku_upper")
