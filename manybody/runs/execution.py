"""Executing the tasks of a sweep through joblib: in this process, on local loky worker
processes, or on a dask.distributed cluster; finished tasks are yielded as they come.

Reproducibility: the numbers depend only on the spec and on ``blas_threads`` (multithreaded BLAS
may sum in a different order), never on the number of workers, the backend or the order of
execution.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from manybody.runs.lifecycle import SchedulerLost, TaskKey, start_watchdog, worker_died
from manybody.runs.spec import RunSpec
from manybody.runs.tasks import chunks_for, run_task, task_arguments
from manybody.simulation.solvers.chebyshev.workspace import reusing_workspace
from manybody.support.threads import blas_threads as limit_blas_threads
from manybody.support.threads import compiled_threads

log = logging.getLogger(__name__)


#: -W option for processes loky starts: its resource tracker's "resource_tracker: ... leaked
#: semlock objects" warnings, printed when an interrupted run's workers are stopped (it cleans the
#: semaphores up itself), would follow the CLI's one-line "interrupted; finished work is kept".
RESOURCE_TRACKER_FILTER = "ignore:resource_tracker:UserWarning"


def start_worker(parent: int, formatwarning: Callable[..., str]) -> None:
    """In a worker process (loky's initializer): the watchdog of the run's process ``parent``
    (:func:`~manybody.runs.lifecycle.start_watchdog`), and warnings printed in the form of the
    run's process (:func:`format_warnings_as`)."""
    start_watchdog(parent)
    format_warnings_as(formatwarning)


def format_warnings_as(formatwarning: Callable[..., str]) -> None:
    """In a worker process: warnings printed with ``formatwarning``, the run's own (the command
    line's one line: a worker's warning was printed with the package's file, line number and
    echoed source line, two lines each, while the same run with ``--jobs 1`` printed one;
    session 25)."""
    warnings.formatwarning = formatwarning


def start_resource_tracker_without_hangup() -> None:
    """Start loky's resource tracker (if it is not running) with SIGHUP ignored: a closed
    terminal's SIGHUP to the process group killed it, and the one loky started in its place
    printed a KeyError traceback for each semaphore and memmapping folder the dead one had
    registered, after the run's one-line "interrupted (SIGHUP)" (session 33). It ignores
    SIGINT and SIGTERM itself, and ends when this process closes its pipe."""
    from joblib.externals.loky.backend import resource_tracker

    if (not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGHUP) is None):  # None: a handler set outside Python
        resource_tracker.ensure_running()
        return
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # inherited through exec
    try:
        resource_tracker.ensure_running()
    finally:
        signal.signal(signal.SIGHUP, previous)


def release_workers() -> None:
    """Shut down loky's reusable pool of worker processes, if one is running, and wait for it:
    a pool started with other arguments (the sweep's initializer) is otherwise replaced inside
    the next :func:`terminal_signals_blocked`, and its shutdown (0.2-1.5 s, measured) kept a
    Ctrl-C ignored that long (a tester, bt210: five in five lost as the study's fits started).
    Here a Ctrl-C is taken as ever."""
    from joblib.externals.loky import reusable_executor

    # the module's pool itself: get_reusable_executor() would start a new one, and with it
    # loky's resource tracker, outside the window (its process then heard the Ctrl-C)
    pool = getattr(reusable_executor, "_executor", None)
    if pool is not None:
        pool.shutdown(wait=True)


@contextlib.contextmanager
def terminal_signals_blocked() -> Iterator[None]:
    """While loky starts its workers: SIGHUP blocked in this thread (the workers inherit the
    mask through fork and exec) and SIGINT ignored (inherited too; a blocked SIGINT was
    unblocked in the workers, measured), so the workers never see the Ctrl-C or hang-up a
    terminal sends to the whole process group: a worker still importing joblib printed its
    KeyboardInterrupt traceback (session 33). This process still gets a hang-up (delivered when
    the block ends); a Ctrl-C within the 20-50 ms of the start itself is lost, and the run goes
    on to its end (a break test, session 46: 2 tries in 22 with the signal sent 0.5-1.4 s after
    the command). Blocking SIGINT in this thread as well did not keep it: the kernel hands a
    process-directed signal to any thread that does not block it, here one of BLAS's native
    threads, which then ignores it (measured: nothing pending after the start). Only the
    workers started here are covered (loky starts the pool at the first tasks, in this thread:
    checked)."""
    if (threading.current_thread() is not threading.main_thread()
            or not hasattr(signal, "pthread_sigmask") or not hasattr(signal, "SIGHUP")
            or signal.getsignal(signal.SIGINT) is None):
        yield
        return
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
    previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)


