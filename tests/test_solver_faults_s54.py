"""Faults of the large-N path's surface left open by session 53's note, each with the right
behaviour.

- ``observe`` did not warn about an absolute line kernel at least half the lowest probe frequency
  (the run's preflight and the solvers' own APIs did): Q^-1 then is smeared over a range as wide
  as the frequency, silently. It now warns once per call (``WideKernelWarning``), and a run still
  says it once per sweep, not once per realisation.
"""

from __future__ import annotations

import warnings

import pytest

from manybody.config.model import ModelParams
from manybody.config.probe import Broadening, Probe, WideKernelWarning
from manybody.config.solver import SolverParams
from manybody.simulation.observe import observe

TLS = {"asymmetry_max": 0.3, "tunnelling_min": 1e-3, "tunnelling_max": 0.3}


def _wide_probe(observables=("absorption",), width=0.05) -> Probe:
    return Probe(frequencies=(0.1, 0.08), temperatures=(0.05, 0.1),
                 broadening=Broadening(width=width), observables=observables)


@pytest.mark.parametrize("method", ["dense", "chebyshev"])
def test_observe_warns_once_about_a_kernel_wider_than_half_the_lowest_frequency(method):
    params = ModelParams.from_dict({"n_tls": 4, "tls": TLS})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        observe(params, 1, 0, _wide_probe(), SolverParams(method=method))
    wide = [w for w in caught if issubclass(w.category, WideKernelWarning)]
    assert len(wide) == 1, [str(w.message) for w in caught]
    assert "broadening.width = 0.05 K" in str(wide[0].message)
    assert "0.08 K" in str(wide[0].message)
    assert wide[0].filename == __file__  # points at the caller's line


@pytest.mark.parametrize("probe", [
    _wide_probe(width=0.039),  # below half the lowest frequency
    _wide_probe(observables=("specific_heat",)),  # no observable uses the kernel
    Probe(frequencies=(0.1,), temperatures=(0.1,), observables=("absorption",),
          broadening=Broadening(width=0.4, scaling="relative")),
], ids=["narrower", "no kernel observable", "relative"])
def test_observe_is_silent_where_the_kernel_is_fine_or_unused(probe):
    params = ModelParams.from_dict({"n_tls": 3, "tls": TLS})
    with warnings.catch_warnings():
        warnings.simplefilter("error", WideKernelWarning)
        observe(params, 1, 0, probe)


