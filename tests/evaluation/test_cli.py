"""`trayscan eval` end to end on a tiny world in synth's format, with fake models: in-process (both
pipelines) and over HTTP against the real app, enrolling the products through the admin API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.evaluation.live_server import live_server
from tests.service.fakes import BlobDetector, HistogramEmbedder
from trayscan.api import create_app
from trayscan.config import PipelineSettings, Settings
from trayscan.evaluation import cli
from trayscan.pipeline.recognize import BOX_SETTINGS

ADMIN_TOKEN = "eval-test-token"


@pytest.fixture
def fake_models(monkeypatch: pytest.MonkeyPatch, detector: BlobDetector, embedder: HistogramEmbedder) -> None:
    monkeypatch.setattr(cli, "load_models", lambda settings: (detector, embedder))


def run_eval(world: Path, tmp_path: Path, *extra: str) -> tuple[int, dict, str]:
    out, md = tmp_path / "results.json", tmp_path / "results.md"
    argv = ["--annotations", str(world / "annotations.json"), "--images", str(world)]
    argv += ["--out", str(out), "--markdown", str(md), "--quiet", *extra]
    code = cli.main(argv)
    return code, json.loads(out.read_text()), md.read_text()


@pytest.mark.usefixtures("fake_models")
def test_in_process_both_pipelines_side_by_side(world: Path, tmp_path: Path) -> None:
    code, results, md = run_eval(world, tmp_path, "--pipeline", "both", "--workdir", str(tmp_path / "w"))
    assert code == 0
    assert results["mode"] == "in-process" and results["trays"] == 3
    ours, theirs = results["pipelines"]["trayscan"], results["pipelines"]["ppshitu"]
    overall = ours["overall"]["checkout"]
    # Fake models that see the blocks perfectly: every receipt right.
    assert (overall["cacc"], overall["acd"], overall["mccd"], overall["mciou"]) == (1.0, 0.0, 0.0, 1.0)
    assert ours["overall"]["detection"]["ap50"] == 1.0
    assert ours["levels"]["medium"]["checkout"]["images"] == 1
    # Same models, PP-ShiTu's logic: the 8-item tray cannot be counted with 5 boxes.
    assert theirs["levels"]["medium"]["checkout"]["cacc"] == 0.0
    assert theirs["overall"]["checkout"]["cacc"] < 1.0
    assert ours["wrong_trays"] == []
    eight = next(t for t in theirs["wrong_trays"] if t["items"] == 8)
    # Five boxes and the whole image: at most 6 lines for 8 items.
    assert sum(eight["missing"].values()) - sum(eight["extra"].values()) >= 2
    assert ours["errors"] == theirs["errors"] == 0
    assert ours["speed"]["latency_ms"]["n"] == 3 and "detect" in ours["speed"]["stage_p50_ms"]
    assert "| trayscan | **averaged** | 3 | 100.00% | 0.000 | 0.000 | 100.00% |" in md
    assert "| ppshitu |" in md
    assert results["machine"]["cores"] >= 1
    # The shipped box scorer learned the starter models, not these fakes: the rule chose, and the notes say so.
    assert any("threshold rule" in note for note in results["notes"])


@pytest.mark.usefixtures("fake_models")
def test_sweep_scores_the_pipeline_with_each_setting(world: Path, tmp_path: Path) -> None:
    # The fake detector scores every item 0.9: a threshold over it finds nothing, one under it everything (weak
    # boxes, recognized ones under the detection threshold, turned off by a weak threshold as high).
    code, results, md = run_eval(
        world, tmp_path, "--sweep", "detection_threshold=0.5,0.95", "--sweep", "weak_detection_threshold=0.95"
    )
    assert code == 0
    pipelines = results["pipelines"]
    low, high = (f"trayscan detection_threshold={t} weak_detection_threshold=0.95" for t in ("0.5", "0.95"))
    assert list(pipelines) == ["trayscan", low, high]
    assert pipelines[low]["overall"]["checkout"]["cacc"] == 1.0
    assert pipelines[high]["overall"]["checkout"]["cacc"] == 0.0
    assert f"| {high} | **averaged** |" in md


@pytest.mark.usefixtures("fake_models")
def test_a_replayed_sweep_gives_what_running_with_those_settings_gives(world: Path, tmp_path: Path) -> None:
    # Two groups (the similarity threshold changes the decisions: the models run again); in each, the box
    # settings are replays of one observation per tray. A combination that keeps what the service's own settings
    # keep (the fake detector scores every item 0.9, so weak boxes play no part) must score exactly as the plain
    # run does; one with thresholds over 0.9 keeps nothing.
    base = Settings().pipeline
    code, results, _ = run_eval(
        world, tmp_path, "--sweep", f"similarity_threshold={base.similarity_threshold:g},0.8",
        "--sweep", f"detection_threshold={base.detection_threshold:g},0.95", "--sweep", "weak_detection_threshold=0.95",
    )
    assert code == 0
    pipelines = results["pipelines"]
    assert len(pipelines) == 5
    for similarity in (f"{base.similarity_threshold:g}", "0.8"):
        same = (f"trayscan similarity_threshold={similarity} detection_threshold={base.detection_threshold:g} "
                "weak_detection_threshold=0.95")
        for key in ("overall", "wrong_trays", "errors"):
            assert pipelines[same][key] == pipelines["trayscan"][key], (same, key)
        high = f"trayscan similarity_threshold={similarity} detection_threshold=0.95 weak_detection_threshold=0.95"
        assert pipelines[high]["overall"]["checkout"]["cacc"] == 0.0
    assert pipelines["trayscan"]["overall"]["checkout"]["cacc"] == 1.0


def test_sweep_values_are_validated_as_the_settings_they_set() -> None:
    combos = cli.parse_sweep(["top_k=3,10"])
    settings = cli.varied(Settings().pipeline, combos[0])
    assert settings.top_k == 3 and isinstance(settings.top_k, int)  # usable as a slice bound
    with pytest.raises(ValueError, match="detection_threshold"):
        cli.parse_sweep(["detection_threshold=1.5"])
    with pytest.raises(ValueError, match="top_k"):
        cli.parse_sweep(["top_k=2.5"])
    nested = cli.varied(Settings().pipeline, cli.parse_sweep(["sibling_check.margin=0.05"])[0])
    assert nested.sibling_check.margin == 0.05 and nested.sibling_check.max_skus == Settings().pipeline.sibling_check.max_skus
    with pytest.raises(ValueError, match="sibling_check.margin"):
        cli.parse_sweep(["sibling_check.margin=-1"])
    for unknown in ("sibling_check.nope=1", "top_k.x=1", "nope.margin=1"):
        with pytest.raises(ValueError, match="expected SETTING"):
            cli.parse_sweep([unknown])


def test_sweep_groups_share_every_setting_but_the_box_settings() -> None:
    combos = cli.parse_sweep(["similarity_threshold=0.6,0.7", "detection_threshold=0.4,0.5", "duplicate_iou=0.5"])
    groups = cli.observation_groups(combos)
    assert [[c["similarity_threshold"] for c in g] for g in groups] == [[0.6, 0.6], [0.7, 0.7]]
    assert [c["detection_threshold"] for c in groups[0]] == [0.4, 0.5]
    assert set(PipelineSettings.model_fields) >= BOX_SETTINGS  # names of real settings


def test_sweep_of_an_unknown_setting_is_refused(world: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--annotations", str(world / "annotations.json"), "--images", str(world), "--sweep", "nope=1"])
    assert "expected SETTING=V1,V2 with a pipeline setting" in capsys.readouterr().err


@pytest.mark.usefixtures("fake_models")
def test_limit_and_missing_catalog(world: Path, tmp_path: Path) -> None:
    code, results, _ = run_eval(world, tmp_path, "--limit", "1")
    assert code == 0 and results["trays"] == 1
    assert (
        cli.main(
            [
                "--annotations",
                str(world / "annotations.json"),
                "--images",
                str(world),
                "--catalog",
                str(tmp_path / "none.csv"),
                "--quiet",
            ]
        )
        == 2
    )


def test_ppshitu_over_http_is_refused(world: Path) -> None:
    with pytest.raises(SystemExit):
        cli.main(
            [
                "--annotations",
                str(world / "annotations.json"),
                "--images",
                str(world),
                "--url",
                "http://127.0.0.1:9",
                "--pipeline",
                "ppshitu",
            ]
        )


def test_over_http_enrols_through_the_admin_api(
    world: Path, tmp_path: Path, detector: BlobDetector, embedder: HistogramEmbedder, settings: Settings
) -> None:
    server_settings = settings.model_copy(
        update={
            "admin_token": SecretStr(ADMIN_TOKEN),
            "data_dir": tmp_path / "server",
            "gallery": settings.gallery.model_copy(update={"dir": tmp_path / "server" / "gallery"}),
        }
    )
    app = create_app(server_settings, detector=detector, embedder=embedder)
    with live_server(app) as url:
        code, results, md = run_eval(world, tmp_path, "--url", url, "--admin-token", ADMIN_TOKEN)
        # A second run finds the products already there (409) and enrols nothing more.
        code2, again, _ = run_eval(world, tmp_path, "--url", url, "--admin-token", ADMIN_TOKEN)
    assert code == code2 == 0
    assert results["mode"] == f"http {url}"
    assert "6 new products, 6 images" in results["notes"][0]
    assert "0 new products" in again["notes"][0] and "6 products were already there" in again["notes"][0]
    assert "warning: 6 novel SKUs were already in the server's catalog" in again["notes"][1]
    ours = results["pipelines"]["trayscan"]
    assert ours["errors"] == 0
    assert ours["overall"]["checkout"]["cacc"] == 1.0
    assert "total" in ours["speed"]["stage_p50_ms"]


def test_over_http_counts_errors(world: Path, tmp_path: Path) -> None:
    code, results, _ = run_eval(world, tmp_path, "--url", "http://127.0.0.1:9", "--no-enrol")
    assert code == 1  # every tray failed
    ours = results["pipelines"]["trayscan"]
    assert ours["errors"] == 3 and ours["error_examples"][0].startswith("connection")
    assert ours["overall"]["checkout"]["cacc"] == 0.0


@pytest.mark.parametrize("extra", [["--url", "http://127.0.0.1:9"], ["--pipeline", "both"], ["--sweep", "top_k=3"]])
def test_own_server_mode_refuses_options_it_cannot_honour(
    world: Path, tmp_path: Path, extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--annotations", str(world / "annotations.json"), "--images", str(world), "--serve", str(tmp_path)]
    with pytest.raises(SystemExit):
        cli.main([*argv, *extra])
    assert "--serve evaluates its own server over HTTP" in capsys.readouterr().err


@pytest.mark.usefixtures("fake_models")
def test_signals_run_every_combination_of_the_candidate_checks(world: Path, tmp_path: Path) -> None:
    code, results, md = run_eval(world, tmp_path, "--signals")
    assert code == 0
    pipelines = results["pipelines"]
    combos = [f"trayscan sibling_check.enabled={a} size_check.enabled={b} centre_check.enabled={c}"
              for a in (0, 1) for b in (0, 1) for c in (0, 1)]
    assert list(pipelines) == ["trayscan", *combos]
    # all on is the service's default: the same receipts as the plain run
    for key in ("overall", "wrong_trays", "errors"):
        assert pipelines[combos[-1]][key] == pipelines["trayscan"][key]
    assert f"| {combos[0]} | **averaged** |" in md
