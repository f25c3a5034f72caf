"""Session 56 (helper-186): bt185's raw Python errors from the public API on wrong arguments.

- ``compare_laws`` / ``fit_joint`` / ``fit_loss_shift`` / ``compare_loss_shift`` given None or a
  number as ``curves``: "'NoneType' object is not iterable".
- ``fit_loss_shift(band="0,inf")``: the string read letter by letter; ``shift_values(index=...)``
  took "0.5" as a number and a list got float()'s own error.
- ``fit_velocity_slopes(None, dv)``: "got shape ()" and the advice to measure more temperatures.
- ``dataset_spec`` / ``sweep_points`` / ``realised`` given None, a path, a dict or a DataArray,
  ``sweep_points`` another run's spec, ``realised`` a reduced point or a NaN count.
- Text given as the path to ``read_loss_table``, ``load_results``, ``RunSpec.from_toml``: the
  raw "[Errno 36] File name too long" or "not found".
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import manybody as mb
from manybody.laws.fit import fit_joint
from manybody.laws.inputs import LossCurve, ShiftCurve
from manybody.runs.results import dataset_spec, realised, sweep_points
from manybody.runs.spec import RunSpec
from manybody.runs.sweep import run_sweep

X = np.geomspace(0.3, 10, 14)
T = 0.1 / X
CURVE = LossCurve(T, np.tanh(X / 2) + 0.05, label="c")
SHIFT = ShiftCurve(T, 1e-6 * np.log(T))

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


# ------------------------------------------------------------------------------- loss curves


@pytest.mark.parametrize("call", [
    lambda c: mb.compare_laws(c, 0.1),
    lambda c: fit_joint(c, 0.1),
    lambda c: mb.fit_loss_shift(c, SHIFT, 0.1),
    lambda c: mb.compare_loss_shift(c, SHIFT, 0.1),
])
@pytest.mark.parametrize(("curves", "shown"), [(None, "got None"), (5, "got 5"),
                                               (np.ones(3), "array of shape"),
                                               ([CURVE, 3], r"curves\[1\] is 3")])
def test_curves_that_are_no_loss_curves_are_named(call, curves, shown):
    with pytest.raises(TypeError, match=rf"curves must be a LossCurve or a non-empty sequence of "
                                        rf"LossCurve.*{shown}"):
        call(curves)


def test_one_curve_or_a_list_still_fits_and_a_shift_mode_needs_no_curve():
    assert mb.compare_laws(CURVE, 0.1).preferred in ("tls", "generic", "family")
    assert "index" in mb.fit_loss_shift([CURVE], SHIFT, 0.1).fit.parameters
    assert set(mb.compare_loss_shift(None, SHIFT, 0.1, modes="shift").fits) == {"shift"}


# ------------------------------------------------------------------------------ band, index


@pytest.mark.parametrize(("band", "error", "words"), [
    ("0,inf", TypeError, r"band must be a pair \(nu_lo, nu_hi\).*got '0,inf' \(a string\)"),
    (("0", 3), TypeError, r"band\[0\] \(nu_lo\) must be a real number.*'0'"),
    ((0.5, 2, 3), ValueError, r"band must be a pair.*3 value"),
])
def test_a_band_that_is_no_pair_of_numbers_is_named(band, error, words):
    with pytest.raises(error, match=words):
        mb.fit_loss_shift([CURVE], SHIFT, 0.1, band=band)
    with pytest.raises(error, match=words):
        mb.shift_values("generic", np.array([1.0, 2.0]), band=band)


def test_a_band_of_numbers_still_fits():
    fit = mb.fit_loss_shift([CURVE], SHIFT, 0.1, band=(0, math.inf))
    assert fit.fit.options["band"] == (0.0, math.inf)


@pytest.mark.parametrize(("index", "words"), [("0.5", r"'0\.5' \(a string; write the number"),
                                              ([0.5], r"got \[0\.5\]"), (True, "a boolean")])
def test_shift_values_index_must_be_a_real_number(index, words):
    with pytest.raises(TypeError, match=rf"index must be a real number.*{words}"):
        mb.shift_values("family", np.array([1.0, 2.0]), index=index)


def test_shift_values_with_a_numeric_index_still_works():
    a = mb.shift_values("family", np.array([1.0, 2.0]), index=0.5)
    assert np.allclose(a, [0.00755829, -0.18457684], rtol=1e-5)


# ---------------------------------------------------------------------------------- velocity


def test_fit_velocity_slopes_names_none_and_strings():
    t = np.geomspace(0.01, 1, 10)
    with pytest.raises(TypeError, match="temperatures must be an array of real numbers, got None"):
        mb.fit_velocity_slopes(None, np.ones(10))
    with pytest.raises(TypeError, match="dv must be an array of real numbers, got None"):
        mb.fit_velocity_slopes(t, None)
    with pytest.raises(TypeError, match="sigma must be an array of real numbers, got 'a'"):
        mb.fit_velocity_slopes(t, np.ones(10), sigma="a")


# ------------------------------------------------------------------------------ results files

SPEC = {
    "name": "tiny", "seed": 1, "realisations": [2, 3],
    "model": {"n_tls": 3, "tls": {"asymmetry_max": 0.3, "tunnelling_min": 0.001,
                                  "tunnelling_max": 0.3}},
    "sweep": {"model.n_tls": [3, 4]},
    "probe": {"frequencies": [0.1], "temperatures": [0.05, 0.1, 0.2],
              "observables": ["absorption"], "broadening": {"kind": "gaussian", "width": 0.02}},
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    path = tmp_path_factory.mktemp("s56") / "tiny.nc"
    run_sweep(RunSpec.from_dict(SPEC), path)
    return path, mb.load_results(path)


@pytest.mark.parametrize("call", [dataset_spec, lambda ds: sweep_points(ds), realised])
def test_no_dataset_is_a_type_error_at_the_call(call, results):
    path, ds = results
    with pytest.raises(TypeError, match="must be an xarray.Dataset.*got None"):
        call(None)
    with pytest.raises(TypeError, match=r"got the path .*load_results\(path\)"):
        call(str(path))
    with pytest.raises(TypeError, match=r"must be an xarray.Dataset.*got \{\}"):
        call({})
    with pytest.raises(TypeError, match="got the DataArray 'absorption'"):
        call(ds["absorption"].isel(n_tls=0))


def test_sweep_points_refuses_another_runs_spec(results):
    _, ds = results
    with pytest.raises(TypeError, match="spec must be a RunSpec"):
        sweep_points(ds, spec={"seed": 1})
    other = copy.deepcopy(SPEC)
    other["sweep"] = {"model.tls.asymmetry_max": [0.2, 0.3]}
    with pytest.raises(ValueError, match="spec does not describe this results file.*asymmetry_max.*"
                                         "not a dimension of the file"):
        sweep_points(ds, spec=RunSpec.from_dict(other))
    other = copy.deepcopy(SPEC)
    other["sweep"] = {"model.n_tls": [3, 5]}
    with pytest.raises(ValueError, match="model.n_tls values"):
        sweep_points(ds, spec=RunSpec.from_dict(other))
    other = copy.deepcopy(SPEC)
    other["realisations"] = [3, 3]
    with pytest.raises(ValueError, match="realisation counts"):
        sweep_points(ds, spec=RunSpec.from_dict(other))


def test_realised_refuses_a_reduced_point_and_a_bad_count(results):
    _, ds = results
    point = ds.isel(n_tls=0)
    with pytest.raises(ValueError, match="needs the point's realisation dimension"):
        realised(point.mean("realisation"))
    for bad in (np.nan, -1, 7):
        with pytest.raises(ValueError, match="realisation_count must be a whole number"):
            realised(point.assign(realisation_count=bad))


def test_valid_results_calls_still_work(results):
    _, ds = results
    spec = dataset_spec(ds)
    points = list(sweep_points(ds, spec))
    assert len(points) == 2 == len(list(sweep_points(ds)))
    assert realised(ds.isel(n_tls=0)).sizes["realisation"] == 2
    assert points[1].data.sizes["realisation"] == 3


# ----------------------------------------------------------------------- text given as a path


def test_text_given_as_a_path_is_named(tmp_path):
    with pytest.raises(ValueError, match="path must be the file path of the loss table, got text "
                                         "of 5000 bytes, longer"):
        mb.read_loss_table("x" * 5000)
    with pytest.raises(ValueError, match="loss table, got text with line breaks.*write the table"):
        mb.read_loss_table("T,loss\n0.1,1e-5\n0.2,2e-5\n")
    with pytest.raises(ValueError, match="file path of the results file.*5000 bytes"):
        mb.load_results("x" * 5000)
    with pytest.raises(ValueError, match=r"run specification \(TOML\), got text of 5000 bytes.*"
                                         r"from_dict"):
        RunSpec.from_toml("y" * 5000)
    with pytest.raises(ValueError, match="NUL character"):
        mb.load_results("a\0b")


def test_a_path_still_reads_and_a_missing_one_is_not_found(tmp_path):
    table = tmp_path / "loss.csv"
    table.write_text("T (K),loss\n" + "".join(f"{t:g},{1e-5 * (1 + i)}\n"
                                                for i, t in enumerate([0.05, 0.1, 0.2, 0.3])))
    assert mb.read_loss_table(table).loss.size == 4
    with pytest.raises(FileNotFoundError, match="not found"):
        mb.read_loss_table(tmp_path / "missing.csv")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        RunSpec.from_toml(tmp_path / "missing.toml")
