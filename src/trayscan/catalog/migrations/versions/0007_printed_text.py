"""gallery_images.printed_text: the text read on the product in the photo at enrolment (the text check), NULL where
none was read.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gallery_images") as table:
        table.add_column(sa.Column("printed_text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gallery_images") as table:
        table.drop_column("printed_text")
