"""Faults of a tester (bt189): keys written at their defaults that change nothing were not warned;
--error-column none / --power-column none with no such column, and --frequency with a relative
velocity shift, changed nothing without a word; a resample spread of 0 by construction."""

from __future__ import annotations

import tomllib
import warnings

import numpy as np
import pytest

from manybody.cli.app import main
from manybody.runs.spec import RunSpec, preflight
from manybody.study.loss_shift import index_spread

TINY = """name = "tiny"
seed = 1
realisations = 2
[model]
n_tls = 3
[model.tls]
asymmetry_max = 0.3
tunnelling_min = 0.001
tunnelling_max = 0.3
{model}
[probe]
frequencies = [0.1]
temperatures = {{ x_min = 0.2, x_max = 10.0, count = 9 }}
observables = ["absorption", "velocity_shift"]
[probe.broadening]
kind = "gaussian"
width = 0.02
{broadening}
{rest}
"""


def _messages(text: str, tmp_path) -> list[str]:
    path = tmp_path / "spec.toml"
    path.write_text(text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        preflight(RunSpec.from_toml(path))
    return [str(w.message) for w in caught]


GAUSSIAN = ('[model.coupling]\nkind = "gaussian"\nstrength = 0.01\norientation = "uniform"\n'
            "min_distance = 0.0")


# ------------------------------------------------------------------------------------ fault 11
@pytest.mark.parametrize("model, broadening, rest, key", [
    (GAUSSIAN, "", "", "model.coupling.min_distance = 0.0"),
    (GAUSSIAN, "", "", "model.coupling.orientation = 'uniform'"),
    ("", "resolution = 10", "", "probe.broadening.resolution = 10"),
    ("", "", "[solver.chebyshev]\nn_vectors = 8", "solver.chebyshev.n_vectors = 8"),
    ('[model.coupling]\nkind = "gaussian"\nstrength = 0.01',
     "", '[sweep]\n"model.coupling.min_distance" = [0.0, 0.5]',
     "model.coupling.min_distance = 0.0, 0.5"),
])
def test_a_key_written_at_its_default_that_changes_nothing_is_warned(tmp_path, model, broadening,
                                                                      rest, key):
    said = _messages(TINY.format(model=model, broadening=broadening, rest=rest), tmp_path)
    assert any(m.startswith(key) and "has no effect" in m for m in said), said


def test_a_key_written_at_its_default_that_has_an_effect_is_not_warned(tmp_path):
    model = '[model.coupling]\nkind = "dipolar"\nstrength = 0.01\norientation = "uniform"\n' \
            "min_distance = 0.0"
    said = _messages(TINY.format(model=model, broadening="resolution = 10", rest=""), tmp_path)
    assert not any("model.coupling" in m for m in said), said
    assert any(m.startswith("probe.broadening.resolution") for m in said), said


def test_a_spec_built_in_python_keeps_the_rule_of_values_away_from_the_default(tmp_path):
    text = TINY.format(model=GAUSSIAN, broadening="", rest="")
    spec = RunSpec.from_dict(tomllib.loads(text))
    assert spec.given_keys is not None and "model.coupling.min_distance" in spec.given_keys
    built = RunSpec(name=spec.name, seed=spec.seed, realisations=spec.realisations,
                    model=spec.model, probe=spec.probe, solver=spec.solver)
    assert built.given_keys is None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        preflight(built)
    assert not any("has no effect" in str(w.message) for w in caught)
    recorded = RunSpec.from_record(spec.to_dict())  # every key written: none counts as given
    assert recorded.given_keys is None
    assert spec.resized(n_tls=4).given_keys == spec.given_keys


# --------------------------------------------------------------------------------- faults 12, 15
def _table(path, header: str, rows) -> str:
    path.write_text(header + "\n" + "\n".join(",".join(f"{x:.9g}" for x in row) for row in rows)
                    + "\n")
    return str(path)


def _loss(tmp_path, with_power: bool = True, with_error: bool = False) -> str:
    t = np.geomspace(20, 400, 16)
    x = 0.2 * 5.0 / (t / 1e3 * 20.84)
    loss = 8e-7 * np.tanh(x) + 1e-8 * np.sin(7 * t)
    cols = [t] + ([np.full_like(t, -100.0)] if with_power else []) + [loss] \
        + ([0.02 * loss] if with_error else [])
    header = "T (mK)" + (",power (dBm)" if with_power else "") + ",1/Q" \
        + (",sigma" if with_error else "")
    return _table(tmp_path / "loss.csv", header, np.column_stack(cols))


def _velocity(tmp_path) -> str:
    t = np.geomspace(0.01, 10, 40)
    shift = 1e-5 * (np.log(t / 0.01) - 2 * np.clip(np.log(t / 0.5), 0, None)) \
        + 1e-8 * np.sin(5 * np.arange(40))
    return _table(tmp_path / "vel.csv", "T (K),dv/v", np.column_stack([t, shift]))


@pytest.mark.parametrize("option, table, words", [
    ("--error-column", dict(with_power=True), "no error (uncertainty) column"),
    ("--power-column", dict(with_power=False), "no power column"),
])
def test_column_none_without_such_a_column_is_noted(tmp_path, capsys, option, table, words):
    path = _loss(tmp_path, **table)
    assert main(["fit-data", path, "--frequency", "5GHz", option, "none",
                 "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert f"note: {option} none changed nothing: {words}" in err, err


def test_column_none_with_such_a_column_is_not_noted(tmp_path, capsys):
    path = _loss(tmp_path, with_power=True, with_error=True)
    assert main(["fit-data", path, "--frequency", "5GHz", "--error-column", "none",
                 "--power-column", "none", "--out", str(tmp_path / "o")]) == 0
    assert "changed nothing" not in capsys.readouterr().err


def test_velocity_error_column_none_without_one_is_noted(tmp_path, capsys):
    assert main(["fit-data", "--velocity", _velocity(tmp_path), "--error-column", "none",
                 "--out", str(tmp_path / "o")]) == 0
    assert "note: --error-column none changed nothing" in capsys.readouterr().err


def test_frequency_with_a_relative_velocity_shift_is_noted(tmp_path, capsys):
    assert main(["fit-data", "--velocity", _velocity(tmp_path), "--frequency", "5GHz",
                 "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "note: --frequency is recorded in velocity_results.json only" in err, err
    assert "'dv/v'" in err


# -------------------------------------------------------------------------------------- extra
def test_no_spread_from_too_few_distinct_resamples():
    rng = np.random.default_rng(1)
    t = np.geomspace(0.02, 0.5, 12)
    x = 0.1 / t
    loss = np.tanh(x)[None, :] * (1 + 0.1 * rng.standard_normal((2, 12)))
    shift = np.log(t / 0.1)[None, :] * (1 + 0.1 * rng.standard_normal((2, 12)))
    distinct: dict[str, int] = {}
    spread, _ = index_spread(t, loss, shift, 0.1, {}, n_resamples=20, distinct=distinct)
    assert distinct and max(distinct.values()) <= 3  # 2 realisations: {0,0}, {0,1}, {1,1}
    assert all(np.isnan(v) or np.isinf(v) for v in spread.values()), spread


def test_simulated_with_two_realisations_says_the_spread_cannot_be_estimated(tmp_path, capsys):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY.format(model="", broadening="", rest=""))
    results = tmp_path / "tiny.nc"
    assert main(["run", str(spec), "-o", str(results)]) == 0
    capsys.readouterr()
    assert main(["fit-data", str(results), "--simulated", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "spread over resamples cannot be estimated" in out, out
    assert "spread over resamples 0.000" not in out
    assert "median correlation nan" not in out
