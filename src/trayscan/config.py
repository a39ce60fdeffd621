"""Service settings: code defaults < YAML file (`configs/*.yaml`) < `TRAYSCAN_*` environment < arguments.

Nested fields use `__` in the environment, e.g. `TRAYSCAN_PIPELINE__SIMILARITY_THRESHOLD=0.6`. The YAML file is
`TRAYSCAN_CONFIG` if set, else `configs/default.yaml` when it exists.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from trayscan.inference.views import EXTRA_VIEWS

DEFAULT_CONFIG_FILE = Path("configs/default.yaml")
PLACEHOLDER_ADMIN_TOKEN = "changeme"

# The YAML file of the Settings being built; a context variable so that load_settings can choose it per call.
_config_file: ContextVar[Path | None] = ContextVar("trayscan_config_file", default=None)


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    cpu_threads: int = Field(
        default=4, ge=1, description="Thread pool for decoding, inference and index search."
    )
    # Browser origins (e.g. "https://kiosk.store.example") allowed to call the API from their pages; none by
    # default: the kiosk and staff pages are served by this server itself.
    cors_origins: list[str] = Field(default_factory=list)
    # Peers whose X-Forwarded-For names the client (the load balancer in front of the replicas); the admin rate
    # limit and the access log then see each kiosk's and clerk's own address, not the balancer's. "*": any peer
    # (only where nothing but the balancer can reach the replica).
    forwarded_allow_ips: list[str] = Field(default_factory=lambda: ["127.0.0.1"])
    background_startup: bool = Field(
        default=False,
        description="Load in the background: /healthz answers at once, /readyz is 503 until loaded",
    )


class ModelSettings(BaseModel):
    detector_dir: Path = Path("models/detector/mainbody")
    embedder_dir: Path = Path("models/embedder/lcnet")
    # More detector passes whose boxes are fused with detector_dir's (inference/fusion.py): another export of the
    # same weights at another input size, or another model. An official detector is used alone: set [].
    detector_extra_dirs: list[Path] = Field(default_factory=list)
    detector_mirror: bool = Field(default=False, description="Also run every detector pass on the mirrored image")
    # The box scorer trained for this detector + embedder (pipeline/box_scorer.py); None, or other models: the
    # threshold rule chooses the boxes.
    box_scorer_dir: Path | None = Path("models/box-scorer/mainbody-lcnet")
    engine: Literal["onnxruntime", "paddle"] = "onnxruntime"
    threads: int = Field(default=2, ge=1, description="Intra-op threads of each model session")
    # 4, not 2: more exact receipts on held-out trays for about 19 % more tray time (docs/CALIBRATION.md).
    embed_rotations: int = Field(
        default=4,
        description="Average each crop's embedding over 1, 2 or 4 right-angle rotations (inference/views.py)",
    )

    @field_validator("embed_rotations")
    @classmethod
    def _supported_rotations(cls, value: int) -> int:
        if value not in EXTRA_VIEWS:
            raise ValueError(f"must be one of {sorted(EXTRA_VIEWS)}")
        return value


class GallerySettings(BaseModel):
    dir: Path = Path("gallery")
    dim: int = Field(default=512, ge=1)
    hnsw_m: int = Field(default=32, ge=4)
    # 200, not Faiss's 40: exact top-1 for all queries of a 200k gallery from efSearch 32, for about 7x the build
    # time (docs/CALIBRATION.md, "Gallery index"); the graph's size is set by hnsw_m.
    ef_construction: int = Field(default=200, ge=8)
    ef_search: int = Field(default=64, ge=8)
    full_save_adds: int = Field(
        default=1000,
        ge=0,
        description="Vectors enrolled between full rewrites of the index file (the catalog keeps the rest)",
    )
    search_threads: int = Field(
        default=1,
        ge=1,
        description="Faiss OpenMP threads. A tray searches ~10 vectors: more threads cost more than they give",
    )
    follow_catalog: bool = Field(
        default=True,
        description="With a PostgreSQL catalog, add and remove what other replicas enrol (gallery/follow.py)",
    )


class SiblingCheckSettings(BaseModel):
    """Geometric verification among near-tied candidate SKUs (pipeline/siblings.py). Values chosen on one third of
    the novel-SKU ground-truth crops of `data/emb-test-novel`; the other two thirds gave the same gain (embedder card)."""

    enabled: bool = True
    margin: float = Field(default=0.1, ge=0.0, le=2.0, description="rivals within this of the best similarity")
    max_skus: int = Field(default=4, ge=2, le=10)
    # 2 photos lost one exact receipt of 150 validation trays (docs/CALIBRATION.md).
    images_per_sku: int = Field(default=3, ge=1, le=20)
    neighbours: int = Field(default=20, ge=1, le=100, description="gallery images searched per crop for it")
    # The check overrules the embedding's SKU only when another candidate's print matches the crop by at least this
    # much more (correlation); no value above 0 gained on both validation worlds (docs/CALIBRATION.md).
    switch_margin: float = Field(default=0.0, ge=0.0, le=2.0)
    detail_side: int = Field(default=320, ge=64, le=1024, description="long side (px) of the compared views")
    # Strongest SIFT keypoints kept per view: alignment needs only some; matching and RANSAC cost grow with them.
    # 300 kept recall@1 after the check on both renderers' validation crops (docs/CALIBRATION.md).
    max_keypoints: int = Field(default=300, ge=0, le=5000, description="SIFT keypoints kept per view (0: all)")
    # Crops of one tray checked side by side (OpenCV releases the GIL) for servers with cores to spare. On the
    # 2-core machine 2 threads did not shorten the stage (bench/RESULTS-checks.md): 1.
    threads: int = Field(default=1, ge=1, le=16, description="crops of one tray checked at once")
    cache_images: int = Field(
        default=2048, ge=0, description="gallery views kept in memory (about 150 kB each)"
    )


class CentreCheckSettings(BaseModel):
    """Among the sibling check's near-tied candidates, the embedding's evidence is the crop's similarity to each
    SKU's centre (the mean of its gallery embeddings) instead of its nearest photo (pipeline/centres.py): the
    answer where the print check cannot tell or is off. Chosen on both renderers' validation crops
    (docs/CALIBRATION.md)."""

    enabled: bool = True


class TextCheckSettings(BaseModel):
    """Printed text as evidence among the sibling check's near-tied candidates (pipeline/text_check.py): the words
    read on the crop (PP-OCRv4 mobile, installed by `make venv`) against the words of each candidate's name and of
    its enrolment photos, read at enrolment. Off by default: on both renderers' validation trays it changed no mesh
    receipt and cost one sprite receipt of 150, for 98-405 ms more per tray (docs/PIPELINE.md, "Printed text")."""

    enabled: bool = False
    detector_side: int = Field(default=320, ge=64, le=2048, description="the text detector's longer input side")
    max_crops: int = Field(default=3, ge=0, le=100, description="crops of one tray read at most")


class SizeCheckSettings(BaseModel):
    """Pack sizes told apart by the item's size in the kiosk camera's photo (pipeline/size_check.py), among the
    sibling check's near-tied candidates when each has kiosk-camera photos. Values chosen on the mesh renderer's
    validation trays (docs/CALIBRATION.md)."""

    enabled: bool = True
    # Swept on data/mesh-val-kiosk (weights 0.02-0.4, spreads 0.1-0.3): the gain fell as the size weighed more.
    weight: float = Field(default=0.02, ge=0.0, le=10.0, description="weight of the size log-likelihood")
    spread: float = Field(default=0.3, gt=0.0, le=2.0, description="log-size spread of one product's photos")


class PipelineSettings(BaseModel):
    # The thresholds below were chosen on validation trays of both sprite worlds, each time the models changed
    # (`make calibrate`; the measurements are in docs/CALIBRATION.md).
    # The rule below chooses the boxes when no box scorer is loaded for the models (or box_scorer is off); the
    # detection threshold also picks the product's box in enrolment photos either way.
    detection_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    # A box scored under detection_threshold but at least weak_detection_threshold is kept only when it is
    # recognized at least weak_detection_similarity alike: a weak box around a known product is an item the detector
    # was unsure of (2 of 3 items the starter detector missed scored 0.2-0.4), a weak box around nothing or around a
    # group of items is not. weak_detection_threshold >= detection_threshold turns this off.
    weak_detection_threshold: float = Field(default=0.3, ge=0.0, le=1.0)
    weak_detection_similarity: float = Field(default=0.8, ge=-1.0, le=1.0)
    # Choose boxes by the models' box scorer (models.box_scorer_dir) where one is loaded. Its probability threshold
    # is the scorer's own (chosen on its training trays) unless box_score_threshold is set. Similarity 0.7 also
    # guards against products nobody enrolled: lower values bill unenrolled items as some other SKU far more often.
    box_scorer: bool = True
    box_score_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    max_detections: int = Field(
        default=100, ge=50, description="The issue asks for at least 50 boxes per tray."
    )
    # The product of an enrolment photo (gallery/enrolment.py): `framed`, in a photo taken by hand the largest box
    # over its centre (else the box nearest it), in a kiosk-camera photo the best box; `union`, every box together.
    # On the mesh validation photos, which show other objects beside the product, framed matched the product
    # (IoU >= 0.7) in 93.2 % of 749, union in 74.0 %; on the sprite ones 99.8 % and 99.9 % of 1,215
    # (docs/CALIBRATION.md, "Enrolment photos").
    enrolment_box: Literal["framed", "union"] = "framed"
    crop_padding: float = Field(
        default=0.05, ge=0.0, le=0.5, description="Share of box width/height added per side."
    )
    # Neighbours in the vote: 3 and 10 both did worse than 5 on validation trays (docs/CALIBRATION.md).
    top_k: int = Field(default=5, ge=1, le=100)
    similarity_threshold: float = Field(default=0.7, ge=-1.0, le=1.0)
    # Two boxes of one decided SKU are one item when they overlap this much (touching items barely overlap).
    duplicate_iou: float = Field(default=0.6, gt=0.0, le=1.0)
    # A box of that SKU lying this much inside another is a box on part of the item; 0.8 (was 0.9) gained exact
    # receipts on validation trays of both worlds (docs/CALIBRATION.md).
    duplicate_containment: float = Field(default=0.8, gt=0.0, le=1.0)
    # Boxes overlapping this much are one item even when decided as different SKUs (two guesses on one item).
    duplicate_iou_any_sku: float = Field(default=0.75, gt=0.0, le=1.0)
    # A box that two or more other kept boxes fill this much is a box around a group, not an item (0: off).
    group_box_coverage: float = Field(default=0.6, ge=0.0, le=1.0)
    confusable_similarity: float = Field(default=0.9, ge=-1.0, le=1.0)
    sibling_check: SiblingCheckSettings = Field(default_factory=SiblingCheckSettings)
    size_check: SizeCheckSettings = Field(default_factory=SizeCheckSettings)
    centre_check: CentreCheckSettings = Field(default_factory=CentreCheckSettings)
    text_check: TextCheckSettings = Field(default_factory=TextCheckSettings)


class LimitSettings(BaseModel):
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    max_pixels: int = Field(default=40_000_000, ge=1)
    max_enrol_images: int = Field(default=20, ge=1)
    # Admin writes (POST/PATCH/DELETE under /v1/admin) per client address and minute, bursts included; then 429.
    admin_writes_per_minute: int = Field(default=600, ge=1)
    # Decoded pixels alive at once across all requests (pipeline/budget.py): one image of max_pixels, or many
    # small ones. 8 concurrent 6000x6000 decompression bombs then add under 600 MB (tests/service/api/test_memory.py).
    decode_pixels_in_flight: int = Field(default=40_000_000, ge=1)
    # A checkout JPEG is decoded at 1/2, 1/4 or 1/8 size while its long side stays at least this many pixels: the
    # detector sees 320-416 px and an item's crop of a 1600 px photo still fills the sibling check's 320 px views.
    # Boxes on the receipt are in the photo's own pixels either way. 0: always full size.
    checkout_decode_long_side: int = Field(default=1600, ge=0)


class FeedbackSettings(BaseModel):
    """The kiosk's feedback loop (trayscan/feedback.py): doubtful items are shown to the customer, staff confirm
    them, and a confirmed crop of the stored tray photo joins the gallery."""

    # Off for stores that must not keep photos: then nothing can be confirmed from a tray.
    keep_photos: bool = True
    photo_retention_days: float = Field(default=30.0, gt=0.0, description="stored tray photos are removed after")
    # A line is a near tie when another SKU's closest image comes this close to the decided one's; the kiosk
    # asks the customer. A choice of how often to ask, not a calibrated threshold.
    tie_margin: float = Field(default=0.03, ge=0.0, le=2.0)


class DemoSettings(BaseModel):
    """The demo catalog made on first start of an empty service (synthetic world of `trayscan synth`)."""

    enabled: bool = True
    seed: int = 1
    families: int = Field(default=60, ge=1, description="`trayscan synth` default world")
    split: Literal["train", "novel", "all"] = "all"  # trays of `trayscan synth` show every SKU by default


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRAYSCAN_", env_nested_delimiter="__", extra="ignore")

    environment: Literal["development", "production"] = "development"
    admin_token: SecretStr = SecretStr(PLACEHOLDER_ADMIN_TOKEN)
    # `trayscan serve` refuses the placeholder token unless this development flag is set (`make run` sets it).
    allow_placeholder_token: bool = False
    currency: str = Field(
        default="CNY", pattern=r"^[A-Z]{3}$", description="Store currency: default for products"
    )
    data_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None, description="Any SQLAlchemy URL; default SQLite under data_dir."
    )
    server: ServerSettings = ServerSettings()
    models: ModelSettings = ModelSettings()
    gallery: GallerySettings = GallerySettings()
    pipeline: PipelineSettings = PipelineSettings()
    limits: LimitSettings = LimitSettings()
    demo: DemoSettings = DemoSettings()
    feedback: FeedbackSettings = FeedbackSettings()

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if (
            self.environment != "development"
            and self.admin_token.get_secret_value() == PLACEHOLDER_ADMIN_TOKEN
        ):
            raise ValueError(
                "set TRAYSCAN_ADMIN_TOKEN: the placeholder admin token is refused outside development"
            )
        return self

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'catalog.db'}"

    @property
    def image_dir(self) -> Path:
        """Where enrolment photos are kept, so the gallery can be re-embedded with another embedder."""
        return self.data_dir / "images"

    @property
    def receipt_photo_dir(self) -> Path:
        """Where checkout photos are kept with their receipts (feedback.keep_photos)."""
        return self.data_dir / "receipts"

    @property
    def demo_dir(self) -> Path:
        return self.data_dir / "demo"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file.get()
        if config_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)


def resolve_config_file(config_file: Path | None = None) -> Path | None:
    if config_file is not None:
        return config_file
    if env_file := os.environ.get("TRAYSCAN_CONFIG"):
        return Path(env_file)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from `config_file` (or the default YAML), the environment and `overrides`."""
    path = resolve_config_file(config_file)
    if path is not None and not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    token = _config_file.set(path)
    try:
        return Settings(**overrides)
    finally:
        _config_file.reset(token)
