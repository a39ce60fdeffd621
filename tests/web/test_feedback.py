"""Issue 24 in a real browser: the customer resolves a doubtful item at the kiosk, staff confirm an item on the
staff page, and the next checkout recognises the product from that tray crop."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from trayscan.pipeline.crop import crop_with_padding
from trayscan.pipeline.decode import ImageLimits, decode_image

from .conftest import PIPELINE, LiveServer, Models, World, money, screenshot
from .test_admin import sign_in
from .test_kiosk import check_out, read_receipt


def novel_tray(world: World, items: int = 1) -> tuple[str, Any]:
    """A novel SKU and a tray holding at least `items` novel items (unrecognised until enrolled)."""
    for tray in world.trays:
        novel = [sku for sku in world.skus("novel") if tray.counts[sku] > 0]
        if novel and sum(tray.counts[sku] for sku in world.skus("novel")) >= items:
            return novel[0], tray
    pytest.skip("no tray of the world holds enough novel items")


def test_the_customer_chooses_among_the_candidates_or_calls_staff(
    page: Any, server: LiveServer, world: World
) -> None:
    _, tray = novel_tray(world, items=2)
    receipt = check_out(page, server, tray)
    unknown = receipt["unrecognized"]
    assert len(unknown) >= 2 and page.is_visible("#check-items")
    assert page.locator("#check-list button").count() == len(unknown)
    assert page.locator("#overlay g.box-doubt").count() == len(unknown)

    # tap the first outlined item: its candidates, with names and prices
    first = unknown[0]
    page.click(f"#overlay g.box-doubt[data-item='{first['item']}']")
    page.wait_for_selector("#chooser[open] .chooser-option")
    options = page.locator("#chooser-options .chooser-option")
    assert options.count() == len(first["candidates"])
    chosen = first["candidates"][0]["sku"]
    product = world.products[chosen]
    assert product.name in options.first.inner_text()
    assert money(Decimal(product.price)) in options.first.inner_text()
    screenshot(page, "kiosk-chooser")
    with page.expect_response("**/corrections") as answer:
        options.first.click()
    assert answer.value.status == 200
    page.wait_for_selector("#chooser", state="hidden")
    lines = {line["sku"]: int(line["quantity"]) for line in read_receipt(page)}
    before = {item["sku"]: item["quantity"] for item in receipt["items"]}
    assert lines[chosen] == before.get(chosen, 0) + 1
    total = Decimal(receipt["total"]) + Decimal(product.price)
    assert page.get_attribute("#total-amount", "data-total") == money(total)
    assert page.locator("#check-list button").count() == len(unknown) - 1

    # the next one: none of these, call staff
    second = unknown[1]
    page.click(f"#check-list button[data-item='{second['item']}']")
    page.wait_for_selector("#chooser[open] .chooser-option")
    with page.expect_response("**/corrections") as answer:
        page.click("#chooser-staff")
    corrected = answer.value.json()
    assert next(u for u in corrected["unrecognized"] if u["item"] == second["item"])["staff_requested"] is True
    page.wait_for_selector("#chooser", state="hidden")
    assert page.locator(f"#check-list button[data-item='{second['item']}']").count() == 0
    assert page.get_attribute("#total-amount", "data-total") == money(total)  # staff will see to it


def test_staff_confirm_an_item_and_the_next_checkout_recognises_it(
    page: Any, server: LiveServer, world: World, models: Models
) -> None:
    if models.kind != "truth":
        pytest.skip("the stand-in embedder must know the crop the service will cut")
    novel, tray = novel_tray(world)
    product = world.products[novel]
    with server.client() as client:  # the product exists, with no photo yet: enrolled from the tray itself
        body = {"sku": novel, "name": product.name, "price": product.price, "currency": product.currency}
        assert client.post("/v1/admin/products", json=body).status_code == 201
        receipt = client.post("/v1/checkout", files={"image": ("t.jpg", tray.path.read_bytes(), "image/jpeg")}).json()
    unknown = [u for u in receipt["unrecognized"]]
    assert unknown, receipt
    # the stand-in embedder learns the crop the service will cut from the stored photo, as a real one would see it
    image = decode_image(tray.path.read_bytes(), ImageLimits(1 << 30, 1 << 30))
    for item in unknown:
        x1, y1, x2, y2 = item["box"]
        crop = crop_with_padding(image, (x1, y1, x2, y2), PIPELINE.crop_padding)
        sku = next(s for s, box in tray.items if abs(box[0] - x1) < 2 and abs(box[1] - y1) < 2)
        models.embedder.register(crop, world.products[sku].label)  # type: ignore[attr-defined]

    with server.client() as client:
        queue = client.get("/v1/admin/review").json()["data"]
        crop = client.get(queue[0]["crop_url"])
    assert crop.status_code == 200 and crop.headers["content-type"] == "image/jpeg", crop.text

    sign_in(page, server)
    page.wait_for_selector("#review-list .review-item")
    assert page.inner_text("#review-count") == f"{len(unknown)} items to review"
    cards = page.locator("#review-list .review-item")
    assert cards.count() == len(unknown)
    target = next(u for u in unknown
                  if next(s for s, box in tray.items if abs(box[0] - u["box"][0]) < 2) == novel)
    card = page.locator(f"#review-list .review-item[data-item='{target['item']}']")
    assert "Not recognised" in card.inner_text()
    page.wait_for_function(  # the crop is drawn
        """item => { const c = document.querySelector(`#review-list .review-item[data-item='${item}'] canvas`);
            if (!c) return false; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true; return false; }""",
        arg=target["item"],
    )
    card.locator(".review-sku").fill(novel)
    with page.expect_response("**/review") as answer:
        card.locator(".review-confirm").click()
    assert answer.value.status == 201, answer.value.text()
    image_id = answer.value.json()["image_id"]
    page.wait_for_selector(f"#review-list .review-item[data-item='{target['item']}']", state="detached")
    assert page.locator("#review-list .review-item").count() == len(unknown) - 1
    screenshot(page, "admin-review")
    with server.client() as client:
        [image] = client.get(f"/v1/admin/products/{novel}/images").json()["data"]
    assert (image["id"], image["source"], image["receipt_id"]) == (image_id, "tray", receipt["receipt_id"])

    kiosk = page.context.new_page()
    again = check_out(kiosk, server, tray)
    assert novel in {item["sku"] for item in again["items"]}
    assert novel in kiosk.eval_on_selector_all("#receipt-lines tr.line", "rows => rows.map(r => r.dataset.sku)")
    kiosk.close()
