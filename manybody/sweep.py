"""Parallel parameter sweeps with disorder averaging, checkpoints and resumable results.

Every (sweep point, realisation) pair is one independent task that calls
:func:`manybody.pipeline.observe` with ``SeedSequence(seed, spawn_key=(r,))``. Tasks run through
joblib (loky processes by default, or dask.distributed); each finished task is checkpointed
atomically in ``<output>.checkpoint/`` so that a crash, Ctrl-C or ``kill -9`` loses nothing, and
rerunning the same command skips finished tasks. The final file is written atomically and the
checkpoint removed.

Reproducibility: the numbers depend only on the spec and on ``blas_threads`` (multithreaded BLAS
may sum in a different order), never on the number of workers, the backend or the order of
execution. The default ``blas_threads=1`` keeps results bit-identical across ``n_jobs``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _validate as v
from . import pipeline
from .diagonalise import SolverParams
from .models import ModelParams
from .pipeline import Probe
from .results import build_dataset, check_writable, provenance, save_results
from .spec import RunSpec

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

log = logging.getLogger(__name__)

BACKENDS = ("loky", "dask")
#: Checkpoint layout version (stored in its meta file).
CHECKPOINT_VERSION = 1
Progress = Callable[[int, int], None]
TaskKey = tuple[int, int]  # (flat sweep-point index, realisation)


def available_cores() -> int:
    """CPU cores this process may use (scheduler affinity, else os.cpu_count())."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def checkpoint_dir(output: str | Path) -> Path:
    """Directory holding the checkpoint of a run writing ``output``: ``<output>.checkpoint``."""
    output = Path(output)
    return output.with_name(output.name + ".checkpoint")


# -- worker side ------------------------------------------------------------------------------
_CONTROLLER: Any = None


def _blas_controller() -> Any:
    """A per-process threadpoolctl controller, made after the numerical libraries are loaded."""
    global _CONTROLLER
    if _CONTROLLER is None:
        import scipy.linalg  # noqa: F401  (loads scipy's BLAS)
        from threadpoolctl import ThreadpoolController

        with contextlib.suppress(ImportError):
            import quspin.operators  # noqa: F401  (loads its OpenMP runtime)
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


def run_task(params: ModelParams, probe: Probe, solver: SolverParams, seed: int, point: int,
             realisation: int, blas_threads: int) -> tuple[int, int, dict[str, np.ndarray]]:
    """One task: observables of realisation ``realisation`` at sweep point ``point``.

    The process's BLAS and OpenMP pools are set to ``blas_threads`` threads and left so (no
    restore at the end, which would race with another task running in a second thread of the
    same worker); an in-process run restores the caller's limits once, around the whole sweep.

    Returns
    -------
    tuple
        (point, realisation, {observable: array}).
    """
    _blas_controller().limit(limits=blas_threads)
    out = pipeline.observe(params, seed, realisation, probe, solver)
    return point, realisation, out


