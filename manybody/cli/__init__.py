"""The command line, ``manybody COMMAND ...``: one module per command (``configure(parser)``,
``run(args) -> int``), mapped to its name in :mod:`manybody.cli.app`. The only place that prints.

Command modules import nothing heavy until their command runs, so ``manybody --help`` stays fast.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


#: Thread counts read from the environment by the libraries below (numexpr, OpenMP, OpenBLAS,
#: MKL, numba, loky): 'abc' was "invalid literal for int() with base 10: 'abc'" from numexpr's
#: import, naming no variable (a break test, session 46).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS", "NUMEXPR_MAX_THREADS", "NUMBA_NUM_THREADS",
                    "LOKY_MAX_CPU_COUNT")
#: Of those, the ones whose readers take an empty value for "not set" (numexpr and numba skip
#: '', OpenBLAS ignores it; ``export OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK`` without the option
#: leaves it empty); loky's int('') and numexpr's maximum of 0 fail on it.
EMPTY_MEANS_UNSET = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS")


def environment_problem(command: str | None = None) -> str | None:
    """Why the process cannot start: the current directory deleted, a thread-count variable
    that is not a whole number >= 1 (OMP_NUM_THREADS='4,2', OpenMP's count per nesting level,
    failed in numexpr's import as well), or an address-space limit too small
    (:func:`manybody.support.address_space.address_space_problem`).
    Standard library only: checked before numpy and scipy are imported."""
    import os
    import re

    from manybody.support.address_space import address_space_problem

    try:
        os.getcwd()
    except OSError:  # "[Errno 2] No such file or directory", naming nothing
        return ("the current directory no longer exists (deleted or moved while this shell "
                "was in it); cd to an existing folder and run the command again")
    for name in THREAD_VARIABLES:
        value = os.environ.get(name)
        if value is None or (name in EMPTY_MEANS_UNSET and not value.strip()):
            continue
        if not re.fullmatch(r"\s*\+?0*[1-9]\d*\s*", value):  # '04' and '+4' are 4 to them
            return (f"the environment variable {name}={value!r} is not a whole number >= 1 (a "
                    "thread count the numerical libraries read); unset it "
                    f"(unset {name}) or set a count, e.g. {name}=1")
    return address_space_problem(command)


def drop_empty_thread_variables() -> None:
    """Unset the thread-count variables of :data:`EMPTY_MEANS_UNSET` that are set but empty, as
    their readers take them, before any library (or a worker process, which inherits the
    environment) reads them: libgomp, loaded by QuSpin, printed "Invalid value for environment
    variable OMP_NUM_THREADS" for an empty one (session 46's note)."""
    import os

    for name in EMPTY_MEANS_UNSET:
        if name in os.environ and not os.environ[name].strip():
            del os.environ[name]


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
    drop_empty_thread_variables()
    try:
        from manybody.cli.app import main as run_command
    except KeyboardInterrupt:
        print("manybody: interrupted while starting; nothing was written", file=sys.stderr)
        return 130
    return run_command(argv)
