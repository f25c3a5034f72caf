"""Sweep runner and results files: reproducibility across workers and backends, common random
numbers across sweep points, checkpoints and resume, atomic writes, provenance, round trips."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from manybody.config.probe import OBSERVABLE_DIMS
from manybody.runs.checkpoint import checkpoint_dir
from manybody.runs.results import load_results, save_results
from manybody.runs.spec import RunSpec
from manybody.runs.sweep import run_sweep
from manybody.simulation import observe as pipeline


def make_spec(**changes) -> RunSpec:
    d = {
        "name": "test",
        "seed": 11,
        "realisations": 3,
        "model": {"n_tls": 5, "coupling": {"kind": "dipolar", "strength": 0.0}},
        "sweep": {"model.coupling.strength": [0.0, 0.02]},
        "probe": {"frequencies": [0.1, 0.2], "temperatures": [0.03, 0.1, 0.4],
                  "observables": ["absorption", "specific_heat", "spacing_ratio"],
                  "broadening": {"width": 0.01}},
    }
    d.update(changes)
    return RunSpec.from_dict(d)


def assert_same_arrays(a, b) -> None:
    assert set(a.data_vars) == set(b.data_vars)
    for name in a.data_vars:
        assert a[name].dims == b[name].dims
        assert np.array_equal(a[name].values, b[name].values), name
    for name in a.coords:
        assert np.array_equal(a[name].values, b[name].values), name


@pytest.fixture(scope="module")
def reference():
    """An uninterrupted single-process run of make_spec()."""
    return run_sweep(make_spec(), n_jobs=1)


def test_dataset_layout_units_and_per_realisation_values(reference):
    ds = reference
    assert ds["absorption"].dims == ("coupling_strength", "realisation", "temperature", "frequency")
    assert ds["specific_heat"].dims == ("coupling_strength", "realisation", "temperature")
    assert ds["spacing_ratio"].dims == ("coupling_strength", "realisation")
    assert ds.sizes == {"coupling_strength": 2, "realisation": 3, "temperature": 3, "frequency": 2}
    for name in set(ds.data_vars) - {"realisation_count"}:
        assert ds[name].attrs["units"] == OBSERVABLE_DIMS[name][1]
    assert ds["realisation_count"].dims == ("coupling_strength",)
    assert ds["realisation_count"].values.tolist() == [3, 3]
    assert ds["temperature"].attrs["units"] == "K" and ds["frequency"].attrs["units"] == "K"
    assert ds["coupling_strength"].attrs == {"units": "K", "parameter": "model.coupling.strength"}
    assert list(ds["temperature"].values) == [0.03, 0.1, 0.4]
    # per-realisation values are kept, and they differ between realisations
    q = ds["absorption"].values
    assert not np.array_equal(q[:, 0], q[:, 1])
    assert np.all(np.isfinite(q))


def test_every_entry_is_an_independent_observe_call(reference):
    spec = make_spec()
    probe = spec.probe
    for (i,), model, point_probe in spec.points():
        for r in range(spec.realisations):
            alone = pipeline.observe(model, spec.seed, r, point_probe, spec.solver)
            for name, arr in alone.items():
                assert np.array_equal(reference[name].values[i, r], arr), (name, i, r)
    assert probe == point_probe  # the coupling sweep leaves the probe alone


def test_same_realisation_same_disorder_across_sweep_points(reference):
    """Common random numbers: at J0 = 0 realisation r is the independent-TLS realisation r."""
    spec = make_spec()
    uncoupled = spec.model.__class__(n_tls=5)  # no coupling term at all
    for r in range(spec.realisations):
        alone = pipeline.observe(uncoupled, spec.seed, r, spec.probe, spec.solver)
        np.testing.assert_allclose(reference["specific_heat"].values[0, r],
                                   alone["specific_heat"], rtol=1e-12, atol=1e-14)
    # and the coupling really changes the numbers at the other point
    assert not np.allclose(reference["specific_heat"].values[0],
                           reference["specific_heat"].values[1])


def test_jobs_1_and_2_identical(reference):
    ds2 = run_sweep(make_spec(), n_jobs=2)
    assert_same_arrays(reference, ds2)
    assert ds2.attrs["n_jobs"] == 2


@pytest.mark.slow
def test_dask_local_cluster_identical_to_loky(reference):
    pytest.importorskip("distributed")
    ds = run_sweep(make_spec(), n_jobs=2, backend="dask")
    assert_same_arrays(reference, ds)
    assert ds.attrs["backend"] == "dask"


def test_provenance_metadata(reference, tmp_path):
    path = tmp_path / "out.nc"
    save_results(reference, path)
    a = load_results(path).attrs
    for key in ("schema_version", "manybody_version", "numpy_version", "scipy_version",
                "quspin_version", "git_commit", "git_dirty", "spec", "spec_sha256", "seed",
                "spawn_scheme", "created", "host", "n_jobs", "backend", "blas_threads",
                "wall_time_s", "finished", "tasks_total", "blas"):
        assert key in a, key
    assert RunSpec.from_dict(json.loads(a["spec"])) == make_spec()
    assert a["seed"] == 11 and a["finished"] == 1 and a["tasks_total"] == 6
    assert "SeedSequence(seed, spawn_key=(r,))" in a["spawn_scheme"]
    assert a["created"].endswith("+00:00")
    assert a["wall_time_s"] > 0


def test_round_trip_save_load(reference, tmp_path):
    path = tmp_path / "out.nc"
    save_results(reference, path)
    loaded = load_results(path)
    assert_same_arrays(reference, loaded)
    for name in loaded.variables:
        assert loaded[name].attrs == reference[name].attrs
    os.remove(path)  # fully loaded: usable after the file is gone
    assert float(loaded["absorption"].sum()) == float(reference["absorption"].sum())
    # readable without manybody
    save_results(reference, path)
    code = ("import xarray as xr, sys; ds = xr.open_dataset(sys.argv[1], engine='h5netcdf'); "
            "print(ds['absorption'].attrs['units'])")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "pi*C0"


def test_no_overwrite_and_atomic_write(reference, tmp_path, monkeypatch):
    path = tmp_path / "out.nc"
    save_results(reference, path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="already exists"):
        save_results(reference, path)
    assert path.read_bytes() == before

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(type(reference), "to_netcdf", broken)
    with pytest.raises(OSError, match="disk full"):
        save_results(reference, path, overwrite=True)
    assert path.read_bytes() == before  # old file intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nc"]  # no temp files left
    monkeypatch.undo()
    save_results(reference.isel(realisation=[0]), path, overwrite=True)
    assert load_results(path).sizes["realisation"] == 1


def test_output_written_checkpoint_removed_and_existing_refused(reference, tmp_path):
    out = tmp_path / "run.nc"
    ds = run_sweep(make_spec(), output=out)
    assert out.is_file() and not checkpoint_dir(out).exists()
    assert_same_arrays(reference, load_results(out))
    assert_same_arrays(reference, ds)
    with pytest.raises(FileExistsError, match="overwrite"):
        run_sweep(make_spec(), output=out)
    run_sweep(make_spec(realisations=1), output=out, overwrite=True)
    assert load_results(out).sizes["realisation"] == 1


class Interrupt(Exception):
    pass


def _interrupt_after(n):
    def progress(done, total):
        if done >= n:
            raise Interrupt
    return progress


def test_interrupted_run_resumes_without_recomputing(reference, tmp_path, monkeypatch):
    out = tmp_path / "run.nc"
    with pytest.raises(Interrupt):  # one realisation per checkpoint file
        run_sweep(make_spec(), output=out, progress=_interrupt_after(4), chunk_size=1)
    assert not out.exists()
    saved = sorted((checkpoint_dir(out) / "tasks").glob("*.npz"))
    assert len(saved) == 4
    mtimes = {p.name: p.stat().st_mtime_ns for p in saved}

    computed = []
    real_observe = pipeline.observe

    def counting(params, seed, r, probe, solver=None):
        computed.append((params.coupling.strength, r))
        for p in saved:  # finished tasks are not touched while the rest runs
            assert p.stat().st_mtime_ns == mtimes[p.name]
        return real_observe(params, seed, r, probe, solver)

    monkeypatch.setattr(pipeline, "observe", counting)
    ds = run_sweep(make_spec(), output=out, resume=True)  # automatic (larger) chunks now
    assert len(computed) == 6 - 4 and len(set(computed)) == 2
    assert ds.attrs["tasks_resumed"] == 4
    finished_before = {(float(p.name[1:7] == "000001") * 0.02, int(p.name[9:15])) for p in saved}
    assert finished_before.isdisjoint(computed)
    assert_same_arrays(reference, load_results(out))
    assert not checkpoint_dir(out).exists()


def test_changed_spec_is_refused(tmp_path):
    out = tmp_path / "run.nc"
    with pytest.raises(Interrupt):
        run_sweep(make_spec(), output=out, progress=_interrupt_after(2), chunk_size=1)
    changed = make_spec(seed=12)
    with pytest.raises(ValueError, match=r"specification changed.*seed"):
        run_sweep(changed, output=out)
    # the spec is the same, only the option differs: said so, with the value to rerun with (it
    # said "the run specification changed ... Rerun with the original spec"; a new user)
    with pytest.raises(ValueError, match=r"written with blas_threads=1 .* rerun with "
                                         r"blas_threads=1") as refusal:
        run_sweep(make_spec(), output=out, blas_threads=2, n_jobs=1)
    assert "specification changed" not in str(refusal.value)
    assert len(list((checkpoint_dir(out) / "tasks").glob("*.npz"))) == 2  # nothing lost


def test_a_failing_realisation_is_named_with_its_sweep_point(monkeypatch):
    """A ValueError or MemoryError of one realisation (e.g. too few Chebyshev moments for its
    spectrum) says which sweep point and realisation failed; other exceptions pass unchanged."""
    real_observe = pipeline.observe

    def failing(params, seed, r, probe, solver=None):
        if params.coupling.strength > 0 and r == 1:
            raise MemoryError("the chebyshev solver needs about 40 GB")
        return real_observe(params, seed, r, probe, solver)

    monkeypatch.setattr(pipeline, "observe", failing)
    with pytest.raises(MemoryError, match=r"^sweep point 1 \(model\.coupling\.strength=0\.02\), "
                                          r"realisation 1: the chebyshev solver needs about 40 GB$"):
        run_sweep(make_spec(), chunk_size=1)

    def too_few(params, seed, r, probe, solver=None):
        if r == 1:
            raise ValueError("too few moments")
        return real_observe(params, seed, r, probe, solver)

    monkeypatch.setattr(pipeline, "observe", too_few)
    with pytest.raises(ValueError, match=r"^realisation 1: too few moments$"):  # no sweep
        run_sweep(make_spec(sweep={}), chunk_size=1)

    class Custom(ValueError):
        pass

    def custom(*args, **kwargs):
        raise Custom("x")

    monkeypatch.setattr(pipeline, "observe", custom)
    with pytest.raises(Custom, match="^x$"):
        run_sweep(make_spec(), chunk_size=1)

    def lapack(*args, **kwargs):  # LAPACK's failures name no parameter: the task is named
        raise np.linalg.LinAlgError("The algorithm failed to compute an eigenvalue")

    monkeypatch.setattr(pipeline, "observe", lapack)
    with pytest.raises(np.linalg.LinAlgError, match=r"^realisation 0: The algorithm failed"):
        run_sweep(make_spec(sweep={}), chunk_size=1)


def test_a_checkpoint_without_finished_tasks_takes_the_corrected_spec(tmp_path, monkeypatch):
    """A run that failed before its first task finished (e.g. too few moments for a realisation)
    removes its checkpoint (session 25: an empty one was left); one with nothing finished that
    is left over (a killed run) takes the corrected spec instead of being refused as a changed
    spec, and a later change with finished tasks is refused again."""
    from manybody.runs.checkpoint import Checkpoint

    out = tmp_path / "run.nc"

    def failing(*args, **kwargs):
        raise ValueError("max_moments=64 is too few moments")

    monkeypatch.setattr(pipeline, "observe", failing)
    with pytest.raises(ValueError, match="too few moments"):
        run_sweep(make_spec(seed=12), output=out, chunk_size=1)
    monkeypatch.undo()
    assert not checkpoint_dir(out).exists()
    left_over = Checkpoint(checkpoint_dir(out), make_spec(seed=12), 1)  # as a killed run leaves
    left_over.open()
    left_over.close()
    tasks = checkpoint_dir(out) / "tasks"
    assert tasks.is_dir() and not list(tasks.glob("*.npz"))
    with pytest.raises(Interrupt):
        run_sweep(make_spec(), output=out, progress=_interrupt_after(2), chunk_size=1)
    assert len(list(tasks.glob("*.npz"))) == 2
    assert json.loads((checkpoint_dir(out) / "meta.json").read_text())["spec"]["seed"] == (
        make_spec().seed)
    with pytest.raises(ValueError, match=r"specification changed.*seed"):
        run_sweep(make_spec(seed=12), output=out)


def test_resume_needs_a_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        run_sweep(make_spec(), output=tmp_path / "x.nc", resume=True)
    with pytest.raises(ValueError, match="output"):
        run_sweep(make_spec(), resume=True)


def test_unwritable_output_fails_before_computation(tmp_path, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("computed before checking the output")

    monkeypatch.setattr(pipeline, "observe", forbidden)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(NotADirectoryError, match="'.*file' is a file"):
        run_sweep(make_spec(), output=blocker / "sub" / "x.nc")
    with pytest.raises(PermissionError):
        run_sweep(make_spec(), output="/proc/x.nc")
    with pytest.raises(PermissionError):  # nearest existing ancestor not writable
        run_sweep(make_spec(), output="/proc/new/x.nc")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # nothing created
    with pytest.raises(ValueError, match="directory"):
        run_sweep(make_spec(), output=tmp_path)


def test_missing_output_directories_are_created(reference, tmp_path):
    out = tmp_path / "results" / "deeper" / "run.nc"
    run_sweep(make_spec(), output=out)
    assert_same_arrays(reference, load_results(out))
    assert not checkpoint_dir(out).exists()


def test_bad_runner_arguments():
    spec = make_spec()
    with pytest.raises(ValueError, match="backend"):
        run_sweep(spec, backend="threads")
    with pytest.raises(ValueError, match="cores"):
        run_sweep(spec, n_jobs=os.cpu_count() or 1, blas_threads=2)
    with pytest.raises(ValueError, match="dask"):
        run_sweep(spec, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="n_jobs"):
        run_sweep(spec, n_jobs=0)
    with pytest.raises(ValueError, match="n_jobs"):
        run_sweep(spec, n_jobs=-2)
    with pytest.raises(TypeError, match="RunSpec"):
        run_sweep(spec.to_dict())


def test_probe_sweep_and_n_tls_axis():
    spec = make_spec(sweep={"model.n_tls": [3, 4], "probe.broadening.width": [0.01, 0.05]},
                     realisations=1)
    ds = run_sweep(spec)
    assert ds["absorption"].dims[:3] == ("n_tls", "broadening_width", "realisation")
    assert list(ds["n_tls"].values) == [3, 4]
    assert ds["broadening_width"].attrs["units"] == "K"
    model, probe = spec.point((1, 1))
    alone = pipeline.observe(model, spec.seed, 0, probe)
    assert np.array_equal(ds["absorption"].values[1, 1, 0], alone["absorption"])


def test_import_manybody_stays_light():
    code = ("import sys, manybody, manybody.runs.spec, manybody.runs.sweep, manybody.runs.results; "
            "bad = [m for m in ('joblib', 'dask', 'distributed', 'xarray', 'matplotlib') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_dask_scheduler_address_identical_to_loky(reference, tmp_path):
    """The same arrays; and the cluster's task slots are recorded as the run's jobs (n_jobs,
    which a scheduler's run ignores, was recorded as 1; session 39's note)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=":0") as cluster:
        ds = run_sweep(make_spec(), tmp_path / "run.nc", backend="dask",
                       scheduler=cluster.scheduler_address)
    assert_same_arrays(reference, ds)
    assert ds.attrs["n_jobs"] == 2
    assert [stretch["n_jobs"] for stretch in json.loads(ds.attrs["run_stretches"])] == [2]