def leave_terminal_signals_to_the_run() -> None:
    """In a worker process of the run's own dask LocalCluster: ignore SIGINT and SIGHUP, which a
    terminal sends to the whole process group; the run's process handles them and closes the
    cluster. Each worker printed its own KeyboardInterrupt traceback (4 tracebacks, 65 lines
    after Ctrl-C; session 33)."""
    # the tasks the run's interruption cancels: each was a WARNING line before the run's own
    logging.getLogger("distributed.worker.state_machine").addFilter(_NotCancelled())
    if threading.current_thread() is not threading.main_thread():
        return
    for name in ("SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)


class _NotCancelled(logging.Filter):
    """Drops dask's "... ended with CancelledError" records (a cancelled task, as an
    interrupted run cancels them all)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "ended with CancelledError" not in record.getMessage()


#: joblib's warning when an interrupted run cancels the tasks its workers were computing.
CANCELLED_TASKS = r".*tasks which were still being processed"


def warn_without_psutil() -> None:
    """Warn when psutil (a dependency) is missing: loky then ends its workers with a ``pgrep``
    subprocess that Ctrl-C to the process group kills too, its manager thread dies, and the run
    printed ~45 lines of tracebacks and, 2 times in 8, hung for good (a new user without the
    test extra, session 34)."""
    import importlib.util

    if importlib.util.find_spec("psutil") is None:
        warnings.warn("psutil is not installed (a dependency of manybody): an interrupted "
                      "parallel run may hang; install it (pip install psutil)", UserWarning,
                      stacklevel=3)


def quiet_resource_tracker() -> None:
    """Pass :data:`RESOURCE_TRACKER_FILTER` to the processes loky starts from now on (they get
    the interpreter's -W options, ``sys.warnoptions``); other warnings are unaffected."""
    if RESOURCE_TRACKER_FILTER not in sys.warnoptions:
        sys.warnoptions.append(RESOURCE_TRACKER_FILTER)


@contextlib.contextmanager
def _dask_client(scheduler: str | None, n_workers: int) -> Iterator[Any]:
    """A dask.distributed Client: connected to ``scheduler``, or on a new LocalCluster."""
    try:  # heavy and optional: only for the dask backend
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("the dask backend needs dask.distributed: pip install "
                          "'manybody[dask]'") from None
    if scheduler:
        import dask

        before = {key: dask.config.get(key, None) for key in ("scheduler", "shuffle")}
        registered = _registered_clients()
        try:
            client = Client(scheduler, timeout="20s")
        except BaseException as exc:
            # a Client that fails to start has already made dask.distributed the process's
            # default scheduler: every later dask computation here (xarray too) then failed
            # with "no Client active" (seen as a test failing after another, session 32); and
            # it stays registered as the current client while its traceback lives, so xarray's
            # next write took a distributed lock from the unreachable scheduler (session 35)
            for key, value in before.items():
                if value is None:
                    dask.config.config.pop(key, None)
                else:
                    dask.config.set({key: value})
            _forget_clients_since(registered)
            if isinstance(exc, OSError):
                raise ValueError(f"cannot connect to dask scheduler {scheduler!r}: {exc}") from None
            raise
        with client:
            yield client
        return
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=logging.WARNING) as cluster, \
            Client(cluster) as client:
        # this run's own workers print warnings as the run does, and leave Ctrl-C and a
        # hang-up to the run's process, which stops them (a cluster's are left alone)
        client.run(format_warnings_as, warnings.formatwarning)
        client.run(leave_terminal_signals_to_the_run)
        yield client


def _registered_clients() -> set[int]:
    """The keys of dask.distributed's registry of current clients (private; empty if absent)."""
    try:
        from distributed import client as module

        return set(module._global_clients)
    except (ImportError, AttributeError):
        return set()


def _forget_clients_since(registered: set[int]) -> None:
    """Drop the clients registered after ``registered`` was taken (a Client that failed to
    connect), so that no later computation of this process picks it as its scheduler."""
    try:
        from distributed import client as module

        for key in set(module._global_clients) - registered:
            module._global_clients.pop(key, None)
    except (ImportError, AttributeError):
        pass


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    """Keep dask.distributed's INFO chatter out of the output unless we log at INFO ourselves."""
    with contextlib.suppress(ImportError):
        import distributed  # noqa: F401  (heavy, optional; creates its loggers, with their levels)
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


def execute(spec: RunSpec, pending: list[TaskKey], chunk_size: int | None, n_jobs: int,
            backend: str, scheduler: str | None, blas_threads: int,
            markers: str | None = None,
            cluster_slots: Callable[[int], None] | None = None
            ) -> Iterator[tuple[int, int, dict]]:
    """Yield (point, start, stacked results) for every chunk as it finishes.

    ``cluster_slots`` is called with the task slots (threads) of the dask cluster given by
    ``scheduler``, which computes the run in place of ``n_jobs`` local workers.

    Local worker processes (loky) exit when this process dies
    (:func:`~manybody.runs.lifecycle.start_watchdog`) and record their task in ``markers`` (the
    checkpoint's task directory) while computing it.
    """
    from joblib import Parallel, delayed, parallel_config  # heavy: only when a sweep runs

    if not pending:  # everything came from the checkpoint: start no workers
        return
    local = backend == "loky" and n_jobs > 1  # dask workers belong to their cluster

    def tasks(workers: int):
        chunks = chunks_for(spec, pending, chunk_size, workers)
        return (delayed(run_task)(*args) for args in task_arguments(
            spec, chunks, blas_threads, markers if local else None, watch=local))

    if backend == "dask":
        import asyncio  # the CancelledErrors of a lost scheduler
        import concurrent.futures

        with _quiet_dask(), _dask_client(scheduler, n_jobs) as client, \
                parallel_config(backend="dask"), warnings.catch_warnings():
            # joblib's multi-line warning of the tasks an interruption cancels, as with loky
            # below (it reached a dask run's Ctrl-C now and then; session 36)
            warnings.filterwarnings("ignore", message=CANCELLED_TASKS, category=UserWarning)
            log.info("dask cluster: %s", client)
            workers = sum(client.nthreads().values()) or n_jobs  # task slots of the cluster
            if scheduler is not None and cluster_slots is not None:
                cluster_slots(workers)  # what the run records as its jobs (session 39's note)
            try:
                yield from Parallel(n_jobs=-1, return_as="generator_unordered")(tasks(workers))
            except (OSError, asyncio.CancelledError, concurrent.futures.CancelledError) as exc:
                # the scheduler stopped mid-run: one to four tracebacks of distributed's
                # CommClosedError / FutureCancelledError (a tester, session 39); a task's own
                # error passes as it is
                if client.status == "running" and "connection" not in str(exc).lower():
                    raise
                for name in list(logging.root.manager.loggerDict):  # its reconnect loop's
                    if name.startswith("distributed"):  # ERROR tracebacks while the client closes
                        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
                which = repr(scheduler) if scheduler else "of the local cluster"
                raise SchedulerLost(f"lost the dask scheduler {which} during the run "
                                    f"({type(exc).__name__})") from None  # run_sweep adds
                # what is kept
        return
    if n_jobs == 1:  # in-process: cap the parent's pools (numba's too, as loky's workers are
        # capped) only for the duration of the run, and keep one Chebyshev workspace from task to
        # task, released when the run ends
        with limit_blas_threads(blas_threads, user_api=None), compiled_threads(blas_threads), \
                reusing_workspace():
            yield from Parallel(n_jobs=1, return_as="generator_unordered")(tasks(1))
        return
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    warn_without_psutil()
    quiet_resource_tracker()
    start_resource_tracker_without_hangup()
    # the watchdog starts with each worker process (an idle one too), and again with each task;
    # loky starts new workers when the initializer's arguments change (a run with another format)
    with parallel_config(backend="loky", inner_max_num_threads=blas_threads,
                         initializer=start_worker,
                         initargs=(os.getpid(), warnings.formatwarning)), \
            warnings.catch_warnings():
        # on Ctrl-C, SIGTERM or an error joblib cancels the running tasks and says so in a
        # multi-line warning; the CLI already says "interrupted; finished work is kept"
        warnings.filterwarnings("ignore", message=CANCELLED_TASKS, category=UserWarning)
        try:
            with terminal_signals_blocked():  # the workers start deaf to Ctrl-C and hang-up
                results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
                    tasks(n_jobs))
            yield from results
        except TerminatedWorkerError as exc:
            raise worker_died(spec, markers, str(Path(markers).parent) if markers else None,
                              str(exc)) from None
