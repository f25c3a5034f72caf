"""Parallel parameter sweeps with disorder averaging, checkpoints and resumable results.

Every (sweep point, realisation) pair is independent: :func:`manybody.simulation.observe.observe` with
``SeedSequence(seed, spawn_key=(r,))``. A task is a chunk of consecutive realisations of one sweep
point (:mod:`manybody.runs.tasks`). Tasks run through joblib (loky processes by default, or
dask.distributed; :mod:`manybody.runs.execution`); each finished chunk is checkpointed atomically in
``<output>.checkpoint/`` so that a crash, Ctrl-C or ``kill -9`` loses nothing that had finished,
and rerunning the same command skips finished realisations (whatever chunking wrote them). The
final file is written atomically and the checkpoint removed. Local worker processes exit within
a second when the run's process dies; a worker killed by the system and a full disk end the run
with a one-line :class:`~manybody.runs.lifecycle.RunAborted` error, the checkpoint kept
(:mod:`manybody.runs.checkpoint`, :mod:`manybody.runs.lifecycle`).

Reproducibility: the numbers depend only on the spec and on ``blas_threads`` (multithreaded BLAS
may sum in a different order), never on the number of workers, the backend or the order of
execution. The default ``blas_threads=1`` keeps results bit-identical across ``n_jobs``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import re
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from manybody.runs.checkpoint import (
    Checkpoint,
    TaskKey,
    checkpoint_dir,
    foreign_entries,
    stretch_record,
)
from manybody.runs.execution import execute
from manybody.runs.lifecycle import (
    RunAborted,
    SchedulerLost,
    WorkerDied,
    interrupted_summary,
    out_of_space,
)
from manybody.runs.results import (
    build_dataset,
    check_writable,
    make_parents,
    output_path,
    provenance,
    save_results,
)
from manybody.runs.spec import RunSpec, point_routes, preflight
from manybody.runs.task_warnings import WarningDigest, merged_summaries, summary_of
from manybody.runs.tasks import stack_results
from manybody.support import validate as v
from manybody.support.environment import thread_variable_problem
from manybody.support.files import is_out_of_space, remove_stale_temporaries, room_reason
from manybody.support.open_files import ensure_open_files
from manybody.support.paths import (
    dangling_link,
    link_description,
    remove_created,
    unwritable_reason,
)

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

log = logging.getLogger(__name__)

__all__ = ["BACKENDS", "MAX_CHUNK", "available_cores", "check_checkpoint", "check_run_arguments",
           "run_sweep"]

BACKENDS = ("loky", "dask")
#: Largest chunk_size accepted (realisations per task).
MAX_CHUNK = 100_000
Progress = Callable[[int, int], None]


def available_cores() -> int:
    """CPU cores this process may use (scheduler affinity, else os.cpu_count())."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _make_progress(progress: bool | Progress, total: int, initial: int,
                   name: str = "sweep") -> tuple[Progress, Any]:
    if callable(progress):
        return progress, None
    if not progress:
        return (lambda done, total: None), None
    from tqdm.auto import tqdm  # only when a bar is shown

    # delay=0: drawn at once (0/total), before the first task finishes
    bar = tqdm(total=total, initial=initial, unit="realisation", desc=name, dynamic_ncols=True,
               delay=0)
    if getattr(bar.fp, "isatty", lambda: False)():
        _keep_ticking(bar)
    return (lambda done, total: bar.update(done - bar.n)), bar


