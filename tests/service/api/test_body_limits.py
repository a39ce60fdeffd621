"""Issue 22, item 4: body limits per route, enforced while the body streams in, on a real uvicorn server."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.evaluation.live_server import live_server
from trayscan.api import create_app
from trayscan.api.body_limit import FORM_OVERHEAD, JSON_BODY_BYTES, PART_OVERHEAD, BodyTooLarge, PartMeter
from trayscan.catalog import Catalog

from ..builders import encode, product_photo
from ..conftest import ADMIN_TOKEN, COLA, make_settings
from ..fakes import BlobDetector, HistogramEmbedder

MAX_BYTES = 64 * 1024
BOUNDARY = "limitboundary"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Catalog]]:
    settings = make_settings(tmp_path, limits={"max_upload_bytes": MAX_BYTES, "max_enrol_images": 3})
    catalog = Catalog.open(settings.sqlalchemy_url)
    app = create_app(settings, detector=BlobDetector(), embedder=HistogramEmbedder(), catalog=catalog)
    with live_server(app) as url:
        yield urlsplit(url).netloc, catalog
    catalog.close()


def part(name: str, filename: str, data: bytes) -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
    return head.encode() + b"Content-Type: image/png\r\n\r\n" + data + b"\r\n"


def form(parts: list[bytes]) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def send_chunked(netloc: str, path: str, body: bytes, chunk: int = 8192) -> tuple[int, dict, int]:
    """POST `body` chunked, a chunk at a time, stopping when an answer arrives. Returns the status, the JSON body
    and how many body bytes were sent before the answer."""
    host, port = netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {netloc}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sock.sendall(head.encode())
        sent = 0
        while sent < len(body):
            piece = body[sent : sent + chunk]
            try:
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
            if select.select([sock], [], [], 0.005)[0]:
                break
        else:
            sock.sendall(b"0\r\n\r\n")
        return (*read_response(sock), sent)


def read_response(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers["content-length"])
    while len(rest) < length:
        rest += sock.recv(65536)
    return int(lines[0].split()[1]), json.loads(rest[:length])


def test_declared_length_over_the_checkout_limit_is_413_before_any_byte(server) -> None:
    netloc, _ = server
    host, port = netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST /v1/checkout HTTP/1.1\r\nHost: {netloc}\r\nContent-Length: 209715200\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n".encode()
        )
        status, body = read_response(sock)  # answered with no body sent at all
    limit = MAX_BYTES + PART_OVERHEAD + FORM_OVERHEAD
    assert (status, body) == (
        413,
        {"code": "request_too_large", "detail": f"request body is 209715200 bytes, over the limit of {limit}"},
    )


def test_a_chunked_checkout_over_the_image_limit_is_413_while_it_streams(server) -> None:
    netloc, _ = server
    body = form([part("image", "big.png", b"\x89PNG" + b"\0" * (20 * MAX_BYTES))])
    status, answer, sent = send_chunked(netloc, "/v1/checkout", body)
    assert (status, answer) == (
        413,
        {"code": "request_too_large", "detail": f"form part 1 is over the limit of {MAX_BYTES} bytes"},
    )
    assert sent < len(body) // 2  # refused long before the end of the body


def test_a_chunked_checkout_at_the_image_limit_is_read(server) -> None:
    netloc, _ = server
    photo = encode(product_photo(COLA))
    photo += b"\0" * (MAX_BYTES - len(photo))  # trailing bytes after IEND: still the limit's worth
    status, answer, _ = send_chunked(netloc, "/v1/checkout", form([part("image", "tray.png", photo)]))
    assert status == 503  # read in full and decoded: the gallery is empty
    assert answer["code"] == "gallery_empty"


def test_one_enrolment_photo_over_the_limit_is_413_and_nothing_is_stored(server) -> None:
    netloc, catalog = server
    catalog.create_product("COLA", "Cola", Decimal("1.00"), "CNY")
    good = encode(product_photo(COLA))
    body = form([part("images", "a.png", good), part("images", "b.png", good + b"\0" * (3 * MAX_BYTES))])
    status, answer, sent = send_chunked(netloc, "/v1/admin/products/COLA/images", body)
    assert (status, answer) == (
        413,
        {"code": "request_too_large", "detail": f"form part 2 is over the limit of {MAX_BYTES} bytes"},
    )
    assert sent < len(body)
    assert catalog.product_images("COLA") == []


def test_a_json_body_over_its_limit_is_413(server) -> None:
    netloc, catalog = server
    host, port = netloc.split(":")
    payload = json.dumps({"sku": "A", "name": "x" * 100_000, "price": "1.00"}).encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST /v1/admin/products HTTP/1.1\r\nHost: {netloc}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n".encode() + payload
        )
        status, body = read_response(sock)
    assert status == 413
    assert body["detail"] == f"request body is {len(payload)} bytes, over the limit of {JSON_BODY_BYTES}"
    assert catalog.list_products()[1] == 0


@pytest.mark.parametrize("chunk", [1, 3, 7, 100])
def test_the_part_meter_finds_delimiters_split_across_chunks(chunk: int) -> None:
    body = form([part("images", "a.png", b"a" * 50), part("images", "b.png", b"b" * 120)])
    meter = PartMeter(BOUNDARY.encode(), part_bytes=300)
    for start in range(0, len(body), chunk):
        meter.feed(body[start : start + chunk])
    assert meter.parts == 3  # two parts and the closing delimiter
    small = PartMeter(BOUNDARY.encode(), part_bytes=180)  # part 1 is 145 bytes with its headers, part 2 215
    with pytest.raises(BodyTooLarge, match="form part 2 is over"):
        for start in range(0, len(body), chunk):
            small.feed(body[start : start + chunk])


def test_a_photo_within_the_limits_never_reaches_the_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Starlette spools a part past 1 MiB to a temporary file unless told otherwise (api/body_limit.py).
    from tempfile import SpooledTemporaryFile

    from fastapi.testclient import TestClient
    from starlette import formparsers

    rolled: list[int] = []

    class Recording(SpooledTemporaryFile):  # type: ignore[type-arg]
        def rollover(self) -> None:
            rolled.append(self.tell())
            super().rollover()

    monkeypatch.setattr(formparsers, "SpooledTemporaryFile", Recording)
    app = create_app(make_settings(tmp_path), detector=BlobDetector(), embedder=HistogramEmbedder())
    photo = encode(product_photo(COLA)) + b"\0" * (3 * 1024 * 1024)  # 3 MiB, under the 20 MiB limit
    with TestClient(app) as client:
        response = client.post("/v1/checkout", files={"image": ("tray.png", photo, "image/png")})
    assert response.json()["code"] == "gallery_empty"  # parsed and decoded
    assert rolled == []
