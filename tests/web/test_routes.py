"""The pages and their assets are served by the app itself (no browser needed for these)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from trayscan.api import create_app
from trayscan.api.routes.web import STATIC_ROOT, WEB_ROOT
from trayscan.config import Settings

from .fakes import TruthDetector, TruthEmbedder


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path / "var", gallery={"dir": tmp_path / "gallery"}, demo={"enabled": False}
    )
    app = create_app(settings, detector=TruthDetector(), embedder=TruthEmbedder())
    yield TestClient(app)  # no lifespan: the pages need no models


@pytest.mark.parametrize(("path", "script"), [("/kiosk", "/static/kiosk.js"), ("/admin", "/static/admin.js")])
def test_pages_are_served_with_a_strict_policy(client: TestClient, path: str, script: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert f'src="{script}"' in response.text
    assert 'src="/static/i18n.js"' in response.text


def test_every_asset_a_page_names_is_served(client: TestClient) -> None:
    names = sorted(entry.name for entry in STATIC_ROOT.iterdir() if entry.is_file())
    assert {"app.css", "common.js", "i18n.js", "kiosk.js", "admin.js"} <= set(names)
    types = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
    for name in names:
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith(types[Path(name).suffix]), name


@pytest.mark.parametrize("name", ["nope.js", "..%2Fkiosk.html", "..%2F..%2Fconfig.py", "%2Fetc%2Fpasswd"])
def test_unknown_assets_are_404_with_the_error_body(client: TestClient, name: str) -> None:
    response = client.get(f"/static/{name}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_root_leads_to_the_kiosk(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/kiosk"


def test_english_and_chinese_have_the_same_labels() -> None:
    text = (STATIC_ROOT / "i18n.js").read_text(encoding="utf-8")
    english, chinese = text.split("\n  zh: {", 1)
    keys = [set(re.findall(r"^    (\w+): ", block, flags=re.MULTILINE)) for block in (english, chinese)]
    assert len(keys[0]) > 100
    assert keys[0] == keys[1]
    used = set()
    for name in ("kiosk.js", "admin.js", "common.js"):
        used |= set(re.findall(r"""\bt\("(\w+)"|plural\("(\w+)""", (STATIC_ROOT / name).read_text()))
    for html in ("kiosk.html", "admin.html"):
        used |= {
            (key, "") for key in re.findall(r'data-i18n(?:-\w+)?="(\w+)"', (WEB_ROOT / html).read_text())
        }
    for key, base in used:
        assert (key in keys[0]) if key else {f"{base}_one", f"{base}_many"} <= keys[0], key or base
