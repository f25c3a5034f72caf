"""Wrong arguments to the public functions of the velocity reader, the resonator table, the power
sweep and the simulated loss-and-shift curves: one line naming the parameter, before any work
(bt190)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import manybody.measured.power_sweep as PS
import manybody.measured.resonator_table as RT
import manybody.measured.velocity as V
from manybody.config.model import TLSParams
from manybody.study import loss_shift as L

T = np.array([0.01, 0.02, 0.05, 0.1, 0.2])
LOSS = np.tile([1.0, 2.0, 3.0, 4.0, 5.0], (6, 1)) * np.linspace(0.8, 1.2, 6)[:, None]
SHIFT = -np.log(T)[None, :] * np.linspace(0.9, 1.1, 6)[:, None]


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "v.csv"
    rows = "\n".join(f"{t * 1e3:g},{-1e-5 * np.log(t):.6g}" for t in T)
    path.write_text(f"Temperature (mK),df/f\n{rows}\n")
    return str(path)


def _one_line(exc, *names):
    text = str(exc.value)
    assert "\n" not in text and len(text) < 400, text
    for name in names:
        assert name in text, text
    return text


@pytest.mark.parametrize("value,kind", [
    ("5GHz", TypeError), ([5e9], TypeError), (np.ones(1000), TypeError), (True, TypeError),
    (float("nan"), ValueError), (0, ValueError), (-5e9, ValueError), (float("inf"), ValueError)])
def test_velocity_frequency_hz(table, value, kind):
    with pytest.raises(kind) as exc:
        V.read_velocity_table(table, frequency_hz=value)
    assert "--frequency" not in _one_line(exc, "frequency_hz")


WINDOWS = [("0.1,0.5", TypeError), ((0.1,), ValueError), (0.5, TypeError),
           (("50mK", "0.8K"), TypeError), ((np.ones(1000), 1), TypeError),
           ((0.5, 0.1), ValueError), ((float("nan"), 1), ValueError), ((-1, 1), ValueError),
           ((0.1, 0), ValueError),
           (None, TypeError)]


@pytest.mark.parametrize("value,kind", WINDOWS)
def test_velocity_window(table, value, kind):
    with pytest.raises(kind) as exc:
        V.read_velocity_table(table, window=value)
    _one_line(exc, "window")


@pytest.mark.parametrize("value,kind", WINDOWS)
def test_velocity_as_fraction_window(table, value, kind):
    read = V.read_velocity_table(table)
    with pytest.raises(kind) as exc:
        read.as_fraction(window=value)
    _one_line(exc, "window")


def test_velocity_open_windows_still_read(table):
    for window in [(None, None), (None, 0.1), (0.01, None), [0.01, 0.2], np.array([0.01, 0.2]),
                   (0, 0.5), (0.0, None)]:
        assert V.read_velocity_table(table, window=window).temperature.size == T.size


def test_library_message_names_frequency_hz_and_the_cli_translates():
    from manybody.cli.fit_outputs import cli_message

    text = "is 2 times the resonance frequency given as frequency_hz (5e+09 Hz), and ... either " \
           "frequency_hz is wrong"
    assert cli_message(text).count("--frequency") == 2 and "frequency_hz" not in cli_message(text)


@pytest.mark.parametrize("window,kind", [("0.01,0.1", TypeError), ((0.05,), ValueError),
                                         (("30mK", None), TypeError), ((0.1, 0.01), ValueError)])
def test_fit_sweeps_window(tmp_path, window, kind):
    with pytest.raises(kind) as exc:
        RT.fit_sweeps([str(tmp_path / "s_30mK.csv")], window=window)
    _one_line(exc, "window")


@pytest.mark.parametrize("call,kind,name", [
    (lambda p: RT.fit_sweeps([p], index="index.csv"), TypeError, "read_sweep_index"),
    (lambda p: RT.fit_sweeps([p], index=[("a", 1)]), TypeError, "index"),
    (lambda p: RT.fit_sweeps([p], points_check=3), TypeError, "points_check"),
    (lambda p: RT.fit_sweeps([p], max_misfit="2"), TypeError, "max_misfit"),
    (lambda p: RT.parse_sweep_name(None), TypeError, "name"),
    (lambda p: RT.loss_table(None, "x"), TypeError, "results"),
    (lambda p: RT.loss_table([1], "x"), TypeError, "results[0]"),
    (lambda p: RT.shift_curves(None), TypeError, "results"),
    (lambda p: RT.shift_curves("results.csv"), TypeError, "fit_sweeps"),
    (lambda p: RT.write_resonator_csv(None, "x.csv"), TypeError, "results"),
    (lambda p: RT.write_resonator_csv([], None), TypeError, "path"),
    (lambda p: RT.resonator_csv(3), TypeError, "results"),
    (lambda p: RT.usable(None), TypeError, "results"),
    (lambda p: RT.check_one_resonator([], window="0.1"), TypeError, "window"),
    (lambda p: RT.in_window(0.1, (0.2, 0.1)), ValueError, "window"),
    (lambda p: PS.fit_power_sweep(None), TypeError, "sweep"),
    (lambda p: PS.fit_power_sweep("file.csv"), TypeError, "read_loss_table"),
    (lambda p: PS.power_sweep([], "30mK"), TypeError, "tmin"),
    (lambda p: PS.power_sweep([], 0.5, 0.1), ValueError, "tmin"),
])
def test_resonator_table_and_power_sweep(tmp_path, call, kind, name):
    with pytest.raises(kind) as exc:
        call(str(tmp_path / "s_30mK.csv"))
    _one_line(exc, name)


@pytest.mark.parametrize("call,kind,name", [
    (lambda: L.realisation_correlation(None), TypeError, "loss"),
    (lambda: L.realisation_correlation(np.ones(5)), ValueError, "loss"),
    (lambda: L.resonant_density(1.0, None), TypeError, "tls"),
    (lambda: L.resonant_density("1", TLSParams()), TypeError, "energy"),
    (lambda: L.model_density(None, 0.1), TypeError, "tls"),
    (lambda: L.model_density(xr.Dataset(), 0.1), TypeError, "results_band"),
    (lambda: L.model_density(TLSParams(), "0.1"), TypeError, "frequency"),
    (lambda: L.results_band(None, {}, 0.1), TypeError, "ds"),
    (lambda: L.results_band(xr.Dataset(), {}, "0.1"), TypeError, "frequency"),
    (lambda: L.results_band(xr.Dataset(), {}, np.ones(1000)), TypeError, "frequency"),
    (lambda: L.results_band(xr.Dataset(), None, 0.1), TypeError, "chosen"),
    (lambda: L.parse_point({"a": 1}), TypeError, "text"),
    (lambda: L.parse_point("frequency=abc"), ValueError, "frequency"),
    (lambda: L.index_spread(T, None, None, 0.1, {}), TypeError, "loss"),
    (lambda: L.index_spread(T, LOSS, SHIFT, 0.1, None), TypeError, "options"),
    (lambda: L.index_spread(T, LOSS, SHIFT, "frequency=0.1", {}), TypeError, "frequency"),
    (lambda: L.index_spread(T, LOSS, SHIFT, 0.1, {}, n_resamples=True), TypeError, "n_resamples"),
    (lambda: L.index_spread(T, LOSS, SHIFT, 0.1, {}, n_resamples=np.ones(3)), TypeError,
     "n_resamples"),
    (lambda: L.index_spread(T, LOSS, SHIFT, 0.1, {}, n_resamples=0), ValueError, "n_resamples"),
    (lambda: L.index_spread(T, LOSS, SHIFT, 0.1, {}, seed=1.5), TypeError, "seed"),
    (lambda: L.index_spread(T, LOSS, SHIFT[:, :3], 0.1, {}), ValueError, "shift"),
    (lambda: L.curves_from_realisations(
        T, xr.DataArray(LOSS, dims=("realisation", "temperature")), SHIFT, "x"), TypeError,
     "loss"),
    (lambda: L.curves_from_realisations(T, LOSS[:1], SHIFT[:1], "x"), ValueError,
     "at least 2 realisations"),
    (lambda: L.curves_from_realisations(T, LOSS, SHIFT, None), TypeError, "label"),
])
def test_loss_shift(call, kind, name):
    with pytest.raises(kind) as exc:
        call()
    _one_line(exc, name)


def test_names_stay_names_and_numbers_numbers():
    assert L.parse_point("coupling_kind=gaussian") == {"coupling_kind": "gaussian"}
    assert L.parse_point("frequency=0.1") == {"frequency": 0.1}
    loss, shift = L.curves_from_realisations(T, LOSS, SHIFT, "x")
    assert loss.loss.shape == T.shape and shift.shift.shape == T.shape
