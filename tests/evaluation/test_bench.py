"""`trayscan bench` parts on tiny inputs with fake models: they run and report; no timing is asserted."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.evaluation.live_server import live_server
from tests.evaluation.world import DESIGNS
from tests.service.builders import encode, product_photo
from tests.service.fakes import BlobDetector, HistogramEmbedder
from trayscan.api import create_app
from trayscan.bench import cli, gallery, http, pipeline, targets
from trayscan.bench.server import ServerProcess, memory_mb
from trayscan.config import Settings
from trayscan.evaluation.http_client import ApiClient
from trayscan.synth.dataset import SynthConfig, generate


def test_gallery_part_reports_recall_and_the_chosen_ef_search() -> None:
    result = gallery.run(gallery.GalleryBenchConfig(sizes=(600,), queries=30))
    size = result["sizes"][0]
    assert size["vectors"] == 600 and size["products"] == 120
    assert {row["ef_search"] for row in size["sweep"]} == set(gallery.EF_SEARCH_SWEEP)
    assert all(0.0 <= row["recall1"] <= 1.0 for row in size["sweep"])
    assert "1" in size["chosen"]
    assert any("(chosen)" in line for line in gallery.markdown(result))


def test_gallery_cache_reuses_the_built_index(tmp_path: Path) -> None:
    config = gallery.GalleryBenchConfig(sizes=(500,), queries=20)
    first = gallery.run(config, tmp_path)
    assert len(list(tmp_path.iterdir())) == 1
    again = gallery.run(config, tmp_path)
    assert again["sizes"][0]["build_s"] == first["sizes"][0]["build_s"]  # recorded at build time, not rebuilt
    assert [r["recall1"] for r in again["sizes"][0]["sweep"]] == [r["recall1"] for r in first["sizes"][0]["sweep"]]
    gallery.run(dataclasses.replace(config, queries=10), tmp_path)  # same vectors, fewer queries: same entry
    assert len(list(tmp_path.iterdir())) == 1
    gallery.run(dataclasses.replace(config, seed=1), tmp_path)  # other vectors: another entry
    assert len(list(tmp_path.iterdir())) == 2


def test_an_interrupted_cached_build_resumes_from_its_last_saved_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gallery, "BUILD_CHUNK", 200)
    config = gallery.GalleryBenchConfig(sizes=(500,), queries=20)
    vectors, _, _ = gallery.clustered_vectors(500, config, __import__("numpy").random.default_rng(0))
    adds: list[int] = []
    real_add = gallery.GalleryIndex.add

    def add_then_stop(self: gallery.GalleryIndex, chunk: object, ids: list[int]) -> None:
        adds.append(ids[0])
        if len(adds) == 2:
            raise KeyboardInterrupt  # the machine stops while the second chunk is being added
        real_add(self, chunk, ids)  # type: ignore[arg-type]

    monkeypatch.setattr(gallery.GalleryIndex, "add", add_then_stop)
    with pytest.raises(KeyboardInterrupt):
        gallery._built_index(vectors, config, tmp_path)
    monkeypatch.setattr(gallery.GalleryIndex, "add", real_add)
    adds.clear()
    monkeypatch.setattr(gallery.GalleryIndex, "add", lambda self, chunk, ids: (adds.append(ids[0]),
                                                                                real_add(self, chunk, ids)))
    built, build_s = gallery._built_index(vectors, config, tmp_path)
    assert adds == [200, 400]  # the first chunk was saved; the second is added again, then the third
    assert built.live_count == 500 and sorted(built.live_ids) == list(range(500)) and build_s > 0
    folder = next(tmp_path.iterdir())
    assert (folder / "build.json").is_file() and not (folder / "progress.json").exists()


def test_pipeline_part_times_both_pipelines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, detector: BlobDetector, embedder: HistogramEmbedder
) -> None:
    world = tmp_path / "synth"
    generate(
        SynthConfig(seed=3, families=2, trays=0, enrol_per_sku=1, width=320, height=240), world, workers=1
    )
    monkeypatch.setattr(pipeline, "load_models", lambda settings: (detector, embedder))
    config = pipeline.PipelineBenchConfig(items=(3,), trays_per_size=1, repeats=1, products_folder=world)
    result = pipeline.run(Settings(demo={"enabled": False}), ["onnxruntime"], config)
    engine = result["engines"][0]
    assert engine["enrolment"]["products"] == 2 and engine["enrolment"]["ms_per_image"]["n"] == 2
    sizes = engine["items"]["3"]
    assert sizes["trayscan"]["total_ms"]["n"] == sizes["ppshitu"]["total_ms"]["n"] == 1
    assert "detect" in sizes["trayscan"]["stage_p50_ms"] and "nms" in sizes["ppshitu"]["stage_p50_ms"]
    assert sizes["ppshitu_over_trayscan_p50"] is not None
    assert any(line.startswith("| 3 | ppshitu |") for line in pipeline.markdown(result))


def test_pipeline_part_reports_an_engine_that_does_not_load(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(settings: Settings) -> None:
        raise ImportError("no paddle here")

    monkeypatch.setattr(pipeline, "load_models", refuse)
    result = pipeline.run(Settings(demo={"enabled": False}), ["paddle"], pipeline.PipelineBenchConfig())
    assert result["engines"] == [{"engine": "paddle", "unavailable": "ImportError: no paddle here"}]
    assert "not measured (ImportError: no paddle here)" in "\n".join(pipeline.markdown(result))


def test_http_part_against_a_running_server_counts_errors(
    tmp_path: Path, detector: BlobDetector, embedder: HistogramEmbedder
) -> None:
    settings = Settings(
        admin_token=SecretStr("t"),
        data_dir=tmp_path / "var",
        gallery={"dir": tmp_path / "g"},
        demo={"enabled": False},
    )
    config = http.HttpBenchConfig(concurrency=(1, 2), requests_per_client=2, items=2, trays=2, vectors=0)
    with live_server(create_app(settings, detector=detector, embedder=embedder)) as url:
        empty = http.run(settings, http.HttpBenchConfig(**{**config.__dict__, "url": url}))
        client = ApiClient(url, "t")
        assert client.create_product("SKU-A", "A", "1.00", "CNY").status == 201
        assert client.add_images("SKU-A", [("a.png", encode(product_photo(DESIGNS["SKU-A"])))]).ok
        served = http.run(settings, http.HttpBenchConfig(**{**config.__dict__, "url": url}))
    # An empty gallery answers 503 to every checkout: all counted as errors.
    assert [t["errors"] for t in empty["servers"][0]["load"]] == [2, 4]
    load = served["servers"][0]["load"]
    assert [(t["clients"], t["requests"], t["ok"], t["errors"]) for t in load] == [(1, 2, 2, 0), (2, 4, 4, 0)]
    assert "| 2 | 4 |" in "\n".join(http.markdown(served))


def test_memory_of_a_process() -> None:
    memory = memory_mb(os.getpid())
    assert memory["peak_rss_mb"] is not None and memory["rss_mb"] is not None
    assert memory["peak_rss_mb"] >= memory["rss_mb"] > 0


def test_cli_writes_results_markdown(tmp_path: Path) -> None:
    results, data = tmp_path / "RESULTS.md", tmp_path / "bench.json"
    argv = ["gallery", "--sizes", "300", "--queries", "10", "--results", str(results), "--json", str(data)]
    argv += ["--gallery-cache", str(tmp_path / "cache")]
    assert cli.main(argv) == 0
    text = results.read_text()
    assert "Command: `trayscan bench gallery --sizes 300" in text and "Machine:" in text
    assert "| 300 |" in text
    assert data.is_file()


def test_targets_say_met_missed_or_not_measured() -> None:
    lat = {"n": 5, "p50": 40.0, "p95": 50.0, "p99": 55.0, "mean": 42.0}
    parts = {
        "pipeline": {
            "engines": [
                {
                    "engine": "onnxruntime",
                    "items": {"10": {"trayscan": {"total_ms": lat}, "ppshitu_over_trayscan_p50": 2.5}},
                    "enrolment": {"ms_per_image": {**lat, "p50": 80.0}},
                },
                {"engine": "paddle", "unavailable": "ImportError: no paddle"},
            ]
        }
    }
    text = "\n".join(targets.markdown(parts))
    assert "onnxruntime: 10-item tray p50 40.0 ms (target <= 60): met" in text
    assert "PP-ShiTu way / trayscan 2.50x (target >= 3x): **missed**" in text
    assert "enrolment p50 80.0 ms per image (target <= 100): met" in text
    assert "HTTP throughput and server RSS: not measured" in text
    assert "gallery search at 1M vectors: not measured" in text


def test_render_rewrites_the_markdown_of_a_saved_run(tmp_path: Path) -> None:
    data = tmp_path / "bench.json"
    assert cli.main(["gallery", "--sizes", "200", "--queries", "5", "--json", str(data)]) == 0
    out = tmp_path / "RESULTS.md"
    assert cli.main(["--render", str(data), "--results", str(out)]) == 0
    assert "Command: `trayscan bench gallery --sizes 200" in out.read_text()


def test_a_server_that_cannot_start_is_stopped(tmp_path: Path) -> None:
    env = {"TRAYSCAN_MODELS__DETECTOR_DIR": str(tmp_path / "none"), "TRAYSCAN_DEMO__ENABLED": "false"}
    server = ServerProcess(tmp_path / "state", env=env, ready_timeout_s=60)
    with pytest.raises(RuntimeError, match="server failed to start"), server:
        pass
    assert server.process is not None and server.process.poll() is not None


def test_as_deployed_ratio_compares_ppshitu_on_paddle_with_trayscan_on_onnxruntime() -> None:
    def engine(name: str, ours: float, theirs: float) -> dict:
        return {
            "engine": name,
            "items": {"10": {"trayscan": {"total_ms": {"p50": ours}}, "ppshitu": {"total_ms": {"p50": theirs}}}},
        }

    result = {"engines": [engine("onnxruntime", 50.0, 60.0), engine("paddle", 90.0, 160.0)]}
    assert pipeline.as_deployed_ratios(result) == {"10": 3.2}
    assert pipeline.as_deployed_ratios({"engines": [engine("onnxruntime", 50.0, 60.0)]}) == {}
