"""Faults left open by session 54's note on the solver's surface, each with the right behaviour.

- A spec read back from a results file (``dataset_spec``, ``manybody info``) marked every
  ``[solver]`` key as set, because the file writes them all: a Chebyshev run rebuilt from its own
  file warned that ``solver.dtype`` (at its default) has no effect.
"""

from __future__ import annotations

import json
import warnings

import pytest

from manybody.runs.spec import RunSpec, preflight

TLS = {"asymmetry_max": 0.3, "tunnelling_min": 1e-3, "tunnelling_max": 0.3}


def _spec(solver: dict) -> RunSpec:
    return RunSpec.from_dict({
        "name": "cheb", "seed": 3, "realisations": 2,
        "model": {"n_tls": 5, "tls": TLS, "coupling": {"kind": "gaussian", "strength": 0.05}},
        "probe": {"frequencies": [0.1], "temperatures": [0.05, 0.2],
                  "observables": ["absorption", "specific_heat"]},
        "solver": solver})


def _solver_warnings(spec: RunSpec) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        preflight(spec)
    return [str(w.message) for w in caught if "solver." in str(w.message)]


def test_a_spec_read_back_from_its_record_keeps_only_changed_solver_keys():
    spec = _spec({"method": "chebyshev", "chebyshev": {"n_vectors": 4}})
    assert not _solver_warnings(spec)
    record = json.loads(spec.canonical_json())
    assert set(record["solver"]) >= {"dtype", "memory_fraction"}  # every key is written
    again = RunSpec.from_record(record)
    assert again == spec and again.digest() == spec.digest()
    assert not _solver_warnings(again)
    # the record read as a user's table would mark them all as set
    assert any("solver.dtype" in w for w in _solver_warnings(RunSpec.from_dict(record)))


@pytest.mark.parametrize(("key", "value"), [("dtype", "float32"), ("memory_fraction", 0.5)])
def test_a_changed_dense_option_is_still_reported_from_the_record(key, value):
    record = json.loads(_spec({"method": "chebyshev", key: value}).canonical_json())
    assert any(f"solver.{key}" in w for w in _solver_warnings(RunSpec.from_record(record)))


def test_dataset_spec_reads_the_record(tmp_path):
    import xarray as xr

    from manybody.runs.results import dataset_spec

    spec = _spec({"method": "chebyshev"})
    ds = xr.Dataset(attrs={"spec": spec.canonical_json()})
    assert dataset_spec(ds) == spec
    assert not _solver_warnings(dataset_spec(ds))


@pytest.mark.parametrize(("chebyshev", "most"), [({}, 4), ({"n_vectors": 64}, 6)])
def test_an_explicit_chebyshev_route_under_equilibration_names_the_exact_trace(chebyshev, most):
    """The reduced problems where equilibration leaves few TLS active take an exact float64 trace
    (D <= max(16, vectors)); the route, taken from the full N, said only "float32 vectors"."""
    from manybody.config.model import ModelParams
    from manybody.config.solver import SolverParams
    from manybody.simulation.solvers import solver_route

    params = ModelParams.from_dict({"n_tls": 13, "equilibration": {"measurement_time": 1e-6}})
    route = solver_route(params, SolverParams(method="chebyshev", chebyshev=chebyshev))
    assert route.endswith(f"float32 vectors (an exact float64 trace at temperatures where "
                          f"equilibration leaves at most {most} TLS active)")
    # without equilibration, or with an exact trace throughout, or under "auto" (dense ED takes
    # every reduced problem up to 12 TLS), nothing is added
    assert solver_route(ModelParams.from_dict({"n_tls": 13}),
                        SolverParams(method="chebyshev")).endswith("float32 vectors")
    assert "exact float64 trace at" not in solver_route(
        params, SolverParams(method="chebyshev", chebyshev={"trace": "exact"}))
    assert "exact float64 trace" not in solver_route(params, SolverParams(method="auto"))


