"""`trayscan` command: dispatches `trayscan <command> ...` to the module that owns the command.

Modules are imported lazily so that `trayscan synth` never pays for (or needs) the model runtimes.
"""

from __future__ import annotations

import importlib
import sys

# command -> (module with `main(argv) -> int`, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "synth": ("trayscan.synth.cli", "generate the synthetic retail world (products, enrolment photos, trays)"),
    "serve": ("trayscan.api.cli", "run the checkout service (FastAPI on uvicorn)"),
    "gallery": ("trayscan.gallery.cli", "build, rebuild or compact the gallery index"),
    "train": ("trayscan.train.cli", "train the starter detector or embedder (needs make train-env)"),
    "models": ("trayscan.inference.cli", "inspect or convert models"),
    "eval": ("trayscan.evaluation.cli", "checkout accuracy with the RPC metrics"),
    "bench": ("trayscan.bench.cli", "speed and memory benchmarks"),
}


def usage() -> str:
    lines = ["usage: trayscan <command> [options]", "", "commands:"]
    lines += [f"  {name:<10} {help_text}" for name, (_, help_text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"trayscan: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module_name = COMMANDS[command][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        print(f"trayscan {command}: not available in this install ({err})", file=sys.stderr)
        return 2
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
