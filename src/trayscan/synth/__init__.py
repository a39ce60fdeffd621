"""The synthetic retail world: products, enrolment photos and checkout trays with exact ground truth."""

from trayscan.synth.dataset import SynthConfig, generate
from trayscan.synth.world import Product, build_world

__all__ = ["Product", "SynthConfig", "build_world", "generate"]
