"""|T_mn|^2 statistics as observables of a run: the probe's bins, the dense solver's sums, the
results file, the Chebyshev refusal, and the study's pooling against the loop it replaced."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from manybody.config.model import CouplingParams, ModelParams, RandomMatrixParams, StressParams, TLSParams
from manybody.config.probe import MatrixElementBins, Probe
from manybody.config.solver import SolverParams
from manybody.runs.spec import RunSpec
from manybody.runs.sweep import run_sweep
from manybody.simulation import observe as pipeline
from manybody.simulation.ensembles import draw_realisation, realisation_rng
from manybody.simulation.observables.statistics import matrix_element_statistics
from manybody.simulation.solvers.dense import solve
from manybody.study.matrix_elements import MATRIX_ELEMENT_MIN_PAIRS, matrix_element_dataset
from manybody.study.specs import MATRIX_ELEMENT_SPECS, load_matrix_element_spec

OBSERVABLES = ["stress_squared_sum", "pair_count"]
ENERGY = [0.0, 0.1, 0.2, 0.4, 0.8]


def spec_dict() -> dict:
    return {
        "name": "me",
        "seed": 5,
        "realisations": 2,
        "model": {"n_tls": 3, "tls": {"asymmetry_max": 0.3, "tunnelling_min": 1e-3,
                                      "tunnelling_max": 0.3},
                  "stress": {"distribution": "random_sign"}},
        "probe": {"frequencies": [0.1], "temperatures": [0.1], "observables": list(OBSERVABLES),
                  "matrix_element_bins": {"energy": list(ENERGY),
                                          "frequency": {"min": 1e-3, "max": 1.0, "count": 6}}},
    }


def test_bins_parse_log_spaced_and_round_trip():
    spec = RunSpec.from_dict(spec_dict())
    bins = spec.probe.matrix_element_bins
    assert bins.energy == tuple(ENERGY)
    assert np.array_equal(bins.frequency, np.geomspace(1e-3, 1.0, 7))  # count = bins
    again = RunSpec.from_dict(spec.to_dict())
    assert again == spec and again.digest() == spec.digest()


def test_specs_without_bins_keep_their_dict():
    d = spec_dict()
    d["probe"] = {"frequencies": [0.1], "temperatures": [0.1]}
    assert "matrix_element_bins" not in RunSpec.from_dict(d).to_dict()["probe"]


@pytest.mark.parametrize(
    ("bins", "exc", "words"),
    [
        ({"energy": [0.0, 0.2, 0.1], "frequency": [0.01, 0.1]}, ValueError,
         ["matrix_element_bins.energy", "increasing"]),
        ({"energy": [-0.1, 0.2], "frequency": [0.01, 0.1]}, ValueError,
         ["matrix_element_bins.energy", ">= 0"]),
        ({"energy": [0.0, 0.2], "frequency": [-0.01, 0.1]}, ValueError,
         ["matrix_element_bins.frequency", "> 0"]),
        ({"energy": [0.0], "frequency": [0.01, 0.1]}, ValueError,
         ["matrix_element_bins.energy", "at least 2"]),
        ({"energy": [0.0, 0.2], "frequency": [0.01]}, ValueError,
         ["matrix_element_bins.frequency", "at least 2"]),
        ({"energy": "0 0.2", "frequency": [0.01, 0.1]}, TypeError, ["matrix_element_bins.energy"]),
        ({"energy": [0.0, "a"], "frequency": [0.01, 0.1]}, TypeError,
         ["matrix_element_bins.energy", "real numbers"]),
        ({"energy": [0.0, 0.2], "frequency": 0.1}, TypeError, ["matrix_element_bins.frequency"]),
        ({"energy": [0.0, 0.2], "frequency": {"min": 0.1, "max": 0.01, "count": 3}}, ValueError,
         ["matrix_element_bins.frequency", "min < max"]),
        ({"energy": [0.0, 0.2], "frequency": {"min": 0.01, "max": 0.1}}, ValueError,
         ["matrix_element_bins.frequency", "count"]),
        ({"energy": [0.0, 0.2]}, ValueError, ["matrix_element_bins", "frequency"]),
        ({"energy": [0.0, 0.2], "frequency": [0.01, 0.1], "omega": [1]}, ValueError,
         ["matrix_element_bins", "'omega'"]),
        ([0.0, 0.2], TypeError, ["matrix_element_bins"]),
    ],
)
def test_bad_bins_are_refused_by_name(bins, exc, words):
    d = spec_dict()
    d["probe"]["matrix_element_bins"] = bins
    with pytest.raises(exc) as info:
        RunSpec.from_dict(d)
    for word in words:
        assert word in str(info.value), str(info.value)


def test_bins_are_required_by_the_observables_and_refused_without_them():
    with pytest.raises(ValueError, match="needs matrix_element_bins"):
        Probe(frequencies=(0.1,), temperatures=(0.1,), observables=("pair_count",))
    bins = MatrixElementBins(energy=(0.0, 1.0), frequency=(0.01, 1.0))
    with pytest.raises(ValueError, match="matrix_element_bins is only used by"):
        Probe(frequencies=(0.1,), temperatures=(0.1,), matrix_element_bins=bins)
    with pytest.raises(TypeError, match="matrix_element_bins must be a MatrixElementBins"):
        Probe(frequencies=(0.1,), temperatures=(0.1,), observables=("pair_count",),
              matrix_element_bins={"energy": [0, 1], "frequency": [0.01, 1]})


@pytest.mark.parametrize("method", ["chebyshev"])
def test_chebyshev_refuses_the_observables_up_front(method, tmp_path):
    spec = dataclasses.replace(RunSpec.from_dict(spec_dict()), solver=SolverParams(method=method))
    with pytest.raises(ValueError, match=r"stress_squared_sum.*need eigenstates.*'chebyshev'"):
        spec.check()
    with pytest.raises(ValueError, match="stress_squared_sum"):
        run_sweep(spec, tmp_path / "x.nc")
    assert not (tmp_path / "x.nc").exists()


def test_dense_sums_give_the_binned_mean():
    spec = RunSpec.from_dict(spec_dict())
    out = pipeline.observe(spec.model, spec.seed, 1, spec.probe, spec.solver)
    assert set(out) == set(OBSERVABLES)
    spectrum, elements = solve(draw_realisation(spec.model, realisation_rng(spec.seed, 1)))
    bins = spec.probe.matrix_element_bins
    stats = matrix_element_statistics(spectrum.energies, elements, np.asarray(bins.energy),
                                      np.asarray(bins.frequency))
    assert np.array_equal(out["pair_count"], stats["count"])
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(out["stress_squared_sum"] / out["pair_count"], stats["mean"],
                                   rtol=1e-14)
    assert 0 < out["pair_count"].sum() <= 2**3 * (2**3 - 1) // 2  # pairs with E_m > E_n in the bins


def test_results_file_has_the_variables_with_dims_units_and_bin_coordinates(tmp_path):
    spec = RunSpec.from_dict(spec_dict())
    ds = run_sweep(spec, tmp_path / "me.nc", n_jobs=1)
    assert ds["stress_squared_sum"].dims == ("realisation", "energy_bin", "frequency_bin")
    assert ds["pair_count"].dims == ("realisation", "energy_bin", "frequency_bin")
    assert ds["stress_squared_sum"].attrs["units"] == "K^2"
    assert ds["pair_count"].attrs["units"] == "1"
    assert ds["energy_bin"].attrs["units"] == "K" and ds["frequency_bin"].attrs["units"] == "K"
    np.testing.assert_allclose(ds["energy_bin"], [0.05, 0.15, 0.3, 0.6])
    edges = np.geomspace(1e-3, 1.0, 7)
    np.testing.assert_allclose(ds["frequency_bin"], np.sqrt(edges[1:] * edges[:-1]))
    assert np.array_equal(ds["frequency_bin_bounds"].values, np.stack([edges[:-1], edges[1:]], 1))
    assert np.array_equal(ds["energy_bin_bounds"].values[:, 1], ENERGY[1:])
    assert ds.attrs["spec_sha256"] == spec.digest()  # provenance like any run
    # read back, every coordinate and variable has its units: xarray drops those of bounds
    # variables on writing ('energy_bin_bounds [?]' in manybody info, session 33)
    from manybody import load_results

    back = load_results(tmp_path / "me.nc")
    missing = [name for name, var in back.variables.items() if "units" not in var.attrs]
    assert missing == [], missing
    assert back["energy_bin_bounds"].attrs["units"] == "K"


def _old_loop(n_tls: int, seed: int, realisations: int):
    """The study's |T_mn|^2 loop before it became sweep runs (reference, verbatim formulas)."""
    tls = TLSParams(asymmetry_max=0.3, tunnelling_min=1e-3, tunnelling_max=0.3)
    systems = [
        ModelParams(n_tls=n_tls, tls=tls, stress=StressParams(distribution="random_sign")),
        ModelParams(n_tls=n_tls, tls=tls, coupling=CouplingParams(kind="dipolar", strength=0.1),
                    stress=StressParams(distribution="random_sign")),
        ModelParams(n_tls=n_tls, tls=None, random_matrix=RandomMatrixParams(kind="flat", weight=10.0),
                    stress=StressParams(distribution="none", random_matrix=1.0)),
    ]
    energy_edges = np.array([0.0, 0.1, 0.2, 0.4, 0.8])
    frequency_edges = np.geomspace(1e-3, 1.0, 31)
    means, errors, counts = [], [], []
    for params in systems:
        totals, pairs = [], []
        for r in range(realisations):
            spectrum, elements = solve(draw_realisation(params, realisation_rng(seed, r)))
            stats = matrix_element_statistics(spectrum.energies, elements, energy_edges,
                                              frequency_edges)
            totals.append(np.nan_to_num(stats["mean"]) * stats["count"])
            pairs.append(stats["count"])
        totals, pairs = np.array(totals), np.array(pairs)
        total, count = totals.sum(0), pairs.sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / count
            resid = totals - mean * pairs
            n = realisations
            error = np.sqrt(n / max(n - 1, 1) * np.nansum(resid**2, axis=0)) / count
        scale = np.nanmean(mean)
        mean, error = mean / scale, error / scale
        drop = ~(mean > 1e-12) | (count < MATRIX_ELEMENT_MIN_PAIRS)
        mean[drop] = np.nan
        error[drop] = np.nan
        means.append(mean)
        errors.append(error)
        counts.append(count)
    return systems, np.array(means), np.array(errors), np.array(counts)


