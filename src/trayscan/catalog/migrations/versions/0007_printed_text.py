"""gallery_images.printed_text: the text read on the product in the photo at enrolment (the text check), NULL where
none was read.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# recreate="never": SQLite (3.35+) adds and drops the column in place. A rebuilt table would lose its AUTOINCREMENT,
# and with it the guarantee that a removed image's Faiss id is never given again.

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gallery_images", recreate="never") as table:
        table.add_column(sa.Column("printed_text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gallery_images", recreate="never") as table:
        table.drop_column("printed_text")