@contextlib.contextmanager
def _logs_above(bar: Any) -> Iterator[None]:
    """While a bar is shown, log records and warnings are written above it by tqdm (a warning of
    an in-process run, e.g. a matrix-free fallback, was glued to the end of the bar's line,
    session 24; so were the warnings of the realisations in a log file, where a filter of the
    bar's lines dropped them too; a helper, session 36)."""
    if bar is None:
        yield
        return
    from tqdm.contrib.logging import logging_redirect_tqdm

    terminal = getattr(bar.fp, "isatty", lambda: False)()

    def above(message, category, filename, lineno, file=None, line=None) -> None:
        text = warnings.formatwarning(message, category, filename, lineno, line)
        with contextlib.suppress(OSError, ValueError):  # as warnings.showwarning: never raise
            if terminal:  # cleared, written, the bar drawn again below
                type(bar).write(text.rstrip("\n"), file=file or sys.stderr)
            else:  # a log file: the bar's updates end in '\r', so start a line of its own
                (file or sys.stderr).write("\n" + text)

    shown = warnings.showwarning
    warnings.showwarning = above
    try:
        with logging_redirect_tqdm(tqdm_class=type(bar)):
            yield
    finally:
        warnings.showwarning = shown


def _keep_ticking(bar: Any, interval: float = 1.0) -> None:
    """Redraw ``bar`` every ``interval`` seconds (on a terminal) so that its elapsed time runs
    while the first, slow tasks are computed (workers start, first chunks take a minute)."""
    def tick() -> None:
        while not bar.disable and bar.n < bar.total:
            time.sleep(interval)
            with contextlib.suppress(Exception):
                if not bar.disable:
                    bar.refresh()

    threading.Thread(target=tick, name="manybody-progress", daemon=True).start()


def dask_import_error() -> str | None:
    """Why dask.distributed cannot be imported, or None when it can. Found without importing it
    when it is not installed at all; else imported (it is needed next anyway), so that an
    installation that is there but broken names its own error (a helper, session 36)."""
    if any(importlib.util.find_spec(name) is None for name in ("dask", "distributed")):
        return "it is not installed"
    try:
        import dask.distributed  # noqa: F401
    except ImportError as exc:  # a broken installation
        return f"its import fails: {exc}"
    return None


def check_run_arguments(n_jobs: int, backend: str, scheduler: str | None,
                        blas_threads: int = 1) -> int:
    """Check the execution arguments of :func:`run_sweep` (cheap; before any work or file), and
    raise the soft open-file limit within the hard one where local workers need more
    (:func:`manybody.support.open_files.ensure_open_files`).

    Returns
    -------
    int
        ``n_jobs``, with the joblib idiom -1 (every core, each task using ``blas_threads``)
        resolved.

    Raises
    ------
    TypeError, ValueError
        A non-integer or out-of-range n_jobs or blas_threads, an unknown backend, a scheduler
        without the dask backend, more local processes x threads than cores, a hard open-file
        limit below what the local workers need, or a thread-count environment variable that is
        not a count (OMP_NUM_THREADS=abc, LOKY_MAX_CPU_COUNT='').
    """
    v.choice("backend", backend, BACKENDS)
    problem = thread_variable_problem()  # the command line checks it before any import; from
    if problem is not None:  # Python it was loky's "invalid literal for int()" traceback (a
        raise ValueError(problem)  # second break test, session 47)
    cores = available_cores()
    blas_threads = v.integer("blas_threads", blas_threads, 1, 4096)
    n_jobs = v.integer("n_jobs", n_jobs)
    if n_jobs == -1:
        n_jobs = max(1, cores // blas_threads)
    elif not 1 <= n_jobs <= 4096:
        raise ValueError(f"n_jobs must be -1 (every core) or an integer between 1 and 4096, "
                         f"got {n_jobs}")
    if scheduler is not None and backend != "dask":
        raise ValueError(f"scheduler={scheduler!r} needs backend 'dask', got backend {backend!r}")
    why = dask_import_error() if backend == "dask" else None
    if why is not None:
        # found only when the first sweep started: a study had printed its plan and started
        # computing (a new user, session 36)
        raise ImportError(f"the dask backend needs dask.distributed, and {why}: pip install "
                          "'manybody[dask]'")
    if scheduler is not None:
        check_scheduler_address(scheduler)
    local = backend == "loky" or scheduler is None  # workers on this machine
    if local and n_jobs * blas_threads > cores:
        raise ValueError(
            f"n_jobs x blas_threads = {n_jobs} x {blas_threads} exceeds the {cores} cores "
            "available; processes and threads would fight for them"
        )
    if local:  # the pool's pipes (and a local cluster's sockets) need open files
        ensure_open_files(n_jobs, backend)
    return n_jobs


def check_scheduler_address(scheduler: str) -> None:
    """Refuse a dask scheduler address that dask.distributed cannot parse, before any work.

    A tcp or tls address needs a host and a port (``tcp://10.0.0.5:8786`` or ``10.0.0.5:8786``);
    other schemes (inproc, ucx) are left to dask.distributed. Without this check an address
    without a port ('node7') failed after the run's plan, and the half-made Client then held
    the process 40 s and printed a traceback on its way out (session 42).

    Raises
    ------
    TypeError
        Not a string.
    ValueError
        Empty, unparsable, no host, or a port outside 1..65535.
    """
    if not isinstance(scheduler, str):
        raise TypeError(f"scheduler must be an address string (tcp://host:port), got "
                        f"{v._describe(scheduler)}")
    from distributed.comm.addressing import parse_address, parse_host_port

    expected = "a dask scheduler address, tcp://host:port (e.g. tcp://10.0.0.5:8786)"
    try:
        scheme, location = parse_address(scheduler.strip())
        if scheme not in ("tcp", "tls"):
            return
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"scheduler={scheduler!r} is not {expected}: {exc}") from None
    if not host or not 1 <= int(port) <= 65535:
        raise ValueError(f"scheduler={scheduler!r} is not {expected}: "
                         f"{'no host' if not host else f'port {port} outside 1..65535'}")


