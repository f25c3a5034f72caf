"""Session 59 (a tester, bt200, F6, F7, F10): verdicts of fits whose index excludes both laws
with a large error, whose parameters the data do not determine, and whose rise with temperature
a parameter on its bound absorbed."""

from __future__ import annotations

import json
import math
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from manybody.laws import verdict as vd

DATA = Path(__file__).resolve().parents[1] / "data" / "resonator_nb_cpw"
FREQ = ["--frequency", "5.61989GHz"]


def _main(argv) -> int:
    from manybody.cli import main

    return main(["fit-data", *argv])


def _nb(tmp_path: Path, *names: str) -> list[str]:
    return [str(shutil.copy(DATA / name, tmp_path / name)) for name in names]


def _verdict(out: Path) -> dict:
    return json.loads((out / "fit_results.json").read_text())["comparison"]


# ------------------------------------------------------------- F6 a large error, far from both

@pytest.mark.parametrize("index, error, expected", [
    (6.409, 0.85, vd.BEYOND_TLS),       # bt200 F6: 6.4 errors above 1
    (-4.0, 0.9, vd.BEYOND_GENERIC),
    (0.5, 0.6, vd.UNDECIDED),           # within 2 errors of both
    (1.6, 0.6, vd.UNDECIDED),           # near 1 only: with s >= 0.5 still undecided
    (-0.9, 0.5, vd.UNDECIDED),          # near 0 only
])
def test_a_large_error_leaves_the_laws_apart_only_where_a_excludes_both(index, error, expected):
    verdict, reason = vd.classify_index(index, error)
    assert verdict == expected
    if expected == vd.UNDECIDED:
        assert "cannot tell the laws apart" in reason
    else:
        assert "by more than 2 errors" in reason


def test_an_index_without_an_error_is_undecided_and_says_so():
    verdict, reason = vd.classify_index(0.7, math.nan)
    assert verdict == vd.UNDECIDED
    assert "not a number" in reason and "nan" not in reason


