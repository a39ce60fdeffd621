"""/docs (Swagger UI) and /redoc (ReDoc) render in the real browser with every request off the service refused:
their scripts and styles come from the service itself (fastapi-offline's files), never from a CDN."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from .conftest import LiveServer, screenshot


@pytest.fixture
def offline_page(browser: Any, server: LiveServer) -> Iterator[tuple[Any, list[str], list[str]]]:
    """A tab that can reach only the service; (page, refused URLs, URLs it fetched from the service)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    refused: list[str] = []
    fetched: list[str] = []
    service = urlsplit(server.url).netloc

    def route(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).netloc == service:
            fetched.append(url)
            route.continue_()
        elif url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(20_000)
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    yield page, refused, fetched
    context.close()
    assert not script_errors, f"script errors on the page: {script_errors}"


def test_swagger_ui_renders_every_route_offline(
    offline_page: tuple[Any, list[str], list[str]], server: LiveServer
) -> None:
    page, refused, fetched = offline_page
    page.goto(server.url + "/docs")
    page.wait_for_selector(".opblock-summary-path")
    paths = set(page.eval_on_selector_all(".opblock-summary-path", "els => els.map(e => e.dataset.path)"))
    assert {"/v1/checkout", "/v1/admin/products", "/healthz", "/readyz"} <= paths
    assert page.inner_text(".information-container .title").startswith("trayscan")
    assert any(url.endswith("/swagger-ui-bundle.js") for url in fetched)
    assert any(url.endswith("/openapi.json") for url in fetched)
    assert refused == []
    screenshot(page, "docs-swagger")


def test_redoc_renders_every_route_offline(
    offline_page: tuple[Any, list[str], list[str]], server: LiveServer
) -> None:
    page, refused, fetched = offline_page
    response = page.goto(server.url + "/redoc")
    # ReDoc's sidebar logo is on its makers' CDN: the page's policy keeps the browser from asking for it.
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    page.wait_for_selector("[data-section-id^='tag/checkout']")
    page.wait_for_selector("h1")
    assert page.inner_text("h1").startswith("trayscan")
    text = page.inner_text("body")
    assert "/v1/checkout" in text and "/v1/admin/products" in text
    assert any(url.endswith("/redoc.standalone.js") for url in fetched)
    assert refused == []
    screenshot(page, "docs-redoc")
