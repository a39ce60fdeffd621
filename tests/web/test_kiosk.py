"""The kiosk page in a real browser: a tray photo in, boxes on the photo and the receipt on the page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .conftest import LiveServer, Models, TrayPhoto, World, money, screenshot


def read_receipt(page: Any) -> list[dict[str, str]]:
    """The receipt table as the page shows it: data attributes and the visible cell texts of every line."""
    return page.eval_on_selector_all(
        "#receipt-lines tr.line",
        """rows => rows.map(row => ({
            sku: row.dataset.sku, quantity: row.dataset.quantity,
            unit_price: row.dataset.unitPrice, line_total: row.dataset.lineTotal,
            number: row.querySelector('.c-no').innerText.trim(),
            name: row.querySelector('.item-name').innerText.trim(),
            qty_text: row.querySelector('.c-qty').innerText.trim(),
            unit_text: row.querySelectorAll('.c-money')[0].innerText.trim(),
            line_text: row.querySelectorAll('.c-money')[1].innerText.trim(),
            colour: getComputedStyle(row.querySelector('.badge')).backgroundColor,
        }))""",
    )


def check_out(page: Any, server: LiveServer, tray: TrayPhoto) -> dict[str, Any]:
    """Open the kiosk, choose the tray photo, wait for the receipt; returns the API's answer."""
    page.goto(server.url + "/kiosk")
    with page.expect_response("**/v1/checkout") as answer:
        page.set_input_files("#file-input", str(tray.path))
    page.wait_for_selector("#kiosk[data-phase='result']")
    response = answer.value
    assert response.status == 200, response.text()
    receipt: dict[str, Any] = response.json()
    return receipt


def assert_receipt_matches(page: Any, world: World, tray: TrayPhoto, enrolled: set[str]) -> None:
    expected, unrecognised = world.expected_receipt(tray, enrolled)
    lines = read_receipt(page)
    assert {line["sku"]: int(line["quantity"]) for line in lines} == expected
    assert len(lines) == len(expected)  # one line per SKU
    total = Decimal("0")
    for number, line in enumerate(lines, start=1):
        product = world.products[line["sku"]]
        quantity = int(line["quantity"])
        line_total = Decimal(product.price) * quantity
        total += line_total
        assert line["number"] == str(number)
        assert line["name"] == product.name
        assert line["qty_text"] == str(quantity)
        assert line["unit_price"] == money(Decimal(product.price))
        assert line["line_total"] == money(line_total)
        assert line["unit_text"].endswith(money(Decimal(product.price)))
        assert line["line_text"].endswith(money(line_total))
    assert page.get_attribute("#total-amount", "data-total") == money(total)
    assert page.inner_text("#total-amount").endswith(money(total))
    count = sum(expected.values())
    assert page.inner_text("#item-count") == (f"{count} items" if count != 1 else "1 item")

    # every item is a box on the photo: numbered like its line, or a red "?" when unrecognised
    boxes = page.eval_on_selector_all(
        "#overlay g.box",
        "gs => gs.map(g => ({line: g.dataset.line, label: g.querySelector('text').textContent}))",
    )
    numbered = [box for box in boxes if box["line"] != "unknown"]
    assert len(numbered) == count
    for number, line in enumerate(lines, start=1):
        assert sum(box["label"] == str(number) for box in numbered) == int(line["quantity"])
    assert sum(box["line"] == "unknown" and box["label"] == "?" for box in boxes) == unrecognised
    if unrecognised:
        assert page.is_visible("#call-staff")
        assert "Please call staff" in page.inner_text("#call-staff")
        assert page.get_attribute("#call-staff", "data-count") == str(unrecognised)
    else:
        assert page.is_hidden("#call-staff")


def test_kiosk_receipt_matches_ground_truth(page: Any, server: LiveServer, world: World) -> None:
    tray = max(world.trays, key=lambda t: len(t.items))
    enrolled = set(world.skus("train"))
    receipt = check_out(page, server, tray)

    assert_receipt_matches(page, world, tray, enrolled)
    # the page shows exactly what the API answered
    assert [line["sku"] for line in read_receipt(page)] == [item["sku"] for item in receipt["items"]]
    colours = {line["colour"] for line in read_receipt(page)}
    assert len(colours) == min(len(receipt["items"]), 12), "each receipt line has its own colour"
    assert page.is_visible("#next-customer")
    assert page.evaluate("document.getElementById('photo').naturalWidth") > 0
    screenshot(page, "kiosk-receipt")

    # Chinese labels, same receipt
    page.click("#lang-zh")
    assert page.inner_text(".topbar-title") == "自助结账"
    assert page.inner_text("#receipt thead .c-item") == "商品"
    assert "请呼叫工作人员" in page.inner_text("#call-staff")
    assert page.get_attribute("html", "lang") == "zh-CN"
    screenshot(page, "kiosk-receipt-zh")
    page.click("#lang-en")

    # next customer: back to the start, nothing of the last receipt left
    page.click("#next-customer")
    page.wait_for_selector("#kiosk[data-phase='welcome']")
    assert page.is_hidden("#receipt")
    assert page.is_hidden("#call-staff")
    assert page.is_visible("#receipt-empty")
    assert page.eval_on_selector_all("#overlay g.box", "gs => gs.length") == 0
    assert page.is_visible("#choose-photo")


def test_kiosk_non_image_upload_shows_the_reason(page: Any, server: LiveServer) -> None:
    page.goto(server.url + "/kiosk")
    with page.expect_response("**/v1/checkout") as answer:
        page.set_input_files(
            "#file-input",
            files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a photo at all"}],
        )
    page.wait_for_selector("#kiosk[data-phase='error']")
    detail = answer.value.json()["detail"]
    assert answer.value.status == 415
    error = page.inner_text("#error")
    assert "This file is not a photo we can read" in error
    assert detail in error  # the API's own words
    assert page.get_attribute("#error", "data-status") == "415"
    assert page.is_visible("#welcome")  # a new photo can be taken right away
    assert page.is_visible("#try-again")
    screenshot(page, "kiosk-error")

    page.click("#try-again")
    page.wait_for_selector("#kiosk[data-phase='welcome']")
    assert page.is_hidden("#error")


def test_kiosk_camera_capture_checks_out(page: Any, server: LiveServer, models: Models) -> None:
    """Chromium's fake camera: the live view opens, a capture is sent; an empty tray says so in words."""
    page.goto(server.url + "/kiosk")
    page.click("#take-photo")
    page.wait_for_selector("#kiosk[data-phase='camera']")
    page.wait_for_function("() => document.getElementById('camera-video').videoWidth > 0")
    screenshot(page, "kiosk-camera")
    with page.expect_response("**/v1/checkout") as answer:
        page.click("#capture")
    assert answer.value.status == 200
    page.wait_for_selector("#kiosk[data-phase='result']")
    if models.kind == "truth":  # nothing the stand-in detector knows is in the fake camera's picture
        assert page.is_visible("#no-items")
    assert page.evaluate("document.getElementById('camera-video').srcObject") is None  # camera released