def test_a_float32_dense_solve_gives_the_spacing_ratio_of_the_float64_levels():
    """helper-176 F0: float32 levels are accurate to ~20 eps32 max|E|, as close as the nearest
    genuine levels of independent TLS; the degeneracy tolerance dropped those spacings and <r>
    rose towards GOE (0.385 -> 0.470 for one N = 8 realisation). The spacing ratio of a float32
    solve now comes from the float64 levels; every other observable stays float32's."""
    import numpy as np

    from manybody.config.model import ModelParams
    from manybody.config.probe import Broadening, Probe
    from manybody.config.solver import SolverParams
    from manybody.simulation.ensembles import draw_realisation, realisation_rng
    from manybody.simulation.observables.statistics import mean_spacing_ratio
    from manybody.simulation.observe import observe
    from manybody.simulation.operators import build_hamiltonian
    from manybody.simulation.solvers.dense import diagonalise

    params = ModelParams.from_dict({"n_tls": 8, "tls": TLS,
                                    "coupling": {"kind": "dipolar", "strength": 0.0}})
    probe = Probe(frequencies=(0.1,), temperatures=(0.1,),
                  broadening=Broadening(width=0.2, scaling="relative"),
                  observables=("absorption", "spacing_ratio"))
    h = build_hamiltonian(draw_realisation(params, realisation_rng(11, 2)))
    e32 = diagonalise(h.astype(np.float32), vectors=False).energies
    e64 = diagonalise(h, vectors=False).energies
    assert mean_spacing_ratio(e32) - mean_spacing_ratio(e64) > 0.05  # the fault, in the levels
    single = observe(params, 11, 2, probe, SolverParams(dtype="float32"))
    double = observe(params, 11, 2, probe, SolverParams(dtype="float64"))
    np.testing.assert_allclose(single["spacing_ratio"], mean_spacing_ratio(e64), rtol=0, atol=1e-12)
    np.testing.assert_allclose(single["spacing_ratio"], double["spacing_ratio"], rtol=0, atol=1e-12)
    assert not np.array_equal(single["absorption"], double["absorption"])  # still a float32 solve


def test_the_warnings_of_a_stretch_killed_outright_reach_the_results_file(tmp_path, monkeypatch):
    """A stretch killed with SIGKILL records no end, and with it no warnings: a resumed run's
    file counted only the realisations of its last stretch (session 54's note). Each task file
    now keeps its realisations' warnings, and a killed stretch's are rebuilt from them. The
    kill is simulated by a stop whose end is not recorded."""
    from manybody.runs.checkpoint import Checkpoint
    from manybody.runs.sweep import run_sweep

    spec = RunSpec.from_dict({
        "name": "cheb", "seed": 3, "realisations": 4,
        "model": {"n_tls": 5, "tls": TLS, "coupling": {"kind": "gaussian", "strength": 0.05}},
        "probe": {"frequencies": [0.1], "temperatures": [0.05, 0.2],
                  "observables": ["absorption", "specific_heat"]},
        "solver": {"method": "chebyshev", "chebyshev": {"target_error": 1e-4, "n_vectors": 2,
                                                        "max_vectors": 4}}})

    def counts(ds):
        return {r["message"][:40]: r["realisations"]
                for r in json.loads(ds.attrs["realisation_warnings"])}

    def stop_after_two(done, total):
        if done >= 2:
            raise KeyboardInterrupt

    out = tmp_path / "killed.nc"
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        whole = run_sweep(spec, chunk_size=1)
        with monkeypatch.context() as patch:
            patch.setattr(Checkpoint, "end_stretch", lambda *args, **kwargs: None)
            with pytest.raises(KeyboardInterrupt):
                run_sweep(spec, output=out, progress=stop_after_two, chunk_size=1)
        resumed = run_sweep(spec, output=out, resume=True, chunk_size=1)
    assert counts(whole) and set(counts(whole).values()) == {4}
    assert counts(resumed) == counts(whole)
    killed = [s for s in json.loads(resumed.attrs["run_stretches"]) if s["outcome"] == "killed"]
    assert len(killed) == 1 and killed[0]["tasks_computed"] == 2