def test_pooled_study_runs_equal_the_old_loop(tmp_path):
    specs = {name: load_matrix_element_spec(name, "tiny") for name in MATRIX_ELEMENT_SPECS}
    first = next(iter(specs.values()))
    assert (first.model.n_tls, first.realisations, first.seed) == (4, 3, 20261123)
    systems, mean, error, count = _old_loop(4, 20261123, 3)
    assert [spec.model for spec in specs.values()] == systems  # the same three systems
    results = {label: run_sweep(specs[name], tmp_path / f"{name}.nc", n_jobs=1)
               for name, label in MATRIX_ELEMENT_SPECS.items()}
    ds = matrix_element_dataset(results)
    assert list(ds["system"].values) == list(MATRIX_ELEMENT_SPECS.values())
    got = ds["mean_square_stress"].values
    assert np.array_equal(np.isnan(got), np.isnan(mean))
    np.testing.assert_allclose(got, mean, rtol=1e-12, atol=0, equal_nan=True)
    # the old loop scaled the numerator's error; the error is now the plotted ratio's, which
    # differs by the normalisation's own scatter (a few per cent here)
    got = ds["standard_error"].values
    assert np.array_equal(np.isnan(got), np.isnan(error))
    shown = np.isfinite(error)
    assert np.all((got[shown] > 0.5 * error[shown]) & (got[shown] < 2 * error[shown]))
    assert np.array_equal(ds["pair_count"].values, count.astype(np.int64))
    assert (ds.attrs["n_tls"], ds.attrs["realisations"]) == (4, 3)


