"""gallery_images.kiosk_size: the product's size in a photo of the kiosk's own camera (the size check), NULL for
photos of another camera.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# recreate="never": SQLite (3.35+) adds and drops the column in place. A rebuilt table would lose its AUTOINCREMENT,
# and with it the guarantee that a removed image's Faiss id is never given again.

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gallery_images", recreate="never") as table:
        table.add_column(sa.Column("kiosk_size", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gallery_images", recreate="never") as table:
        table.drop_column("kiosk_size")
