"""Issue 22, item 3: after a 500 the kept-alive connection still serves the next request (real uvicorn)."""

from __future__ import annotations

import http.client
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.evaluation.live_server import live_server
from trayscan.api import create_app
from trayscan.catalog import Catalog

from ..conftest import make_settings
from ..fakes import BlobDetector, HistogramEmbedder


class BrokenCatalog(Catalog):
    def get_product(self, sku, session=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("the disk is on fire")


def test_a_500_keeps_the_connection_usable(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    catalog = BrokenCatalog.open(settings.sqlalchemy_url)
    app = create_app(settings, detector=BlobDetector(), embedder=HistogramEmbedder(), catalog=catalog)
    with live_server(app) as url:
        connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=10)
        for _ in range(3):
            connection.request("GET", "/v1/products/COLA")
            response = connection.getresponse()
            assert response.status == 500
            assert response.read() == b'{"code":"internal_error","detail":"internal server error"}'
            assert response.getheader("connection") != "close"
            time.sleep(0.3)  # the server has had time to close the connection, had it meant to
            connection.request("GET", "/healthz")
            follow_up = connection.getresponse()
            assert (follow_up.status, follow_up.read()) == (200, b'{"status":"ok"}')
        connection.close()
    catalog.close()