def test_pooling_refuses_runs_that_do_not_match(tmp_path):
    d = spec_dict()
    a = run_sweep(RunSpec.from_dict(d), tmp_path / "a.nc", n_jobs=1)
    d2 = copy.deepcopy(d)
    d2["seed"] = 6
    b = run_sweep(RunSpec.from_dict(d2), tmp_path / "b.nc", n_jobs=1)
    with pytest.raises(ValueError, match="bins, N, seed or realisations"):
        matrix_element_dataset({"a": a, "b": b})


def test_info_describes_the_pooled_file(tmp_path, capsys):
    """`manybody study` points to matrix_elements.nc; `manybody info` refused it as "not a
    manybody results file" (a tester, session 38): it now says what the pool holds."""
    from manybody.cli import main
    from manybody.study.matrix_elements import write_matrix_elements

    name, label = next(iter(MATRIX_ELEMENT_SPECS.items()))
    results = {label: run_sweep(load_matrix_element_spec(name, "tiny"), tmp_path / "a.nc",
                                n_jobs=1)}
    path = tmp_path / "matrix_elements.nc"
    write_matrix_elements(path, results)
    pairs = int(matrix_element_dataset(results)["pair_count"].values.sum())
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "|T_mn|^2 statistics pooled by manybody study" in out
    assert "N = 4 TLS, seed 20261123, 3 realisations per system" in out
    assert f"{label}: {pairs} pairs" in out
    # a netCDF file of neither kind is still refused by name
    matrix_element_dataset(results).drop_vars("mean_square_stress").to_netcdf(
        tmp_path / "other.nc", engine="h5netcdf")
    assert main(["info", str(tmp_path / "other.nc")]) == 2
    assert "not a manybody results file" in capsys.readouterr().err


