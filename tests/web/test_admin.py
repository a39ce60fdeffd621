"""The staff page in a real browser: sign-in with the admin token, enrolment, price/active/delete, photos."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .conftest import ADMIN_TOKEN, LiveServer, World, screenshot
from .test_kiosk import assert_receipt_matches, check_out


def sign_in(page: Any, server: LiveServer, token: str = ADMIN_TOKEN) -> None:
    page.goto(server.url + "/admin")
    page.fill("#token", token)
    page.click("#signin-submit")


def signed_in(page: Any, server: LiveServer, world: World) -> None:
    sign_in(page, server)
    page.wait_for_selector("#app:not([hidden]) tr.product")
    page.wait_for_function(
        "n => document.querySelectorAll('#product-rows tr.product').length === n",
        arg=len(world.skus("train")),
    )


def row(page: Any, sku: str) -> Any:
    return page.locator(f"#product-rows tr.product[data-sku='{sku}']")


def test_wrong_token_shows_a_signin_error(page: Any, server: LiveServer) -> None:
    page.goto(server.url + "/admin")
    page.click("#signin-submit")  # nothing typed
    assert "Please enter the admin token" in page.inner_text("#signin-error")

    with page.expect_response("**/v1/admin/session") as answer:
        sign_in(page, server, token="not-the-token")
    assert answer.value.status == 403
    page.wait_for_selector("#signin-error:not([hidden])")
    error = page.inner_text("#signin-error")
    assert "Wrong token" in error
    assert answer.value.json()["detail"] in error
    assert page.is_hidden("#app")
    assert page.evaluate("sessionStorage.getItem('trayscan.adminToken')") is None
    assert "not-the-token" not in page.url
    screenshot(page, "admin-signin-error")

    page.click("#lang-zh")
    assert "令牌错误" in page.inner_text("#signin-error")
    page.click("#lang-en")


def test_a_non_image_photo_is_refused_in_words(page: Any, server: LiveServer, world: World) -> None:
    signed_in(page, server, world)
    page.fill("#f-sku", "NOTE-1")
    page.fill("#f-name", "Not a photo")
    page.fill("#f-price", "2.00")
    page.set_input_files(
        "#f-photos", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"plain text"}]
    )
    with page.expect_response("**/v1/admin/products/NOTE-1/images") as answer:
        page.click("#add-submit")
    assert answer.value.status == 415
    page.wait_for_selector("#add-status .enrol-error")
    error = page.inner_text("#add-status .enrol-error")
    assert "This file is not a photo we can read" in error
    assert answer.value.json()["detail"] in error
    with server.client() as client:  # the product is there, without photos; the gallery is unchanged
        assert client.get("/v1/products/NOTE-1").json()["image_count"] == 0
    screenshot(page, "admin-bad-photo")

    page.click("#signout")
    assert page.is_visible("#signin-card")
    assert page.is_hidden("#app")
    assert page.evaluate("sessionStorage.getItem('trayscan.adminToken')") is None


def test_staff_enrols_a_novel_product_and_the_kiosk_recognises_it(
    page: Any, server: LiveServer, world: World
) -> None:
    train = set(world.skus("train"))
    # a novel SKU that is on a tray, and that tray
    novel, tray = next(
        (sku, tray) for tray in world.trays for sku in world.skus("novel") if tray.counts[sku] > 0
    )
    product = world.products[novel]
    with server.client() as client:  # before: the tray's novel items are not recognised
        before = client.post(
            "/v1/checkout", files={"image": ("tray.jpg", tray.path.read_bytes(), "image/jpeg")}
        )
    assert novel not in {item["sku"] for item in before.json()["items"]}

    signed_in(page, server, world)
    assert ADMIN_TOKEN not in page.url
    assert page.evaluate("sessionStorage.getItem('trayscan.adminToken')") == ADMIN_TOKEN
    assert page.inner_text("#product-count") == f"{len(train)} products"

    page.fill("#f-sku", novel)
    page.fill("#f-name", product.name)
    page.fill("#f-price", product.price)
    photos = [str(path) for path, _ in world.enrol[novel]]
    page.set_input_files("#f-photos", photos)
    assert page.inner_text("#f-photos-count") == f"{len(photos)} photos chosen"
    page.check("#f-kiosk")  # the world's photos are shot as the kiosk camera sees a tray
    page.click("#add-submit")
    page.wait_for_selector("#add-status .enrol-ok")
    assert f"{len(photos)} photo(s) of {novel} enrolled" in page.inner_text("#add-status .enrol-ok")
    with server.client() as client:  # the photos kept the product's size for the size check
        stored = client.get(f"/v1/admin/products/{novel}/images", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert [image["kiosk_size"] is not None for image in stored.json()["data"]] == [True] * len(photos)

    outcomes = page.locator("#add-status .outcome")
    assert outcomes.count() == len(photos)
    for index in range(len(photos)):
        card = outcomes.nth(index)
        assert card.get_attribute("data-status") == "enrolled"
        assert "Product found" in card.inner_text()
    # the photo and its crop are drawn (a canvas that is not blank)
    page.wait_for_function(
        """() => [...document.querySelectorAll('#add-status .outcome canvas')].every(c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
            return false; })"""
    )
    assert page.locator("#add-status .confusable").count() == 0
    new_row = row(page, novel)
    assert new_row.locator(".c-photos").inner_text() == str(len(photos))
    assert new_row.locator(".price-edit input").input_value() == product.price
    assert page.inner_text("#product-count") == f"{len(train) + 1} products"
    screenshot(page, "admin-enrolled")

    # the very next checkout, in the kiosk page, recognises the new product
    kiosk = page.context.new_page()
    check_out(kiosk, server, tray)
    assert_receipt_matches(kiosk, world, tray, train | {novel})
    assert novel in kiosk.eval_on_selector_all(
        "#receipt-lines tr.line", "rows => rows.map(r => r.dataset.sku)"
    )
    screenshot(kiosk, "kiosk-after-enrolment")
    kiosk.close()


def test_staff_changes_price_deactivates_and_deletes(page: Any, server: LiveServer, world: World) -> None:
    priced, paused, removed = world.skus("train")[:3]
    signed_in(page, server, world)

    page.fill("#search", priced)
    assert page.locator("#product-rows tr.product").count() == 1
    assert page.inner_text("#product-count") == f"1 of {len(world.skus('train'))} products"
    price_box = row(page, priced).locator(".price-edit")
    price_box.locator("input").fill("12.34")
    with page.expect_response(f"**/v1/admin/products/{priced}") as answer:
        price_box.locator("button").click()
    assert answer.value.status == 200
    page.wait_for_selector(f".toast:has-text('Price of {priced} is now')")

    page.fill("#search", "")
    with page.expect_response(f"**/v1/admin/products/{paused}"):
        row(page, paused).locator(".active-toggle").uncheck()
    page.wait_for_selector(f"#product-rows tr.product.inactive[data-sku='{paused}']")

    row(page, removed).locator(".delete-product").click()
    assert removed in page.inner_text("#confirm-text")
    with page.expect_response(f"**/v1/admin/products/{removed}"):
        page.click("#confirm-ok")
    page.wait_for_selector(f"#product-rows tr.product[data-sku='{removed}']", state="detached")
    screenshot(page, "admin-products")

    with server.client() as client:
        assert Decimal(client.get(f"/v1/products/{priced}").json()["price"]) == Decimal("12.34")
        assert client.get(f"/v1/products/{paused}").json()["active"] is False
        assert client.get(f"/v1/products/{removed}").status_code == 404

    # a bad price is refused with the API's reason, and nothing changes
    price_box = row(page, priced).locator(".price-edit")
    price_box.locator("input").fill("-1")
    price_box.locator("button").click()
    page.wait_for_selector(".toast.error")
    with server.client() as client:
        assert Decimal(client.get(f"/v1/products/{priced}").json()["price"]) == Decimal("12.34")


def test_staff_sees_a_confusable_warning_and_deletes_a_photo(
    page: Any, server: LiveServer, world: World
) -> None:
    """Photos of a known product enrolled under a new SKU: the page names the product it would be confused with."""
    known = world.skus("train")[-1]
    signed_in(page, server, world)
    page.fill("#f-sku", "COPY-1")
    page.fill("#f-name", "Copy of a known product")
    page.fill("#f-price", "1.00")
    page.set_input_files("#f-photos", [str(path) for path, _ in world.enrol[known][:2]])
    page.click("#add-submit")
    page.wait_for_selector("#add-status .enrol-ok")
    warning = page.inner_text("#add-status .confusable")
    assert known in warning and "confused" in warning
    screenshot(page, "admin-confusable")

    first = page.locator("#add-status .outcome").first
    image_id = first.get_attribute("data-image-id")
    first.locator(".delete-photo").click()
    with page.expect_response(f"**/v1/admin/images/{image_id}") as answer:
        page.click("#confirm-ok")
    assert answer.value.status == 200
    page.wait_for_selector(f"#add-status .outcome.deleted[data-image-id='{image_id}']")
    assert row(page, "COPY-1").locator(".c-photos").inner_text() == "1"
    with server.client() as client:
        assert client.get("/v1/products/COPY-1").json()["image_count"] == 1

    # the product's photo panel lists its stored photos (the deleted one is gone)
    row(page, "COPY-1").locator(".photos-btn").click()
    panel = page.locator("tr.detail[data-sku='COPY-1']")
    panel.locator(".gallery .photo").first.wait_for()
    assert panel.locator(".gallery .photo").count() == 1
    assert panel.locator(f".gallery .photo[data-image-id='{image_id}']").count() == 0

    # photos stored before the page was loaded are listed, drawn from their files, and can be deleted
    with server.client() as client:
        stored = client.get(f"/v1/admin/products/{known}/images").json()["data"]
    assert len(stored) == len(world.enrol[known])
    file_requests: list[str] = []
    page.on("request", lambda request: "/file" in request.url and file_requests.append(request.url))
    row(page, known).locator(".photos-btn").click()
    panel = page.locator(f"tr.detail[data-sku='{known}']")
    panel.locator(".gallery .photo").first.wait_for()
    listed = panel.locator(".gallery .photo").evaluate_all(
        "cards => cards.map(c => Number(c.dataset.imageId))"
    )
    assert listed == [image["id"] for image in stored]
    page.wait_for_function(
        """sku => [...document.querySelectorAll(`tr.detail[data-sku="${sku}"] .gallery .photo canvas`)].every(c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
            return false; })""",
        arg=known,
    )
    assert len(file_requests) == len(stored) and all(ADMIN_TOKEN not in url for url in file_requests)
    screenshot(page, "admin-stored-photos")

    victim = stored[0]["id"]
    panel.locator(f".gallery .photo[data-image-id='{victim}'] .delete-photo").click()
    with page.expect_response(f"**/v1/admin/images/{victim}") as answer:
        page.click("#confirm-ok")
    assert answer.value.status == 200
    page.wait_for_selector(f"tr.detail .gallery .photo.deleted[data-image-id='{victim}']")
    assert row(page, known).locator(".c-photos").inner_text() == str(len(stored) - 1)
    with server.client() as client:
        left = client.get(f"/v1/admin/products/{known}/images").json()["data"]
    assert [image["id"] for image in left] == [image["id"] for image in stored[1:]]
