"""`trayscan serve`: run the checkout service on uvicorn."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import uvicorn
from pydantic import ValidationError

from trayscan.api.app import create_app
from trayscan.config import load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trayscan serve", description=__doc__)
    parser.add_argument(
        "--config", type=Path, help="YAML settings (default: $TRAYSCAN_CONFIG or configs/default.yaml)"
    )
    parser.add_argument("--host", help="override server.host")
    parser.add_argument("--port", type=int, help="override server.port")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings(args.config)
    except (OSError, ValidationError) as error:
        print(f"trayscan serve: bad settings: {error}", file=sys.stderr)
        return 2
    server = settings.server.model_copy(
        update={key: value for key, value in (("host", args.host), ("port", args.port)) if value is not None}
    )
    settings = settings.model_copy(update={"server": server})
    uvicorn.run(create_app(settings), host=server.host, port=server.port, log_level=args.log_level)
    return 0
