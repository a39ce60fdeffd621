"""Issue 22, item 9: photo files left by a crash are removed at start-up; stored photos are kept."""

from __future__ import annotations

import os
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

from trayscan.catalog import Catalog, NewImage
from trayscan.gallery.reconcile import remove_orphan_photos


def stored(catalog: Catalog, image_dir: Path, path: str) -> None:
    (image_dir / path).parent.mkdir(parents=True, exist_ok=True)
    (image_dir / path).write_bytes(b"photo")
    with catalog.transaction() as session:
        catalog.add_images(session, "COLA", [NewImage(path, (0, 0, 1, 1), np.zeros(4, np.float32), "e")])


def test_orphans_temporary_files_and_their_views_go_stored_photos_stay(catalog: Catalog, tmp_path: Path) -> None:
    image_dir = tmp_path / "images"
    catalog.create_product("COLA", "Cola", Decimal("1.00"), "CNY")
    stored(catalog, image_dir, "COLA/kept.png")
    (image_dir / "COLA/kept.png.view512.npz").write_bytes(b"view")
    for name in ("orphan.png", "orphan.png.view512.npz", "half.jpg.tmp", "kept.png.view512.npz.1-2.tmp"):
        (image_dir / "COLA" / name).write_bytes(b"x")
    (image_dir / "GONE").mkdir()
    (image_dir / "GONE/old.webp").write_bytes(b"x")

    removed = remove_orphan_photos(catalog, image_dir)

    assert sorted(p.relative_to(image_dir).as_posix() for p in removed) == [
        "COLA/half.jpg.tmp", "COLA/kept.png.view512.npz.1-2.tmp", "COLA/orphan.png", "GONE/old.webp"
    ]
    left = sorted(p.relative_to(image_dir).as_posix() for p in image_dir.rglob("*") if p.is_file())
    assert left == ["COLA/kept.png", "COLA/kept.png.view512.npz"]


def test_recent_orphans_are_left_within_the_grace(catalog: Catalog, tmp_path: Path) -> None:
    image_dir = tmp_path / "images"
    (image_dir / "COLA").mkdir(parents=True)
    fresh, old = image_dir / "COLA/fresh.png.tmp", image_dir / "COLA/old.png"
    fresh.write_bytes(b"x")
    old.write_bytes(b"x")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert remove_orphan_photos(catalog, image_dir, grace_s=600) == [old]
    assert fresh.is_file()
