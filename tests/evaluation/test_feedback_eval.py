"""`trayscan eval --feedback`: the kiosk's feedback loop measured on a stream of trays, with fake models.

The trays show the items darker than their enrolment photos (another camera and light), so at first nothing is
recognised; once the simulated clerk has confirmed the doubtful items of the first trays, the trays after them
are recognised from those crops."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.evaluation.world import write_world
from tests.service.fakes import BlobDetector, HistogramEmbedder
from trayscan.evaluation import cli

STREAM = [["SKU-A", "SKU-B"], ["SKU-C", "SKU-A"], ["SKU-B", "SKU-C"], ["SKU-A", "SKU-B", "SKU-C"],
          ["SKU-C", "SKU-B"]]


def test_feedback_of_the_first_trays_is_measured_on_the_trays_after_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "load_models", lambda settings: (BlobDetector(), HistogramEmbedder()))
    world = write_world(tmp_path / "world", trays=STREAM, shade=0.55)
    out = tmp_path / "feedback.json"
    argv = ["--annotations", str(world / "annotations.json"), "--images", str(world), "--quiet",
            "--feedback", "0,1,2", "--out", str(out), "--workdir", str(tmp_path / "work")]
    assert cli.main(argv) == 0
    results = json.loads(out.read_text())
    pipelines = results["pipelines"]
    assert list(pipelines) == ["feedback N=0", "feedback N=1", "feedback N=2"]
    recall = {name: p["overall"]["detection"]["recognition_recall1"] for name, p in pipelines.items()}
    cacc = {name: p["overall"]["checkout"]["cacc"] for name, p in pipelines.items()}
    # scored on the same 3 trays after the largest N each time
    assert all(p["overall"]["checkout"]["images"] == 3 for p in pipelines.values())
    assert recall["feedback N=0"] == 0.0 and cacc["feedback N=0"] == 0.0  # the gap: nothing recognised
    assert 0.0 < recall["feedback N=1"] < 1.0  # tray 1 taught A and B, not C
    assert recall["feedback N=2"] == 1.0 and cacc["feedback N=2"] == 1.0
    assert any("3 crops confirmed" in note for note in results["notes"])


def test_feedback_needs_trays_left_to_score(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "load_models", lambda settings: (BlobDetector(), HistogramEmbedder()))
    world = write_world(tmp_path / "world", trays=STREAM[:2])
    argv = ["--annotations", str(world / "annotations.json"), "--images", str(world), "--quiet", "--feedback", "2"]
    assert cli.main(argv) == 2
    with pytest.raises(SystemExit):
        cli.main(argv[:-1] + ["x"])