# -- checkpoint -------------------------------------------------------------------------------
class Checkpoint:
    """Finished tasks of one run, one ``.npz`` per task, plus the spec they belong to.

    Parameters
    ----------
    directory : Path
        ``<output>.checkpoint``.
    spec : RunSpec
        The run; a checkpoint written by a different spec is refused.
    blas_threads : int
        BLAS threads per task (part of what fixes the numbers, so it must match too).
    """

    META = "meta.json"

    def __init__(self, directory: Path, spec: RunSpec, blas_threads: int) -> None:
        self.directory = Path(directory)
        self.tasks = self.directory / "tasks"
        self.spec = spec
        self.blas_threads = blas_threads
        self._lock: Any = None

    def _meta(self) -> dict[str, Any]:
        return {"version": CHECKPOINT_VERSION, "spec_sha256": self.spec.digest(),
                "blas_threads": self.blas_threads, "code": _code_version(),
                "spec": self.spec.to_dict()}

    def exists(self) -> bool:
        return (self.directory / self.META).is_file()

    def open(self) -> None:
        """Create or validate the checkpoint and lock it against a concurrent run."""
        self.tasks.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.directory / "lock", "w")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise FileExistsError(
                f"another run is using the checkpoint {str(self.directory)!r}; wait for it to "
                "finish or stop it"
            ) from None
        meta_path = self.directory / self.META
        if meta_path.is_file():
            self._check(json.loads(meta_path.read_text()))
        else:
            _atomic_write_text(meta_path, json.dumps(self._meta(), indent=1))
        for stale in self.tasks.glob("*.tmp*"):  # partial writes of a killed run
            stale.unlink(missing_ok=True)

    def _check(self, meta: dict[str, Any]) -> None:
        if meta.get("spec_sha256") == self.spec.digest() \
                and meta.get("blas_threads") == self.blas_threads:
            if meta.get("code") != _code_version():
                warnings.warn(
                    f"checkpoint {str(self.directory)!r} was written by manybody "
                    f"{meta.get('code')} and is resumed by {_code_version()}; if the numerics "
                    "changed in between, old and new tasks may differ in the last bits",
                    RuntimeWarning, stacklevel=3)
            return
        old = meta.get("spec", {})
        new = self.spec.to_dict()
        changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        if meta.get("blas_threads") != self.blas_threads:
            changed.append(f"blas_threads ({meta.get('blas_threads')} -> {self.blas_threads})")
        self.close()
        raise ValueError(
            f"the run specification changed since checkpoint {str(self.directory)!r} was written "
            f"(changed: {', '.join(changed) or 'unknown'}); finished tasks would be mixed with new "
            "ones. Rerun with the original spec, or delete the checkpoint directory to start over"
        )

    def _path(self, point: int, realisation: int) -> Path:
        return self.tasks / f"p{point:06d}_r{realisation:06d}.npz"

    def load(self, keys: list[TaskKey]) -> dict[TaskKey, dict[str, np.ndarray]]:
        """Results of the finished tasks among ``keys`` (unreadable files are recomputed)."""
        done: dict[TaskKey, dict[str, np.ndarray]] = {}
        wanted = set(self.spec.probe.observables)
        for key in keys:
            path = self._path(*key)
            if not path.is_file():
                continue
            try:
                with np.load(path, allow_pickle=False) as data:
                    result = {name: data[name] for name in data.files}
            except (OSError, ValueError, EOFError) as exc:
                log.warning("ignoring unreadable checkpoint file %s (%s)", path, exc)
                continue
            if set(result) == wanted:
                done[key] = result
        return done

    def write(self, point: int, realisation: int, result: dict[str, np.ndarray]) -> None:
        """Store one finished task atomically."""
        path = self._path(point, realisation)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=self.tasks)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **result)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def remove(self) -> None:
        """Delete the checkpoint (after the final file is safely written)."""
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _code_version() -> str:
    """manybody version and git commit (with "+dirty"), as a checkpoint records them."""
    from .results import _version, git_state

    commit, dirty = git_state()
    return f"{_version('manybody')} ({commit}{'+dirty' if dirty == 'true' else ''})"


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


# -- execution --------------------------------------------------------------------------------
def _task_arguments(spec: RunSpec, pending: list[TaskKey], blas_threads: int) -> Iterator[tuple]:
    points = {p: (model, probe) for p, (_, model, probe) in enumerate(spec.points())}
    for point, r in pending:
        model, probe = points[point]
        yield model, probe, spec.solver, spec.seed, point, r, blas_threads


@contextlib.contextmanager
def _dask_client(scheduler: str | None, n_workers: int) -> Iterator[Any]:
    """A dask.distributed Client: connected to ``scheduler``, or on a new LocalCluster."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("the dask backend needs dask.distributed: pip install "
                          "'manybody[dask]'") from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise ValueError(f"cannot connect to dask scheduler {scheduler!r}: {exc}") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=logging.WARNING) as cluster, \
            Client(cluster) as client:
        yield client


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    """Keep dask.distributed's INFO chatter out of the output unless we log at INFO ourselves."""
    with contextlib.suppress(ImportError):
        import distributed  # noqa: F401  (creates its loggers, with their own levels)
    names = [n for n in logging.root.manager.loggerDict
             if n == "distributed" or n.startswith("distributed.")]
    loggers = [logging.getLogger(n) for n in names]
    old = [lg.level for lg in loggers]
    if not log.isEnabledFor(logging.INFO):
        for lg in loggers:
            lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, old, strict=True):
            lg.setLevel(level)


def _execute(spec: RunSpec, pending: list[TaskKey], n_jobs: int, backend: str,
             scheduler: str | None, blas_threads: int) -> Iterator[tuple[int, int, dict]]:
    """Yield (point, realisation, result) for every pending task as it finishes."""
    from joblib import Parallel, delayed, parallel_config

    if not pending:  # everything came from the checkpoint: start no workers
        return
    tasks = (delayed(run_task)(*args) for args in _task_arguments(spec, pending, blas_threads))
    if backend == "dask":
        with _quiet_dask(), _dask_client(scheduler, n_jobs) as client, \
                parallel_config(backend="dask"):
            log.info("dask cluster: %s", client)
            yield from Parallel(n_jobs=-1, return_as="generator_unordered")(tasks)
        return
    if n_jobs == 1:  # in-process: cap the parent's pools only for the duration of the run
        with _blas_controller().limit(limits=blas_threads):
            yield from Parallel(n_jobs=1, return_as="generator_unordered")(tasks)
        return
    with parallel_config(backend="loky", inner_max_num_threads=blas_threads):
        yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks)


def _make_progress(progress: bool | Progress, total: int, initial: int) -> tuple[Progress, Any]:
    if callable(progress):
        return progress, None
    if not progress:
        return (lambda done, total: None), None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=initial, unit="task", desc="sweep", dynamic_ncols=True)
    return (lambda done, total: bar.update(1)), bar