def test_blas_threads_capped_during_run_and_restored():
    from threadpoolctl import threadpool_info

    from manybody.runs import sweep
    from manybody.support.threads import thread_controller

    seen = []
    real_observe = pipeline.observe

    def spy(*args, **kwargs):
        seen.append({i["internal_api"]: i["num_threads"] for i in threadpool_info()})
        return real_observe(*args, **kwargs)

    thread_controller()  # load every library first so the lists compare
    before = [i["num_threads"] for i in threadpool_info()]
    pipeline.observe, saved = spy, pipeline.observe
    try:
        sweep.run_sweep(make_spec(realisations=1), blas_threads=1)
    finally:
        pipeline.observe = saved
    assert seen and all(set(s.values()) == {1} for s in seen)
    assert [i["num_threads"] for i in threadpool_info()] == before


def test_in_process_run_holds_compiled_kernels_to_blas_threads():
    """--jobs 1 runs in this process: numba's parallel kernels there take --blas-threads, as
    loky's workers do through NUMBA_NUM_THREADS (before session 24 they took every core: a new
    user's N = 13 run took 29-88 s instead of 4.3 s while another process held a core)."""
    import numba

    from manybody.runs import sweep
    from manybody.support.threads import compiled_threads, numba_threads

    everything = numba.get_num_threads()
    seen = []
    real_observe = pipeline.observe

    def spy(*args, **kwargs):
        with numba_threads(None):  # what every compiled solve enters
            seen.append(numba.get_num_threads())
        return real_observe(*args, **kwargs)

    pipeline.observe, saved = spy, pipeline.observe
    try:
        sweep.run_sweep(make_spec(realisations=1), blas_threads=1)
    finally:
        pipeline.observe = saved
    assert seen and set(seen) == {1}
    assert numba.get_num_threads() == everything
    with compiled_threads(1), numba_threads(everything):  # the tighter limit wins
        assert numba.get_num_threads() == 1
    with compiled_threads(None), numba_threads(None):
        assert numba.get_num_threads() == everything


