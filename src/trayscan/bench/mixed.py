"""The mixed load run of `trayscan bench http --mixed-seconds N`: checkouts while staff change the catalog.

`checkout_clients` threads POST tray photos to /v1/checkout back to back while one admin thread, for the same
time, cycles through creating a product, enrolling photos, repricing it and, every other cycle, deleting it (and
one photo of each product it keeps). Every request carries an `Idempotency-Key`, and a request that fails on the
connection is retried once with the same key, as a kiosk would. Afterwards the catalog is checked against what
the admin thread was told: each kept product has exactly the photos it enrolled less those it deleted (none lost,
none twice), each deleted one is gone, and /readyz's gallery size matches the catalog. Loopback only.
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from typing import Any

from trayscan.bench.load import Tally, run_together
from trayscan.evaluation.http_client import ApiClient, Response, multipart

JSON = "application/json"


def _attempt(
    client: ApiClient,
    tally: Tally,
    ok: int,
    method: str,
    path: str,
    body: bytes | None = None,
    content_type: str | None = None,
) -> Response | None:
    """One request with a fresh Idempotency-Key, retried once with the same key if the connection fails."""
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    admin = path.startswith("/v1/admin/")
    start = time.perf_counter()
    response: Response | None = None
    for attempt in range(2):
        try:
            response = client.request(method, path, body, content_type, admin=admin, extra_headers=headers)
            break
        except OSError as error:
            if attempt == 1:
                tally.failed(f"connection: {error}")
                return None
    if response is None:  # unreachable: the loop either answered or returned
        return None
    if response.status == ok:
        tally.answered((time.perf_counter() - start) * 1000.0)
    else:
        tally.failed(f"{method} {path}: {response.status} {response.reason()}")
    return response


def mixed_run(
    client: ApiClient,
    trays: list[bytes],
    photos: list[bytes],
    seconds: float,
    checkout_clients: int = 8,
    currency: str = "CNY",
) -> dict[str, Any]:
    checkouts, admin = Tally(), Tally()
    deadline = time.monotonic() + seconds
    expected: dict[str, set[int]] = {}  # kept SKU -> its image ids
    deleted: list[str] = []

    def shopper(offset: int) -> None:
        i = offset
        while time.monotonic() < deadline:
            body, content_type = multipart([("image", "tray.jpg", trays[i % len(trays)])])
            _attempt(client, checkouts, 200, "POST", "/v1/checkout", body, content_type)
            i += 1

    def staff() -> None:
        cycle = 0
        while time.monotonic() < deadline:
            cycle += 1
            sku = f"MIX{uuid.uuid4().hex[:10].upper()}"
            product = json.dumps({"sku": sku, "name": f"Mixed {cycle}", "price": "1.00", "currency": currency}).encode()
            created = _attempt(client, admin, 201, "POST", "/v1/admin/products", product, JSON)
            if created is None or created.status != 201:
                continue
            files = [("images", f"{k}.jpg", photos[(cycle + k) % len(photos)]) for k in range(2)]
            body, content_type = multipart(files)
            enrolled = _attempt(client, admin, 201, "POST", f"/v1/admin/products/{sku}/images", body, content_type)
            ids: set[int] = set()
            if enrolled is not None and enrolled.status == 201:
                ids = {image["image_id"] for image in enrolled.body["images"]}
            price = json.dumps({"price": f"{1 + cycle % 7}.{cycle % 100:02d}"}).encode()
            _attempt(client, admin, 200, "PATCH", f"/v1/admin/products/{sku}", price, JSON)
            if cycle % 2 == 0:
                gone = _attempt(client, admin, 200, "DELETE", f"/v1/admin/products/{sku}")
                if gone is not None and gone.status == 200:
                    deleted.append(sku)
                    continue
            elif ids:
                victim = min(ids)
                removed = _attempt(client, admin, 200, "DELETE", f"/v1/admin/images/{victim}")
                if removed is not None and removed.status == 200:
                    ids.discard(victim)
            expected[sku] = ids

    wall = run_together([*(functools.partial(shopper, k * 3) for k in range(checkout_clients)), staff])
    lost, duplicated, left_behind = _audit(client, expected, deleted)
    return {
        "seconds": round(wall, 1),
        "checkout_clients": checkout_clients,
        "checkouts": checkouts.summary(),
        "admin": admin.summary(),
        "products_kept": len(expected),
        "products_deleted": len(deleted),
        "enrolments_lost": lost,
        "enrolments_duplicated": duplicated,
        "deleted_still_there": left_behind,
    }


def _audit(client: ApiClient, expected: dict[str, set[int]], deleted: list[str]) -> tuple[int, int, int]:
    lost = duplicated = 0
    for sku, ids in expected.items():
        listed = client.request("GET", f"/v1/admin/products/{sku}/images", admin=True).body
        found = [image["id"] for image in listed["data"]] if isinstance(listed, dict) else []
        lost += len(ids - set(found))
        duplicated += len(found) - len(set(found) & ids)
    left_behind = sum(client.get(f"/v1/products/{sku}").status != 404 for sku in deleted)
    return lost, duplicated, left_behind


def markdown(result: dict[str, Any]) -> list[str]:
    lines = [
        f"## HTTP, mixed: {result['checkout_clients']} checkout clients and 1 admin client for {result['seconds']} s",
        "",
        "The admin client creates a product, enrols 2 photos, reprices it and deletes it or one of its photos, over",
        "and over; every request has an Idempotency-Key. Latency is the client's round trip.",
        "",
        "| who | ok | errors | p50 ms | p95 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for who in ("checkouts", "admin"):
        part = result[who]
        lat = part["latency_ms"]
        p50 = "-" if lat["p50"] is None else f"{lat['p50']:.1f}"
        p95 = "-" if lat["p95"] is None else f"{lat['p95']:.1f}"
        lines.append(f"| {who} | {part['ok']} | {part['errors']} | {p50} | {p95} |")
    lines += [
        "",
        f"Products kept {result['products_kept']}, deleted {result['products_deleted']}; enrolments lost "
        f"{result['enrolments_lost']}, duplicated {result['enrolments_duplicated']}; deleted products still "
        f"there {result['deleted_still_there']}.",
        "",
    ]
    return lines