def test_error_bars_are_those_of_the_normalised_mean():
    """The figure plots each bin's pooled mean divided by the mean over bins of the same
    realisations; its error bars must be that ratio's. A level common to every bin of a
    realisation (here lognormal, sigma 0.6) cancels in the ratio: the scaled numerator's error,
    which the pooling drew until session 40, was several times the true scatter. Checked against
    the scatter of the plotted ratio over 300 independent studies."""
    from manybody.study.matrix_elements import pooled_statistics

    rng = np.random.default_rng(7)
    shape_of_bins = np.array([[1.0, 2.0, 0.5], [1.5, 0.8, 3.0]])

    def study(n=60):
        level = rng.lognormal(0.0, 0.6, size=n)[:, None, None]
        pairs = rng.poisson(40, size=(n, *shape_of_bins.shape)) + 1
        # a sum of `pairs` exponential |T_mn|^2 of mean level * shape: a Gamma variable
        totals = rng.gamma(pairs, level * shape_of_bins)
        return totals, pairs

    ratios, errors = [], []
    for _ in range(300):
        totals, pairs = study()
        mean, error, _ = pooled_statistics(totals, pairs)
        ratios.append(mean)
        errors.append(error)
    scatter = np.std(ratios, axis=0, ddof=1)
    np.testing.assert_allclose(np.mean(errors, axis=0), scatter, rtol=0.15)
    totals, pairs = study()
    with np.errstate(invalid="ignore"):
        pooled = totals.sum(0) / pairs.sum(0)
        scaled_numerator = (np.sqrt(60 / 59 * ((totals - pooled * pairs) ** 2).sum(0))
                            / pairs.sum(0) / np.nanmean(pooled))
    assert np.all(scaled_numerator > 2.5 * scatter)  # what was drawn: the common level's scatter
