"""The tasks of a sweep: what one task computes, how pending realisations are cut into tasks, and
how finished tasks are stacked into the arrays of the results file.

Every (sweep point, realisation) pair is independent: :func:`manybody.simulation.observe.observe` with
``SeedSequence(seed, spawn_key=(r,))``. A task is a chunk of consecutive realisations of one sweep
point, sized so that small systems (a few ms each) do not drown in dispatch and checkpoint
overhead while large ones stay one realisation per task.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator

import numpy as np

from manybody.config.model import ModelParams
from manybody.config.probe import Probe, WideKernelWarning
from manybody.config.solver import SolverParams
from manybody.config.unused import UnusedParameterWarning
from manybody.runs.lifecycle import (
    Chunk,
    TaskKey,
    computing,
    running_marker,
    start_watchdog,
    task_name,
)
from manybody.runs.spec import RunSpec
from manybody.runs.task_warnings import RecordedWarning, recording
from manybody.simulation import observe as pipeline
from manybody.simulation.observables.absorption import FarAboveSpectrumWarning
from manybody.simulation.solvers.chebyshev.workspace import reusing_workspace
from manybody.support.address_space import limit_hint
from manybody.support.heap import return_freed_memory
from manybody.support.threads import thread_controller

log = logging.getLogger(__name__)

#: Automatic chunks leave every worker at least this many tasks (load balance on short runs).
CHUNKS_PER_WORKER = 4
#: Automatic chunks aim at about this many dense-ED states x realisations (N = 8: 32 per chunk).
_CHUNK_STATES = 2**13


def run_task(params: ModelParams, probe: Probe, solver: SolverParams, seed: int, point: int,
             start: int, stop: int, blas_threads: int, parent: int | None = None,
             markers: str | None = None, where: str = ""
             ) -> tuple[int, int, dict[str, np.ndarray], list[RecordedWarning]]:
    """One task: observables of realisations ``start .. stop - 1`` at sweep point ``point``.

    The process's BLAS and OpenMP pools are set to ``blas_threads`` threads and left so (no
    restore at the end, which would race with another task running in a second thread of the
    same worker); an in-process run restores the caller's limits once, around the whole sweep.

    Parameters
    ----------
    parent : int, optional
        Pid of the run's process; a worker process exits when it dies
        (:func:`~manybody.runs.lifecycle.start_watchdog`).
    markers : str, optional
        Directory where the task is recorded while it runs
        (:func:`~manybody.runs.lifecycle.running_marker`).
    where : str
        The sweep point in words ("sweep point 3 (model.n_tls=14)"; empty without a sweep): a
        ValueError or MemoryError of a realisation (too few moments, memory) is raised again with
        it and the realisation in front, so the one-line error says which task failed; the same
        words are :data:`~manybody.runs.lifecycle.CURRENT_TASK` while the realisation runs (the
        command line's warnings carry them).

    Returns
    -------
    tuple
        (point, start, {observable: array stacked over the chunk's realisations}, the warnings
        its realisations raised, each naming its realisation: the run's process shows one of
        each kind, :class:`~manybody.runs.task_warnings.WarningDigest`).
    """
    if parent is not None:
        start_watchdog(parent)
    marker = None if parent in (None, os.getpid()) else running_marker(markers, point, start,
                                                                        stop)
    try:
        controller = thread_controller()
        if controller is not None:
            controller.limit(limits=blas_threads)  # for the worker's lifetime (see above)
        results = []
        raised: list[RecordedWarning] = []
        # a worker process keeps the Chebyshev workspace for its next task (its pages are
        # faulted in once, not once per realisation; a task of another solver releases it,
        # pipeline.observe; .chebyshev.workspace)
        with reusing_workspace(keep_after=_in_worker_process(parent)):
            for r in range(start, stop):
                prefix = f"{where}, realisation {r}" if where else f"realisation {r}"
                try:
                    with computing(prefix), recording(prefix, raised):
                        # the preflight said it once per sweep point
                        warnings.simplefilter("ignore", FarAboveSpectrumWarning)
                        warnings.simplefilter("ignore", WideKernelWarning)
                        warnings.simplefilter("ignore", UnusedParameterWarning)
                        results.append(pipeline.observe(params, seed, r, probe, solver))
                except MemoryError as exc:
                    # numpy's "Unable to allocate 1.00 GiB" (a subclass) named no sweep point
                    # nor the address-space limit that caused it (a break test, session 46)
                    raise MemoryError(f"{prefix}: {exc or 'out of memory'}{limit_hint()}") from exc
                except ValueError as exc:
                    # subclasses keep their form, but for LAPACK's failures (whose message names
                    # no parameter: session 25)
                    if type(exc) not in (ValueError, np.linalg.LinAlgError):
                        raise
                    raise type(exc)(f"{prefix}: {exc}") from exc
    finally:
        if marker is not None:
            marker.unlink(missing_ok=True)
    stacked = {name: np.stack([res[name] for res in results]) for name in results[0]}
    del results
    if _in_worker_process(parent):  # loky restarts a worker whose memory grew 300 MB (heap.py)
        return_freed_memory()
    return point, start, stacked, raised


def _in_worker_process(parent: int | None) -> bool:
    """Whether this task runs in a worker process of the sweep (loky, whose tasks carry the
    sweep's pid, or a dask worker), not in the sweep's own process."""
    if parent is not None and parent != os.getpid():
        return True
    distributed = sys.modules.get("distributed")  # imported in a dask worker, not otherwise
    if distributed is None:
        return False
    try:
        distributed.get_worker()
    except ValueError:  # not inside a dask worker
        return False
    return True


def auto_chunk_size(params: ModelParams, solver: SolverParams) -> int:
    """Realisations per task: about 2^13 / D for dense ED (N = 8: 32; N >= 13: 1), 1 otherwise."""
    if solver.method == "chebyshev" or params.n_tls > 13:
        return 1
    return max(1, _CHUNK_STATES >> params.n_tls)


def plan_chunks(pending: list[TaskKey], sizes: dict[int, int]) -> list[Chunk]:
    """Split pending (point, realisation) pairs into runs of consecutive realisations, in the
    order they are dispatched.

    Realisation 0 of every sweep point that still needs it is a task of its own, and these come
    first, in the order of the points: a refusal that depends on the point (a temperature below
    what the Chebyshev solver resolves at a strong coupling) then ends the run after one
    realisation per point, not after every earlier point was fully computed (session 37). The
    numbers do not depend on the order (each realisation has its own seeded generator).

    Parameters
    ----------
    pending : list of (point, realisation)
        What is left to compute, in any order.
    sizes : dict
        Point -> largest chunk (realisations per task).
    """
    chunks: list[Chunk] = []
    for point, r in sorted(pending):
        if chunks:
            p0, start, stop = chunks[-1]
            if p0 == point and stop == r and stop - start < sizes[point]:
                chunks[-1] = (point, start, r + 1)
                continue
        chunks.append((point, r, r + 1))
    # a chunk that begins with realisation 0 gives it up to a task of its own, dispatched
    # first; the other chunks keep their bounds (and their checkpoint files' names)
    first = [(point, 0, 1) for point, start, _ in chunks if start == 0]
    rest = [(point, 1 if start == 0 else start, stop) for point, start, stop in chunks
            if not (start == 0 and stop == 1)]
    return first + rest


def chunks_for(spec: RunSpec, pending: list[TaskKey], chunk_size: int | None,
               workers: int) -> list[Chunk]:
    """Tasks for ``pending``: ``chunk_size`` realisations each, or automatic chunks small enough
    to give every worker at least ``CHUNKS_PER_WORKER`` tasks (no idle worker on short runs)."""
    if chunk_size:
        sizes = dict.fromkeys(range(spec.n_points), chunk_size)
    else:
        cap = max(1, len(pending) // (CHUNKS_PER_WORKER * max(1, workers)))
        sizes = {p: min(cap, auto_chunk_size(model, spec.solver))
                 for p, (_, model, _) in enumerate(spec.points())}
    chunks = plan_chunks(pending, sizes)
    log.info("sweep %r: %d realisations to compute in %d tasks on %d worker(s)", spec.name,
             len(pending), len(chunks), workers)
    return chunks


def task_arguments(spec: RunSpec, chunks: list[Chunk], blas_threads: int,
                   markers: str | None = None, watch: bool = False) -> Iterator[tuple]:
    """The arguments of :func:`run_task` for each chunk."""
    points = {p: (model, probe) for p, (_, model, probe) in enumerate(spec.points())}
    parent = os.getpid() if watch else None
    for point, start, stop in chunks:
        model, probe = points[point]
        where = task_name(spec, (point, start, start + 1)).rsplit(", realisation", 1)[0] \
            if spec.sweep else ""
        yield (model, probe, spec.solver, spec.seed, point, start, stop, blas_threads, parent,
               markers, where)


def stack_results(spec: RunSpec, results: dict[TaskKey, dict[str, np.ndarray]], *,
                  release: bool = False) -> dict[str, np.ndarray]:
    """Observable -> array (*sweep shape, max realisations, *observable shape), NaN-padded where a
    point has fewer realisations than the largest count.

    Each realisation is copied into its place (no per-point stack, which held a second copy of a
    point's arrays). With ``release`` every realisation's dict in ``results`` is emptied once it
    is copied (its keys stay), so that the run's results are not held twice while the file is
    written: the end of a run held 4.6 times the results' size (a break test, session 49).
    """
    out: dict[str, np.ndarray] = {}
    first = next(iter(results.values()), {})
    errors = [f"{n}_error" for n in spec.probe.observables if f"{n}_error" in first]
    counts = spec.realisation_counts.ravel()
    size = spec.max_realisations
    names = (*spec.probe.observables, *errors)
    for name in names:
        sample = np.asarray(first[name])
        out[name] = np.full((spec.n_points, size, *sample.shape), np.nan,
                            dtype=np.result_type(sample.dtype, np.float64))
    for p in range(spec.n_points):
        for r in range(counts[p]):
            realisation = results[(p, r)]
            for name in names:
                out[name][p, r] = realisation[name]
            if release:
                realisation.clear()
    return {name: arr.reshape(*spec.shape, size, *arr.shape[2:]) for name, arr in out.items()}
