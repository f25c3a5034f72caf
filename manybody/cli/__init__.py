"""The command line, ``manybody COMMAND ...``: one module per command (``configure(parser)``,
``run(args) -> int``), mapped to its name in :mod:`manybody.cli.app`. The only place that prints.

Command modules import nothing heavy until their command runs, so ``manybody --help`` stays fast.
"""

from __future__ import annotations

import sys

__all__ = ["command_line", "main"]


def environment_problem(command: str | None = None) -> str | None:
    """Why the process cannot start: the current directory deleted, a thread-count variable
    that is not a whole number >= 1 (OMP_NUM_THREADS='4,2', OpenMP's count per nesting level,
    failed in numexpr's import as well), or an address-space limit too small
    (:func:`manybody.support.address_space.address_space_problem`).
    Standard library only: checked before numpy and scipy are imported."""
    import os

    from manybody.support.address_space import address_space_problem
    from manybody.support.environment import thread_variable_problem

    try:
        os.getcwd()
    except OSError:  # "[Errno 2] No such file or directory", naming nothing
        return ("the current directory no longer exists (deleted or moved while this shell "
                "was in it); cd to an existing folder and run the command again")
    problem = thread_variable_problem()
    if problem is not None:
        return problem
    return address_space_problem(command)


def main(argv: list[str] | None = None) -> int:
    """The ``manybody`` command (:func:`manybody.cli.app.main`), after checks that need no
    import beyond the standard library (:func:`environment_problem`): each is one line with
    exit status 2. Under ``ulimit -v 600000`` a run hung for ever inside OpenBLAS, deaf to
    Ctrl-C and SIGTERM; under 200000 the imports failed with a traceback; a Ctrl-C while the
    libraries were imported was a traceback too (a break test, session 46)."""
    words = sys.argv[1:] if argv is None else [str(word) for word in argv]
    command = next((word for word in words if not word.startswith("-")), None)
    problem = environment_problem(command)
    if problem is not None:
        print(f"manybody: error: {problem}", file=sys.stderr)
        return 2
    from manybody.support.environment import drop_empty_library_variables

    drop_empty_library_variables()
    try:
        from manybody.cli.app import main as run_command
    except KeyboardInterrupt:
        print("manybody: interrupted while starting; nothing was written", file=sys.stderr)
        return 130
    return run_command(argv)


def command_line() -> int:
    """The console script ``manybody`` (and ``python -m manybody``): :func:`main`, whose exit
    status then stands whatever stop signal arrives while the interpreter shuts down.

    The command's own handlers are gone once it has returned, and the shut-down (loky's workers
    stopped, modules released) takes a second or so, during which Python puts back the default
    action of every signal it handled: a SIGTERM there ended a finished run with status 143 and
    no message, a Ctrl-C printed loky's KeyboardInterrupt traceback, so that a scheduler or
    ``timeout`` saw a failed job whose results file was complete (break tests, session 48).
    Stop signals are ignored from here on (an ignored signal stays ignored through the
    shut-down); SIGKILL still ends a shut-down that hangs."""
    status = main()
    from manybody.cli.signals import ignore_stop_signals  # the libraries are loaded by now

    ignore_stop_signals()
    return status