def _check_sweep_types(output, resume, overwrite, progress) -> None:
    """TypeError for an argument of :func:`run_sweep` of the wrong type, ValueError for resume or
    overwrite without an output (before any work)."""
    if output is not None and not isinstance(output, str | os.PathLike):
        raise TypeError(f"output must be a file path (str or os.PathLike) or None, got "
                        f"{v._describe(output)}")
    v.boolean("resume", resume)
    v.boolean("overwrite", overwrite)
    if not callable(progress):
        v.instance("progress", progress, bool | np.bool_,
                   "True, False or a callable progress(done, total)")
    if resume and output is None:
        raise ValueError("resume needs an output location (the checkpoint lives next to it)")
    if overwrite and output is None:  # accepted in silence, while resume was refused (helper-183)
        raise ValueError("overwrite=True needs an output location: without one nothing is "
                         "written, so there is nothing to overwrite")


def run_sweep(
    spec: RunSpec,
    output: str | Path | None = None,
    n_jobs: int = 1,
    backend: str = "loky",
    scheduler: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool | Progress = False,
    *,
    blas_threads: int = 1,
    chunk_size: int | None = None,
) -> xr.Dataset:
    """Run every (sweep point, realisation) task of ``spec`` and return labelled results.

    Parameters
    ----------
    spec : RunSpec
        What to compute.
    output : str or os.PathLike, optional
        Results file (netCDF4); None keeps the results in memory only. With an output, finished
        tasks are checkpointed in ``<output>.checkpoint/`` and reused on a rerun; the file is
        written atomically at the end.
    n_jobs : int
        Worker processes (loky), or LocalCluster workers (dask without ``scheduler``); -1 for
        cores // blas_threads.
    backend : {"loky", "dask"}
        joblib backend. "dask" runs on a dask.distributed cluster.
    scheduler : str, optional
        Address of a running dask scheduler (e.g. "tcp://10.0.0.1:8786"); a LocalCluster with
        ``n_jobs`` single-threaded workers is started when omitted.
    resume : bool
        Require an existing checkpoint to continue (a rerun resumes anyway when one exists).
    overwrite : bool
        Replace an existing output file, and discard the finished tasks of a checkpoint written
        by another spec (one of this spec is resumed all the same).
    progress : bool or callable
        True/False (a bool: "yes" or 1 are refused), or a callable
        ``progress(done, total)``: show a tqdm bar on stderr, or call it (realisations finished
        and in all) after each task.
    blas_threads : int
        BLAS/OpenMP threads per task (default 1). n_jobs x blas_threads must not exceed the cores
        (loky). Results are bit-identical for any n_jobs and backend at fixed blas_threads.
    chunk_size : int, optional
        Realisations per task (and per checkpoint file); default
        :func:`manybody.runs.tasks.auto_chunk_size` of each
        sweep point, reduced so that every worker gets at least ``CHUNKS_PER_WORKER`` tasks. It
        never changes the numbers.

    Returns
    -------
    xarray.Dataset
        Observables with dims (*sweep axes, realisation, *observable dims) and provenance attrs.

    Raises
    ------
    TypeError
        ``spec`` not a RunSpec, ``output`` not a str/PathLike/None, ``resume``/``overwrite`` not
        bools, ``progress`` not a bool or callable, n_jobs/blas_threads/chunk_size not ints.
    FileExistsError
        ``output`` exists and ``overwrite`` is False, or another run holds its checkpoint.
    FileNotFoundError
        ``resume=True`` and there is no checkpoint of ``output`` to resume.
    PermissionError, NotADirectoryError
        The output directory is not writable or cannot be created (checked before any
        computation; missing parent directories are created).
    ValueError
        Bad arguments, a checkpoint written by a different spec (without ``overwrite``), or a
        damaged checkpoint meta file. Damaged task files of the checkpoint are recomputed (with
        a logged warning). A realisation's refusal (a ValueError or MemoryError naming its sweep
        point and realisation) says where the finished ones are kept; the checkpoint records
        the failure.
    WorkerDied
        A worker process was killed by the system (e.g. out of memory); finished work stays in
        the checkpoint and a rerun resumes.
    OutOfSpace
        The disk filled up while writing the checkpoint or the results (no temporary file is
        left; the checkpoint is kept).
    KeyboardInterrupt
        Ctrl-C (SIGTERM, SIGHUP: its subclass :class:`manybody.cli.signals.Terminated`): finished
        tasks are kept in the checkpoint. A stop that arrives after the results file is written
        is raised once the checkpoint is removed, with the finished results as its
        ``finished_result`` attribute (it was swallowed: ``manybody study`` ran on to its end and
        exit status 0; a tester, bt203).
    """
    if not isinstance(spec, RunSpec):
        raise TypeError(f"spec must be a RunSpec, got {type(spec).__name__}")
    _check_sweep_types(output, resume, overwrite, progress)
    preflight(spec)  # every sweep point (observables vs N, solver, memory), before any file
    routes = point_routes(spec)
    n_jobs = check_run_arguments(n_jobs, backend, scheduler, blas_threads)
    blas_threads = int(blas_threads)  # checked above; a numpy integer is not JSON
    if chunk_size is not None:
        chunk_size = v.integer("chunk_size", chunk_size, 1, MAX_CHUNK)
    start = time.perf_counter()
    state = _RunState(spec)
    saved = False  # the results file is in place: a stop from here on does not stop the run
    stretch = stretch_record(backend, n_jobs, scheduler)
    if output is not None:
        output = check_writable(output, overwrite)
        state.checkpoint, state.created = _open_checkpoint(spec, output, blas_threads, resume,
                                                           stretch, overwrite)
        state.restore()
    log.info("sweep %r: %d realisations, %d from checkpoint", spec.name, len(state.keys),
             state.resumed)
    report, bar = _make_progress(progress, len(state.keys), state.resumed, spec.name)
    digest = WarningDigest()  # the realisations' warnings: one of each kind, then a count
    jobs = n_jobs

    def cluster_slots(count: int) -> None:
        """A scheduler's cluster computes the run: its task slots are the run's jobs (n_jobs,
        which it ignores, was recorded as 1; session 39's note)."""
        nonlocal jobs
        jobs = stretch["n_jobs"] = int(count)
        if state.checkpoint is not None:
            state.checkpoint.meta["stretches"][state.checkpoint.stretch]["n_jobs"] = jobs

    try:
        with _logs_above(bar):
            try:
                for point, first, result, raised in execute(spec, state.pending(), chunk_size,
                                                            n_jobs, backend, scheduler,
                                                            blas_threads, state.markers(),
                                                            cluster_slots=cluster_slots):
                    state.add(point, first, result, raised)
                    digest.show(raised)
                    report(len(state.results), len(state.keys))
            except SchedulerLost as exc:  # what is kept, which only the run knows
                raise SchedulerLost(f"{exc}; {state.kept_after_loss()}") from None
            except WorkerDied as exc:  # with nothing finished the checkpoint goes (below): it
                # said "finished work is checkpointed" there (session 39)
                if state.checkpoint is None or state.results or not hasattr(exc, "head"):
                    raise
                raise WorkerDied(f"{exc.head}; no realisation had finished, so nothing is "
                                 "kept; rerun the same command") from None
            except (ValueError, MemoryError) as exc:  # a realisation refused (session 37)
                kept = state.kept_after_refusal()
                if kept is None or not refused_realisation(exc):
                    raise
                raise type(exc)(f"{exc}; {kept}") from exc
            warned = digest.summary()
            digest.close(state.resumed)
        wall_time = time.perf_counter() - start
        stretch.update(wall_time_s=float(wall_time), outcome="finished",
                       tasks_computed=len(state.keys) - state.resumed, warnings=warned)
        stretches = state.stretches(stretch)
        attrs = provenance(spec, n_jobs=jobs, backend=backend, blas_threads=blas_threads,
                           wall_time=wall_time, tasks_resumed=state.resumed,
                           scheduler=scheduler, routes=routes, stretches=stretches,
                           raised=merged_summaries([r.get("warnings", []) for r in stretches]))
        ds = build_dataset(spec, stack_results(spec, state.results, release=True), attrs)
        if output is not None:
            _save(ds, output, overwrite, state.checkpoint)
            saved = True
    except BaseException as exc:
        warned = digest.summary()  # kept in the checkpoint with the stretch (end_stretch)
        with contextlib.suppress(Exception):  # the count of the warnings shown once (session 35:
            digest.close(state.resumed)  # lost on Ctrl-C)
        finished = set(state.results)  # and a chunk whose file was written just before the
        if state.checkpoint is not None:  # stop, before the run counted it (saved_keys)
            with contextlib.suppress(OSError):
                finished |= state.checkpoint.saved_keys(state.keys)
        if isinstance(exc, KeyboardInterrupt):  # what the CLI's one line says is kept
            exc.kept = interrupted_summary(len(finished), len(state.keys),  # type: ignore[attr-defined]
                                           state.resumed, state.checkpoint)
        if state.checkpoint is not None:
            if finished:  # finished work is kept, with how this stretch ended
                state.end_stretch(exc, time.perf_counter() - start, warned)
                state.checkpoint.close()
            else:  # nothing finished (e.g. an unreachable dask scheduler): leave no empty
                # checkpoint directory behind (session 25), nor the output's directories this
                # run created (session 27)
                state.checkpoint.remove()
                remove_created(state.created)
        raise
    finally:
        late = _close_bar(bar, saved)
    if state.checkpoint is not None:
        late = _remove_finished(state.checkpoint) or late
    log.info("sweep %r done: computed %d realisations, reused %d, %.1f s", spec.name,
             len(state.keys) - state.resumed, state.resumed, attrs["wall_time_s"])
    if late is not None:  # the run is finished, and the stop is honoured: said, not swallowed
        late.finished_result = ds  # type: ignore[attr-defined]
        late.kept = (f"the run had finished: {output_path(output)} is whole and its checkpoint "  # type: ignore[attr-defined]
                     "removed" if output is not None else "the run had finished")
        raise late
    return ds