def test_log_records_of_an_in_process_run_are_written_above_the_bar(capsys):
    """A warning logged during a --jobs 1 run with a progress bar is a line of its own, not
    glued to the end of the bar's line (a matrix-free fallback's warning was, session 24)."""
    import logging
    import sys

    from manybody.runs import sweep

    handler = logging.StreamHandler(sys.stderr)  # as the CLI's logging.basicConfig
    root = logging.getLogger()
    root.addHandler(handler)
    real_observe = pipeline.observe

    def warning_observe(*args, **kwargs):
        logging.getLogger("manybody.test").warning("a fallback happened")
        return real_observe(*args, **kwargs)

    pipeline.observe, saved = warning_observe, pipeline.observe
    try:
        sweep.run_sweep(make_spec(realisations=1), progress=True)
    finally:
        pipeline.observe = saved
        root.removeHandler(handler)
    lines = [line for line in capsys.readouterr().err.split("\n") if "a fallback happened" in line]
    assert lines and all(line.split("\r")[-1].startswith("a fallback happened") for line in lines)


def test_a_sweep_of_a_tiny_system_takes_the_exact_trace():
    """A sweep's realisations reach the Chebyshev solver through respond, not
    chebyshev_absorption: before a reviewer's check (session 24) they kept 8 random vectors on
    D = 16 (errors 3x the value, deviations 50x dense ED's largest value). Exact, their error
    bars are the truncation's, they cover the deviation from dense ED, and the routes say so."""
    import json

    def spec(method):
        return make_spec(realisations=2, sweep={},
                         model={"n_tls": 4, "coupling": {"kind": "gaussian", "strength": 0.05}},
                         probe={"frequencies": [0.1, 0.2], "temperatures": [0.05, 0.1, 0.2],
                                "observables": ["absorption"], "broadening": {"width": 0.02}},
                         solver={"method": method})

    chebyshev, dense = run_sweep(spec("chebyshev")), run_sweep(spec("dense"))
    q, reference = chebyshev["absorption"].values, dense["absorption"].values
    error = chebyshev["absorption_error"].values
    assert np.all(np.abs(q - reference) <= 3 * error + 1e-9 * np.abs(reference).max())
    assert np.max(error) <= 0.1 * np.max(np.abs(reference))
    assert all("exact trace" in route for route in json.loads(chebyshev.attrs["solver_routes"]))


