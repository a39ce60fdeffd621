"""Enrol a catalog into a running server through its admin API only (`POST /v1/admin/products` + `/images`).

This is how the held-out `novel` SKUs reach the gallery in an HTTP evaluation: no retraining, no restart, no
file shared with the server. Products the server already has (409) are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trayscan.evaluation.http_client import ApiClient
from trayscan.gallery.build import CatalogRow, camera_of, kiosk_photos, product_photos

MAX_PHOTOS_PER_REQUEST = 20


@dataclass
class RemoteEnrolment:
    products_created: int = 0
    products_existing: int = 0
    existing_novel: list[str] = field(default_factory=list)  # novel SKUs the server had before this run
    images_enrolled: int = 0
    failures: list[str] = field(default_factory=list)


class EnrolmentError(RuntimeError):
    """The server refused the admin requests (wrong token, server not ready)."""


def enrol_over_http(
    client: ApiClient, rows: list[CatalogRow], enrol_dir: Path, split: str = "all"
) -> RemoteEnrolment:
    report = RemoteEnrolment()
    kiosk = kiosk_photos(enrol_dir)
    for row in rows:
        if split != "all" and row.split != split:
            continue
        created = client.create_product(row.sku, row.name, f"{row.price:.2f}", row.currency)
        if created.status == 409:
            report.products_existing += 1
            if row.split == "novel":
                report.existing_novel.append(row.sku)
            continue
        if created.status in (401, 403):
            raise EnrolmentError(f"admin API refused the token: {created.reason()}")
        if not created.ok:
            report.failures.append(f"{row.sku}: create {created.reason()}")
            continue
        report.products_created += 1
        by_camera: dict[str, list[tuple[str, bytes]]] = {}
        for path in product_photos(enrol_dir, row.sku):  # one request names one camera
            by_camera.setdefault(camera_of(path, kiosk), []).append((path.name, path.read_bytes()))
        for camera, photos in sorted(by_camera.items()):
            for start in range(0, len(photos), MAX_PHOTOS_PER_REQUEST):
                answer = client.add_images(row.sku, photos[start : start + MAX_PHOTOS_PER_REQUEST], camera)
                if answer.ok and isinstance(answer.body, dict):
                    report.images_enrolled += int(answer.body.get("enrolled", 0))
                else:
                    report.failures.append(f"{row.sku}: images {answer.reason()}")
    return report
