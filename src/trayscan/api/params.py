"""Path and query parameters shared by the routes, bounded so that no value reaches the database unchecked."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from trayscan.schemas import INT64_MAX, RECEIPT_ID_PATTERN, SKU_PATTERN

SkuPath = Annotated[str, Path(pattern=SKU_PATTERN, description="Stock keeping unit: letters, digits, . _ -")]
ImageIdPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="Gallery image id")]
ReceiptIdPath = Annotated[str, Path(pattern=RECEIPT_ID_PATTERN, description="Receipt id (32 hex digits)")]
ItemPath = Annotated[int, Path(ge=0, le=10_000, description="The item's number on the receipt")]
