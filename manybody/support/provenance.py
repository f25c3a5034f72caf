"""Where a result came from: package versions and the git state of the source tree.

One home for provenance, used by results files, checkpoints, fit-data and the benchmarks.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import platform
import subprocess
import sys
from pathlib import Path

#: The package's source folder; its git state is what a result records.
SOURCE = Path(__file__).resolve().parents[1]


def package_version(dist: str) -> str:
    """Installed version of distribution ``dist``, or "not installed"."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def git_state() -> tuple[str, str]:
    """(commit, dirty) of the source tree this package was imported from.

    ``commit`` is the full hash or "unknown" (no git, not a checkout, or an installed copy that
    sits inside another repository's tree); ``dirty`` is "true" when a tracked file differs from
    the commit, "false", or "unknown".
    """
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(SOURCE), *args], capture_output=True, text=True,
                              timeout=10, check=True).stdout

    try:
        # the package's own files must be tracked by the repository git finds: an installed copy
        # in a project's .venv, or copied (pip install --target) into another repository, had
        # that repository's commit recorded as its own (two break tests, session 47)
        git("ls-files", "--error-unmatch", "__init__.py")
        commit = git("rev-parse", "HEAD").strip()
        status = git("status", "--porcelain", "--untracked-files=no")
        new = [name for name in git("ls-files", "--others", "--exclude-standard", "--",
                                    ".").splitlines()  # a module added to the package, unstaged
               if name.endswith(".py")]
    except (OSError, subprocess.SubprocessError):
        return "unknown", "unknown"
    return commit or "unknown", "true" if status.strip() or new else "false"


def git_commit_and_dirty() -> tuple[str | None, bool | None]:
    """:func:`git_state` as JSON-friendly values: (hash or None, True/False or None)."""
    commit, dirty = git_state()
    return (None if commit == "unknown" else commit,
            None if dirty == "unknown" else dirty == "true")


def code_version() -> str:
    """``"<version> (<commit>[+dirty])"``: what a checkpoint records to refuse foreign code."""
    commit, dirty = git_state()
    return f"{package_version('manybody')} ({commit}{'+dirty' if dirty == 'true' else ''})"


def blas_description() -> str:
    """JSON list of the BLAS/OpenMP libraries loaded (threadpoolctl), which fix the last bits."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return "[]"
    keep = ("user_api", "internal_api", "version", "architecture", "threading_layer")
    return json.dumps([{k: info.get(k) for k in keep} for info in threadpool_info()])


def now_utc() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def command_line(program: str = "manybody") -> str:
    """The command that is running, as ``program`` followed by its arguments."""
    return " ".join([program, *sys.argv[1:]]) if sys.argv else program


def environment() -> dict[str, object]:
    """Versions, host, time and git state, as every output file records them."""
    import numpy
    import scipy

    commit, dirty = git_commit_and_dirty()
    return {"manybody": package_version("manybody"), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "python": platform.python_version(),
            "host": platform.node(), "created": now_utc(), "git_commit": commit,
            "git_dirty": dirty}
