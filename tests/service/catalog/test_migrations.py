"""Catalog migrations keep what the gallery relies on when they are undone and redone."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from trayscan.catalog.db import MIGRATIONS_DIR, Database


def gallery_table_sql(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as connection:
        sql = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'gallery_images'")).scalar_one()
    engine.dispose()
    return str(sql)


def test_downgrading_the_gallery_columns_keeps_ids_never_reused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    database = Database(url)
    database.migrate()
    database.dispose()
    assert "AUTOINCREMENT" in gallery_table_sql(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    command.downgrade(config, "0005")
    after = gallery_table_sql(url)
    assert "AUTOINCREMENT" in after and "kiosk_size" not in after and "printed_text" not in after
    command.upgrade(config, "head")
    assert "printed_text" in gallery_table_sql(url)