def test_string_sweep_axis_round_trips(tmp_path):
    spec = make_spec(realisations=1,
                     model={"n_tls": 5, "coupling": {"kind": "dipolar", "strength": 0.02}},
                     sweep={"model.coupling.orientation": ["uniform", "gaussian"]})
    out = tmp_path / "s.nc"
    ds = run_sweep(spec, output=out)
    loaded = load_results(out)
    assert list(loaded["coupling_orientation"].values) == ["uniform", "gaussian"]
    assert_same_arrays(ds, loaded)
    assert not np.array_equal(ds["absorption"].values[0], ds["absorption"].values[1])


def test_resume_across_code_versions_warns(tmp_path):
    out = tmp_path / "run.nc"
    spec = make_spec(realisations=1)
    with pytest.raises(Interrupt):
        run_sweep(spec, output=out, progress=_interrupt_after(1))
    meta_path = checkpoint_dir(out) / "meta.json"
    meta = json.loads(meta_path.read_text())
    assert meta["code"] and meta["spec_sha256"] == spec.digest()
    meta["code"] = "0.0.1 (0000000)"
    meta_path.write_text(json.dumps(meta))
    with pytest.warns(RuntimeWarning, match="0.0.1"):
        ds = run_sweep(spec, output=out)
    assert ds.attrs["tasks_resumed"] == 1


