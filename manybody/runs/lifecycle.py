"""The lifecycle of a run's processes: errors that stop a run from outside, the watchdog that ends
orphaned workers, and the records that name the task a killed worker was computing.

A worker killed by the system and a full disk end a run with a one-line :class:`RunAborted`
error, finished work kept in the checkpoint. Local worker processes exit within a second when the
run's process dies (:func:`start_watchdog`).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from manybody.runs.spec import RunSpec

#: (flat sweep-point index, first realisation, stop)
Chunk = tuple[int, int, int]
TaskKey = tuple[int, int]  # (flat sweep-point index, realisation)


class RunAborted(RuntimeError):
    """A run stopped by its environment, not by bad input (a worker killed by the system, a
    full disk): finished work is in the checkpoint and rerunning the same command resumes. The
    message is one line for the user."""


class WorkerDied(RunAborted):
    """A worker process died in a task (killed by the system, e.g. out of memory)."""


class OutOfSpace(RunAborted):
    """No space left on the device (or quota exceeded) while writing results or a checkpoint."""


class SchedulerLost(RunAborted):
    """The dask scheduler went away during a run (its process stopped, the network dropped)."""


#: The realisation the calling thread computes in a sweep ("sweep point 3 (model.n_tls=14),
#: realisation 5"; empty outside a task): set by :func:`computing`, read by the command line's
#: warning format so that a warning says which realisation raised it (session 25).
CURRENT_TASK: contextvars.ContextVar[str] = contextvars.ContextVar("manybody_task", default="")


@contextlib.contextmanager
def computing(where: str):
    """:data:`CURRENT_TASK` is ``where`` inside the block (restored after; per thread)."""
    token = CURRENT_TASK.set(where)
    try:
        yield
    finally:
        CURRENT_TASK.reset(token)


#: Seconds between two checks of a worker's watchdog that the run's process is still alive.
WATCHDOG_INTERVAL = 0.5
_WATCHDOG: threading.Thread | None = None


def _parent_alive(parent: int) -> bool:
    """Whether ``parent`` is still this process's parent (an orphan is re-parented on its death,
    to init or to a subreaper, so its parent pid changes)."""
    return os.getppid() == parent


def start_watchdog(parent: int, interval: float = WATCHDOG_INTERVAL) -> None:
    """In a worker process: exit at once (``os._exit``) when the run's process ``parent`` dies.

    joblib's loky workers otherwise outlive a killed run (``kill``, ``kill -9``, out of memory)
    until their idle timeout (300 s), and a worker inside a task keeps computing to the end of
    it. A daemon thread polls the parent pid every ``interval`` seconds (numerical code releases
    the GIL, so it runs during a task too). Started once per process; a no-op in the run's own
    process.
    """
    global _WATCHDOG
    if parent == os.getpid() or (_WATCHDOG is not None and _WATCHDOG.is_alive()):
        return

    def watch() -> None:
        while _parent_alive(parent):
            time.sleep(interval)
        os._exit(1)

    _WATCHDOG = threading.Thread(target=watch, name="manybody-parent-watchdog", daemon=True)
    _WATCHDOG.start()


def running_marker(directory: str | None, point: int, start: int, stop: int) -> Path | None:
    """Record in the checkpoint which task this worker process runs (``.running-<pid>``), so that
    the run can name it if the system kills the worker."""
    if directory is None or not os.path.isdir(directory):
        return None
    marker = Path(directory) / f".running-{os.getpid()}"
    with contextlib.suppress(OSError):
        marker.write_text(f"{point} {start} {stop}\n")
        return marker
    return None


def dead_tasks(markers: str | None) -> list[Chunk]:
    """Tasks recorded by worker processes that no longer exist (see :func:`running_marker`)."""
    dead = []
    for marker in Path(markers).glob(".running-*") if markers else ():
        try:
            pid = int(marker.name.rsplit("-", 1)[1])
            point, start, stop = map(int, marker.read_text().split())
            os.kill(pid, 0)  # still alive: not the one that died
        except ProcessLookupError:
            dead.append((point, start, stop))
            marker.unlink(missing_ok=True)
        except (OSError, ValueError):
            continue
    return sorted(dead)


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


#: A key present on one side only, in :func:`manybody.runs.checkpoint.spec_differences`.
ABSENT = _Absent()


def show_value(value: Any, limit: int = 60) -> str:
    """A spec value for a one-line message: numbers to 6 digits, long lists as
    ``[first, ..., last] (n values)``."""
    if value is ABSENT:
        return "<absent>"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list | tuple):
        if len(value) > 3:
            return f"[{show_value(value[0])}, ..., {show_value(value[-1])}] ({len(value)} values)"
        return "[" + ", ".join(show_value(x) for x in value) + "]"
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def show_change(old: Any, new: Any) -> str:
    """``'old -> new'`` for a one-line message, with the digits that tell them apart: values that
    :func:`show_value` shows alike (0.1 and 0.1000000001, or lists that differ inside the part
    it elides) are shown in full, or as the first entry of a list that differs (the message
    said "probe.temperatures ([0.02, 0.05, 0.1] -> [0.02, 0.05, 0.1])"; a helper, session 36)."""
    shown_old, shown_new = show_value(old), show_value(new)
    if shown_old != shown_new:
        return f"{shown_old} -> {shown_new}"
    if isinstance(old, list | tuple) and isinstance(new, list | tuple) and len(old) == len(new):
        i = next((i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b), None)
        if i is not None:
            return f"entry {i}: {old[i]!r} -> {new[i]!r}"
    return f"{old!r} -> {new!r}"


def task_name(spec: RunSpec, chunk: Chunk) -> str:
    """'sweep point 3 (model.coupling.strength=0.02), realisations 6-8'."""
    point, start, stop = chunk
    values = ""
    if spec.sweep:
        index = np.unravel_index(point, spec.shape)
        values = " (" + ", ".join(f"{key}={show_value(list(spec.sweep[key])[i])}"
                                  for key, i in zip(spec.sweep, index, strict=True)) + ")"
    reals = f"realisation {start}" if stop == start + 1 else f"realisations {start}-{stop - 1}"
    return f"sweep point {point}{values}, {reals}"


def worker_died(spec: RunSpec, markers: str | None, where: str | None,
                reason: str = "") -> WorkerDied:
    """The one-line error for a worker killed by the system, naming its task when recorded
    (``reason``: loky's message, which holds the exit codes of the dead workers)."""
    codes = re.search(r"exit codes of the workers are \{(.*?)\}", reason)
    if codes and "SIGKILL" not in codes.group(1):
        how = f"it crashed, exit {codes.group(1)}"
    else:
        how = (f"exit {codes.group(1)}; " if codes else "") + \
            "killed by the system, most often for lack of memory: try fewer --jobs"
    dead = dead_tasks(markers)
    if len(dead) == 1:
        task = f"while computing {task_name(spec, dead[0])}"
    elif dead:
        task = "while computing one of: " + "; ".join(task_name(spec, c) for c in dead)
    else:
        task = "in a task"
    kept = (f"finished work is checkpointed in {where!r}; rerun the same command to resume"
            if where else "finished work is lost (no output, hence no checkpoint)")
    error = WorkerDied(f"a worker process died {task} ({how}); {kept}")
    error.head = f"a worker process died {task} ({how})"  # for a run with nothing finished
    return error


def out_of_space(writing: Path | str, kept: Path | None, *, reason: str = "out of disk space",
                 nothing_finished: bool = False) -> OutOfSpace:
    """The one-line error for a full disk, an exceeded quota or the file-size limit (``reason``,
    :func:`manybody.support.files.room_reason`) while writing ``writing``: where finished work
    is kept, or that nothing had finished (the run then leaves no checkpoint; it said "finished
    work is kept in the checkpoint" and left an empty one, a tester, session 39)."""
    if nothing_finished:
        where = "no realisation had finished, so nothing is kept"
    elif kept is not None:
        where = f"finished work is kept in the checkpoint {str(kept)!r}"
    else:
        where = "finished work is lost (no output, hence no checkpoint)"
    way = ("raise the limit or write elsewhere" if "limit" in reason else "free some space")
    return OutOfSpace(f"{reason} writing {str(writing)!r}; {where}; {way} and rerun the same "
                      "command" + ("" if nothing_finished else " to resume"))


def interrupted_summary(finished: int, total: int, resumed: int, checkpoint) -> str:
    """What an interrupted run keeps, for the CLI's one line: how many of the run's
    realisations finished (how many of them a resume brought), where they are and how to go on.

    ``checkpoint`` is the run's :class:`~manybody.runs.checkpoint.Checkpoint`, or None for a run
    without an output file (nothing is kept then)."""
    before = f" ({resumed} of them from an earlier run)" if resumed else ""
    if checkpoint is None:
        return (f"{finished} of {total} realisations had finished{before}; the run has no output "
                "file, hence no checkpoint: nothing is kept")
    if not finished:
        return f"none of the {total} realisations had finished; nothing is kept"
    if finished == total:  # it said "rerun the same command to continue" (session 37)
        return (f"all {total} realisations{before} had finished and are kept in the checkpoint "
                f"{str(checkpoint.directory)!r}; the results file was not written: rerun the "
                "same command to write it (nothing is computed again)")
    return (f"{finished} of {total} realisations{before} are kept in the checkpoint "
            f"{str(checkpoint.directory)!r}; rerun the same command to continue")
