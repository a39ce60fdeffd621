"""A throwaway in-process service: temporary catalog + gallery enrolled through the service's own code.

The parts are wired by the service's `build_services` (the same function the server's lifespan runs) with the
catalog, gallery and photos in a work folder and the demo catalog off. Products come from a catalog CSV
(`trayscan synth`'s `catalog.csv`) and their photos from `<enrol>/<SKU>/*.jpg`, enrolled through
`gallery.build.build_gallery` and the `Enroller`, exactly as `trayscan gallery build` and the admin API do.
"""

from __future__ import annotations

from pathlib import Path

from trayscan.compose import Parts, build_services
from trayscan.config import Settings
from trayscan.gallery.build import BuildReport, CatalogRow, build_gallery, read_catalog_csv
from trayscan.inference.base import Detector, Embedder
from trayscan.progress import Progress, no_progress
from trayscan.services import Services


def local_settings(settings: Settings, workdir: Path, dim: int) -> Settings:
    """The service's settings with its state moved into `workdir` and no demo catalog."""
    return settings.model_copy(
        update={
            "data_dir": workdir,
            "database_url": None,
            "gallery": settings.gallery.model_copy(update={"dir": workdir / "gallery", "dim": dim}),
            "demo": settings.demo.model_copy(update={"enabled": False}),
        }
    )


def empty_service(detector: Detector, embedder: Embedder, settings: Settings, workdir: Path) -> Services:
    workdir.mkdir(parents=True, exist_ok=True)
    return build_services(
        local_settings(settings, workdir, embedder.dim), Parts(detector=detector, embedder=embedder)
    )


def enrol_catalog(
    services: Services,
    rows: list[CatalogRow],
    enrol_dir: Path,
    split: str = "all",
    progress: Progress[CatalogRow] = no_progress,
) -> BuildReport:
    return build_gallery(rows, enrol_dir, services.catalog, services.enroller, split, progress)


def read_catalog(path: Path, settings: Settings) -> list[CatalogRow]:
    return read_catalog_csv(path, settings.currency)
