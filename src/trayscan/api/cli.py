"""`trayscan serve`: run the checkout service on uvicorn."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn
from pydantic import ValidationError

from trayscan.api.app import create_app
from trayscan.config import PLACEHOLDER_ADMIN_TOKEN, load_settings
from trayscan.logs import configure_logging


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trayscan serve", description=__doc__)
    parser.add_argument(
        "--config", type=Path, help="YAML settings (default: $TRAYSCAN_CONFIG or configs/default.yaml)"
    )
    parser.add_argument("--host", help="override server.host")
    parser.add_argument("--port", type=int, help="override server.port")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument(
        "--log-format", default="json", choices=["json", "text"], help="log lines as JSON objects (default) or text"
    )
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level, args.log_format)
    try:
        settings = load_settings(args.config)
    except (OSError, ValidationError) as error:
        print(f"trayscan serve: bad settings: {error}", file=sys.stderr)
        return 2
    if settings.admin_token.get_secret_value() == PLACEHOLDER_ADMIN_TOKEN:
        if not settings.allow_placeholder_token:
            print(
                "trayscan serve: refusing the placeholder admin token: set TRAYSCAN_ADMIN_TOKEN "
                "(or TRAYSCAN_ALLOW_PLACEHOLDER_TOKEN=1 on a development machine)",
                file=sys.stderr,
            )
            return 2
        print(
            f"trayscan serve: development: the admin token is the placeholder {PLACEHOLDER_ADMIN_TOKEN!r}",
            file=sys.stderr,
        )
    server = settings.server.model_copy(
        update={key: value for key, value in (("host", args.host), ("port", args.port)) if value is not None}
    )
    settings = settings.model_copy(update={"server": server})
    # The access log is the app's own (api/observe.py: JSON, request id, no health polls): uvicorn's is off, and
    # log_config=None keeps uvicorn from replacing the handlers configure_logging installed.
    uvicorn.run(
        create_app(settings),
        host=server.host,
        port=server.port,
        log_level=args.log_level,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=server.forwarded_allow_ips,
    )
    return 0
