"""Parallel parameter sweeps with disorder averaging, checkpoints and resumable results.

Every (sweep point, realisation) pair is independent: :func:`manybody.simulation.observe.observe` with
``SeedSequence(seed, spawn_key=(r,))``. A task is a chunk of consecutive realisations of one sweep
point, sized so that small systems (a few ms each) do not drown in dispatch and checkpoint
overhead while large ones stay one realisation per task. Tasks run through joblib (loky processes
by default, or dask.distributed); each finished chunk is checkpointed atomically in
``<output>.checkpoint/`` so that a crash, Ctrl-C or ``kill -9`` loses nothing that had finished,
and rerunning the same command skips finished realisations (whatever chunking wrote them). The
final file is written atomically and the checkpoint removed. Local worker processes exit within
a second when the run's process dies (:func:`start_watchdog`); a worker killed by the system and
a full disk end the run with a one-line :class:`RunAborted` error, the checkpoint kept.

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
import re
import shutil
import tempfile
import threading
import time
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from manybody import _validate as v
from manybody.config.model import ModelParams
from manybody.config.probe import Probe
from manybody.config.solver import SolverParams
from manybody.results import (
    build_dataset,
    check_writable,
    give_usual_mode,
    is_out_of_space,
    make_parents,
    provenance,
    remove_stale_temporaries,
    save_results,
)
from manybody.simulation import observe as pipeline
from manybody.spec import RunSpec

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

log = logging.getLogger(__name__)

BACKENDS = ("loky", "dask")
#: Largest chunk_size accepted (realisations per task).
MAX_CHUNK = 100_000
#: Automatic chunks leave every worker at least this many tasks (load balance on short runs).
CHUNKS_PER_WORKER = 4
#: Checkpoint layout version (stored in its meta file).
CHECKPOINT_VERSION = 2
Progress = Callable[[int, int], None]
TaskKey = tuple[int, int]  # (flat sweep-point index, realisation)
Chunk = tuple[int, int, int]  # (flat sweep-point index, first realisation, stop)
#: Checkpoint file of a chunk: p<point>_r<start>-<stop>.npz (a single "_r<r>" is one realisation,
#: the layout of version 1).
_CHUNK_FILE = re.compile(r"p(\d+)_r(\d+)(?:-(\d+))?\.npz")
#: Automatic chunks aim at about this many dense-ED states x realisations (N = 8: 32 per chunk).
_CHUNK_STATES = 2**13


class RunAborted(RuntimeError):
    """A run stopped by its environment, not by bad input (a worker killed by the system, a
    full disk): finished work is in the checkpoint and rerunning the same command resumes. The
    message is one line for the user."""


class WorkerDied(RunAborted):
    """A worker process died in a task (killed by the system, e.g. out of memory)."""


class OutOfSpace(RunAborted):
    """No space left on the device (or quota exceeded) while writing results or a checkpoint."""


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


def _running_marker(directory: str | None, point: int, start: int, stop: int) -> Path | None:
    """Record in the checkpoint which task this worker process runs (``.running-<pid>``), so that
    the run can name it if the system kills the worker."""
    if directory is None or not os.path.isdir(directory):
        return None
    marker = Path(directory) / f".running-{os.getpid()}"
    with contextlib.suppress(OSError):
        marker.write_text(f"{point} {start} {stop}\n")
        return marker
    return None


def run_task(params: ModelParams, probe: Probe, solver: SolverParams, seed: int, point: int,
             start: int, stop: int, blas_threads: int, parent: int | None = None,
             markers: str | None = None) -> tuple[int, int, dict[str, np.ndarray]]:
    """One task: observables of realisations ``start .. stop - 1`` at sweep point ``point``.

    The process's BLAS and OpenMP pools are set to ``blas_threads`` threads and left so (no
    restore at the end, which would race with another task running in a second thread of the
    same worker); an in-process run restores the caller's limits once, around the whole sweep.

    Parameters
    ----------
    parent : int, optional
        Pid of the run's process; a worker process exits when it dies (:func:`start_watchdog`).
    markers : str, optional
        Directory where the task is recorded while it runs (see :func:`_running_marker`).

    Returns
    -------
    tuple
        (point, start, {observable: array stacked over the chunk's realisations}).
    """
    if parent is not None:
        start_watchdog(parent)
    marker = None if parent in (None, os.getpid()) else _running_marker(markers, point, start,
                                                                         stop)
    try:
        _blas_controller().limit(limits=blas_threads)
        results = [pipeline.observe(params, seed, r, probe, solver) for r in range(start, stop)]
    finally:
        if marker is not None:
            marker.unlink(missing_ok=True)
    return point, start, {name: np.stack([res[name] for res in results]) for name in results[0]}


def auto_chunk_size(params: ModelParams, solver: SolverParams) -> int:
    """Realisations per task: about 2^13 / D for dense ED (N = 8: 32; N >= 13: 1), 1 otherwise."""
    if solver.method == "chebyshev" or params.n_tls > 13:
        return 1
    return max(1, _CHUNK_STATES >> params.n_tls)


def plan_chunks(pending: list[TaskKey], sizes: dict[int, int]) -> list[Chunk]:
    """Split pending (point, realisation) pairs into runs of consecutive realisations.

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
    return chunks


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
            self._check(self._read_meta(meta_path))
        else:
            try:
                _atomic_write_text(meta_path, json.dumps(self._meta(), indent=1))
            except BaseException:
                self.close()
                raise
        # partial writes and task records of a killed run (our own names only)
        for pattern in ("*.npz.*.tmp", ".running-*"):
            for stale in self.tasks.glob(pattern):
                stale.unlink(missing_ok=True)
        for stale in self.directory.glob(f"{self.META}.*.tmp"):
            stale.unlink(missing_ok=True)

    def _read_meta(self, meta_path: Path) -> dict[str, Any]:
        """The checkpoint's meta file, or a one-line error naming it and what to do."""
        try:
            meta = json.loads(meta_path.read_text())
            if not isinstance(meta, dict):
                raise ValueError(f"expected a JSON object, got {type(meta).__name__}")
            if not isinstance(meta.get("spec"), dict) or "spec_sha256" not in meta:
                raise ValueError("no 'spec' or 'spec_sha256' entry")
        except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError too
            self.close()
            raise ValueError(
                f"checkpoint file {str(meta_path)!r} is damaged ({exc}); the finished tasks "
                "cannot be matched to the spec. Delete the checkpoint directory "
                f"{str(self.directory)!r} to start over"
            ) from None
        return meta

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
        changed = [f"{key} ({_show(a)} -> {_show(b)})"
                   for key, a, b in spec_differences(meta.get("spec", {}), self.spec.to_dict())]
        if len(changed) > 6:
            changed[5:] = [f"and {len(changed) - 5} more"]
        if meta.get("blas_threads") != self.blas_threads:
            changed.append(f"blas_threads ({meta.get('blas_threads')} -> {self.blas_threads})")
        self.close()
        raise ValueError(
            f"the run specification changed since checkpoint {str(self.directory)!r} was written "
            f"(changed: {', '.join(changed) or 'unknown'}); finished tasks would be mixed with new "
            "ones. Rerun with the original spec, or delete the checkpoint directory to start over"
        )

    def _path(self, point: int, start: int, stop: int) -> Path:
        return self.tasks / f"p{point:06d}_r{start:06d}-{stop:06d}.npz"

    def files(self) -> dict[Path, Chunk]:
        """Checkpoint files and the (point, start, stop) each holds."""
        out = {}
        for path in self.tasks.glob("*.npz"):
            match = _CHUNK_FILE.fullmatch(path.name)
            if match:
                point, start, stop = match.groups()
                out[path] = (int(point), int(start), int(stop) if stop else int(start) + 1)
        return out

    def load(self, keys: list[TaskKey]) -> dict[TaskKey, dict[str, np.ndarray]]:
        """Results of the finished realisations among ``keys`` (unreadable files are recomputed)."""
        done: dict[TaskKey, dict[str, np.ndarray]] = {}
        wanted_keys = set(keys)
        wanted = set(self.spec.probe.observables)
        for path, (point, start, stop) in sorted(self.files().items()):
            if not any((point, r) in wanted_keys for r in range(start, stop)):
                continue
            single = _CHUNK_FILE.fullmatch(path.name).group(3) is None  # version-1 layout
            try:
                with np.load(path, allow_pickle=False) as data:
                    result = {name: data[name] for name in data.files}
                if not single and any(len(a) != stop - start for a in result.values()):
                    raise ValueError(f"holds {len(next(iter(result.values())))} realisations, "
                                     f"its name says {stop - start}")
            except (OSError, ValueError, EOFError, KeyError, IndexError, TypeError,
                    zipfile.BadZipFile, zlib.error, StopIteration) as exc:
                log.warning("checkpoint file %s is damaged (%s: %s); its realisations are "
                            "recomputed", path, type(exc).__name__, exc)
                continue
            if not wanted <= set(result):
                continue
            for i, r in enumerate(range(start, stop)):
                if (point, r) in wanted_keys:
                    done[(point, r)] = {name: arr if single else arr[i] for name, arr in result.items()}
        return done

    def write(self, point: int, start: int, result: dict[str, np.ndarray]) -> None:
        """Store one finished chunk (arrays stacked over its realisations) atomically."""
        stop = start + len(next(iter(result.values())))
        path = self._path(point, start, stop)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=self.tasks)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **result)
            give_usual_mode(tmp)
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
    from manybody.results import _version, git_state

    commit, dirty = git_state()
    return f"{_version('manybody')} ({commit}{'+dirty' if dirty == 'true' else ''})"


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        give_usual_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def spec_differences(old: Any, new: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted key, old value, new value) of every leaf where two spec dicts differ, e.g.
    ``("model.coupling.strength", 0.0, 0.1)``; a key missing on one side has the value
    ``_ABSENT``. Lists are leaves (``probe.temperatures`` holds the resolved temperatures).
    """
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            dotted = f"{prefix}.{key}" if prefix else str(key)
            out += spec_differences(old.get(key, _ABSENT), new.get(key, _ABSENT), dotted)
        return out
    return [] if old == new else [(prefix or "spec", old, new)]


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


_ABSENT = _Absent()


def _show(value: Any, limit: int = 60) -> str:
    """A spec value for a one-line message: numbers to 6 digits, long lists as
    ``[first, ..., last] (n values)``."""
    if value is _ABSENT:
        return "<absent>"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list | tuple):
        if len(value) > 3:
            return f"[{_show(value[0])}, ..., {_show(value[-1])}] ({len(value)} values)"
        return "[" + ", ".join(_show(x) for x in value) + "]"
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit - 3] + "..."


# -- execution --------------------------------------------------------------------------------
def _task_arguments(spec: RunSpec, chunks: list[Chunk], blas_threads: int,
                    markers: str | None = None, watch: bool = False) -> Iterator[tuple]:
    points = {p: (model, probe) for p, (_, model, probe) in enumerate(spec.points())}
    parent = os.getpid() if watch else None
    for point, start, stop in chunks:
        model, probe = points[point]
        yield (model, probe, spec.solver, spec.seed, point, start, stop, blas_threads, parent,
               markers)


def _dead_tasks(markers: str | None) -> list[Chunk]:
    """Tasks recorded by worker processes that no longer exist (see :func:`_running_marker`)."""
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


def _task_name(spec: RunSpec, chunk: Chunk) -> str:
    """'sweep point 3 (model.coupling.strength=0.02), realisations 6-8'."""
    point, start, stop = chunk
    values = ""
    if spec.sweep:
        index = np.unravel_index(point, spec.shape)
        values = " (" + ", ".join(f"{key}={_show(list(spec.sweep[key])[i])}"
                                  for key, i in zip(spec.sweep, index, strict=True)) + ")"
    reals = f"realisation {start}" if stop == start + 1 else f"realisations {start}-{stop - 1}"
    return f"sweep point {point}{values}, {reals}"


def _worker_died(spec: RunSpec, markers: str | None, where: str | None,
                 reason: str = "") -> WorkerDied:
    """The one-line error for a worker killed by the system, naming its task when recorded
    (``reason``: loky's message, which holds the exit codes of the dead workers)."""
    codes = re.search(r"exit codes of the workers are \{(.*?)\}", reason)
    if codes and "SIGKILL" not in codes.group(1):
        how = f"it crashed, exit {codes.group(1)}"
    else:
        how = (f"exit {codes.group(1)}; " if codes else "") + \
            "killed by the system, most often for lack of memory: try fewer --jobs"
    dead = _dead_tasks(markers)
    if len(dead) == 1:
        task = f"while computing {_task_name(spec, dead[0])}"
    elif dead:
        task = "while computing one of: " + "; ".join(_task_name(spec, c) for c in dead)
    else:
        task = "in a task"
    kept = (f"finished work is checkpointed in {where!r}; rerun the same command to resume"
            if where else "finished work is lost (no output, hence no checkpoint)")
    return WorkerDied(f"a worker process died {task} ({how}); {kept}")


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


def _chunks(spec: RunSpec, pending: list[TaskKey], chunk_size: int | None,
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


def _execute(spec: RunSpec, pending: list[TaskKey], chunk_size: int | None, n_jobs: int,
             backend: str, scheduler: str | None, blas_threads: int,
             markers: str | None = None) -> Iterator[tuple[int, int, dict]]:
    """Yield (point, start, stacked results) for every chunk as it finishes.

    Local worker processes (loky) exit when this process dies (:func:`start_watchdog`) and
    record their task in ``markers`` (the checkpoint's task directory) while computing it.
    """
    from joblib import Parallel, delayed, parallel_config

    if not pending:  # everything came from the checkpoint: start no workers
        return
    local = backend == "loky" and n_jobs > 1  # dask workers belong to their cluster

    def tasks(workers: int):
        chunks = _chunks(spec, pending, chunk_size, workers)
        return (delayed(run_task)(*args) for args in _task_arguments(
            spec, chunks, blas_threads, markers if local else None, watch=local))

    if backend == "dask":
        with _quiet_dask(), _dask_client(scheduler, n_jobs) as client, \
                parallel_config(backend="dask"):
            log.info("dask cluster: %s", client)
            workers = sum(client.nthreads().values()) or n_jobs  # task slots of the cluster
            yield from Parallel(n_jobs=-1, return_as="generator_unordered")(tasks(workers))
        return
    if n_jobs == 1:  # in-process: cap the parent's pools only for the duration of the run
        with _blas_controller().limit(limits=blas_threads):
            yield from Parallel(n_jobs=1, return_as="generator_unordered")(tasks(1))
        return
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    # the watchdog starts with each worker process (an idle one too), and again with each task
    with parallel_config(backend="loky", inner_max_num_threads=blas_threads,
                         initializer=start_watchdog, initargs=(os.getpid(),)), \
            warnings.catch_warnings():
        # on Ctrl-C, SIGTERM or an error joblib cancels the running tasks and says so in a
        # multi-line warning; the CLI already says "interrupted; finished work is kept"
        warnings.filterwarnings("ignore", message=r".*tasks which were still being processed",
                                category=UserWarning)
        try:
            yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks(n_jobs))
        except TerminatedWorkerError as exc:
            raise _worker_died(spec, markers, str(Path(markers).parent) if markers else None,
                               str(exc)) from None


def _make_progress(progress: bool | Progress, total: int, initial: int,
                   name: str = "sweep") -> tuple[Progress, Any]:
    if callable(progress):
        return progress, None
    if not progress:
        return (lambda done, total: None), None
    from tqdm.auto import tqdm

    # delay=0: drawn at once (0/total), before the first task finishes
    bar = tqdm(total=total, initial=initial, unit="realisation", desc=name, dynamic_ncols=True,
               delay=0)
    if getattr(bar.fp, "isatty", lambda: False)():
        _keep_ticking(bar)
    return (lambda done, total: bar.update(done - bar.n)), bar


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


def check_run_arguments(n_jobs: int, backend: str, scheduler: str | None,
                        blas_threads: int = 1) -> int:
    """Check the execution arguments of :func:`run_sweep` (cheap; before any work or file).

    Returns
    -------
    int
        ``n_jobs``, with the joblib idiom -1 (every core, each task using ``blas_threads``)
        resolved.

    Raises
    ------
    TypeError, ValueError
        A non-integer or out-of-range n_jobs or blas_threads, an unknown backend, a scheduler
        without the dask backend, or more local processes x threads than cores.
    """
    v.choice("backend", backend, BACKENDS)
    cores = available_cores()
    v.integer("blas_threads", blas_threads, 1, 4096)
    if not isinstance(n_jobs, bool) and isinstance(n_jobs, int) and n_jobs == -1:
        n_jobs = max(1, cores // blas_threads)
    v.integer("n_jobs", n_jobs, 1, 4096)
    if scheduler is not None and backend != "dask":
        raise ValueError(f"scheduler={scheduler!r} needs backend 'dask', got backend {backend!r}")
    local = backend == "loky" or scheduler is None  # workers on this machine
    if local and n_jobs * blas_threads > cores:
        raise ValueError(
            f"n_jobs x blas_threads = {n_jobs} x {blas_threads} exceeds the {cores} cores "
            "available; processes and threads would fight for them"
        )
    return n_jobs


def _stack(spec: RunSpec, results: dict[TaskKey, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Observable -> array (*sweep shape, max realisations, *observable shape), NaN-padded where a
    point has fewer realisations than the largest count."""
    out: dict[str, np.ndarray] = {}
    first = next(iter(results.values()), {})
    errors = [f"{n}_error" for n in spec.probe.observables if f"{n}_error" in first]
    counts = spec.realisation_counts.ravel()
    size = spec.max_realisations
    for name in (*spec.probe.observables, *errors):
        sample = np.asarray(first[name])
        arr = np.full((spec.n_points, size, *sample.shape), np.nan,
                      dtype=np.result_type(sample.dtype, np.float64))
        for p in range(spec.n_points):
            if counts[p]:
                arr[p, :counts[p]] = np.stack([results[(p, r)][name] for r in range(counts[p])])
        out[name] = arr.reshape(*spec.shape, size, *sample.shape)
    return out


def _out_of_space(writing: Path | str, kept: Path | None) -> OutOfSpace:
    """The one-line error for a full disk (or exceeded quota) while writing ``writing``."""
    where = (f"finished work is kept in the checkpoint {str(kept)!r}" if kept is not None
             else "finished work is lost (no output, hence no checkpoint)")
    return OutOfSpace(f"out of disk space writing {str(writing)!r}; {where}; free some space "
                      "and rerun the same command to resume")


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
        Show a tqdm bar on stderr, or call ``progress(done, total)`` (realisations finished and in
        all) after each task.
    blas_threads : int
        BLAS/OpenMP threads per task (default 1). n_jobs x blas_threads must not exceed the cores
        (loky). Results are bit-identical for any n_jobs and backend at fixed blas_threads.
    chunk_size : int, optional
        Realisations per task (and per checkpoint file); default :func:`auto_chunk_size` of each
        sweep point, reduced so that every worker gets at least ``CHUNKS_PER_WORKER`` tasks. It
        never changes the numbers.

    Returns
    -------
    xarray.Dataset
        Observables with dims (*sweep axes, realisation, *observable dims) and provenance attrs.

    Raises
    ------
    FileExistsError
        ``output`` exists and ``overwrite`` is False.
    PermissionError, NotADirectoryError
        The output directory is not writable or cannot be created (checked before any
        computation; missing parent directories are created).
    ValueError
        Bad arguments, a checkpoint written by a different spec, or a damaged checkpoint meta
        file. Damaged task files of the checkpoint are recomputed (with a logged warning).
    WorkerDied
        A worker process was killed by the system (e.g. out of memory); finished work stays in
        the checkpoint and a rerun resumes.
    OutOfSpace
        The disk filled up while writing the checkpoint or the results (no temporary file is
        left; the checkpoint is kept).
    """
    # -- preflight: every sweep point checked (observables vs N, solver, memory) before any
    # computation and before any file or checkpoint directory is touched (manybody.spec) --------
    from manybody.spec import preflight

    preflight(spec)
    # ---------------------------------------------------------------------------------------------
    if not isinstance(spec, RunSpec):
        raise TypeError(f"spec must be a RunSpec, got {type(spec).__name__}")
    n_jobs = check_run_arguments(n_jobs, backend, scheduler, blas_threads)
    if chunk_size is not None:
        v.integer("chunk_size", chunk_size, 1, MAX_CHUNK)
    start = time.perf_counter()
    counts = spec.realisation_counts.ravel()
    keys = [(p, r) for p in range(spec.n_points) for r in range(counts[p])]
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
        make_parents(output)
        try:
            checkpoint.open()
        except OSError as exc:
            if is_out_of_space(exc):
                raise _out_of_space(checkpoint.directory / Checkpoint.META,
                                    checkpoint.directory) from None
            raise
        try:  # the lock is held: nobody else writes this output now
            remove_stale_temporaries(output)
            results = checkpoint.load(keys)
        except BaseException:
            checkpoint.close()
            raise
    elif resume:
        raise ValueError("resume needs an output location (the checkpoint lives next to it)")
    resumed = len(results)
    pending = [k for k in keys if k not in results]
    log.info("sweep %r: %d realisations, %d from checkpoint", spec.name, len(keys), resumed)
    report, bar = _make_progress(progress, len(keys), resumed, spec.name)
    try:
        markers = str(checkpoint.tasks) if checkpoint is not None else None
        for point, first, result in _execute(spec, pending, chunk_size, n_jobs, backend, scheduler,
                                             blas_threads, markers):
            if checkpoint is not None:
                try:
                    checkpoint.write(point, first, result)
                except OSError as exc:
                    if is_out_of_space(exc):
                        raise _out_of_space(checkpoint.tasks, checkpoint.directory) from None
                    raise
            for i, arrays in enumerate(zip(*result.values(), strict=True)):
                results[(point, first + i)] = dict(zip(result, arrays, strict=True))
            report(len(results), len(keys))
        attrs = provenance(spec, n_jobs=n_jobs, backend=backend, blas_threads=blas_threads,
                           wall_time=time.perf_counter() - start, tasks_resumed=resumed,
                           scheduler=scheduler)
        ds = build_dataset(spec, _stack(spec, results), attrs)
        if output is not None:
            try:
                save_results(ds, output, overwrite=overwrite)
            except OSError as exc:
                if is_out_of_space(exc):
                    raise _out_of_space(output, checkpoint.directory) from None
                raise
    except BaseException:
        if checkpoint is not None:
            checkpoint.close()
        raise
    finally:
        if bar is not None:
            bar.close()
    if checkpoint is not None:
        checkpoint.remove()
    log.info("sweep %r done: computed %d realisations, reused %d, %.1f s", spec.name, len(pending),
             resumed, attrs["wall_time_s"])
    return ds
