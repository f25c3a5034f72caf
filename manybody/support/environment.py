"""Environment variables the numerical libraries read as they load: thread counts that are not
counts, and empty values. Standard library only, so that the command line can check them before
numpy and scipy are imported; :func:`manybody.runs.sweep.check_run_arguments` checks them too,
for a run started from Python."""

from __future__ import annotations

import os
import re

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
#: Prefixes of the other settings of the OpenMP runtimes, OpenBLAS, MKL and numba: an empty one
#: means nothing to them, and libgomp printed "Invalid value for environment variable
#: OMP_THREAD_LIMIT" (OMP_DYNAMIC, OMP_PROC_BIND, ...) and numba a 20-line warning for
#: NUMBA_OPT= (a second break test, session 47).
LIBRARY_PREFIXES = ("OMP_", "GOMP_", "KMP_", "OPENBLAS_", "MKL_", "NUMBA_")


def thread_variable_problem() -> str | None:
    """Why a thread-count variable cannot be read (not a whole number >= 1; OMP_NUM_THREADS='4,2',
    OpenMP's count per nesting level, failed in numexpr's import as well), or None."""
    for name in THREAD_VARIABLES:
        value = os.environ.get(name)
        if value is None or (name in EMPTY_MEANS_UNSET and not value.strip()):
            continue
        if not re.fullmatch(r"\s*\+?0*[1-9]\d*\s*", value):  # '04' and '+4' are 4 to them
            return (f"the environment variable {name}={value!r} is not a whole number >= 1 (a "
                    "thread count the numerical libraries read); unset it "
                    f"(unset {name}) or set a count, e.g. {name}=1")
    return None


def drop_empty_library_variables() -> None:
    """Unset the numerical libraries' variables that are set but empty (the thread counts of
    :data:`EMPTY_MEANS_UNSET` and every :data:`LIBRARY_PREFIXES` setting), as their readers take
    them, before any library (or a worker process, which inherits the environment) reads them:
    libgomp, loaded by QuSpin, printed "Invalid value for environment variable OMP_NUM_THREADS"
    for an empty one (session 46's note). The thread counts an empty value breaks
    (LOKY_MAX_CPU_COUNT, NUMEXPR_MAX_THREADS) are left to :func:`thread_variable_problem`."""
    refused = set(THREAD_VARIABLES) - set(EMPTY_MEANS_UNSET)
    for name in list(os.environ):
        if name in refused or os.environ[name].strip():
            continue
        if name in EMPTY_MEANS_UNSET or name.startswith(LIBRARY_PREFIXES):
            del os.environ[name]
