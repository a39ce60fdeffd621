"""PostgreSQL: every insert into or delete from gallery_images notifies channel `trayscan_gallery`.

Replicas LISTEN on it (`trayscan.gallery.follow`) and add or tombstone those ids in their own Faiss index, so an
enrolment or removal made through one replica is searched by all. One notification per statement, sent when
the transaction commits: `{"op": "insert"|"delete", "ids": [...]}`, or `{"op": "resync"}` when a statement
touched more rows than fit a payload (NOTIFY carries at most 8000 bytes; a bulk `trayscan gallery build`).
Deletions through a product's ON DELETE CASCADE fire it too. SQLite (one process) gets nothing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHANNEL = "trayscan_gallery"
MAX_IDS = 400  # 400 ids of up to 19 digits and commas stay under NOTIFY's 8000-byte payload

FUNCTION = f"""
CREATE OR REPLACE FUNCTION trayscan_gallery_notify() RETURNS trigger AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(id ORDER BY id) INTO ids FROM changed_rows_new;
    ELSE
        SELECT array_agg(id ORDER BY id) INTO ids FROM changed_rows_old;
    END IF;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    IF cardinality(ids) > {MAX_IDS} THEN
        PERFORM pg_notify('{CHANNEL}', json_build_object('op', 'resync')::text);
    ELSE
        PERFORM pg_notify('{CHANNEL}', json_build_object('op', lower(TG_OP), 'ids', ids)::text);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    op.execute(
        "CREATE TRIGGER trayscan_gallery_inserted AFTER INSERT ON gallery_images "
        "REFERENCING NEW TABLE AS changed_rows_new FOR EACH STATEMENT EXECUTE FUNCTION trayscan_gallery_notify()"
    )
    op.execute(
        "CREATE TRIGGER trayscan_gallery_deleted AFTER DELETE ON gallery_images "
        "REFERENCING OLD TABLE AS changed_rows_old FOR EACH STATEMENT EXECUTE FUNCTION trayscan_gallery_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS trayscan_gallery_inserted ON gallery_images")
    op.execute("DROP TRIGGER IF EXISTS trayscan_gallery_deleted ON gallery_images")
    op.execute("DROP FUNCTION IF EXISTS trayscan_gallery_notify()")