def test_chunking_never_changes_the_numbers(reference):
    for chunk in (1, 2, 64):
        assert_same_arrays(reference, run_sweep(make_spec(), n_jobs=1, chunk_size=chunk))
    with pytest.raises(ValueError, match="chunk_size"):
        run_sweep(make_spec(), chunk_size=0)


def test_plan_chunks_splits_runs_of_consecutive_realisations():
    from manybody.runs.tasks import auto_chunk_size, plan_chunks

    pending = [(1, 4), (0, 0), (0, 1), (0, 2), (0, 5), (1, 5), (1, 6), (1, 7)]
    # realisation 0 of each point is a task of its own, dispatched first (session 37); the other
    # chunks keep their bounds
    assert plan_chunks(pending, {0: 2, 1: 10}) == [(0, 0, 1), (0, 1, 2), (0, 2, 3), (0, 5, 6),
                                                   (1, 4, 8)]
    spec = make_spec()
    assert auto_chunk_size(spec.model, spec.solver) == 2**13 // 2**5
    big = spec.model.__class__(n_tls=14)
    assert auto_chunk_size(big, spec.solver) == 1


def test_per_point_counts_pad_with_nan_and_share_realisations(reference, tmp_path):
    """Point 0 gets 2 realisations and point 1 gets 3: the shared ones equal the uniform run."""
    from manybody.runs.results import realised

    ds = run_sweep(make_spec(realisations=[2, 3]), output=tmp_path / "ragged.nc", n_jobs=2)
    assert ds["realisation_count"].values.tolist() == [2, 3]
    assert ds.attrs["tasks_total"] == 5
    q = ds["absorption"].values
    assert np.isnan(q[0, 2]).all() and np.isfinite(q[0, :2]).all() and np.isfinite(q[1]).all()
    np.testing.assert_array_equal(q[0, :2], reference["absorption"].values[0, :2])
    np.testing.assert_array_equal(q[1], reference["absorption"].values[1])
    point = realised(load_results(tmp_path / "ragged.nc").isel(coupling_strength=0))
    assert point.sizes["realisation"] == 2 and np.isfinite(point["absorption"].values).all()
    with pytest.raises(ValueError, match="single sweep point"):
        realised(ds)


