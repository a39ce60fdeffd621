"""Prometheus metrics of one app: requests, latency, pipeline stages, enrolments, errors, the gallery.

Each app has its own registry (`ServiceMetrics.registry`), so two apps in one process (tests, replicas in one
interpreter) never mix their counts. `GET /metrics` (`routes/metrics.py`) renders it in the text format.
Route labels are route templates (`/v1/products/{sku}`), never raw paths, so the label set stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from trayscan.gallery.index import GalleryIndex
from trayscan.schemas import EnrolmentPublic, ReceiptPublic

# Seconds. Stages of a tray run from under a millisecond (search) to a few hundred (the sibling check).
STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
REQUEST_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNMATCHED_ROUTE = "unmatched"  # a path no route answers (a 404 of the router), one label for all of them


class GalleryCollector(Collector):
    """Gallery size and version, read at scrape time from whatever gallery the service has loaded."""

    def __init__(self, gallery_of: Callable[[], GalleryIndex | None]) -> None:
        self._gallery_of = gallery_of

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gallery = self._gallery_of()
        if gallery is None:  # still starting: no gallery series rather than made-up zeros
            return
        yield GaugeMetricFamily(
            "trayscan_gallery_version", "Version of the live gallery index", value=gallery.version
        )
        yield GaugeMetricFamily(
            "trayscan_gallery_vectors", "Searchable vectors in the gallery", value=gallery.live_count
        )
        yield GaugeMetricFamily(
            "trayscan_gallery_deleted_vectors",
            "Tombstoned vectors still in the index until compaction",
            value=gallery.deleted_count,
        )


class ServiceMetrics:
    def __init__(self, gallery_of: Callable[[], GalleryIndex | None]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "trayscan_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=r
        )
        self.request_seconds = Histogram(
            "trayscan_http_request_duration_seconds",
            "Time from request to the end of the response",
            ["method", "route"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "trayscan_http_errors",
            "Error answers by status and error code of the body",
            ["route", "status", "code"],
            registry=r,
        )
        self.stage_seconds = Histogram(
            "trayscan_stage_duration_seconds",
            "Pipeline stage time per checkout (decode, detect, embed, search, siblings, total)",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=r,
        )
        self.checkout_items = Counter(
            "trayscan_checkout_items", "Items on receipts, recognised or not", ["recognized"], registry=r
        )
        self.enrolled_images = Counter(
            "trayscan_enrolled_images", "Product photos added to the gallery by enrolment", registry=r
        )
        self.enrolment_warnings = Counter(
            "trayscan_enrolment_confusable_warnings",
            "Enrolments that warned of a look-alike SKU",
            registry=r,
        )
        r.register(GalleryCollector(gallery_of))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(method, route).observe(seconds)

    def observe_error(self, route: str, status: int, code: str) -> None:
        self.errors.labels(route, str(status), code).inc()

    def observe_receipt(self, receipt: ReceiptPublic) -> None:
        for stage, milliseconds in receipt.timings_ms.items():
            self.stage_seconds.labels(stage).observe(milliseconds / 1000.0)
        self.checkout_items.labels("true").inc(receipt.item_count)
        self.checkout_items.labels("false").inc(len(receipt.unrecognized))

    def observe_enrolment(self, enrolment: EnrolmentPublic) -> None:
        self.enrolled_images.inc(enrolment.enrolled)
        if enrolment.warnings:
            self.enrolment_warnings.inc()
