"""Startup and shutdown of the HTTP app: build the parts (`trayscan.compose`) off the event loop, follow the
catalog's other replicas, flush the gallery and close the catalog on the way out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from trayscan.api.concurrency import CpuRunner
from trayscan.compose import Parts, build_services, start_follower
from trayscan.config import Settings
from trayscan.services import Services

log = logging.getLogger(__name__)



def make_lifespan(settings: Settings, parts: Parts) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runner = CpuRunner(settings.server.cpu_threads)
        app.state.runner = runner
        app.state.services = None
        app.state.startup_error = None
        app.state.follower = None

        async def start() -> None:
            try:
                app.state.services = await runner.run(build_services, settings, parts)
                app.state.follower = start_follower(settings, app.state.services)
            except Exception as error:  # stay alive and say why in /readyz rather than crash-loop
                log.exception("startup failed")
                app.state.startup_error = f"{type(error).__name__}: {error}"

        # In the background, /healthz answers while models load and the demo catalog is seeded.
        background = asyncio.create_task(start()) if settings.server.background_startup else None
        if background is None:
            await start()
        yield
        if background is not None:
            await background  # a loading thread cannot be cancelled; let it finish before closing the catalog
        services: Services | None = app.state.services
        if getattr(app.state, "follower", None) is not None:
            app.state.follower.stop()
        if services is not None:
            services.gallery.flush()  # enrolments since the last full save go into the index file
        if services is not None and parts.catalog is None:
            services.catalog.close()

    return lifespan