def test_resume_reads_any_chunking_and_version_1_files(reference, tmp_path):
    """A checkpoint of one-realisation files (version 1 names) and chunk files resumes exactly."""
    out = tmp_path / "run.nc"
    with pytest.raises(Interrupt):
        run_sweep(make_spec(), output=out, progress=_interrupt_after(3), chunk_size=2)
    tasks = checkpoint_dir(out) / "tasks"
    # realisation 0 of every point first, each a task of its own (session 37), then the rest
    # of the chunk 0-1, then 2-2
    assert sorted(p.name for p in tasks.glob("*.npz")) == [
        "p000000_r000000-000001.npz", "p000000_r000001-000002.npz", "p000001_r000000-000001.npz"]
    single = pipeline.observe(*[p for i, p in enumerate(make_spec().point((1,))) if i == 0],
                              11, 1, make_spec().probe)
    np.savez(tasks / "p000001_r000001.npz", **single)  # the version-1 layout: unstacked arrays
    computed = []
    real_observe = pipeline.observe

    def counting(params, seed, r, probe, solver=None):
        computed.append((params.coupling.strength, r))
        return real_observe(params, seed, r, probe, solver)

    pipeline.observe, saved = counting, pipeline.observe
    try:
        ds = run_sweep(make_spec(), output=out)
    finally:
        pipeline.observe = saved
    assert sorted(computed) == [(0.0, 2), (0.02, 2)]
    assert ds.attrs["tasks_resumed"] == 4
    assert_same_arrays(reference, ds)


def test_automatic_chunks_keep_every_worker_busy(monkeypatch):
    """Short runs are cut into at least CHUNKS_PER_WORKER tasks per worker, whatever N."""
    from manybody.runs import tasks

    spec = make_spec(realisations=40)
    pending = [(p, r) for p in range(2) for r in range(40)]
    chunks = tasks.chunks_for(spec, pending, None, workers=2)
    assert len(chunks) >= tasks.CHUNKS_PER_WORKER * 2
    assert max(stop - start for _, start, stop in chunks) == 80 // (tasks.CHUNKS_PER_WORKER * 2)
    assert sorted((p, r) for p, a, b in chunks for r in range(a, b)) == pending
    # realisation 0 alone, then 1-6, 7-13, ..., 35-39 (session 37)
    assert {b - a for _, a, b in tasks.chunks_for(spec, pending, 7, workers=2)} <= {1, 6, 7,
                                                                                   40 - 35}
    # two realisations on two workers: one each (a chunk of two would idle a worker)
    assert len(tasks.chunks_for(spec, pending[:2], None, workers=2)) == 2


def test_results_helpers_give_the_spec_and_every_sweep_point(reference):
    from manybody.runs.results import dataset_spec, realised, sweep_points

    spec = dataset_spec(reference)
    assert spec == make_spec()
    points = list(sweep_points(reference))
    assert [p.index for p in points] == [(0,), (1,)]
    for point, (index, model, probe) in zip(points, spec.points(), strict=True):
        assert (point.index, point.model, point.probe) == (index, model, probe)
        expected = realised(reference.isel(coupling_strength=index[0]))
        assert np.array_equal(point.data["absorption"].values, expected["absorption"].values)


def test_a_worker_keeps_the_chebyshev_workspace_between_tasks(monkeypatch):
    """run_task in a worker process keeps the Chebyshev workspace for its next task (the same
    numbers as a task in the sweep's own process, which keeps nothing after the task), and a
    task of another solver releases it first; the worker test: loky's tasks carry the sweep's
    pid, a dask worker is found through distributed."""
    from manybody.config.solver import SolverParams
    from manybody.runs import tasks
    from manybody.simulation.solvers.chebyshev import workspace as ws

    spec = make_spec(model={"n_tls": 6, "coupling": {"kind": "gaussian", "strength": 0.05}},
                     sweep={}, probe={"frequencies": [0.1], "temperatures": [0.05, 0.1],
                                      "observables": ["absorption"],
                                      "broadening": {"width": 0.02}})
    model, probe = next(iter(spec.points()))[1:]
    cheb = SolverParams(method="chebyshev",
                        chebyshev={"n_vectors": 2, "operator": "matrix_free"})
    dense = SolverParams(method="dense")
    here = tasks.run_task(model, probe, cheb, 11, 0, 0, 2, 1)
    assert ws.kept_bytes() == 0  # the sweep's own process keeps nothing after a task
    monkeypatch.setattr(tasks, "_in_worker_process", lambda parent: True)
    try:
        first = tasks.run_task(model, probe, cheb, 11, 0, 0, 2, 1)
        kept = ws.kept_bytes()
        assert kept > 0
        second = tasks.run_task(model, probe, cheb, 11, 0, 0, 2, 1)
        assert ws.kept_bytes() == kept  # reused, not grown
        for res in (first, second):
            np.testing.assert_array_equal(res[2]["absorption"], here[2]["absorption"])
        tasks.run_task(model, probe, dense, 11, 0, 0, 1, 1)
        assert ws.kept_bytes() == 0  # dense ED found the memory free
    finally:
        ws.release_kept_workspace()
        ws._STATES.clear()
    monkeypatch.undo()
    assert not tasks._in_worker_process(None) and not tasks._in_worker_process(os.getpid())
    assert tasks._in_worker_process(os.getpid() + 1)  # a loky task: the sweep's pid is not ours


