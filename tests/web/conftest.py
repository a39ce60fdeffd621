"""Browser tests of the kiosk and staff pages: headless Debian chromium, driven by Playwright, against a live
uvicorn server that each test starts on a free 127.0.0.1 port.

The recognition models are one fixture, `models`: by default stand-ins that know the synthetic world's ground
truth (`fakes.py`), so a product is recognised exactly when it is enrolled; `TRAYSCAN_WEB_MODELS=real` runs the
trained models configured in `configs/default.yaml` instead.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from trayscan.api import create_app
from trayscan.config import PipelineSettings, Settings
from trayscan.inference.base import Detector, Embedder
from trayscan.pipeline.crop import crop_with_padding
from trayscan.pipeline.decode import ImageLimits, decode_image
from trayscan.pipeline.detect import clip_box

from .fakes import TruthDetector, TruthEmbedder

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
ADMIN_TOKEN = "web-test-admin-token"
PIPELINE = PipelineSettings()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A fake camera, so the kiosk's getUserMedia path runs too; no permission prompt.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
Box = tuple[float, float, float, float]


# the synthetic world


@dataclass(frozen=True)
class WorldProduct:
    sku: str
    name: str
    price: str
    currency: str
    split: str
    label: int  # COCO category id


@dataclass(frozen=True)
class TrayPhoto:
    path: Path
    items: list[tuple[str, Box]]  # (sku, [x1, y1, x2, y2]) per annotated item

    @property
    def counts(self) -> Counter[str]:
        return Counter(sku for sku, _ in self.items)


@dataclass
class World:
    root: Path
    products: dict[str, WorldProduct]
    trays: list[TrayPhoto]
    enrol: dict[str, list[tuple[Path, Box]]] = field(default_factory=dict)

    def skus(self, split: str) -> list[str]:
        return sorted(sku for sku, product in self.products.items() if product.split == split)

    def expected_receipt(self, tray: TrayPhoto, enrolled: set[str]) -> tuple[dict[str, int], int]:
        """Quantities of the enrolled SKUs on the tray, and how many items are left unrecognised."""
        counts = tray.counts
        recognised = {sku: n for sku, n in counts.items() if sku in enrolled}
        return recognised, sum(n for sku, n in counts.items() if sku not in enrolled)


def _coco(path: Path, root: Path) -> dict[str, list[tuple[str, Box]]]:
    data = json.loads(path.read_text())
    skus = {category["id"]: category["name"] for category in data["categories"]}
    items: dict[int, list[tuple[str, Box]]] = {image["id"]: [] for image in data["images"]}
    for annotation in data["annotations"]:
        x, y, w, h = annotation["bbox"]
        items[annotation["image_id"]].append((skus[annotation["category_id"]], (x, y, x + w, y + h)))
    return {image["file_name"]: items[image["id"]] for image in data["images"]}


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """4 product families (one of them `novel`), 3 enrolment photos per SKU, 3 trays of all SKUs."""
    from trayscan.synth.cli import main as synth_main

    root = tmp_path_factory.mktemp("world")
    argv = ["--out", str(root), "--seed", "1", "--families", "4", "--trays", "3", "--enrol-per-sku", "3"]
    assert synth_main(argv) == 0
    categories = {
        c["name"]: c["id"] for c in json.loads((root / "annotations.json").read_text())["categories"]
    }
    with (root / "catalog.csv").open(newline="") as handle:
        products = {
            row["sku"]: WorldProduct(
                row["sku"], row["name"], row["price"], row["currency"], row["split"], categories[row["sku"]]
            )
            for row in csv.DictReader(handle)
        }
    trays = [
        TrayPhoto(root / name, items)
        for name, items in sorted(_coco(root / "annotations.json", root).items())
    ]
    world = World(root, products, trays)
    for name, items in sorted(_coco(root / "enrol" / "annotations.json", root).items()):
        sku, box = items[0]
        world.enrol.setdefault(sku, []).append((root / name, box))
    return world


# models


@dataclass(frozen=True)
class Models:
    detector: Detector
    embedder: Embedder
    kind: str


def _truth_models(world: World) -> Models:
    detector, embedder = TruthDetector(), TruthEmbedder()
    limits = ImageLimits(max_bytes=1 << 30, max_pixels=1 << 30)
    photos = [(tray.path, tray.items) for tray in world.trays]
    photos += [(path, [(sku, box)]) for sku, shots in world.enrol.items() for path, box in shots]
    for path, items in photos:
        image = decode_image(path.read_bytes(), limits)  # the pixels the service will see
        height, width = image.shape[:2]
        boxes = [clip_box(box, width, height) for _, box in items]
        detector.register(image, boxes)
        for (sku, _), box in zip(items, boxes, strict=True):
            crop = crop_with_padding(image, box, PIPELINE.crop_padding)
            embedder.register(crop, world.products[sku].label)
    return Models(detector, embedder, "truth")


@pytest.fixture(scope="session")
def models(world: World) -> Models:
    """The one place that chooses the recognition models of the web tests."""
    if os.environ.get("TRAYSCAN_WEB_MODELS", "truth") == "real":
        from tests.starter_models import starter_model_settings
        from trayscan.compose import load_models
        from trayscan.config import Settings

        try:
            detector, embedder = load_models(Settings(models=starter_model_settings()))
        except Exception as error:  # no trained models in this checkout
            pytest.skip(f"TRAYSCAN_WEB_MODELS=real but the models cannot be loaded: {error}")
        return Models(detector, embedder, "real")
    return _truth_models(world)


# the live server


class LiveServer:
    """uvicorn in a thread, on a free port of 127.0.0.1."""

    def __init__(self, app: Any) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not self.thread.is_alive():
                raise RuntimeError("uvicorn stopped during startup")
            try:
                ready = httpx.get(self.url + "/readyz", timeout=2)
                if ready.status_code == 200:
                    return self
                if ready.json().get("reason") not in (None, "still starting"):
                    raise RuntimeError(f"service failed to start: {ready.text}")
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("service not ready after 60 s")

    def __exit__(self, *exc_info: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.socket.close()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60)


def enrol_products(server: LiveServer, world: World, skus: list[str]) -> None:
    """Create the products and enrol their photos through the admin API."""
    with server.client() as client:
        for sku in skus:
            product = world.products[sku]
            body = {"sku": sku, "name": product.name, "price": product.price, "currency": product.currency}
            response = client.post("/v1/admin/products", json=body)
            assert response.status_code == 201, response.text
            files = [("images", (path.name, path.read_bytes(), "image/jpeg")) for path, _ in world.enrol[sku]]
            response = client.post(f"/v1/admin/products/{sku}/images", files=files)
            assert response.status_code == 201, response.text


def service_settings(root: Path) -> Settings:
    return Settings(
        admin_token=ADMIN_TOKEN,
        data_dir=root / "var",
        gallery={"dir": root / "gallery"},
        demo={"enabled": False},
        pipeline=PIPELINE,
        server={"cpu_threads": 2},
    )


@pytest.fixture(scope="session")
def stocked_service(tmp_path_factory: pytest.TempPathFactory, world: World, models: Models) -> Path:
    """Catalog, stored photos and gallery of a service with the world's `train` products enrolled (once)."""
    root = tmp_path_factory.mktemp("stocked")
    app = create_app(service_settings(root), detector=models.detector, embedder=models.embedder)
    with LiveServer(app) as live:
        enrol_products(live, world, world.skus("train"))
    return root


@pytest.fixture
def server(tmp_path: Path, stocked_service: Path, models: Models) -> Iterator[LiveServer]:
    """A live service of its own (a copy of the stocked catalog and gallery), free to change."""
    root = tmp_path / "service"
    shutil.copytree(stocked_service, root)
    app = create_app(service_settings(root), detector=models.detector, embedder=models.embedder)
    with LiveServer(app) as live:
        yield live


# the browser


def chromium_path() -> str | None:
    for candidate in (os.environ.get("TRAYSCAN_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
    )
    executable = chromium_path()
    if executable is None:
        reason = "Debian chromium is not installed: `make test` installs it (apt-get install chromium)"
        if os.environ.get("CI"):  # CI runs make test, which installs it: a missing browser is a failure there
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser tab (own storage) in English at a kiosk-like 1280x800; page script errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(20_000)
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    yield page
    context.close()
    assert not script_errors, f"script errors on the page: {script_errors}"


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def money(value: Decimal) -> str:
    return f"{value:.2f}"
