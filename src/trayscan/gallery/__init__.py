"""The gallery: a live Faiss index of enrolled product embeddings, kept consistent with the catalog."""

from trayscan.gallery.index import GalleryIndex, IndexParams

__all__ = ["GalleryIndex", "IndexParams"]
