"""A replica's index follows the PostgreSQL catalog: what any replica enrols or removes, every replica searches.

PostgreSQL is the source of truth for products, prices and gallery embeddings. Prices and product removals need
nothing here: a checkout reads prices from the catalog and keeps only neighbours whose image and product still
exist (`Catalog.active_labels`). New gallery vectors do: each replica holds its own Faiss index. The catalog's
trigger (migration 0002) notifies channel `trayscan_gallery` on every insert or delete of gallery images; the
follower thread LISTENs, adds the new ids' stored embeddings to this replica's index and tombstones deleted ids.

After each (re)connection it LISTENs first and then catches up with the whole catalog (`sync.catch_up`), so
nothing committed while it was away is missed. Ids this replica wrote itself are already in its index (its
enrolment adds them under the gallery lock before the commit that sends the notification) and are skipped.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from sqlalchemy.engine import make_url

from trayscan.catalog.repository import Catalog
from trayscan.gallery.index import GalleryIndex
from trayscan.gallery.sync import catch_up, rebuild

log = logging.getLogger(__name__)

CHANNEL = "trayscan_gallery"


def follows_catalog(sqlalchemy_url: str) -> bool:
    """Only PostgreSQL notifies; a SQLite catalog belongs to one process."""
    return make_url(sqlalchemy_url).get_backend_name() == "postgresql"


def libpq_url(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


class GalleryFollower:
    def __init__(
        self, sqlalchemy_url: str, gallery: GalleryIndex, catalog: Catalog, reconnect_s: float = 1.0
    ) -> None:
        self.url = libpq_url(sqlalchemy_url)
        self.gallery = gallery
        self.catalog = catalog
        self.reconnect_s = reconnect_s
        self.applied = 0  # notifications applied (for tests and logs)
        self.listening = threading.Event()  # set while LISTENing and caught up
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gallery-follower", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def apply(self, payload: str) -> None:
        """One notification: new ids are added from their stored embeddings, deleted ids tombstoned."""
        try:
            message: dict[str, Any] = json.loads(payload)
            op, ids = message.get("op"), [int(i) for i in message.get("ids", [])]
        except (ValueError, TypeError, AttributeError):
            log.warning("gallery follower: unreadable notification %r: catching up instead", payload[:200])
            op, ids = "resync", []
        with self.gallery.lock:
            if op == "insert":
                new = set(ids) - self.gallery.indexed_ids
                if new:
                    found, vectors = self.catalog.embeddings(self.gallery.embedder, self.gallery.params.dim, new)
                    self.gallery.add(vectors, found)
                    log.info("gallery follower: %d images enrolled elsewhere added", len(found))
            elif op == "delete":
                self.gallery.remove(ids)
            else:
                self.resync()
        self.applied += 1

    def resync(self) -> None:
        with self.gallery.lock:
            if not catch_up(self.gallery, self.catalog):
                rebuild(self.gallery, self.catalog)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.resync()  # after LISTEN: whatever commits from now on is also notified
                    self.listening.set()
                    log.info("gallery follower: listening on %s", CHANNEL)
                    while not self._stop.is_set():
                        for notification in connection.notifies(timeout=0.5):
                            self.apply(notification.payload)
            except Exception as error:  # the database went away or restarted: reconnect and catch up
                self.listening.clear()
                if self._stop.is_set():
                    break
                log.warning("gallery follower: %s; reconnecting in %.0f s", error, self.reconnect_s)
                self._stop.wait(self.reconnect_s)
        self.listening.clear()