def _close_bar(bar, saved: bool) -> KeyboardInterrupt | None:
    """Close the progress bar; a stop while it closes after the results file is in place
    (``saved``) is returned, to be raised once the checkpoint is removed: a SIGTERM there skipped
    the checkpoint's removal and left a finished run looking killed, its plain rerun refused (a
    break test, session 47)."""
    if bar is None:
        return None
    try:
        bar.close()
    except KeyboardInterrupt as exc:
        if not saved:
            raise
        return exc
    return None


def _remove_finished(checkpoint: Checkpoint) -> KeyboardInterrupt | None:
    """Delete the checkpoint of a run whose results file is written whole; a stop (Ctrl-C,
    SIGTERM, SIGHUP) during the deletion is returned once the deletion is finished, for
    :func:`run_sweep` to raise with the finished results. A stop there left a half-deleted
    checkpoint, exit status 143, a "rerun" refused as "already exists" and ``manybody info``
    calling it an unfinished run (a break test, session 47); then it was swallowed, and the
    renamed checkpoint left behind (a tester, bt203)."""
    try:
        checkpoint.remove()
    except KeyboardInterrupt as exc:  # SIGTERM and SIGHUP arrive as subclasses of it
        checkpoint.remove()
        return exc
    return None


#: How the error of one realisation begins (:func:`manybody.runs.tasks.run_task`).
_REALISATION_ERROR = re.compile(r"(sweep point \d+\b.*?, )?realisation \d+: ")