def test_a_worker_task_returns_the_freed_heap(monkeypatch):
    """After each task of a worker process run_task gives the C heap's freed memory back
    (support.heap: loky restarts a worker whose memory grew 300 MB, and glibc kept up to 290 MB
    of freed arrays in a 120-realisation run), and in the sweep's own process it does not; where
    the C library has no malloc_trim the call says so (False) and does nothing."""
    from manybody.config.solver import SolverParams
    from manybody.runs import tasks
    from manybody.support import heap

    spec = make_spec(model={"n_tls": 4}, sweep={},
                     probe={"frequencies": [0.1], "temperatures": [0.1],
                            "observables": ["absorption"], "broadening": {"width": 0.02}})
    model, probe = next(iter(spec.points()))[1:]
    calls = []
    monkeypatch.setattr(tasks, "return_freed_memory", lambda: calls.append(1) or True)
    dense = SolverParams(method="dense")
    tasks.run_task(model, probe, dense, 11, 0, 0, 2, 1)
    assert calls == []
    monkeypatch.setattr(tasks, "_in_worker_process", lambda parent: True)
    out = tasks.run_task(model, probe, dense, 11, 0, 0, 2, 1)
    assert calls == [1] and out[2]["absorption"].shape[0] == 2
    # True exactly where the C library has malloc_trim (glibc: this Linux machine)
    assert heap.return_freed_memory() is (heap._trim() is not None)
    monkeypatch.setattr(heap, "_trim", lambda: None)
    assert heap.return_freed_memory() is False


def test_an_in_process_sweep_shares_one_workspace_and_keeps_nothing_after(monkeypatch):
    """run_sweep(n_jobs=1): every Chebyshev solve of the run takes the same workspace (its pages
    faulted in once), and nothing is kept once the run returns."""
    from manybody.simulation.solvers.chebyshev import solver as ch
    from manybody.simulation.solvers.chebyshev import workspace as ws

    seen = []

    def recording():
        seen.append(ws.current_workspace())
        return seen[-1]

    monkeypatch.setattr(ch, "current_workspace", recording)
    spec = make_spec(model={"n_tls": 6, "coupling": {"kind": "gaussian", "strength": 0.05}},
                     sweep={}, solver={"method": "chebyshev", "chebyshev": {"n_vectors": 2}},
                     probe={"frequencies": [0.1], "temperatures": [0.05, 0.1],
                            "observables": ["absorption"], "broadening": {"width": 0.02}})
    run_sweep(spec, n_jobs=1)
    assert len(seen) == 3 and all(w is seen[0] for w in seen)
    assert ws.kept_bytes() == 0


# ------------------------------------------------------------------ results size (session 32)


def test_results_size_estimate_equals_the_written_arrays(reference):
    """results_bytes counts exactly the observables' arrays a run returns (the estimate the
    memory check before a run rests on)."""
    from manybody.runs.spec import results_bytes

    spec = make_spec()
    observed = sum(reference[n].nbytes for n in reference.data_vars if n != "realisation_count")
    assert results_bytes(spec) == observed
    auto = make_spec(solver={"method": "auto"})  # with the Chebyshev error arrays
    assert results_bytes(auto) == observed + 8 * 2 * 3 * (3 * 2 + 3)


def test_results_too_large_for_memory_are_refused_before_any_work(tmp_path):
    """10^7 realisations x 10^5 temperatures computed for a minute and then failed in numpy's
    allocation (session 31): refused by preflight, naming the size, the memory and remedies."""
    from manybody.runs.spec import check_results_size, results_bytes

    spec = make_spec()
    size = results_bytes(spec)
    assert check_results_size(spec, available=10**9) == size
    with pytest.raises(MemoryError, match=r"the results would take .* GB \(2 sweep point\(s\) x "
                       r"3 realisation\(s\) x 3 temperature\(s\) x 2 frequenc\(y/ies\), 3 "
                       r"observable\(s\), float64\).*against .* GB of memory available: fewer "
                       r"realisations"):
        check_results_size(spec, available=3 * size)
    big = make_spec(realisations=10**7,
                    probe={"frequencies": [0.1], "temperatures": {"x_min": 0.1, "x_max": 10,
                                                                 "count": 100000}})
    out = tmp_path / "big.nc"
    with pytest.raises(MemoryError, match="the results would take 4.8e\\+04 GB"):
        run_sweep(big, output=out)
    assert not out.exists() and not checkpoint_dir(out).exists()


