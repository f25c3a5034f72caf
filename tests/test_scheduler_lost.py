"""A dask scheduler lost mid-run (its process stopped) gave one to four tracebacks of
distributed's FutureCancelledError / CommClosedError (a tester, session 39): now one line,
SchedulerLost, saying what the run keeps (measured by hand with `dask scheduler` killed after 6
and 25 s: 193 and 1980 realisations kept and resumable, no traceback)."""

from __future__ import annotations

import contextlib
import types

import pytest

pytest.importorskip("distributed")

from distributed.client import FutureCancelledError  # noqa: E402

from manybody.runs import execution  # noqa: E402
from manybody.runs.lifecycle import SchedulerLost  # noqa: E402
from manybody.runs.spec import RunSpec  # noqa: E402
from manybody.runs.sweep import run_sweep  # noqa: E402

SPEC = {"name": "lost", "seed": 3, "realisations": 4,
        "model": {"n_tls": 3, "tls": {"asymmetry_max": 0.3, "tunnelling_max": 0.3}},
        "probe": {"frequencies": [0.1], "temperatures": [0.05, 0.1],
                  "observables": ["absorption"]}}


def _lost_after(monkeypatch, finished: int, status: str = "closed"):
    """The dask branch with a fake client and a Parallel that yields ``finished`` chunks of the
    in-process run, then fails as a lost scheduler does."""
    real_parallel = execution.__dict__.get("Parallel")
    import joblib

    @contextlib.contextmanager
    def client(scheduler, n_workers):
        yield types.SimpleNamespace(status=status, nthreads=lambda: {"w": 1})

    class Lost:
        def __init__(self, *args, **kwargs):
            pass

        def __call__(self, tasks):
            for i, task in enumerate(tasks):
                if i >= finished:
                    raise FutureCancelledError("batch-1", reason="scheduler-connection-lost")
                function, args, kwargs = task
                yield function(*args, **kwargs)

    monkeypatch.setattr(execution, "_dask_client", client)
    monkeypatch.setattr(joblib, "Parallel", Lost)
    monkeypatch.setattr(joblib, "parallel_config", lambda **kw: contextlib.nullcontext())
    return real_parallel


@pytest.mark.parametrize(("finished", "words"), [
    (0, "no realisation had finished, so nothing is kept"),
    (2, "realisation(s) that finished are kept in the checkpoint"),
])
def test_a_lost_scheduler_is_one_line_saying_what_is_kept(tmp_path, monkeypatch, finished, words):
    _lost_after(monkeypatch, finished)
    out = tmp_path / "out.nc"
    with pytest.raises(SchedulerLost) as caught:
        run_sweep(RunSpec.from_dict(SPEC), out, backend="dask", scheduler="tcp://127.0.0.1:1",
                  chunk_size=1, progress=False)
    message = str(caught.value)
    assert message.startswith("lost the dask scheduler 'tcp://127.0.0.1:1' during the run "
                              "(FutureCancelledError); ")
    assert words in message and "\n" not in message
    assert (tmp_path / "out.nc.checkpoint").exists() == bool(finished)


def test_a_tasks_own_error_passes_while_the_scheduler_runs(tmp_path, monkeypatch):
    """Only a lost connection becomes SchedulerLost: with the client running, an OSError of a
    task is the task's (not renamed)."""
    import joblib

    @contextlib.contextmanager
    def client(scheduler, n_workers):
        yield types.SimpleNamespace(status="running", nthreads=lambda: {"w": 1})

    class Failing:
        def __init__(self, *args, **kwargs):
            pass

        def __call__(self, tasks):
            raise PermissionError(13, "Permission denied", "/some/file")
            yield  # a generator, as joblib's

    monkeypatch.setattr(execution, "_dask_client", client)
    monkeypatch.setattr(joblib, "Parallel", Failing)
    monkeypatch.setattr(joblib, "parallel_config", lambda **kw: contextlib.nullcontext())
    with pytest.raises(PermissionError):
        run_sweep(RunSpec.from_dict(SPEC), tmp_path / "o.nc", backend="dask",
                  scheduler="tcp://127.0.0.1:1", progress=False)


@pytest.mark.parametrize(("finished", "words"), [
    (0, "no realisation had finished, so nothing is kept; rerun the same command"),
    (2, "finished work is checkpointed in"),
])
def test_a_dead_worker_says_what_is_kept(tmp_path, monkeypatch, finished, words):
    """A worker killed by the system with nothing finished: the run removes its checkpoint, and
    the message said "finished work is checkpointed" there (session 39)."""
    from manybody.runs import sweep as sweep_module
    from manybody.runs.lifecycle import WorkerDied, worker_died

    real = sweep_module.execute

    def dying(spec, pending, chunk_size, n_jobs, backend, scheduler, blas_threads, markers,
              cluster_slots=None):
        gen = real(spec, pending, 1, 1, "loky", None, blas_threads, markers)
        for _ in range(finished):
            yield next(gen)
        raise worker_died(spec, markers, str(tmp_path / "out.nc.checkpoint"), "")

    monkeypatch.setattr(sweep_module, "execute", dying)
    with pytest.raises(WorkerDied) as caught:
        run_sweep(RunSpec.from_dict(SPEC), tmp_path / "out.nc", chunk_size=1, progress=False)
    assert caught.value.args[0].startswith("a worker process died in a task (killed by the system")
    assert words in str(caught.value)
    assert (tmp_path / "out.nc.checkpoint").exists() == bool(finished)