def refused_realisation(exc: BaseException) -> bool:
    """Whether ``exc`` is the refusal of one realisation (a ValueError or MemoryError naming its
    sweep point and realisation: too low a temperature for the Chebyshev solver, too few
    moments, memory), which a rerun of the same spec meets again."""
    return type(exc) in (ValueError, MemoryError, np.linalg.LinAlgError) \
        and _REALISATION_ERROR.match(str(exc)) is not None


@dataclass
class _RunState:
    """The (sweep point, realisation) pairs of a run, those finished, and their checkpoint."""

    spec: RunSpec
    checkpoint: Checkpoint | None = None
    #: directories of the output this run created (removed again if it finishes nothing)
    created: list[Path] = field(default_factory=list)
    results: dict[TaskKey, dict[str, np.ndarray]] = field(default_factory=dict)
    resumed: int = 0
    keys: list[TaskKey] = field(init=False)

    def __post_init__(self) -> None:
        counts = self.spec.realisation_counts.ravel()
        self.keys = [(p, r) for p in range(self.spec.n_points) for r in range(counts[p])]

    def restore(self) -> None:
        """Take the finished realisations from the (open) checkpoint."""
        try:  # the lock is held: nobody else writes this output now
            self.results = self.checkpoint.load(self.keys)
        except BaseException:
            self.checkpoint.close()
            raise
        self.resumed = len(self.results)

    def kept_after_loss(self) -> str:
        """What a run that lost its scheduler keeps (with nothing finished, the run removes its
        checkpoint: it must not say work was kept there)."""
        if self.checkpoint is None:
            return "finished work is lost (no output, hence no checkpoint)"
        if not self.results:
            return "no realisation had finished, so nothing is kept; rerun with a scheduler"
        return (f"the {len(self.results)} realisation(s) that finished are kept in the checkpoint "
                f"{str(self.checkpoint.directory)!r}; rerun the same command with a scheduler "
                "to resume")

    def kept_after_refusal(self) -> str | None:
        """What a run refused by one realisation keeps, for its error message (None without a
        checkpoint or finished realisations): a corrected spec cannot resume them."""
        if self.checkpoint is None or not self.results:
            return None
        return (f"the {len(self.results)} realisation(s) that finished are kept in the checkpoint "
                f"{str(self.checkpoint.directory)!r}, but a changed spec cannot resume them: "
                "correct the spec and pass overwrite=True (--overwrite) to start again")

    def end_stretch(self, exc: BaseException, wall_time: float,
                    raised: list[dict[str, Any]] | None = None) -> None:
        """Record in the checkpoint how this stretch ended (interrupted, or failed with
        ``exc``'s message, which ``manybody info`` shows; a worker killed by the system or a
        full disk is no failure of the spec: a rerun goes on)."""
        computed = len(self.results) - self.resumed
        with contextlib.suppress(Exception):  # the error itself is what the user must see
            if isinstance(exc, KeyboardInterrupt | RunAborted):
                self.checkpoint.end_stretch(wall_time, computed, "interrupted"
                                            if isinstance(exc, KeyboardInterrupt) else "aborted",
                                            raised=raised)
            else:  # only a realisation's refusal repeats on a rerun of the same spec
                if exc.__cause__ is not None and refused_realisation(exc.__cause__):
                    exc = exc.__cause__  # without what the message adds on the checkpoint
                message = str(exc).strip().splitlines()[0] if str(exc).strip() \
                    else type(exc).__name__
                self.checkpoint.end_stretch(wall_time, computed, "failed",
                                            f"{type(exc).__name__}: {message}",
                                            refused=refused_realisation(exc), raised=raised)

    def stretches(self, current: dict[str, Any]) -> list[dict[str, Any]]:
        """Every stretch of the run that led to the results (from the checkpoint; this one,
        ``current``, last), each with the realisations it computed (counted from the task files
        it wrote): one that computed none too, as README promises (a resume interrupted while
        its workers started vanished from the record and its time from the total; bt218 F1)."""
        if self.checkpoint is None:
            return [current]
        earlier = self.checkpoint.meta["stretches"][:self.checkpoint.stretch]
        counts: dict[int, int] = {}
        for key in self.results:
            if key in self.checkpoint.origins:
                index = self.checkpoint.origins[key]
                counts[index] = counts.get(index, 0) + 1
        out = []
        for index, record in enumerate(earlier):
            if not counts.get(index) and record.get("outcome") == "running":
                # killed before any task finished: listed, its time unknown (it vanished from
                # the record, and the total was a silent lower bound; a tester, session 38)
                out.append({**record, "tasks_computed": 0, "outcome": "killed",
                            "wall_time_note": "killed before any task finished: unknown"})
            elif not counts.get(index) and record.get("outcome") != "copied":
                # ended (interrupted, failed) before any task finished; "copied" is a study's
                # copying of a donor's realisations, which computes nothing and takes no time
                out.append({**record, "tasks_computed": 0})
            if counts.get(index):
                record = {**record, "tasks_computed": counts[index]}
                if record.get("wall_time_s") is None and index in self.checkpoint.elapsed:
                    # killed outright: no end was recorded; its time to its last finished task,
                    # and its warnings from its task files (they were lost; session 54's note)
                    record.update(wall_time_s=self.checkpoint.elapsed[index],
                                  outcome="killed", wall_time_note="to its last finished task",
                                  warnings=summary_of(self.checkpoint.task_warnings.get(index, [])))
                out.append(record)
        return [*out, current]

    def pending(self) -> list[TaskKey]:
        return [k for k in self.keys if k not in self.results]

    def markers(self) -> str | None:
        """Where workers record the task they compute (the checkpoint's task directory)."""
        return str(self.checkpoint.tasks) if self.checkpoint is not None else None

    def add(self, point: int, first: int, result: dict[str, np.ndarray],
            raised: list | tuple = ()) -> None:
        """Checkpoint a finished chunk, with the warnings its realisations ``raised``, and keep
        its realisations."""
        if self.checkpoint is not None:
            try:
                self.checkpoint.write(point, first, result, raised)
            except OSError as exc:
                if is_out_of_space(exc):  # with nothing finished the checkpoint goes (run_sweep)
                    raise out_of_space(self.checkpoint.tasks, self.checkpoint.directory,
                                       reason=room_reason(exc),
                                       nothing_finished=not self.results) from None
                raise
        for i, arrays in enumerate(zip(*result.values(), strict=True)):
            self.results[(point, first + i)] = dict(zip(result, arrays, strict=True))


