"""`trayscan synth`: generate the synthetic retail world (see docs/DATA.md)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from trayscan.synth.dataset import TRAY_SKU_CHOICES, SynthConfig, generate
from trayscan.synth.preview import write_preview
from trayscan.synth.renderers import RENDERER_NAMES, STYLES_BY_RENDERER


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="trayscan synth", description=__doc__)
    p.add_argument("--out", type=Path, help="output folder (git-ignored data/... is a good place)")
    p.add_argument("--seed", type=int, default=1, help="world seed: products, designs, prices, split")
    p.add_argument("--families", type=int, default=60, help="product families (2-6 SKUs each)")
    p.add_argument("--trays", type=int, default=100, help="number of tray photos")
    p.add_argument("--enrol-per-sku", type=int, default=5, help="enrolment photos per SKU")
    p.add_argument("--tray-skus", choices=TRAY_SKU_CHOICES, default="all", help="which SKUs appear on trays")
    p.add_argument("--tray-seed", type=int, default=None, help="photo seed (default: --seed); vary for held-out")
    p.add_argument("--renderer", choices=RENDERER_NAMES, default="sprite",
                   help="'sprite': flat product sprites on a tray (the original world); 'mesh': textured 3-D packs "
                        "in perspective with lights, shadows, materials and non-products (docs/DATA.md)")
    styles = sorted({s for names in STYLES_BY_RENDERER.values() for s in names})
    p.add_argument("--style", choices=styles, default="standard",
                   help="sprite: 'varied' adds patterned and coloured tray surfaces (for training), 'shifted' uses "
                        "surfaces neither shows (a held-out guard); mesh: 'holdout' uses lights, surfaces and "
                        "camera strengths that 'standard' never draws (a held-out guard)")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=960)
    p.add_argument("--min-items", type=int, default=1)
    p.add_argument("--max-items", type=int, default=20)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--preview", type=Path, help="write a contact sheet PNG of sample trays and enrolment photos")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.out is None and args.preview is None:
        print("trayscan synth: give --out DIR and/or --preview FILE.png", file=sys.stderr)
        return 2
    try:
        config = SynthConfig(seed=args.seed, families=args.families, trays=args.trays,
                             enrol_per_sku=args.enrol_per_sku, tray_skus=args.tray_skus, tray_seed=args.tray_seed,
                             style=args.style, width=args.width, height=args.height, min_items=args.min_items,
                             max_items=args.max_items, renderer=args.renderer)
    except ValueError as err:
        print(f"trayscan synth: {err}", file=sys.stderr)
        return 2
    if args.out is not None:
        start = time.perf_counter()
        manifest = generate(config, args.out, workers=args.workers)
        elapsed = time.perf_counter() - start
        print(json.dumps(manifest["counts"]))
        print(f"wrote {args.out} in {elapsed:.1f} s")
    if args.preview is not None:
        write_preview(config, args.preview)
        print(f"wrote {args.preview}")
    return 0
