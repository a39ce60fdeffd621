"""Tray surfaces: the shifted style stays unseen by the training styles; every kind draws a valid image."""

from __future__ import annotations

import numpy as np
import pytest

from trayscan.synth.backgrounds import SHIFTED_TRAYS, TRAYS_OF_STYLE, tray_background
from trayscan.synth.dataset import STYLES


def test_every_style_has_surfaces_and_the_shifted_ones_are_held_out() -> None:
    assert set(TRAYS_OF_STYLE) == set(STYLES)
    assert set(TRAYS_OF_STYLE["standard"]) < set(TRAYS_OF_STYLE["varied"])
    for style in ("standard", "varied"):
        assert not set(TRAYS_OF_STYLE[style]) & set(SHIFTED_TRAYS)


@pytest.mark.parametrize("style", STYLES)
def test_each_style_draws_distinct_valid_surfaces_reproducibly(style: str) -> None:
    surfaces = [tray_background(np.random.default_rng(seed), 60, 80, style) for seed in range(12)]
    for img in surfaces:
        assert img.shape == (60, 80, 3) and img.dtype == np.uint8
    assert len({img.tobytes() for img in surfaces}) == len(surfaces)
    again = tray_background(np.random.default_rng(3), 60, 80, style)
    assert np.array_equal(again, surfaces[3])


def test_the_varied_style_reaches_its_patterned_surfaces() -> None:
    """Stripes, dots and tiles have far more local contrast than any standard surface."""
    def roughness(img: np.ndarray) -> float:
        return float(np.abs(np.diff(img.astype(np.float32), axis=1)).mean())

    standard = max(roughness(tray_background(np.random.default_rng(s), 120, 160, "standard")) for s in range(30))
    varied = max(roughness(tray_background(np.random.default_rng(s), 120, 160, "varied")) for s in range(30))
    assert varied > 2 * standard