def _check_arguments(n_jobs: int, backend: str, scheduler: str | None, blas_threads: int) -> None:
    v.choice("backend", backend, BACKENDS)
    cores = available_cores()
    v.integer("n_jobs", n_jobs, 1, 4096)
    v.integer("blas_threads", blas_threads, 1, 4096)
    if scheduler is not None and backend != "dask":
        raise ValueError(f"scheduler={scheduler!r} needs backend 'dask', got backend {backend!r}")
    local = backend == "loky" or scheduler is None  # workers on this machine
    if local and n_jobs * blas_threads > cores:
        raise ValueError(
            f"n_jobs x blas_threads = {n_jobs} x {blas_threads} exceeds the {cores} cores "
            "available; processes and threads would fight for them"
        )


def _stack(spec: RunSpec, results: dict[TaskKey, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Observable -> array (*sweep shape, realisations, *observable shape)."""
    out: dict[str, np.ndarray] = {}
    first = next(iter(results.values()), {})
    errors = [f"{n}_error" for n in spec.probe.observables if f"{n}_error" in first]
    for name in (*spec.probe.observables, *errors):
        flat = [results[(p, r)][name] for p in range(spec.n_points)
                for r in range(spec.realisations)]
        stacked = np.stack(flat)
        out[name] = stacked.reshape(*spec.shape, spec.realisations, *stacked.shape[1:])
    return out


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
) -> xr.Dataset:
    """Run every (sweep point, realisation) task of ``spec`` and return labelled results.

    Parameters
    ----------
    spec : RunSpec
        What to compute.
    output : str or Path, optional
        Results file (netCDF4). With an output, finished tasks are checkpointed in
        ``<output>.checkpoint/`` and reused on a rerun; the file is written atomically at the end.
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
        Replace an existing output file.
    progress : bool or callable
        Show a tqdm bar on stderr, or call ``progress(done, total)`` after each task.
    blas_threads : int
        BLAS/OpenMP threads per task (default 1). n_jobs x blas_threads must not exceed the cores
        (loky). Results are bit-identical for any n_jobs and backend at fixed blas_threads.

    Returns
    -------
    xarray.Dataset
        Observables with dims (*sweep axes, realisation, *observable dims) and provenance attrs.

    Raises
    ------
    FileExistsError
        ``output`` exists and ``overwrite`` is False.
    FileNotFoundError, PermissionError
        The output directory is missing or not writable (checked before any computation).
    ValueError
        Bad arguments, or a checkpoint written by a different spec.
    """
    if not isinstance(spec, RunSpec):
        raise TypeError(f"spec must be a RunSpec, got {type(spec).__name__}")
    if n_jobs == -1:  # joblib idiom: every core (each task using blas_threads of them)
        n_jobs = max(1, available_cores() // max(1, int(blas_threads)))
    _check_arguments(n_jobs, backend, scheduler, blas_threads)
    start = time.perf_counter()
    keys = [(p, r) for p in range(spec.n_points) for r in range(spec.realisations)]
    checkpoint = None
    results: dict[TaskKey, dict[str, np.ndarray]] = {}
    if output is not None:
        output = check_writable(output, overwrite)
        checkpoint = Checkpoint(checkpoint_dir(output), spec, blas_threads)
        if resume and not checkpoint.exists():
            raise FileNotFoundError(
                f"nothing to resume: no checkpoint {str(checkpoint.directory)!r}; run without "
                "resume to start"
            )
        checkpoint.open()
        results = checkpoint.load(keys)
    elif resume:
        raise ValueError("resume needs an output location (the checkpoint lives next to it)")
    resumed = len(results)
    pending = [k for k in keys if k not in results]
    log.info("sweep %r: %d tasks, %d from checkpoint, %d to compute", spec.name, len(keys),
             resumed, len(pending))
    report, bar = _make_progress(progress, len(keys), resumed)
    try:
        for point, r, result in _execute(spec, pending, n_jobs, backend, scheduler, blas_threads):
            if checkpoint is not None:
                checkpoint.write(point, r, result)
            results[(point, r)] = result
            report(len(results), len(keys))
    finally:
        if bar is not None:
            bar.close()
        if checkpoint is not None:
            checkpoint.close()
    attrs = provenance(spec, n_jobs=n_jobs, backend=backend, blas_threads=blas_threads,
                       wall_time=time.perf_counter() - start, tasks_resumed=resumed,
                       scheduler=scheduler)
    ds = build_dataset(spec, _stack(spec, results), attrs)
    if output is not None:
        save_results(ds, output, overwrite=overwrite)
        checkpoint.remove()
    log.info("sweep %r done: computed %d tasks, reused %d, %.1f s", spec.name, len(pending),
             resumed, attrs["wall_time_s"])
    return ds
