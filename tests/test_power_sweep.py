"""Measured power sweeps (manybody.measured.power_sweep) and ``fit-data --power-sweep``: curves at
several powers -> Q^-1(P) per temperature -> the saturation law with a shared beta; synthetic
sweeps with known beta and Pc(T) recovered, the Nb resonator data, bad input refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from manybody.laws.inputs import LossCurve
from manybody.measured.power_sweep import fit_power_sweep, power_sweep

ROOT = Path(__file__).resolve().parents[1]
NB = sorted((ROOT / "data" / "resonator_nb_cpw").glob("qint_*dBm.csv"))
POWERS = np.array([-160.0, -140.0, -120.0, -100.0, -80.0, -60.0])  # dBm
TEMPS = np.array([0.05, 0.1, 0.2, 0.3, 0.5])
PC = -150.0 + 40.0 * TEMPS  # dBm, rising with temperature


def _loss(beta, t, p):
    ratio = 10.0 ** ((p - (-150.0 + 40.0 * t)) / 10.0)
    return 4e-6 * np.tanh(0.27 / (2 * t)) * (1 + ratio) ** -beta + 1e-7


def _curves(beta=0.25, noise=0.01, seed=0):
    rng = np.random.default_rng(seed)
    return [LossCurve(TEMPS, _loss(beta, TEMPS, p) * (1 + noise * rng.standard_normal(TEMPS.size)),
                      power=float(p), label=f"{p:g}dBm") for p in POWERS]


def test_sweep_is_arranged_on_the_common_temperatures_sorted_by_power():
    curves = _curves(noise=0.0)[::-1]
    extra = LossCurve(np.append(TEMPS, 0.7), np.append(curves[0].loss, 1e-7),
                      power=curves[0].power, label="with 0.7 K")
    sweep = power_sweep([extra, *curves[1:]])
    np.testing.assert_array_equal(sweep.power, POWERS)
    np.testing.assert_allclose(sweep.temperature, TEMPS)
    assert sweep.loss.shape == (TEMPS.size, POWERS.size)
    np.testing.assert_allclose(sweep.loss[2], _loss(0.25, TEMPS[2], POWERS))
    assert sweep.left_out and sweep.left_out[0].startswith("0.7 K")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shared_beta_and_each_critical_power_recovered_within_errors(seed):
    fit = fit_power_sweep(power_sweep(_curves(seed=seed)))
    free = fit.shared.free
    assert abs(free.parameters["beta"] - 0.25) < 3.5 * free.errors["beta"]
    pc, err, ok = fit.critical_power("free")
    assert ok.all()
    assert np.all(np.abs(pc - PC) < 4 * err), (pc, err)
    assert fit.shared.preferred == "free" and fit.shared.p_value < 1e-3


def test_independent_tls_sweep_is_not_rejected():
    fit = fit_power_sweep(power_sweep(_curves(beta=0.5, seed=4)))
    assert fit.shared.preferred == "fixed" and fit.shared.p_value > 0.05
    pc, err, ok = fit.critical_power("fixed")
    assert ok.all() and np.all(np.abs(pc - PC) < 4 * err)


def test_a_temperature_whose_loss_rises_with_power_is_left_out_with_the_reason():
    curves = _curves(noise=0.0)
    rising = [LossCurve(c.temperature, np.where(TEMPS == 0.5, 1e-6 * (1 + k), c.loss),
                        power=c.power, label=c.label) for k, c in enumerate(curves)]
    fit = fit_power_sweep(power_sweep(rising))
    assert len(fit.fitted) == TEMPS.size - 1
    assert fit.not_decreasing and fit.not_decreasing[0].startswith("0.5 K")
    assert fit.shared.free.parameters["beta"] == pytest.approx(0.25, rel=1e-4)


def test_two_curves_at_one_power_are_refused_naming_both():
    curves = _curves()
    twin = LossCurve(TEMPS, curves[1].loss, power=curves[0].power, label="twin")
    with pytest.raises(ValueError, match=r"'-160dBm' and 'twin' are both at -160 dBm"):
        power_sweep([*curves, twin])


@pytest.mark.parametrize(("curves", "match"), [
    (lambda c: c[:2], "at least 3 curves"),
    (lambda c: [*c[:2], LossCurve(TEMPS, c[2].loss, label="nopower")], "needs a drive power"),
    (lambda c: [*c[:2], LossCurve(TEMPS, c[2].loss, power=3.0, power_unit="dB(photons)")],
     "different units"),
    (lambda c: [*c[:2], LossCurve(TEMPS * 3.7, c[2].loss, power=3.0)], "no temperature common"),
])
def test_bad_sweeps_are_refused(curves, match):
    with pytest.raises(ValueError, match=match):
        power_sweep(curves(_curves()))


# ----------------------------------------------------------------------------- the command


def _main(argv):
    from manybody.cli import main

    return main(["fit-data", *argv])


def test_nb_power_sweep_rejects_one_half_and_writes_table_json_and_figure(tmp_path, capsys):
    out = tmp_path / "nb"
    files = [str(f) for f in NB]  # natural order is imposed by the command
    nominal = ",".join(f.stem.split("_")[1].replace("dBm", "") for f in NB)
    status = _main(["--power-sweep", *files, f"--powers=-{nominal.replace(',', ',-')}",
                    "--frequency", "5.61989GHz", "--tmax", "0.4", "--out", str(out)])
    assert status == 0
    assert {p.name for p in out.iterdir()} == {"saturation_fit.png", "saturation_fit.pdf",
                                              "saturation_results.json",
                                              "saturation_table.txt"}
    record = json.loads((out / "saturation_results.json").read_text())
    assert record["schema"] == "manybody.fit-data-power-sweep/1"
    assert record["data"]["power"] == [-160.0, -140.0, -120.0, -100.0, -80.0]
    shared = record["fit"]["shared_beta"]
    beta, err = shared["free"]["parameters"]["beta"], shared["free"]["errors"]["beta"]
    assert 0.0 < beta < 0.3 and 0 < err < 0.1
    assert shared["preferred"] == "free" and shared["p_value"] < 1e-3
    assert len(record["inputs"]) == 5 and all(len(i["sha256"]) == 64 for i in record["inputs"])
    printed = capsys.readouterr().out
    assert "beta = 1/2 is rejected" in printed
    # no given errors: the misfit is a residual sum of squares, not a chi2 (which the estimated
    # scatter makes 1; 'chi2/dof = 0.00025' read as a perfect fit, a tester, session 38)
    assert "relative residual sum of squares/dof = " in printed and "chi2/dof =" not in printed
    assert "F test, Delta RSS = " in printed and "Delta chi2" not in printed
    # the JSON's parameters give back the fitted curve (a reader needs no manybody)
    par = shared["free"]["parameters"]
    power = np.array(record["data"]["power"])
    model = (par["amplitude[0.3K]"]
             * (1 + 10 ** ((power - par["critical_power[0.3K]"]) / 10)) ** -par["beta"]
             + par["background[0.3K]"])
    data = np.array(record["data"]["loss"])[record["data"]["temperature_K"].index(0.3)]
    assert np.max(np.abs(model / data - 1)) < 0.1


def test_nb_power_columns_alone_are_refused_naming_the_clash_and_powers(tmp_path, capsys):
    assert _main(["--power-sweep", *map(str, NB), "--out", str(tmp_path / "x")]) != 0
    err = capsys.readouterr().err
    assert "qint_140dBm" in err and "qint_160dBm" in err and "--powers=" in err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("extra", [["--velocity"], ["--simulate", "4"], ["--quasiparticle"]])
def test_options_of_other_modes_are_refused(tmp_path, capsys, extra):
    assert _main(["--power-sweep", *map(str, NB), *extra, "--out", str(tmp_path / "y")]) != 0
    assert "--power-sweep" in capsys.readouterr().err


def _sweep_with_beta(beta, noise, seed):
    rng = np.random.default_rng(seed)
    return power_sweep([LossCurve(TEMPS, _loss(beta, TEMPS, p)
                                  * (1 + noise * rng.standard_normal(TEMPS.size)),
                                  power=float(p), label=f"{p:g}dBm") for p in POWERS])


def test_beta_consistency_is_calibrated_with_an_estimated_scatter():
    """One beta at every temperature, 2 % noise, no errors given: the per-temperature fits'
    scatters rest on 1 degree of freedom each, and their chi2 gave p < 1e-3 for a quarter of
    such data sets (session 33). With the scatter pooled over them (an F test) p is roughly
    uniform; a beta that does change with temperature is still found."""
    p_values = np.array([fit_power_sweep(_sweep_with_beta(0.5, 0.02, seed)).beta_consistency[
        "p_value"] for seed in range(30)])
    assert np.mean(p_values < 0.05) <= 0.15, np.sort(p_values)
    assert np.all(p_values > 1e-3), np.sort(p_values)
    assert 0.3 < np.median(p_values) < 0.8
    varying = fit_power_sweep(_sweep_with_beta(np.linspace(0.2, 0.8, TEMPS.size), 0.02, 0))
    consistency = varying.beta_consistency
    assert consistency["test"] == "F" and consistency["scatter_dof"] > 0
    assert consistency["p_value"] < 1e-3


def test_too_few_powers_for_the_parameters_are_refused_naming_the_remedy():
    """Three powers (MIN_POWERS) with the default background give 3 n points for 3 n + 1
    parameters: the fit failed with "need more points than parameters: 51 point(s) for 52
    parameters" (session 33). Refused up front naming the powers needed and --no-background,
    which makes three powers enough."""
    curves = [c for c in _curves() if c.power in (-140.0, -120.0, -100.0)]
    with pytest.raises(ValueError, match=r"3 powers at 5 temperature\(s\) give 15 points for 16 "
                       r"parameters .* needs at least 4 powers here; or fit without the "
                       r"background \(background=False, --no-background\)"):
        fit_power_sweep(power_sweep(curves))
    fit = fit_power_sweep(power_sweep(curves), background=False)
    assert fit.shared.free.dof > 0


def test_powers_spanning_less_than_a_decibel_are_refused():
    curves = _curves()[:3]
    close = [LossCurve(c.temperature, c.loss, power=p, label=f"{p:g}dBm")
             for c, p in zip(curves, (-80.0, -80.3, -80.6), strict=True)]
    with pytest.raises(ValueError, match=r"must span at least 1 dB .* got -80.6, -80.3, -80 dBm"):
        power_sweep(close)


def test_a_window_without_points_names_the_curve_and_its_span():
    """--tmin above every temperature of a power sweep was "temperature of 'qi_80dBm' must be a
    non-empty 1-d array, got shape (0,)" (a new user, session 35)."""
    curves = _curves()
    span = f"{curves[0].temperature.min():g}-{curves[0].temperature.max():g} K"
    with pytest.raises(ValueError, match=rf"no points of '.*' in the window T >= 5 K "
                                         rf"\(data span {span}\)"):
        power_sweep(curves, 5, None)


def test_curves_at_jittered_temperatures_are_told_the_matching_tolerance():
    """Temperatures 0.5 % apart between curves: the bare "no temperature common to all 9
    curves" left the user guessing (a new user, session 35)."""
    curves = _curves()
    jittered = [LossCurve(c.temperature * (1 + 0.005 * (i % 2)), c.loss, c.sigma, c.power,
                          c.label) for i, c in enumerate(curves)]
    with pytest.raises(ValueError, match=r"matched within 0\.1% of each other, and the nearest "
                                         r"to .* is 0\.50% away"):
        power_sweep(jittered)
