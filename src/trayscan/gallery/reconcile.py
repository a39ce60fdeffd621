"""Start-up clean-up of the photo folder after a crash: the catalog is the truth, files nothing refers to go.

A kill -9 during enrolment can leave a photo under its temporary name (`*.tmp`) or one moved in whose catalog
transaction never committed; one during a deletion, a photo whose row is gone. Either is an orphan: removed here,
with the gallery views saved beside it (`gallery.details.view_files`). Catalog rows whose photo is missing stay:
their embeddings still recognise the product, and `GET /v1/admin/images/{id}/file` says the photo is missing.

`grace_s`: files younger than this are left alone. With one service on a SQLite catalog nothing else writes
here, so 0; replicas sharing a photo folder on one PostgreSQL catalog may be enrolling right now, so there only
orphans older than the grace are taken.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from trayscan.catalog.repository import Catalog
from trayscan.gallery.details import VIEW_SUFFIX, view_files
from trayscan.gallery.enrolment import TEMPORARY_SUFFIX

log = logging.getLogger(__name__)


def remove_orphan_photos(catalog: Catalog, image_dir: Path, grace_s: float = 0.0) -> list[Path]:
    """Delete the photos (and their views) that no gallery image refers to; returns the deleted photos."""
    if not image_dir.is_dir():
        return []
    stored = catalog.image_paths()
    cutoff = time.time() - grace_s
    removed: list[Path] = []
    for path in sorted(p for p in image_dir.glob("*/*") if p.is_file()):
        relative = path.relative_to(image_dir).as_posix()
        if VIEW_SUFFIX in path.name and not path.name.endswith(TEMPORARY_SUFFIX):
            continue  # a view goes with its photo
        if relative in stored or path.stat().st_mtime > cutoff:
            continue
        for view in view_files(path):
            view.unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        removed.append(path)
    for view in (p for p in image_dir.glob(f"*/*{VIEW_SUFFIX}*.npz") if p.is_file()):
        photo = view.with_name(view.name.split(VIEW_SUFFIX)[0])
        if not photo.exists() and view.stat().st_mtime <= cutoff:
            view.unlink(missing_ok=True)
    if removed:
        log.warning("removed %d photo files that no gallery image refers to (left by a crash)", len(removed))
    return removed
