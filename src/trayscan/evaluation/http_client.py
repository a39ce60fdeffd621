"""A small stdlib HTTP client for the checkout API (eval over `--url`, enrolment through the admin API, bench).

Standard library only, so `trayscan eval --url` needs nothing the service does not already install.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

from trayscan.pipeline.decode import image_suffix

CONTENT_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # parsed JSON, or the text when the body is not JSON

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def reason(self) -> str:
        if isinstance(self.body, dict) and "detail" in self.body:
            return f"{self.status} {self.body.get('code', '')}: {self.body['detail']}".strip()
        return f"{self.status} {str(self.body)[:200]}"


def multipart(files: list[tuple[str, str, bytes]], fields: dict[str, str] | None = None) -> tuple[bytes, str]:
    """(field, filename, data) parts and plain form fields -> body and its Content-Type."""
    boundary = uuid.uuid4().hex
    chunks: list[bytes] = []
    for name, value in (fields or {}).items():
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for field, filename, data in files:
        content_type = CONTENT_TYPES.get(image_suffix(data), "application/octet-stream")
        chunks.append(
            (
                f"--{boundary}\r\n"
                f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n"
            ).encode()
        )
        chunks.append(data)
        chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


class ApiClient:
    def __init__(self, base_url: str, admin_token: str | None = None, timeout_s: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.admin_token = admin_token
        self.timeout_s = timeout_s

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str | None = None,
        admin: bool = False,
        extra_headers: dict[str, str] | None = None,
    ) -> Response:
        headers = {"Accept": "application/json", **(extra_headers or {})}
        if content_type:
            headers["Content-Type"] = content_type
        if admin and self.admin_token:
            headers["Authorization"] = f"Bearer {self.admin_token}"
        req = urllib.request.Request(self.base_url + path, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as answer:
                return Response(answer.status, _parse(answer.read()))
        except urllib.error.HTTPError as error:
            return Response(error.code, _parse(error.read()))

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def checkout(self, image: bytes, filename: str = "tray.jpg") -> Response:
        body, content_type = multipart([("image", filename, image)])
        return self.request("POST", "/v1/checkout", body, content_type)

    def create_product(self, sku: str, name: str, price: str, currency: str) -> Response:
        payload = json.dumps({"sku": sku, "name": name, "price": price, "currency": currency}).encode()
        return self.request("POST", "/v1/admin/products", payload, "application/json", admin=True)

    def add_images(self, sku: str, photos: list[tuple[str, bytes]], camera: str = "other") -> Response:
        body, content_type = multipart([("images", name, data) for name, data in photos], {"camera": camera})
        return self.request("POST", f"/v1/admin/products/{sku}/images", body, content_type, admin=True)


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return raw.decode("utf-8", errors="replace")
