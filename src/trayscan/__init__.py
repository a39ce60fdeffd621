"""trayscan: retail checkout recognition from one tray photo."""

__version__ = "0.1.0"
