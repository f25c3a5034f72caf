"""A critical power that changes with temperature in the joint saturation fit
(``critical_power_law``, manybody.laws.fit; PHYSICS.md section 8).

The standard model's P_c ~ 1/(T1 T2) grows with T (one-phonon 1/T1 ~ coth(x/2) at resonance,
spectral-diffusion 1/T2 ~ T). Fitted with one P_c, exact standard-model loss gives a TLS index
of 0.91 (session 38's tester); with the law it was made with, the fit recovers a = 1, the
amplitude and P_c(T) at every temperature."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from manybody.laws.fit import fit_joint, standard_critical_power_shape
from manybody.laws.inputs import LossCurve, ShiftCurve
from manybody.laws.joint import fit_loss_shift
from manybody.laws.shift import shift_values
from manybody.measured.comparison import compare_laws

H_OVER_KB = 6.62607015e-34 / 1.380649e-23
W = H_OVER_KB * 5e9  # K, 5 GHz
T = np.geomspace(0.02, 0.6, 20)
POWERS = (-140.0, -120.0, -100.0, -80.0)
AMPLITUDE, BACKGROUND = 1e-5, 2e-7


def _curves(pc_db, rel: float = 0.0, seed: int = 0, sigma: bool = False) -> list[LossCurve]:
    """Exact TLS loss A tanh(x/2) / sqrt(1 + P/P_c(T)) + B at four powers (times 1 + rel N(0,1))."""
    rng = np.random.default_rng(seed)
    out = []
    for p in POWERS:
        loss = AMPLITUDE * np.tanh(W / T / 2) / np.sqrt(1 + 10 ** ((p - pc_db) / 10)) + BACKGROUND
        loss = loss * (1 + rel * rng.standard_normal(T.size))
        out.append(LossCurve(T, loss, np.full(T.size, 1e-4 * AMPLITUDE) if sigma else None,
                             power=p, label=f"{p:g} dBm"))
    return out


def _standard_pc() -> np.ndarray:
    """P_c(T) in dBm: -120 dBm at 0.1 K, growing as T coth(x/2)."""
    return -120.0 + 10 * np.log10(standard_critical_power_shape(T, W, 0.1))


def test_standard_shape_limits():
    """T coth(w/2T) normalised at T_ref: 1 there, ~T for T << w, ~2T^2/w for T >> w."""
    assert standard_critical_power_shape(0.3, W, 0.3) == pytest.approx(1.0, rel=1e-15)
    low = np.array([1e-3, 2e-3]) * W
    ratio = standard_critical_power_shape(low, W, 1.0)
    assert ratio[1] / ratio[0] == pytest.approx(2.0, rel=1e-12)
    high = np.array([1e3, 2e3]) * W
    ratio = standard_critical_power_shape(high, W, 1.0)
    assert ratio[1] / ratio[0] == pytest.approx(4.0, rel=1e-6)
    # against the definition written out
    t = np.array([0.05, 0.2, 0.9])
    expected = t / np.tanh(W / (2 * t)) / (0.4 / math.tanh(W / 0.8))
    np.testing.assert_allclose(standard_critical_power_shape(t, W, 0.4), expected, rtol=1e-14)


def test_standard_law_recovers_exact_standard_model_loss():
    pc = _standard_pc()
    fit = fit_joint(_curves(pc), W, law="family", saturation=True, critical_power_law="standard")
    assert fit.parameters["index"] == pytest.approx(1.0, abs=1e-6)
    assert fit.parameters["amplitude"] == pytest.approx(AMPLITUDE, rel=1e-6)
    # P_c is reported at T_ref, the highest temperature fitted, and P_c(T) everywhere
    assert fit.options["critical_power_reference_temperature"] == pytest.approx(T.max())
    assert fit.parameters["critical_power"] == pytest.approx(pc[-1], abs=1e-5)
    np.testing.assert_allclose(fit.critical_power_at(T), pc, atol=1e-5)
    assert fit.options["critical_power_law"] == "standard"


def test_one_critical_power_biases_the_index_on_the_same_data():
    """The reason for the option: one P_c for all T gives a = 0.91, "in between"."""
    cmp = _compare(_curves(_standard_pc()), "constant")
    assert cmp.index < 0.95
    assert cmp.index_error < 0.05
    assert (1 - cmp.index) / cmp.index_error > 3


def _compare(curves, law):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return compare_laws(curves, W, saturation=True, critical_power_law=law)


def test_power_law_recovers_its_exponent_and_the_index():
    pc = -115.0 + 10 * 1.5 * np.log10(T / T.max())  # P_c ~ T^1.5
    fit = fit_joint(_curves(pc), W, law="family", saturation=True, critical_power_law="power")
    assert fit.parameters["critical_power_exponent"] == pytest.approx(1.5, abs=1e-5)
    assert fit.parameters["critical_power"] == pytest.approx(-115.0, abs=1e-4)
    assert fit.parameters["index"] == pytest.approx(1.0, abs=1e-6)
    assert "critical_power_exponent" in fit.parameter_names


def test_power_law_on_a_constant_critical_power_finds_exponent_zero():
    fit = fit_joint(_curves(np.full(T.size, -120.0), sigma=True), W, law="family",
                    saturation=True, critical_power_law="power")
    mu, err = fit.parameters["critical_power_exponent"], fit.errors["critical_power_exponent"]
    assert abs(mu) < 1e-5
    assert 0 < err < 0.01
    np.testing.assert_allclose(fit.critical_power_at(T), -120.0, atol=1e-4)


def test_constant_law_is_the_former_fit():
    """critical_power_law="constant" (the default) is the fit with one P_c, bit for bit."""
    curves = _curves(np.full(T.size, -120.0), rel=0.02, seed=4)
    a = fit_joint(curves, W, law="family", saturation=True)
    b = fit_joint(curves, W, law="family", saturation=True, critical_power_law="constant")
    assert a.parameters == b.parameters
    np.testing.assert_array_equal(a.critical_power_at([0.03, 0.5]), a.parameters["critical_power"])


@pytest.mark.parametrize("law", ["power", "standard"])
def test_errors_of_the_index_cover_the_truth_with_noise(law):
    """3 % scatter on standard-model loss: the law that can describe P_c(T) finds a within its
    errors of 1 (measured over 8 seeds in session 39: rms z 1.6 'power', 1.1 'standard'; one
    seed here)."""
    cmp = _compare(_curves(_standard_pc(), rel=0.03, seed=2), law)
    assert abs(cmp.index - 1) < 3 * cmp.index_error
    assert cmp.verdict == "TLS (tanh)"


def test_loss_and_shift_fit_takes_the_law():
    """The joint loss + shift fit (manybody.laws.joint) saturates its loss curves with P_c(T)."""
    pc = _standard_pc()
    x = W / T
    shift = ShiftCurve(T, AMPLITUDE / math.pi * shift_values("tls", x),
                       np.full(T.size, 1e-4 * AMPLITUDE))
    res = fit_loss_shift(_curves(pc, sigma=True), shift, W, law="family", saturation=True,
                         critical_power_law="standard")
    assert res.fit.parameters["index"] == pytest.approx(1.0, abs=1e-5)
    assert res.fit.parameters["amplitude"] == pytest.approx(AMPLITUDE, rel=1e-5)
    np.testing.assert_allclose(res.fit.critical_power_at(T), pc, atol=1e-3)
    assert res.fit.options["critical_power_law"] == "standard"


def test_bad_values_are_refused_by_name():
    curves = _curves(np.full(T.size, -120.0))
    with pytest.raises(ValueError, match="critical_power_law.*'linear'"):
        fit_joint(curves, W, saturation=True, critical_power_law="linear")
    with pytest.raises(ValueError, match="critical_power_law='power'.*saturation=True"):
        fit_joint(curves, W, critical_power_law="power")
    with pytest.raises(ValueError, match="critical_power_law='standard'.*saturation=True"):
        fit_loss_shift(curves, None, W, mode="loss", critical_power_law="standard")
    with pytest.raises(ValueError, match="saturation=True"):
        fit_joint(curves, W).critical_power_at(0.1)


def test_bracketing_warning_uses_the_highest_critical_power():
    """P_c ~ T^2 from -160 dBm at 20 mK to -130 dBm at T_ref: every power lies above P_c at
    low T, but -140 dBm lies 10 dB below it at T_ref, which brackets it; a constant P_c of -150
    dBm on the same powers is not bracketed and warned about."""
    pc = -130.0 + 10 * 2.0 * np.log10(T / T.max())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare_laws(_curves(pc, sigma=True), W, saturation=True, critical_power_law="power")
    assert not [w for w in caught if "bracket" in str(w.message)]
    low = np.full(T.size, -150.0)
    with pytest.warns(UserWarning, match="below the fitted critical power"):
        compare_laws(_curves(low, sigma=True), W, saturation=True)


# ----------------------------------------------------------------------------- the command


def _write(folder, pc_db) -> list[str]:
    paths = []
    for curve in _curves(pc_db):
        path = folder / f"q_{abs(int(curve.power))}dBm.csv"
        rows = ["Temperature (mK),Power (dBm),Qint"]
        rows += [f"{t * 1e3:.9f},{curve.power:g},{1 / q:.12e}"
                 for t, q in zip(curve.temperature, curve.loss, strict=True)]
        path.write_text("\n".join(rows) + "\n")
        paths.append(str(path))
    return paths


def test_command_fits_the_standard_law_and_records_it(tmp_path, capsys):
    import json

    from manybody.cli import main

    files = _write(tmp_path, _standard_pc())
    out = tmp_path / "fit"
    assert main(["fit-data", *files, "--frequency", "5GHz", "--saturation",
                 "--critical-power-law", "standard", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "verdict: TLS (tanh)" in text
    assert "critical_power: Pc (dBm) at T_ref = 0.6 K" in text
    record = json.loads((out / "fit_results.json").read_text())
    assert record["options"]["critical_power_law"] == "standard"
    family = record["comparison"]["fits"]["family"]
    assert family["options"]["critical_power_reference_temperature"] == pytest.approx(0.6)


def test_command_refuses_the_law_without_saturation(tmp_path, capsys):
    from manybody.cli import main

    files = _write(tmp_path, np.full(T.size, -120.0))
    out = tmp_path / "fit"
    assert main(["fit-data", *files, "--frequency", "5GHz", "--critical-power-law", "power",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--critical-power-law power" in err and "--saturation" in err
    assert "Traceback" not in err
    assert not out.exists()
    with pytest.raises(SystemExit):
        main(["fit-data", *files, "--frequency", "5GHz", "--saturation",
              "--critical-power-law", "linear"])
    assert "invalid choice: 'linear'" in capsys.readouterr().err


def test_shipped_nb_tables_start_from_a_physical_optimum():
    """On the Nb tables (80-140 dBm, T <= 0.8 K) a negative amplitude at a -> -1 (a law constant
    in T, made to fall with T through P_c(T)) fits as well as the physical optimum (AIC -201.824
    against -201.818 with "standard"); started from the best grid point overall the family fit
    ran to it and said "neither law". The fit now starts from the best grid point with a
    positive amplitude."""
    from pathlib import Path

    from manybody.measured.tables import curves_from_table, read_loss_table

    data = Path(__file__).resolve().parents[1] / "data" / "resonator_nb_cpw"
    curves = [c for p in (80, 100, 120, 140)
              for c in curves_from_table(read_loss_table(data / f"qint_{p}dBm.csv"))]
    # (1.027 and 1.672 with the relative error model's weights from the measured loss, before
    # session 49; from the fitted loss now, 0.04 of the errors, 0.37, away)
    for law, index in (("power", 1.011), ("standard", 1.683)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            cmp = compare_laws(curves, "5.61989GHz", saturation=True, critical_power_law=law,
                               tmax=0.8)
        family = cmp.fits["family"]
        assert family.parameters["amplitude"] > 0
        assert not family.unphysical
        assert cmp.index == pytest.approx(index, abs=0.01)
        assert cmp.verdict == "TLS (tanh)"
