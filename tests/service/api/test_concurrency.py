"""Checkouts keep working, and see consistent state, while staff enrol and delete products."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from ..builders import encode, product_photo, tray
from ..conftest import ADMIN, COLA, create_product


def test_checkouts_during_enrolment_and_deletion(stocked: TestClient) -> None:
    image = encode(tray([(COLA, (20, 20, 140, 160)), (COLA, (300, 20, 420, 160))]))
    photos = [
        ("images", (f"{i}.png", encode(product_photo(((90, 90, 90), (10, 200, 10)))), "image/png"))
        for i in range(4)
    ]

    def shop(_: int) -> int:
        response = stocked.post("/v1/checkout", files={"image": ("t.png", image, "image/png")})
        assert response.status_code == 200
        return {i["sku"]: i["quantity"] for i in response.json()["items"]}["COLA"]

    def staff(index: int) -> None:
        sku = f"NEW{index}"
        create_product(stocked, sku)
        assert (
            stocked.post(f"/v1/admin/products/{sku}/images", files=photos, headers=ADMIN).status_code == 201
        )
        assert stocked.delete(f"/v1/admin/products/{sku}", headers=ADMIN).status_code == 200

    with ThreadPoolExecutor(max_workers=4) as pool:
        staff_jobs = [pool.submit(staff, i) for i in range(3)]
        counts = list(pool.map(shop, range(12)))
        for job in staff_jobs:
            job.result()
    assert counts == [2] * 12
    assert stocked.get("/v1/products").json()["count"] == 2