def test_a_sweep_of_more_than_a_million_points_is_refused_at_once():
    import time

    from manybody.runs.spec import MAX_SWEEP_POINTS

    start = time.process_time()
    with pytest.raises(ValueError, match=r"sweep has 1002001 points \(1001 \(model.coupling"
                       r".strength\) x 1001 \(probe.broadening.width\)\); at most 1000000"):
        make_spec(sweep={"model.coupling.strength": np.linspace(0, 1, 1001).tolist(),
                         "probe.broadening.width": np.linspace(0.01, 0.02, 1001).tolist()})
    assert time.process_time() - start < 5 and MAX_SWEEP_POINTS == 10**6


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_warning_of_every_realisation_is_shown_once_with_a_count(n_jobs):
    """A kernel too narrow to reach any line: every realisation warns alike; a 70-realisation run
    printed 65 identical lines (a new user, session 35). The run shows the first, naming its
    realisation, and one line with how many realisations raised it; the numbers are unchanged."""
    import warnings

    spec = make_spec(model={"n_tls": 4}, sweep={"model.n_tls": [3, 4]},
                     probe={"frequencies": [0.1], "temperatures": [0.05, 0.1],
                            "observables": ["absorption"], "broadening": {"width": 1e-9}},
                     realisations=[5, 4])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = run_sweep(spec, n_jobs=n_jobs, progress=False)
    texts = [str(w.message) for w in caught if "absorption is exactly 0" in str(w.message)]
    assert len(texts) == 2, texts
    assert re.match(r"sweep point \d \(model.n_tls=\d\), realisation \d: absorption is exactly 0",
                    texts[0])
    assert texts[1].startswith("the warning 'absorption is exactly 0")
    assert texts[1].endswith("was raised by 9 realisations in all")
    assert float(np.abs(ds["absorption"]).max()) == 0.0


def test_warnings_of_different_kinds_are_each_shown():
    import warnings

    from manybody.runs.task_warnings import RecordedWarning, WarningDigest

    digest = WarningDigest()
    records = [RecordedWarning(RuntimeWarning, "spacing 0.0443 K", "realisation 0"),
               RecordedWarning(RuntimeWarning, "spacing 1.5e-3 K", "realisation 1"),
               RecordedWarning(UserWarning, "spacing 0.0443 K", "realisation 1"),
               RecordedWarning(RuntimeWarning, "another thing", "realisation 2")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        digest.show(records)
        digest.close()
    assert [str(w.message) for w in caught] == [
        "realisation 0: spacing 0.0443 K", "realisation 1: spacing 0.0443 K",
        "realisation 2: another thing",
        "the warning 'spacing 0.0443 K' (shown once above, for realisation 0) was raised by 2 "
        "realisations in all"]


def test_a_failed_dask_connection_leaves_no_client_behind(tmp_path):
    """A Client that failed to connect stayed registered as the current client while its
    traceback lived: the next run of the process wrote its file through a distributed lock and
    failed with 'missing port number in address' (a test after another, session 35)."""
    pytest.importorskip("dask.distributed")
    from dask.base import get_scheduler

    spec = make_spec()
    scheduler = get_scheduler()
    with pytest.raises(ValueError, match="notanaddress") as caught:
        run_sweep(spec, backend="dask", scheduler="notanaddress", progress=False)
    assert caught.value is not None  # the traceback is alive here, as in the CLI's except
    assert get_scheduler() == scheduler
    ds = run_sweep(spec, output=tmp_path / "out.nc", progress=False)
    assert (tmp_path / "out.nc").is_file() and ds["absorption"].size


def test_the_count_of_a_warning_is_given_when_a_run_stops_and_when_it_resumes(tmp_path):
    """On Ctrl-C only the first warning was shown, its count lost; on resume the count said
    'in all' of the realisations of this run only (a new user, session 35)."""
    import warnings

    spec = make_spec(model={"n_tls": 4}, sweep={},
                     probe={"frequencies": [0.1], "temperatures": [0.05, 0.1],
                            "observables": ["absorption"], "broadening": {"width": 1e-9}},
                     realisations=8)

    class Stop(Exception):
        pass

    def stop(done, total):
        if done >= 4:
            raise Stop

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(Stop):
            run_sweep(spec, output=tmp_path / "o.nc", progress=stop, chunk_size=1)
    counts = [str(w.message) for w in caught if "was raised by" in str(w.message)]
    assert len(counts) == 1 and "by 4 realisations in all" in counts[0], counts
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_sweep(spec, output=tmp_path / "o.nc", progress=False, chunk_size=1)
    counts = [str(w.message) for w in caught if "was raised by" in str(w.message)]
    assert len(counts) == 1 and "by 4 realisations computed in this run" in counts[0], counts
