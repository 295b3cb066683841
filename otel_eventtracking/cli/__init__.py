"""The ``otel-eventtracking`` command (also ``python -m otel_eventtracking.cli``).

Commands, one module each: ``catalog`` (write the catalog of declared events, check a source
tree), ``tail`` (print and filter an event file or tracking log), ``validate`` (check recorded
events against the catalog), ``replay`` (send recorded events through a configured tree,
resumably), ``config check`` (build a tree and print it), ``spool`` (pending segments and dead
letters of a spool directory; requeue or purge the dead letters). Every command has ``--help``.
Exit status: 0 fine, 1 the command found a problem in its input (a failed check, an invalid
event), 2 a usage error or a file, module or declaration to fix (printed as one line, never a
traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ..__about__ import VERSION
from . import catalog, config_check, replay, spool, tail, validate
from ._common import EXIT_FAILED, EXIT_USAGE, CommandError

COMMANDS = (catalog, config_check, replay, tail, validate, spool)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``otel-eventtracking`` command."""
    parser = argparse.ArgumentParser(prog="otel-eventtracking", description="otel_eventtracking tools.")
    parser.add_argument("--version", action="version", version=f"otel-eventtracking {VERSION}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `... | head`: the reader is gone; say nothing more on stdout
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    return status


__all__ = ["CommandError", "build_parser", "main"]
