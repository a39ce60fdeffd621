"""Two API replicas on one PostgreSQL catalog behind nginx, as separate processes with the starter models: what
is enrolled, repriced or deleted through one replica is used by the other within 2 s, and a replica started
later builds its index from the database."""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.postgres import fresh_database
from trayscan.bench.server import ServerProcess

from .topology import ADMIN_TOKEN, nginx, nginx_path, replica

pytestmark = pytest.mark.slow
FOLLOW_S = 2.0  # the bound: a change through one replica is used by another within 2 s
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: str
    photos: list[Path]


@pytest.fixture(scope="module")
def products(tmp_path_factory: pytest.TempPathFactory) -> list[Product]:
    """Two products of the synthetic world, 2 enrolment photos each."""
    from trayscan.synth.cli import main as synth_main

    root = tmp_path_factory.mktemp("replica-world")
    argv = ["--out", str(root), "--seed", "3", "--families", "1", "--trays", "1", "--enrol-per-sku", "2"]
    assert synth_main(argv) == 0
    photos: dict[str, list[Path]] = {}
    coco = json.loads((root / "enrol" / "annotations.json").read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    images = {i["id"]: i["file_name"] for i in coco["images"]}
    for annotation in coco["annotations"]:
        photos.setdefault(names[annotation["category_id"]], []).append(root / images[annotation["image_id"]])
    with (root / "catalog.csv").open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["sku"] in photos]
    return [Product(r["sku"], r["name"], r["price"], sorted(set(photos[r["sku"]]))) for r in rows[:2]]


@dataclass
class Chain:
    a: ServerProcess
    b: ServerProcess
    balancer: str
    database_url: str
    root: Path


@pytest.fixture
def chain(tmp_path: Path, postgres_server: str) -> Iterator[Chain]:
    if nginx_path() is None:
        reason = "Debian nginx is not installed: `make test` installs it"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with fresh_database(postgres_server) as url, replica(tmp_path / "a", url) as a, replica(
        tmp_path / "b", url
    ) as b, nginx([a.port, b.port], tmp_path / "nginx") as balancer:
        yield Chain(a, b, balancer, url, tmp_path)


def client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers=ADMIN, timeout=120)


def enrol(url: str, product: Product) -> dict[str, Any]:
    with client(url) as http:
        body = {"sku": product.sku, "name": product.name, "price": product.price}
        assert http.post("/v1/admin/products", json=body).status_code == 201
        files = [("images", (p.name, p.read_bytes(), "image/jpeg")) for p in product.photos]
        response = http.post(f"/v1/admin/products/{product.sku}/images", files=files)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result


def gallery_size(url: str) -> int:
    size: int = httpx.get(url + "/readyz", timeout=10).json()["gallery_size"]
    return size


def checkout(url: str, photo: Path) -> dict[str, Any]:
    response = httpx.post(url + "/v1/checkout", files={"image": (photo.name, photo.read_bytes())}, timeout=120)
    assert response.status_code == 200, response.text
    receipt: dict[str, Any] = response.json()
    return receipt


def skus(receipt: dict[str, Any]) -> dict[str, str]:
    return {item["sku"]: item["unit_price"] for item in receipt["items"]}


def within(seconds: float, condition: Callable[[], bool]) -> float:
    """How long `condition` took to hold; fails past `seconds`."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, f"not within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - start


def test_changes_through_one_replica_are_used_by_the_other(chain: Chain, products: list[Product]) -> None:
    cola, other = products
    enrolled = enrol(chain.a.url, cola)["enrolled"]
    assert enrolled == len(cola.photos)
    within(FOLLOW_S, lambda: gallery_size(chain.b.url) == enrolled)
    assert skus(checkout(chain.b.url, cola.photos[0])) == {cola.sku: cola.price}

    # reprice through B: A's next receipt has the new price (prices are read from the catalog per checkout)
    with client(chain.b.url) as http:
        assert http.patch(f"/v1/admin/products/{cola.sku}", json={"price": "9.95"}).status_code == 200
    assert skus(checkout(chain.a.url, cola.photos[0])) == {cola.sku: "9.95"}

    # through nginx: both replicas answer and agree
    upstreams, answers = set(), []
    for _ in range(4):
        response = httpx.post(
            chain.balancer + "/v1/checkout",
            files={"image": (cola.photos[1].name, cola.photos[1].read_bytes())},
            timeout=120,
        )
        assert response.status_code == 200, response.text
        upstreams.add(response.headers["X-Upstream"])
        answers.append(skus(response.json()))
    assert upstreams == {f"127.0.0.1:{chain.a.port}", f"127.0.0.1:{chain.b.port}"}
    assert answers == [{cola.sku: "9.95"}] * 4

    # enrol the second through nginx, delete the first through A: B follows both
    enrol(chain.balancer, other)
    total = enrolled + len(other.photos)
    within(FOLLOW_S, lambda: gallery_size(chain.a.url) == total and gallery_size(chain.b.url) == total)
    with client(chain.a.url) as http:
        assert http.delete(f"/v1/admin/products/{cola.sku}").status_code == 200
    within(FOLLOW_S, lambda: gallery_size(chain.b.url) == len(other.photos))
    assert cola.sku not in skus(checkout(chain.b.url, cola.photos[0]))
    assert skus(checkout(chain.b.url, other.photos[0])) == {other.sku: other.price}


def test_a_replica_started_later_builds_its_index_from_the_database(
    chain: Chain, products: list[Product]
) -> None:
    cola, _ = products
    enrol(chain.balancer, cola)
    with replica(chain.root / "c", chain.database_url) as late:  # a new replica with an empty index folder
        assert gallery_size(late.url) == len(cola.photos)
        assert skus(checkout(late.url, cola.photos[0])) == {cola.sku: cola.price}
