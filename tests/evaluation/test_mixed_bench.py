"""Issue 22, deliverable 7: the mixed run of `trayscan bench http` on a real server (fake models), briefly."""

from __future__ import annotations

from pathlib import Path

from tests.evaluation.live_server import live_server
from tests.service.builders import BLUE, RED, encode, product_photo, tray
from tests.service.conftest import ADMIN_TOKEN, COLA, make_settings
from tests.service.fakes import BlobDetector, HistogramEmbedder
from trayscan.api import create_app
from trayscan.bench.mixed import markdown, mixed_run
from trayscan.evaluation.http_client import ApiClient


def test_a_mixed_run_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path), detector=BlobDetector(), embedder=HistogramEmbedder())
    with live_server(app) as url:
        client = ApiClient(url, ADMIN_TOKEN)
        assert client.create_product("COLA", "Cola", "3.50", "CNY").status == 201  # recognised on the trays
        assert client.add_images("COLA", [("cola.png", encode(product_photo(COLA)))]).status == 201
        trays = [encode(tray([(COLA, (20 + 40 * k, 20, 160 + 40 * k, 160))]), "JPEG") for k in range(3)]
        photos = [encode(product_photo((BLUE, RED), box=(60 + 10 * k, 40, 220, 200))) for k in range(3)]
        result = mixed_run(client, trays, photos, seconds=4, checkout_clients=2)
    assert result["checkouts"]["errors"] == 0, result["checkouts"]["error_examples"]
    assert result["admin"]["errors"] == 0, result["admin"]["error_examples"]
    assert result["checkouts"]["ok"] > 0 and result["products_kept"] + result["products_deleted"] > 0
    assert (result["enrolments_lost"], result["enrolments_duplicated"], result["deleted_still_there"]) == (0, 0, 0)
    assert any("| checkouts |" in line for line in markdown(result))
