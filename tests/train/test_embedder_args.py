"""The embedder's crop cache side: 1.5x the input unless given (a larger input can reuse a smaller cache)."""

from trayscan.train.embedder import _crop_side, parse_args


def test_crop_side_defaults_to_one_and_a_half_times_the_input() -> None:
    assert _crop_side(parse_args(["--data", "d", "--size", "160"])) == 240


def test_crop_side_given_is_kept_whatever_the_input_size() -> None:
    assert _crop_side(parse_args(["--data", "d", "--size", "192", "--crop-side", "240"])) == 240
