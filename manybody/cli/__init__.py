"""The command line, ``manybody COMMAND ...``: one module per command (``configure(parser)``,
``run(args) -> int``), mapped to its name in :mod:`manybody.cli.app`. The only place that prints.

Command modules import nothing heavy until their command runs, so ``manybody --help`` stays fast.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """The ``manybody`` command (:func:`manybody.cli.app.main`), after one check that needs no
    import beyond the standard library: an address-space limit too small to import scipy and
    numba, or for the BLAS to allocate its buffers, is one line with exit status 2. Under
    ``ulimit -v 600000`` a run hung for ever inside OpenBLAS, deaf to Ctrl-C and SIGTERM; under
    200000 the imports failed with a traceback (a break test, session 46)."""
    from manybody.support.address_space import address_space_problem

    problem = address_space_problem()
    if problem is not None:
        print(f"manybody: error: {problem}", file=sys.stderr)
        return 2
    from manybody.cli.app import main as run_command

    return run_command(argv)
