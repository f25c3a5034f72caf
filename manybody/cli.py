"""Command line: ``manybody <command> ...``.

Each command lives in its own module, imported only when that command runs, and provides
``configure(parser)`` (add its arguments) and ``run(args) -> int`` (do the work, return the exit
status). Bad input is reported as one line on stderr with exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

#: command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "study": ("manybody.study", "run the built-in study: does TLS structure survive interactions?"),
    "run": ("manybody.sweep_cli", "run a sweep from a TOML run specification"),
    "info": ("manybody.sweep_cli", "describe a results file: contents and provenance"),
    "fit-data": ("manybody.datafit_cli", "fit measured loss data: tanh(x/2) against 1 - e^-x"),
    "bench": ("manybody.bench", "time the pipeline against bare eigh and a naive reference"),
}


class UserError(Exception):
    """An error in the user's input: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="manybody", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module_name, _command=name)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # a command whose module is not installed
            p.set_defaults(_missing=str(exc))
            continue
        configure = getattr(module, f"configure_{name.replace('-', '_')}", None) or module.configure
        configure(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if getattr(args, "_missing", None):
        print(f"manybody {args.command}: not available ({args._missing})", file=sys.stderr)
        return 2
    module = importlib.import_module(args._module)
    run = getattr(module, f"run_{args._command.replace('-', '_')}", None) or module.run
    try:
        return int(run(args) or 0)
    except (UserError, ValueError, TypeError, FileNotFoundError, FileExistsError,
            PermissionError, MemoryError) as exc:
        print(f"manybody {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"manybody {args.command}: interrupted; finished work is kept", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
