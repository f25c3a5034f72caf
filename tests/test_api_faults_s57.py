"""Session 57 (helper-188): bt187's raw Python errors and many-line messages on wrong arguments.

- item 5: ``describe``/``build_dataset``/``output_path``/``check_writable``/``make_parents``
  given None, text, a DataArray: AttributeError or os' "expected str, bytes or os.PathLike".
- item 6: TypeErrors for scalar parameters printed numpy's repr of many lines for an array.
- item 8: ``curves_from_results`` given a DataArray, a path, None, text as the point, None as a
  point's value.
- item 9: the readers and fitters of ``manybody.measured`` and the study summary readers given
  None, a path for an object, a DataFrame, a LossTable for curves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import manybody as mb
from manybody.laws.inputs import LossCurve
from manybody.measured.power_sweep import power_sweep
from manybody.measured.resonance import fit_notch
from manybody.measured.resonator_table import fit_sweeps, read_sweep_index, sweep_files
from manybody.measured.sweeps import check_sweep, read_sweep
from manybody.measured.tables import curves_from_table
from manybody.measured.velocity import read_velocity_table
from manybody.runs.results import (
    build_dataset,
    check_writable,
    dataset_spec,
    describe,
    make_parents,
    output_path,
    realised,
    sweep_points,
)
from manybody.runs.spec import RunSpec
from manybody.runs.sweep import run_sweep
from manybody.study.loss_shift import curves_from_results, parse_point
from manybody.study.specs import load_matrix_element_spec, load_study_spec
from manybody.study.summary import load_rows, read_saturation, read_summary, summarise

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SPEC = {
    "name": "tiny", "seed": 1, "realisations": [2, 3],
    "model": {"n_tls": 3, "tls": {"asymmetry_max": 0.3, "tunnelling_min": 0.001,
                                  "tunnelling_max": 0.3}},
    "sweep": {"model.n_tls": [3, 4]},
    "probe": {"frequencies": [0.1], "temperatures": [0.05, 0.1, 0.2],
              "observables": ["absorption", "velocity_shift"],
              "broadening": {"kind": "gaussian", "width": 0.02}},
}
BIG = np.linspace(0.01, 0.5, 1000)
X = np.geomspace(0.3, 10, 14)
T = 0.1 / X
CURVE = LossCurve(T, np.tanh(X / 2) + 0.05, label="c")


def raised(error, call, *words):
    """The message of ``error`` raised by ``call``: one line, holding each of ``words``."""
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert type(info.value) is error, (type(info.value), message)
    assert "\n" not in message and len(message) < 400, message
    for word in words:
        assert word in message, (word, message)
    return message


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    path = tmp_path_factory.mktemp("s57") / "tiny.nc"
    run_sweep(RunSpec.from_dict(SPEC), path)
    return path, mb.load_results(path)


# ------------------------------------------------------------------- item 5: results module


def test_describe_names_ds_and_path(results):
    path, ds = results
    raised(TypeError, lambda: describe(ds["absorption"]), "describe: ds must be",
           "DataArray 'absorption'")
    raised(TypeError, lambda: describe(str(path)), "ds must be an xarray.Dataset", "load_results")
    raised(TypeError, lambda: describe(None), "ds must be an xarray.Dataset", "got None")
    raised(TypeError, lambda: describe(ds, path=3), "path must be a file path", "got 3")
    assert describe(ds, path=path).startswith(str(path))
    assert describe(ds).startswith("results")


@pytest.mark.parametrize("spec", [None, "abc", "DA"])
def test_build_dataset_names_spec(spec, results):
    spec = results[1]["absorption"] if spec == "DA" else spec
    raised(TypeError, lambda: build_dataset(spec, {}), "spec must be a RunSpec")


@pytest.mark.parametrize("values", [None, "abc", np.ones(3)])
def test_build_dataset_names_values(values):
    raised(TypeError, lambda: build_dataset(RunSpec.from_dict(SPEC), values),
           "values must be a mapping")


def test_build_dataset_names_an_unknown_observable():
    raised(ValueError, lambda: build_dataset(RunSpec.from_dict(SPEC), {"foo": np.ones(3)}),
           "values has the key 'foo', not an observable")


@pytest.mark.parametrize("call", [output_path, check_writable, make_parents])
@pytest.mark.parametrize("bad", [None, 3, BIG])
def test_output_paths_name_path(call, bad):
    raised(TypeError, lambda: call(bad), "path must be a file path")


# ------------------------------------------------- item 6: arrays where a scalar is expected


def _scalar_calls(ds, tiny):
    spectrum = mb.diagonalise(np.diag([0.0, 1.0, 2.0, 3.0]))
    t_mn = np.ones((4, 4))
    q = np.tanh(X / 2)[None, :] * np.ones((3, 1))
    params = mb.ModelParams(n_tls=3, tls=mb.TLSParams(asymmetry_max=0.3, tunnelling_min=0.001,
                                                       tunnelling_max=0.3))
    power = np.geomspace(1e-3, 1e3, 12)
    cool = T[::-1]
    return [
        ("temperature", lambda a: mb.transition_lines(spectrum, t_mn, a)),
        ("min_weight", lambda a: mb.transition_lines(spectrum, t_mn, 0.1, min_weight=a)),
        ("law", lambda a: mb.shift_values(a, X)),
        ("index", lambda a: mb.shift_values("generic", X, index=a)),
        ("n_bootstrap", lambda a: mb.analyse_shape(X, q, n_bootstrap=a)),
        ("smearing", lambda a: mb.analyse_shape(X, q, smearing=a)),
        ("high_x_min", lambda a: mb.analyse_shape(X, q, high_x_min=a)),
        ("n_tls", lambda a: mb.estimate_memory(a)),
        ("dtype", lambda a: mb.estimate_memory(4, dtype=a)),
        ("random_matrix", lambda a: mb.estimate_memory(4, random_matrix=a)),
        ("n_temperatures", lambda a: mb.estimate_memory(4, n_temperatures=a)),
        ("seed", lambda a: mb.realisation_rng(a, 0)),
        ("realisation", lambda a: mb.realisation_rng(0, a)),
        ("seed", lambda a: mb.frozen_fraction(params, a, 2, [0.1])),
        ("realisations", lambda a: mb.frozen_fraction(params, 1, a, [0.1])),
        ("path", lambda a: mb.save_results(ds, a)),
        ("overwrite", lambda a: mb.save_results(ds, tiny.with_name("never.nc"), overwrite=a)),
        ("path", lambda a: mb.load_results(a)),
        ("verify", lambda a: mb.load_results(tiny, verify=a)),
        ("ds", dataset_spec), ("ds", lambda a: sweep_points(a)), ("point", realised),
        ("ds", describe), ("ds", lambda a: curves_from_results(a)),
        ("point", lambda a: curves_from_results(ds, a)),
        ("vectors", lambda a: mb.diagonalise(np.eye(3), vectors=a)),
        ("overwrite", lambda a: mb.diagonalise(np.eye(3), overwrite=a)),
        ("frequency", lambda a: mb.compare_laws(CURVE, a)),
        ("frequency", lambda a: mb.fit_loss(T, np.tanh(X / 2), a)),
        ("label", lambda a: mb.fit_loss(T, np.tanh(X / 2), 0.1, label=a)),
        ("law", lambda a: mb.fit_law(X, np.tanh(X / 2), law=a)),
        ("background", lambda a: mb.fit_law(X, np.tanh(X / 2), background=a)),
        ("smearing", lambda a: mb.fit_law(X, np.tanh(X / 2), smearing=a)),
        ("window", lambda a: mb.mean_spacing_ratio(np.arange(20.0), window=a)),
        ("window", lambda a: mb.spacing_ratios(np.arange(20.0), window=a)),
        ("margin", lambda a: mb.fit_velocity_slopes(cool, np.log(cool), margin=a)),
        ("margin", lambda a: mb.velocity_slopes(cool, np.log(cool), margin=a)),
        ("beta", lambda a: mb.fit_saturation(power, 1 / np.sqrt(1 + power), beta=a)),
        ("scale", lambda a: mb.fit_saturation(power, 1 / np.sqrt(1 + power), scale=a)),
        ("chunk", lambda a: mb.stress_matrix_elements(np.eye(4), np.eye(4), chunk=a)),
        ("normalisation", lambda a: mb.absorption(spectrum, t_mn, [0.1], [0.1],
                                                  normalisation=a)),
        ("method", lambda a: mb.absorption(spectrum, t_mn, [0.1], [0.1], method=a)),
        ("n_tls", lambda a: mb.ModelParams(n_tls=a)),
        ("asymmetry_max", lambda a: mb.TLSParams(asymmetry_max=a)),
        ("reference_beta", lambda a: mb.compare_exponent([CURVE], reference_beta=a)),
        ("path", lambda a: mb.read_loss_table(a)),
        ("path", lambda a: read_sweep(a)),
        ("path", lambda a: read_velocity_table(a)),
        ("path", lambda a: load_rows(a)),
        ("study_dir", lambda a: read_summary(a)),
        ("name", lambda a: load_study_spec(a)),
        ("size", lambda a: load_study_spec("dipolar", a)),
        ("table", lambda a: curves_from_table(a)),
        ("sweep", lambda a: fit_notch(a)),
        ("curves", lambda a: power_sweep(a)),
        ("files", lambda a: fit_sweeps(a)),
    ]


def test_an_array_for_a_scalar_parameter_is_named_in_one_line(results):
    """Property: for every public function with a scalar parameter, a 1000-element array gives
    a TypeError of one short line naming the parameter (numpy's repr spread over many lines)."""
    path, ds = results
    failures = []
    for name, call in _scalar_calls(ds, path):
        try:
            call(BIG)
        except TypeError as exc:
            message = str(exc)
            if "\n" in message or len(message) > 400 or name not in message:
                failures.append(f"{name}: {message[:200]!r}")
        except Exception as exc:  # noqa: BLE001 - any other kind is a failure to report
            failures.append(f"{name}: {type(exc).__name__}: {str(exc)[:200]!r}")
        else:
            failures.append(f"{name}: no error")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("value", [np.ones((30, 30)), pd.Series(np.arange(500.0)),
                                   list(range(1000)), "x\n" * 500])
def test_long_values_are_one_line(value):
    raised(TypeError, lambda: mb.estimate_memory(value), "n_tls must be an integer")
    raised(TypeError, lambda: mb.realisation_rng(0, value), "realisation must be an integer")


def test_the_array_is_described_by_its_shape():
    message = raised(TypeError, lambda: mb.transition_lines(
        mb.diagonalise(np.eye(3)), np.ones((3, 3)), np.geomspace(0.01, 0.5, 25)), "temperature")
    assert "shape (25,)" in message


# ----------------------------------------------------------- item 8: curves_from_results


def test_curves_from_results_names_ds(results):
    path, ds = results
    raised(TypeError, lambda: curves_from_results(ds["absorption"]), "ds must be",
           "DataArray 'absorption'")
    raised(TypeError, lambda: curves_from_results(str(path)), "ds must be an xarray.Dataset")
    raised(TypeError, lambda: curves_from_results(None), "ds must be an xarray.Dataset")


def test_curves_from_results_names_point(results):
    _, ds = results
    raised(TypeError, lambda: curves_from_results(ds, "n_tls=3"),
           "point must be a mapping of axis name to value", "parse_point")
    raised(TypeError, lambda: curves_from_results(ds, {"n_tls": None}), "point['n_tls']",
           "got None")
    raised(TypeError, lambda: curves_from_results(ds, {"n_tls": [3, 4]}), "point['n_tls']")
    loss, shift, frequency, chosen = curves_from_results(ds, parse_point("n_tls=3"))
    assert chosen["n_tls"] == 3 and frequency == pytest.approx(0.1)


def test_summarise_names_ds(results):
    raised(TypeError, lambda: summarise(None, "x"), "summarise: ds must be an xarray.Dataset")


# ---------------------------------------------------------------- item 9: measured, study


def test_curves_from_table_takes_a_loss_table(tmp_path):
    raised(TypeError, lambda: curves_from_table(pd.DataFrame({"a": [1.0]})),
           "table must be a LossTable", "DataFrame")
    raised(TypeError, lambda: curves_from_table("loss.csv"), "table must be a LossTable",
           "read_loss_table(path)")


def test_a_sweep_must_be_read_first():
    for call in (fit_notch, check_sweep):
        raised(TypeError, lambda call=call: call("path.csv"), "sweep must be an S21Sweep",
               "read_sweep(path)")


def test_power_sweep_names_curves(tmp_path):
    table = tmp_path / "loss.csv"
    table.write_text("T (K),loss\n0.05,1e-5\n0.1,2e-5\n0.2,3e-5\n0.3,4e-5\n")
    raised(TypeError, lambda: power_sweep(mb.read_loss_table(table)), "curves must be",
           "curves_from_table")
    raised(TypeError, lambda: power_sweep("abc"), "curves must be")
    raised(TypeError, lambda: power_sweep(None), "curves must be")


@pytest.mark.parametrize("reader", [read_velocity_table, read_sweep, read_sweep_index,
                                    mb.read_loss_table, load_rows])
@pytest.mark.parametrize("bad", [None, 3.5, {"a": 1}])
def test_readers_name_path(reader, bad):
    raised(TypeError, lambda: reader(bad), "path must be a file path")


@pytest.mark.parametrize("reader", [read_velocity_table, read_sweep, read_sweep_index, load_rows])
def test_readers_refuse_text_as_path(reader):
    raised(ValueError, lambda: reader("T,dv\n0.1,2\n0.2,3\n"), "path must be the file path",
           "line breaks")


def test_fit_sweeps_names_files(results):
    raised(TypeError, lambda: fit_sweeps(None), "files must be a list of sweep file paths")
    raised(TypeError, lambda: fit_sweeps(results[1]["absorption"]), "files must be",
           "DataArray 'absorption'")
    raised(TypeError, lambda: fit_sweeps(["a.csv", None]), "files[1] must be a file path")
    raised(TypeError, lambda: sweep_files(None), "spec must be a file path")
    raised(ValueError, lambda: fit_sweeps("a\nb"), "files must be the file path",
           "line breaks")


@pytest.mark.parametrize("reader", [read_summary, read_saturation])
def test_study_readers_name_study_dir(reader):
    raised(TypeError, lambda: reader(None), "study_dir must be a file path")
    raised(TypeError, lambda: reader(3), "study_dir must be a file path")
    raised(ValueError, lambda: reader("a\nb"), "study_dir must be the file path", "line breaks")


def test_study_specs_name_name_and_size():
    raised(TypeError, lambda: load_study_spec(None), "name must be a string")
    raised(TypeError, lambda: load_matrix_element_spec(None), "name must be a string")
    raised(ValueError, lambda: load_study_spec("dipolr"), "name must be one of",
           "did you mean 'dipolar'")
    raised(TypeError, lambda: load_study_spec("dipolar", None), "size must be a string")
    assert load_study_spec("dipolar", "tiny").name