def test_five_nb_tables_with_the_standard_law_are_beyond_tls_and_the_family_fits_better(
        tmp_path, capsys):
    files = _nb(tmp_path, *(f"qint_{p}dBm.csv" for p in (80, 100, 120, 140, 160)))
    out = tmp_path / "o"
    assert _main([*files, "--powers=-80,-100,-120,-140,-160", "--tmax", "0.9K", "--saturation",
                  "--critical-power-law", "standard", *FREQ, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    cmp = _verdict(out)
    assert cmp["index"] > 1 + 2 * cmp["index_error"]  # the fit itself (a = 6.4 +- 0.85)
    assert cmp["verdict"] == vd.BEYOND_TLS
    assert "cannot tell" not in text
    # the preferred law of two that both miss is said to be only the better of them
    assert "the family fits better than either law (AIC lower by" in text


# -------------------------------------------------------------- F7 parameters not determined

def test_a_critical_power_at_its_bound_is_not_read_as_no_temperature_dependence(tmp_path, capsys):
    files = _nb(tmp_path, "qint_100dBm.csv", "qint_140dBm.csv")
    out = tmp_path / "o"
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert _main([*files, "--tmax", "1.2K", "--saturation", *FREQ, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    cmp = _verdict(out)
    assert cmp["verdict"] == vd.UNDECIDED
    # amplitudes without errors are not "within 2 errors of 0"
    assert "within 2 errors" not in cmp["reason"]
    assert "the data do not determine amplitude" in cmp["reason"]
    assert "critical_power: it ran to its bound -240, below every drive power" in cmp["reason"]
    for law in ("tls", "generic"):
        fit = cmp["fits"][law]
        assert fit["errors"]["critical_power"] is None  # no finite error ...
        assert any("critical_power" in r for r in fit["indeterminate"])  # ... and said so
    # no advice to bracket a Pc that only ran to its bound
    assert not any("bracket" in str(w.message) for w in record)
    assert "verdict: undecided" in text


def test_a_nonlinear_error_wider_than_its_range_is_not_determined():
    from manybody.laws.fit import _Model, undetermined_parameters

    model = _Model("tls", 1.0, 1, (-100.0,), False, None, None, True, 1.0, ("a",))
    names = model.linear_names + model.nonlinear_names
    assert names == ["amplitude", "critical_power"]
    lo, hi = model.nonlinear_bounds("critical_power", model.powers)
    assert undetermined_parameters(model, names, np.array([1e-7, 1.3e9]), ()) == [
        ("critical_power", 1.3e9, lo, hi)]
    assert undetermined_parameters(model, names, np.array([1e-7, 0.99 * (hi - lo)]), ()) == []
    assert undetermined_parameters(model, names, np.array([np.inf, 1.0]), ()) == [
        ("amplitude", np.inf, None, None)]
    # a parameter on its bound is flagged as such, not as undetermined
    assert undetermined_parameters(model, names, np.array([1e-7, np.nan]),
                                   ("critical_power",)) == []


# ------------------------------------------------------- F10 a rise absorbed by a bound exponent

def _rising_curves(tmp_path: Path) -> list[str]:
    """Three drive powers of a loss rising linearly with T (Kendall's tau ~ 0.9)."""
    rng = np.random.default_rng(200)
    temps = np.arange(100, 951, 50)
    files = []
    for factor, power in ((1.0, -100), (1.3, -120), (1.6, -140)):
        loss = (1e-7 + 2e-8 * temps / 1e3) * factor * (1 + 0.01 * rng.standard_normal(temps.size))
        path = tmp_path / f"rise{-power}.csv"
        path.write_text("T (mK),Power (dBm),Qi\n"
                        + "".join(f"{t},{power},{1 / q:.6g}\n" for t, q in zip(temps, loss, strict=True)))
        files.append(str(path))
    return files


@pytest.mark.parametrize("law", ["power", "constant"])
def test_a_rising_loss_is_named_with_its_hint_whatever_absorbs_it(tmp_path, capsys, law):
    out = tmp_path / "o"
    assert _main([*_rising_curves(tmp_path), "--saturation", "--critical-power-law", law, *FREQ,
                  "--out", str(out)]) == 0
    text = capsys.readouterr().out
    cmp = _verdict(out)
    assert cmp["verdict"] == vd.NEITHER
    assert "loss ris" in cmp["reason"] and "Kendall's tau" in cmp["reason"]
    assert "hint: a loss rising with temperature" in text


def test_reasons_shared_by_several_fits_are_said_once_per_group_of_fits():
    text = vd._named_reasons([("family", "a bound"), ("family", "rises"), ("tls", "rises"),
                              ("tls", "b bound"), ("generic", "rises"), ("generic", "b bound")])
    assert text == ("family fit: a bound; family, tls and generic fits: rises; "
                    "tls and generic fits: b bound")


# -------------------------------------------------- the study's own verdict on a rising loss

@pytest.mark.parametrize("n_bootstrap", [0, 50])
def test_the_study_verdict_on_realisations_whose_loss_rises_with_temperature(n_bootstrap):
    """Q^-1 = 1 - 0.3 tanh(x/2) per realisation (falling with x: rising with T) is neither law
    in analyse_shape, as in fit-data (helper-199: the study's path had no such test)."""
    from manybody.laws.analysis import analyse_shape

    rng = np.random.default_rng(59)
    x = np.geomspace(0.2, 12.8, 13)
    q = (1.0 - 0.3 * np.tanh(x / 2))[None, :] * (1 + 0.01 * rng.standard_normal((40, x.size)))
    result = analyse_shape(x, q, n_bootstrap=n_bootstrap, rng=np.random.default_rng(1))
    assert result.verdict == vd.NEITHER
    assert "the loss rises with temperature (Kendall" in result.reason


# ------------------------------------------------------------- bt205: the second round of inputs

FAMILY_NEAR_MINUS_ONE = """T (mK),Power (dBm),Qi
20,-120,811361.01
72.7273,-120,805829.04
125.455,-120,874769.88
178.182,-120,888262
230.909,-120,877433.83
283.636,-120,966661.26
336.364,-120,926807.32
389.091,-120,962042.15
441.818,-120,1030895.1
494.545,-120,1096811.1
547.273,-120,1056580.5
600,-120,1117574.8
"""


def test_a_family_amplitude_traded_against_its_background_does_not_hide_a_detected_rise(
        tmp_path, capsys):
    """The family law with a = -0.8 and 5 % noise (bt205 F1): the family's amplitude is within 2
    errors of 0 (traded against the background as the shape flattens), the tls and generic
    amplitudes 8-10 errors above it: the index decides, not "no temperature dependence"."""
    path = tmp_path / "famneg.csv"
    path.write_text(FAMILY_NEAR_MINUS_ONE)
    out = tmp_path / "o"
    assert _main([str(path), *FREQ, "--out", str(out)]) == 0
    cmp = _verdict(out)
    for law in ("tls", "generic"):
        fit = cmp["fits"][law]
        assert fit["parameters"]["amplitude"] > 4 * fit["errors"]["amplitude"]
    assert vd.NOT_DETECTABLE in cmp["fits"]["family"]["indeterminate"][0]  # the family's own
    assert cmp["verdict"] == vd.BEYOND_GENERIC and vd.NOT_DETECTABLE not in cmp["reason"]


def _saturating(tmp_path: Path, critical_power: float) -> str:
    """A noise-free tanh loss at -120, -100, -80 dBm saturating at ``critical_power`` (dBm)."""
    t = np.linspace(0.02, 0.6, 12)
    rows = []
    for p in (-120, -100, -80):
        loss = 1e-6 * np.tanh(0.2697 / t / 2) / (1 + 10 ** ((p - critical_power) / 10)) ** 0.5 + 2e-7
        rows += [f"{1e3 * a:.6g},{p},{1 / b:.8g}\n" for a, b in zip(t, loss, strict=True)]
    path = tmp_path / f"pc{critical_power:g}.csv"
    path.write_text("T (mK),Power (dBm),Qi\n" + "".join(rows))
    return str(path)


def test_every_curve_saturated_is_a_critical_power_not_determined(tmp_path):
    """Pc 80 dB below the powers (bt205 F2): only amplitude x sqrt(Pc) is measured; the fit's
    amplitude errors (1e-5 +- 12) are not "no temperature dependence detectable"."""
    out = tmp_path / "o"
    assert _main([_saturating(tmp_path, -200.0), *FREQ, "--saturation", "--out", str(out)]) == 0
    cmp = _verdict(out)
    assert cmp["verdict"] == vd.UNDECIDED
    assert vd.NOT_DETECTABLE not in cmp["reason"]
    assert "the data do not determine critical_power" in cmp["reason"]
    assert "below every drive power (every curve saturated" in cmp["reason"]


def test_a_critical_power_above_every_power_does_not_block_a_determined_index(tmp_path):
    """Pc 130 dB above the powers (bt205 F3): nothing saturates, the tanh is determined
    (a = 1 +- 7e-6) and was "undecided" for a Pc of +50 +- 1500 dBm."""
    out = tmp_path / "o"
    assert _main([_saturating(tmp_path, 50.0), *FREQ, "--saturation", "--out", str(out)]) == 0
    cmp = _verdict(out)
    assert cmp["verdict"] == vd.TLS, cmp["reason"]


def test_the_family_note_is_given_beside_no_preference_too(tmp_path, capsys):
    """Both laws 100+ AIC above the family but within 2 of each other (bt205 F4)."""
    t = np.linspace(0.02, 0.6, 12)
    x = 0.2697 / t
    rng = np.random.default_rng(7)
    loss = 1e-6 * (1 - np.exp(-x)) / (1 + 0.435 * np.exp(-x)) + 2e-7
    loss = loss * (1 + 0.001 * rng.standard_normal(t.size))
    path = tmp_path / "f.csv"
    path.write_text("T (mK),Qi\n" + "".join(f"{1e3 * a:.6g},{1 / b:.10g}\n"
                                             for a, b in zip(t, loss, strict=True)))
    assert _main([str(path), *FREQ, "--out", str(tmp_path / "o")]) == 0
    text = capsys.readouterr().out
    cmp = _verdict(tmp_path / "o")
    fits = cmp["fits"]
    gain = min(fits["tls"]["aic"], fits["generic"]["aic"]) - fits["family"]["aic"]
    assert gain >= 10 and cmp["preferred"] is None  # the case of the test: no law preferred
    assert "|dAIC| < 2; the family fits better than either law" in text


def test_a_large_error_near_one_law_only_says_how_far_apart_the_laws_are():
    verdict, reason = vd.classify_index(2.059, 0.54)
    assert verdict == vd.UNDECIDED
    assert "within 2 errors of 1 only, but the laws themselves are only 1.9 errors apart" in reason


@pytest.mark.parametrize("text, kelvin", [("500mK", 0.5), ("0.5K", 0.5), ("500uK", 5e-4),
                                          ("500µK", 5e-4), ("0.5", 0.5)])
def test_window_units_as_written(text, kelvin):
    from manybody.cli.fit_data import temperature_argument

    assert float(temperature_argument(text)) == pytest.approx(kelvin)


@pytest.mark.parametrize("text", ["500MK", "0.5k", "500 mk", "3 kelvin"])
def test_window_units_of_another_case_are_refused_not_guessed(text):
    """'500MK' (megakelvin) was read as 500 mK (bt205 F6)."""
    import argparse

    from manybody.cli.fit_data import temperature_argument

    with pytest.raises(argparse.ArgumentTypeError, match="is not one of K, mK, uK"):
        temperature_argument(text)


def test_a_power_sweep_beta_wider_than_its_range_is_not_determined_nor_tested(tmp_path, capsys):
    """Every power 35-115 dB above Pc (bt205 F13): betas of +-1e6 and a shared 2.88 +- 590 were
    counted as determined, tested against 1/2 and against each other."""
    from manybody.laws.saturation import BETA_BOUNDS

    rng = np.random.default_rng(13)
    t = np.linspace(0.02, 0.6, 8)
    files = []
    for p in (-140, -120, -100, -80, -60):
        loss = 1e-6 * np.tanh(0.2697 / t / 2) / (1 + 10 ** ((p + 175) / 10)) ** 0.5 + 2e-7
        loss = loss * (1 + 0.01 * rng.standard_normal(t.size))
        path = tmp_path / f"p_{-p}dBm.csv"
        path.write_text("T (mK),Power (dBm),Qi\n" + "".join(
            f"{1e3 * a:.6g},{p},{1 / b:.8g}\n" for a, b in zip(t, loss, strict=True)))
        files.append(str(path))
    out = tmp_path / "o"
    assert _main([*files, "--power-sweep", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    result = json.loads((out / "saturation_results.json").read_text())["fit"]
    shared = result["shared_beta"]["free"]
    width = BETA_BOUNDS[1] - BETA_BOUNDS[0]
    assert not (shared["errors"]["beta"] or math.inf) < width  # the case of the test
    assert "shared beta not determined" in text and "says nothing" in text
    assert "is not rejected" not in text and "per-temperature betas about" not in text
    assert result["beta_consistency"]["chi2"] is None
    checked = 0
    for row in result["per_temperature"]:
        if "free" in row and not (row["free"]["errors"]["beta"] or math.inf) < width:
            temperature = f"{row['temperature_K']:>7.4g}"
            line = next(ln for ln in text.splitlines() if ln.startswith(temperature))
            assert line[50:66].strip().startswith("n.d."), line  # the "beta at this T" column
            checked += 1
    assert checked >= 2


def test_beta_determined_needs_a_finite_error_inside_its_range():
    from types import SimpleNamespace

    from manybody.measured.power_sweep import beta_determined

    def fit(error, bound=()):
        return SimpleNamespace(errors={"beta": error}, at_bound=bound)

    assert beta_determined(fit(0.05))
    assert not beta_determined(fit(590.0)) and not beta_determined(fit(math.inf))
    assert not beta_determined(fit(math.nan)) and not beta_determined(fit(0.0))
    assert not beta_determined(fit(0.05, ("beta",)))


def test_a_rising_curve_weighed_down_by_its_own_scatter_is_named(tmp_path):
    """Two tanh curves and one whose loss rises with temperature (bt205 F15): with a scatter
    per curve the rising one weighs little and the verdict is a clean tanh; the curve is named
    (Kendall's tau) with the quasiparticle hint."""
    rng = np.random.default_rng(15)
    t = np.linspace(0.02, 0.6, 12)
    rows = []
    for p in (-120, -100, -80):
        loss = 1e-6 * np.tanh(0.2697 / t / 2) / (1 + 10 ** ((p + 100) / 10)) ** 0.5 + 2e-7
        if p == -80:
            loss = loss + 5e-7 * (t / 0.6) ** 2
        loss = loss * (1 + 0.01 * rng.standard_normal(t.size))
        rows += [f"{1e3 * a:.6g},{p},{1 / b:.8g}\n" for a, b in zip(t, loss, strict=True)]
    path = tmp_path / "mixrise.csv"
    path.write_text("T (mK),Power (dBm),Qi\n" + "".join(rows))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert _main([str(path), *FREQ, "--saturation", "--out", str(tmp_path / "o")]) == 0
    said = [str(w.message) for w in record if "rises with temperature" in str(w.message)]
    assert len(said) == 1 and "'mixrise -80 dBm' (Kendall's tau" in said[0], said
    assert "--tmax" in said[0]