def check_checkpoint(output: str | Path, resume: bool = False) -> None:
    """Check the checkpoint location ``<output>.checkpoint`` of ``output`` (nothing is created).

    Raises
    ------
    ValueError
        The location is a file, a link to a missing directory, or a folder this tool did not
        write (no meta.json, other files in it).
    PermissionError
        The checkpoint (or its task folder) exists and no file can be written in it.
    FileNotFoundError
        ``resume`` is True and there is no checkpoint to resume.
    """
    output = Path(output)
    directory = checkpoint_dir(output)
    where = f"the checkpoint location {str(directory)!r} of output {str(output)!r}"
    if directory.exists() and not directory.is_dir():  # was an Errno 20
        raise ValueError(f"{where} is a file; move it away or choose another output")
    link = dangling_link(directory)  # was Errno 17; a directory above it too (session 27)
    if link is not None:
        raise ValueError(f"{where}: {link_description(link)}; remove the link or choose "
                         "another output")
    for folder in (directory, directory / "tasks"):  # was Errno 13 (session 27)
        why = unwritable_reason(folder) if folder.is_dir() else None
        if why is not None:
            raise PermissionError(f"{where}: {why}; give it write permission (chmod -R u+rwX), "
                                  "remove it or choose another output")
    foreign = foreign_entries(directory)
    if foreign:  # not a checkpoint: removed with the user's files at the end (session 33)
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3
                                          else "")
        raise ValueError(f"{where} is a folder this tool did not write (no meta.json; it holds "
                         f"{shown}); a run would remove it when it finishes: move it away or "
                         "choose another output")
    if resume and not (directory / Checkpoint.META).is_file():
        raise FileNotFoundError(
            f"nothing to resume: no checkpoint {str(directory)!r}; run without "
            "resume=True (--resume) to start"
        )


