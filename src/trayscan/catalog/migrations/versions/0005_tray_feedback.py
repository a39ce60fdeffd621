"""The kiosk's feedback loop: tray photos kept with their receipts, customers' corrections, staff reviews, and
gallery images that came from a confirmed tray crop.

- receipts: `photo_path` (the stored tray photo, relative to the data folder; NULL when not kept or expired) and
  `needs_review` (some item was doubtful or corrected and not yet reviewed);
- receipt_corrections: one per (receipt, item): the SKU the customer chose, or that they asked for staff;
- receipt_reviews: one per (receipt, item): the staff's outcome (`confirmed` with a SKU and the gallery image it
  made, `not_product`, `dismissed`);
- gallery_images: `source` (`enrolment` or `tray`) and the `receipt_id` a tray crop came from.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("receipts") as table:
        table.add_column(sa.Column("photo_path", sa.String(200), nullable=True))
        table.add_column(sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_receipts_needs_review", "receipts", ["needs_review"])
    with op.batch_alter_table("gallery_images") as table:
        table.add_column(sa.Column("source", sa.String(16), nullable=False, server_default="enrolment"))
        table.add_column(sa.Column("receipt_id", sa.String(32), nullable=True))
    op.create_table(
        "receipt_corrections",
        sa.Column("receipt_id", sa.String(32), sa.ForeignKey("receipts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("item", sa.Integer(), primary_key=True),
        sa.Column("sku", sa.String(64), nullable=True),
        sa.Column("staff", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "receipt_reviews",
        sa.Column("receipt_id", sa.String(32), sa.ForeignKey("receipts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("item", sa.Integer(), primary_key=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("sku", sa.String(64), nullable=True),
        sa.Column("image_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("receipt_reviews")
    op.drop_table("receipt_corrections")
    with op.batch_alter_table("gallery_images") as table:
        table.drop_column("receipt_id")
        table.drop_column("source")
    op.drop_index("ix_receipts_needs_review", "receipts")
    with op.batch_alter_table("receipts") as table:
        table.drop_column("needs_review")
        table.drop_column("photo_path")
