"""Faults found in session 52 (a tester of the measured-table readers), each with the right
behaviour: absolute frequency shifts in ``fit-data --velocity``, error columns spelt with u, sd,
se or e, and the short-curve warning said once per command."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

# ------------------------------------------------ absolute frequency shifts (--velocity)


def _shift_rows(scale: float = 1.0):
    """T (K) and a shift rising as ln T up to 0.1 K and falling twice as fast above, x scale."""
    temperature = np.geomspace(0.01, 1.0, 40)
    u = np.log(temperature / 0.1)
    return temperature, scale * 1e-5 * (u - 2 * u * (temperature > 0.1))


@pytest.mark.parametrize("header,unit", [
    ("Δf (MHz)", "mhz"), ("f-f0 (Hz)", "hz"), ("shift (Hz)", "hz"), ("df_kHz", "khz"),
    ("delta f [kHz]", "khz"), ("f - f_0 (Hz)", "hz"), ("f - f_r (kHz)", "khz"),
    ("Delta_f (GHz)", "ghz"), ("f0 shift (kHz)", "khz"), ("freq shift / Hz", "hz"),
    ("Δf_r [Hz]", "hz"), ("Δν (Hz)", "hz"), ("f_shift (Hz)", "hz"), ("f−f0 (MHz)", "mhz")])
def test_an_absolute_frequency_shift_is_read_as_df_in_its_unit(tmp_path, header, unit):
    """A tester: 'Δf (MHz)', 'f-f0 (Hz)', 'shift (Hz)', 'df_kHz' were refused as "cannot tell
    which column is the shift"."""
    from manybody.measured.velocity import read_velocity_table

    temperature, shift = _shift_rows(5e4)
    path = tmp_path / "v.csv"
    path.write_text(f"T (K),{header}\n" + "".join(
        f"{t:.6g},{s:.8g}\n" for t, s in zip(temperature, shift, strict=True)), encoding="utf-8")
    table = read_velocity_table(path)
    assert table.kind == "df" and table.shift_column == header
    assert table.units["shift"] == unit
    np.testing.assert_allclose(table.shift, shift, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("header", ["f (GHz)", "f_r", "fr (Hz)", "f_res (GHz)"])
def test_an_absolute_resonance_frequency_is_not_taken_as_a_shift(tmp_path, header):
    """A plain resonance frequency is no shift: it is named in the refusal, not fitted."""
    from manybody.measured.velocity import read_velocity_table

    temperature, shift = _shift_rows(5e4)
    path = tmp_path / "v.csv"
    path.write_text(f"T (K),{header}\n" + "".join(
        f"{t:.6g},{5e9 + s:.12g}\n" for t, s in zip(temperature, shift, strict=True)))
    with pytest.raises(ValueError, match=re.escape(header) + r"'.* absolute \(resonance\) "
                                         r"frequency, not a shift"):
        read_velocity_table(path)


def test_a_shift_beside_the_resonance_frequency_is_the_shift(tmp_path):
    from manybody.measured.velocity import read_velocity_table

    temperature, shift = _shift_rows(5e4)
    path = tmp_path / "v.csv"
    path.write_text("T (K),f (GHz),f - f0 (Hz),sigma (kHz)\n" + "".join(
        f"{t:.6g},{5 + s * 1e-9:.12g},{s:.8g},0.002\n"
        for t, s in zip(temperature, shift, strict=True)))
    table = read_velocity_table(path)
    assert table.shift_column == "f - f0 (Hz)" and table.kind == "df"
    np.testing.assert_allclose(table.sigma, 2.0)  # 0.002 kHz in the shift's Hz


def test_a_frequency_shift_without_its_unit_is_refused_naming_the_unit(tmp_path):
    from manybody.measured.velocity import read_velocity_table

    path = tmp_path / "v.csv"
    path.write_text("T (K),Δf\n0.02,1\n0.05,2\n0.1,3\n")
    with pytest.raises(ValueError, match=r"'Δf' name a frequency shift without its unit"):
        read_velocity_table(path)


def test_the_cli_fits_an_absolute_shift_and_names_it_df(tmp_path, capsys):
    from manybody.cli import main

    temperature, shift = _shift_rows(5e4)
    path = tmp_path / "v.csv"
    path.write_text("T (K),f - f_0 (Hz)\n" + "".join(
        f"{t:.6g},{s:.8g}\n" for t, s in zip(temperature, shift, strict=True)))
    assert main(["fit-data", "--velocity", str(path), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "df (Hz) from" in out and "(df = " in out
    record = json.loads((tmp_path / "o" / "velocity_results.json").read_text())
    assert record["inputs"][0]["kind"] == "df" and record["units"]["shift"] == "hz"
    assert record["fit"]["temperature_max"] == pytest.approx(0.1, rel=0.1)


def test_a_slope_fit_message_names_the_kind_read(tmp_path, capsys):
    """A tester: a df (Hz) column whose maximum lies at the edge was told "the maximum of delta
    v/v lies at the lowest temperature"."""
    from manybody.cli import main

    temperature, _ = _shift_rows()
    path = tmp_path / "v.csv"
    path.write_text("T (K),df (Hz)\n" + "".join(f"{t:.6g},{-100 * t:.8g}\n" for t in temperature))
    assert main(["fit-data", "--velocity", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "the maximum of df lies at the lowest temperature" in err and "delta v/v" not in err


# ------------------------------------------------- error columns spelt u, sd, se, e


def _loss_rows():
    """T (K) and 1/Qi of a clean tanh loss at 5 GHz (0.5 % scatter)."""
    temperature = np.geomspace(0.02, 1.0, 30)
    loss = 1e-5 * np.tanh(0.24 / (2 * temperature)) + 2e-6
    return temperature, loss * (1 + 0.005 * np.random.default_rng(4).standard_normal(temperature.size))


@pytest.mark.parametrize("value_header,header", [
    ("loss", "u(loss)"), ("loss", "e_loss"), ("1/Qi", "u(1/Qi)"), ("tan d", "std(tan d)"),
    ("1/Qi", "sd(1/Qi)"), ("loss", "u_loss"), ("tan delta", "e(tan delta)"),
    ("1/Qi", "se(1/Qi)")])
def test_an_error_of_the_loss_spelt_u_sd_se_or_e_is_its_error(tmp_path, value_header, header):
    """A tester: 'u(loss)', 'e_loss', 'u(1/Qi)' were not error columns (the fit ran without the
    lab's errors)."""
    from manybody.measured.tables import read_loss_table

    temperature, loss = _loss_rows()
    path = tmp_path / "t.csv"
    path.write_text(f"T (K),{value_header},{header}\n" + "".join(
        f"{t:.6g},{x:.8g},{0.005 * x:.6g}\n" for t, x in zip(temperature, loss, strict=True)),
        encoding="utf-8")
    table = read_loss_table(path)
    assert table.error_column == header
    np.testing.assert_allclose(table.sigma, 0.005 * table.loss, rtol=1e-5)


@pytest.mark.parametrize("header", ["eQi", "Qi_sd", "sd(Qi)", "Qi_std", "se(Qi)", "u(Qi)",
                                    "e(Qi)", "Qi sem", "Qi (sd)", "u_Qi", "stderr(Qi)"])
def test_an_error_of_qi_spelt_u_sd_se_or_e_is_converted_to_one_of_the_loss(tmp_path, header):
    """sigma_Q / Q^2, as for 'Qi_err'."""
    from manybody.measured.tables import read_loss_table

    temperature, loss = _loss_rows()
    path = tmp_path / "t.csv"
    path.write_text(f"T (K),Qi,{header}\n" + "".join(
        f"{t:.6g},{1 / x:.10g},{0.005 / x:.8g}\n" for t, x in zip(temperature, loss, strict=True)))
    table = read_loss_table(path)
    assert table.error_column == header
    np.testing.assert_allclose(table.sigma, 0.005 * table.loss, rtol=1e-5)


@pytest.mark.parametrize("header", ["e", "energy", "eps", "Qe", "equilibrium"])
def test_other_columns_starting_or_ending_in_e_are_not_errors(tmp_path, header):
    """'e_loss' is an error of the loss; 'e', 'energy', 'eps' and 'Qe' (an external Q) are not
    errors of anything, beside it or alone."""
    from manybody.measured.headers import is_error_column
    from manybody.measured.tables import read_loss_table

    assert not is_error_column(header)
    temperature, loss = _loss_rows()
    path = tmp_path / "t.csv"
    path.write_text(f"T (K),loss,{header},e_loss\n" + "".join(
        f"{t:.6g},{x:.8g},7,{0.005 * x:.6g}\n" for t, x in zip(temperature, loss, strict=True)))
    table = read_loss_table(path, power_column=False)
    assert table.error_column == "e_loss"
    np.testing.assert_allclose(table.sigma, 0.005 * table.loss, rtol=1e-5)


@pytest.mark.parametrize("header", ["sd(f0)", "Qc_sd", "eQc", "se(T)"])
def test_an_error_spelt_sd_se_or_e_of_another_quantity_is_not_the_losss(tmp_path, header):
    from manybody.measured.tables import read_loss_table

    temperature, loss = _loss_rows()
    path = tmp_path / "t.csv"
    path.write_text(f"T (K),Qi,{header}\n" + "".join(
        f"{t:.6g},{1 / x:.8g},100\n" for t, x in zip(temperature, loss, strict=True)))
    with pytest.warns(UserWarning, match=r"not used as the loss's error"):
        assert read_loss_table(path).sigma is None


# ------------------------------------------------- the short-curve warning, once per run


def _short_curve_table(path):
    """Two curves of 15 points and one of 4 (2 residuals for its own scatter) at three powers."""
    rng = np.random.default_rng(0)
    rows = []
    for power, n in ((-100, 15), (-90, 15), (-80, 4)):
        t = np.geomspace(0.02, 0.8, n)
        loss = (1e-5 * np.tanh(0.24 / (2 * t)) + 2e-6) * (1 + 0.02 * rng.standard_normal(n))
        rows += [f"{a:.6g},{power},{1 / b:.8g}\n" for a, b in zip(t, loss, strict=True)]
    path.write_text("T (K),Power (dBm),Qi\n" + "".join(rows))


def test_fit_data_says_the_short_curve_warning_once(tmp_path):
    """A tester: 'residual(s) left' / 'its own scatter rests on' was printed once per law."""
    from manybody.cli import main

    path = tmp_path / "t.csv"
    _short_curve_table(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # even so: one warning, not one per fitted law
        assert main(["fit-data", str(path), "--frequency", "5GHz", "--out",
                     str(tmp_path / "o")]) == 0
    assert sum("its own scatter rests on 2 residuals" in str(w.message) for w in caught) == 1


def test_compare_laws_warns_of_a_short_curve_once():
    from manybody.laws.fit import ShortCurveWarning
    from manybody.laws.inputs import LossCurve
    from manybody.measured.comparison import compare_laws

    curves = []
    for label, n, seed in (("a", 15, 1), ("b", 15, 2), ("c", 4, 3)):
        t = np.geomspace(0.02, 0.8, n)
        loss = (1e-5 * np.tanh(0.24 / (2 * t)) + 2e-6) * (
            1 + 0.02 * np.random.default_rng(seed).standard_normal(n))
        curves.append(LossCurve(t, loss, None, label=label))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare_laws(curves, 0.24)
    short = [w for w in caught if issubclass(w.category, ShortCurveWarning)]
    assert len(short) == 1 and "curve 'c' has 4 point(s)" in str(short[0].message)
    assert issubclass(ShortCurveWarning, UserWarning)  # pytest.warns(UserWarning) still sees it