def test_probe_names_the_width_and_the_lowest_frequency():
    assert _wide_probe().kernel_wider_than_frequency() == (0.05, 0.08)
    assert _wide_probe(width=0.039).kernel_wider_than_frequency() is None


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_run_still_says_it_once_for_the_whole_sweep(n_jobs, tmp_path):
    """The tasks silence the per-realisation warning of ``observe``: a run of two sweep points
    of three realisations gives the preflight's one warning, with either number of workers."""
    from manybody.runs.spec import RunSpec
    from manybody.runs.sweep import run_sweep

    spec = RunSpec.from_dict({
        "name": "wide", "seed": 1, "realisations": 3,
        "model": {"n_tls": 3, "tls": TLS},
        "probe": {"frequencies": [0.1], "temperatures": [0.05, 0.1],
                  "broadening": {"width": 0.06}, "observables": ["absorption"]},
        "sweep": {"model.n_tls": [2, 3]}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_sweep(spec, n_jobs=n_jobs, output=tmp_path / "wide.nc")
    wide = [str(w.message) for w in caught if issubclass(w.category, WideKernelWarning)]
    assert len(wide) == 1, wide
    assert wide[0].startswith("probe.broadening.width = 0.06 K is at least 0.5")


@pytest.mark.parametrize("fraction", [1e-12, 1e-9, 3e-7])
def test_a_tiny_memory_fraction_is_refused_with_a_remedy_that_fits(fraction):
    """memory_fraction = 1e-12: dense ED's refusal ended "what would fit: " with nothing after
    it, the Chebyshev solver's said "n_tls <= 1 would fit", which did not. Both now name the
    memory fraction that would fit, and that fraction does fit."""
    import re

    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.solvers.chebyshev.resources import check_chebyshev_memory
    from manybody.simulation.solvers.dense import check_memory

    model = ModelParams.from_dict({"n_tls": 12, "tls": TLS})
    with pytest.raises(MemoryError) as dense_refusal:
        check_memory(12, SolverParams(method="dense", memory_fraction=fraction))
    with pytest.raises(MemoryError) as chebyshev_refusal:
        check_chebyshev_memory(model, ChebyshevParams(memory_fraction=fraction))
    dense_needed = re.search(r"what would fit: .*solver\.memory_fraction >= ([\d.e+-]+)",
                             str(dense_refusal.value))
    chebyshev_needed = re.search(r"what would fit: .*chebyshev\.memory_fraction >= ([\d.e+-]+)$",
                                 str(chebyshev_refusal.value))
    assert dense_needed and chebyshev_needed, (str(dense_refusal.value), str(chebyshev_refusal.value))
    assert "n_tls <= 1 " not in str(chebyshev_refusal.value)
    # the fractions named are enough (with the same available memory, up to its drift)
    assert check_memory(12, SolverParams(method="dense",
                                         memory_fraction=1.01 * float(dense_needed[1]))) > 0
    assert check_chebyshev_memory(model, ChebyshevParams(
        memory_fraction=min(1.0, 1.01 * float(chebyshev_needed[1])))) > 0


@pytest.mark.parametrize(("need", "available", "expected"), [
    (184.0, 1e6, "f >= 0.00019"), (1.0, 1.0, "f >= 1"), (0.95, 1.0, "f >= 0.95"),
    (0.951, 1.0, "f >= 0.96"), (2.0, 1.0, None), (0.0, 1.0, None)])
def test_the_fraction_remedy_rounds_up(need, available, expected):
    from manybody.simulation.solvers.memory import fraction_remedy

    assert fraction_remedy("f", need, available) == expected


def test_the_spacing_ratio_alone_is_not_solved_for_by_the_chebyshev_solver(monkeypatch):
    """Under "auto" with equilibration at N = 13 every temperature group is reduced and solved by
    dense ED, and the spacing ratio (of the full Hamiltonian) was asked of the Chebyshev solver
    alone: it solved Q^-1 at N = 13 to throw it away (54-72 s) and returned NaN. It now returns
    the NaN without solving; the absorption is dense ED's, as before."""
    import numpy as np

    from manybody.simulation.solvers.chebyshev import solver as ch

    def refuse(*args, **kwargs):
        raise AssertionError("the Chebyshev solver solved for nothing asked of it")

    monkeypatch.setattr(ch, "respond_with_plan", refuse)
    params = ModelParams.from_dict({"n_tls": 13, "tls": TLS,
                                    "coupling": {"kind": "gaussian", "strength": 0.05},
                                    "equilibration": {"measurement_time": 1e-6}})
    probe = Probe(frequencies=(0.05, 0.1), temperatures=(0.3, 1.0),
                  broadening=Broadening(width=0.2, scaling="relative"),
                  observables=("absorption", "spacing_ratio"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auto = observe(params, 5, 0, probe, SolverParams(method="auto"))
        dense = observe(params, 5, 0, Probe(**{**probe.__dict__, "observables": ("absorption",)}),
                        SolverParams(method="dense"))
    assert np.isnan(auto["spacing_ratio"])
    np.testing.assert_array_equal(auto["absorption"], dense["absorption"])


# --- a break test of the Chebyshev solver inside sweeps (helper-171, session 54) -------------

def _chebyshev_spec(solver: dict, **extra):
    from manybody.runs.spec import RunSpec

    return RunSpec.from_dict({
        "name": "cheb", "seed": 3, "realisations": 2,
        "model": {"n_tls": 5, "tls": TLS, "coupling": {"kind": "gaussian", "strength": 0.05}},
        "probe": {"frequencies": [0.1], "temperatures": [0.05, 0.2],
                  "observables": ["absorption", "specific_heat"]},
        "solver": solver, **extra})


def test_numpy_values_in_the_chebyshev_table_run_and_are_recorded_as_numbers(tmp_path):
    """np.int64(4), np.float32 and an array ladder passed the spec and failed the run with
    "Object of type int64 is not JSON serializable" from the checkpoint's digest."""
    import json

    import numpy as np

    from manybody.runs.sweep import run_sweep

    given = {"n_vectors": np.int64(4), "ladder_ratio": np.float32(2.5),
             "ladder": np.array([0.05, 0.2])}
    spec = _chebyshev_spec({"method": "chebyshev", "chebyshev": given})
    plain = _chebyshev_spec({"method": "chebyshev",
                             "chebyshev": {"n_vectors": 4, "ladder_ratio": 2.5,
                                           "ladder": [0.05, 0.2]}})
    assert spec.digest() == plain.digest()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = run_sweep(spec, output=tmp_path / "np.nc")
        again = run_sweep(plain)
    assert json.loads(ds.attrs["spec"])["solver"]["chebyshev"] == {
        "n_vectors": 4, "ladder_ratio": 2.5, "ladder": [0.05, 0.2]}
    np.testing.assert_array_equal(ds["absorption"].values, again["absorption"].values)


def test_dense_options_under_the_chebyshev_solver_are_said_to_change_nothing():
    """[solver] dtype = "float32" (or memory_fraction) under method = 'chebyshev' changed
    nothing, and nothing said so; "auto" uses them to choose, so there they are kept quiet."""
    from manybody.runs.spec import preflight

    for key, value in (("dtype", "float32"), ("memory_fraction", 0.5)):
        with pytest.warns(UserWarning, match=rf"solver\.{key} = '?{value}'?.*it is dense ED's, and "
                          rf"solver\.method = 'chebyshev' \(the Chebyshev solver's is "
                          rf"solver\.chebyshev\.{key}\)"):
            preflight(_chebyshev_spec({"method": "chebyshev", key: value}))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            preflight(_chebyshev_spec({"method": "auto", key: value}))
        assert not [w for w in caught if f"solver.{key}" in str(w.message)]


@pytest.mark.parametrize(("chebyshev", "route"), [
    ({}, "chebyshev, sparse operators, float32 vectors"),
    ({"dtype": "float64"}, "chebyshev, sparse operators, float64 vectors"),
    ({"n_vectors": 40}, "chebyshev, sparse operators, float64 vectors, exact trace (D = 32 is "
                        "too small for random vectors)")])
def test_the_route_names_the_precision_of_the_vectors(chebyshev, route):
    from manybody.runs.spec import point_routes

    assert point_routes(_chebyshev_spec({"method": "chebyshev", "chebyshev": chebyshev})) == [
        route]


def test_the_results_keep_the_full_options_and_the_realisations_warnings():
    """The file kept neither the Chebyshev options in force (the spec keeps the table as given:
    ``null`` for the defaults) nor a missed target_error (said on the terminal only)."""
    import json

    from manybody.config.solver import ChebyshevParams
    from manybody.runs.results import describe
    from manybody.runs.sweep import run_sweep

    spec = _chebyshev_spec({"method": "chebyshev",
                            "chebyshev": {"target_error": 1e-4, "n_vectors": 2,
                                          "max_vectors": 4}})
    with warnings.catch_warnings(record=True):  # recorded (an "ignore" filter drops them)
        warnings.simplefilter("always")
        ds = run_sweep(spec)
    options = json.loads(ds.attrs["chebyshev_options"])
    assert options == json.loads(json.dumps(ChebyshevParams(
        target_error=1e-4, n_vectors=2, max_vectors=4).__dict__))
    assert options["dtype"] == "float32" and options["truncation_tol"] == 1e-4
    raised = json.loads(ds.attrs["realisation_warnings"])
    assert any("target_error" in r["message"] and r["realisations"] == 2 for r in raised), raised
    assert "realisation_warnings: " in describe(ds)
    dense = run_sweep(_chebyshev_spec({"method": "dense"}))
    assert "chebyshev_options" not in dense.attrs
    assert json.loads(dense.attrs["realisation_warnings"]) == []


@pytest.mark.parametrize(("vectors", "exact"), [(64, True), (8, False)])
def test_the_plan_counts_one_contraction_per_block_of_an_exact_trace(monkeypatch, vectors, exact):
    """An exact trace contracts each block's summed moments once; its plan counted the small
    contraction (8 M^3 flops of a full moment matrix) once per vector and estimated a D = 64
    solve of 2.7 s at 15 s (and one of 8 s at 0.17 h, session 51's note). A stochastic trace
    contracts every vector (its spread is the error bar)."""
    import numpy as np

    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.ensembles import draw_realisation, realisation_rng
    from manybody.simulation.solvers.chebyshev import plan as plan_module
    from manybody.simulation.solvers.chebyshev import solver as ch

    shares = []
    counted = plan_module.rung_seconds

    def spy(*args):
        shares.append(args[-1] if len(args) == 9 else 1.0)
        return counted(*args)

    monkeypatch.setattr(plan_module, "rung_seconds", spy)
    params = ModelParams.from_dict({"n_tls": 6, "tls": TLS,
                                    "coupling": {"kind": "dipolar", "strength": 0.01}})
    real = draw_realisation(params, realisation_rng(1, 0))
    plan = ch.plan_chebyshev(real, [0.05, 0.1], np.geomspace(0.005, 0.2, 12),
                             Broadening(width=0.005), ChebyshevParams(n_vectors=vectors))
    assert (plan.seconds > 0) and shares
    expected = -(-vectors // plan.block) / vectors if exact else 1.0
    assert shares == [expected] * len(shares)
    assert exact == (expected < 1.0)


def test_the_realisations_warnings_are_counted_over_an_interrupted_run(tmp_path):
    """A run stopped after 2 of 4 realisations and resumed recorded the warning "from 2
    realisations" (those of its last stretch); one stopped after every task had finished and
    rerun recorded none. The checkpoint keeps each stretch's warnings and the file sums them."""
    import json

    from manybody.runs.sweep import run_sweep

    spec = _chebyshev_spec({"method": "chebyshev",
                            "chebyshev": {"target_error": 1e-4, "n_vectors": 2,
                                          "max_vectors": 4}},
                           realisations=4)

    def counted(stop_after):
        out = tmp_path / f"stop{stop_after}.nc"

        def progress(done, total):
            if done >= stop_after:
                raise KeyboardInterrupt

        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            with pytest.raises(KeyboardInterrupt):
                run_sweep(spec, output=out, progress=progress, chunk_size=1)
            ds = run_sweep(spec, output=out, resume=True, chunk_size=1)
        return {r["message"][:40]: r["realisations"]
                for r in json.loads(ds.attrs["realisation_warnings"])}

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        whole = run_sweep(spec, chunk_size=1)
    expected = {r["message"][:40]: r["realisations"]
                for r in json.loads(whole.attrs["realisation_warnings"])}
    assert expected and set(expected.values()) == {4}
    assert counted(2) == expected
    assert counted(4) == expected


@pytest.mark.parametrize(("key", "value"), [("dtype", "float64"), ("memory_fraction", 0.9)])
def test_a_dense_option_given_at_its_default_under_chebyshev_is_said_to_change_nothing(key, value):
    """[solver] dtype = "float64" (the default) under method = 'chebyshev' said nothing, and a
    user who wrote it believed the Chebyshev run was float64 (helper-172): a key given is
    reported whatever its value. Not given: nothing."""
    from manybody.runs.spec import preflight

    with pytest.warns(UserWarning, match=rf"solver\.{key} = '?{value}'? has no effect"):
        preflight(_chebyshev_spec({"method": "chebyshev", key: value}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        preflight(_chebyshev_spec({"method": "chebyshev"}))
    assert not [w for w in caught if "solver." + key in str(w.message)]


def test_memory_refusals_under_a_small_fraction_name_a_fraction_and_no_bigger_machine():
    """helper-172: a Chebyshev solve with random-matrix terms under memory_fraction = 1e-6 was
    told only to drop them or use fewer TLS; a dense solve of 25 MB under 1e-5 was offered 'a
    machine with >= 2.5e3 GB' and told 'only 18.3 GB is available'."""
    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.solvers.chebyshev.resources import check_chebyshev_memory
    from manybody.simulation.solvers.dense import dense_memory_message

    model = ModelParams.from_dict({"n_tls": 10, "random_matrix": {"kind": "goe", "weight": 0.1}})
    with pytest.raises(MemoryError, match=r"chebyshev\.memory_fraction >= [\d.e-]+, or drop "
                       r"random_matrix"):
        check_chebyshev_memory(model, ChebyshevParams(memory_fraction=1e-6))
    small = dense_memory_message(10, SolverParams(memory_fraction=1e-5), available=2**34)
    assert "a machine with" not in small
    assert "solver.memory_fraction 1e-05 allows only" in small and "of the 16 GB available" in small
    assert "solver.memory_fraction >= " in small
    large = dense_memory_message(16, SolverParams(), available=2**30)
    assert "a machine with >= " in large and "only 1 GB is available" in large


def test_an_auto_run_that_solved_every_point_densely_keeps_no_chebyshev_options():
    """``chebyshev_options`` was recorded where no point used the Chebyshev solver (helper-172);
    ``solver_routes`` of a mixed sweep now names which points took which route."""
    import json

    from manybody.runs.results import _shown_attribute
    from manybody.runs.sweep import run_sweep

    ds = run_sweep(_chebyshev_spec({"method": "auto"}))
    assert json.loads(ds.attrs["solver_routes"]) == ["dense, float64"]
    assert "chebyshev_options" not in ds.attrs
    mixed = json.dumps(["dense, float64"] * 3 + ["chebyshev, matrix_free operator"] * 2
                       + ["dense, float64"])
    assert _shown_attribute("solver_routes", mixed) == (
        "dense, float64 (4 point(s): points 0-2, 5); "
        "chebyshev, matrix_free operator (2 point(s): points 3-4)")
