"""The HTTP API: `create_app` builds the FastAPI app from settings and, optionally, ready-made parts."""

from trayscan.api.app import create_app

__all__ = ["create_app"]
