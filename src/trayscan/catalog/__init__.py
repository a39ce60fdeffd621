"""The SQL catalog: products and prices, gallery images with their embeddings, receipts."""

from trayscan.catalog.db import Database
from trayscan.catalog.repository import Catalog, ImageRecord, NewImage

__all__ = ["Catalog", "Database", "ImageRecord", "NewImage"]