def _open_checkpoint(spec: RunSpec, output: Path, blas_threads: int, resume: bool,
                     stretch: dict[str, Any] | None = None, overwrite: bool = False
                     ) -> tuple[Checkpoint, list[Path]]:
    """Create (or reopen) and lock the checkpoint of ``output`` (``stretch``: this run's record;
    ``overwrite``: discard a checkpoint of another spec); remove temporaries of a killed
    write of ``output``. Returns the checkpoint and the directories of ``output`` created for
    it (outermost first)."""
    checkpoint = Checkpoint(checkpoint_dir(output), spec, blas_threads)
    check_checkpoint(output, resume)
    created = make_parents(output)
    new = not checkpoint.directory.exists()
    try:
        checkpoint.open(stretch, restart=overwrite)
    except FileExistsError:  # another run holds the lock: its checkpoint and folders are not
        raise  # this run's to remove (one was deleted under the winner; a break test, s48)
    except OSError as exc:
        # a checkpoint this run created holds nothing yet: it goes (a lock and an empty tasks/
        # were left behind, under words saying finished work was kept; a tester, session 39)
        if new and not any(checkpoint.tasks.glob("*.npz")):
            checkpoint.remove()
        remove_created(created)
        if is_out_of_space(exc):
            raise out_of_space(checkpoint.directory / Checkpoint.META, checkpoint.directory,
                               reason=room_reason(exc), nothing_finished=new) from None
        raise
    try:  # the lock is held: nobody else writes this output now
        if not overwrite and os.path.lexists(output):
            # another run finished it between this run's check and its lock: computing it all
            # again ended in "already exists" with a full checkpoint left marked failed (a
            # break test, session 48)
            raise FileExistsError(f"output {str(output)!r} was written by another run while "
                                  "this one started; nothing was computed (pass overwrite=True, "
                                  "--overwrite, to replace it)")
        remove_stale_temporaries(output, (".tmp", ".probe"))
    except BaseException:
        if not any(checkpoint.tasks.glob("*.npz")):
            checkpoint.remove()
        else:
            checkpoint.close()
        raise
    return checkpoint, created


def _save(ds: xr.Dataset, output: Path, overwrite: bool, checkpoint: Checkpoint) -> None:
    """Write the results file; a full disk becomes :class:`manybody.runs.lifecycle.OutOfSpace`
    (checkpoint kept)."""
    try:
        save_results(ds, output, overwrite=overwrite)
    except OSError as exc:
        if is_out_of_space(exc):
            raise out_of_space(output, checkpoint.directory, reason=room_reason(exc)) from None
        raise
