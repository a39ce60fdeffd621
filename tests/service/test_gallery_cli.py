from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trayscan import compose
from trayscan.catalog import Catalog
from trayscan.cli import main as trayscan_main
from trayscan.config import load_settings
from trayscan.gallery import GalleryIndex
from trayscan.gallery.details import VIEW_SUFFIX

from .builders import encode, product_photo
from .conftest import COLA, LEMONADE
from .fakes import BlobDetector, HistogramEmbedder


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(compose, "load_models", lambda settings: (BlobDetector(), HistogramEmbedder()))
    path = tmp_path / "test.yaml"
    path.write_text(
        f"data_dir: {tmp_path / 'var'}\ngallery:\n  dir: {tmp_path / 'gallery'}\ndemo:\n  enabled: false\n"
    )
    return path


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Path]:
    csv = tmp_path / "catalog.csv"
    csv.write_text(
        "sku,name,family,shape,split,price,currency\n"
        "COLA,Cola,drinks,can,train,3.50,CNY\n"
        "LEMONADE,Lemonade,drinks,can,novel,2.25,CNY\n"
    )
    for sku, design in (("COLA", COLA), ("LEMONADE", LEMONADE)):
        (tmp_path / "enrol" / sku).mkdir(parents=True)
        for i in range(3):
            (tmp_path / "enrol" / sku / f"{i:02d}.jpg").write_bytes(encode(product_photo(design), "JPEG"))
    return csv, tmp_path / "enrol"


def test_build_then_compact_then_rebuild(
    config: Path, world: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    csv, images = world
    argv = ["gallery", "--config", str(config)]
    assert (
        trayscan_main([*argv, "build", "--catalog", str(csv), "--images", str(images), "--split", "train"])
        == 0
    )
    assert "1 products created (0 already there), 3 images enrolled" in capsys.readouterr().out
    assert trayscan_main([*argv, "build", "--catalog", str(csv), "--images", str(images)]) == 0
    assert "1 products created (1 already there), 3 images enrolled" in capsys.readouterr().out

    settings = load_settings(config)
    catalog = Catalog.open(settings.sqlalchemy_url)
    assert sorted(catalog.image_counts().items()) == [("COLA", 3), ("LEMONADE", 3)]
    catalog.delete_product("LEMONADE")  # as the admin API does, minus the index: compaction must catch up
    catalog.close()

    assert trayscan_main([*argv, "compact"]) == 0
    assert "gallery v" in capsys.readouterr().out
    gallery = GalleryIndex.load(settings.gallery.dir, compose.index_params(settings), HistogramEmbedder.name)
    assert gallery is not None and gallery.live_count == 3

    assert trayscan_main([*argv, "rebuild"]) == 0
    assert capsys.readouterr().out.startswith("3 photos re-embedded")


def test_bad_csv_is_reported(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("sku,name,price\nA,Apple,cheap\n")
    code = trayscan_main(
        ["gallery", "--config", str(config), "build", "--catalog", str(csv), "--images", str(tmp_path)]
    )
    assert code == 1
    assert "bad.csv:2: need sku, name and a decimal price" in capsys.readouterr().err


def test_compact_without_gallery_is_reported(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert trayscan_main(["gallery", "--config", str(config), "compact"]) == 1
    assert "to compact: run `trayscan gallery rebuild`" in capsys.readouterr().err


def test_rebox_finds_the_product_again_under_the_current_rule(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "catalog.csv"
    csv.write_text("sku,name,price\nCOLA,Cola,3.50\n")
    (tmp_path / "enrol" / "COLA").mkdir(parents=True)
    photo = product_photo(COLA)  # the product at (100, 60, 220, 180), over the photo's centre
    photo[10:40, 260:300] = (30, 30, 30)  # and something dark beside it
    (tmp_path / "enrol" / "COLA" / "00.png").write_bytes(encode(photo))
    union_config = tmp_path / "union.yaml"
    union_config.write_text(config.read_text() + "pipeline:\n  enrolment_box: union\n")
    build = ["gallery", "--config", str(union_config), "build", "--catalog", str(csv), "--images", str(tmp_path / "enrol")]
    assert trayscan_main(build) == 0
    capsys.readouterr()
    settings = load_settings(config)
    catalog = Catalog.open(settings.sqlalchemy_url)
    (stored,) = catalog.images()
    assert stored.box == (100.0, 10.0, 300.0, 180.0)  # the union took in what lies beside the product
    view = settings.image_dir / f"{stored.image_path}{VIEW_SUFFIX}320.npz"
    view.write_bytes(b"a saved sibling-check view of the old box")

    assert trayscan_main(["gallery", "--config", str(config), "rebox"]) == 0
    assert capsys.readouterr().out.startswith("1 photos' boxes moved (rule framed)")
    (reboxed,) = catalog.images()
    assert reboxed.box == (100.0, 60.0, 220.0, 180.0) and reboxed.id == stored.id
    assert not np.array_equal(reboxed.embedding, stored.embedding) and not view.exists()
    assert trayscan_main(["gallery", "--config", str(config), "rebox"]) == 0
    assert capsys.readouterr().out.startswith("0 photos' boxes moved")
    catalog.close()
