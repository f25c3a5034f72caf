"""The command line, ``manybody COMMAND ...``: one module per command (``configure(parser)``,
``run(args) -> int``), mapped to its name in :mod:`manybody.cli.app`. The only place that prints.

Command modules import nothing heavy until their command runs, so ``manybody --help`` stays fast.
"""

from manybody.cli.app import main

__all__ = ["main"]
