from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from trayscan.config import Settings, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no configs/default.yaml here
    settings = load_settings()
    assert settings.pipeline.max_detections >= 50
    assert settings.sqlalchemy_url == "sqlite:///var/catalog.db"
    assert settings.gallery.dim == 512 and settings.gallery.hnsw_m == 32


def test_yaml_then_environment_then_arguments(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "site.yaml"
    config.write_text("pipeline:\n  top_k: 7\n  similarity_threshold: 0.4\ngallery:\n  ef_search: 100\n")
    monkeypatch.setenv("TRAYSCAN_PIPELINE__SIMILARITY_THRESHOLD", "0.65")
    monkeypatch.setenv("TRAYSCAN_ADMIN_TOKEN", "from-env")
    settings = load_settings(config, gallery={"ef_search": 200})
    assert settings.pipeline.top_k == 7  # YAML
    assert settings.pipeline.similarity_threshold == 0.65  # environment beats YAML
    assert settings.gallery.ef_search == 200  # arguments beat everything
    assert settings.admin_token.get_secret_value() == "from-env"


def test_config_file_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "other.yaml"
    config.write_text("data_dir: /srv/trayscan\n")
    monkeypatch.setenv("TRAYSCAN_CONFIG", str(config))
    assert load_settings().sqlalchemy_url == "sqlite:////srv/trayscan/catalog.db"


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_settings(tmp_path / "nope.yaml")


def test_placeholder_token_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="placeholder admin token"):
        Settings(environment="production")
    assert Settings(environment="production", admin_token="s3cret").environment == "production"


def test_limits_are_validated() -> None:
    with pytest.raises(ValidationError, match="max_detections"):
        Settings(pipeline={"max_detections": 49})


def test_shipped_yaml_files_load() -> None:
    root = Path(__file__).resolve().parents[2] / "configs"
    assert load_settings(root / "default.yaml").environment == "development"
    assert load_settings(root / "production.yaml", admin_token="s3cret").gallery.ef_search == 128
