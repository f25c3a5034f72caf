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


# ------------------------------------------------- a second tester (helper-161): shift units


def _shift_table(path, headers, columns):
    """A velocity table: T (K) and the given columns (arrays or constants), one row per T."""
    temperature = _shift_rows()[0]
    cells = [np.broadcast_to(np.asarray(c, dtype=float), temperature.shape) for c in columns]
    path.write_text("T (K)," + ",".join(headers) + "\n" + "".join(
        f"{t:.6g}," + ",".join(f"{c[i]:.10g}" for c in cells) + "\n"
        for i, t in enumerate(temperature)), encoding="utf-8")
    return path


@pytest.mark.parametrize("header", ["df_GHz", "shift_MHz", "df_kHz", "df (GHz)", "f - f0 / kHz"])
def test_an_absolute_shift_is_refused_by_the_joint_fit_whatever_its_units_spelling(tmp_path,
                                                                                   header):
    """A tester: 'df_GHz', 'shift_MHz' (a unit after the name) were taken as df/f0 by ``--shift``
    while 'df (GHz)' was refused: one reading of a shift's unit, one refusal."""
    from manybody.measured.velocity import read_velocity_table

    path = _shift_table(tmp_path / "j.csv", [header], [_shift_rows(5.0)[1]])
    table = read_velocity_table(path)
    with pytest.raises(ValueError, match=re.escape(repr(header)) + r": the unit in its header, "
                                         r"[kMG]Hz, is not a unit of the shift.*without frequency_hz.*"
                                         r"divide the shift by f0"):
        table.as_fraction()


def test_fit_data_shift_divides_a_shift_in_ghz_after_its_name_by_the_frequency(tmp_path):
    """'df_GHz' is GHz for --shift too; since helper-181 a shift in a unit of frequency is divided
    by --frequency (it was refused, while --velocity read it)."""
    import json

    from manybody.cli import main

    temperature, loss = _loss_rows()
    (tmp_path / "loss.csv").write_text("T (K),Qi\n" + "".join(
        f"{t:.6g},{1 / x:.10g}\n" for t, x in zip(temperature, loss, strict=True)))
    shift = _shift_table(tmp_path / "j.csv", ["df_GHz"], [_shift_rows(5.0)[1]])
    assert main(["fit-data", str(tmp_path / "loss.csv"), "--frequency", "5GHz", "--shift",
                 str(shift), "--out", str(tmp_path / "o")]) == 0
    record = json.loads((tmp_path / "o" / "loss_shift_results.json").read_text())
    assert '"df_GHz"' in json.dumps(record) and '"ghz"' in json.dumps(record)


@pytest.mark.parametrize("shift_header,error_header,error,expected,unit", [
    ("df (mHz)", "sigma (Hz)", 0.002, 2.0, "mHz"),        # 2 mHz
    ("df (Hz)", "sigma (mHz)", 2.0, 0.002, "hz"),
    ("df [mHz]", "sigma (µHz)", 500.0, 0.5, "mHz"),
    ("df_mHz", "sigma_Hz", 0.002, 2.0, "mHz"),
    ("df (MHz)", "sigma (kHz)", 2.0, 0.002, "mhz"),       # capital M: megahertz
    ("df (mhz)", "sigma (khz)", 2.0, 0.002, "mhz"),       # all in lower case: MHz, as for sweeps
])
def test_millihertz_is_not_megahertz(tmp_path, shift_header, error_header, error, expected, unit):
    """A tester: 'df (mHz)' was read in MHz, its errors in Hz converted 1e9 off (units were
    matched case-folded)."""
    from manybody.measured.velocity import read_velocity_table

    shift = _shift_rows(5e4)[1]
    table = read_velocity_table(_shift_table(tmp_path / "v.csv", [shift_header, error_header],
                                             [shift, error]))
    assert table.kind == "df" and table.units["shift"] == unit
    np.testing.assert_allclose(table.sigma, expected, rtol=1e-12)
    np.testing.assert_allclose(table.shift, shift, rtol=1e-9)


def test_the_cli_labels_a_millihertz_shift_mhz(tmp_path, capsys):
    from manybody.cli import main

    path = _shift_table(tmp_path / "v.csv", ["df (mHz)"], [_shift_rows(5e7)[1]])
    assert main(["fit-data", "--velocity", str(path), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "df (mHz) from" in out and "MHz" not in out
    record = json.loads((tmp_path / "o" / "velocity_results.json").read_text())
    assert record["units"]["shift"] == "mHz"


@pytest.mark.parametrize("shift_header,error_header,expected", [
    ("df (kHz)", "sd(df) (Hz)", 0.002), ("df (kHz)", "se(df) (Hz)", 0.002),
    ("df (kHz)", "df_err_Hz", 0.002), ("df (kHz)", "sigma_Hz", 0.002),
    ("Δf (kHz)", "u(Δf) (Hz)", 0.002), ("dv/v", "sd(dv/v) (ppm)", 2e-6),
    ("df/f (ppm)", "std(df/f) (ppb)", 0.002), ("df/f (ppm)", "sd(df/f) (ppb)", 0.002),
    ("df (kHz)", "sd(df)", 2.0), ("dv/v (ppm)", "sd(dv/v)", 2.0)])
def test_the_unit_of_an_error_column_is_read_in_brackets_after_its_own_or_after_its_name(
        tmp_path, shift_header, error_header, expected):
    """A tester: 'sd(df) (Hz)' (two brackets) and 'df_err_Hz' (a unit after the name) beside
    'df (kHz)' were taken in kHz, 'sd(dv/v) (ppm)' beside 'dv/v' as plain numbers (1e6 off)."""
    from manybody.measured.velocity import read_velocity_table

    table = read_velocity_table(_shift_table(tmp_path / "v.csv", [shift_header, error_header],
                                             [_shift_rows()[1], 2.0]))
    assert table.error_column == error_header
    np.testing.assert_allclose(table.sigma, expected, rtol=1e-12)


def test_the_joint_fit_takes_an_error_with_its_own_brackets_in_its_unit(tmp_path):
    from manybody.measured.velocity import read_velocity_table

    shift = _shift_rows()[1]
    table = read_velocity_table(_shift_table(tmp_path / "j.csv", ["df/f", "sd(df/f) (ppm)"],
                                             [shift, 0.5]))
    values, sigma = table.as_fraction()
    np.testing.assert_allclose(values, shift)
    np.testing.assert_allclose(sigma, 5e-7, rtol=1e-12)  # it was 0.5


@pytest.mark.parametrize("header,unit,factor", [
    ("df (Hertz)", "hz", 1.0), ("df (THz)", "thz", 1e-12), ("df (uHz)", "uhz", 1e6),
    ("df (µHz)", "uhz", 1e6), ("f-f0 (µHz)", "uhz", 1e6), ("df (kilohertz)", "khz", 1e-3)])
def test_other_frequency_units_make_an_absolute_shift(tmp_path, header, unit, factor):
    """A tester: 'df (Hertz)', 'df (THz)', 'df (uHz)' were fitted as a dimensionless df/f."""
    from manybody.measured.velocity import read_velocity_table

    shift = _shift_rows(5e4)[1] * factor  # a shift in Hz, written in the header's unit
    table = read_velocity_table(_shift_table(tmp_path / "v.csv", [header], [shift]))
    assert table.kind == "df" and table.units["shift"] == unit


def test_an_unknown_unit_of_a_shift_is_refused_naming_the_units_read(tmp_path):
    from manybody.measured.velocity import read_velocity_table

    path = _shift_table(tmp_path / "v.csv", ["df (rad/s)"], [_shift_rows(3e10)[1]])
    with pytest.raises(ValueError, match=r"shift column 'df \(rad/s\)': its unit 'rad/s' is "
                                         r"neither a frequency unit .*µHz, mHz, Hz, kHz, MHz, "
                                         r"GHz, THz.*nor a scale of a relative one"):
        read_velocity_table(path)


@pytest.mark.parametrize("headers_,columns", [
    (["df"], [_shift_rows(5e9)[1]]), (["f (GHz)", "df"], [5.0, _shift_rows(5e9)[1]]),
    (["dv/v"], [_shift_rows(2e6)[1]])])
def test_a_relative_shift_beyond_the_cap_is_refused_by_velocity_too(tmp_path, headers_, columns):
    """A tester: a bare 'df' of Hz values was fitted as df/f = -4099 by ``--velocity`` (the 0.1 cap
    held for the joint fit only)."""
    from manybody.measured.velocity import read_velocity_table

    path = _shift_table(tmp_path / "v.csv", headers_, columns)
    with pytest.raises(ValueError, match=r"shift column '(df|dv/v)', data row 1: -?[\d.]+ is not "
                                         r"a relative shift.*frequency unit in the header"):
        read_velocity_table(path)


def test_a_resonance_frequency_chosen_as_the_shift_is_refused_as_when_found(tmp_path):
    """A tester: ``--shift-column 'f (GHz)'`` fitted f0 as a shift, "df = 5 there"."""
    from manybody.measured.velocity import read_velocity_table

    path = _shift_table(tmp_path / "v.csv", ["f (GHz)"], [5 + _shift_rows(5e-5)[1]])
    with pytest.raises(ValueError, match=r"'f \(GHz\)' hold an absolute \(resonance\) frequency, "
                                         r"not a shift"):
        read_velocity_table(path, shift_column="f (GHz)")


@pytest.mark.parametrize("header", ["f(T) - f0 (Hz)", "f(T)-f0 (Hz)", "f(T) - f(T0) (Hz)",
                                    "f - f(T_ref) (Hz)", "f(T) - f(0.01 K) (Hz)",
                                    "f - f(T0) (Hz)"])
def test_a_frequency_at_a_temperature_minus_the_reference_is_a_shift_in_its_unit(tmp_path, header):
    """A tester: 'f(T) - f0 (Hz)' was refused as "a frequency shift without its unit", the '(T)'
    taken for one."""
    from manybody.measured.velocity import read_velocity_table

    shift = _shift_rows(5e4)[1]
    table = read_velocity_table(_shift_table(tmp_path / "v.csv", [header], [shift]))
    assert table.kind == "df" and table.units["shift"] == "hz" and table.shift_column == header
    np.testing.assert_allclose(table.shift, shift, rtol=1e-9)


def test_a_relative_error_beside_an_absolute_shift_blames_the_error_column(tmp_path):
    from manybody.measured.velocity import read_velocity_table

    path = _shift_table(tmp_path / "v.csv", ["df (kHz)", "sigma (ppm)"], [_shift_rows()[1], 2.0])
    with pytest.raises(ValueError, match=r"error column 'sigma \(ppm\)': its unit is not one of "
                                         r"the shift column 'df \(kHz\)'"):
        read_velocity_table(path)


@pytest.mark.parametrize("header,factor", [("shift (ppm)", 1e-6), ("freq shift (ppm)", 1e-6),
                                           ("shift (%)", 1e-2), ("Δf (ppb)", 1e-9)])
def test_a_shift_in_a_relative_unit_is_df_over_f(tmp_path, header, factor):
    """A tester: 'shift (ppm)' was told it names a shift "without its unit"."""
    from manybody.measured.velocity import read_velocity_table

    shift = _shift_rows()[1]
    table = read_velocity_table(_shift_table(tmp_path / "v.csv", [header], [shift / factor]))
    assert table.kind == "df/f"
    np.testing.assert_allclose(table.as_fraction()[0], shift, rtol=1e-9)


@pytest.mark.parametrize("shift_header,error_header,expected", [
    ("df (kHz)", "u(df) (Hz)", 0.002), ("df (kHz)", "u(df)", 2.0), ("df (kHz)", "e_df (Hz)", 0.002),
    ("dv/v (ppm)", "u(dv/v) (ppb)", 0.002)])
def test_an_error_of_a_shift_spelt_u_or_e_is_its_error(tmp_path, shift_header, error_header,
                                                       expected):
    """A tester: 'u(df)', 'e_df (Hz)', 'u(dv/v) (ppb)' were left out without a word."""
    from manybody.measured.velocity import read_velocity_table

    table = read_velocity_table(_shift_table(tmp_path / "v.csv", [shift_header, error_header],
                                             [_shift_rows()[1], 2.0]))
    assert table.error_column == error_header
    np.testing.assert_allclose(table.sigma, expected, rtol=1e-12)


def test_a_relative_uncertainty_of_qi_is_a_fraction_of_it(tmp_path):
    from manybody.measured.tables import read_loss_table

    temperature, loss = _loss_rows()
    path = tmp_path / "t.csv"
    path.write_text("T (K),Qi,u_rel(Qi)\n" + "".join(
        f"{t:.6g},{1 / x:.10g},0.005\n" for t, x in zip(temperature, loss, strict=True)))
    table = read_loss_table(path)
    assert table.error_column == "u_rel(Qi)"
    np.testing.assert_allclose(table.sigma, 0.005 * table.loss, rtol=1e-6)


# ------------------------------------------------- a second tester (helper-161): loss errors


@pytest.mark.parametrize("header", ["Eq", "EQ", "eq"])
def test_a_bare_eq_column_is_not_the_error_of_qi(tmp_path, header):
    """A tester: an 'Eq' column (an equaliser, an equilibrium flag) became the error of Qi."""
    from manybody.measured.headers import is_error_column
    from manybody.measured.tables import read_loss_table

    assert not is_error_column(header)
    temperature, loss = _loss_rows()
    path = tmp_path / "t.csv"
    path.write_text(f"T (K),Qi,{header}\n" + "".join(
        f"{t:.6g},{1 / x:.10g},{0.01 / x:.8g}\n" for t, x in zip(temperature, loss, strict=True)))
    assert read_loss_table(path, power_column=False).sigma is None


@pytest.mark.parametrize("header", ["eQ", "e_Q", "e Qi", "uQi", "eQint", "U_Q"])
def test_an_error_letter_before_a_q_with_a_subscript_or_apart_is_still_its_error(header):
    from manybody.measured.headers import is_error_column

    assert is_error_column(header)


@pytest.mark.parametrize("header,what", [("sd (K)", "the temperature"), ("std (K)", "the temperature"),
                                         ("se (mK)", "the temperature"), ("sd (Hz)", "a frequency")])
def test_a_temperature_spread_beside_qi_is_set_aside(tmp_path, header, what):
    """A tester: 'sd (K)' beside Qi stopped the table ("not a unit of the error of a quality
    factor"); 'sd(T) (K)' was set aside with a warning."""
    from manybody.measured.tables import read_loss_table

    temperature, loss = _loss_rows()
    path = tmp_path / "t.csv"
    path.write_text(f"T (K),Qi,{header}\n" + "".join(
        f"{t:.6g},{1 / x:.10g},0.001\n" for t, x in zip(temperature, loss, strict=True)))
    with pytest.warns(UserWarning, match=re.escape(f"{header!r} (the error of {what}?) not used "
                                                   "as the loss's error")):
        table = read_loss_table(path)
    assert table.sigma is None
    np.testing.assert_allclose(table.loss, loss, rtol=1e-9)


# ------------------------------------------------ a third tester (helper-164, session 52)


@pytest.mark.parametrize("header", ["u_rel(Qc)", "u_rel Qc", "e_rel(Qc)", "u_rel(Ql)", "Qc_rel_err"])
def test_a_relative_error_of_another_quality_factor_is_not_the_losss(tmp_path, header):
    """helper-164: 'u_rel(Qc)' beside Qi and Qc was used as Qi's error (a fraction's check ran
    before the check of which quantity it names); now set aside as 'sd(Qc)' is."""
    from manybody.measured.tables import read_loss_table

    temperature, loss = _loss_rows()
    path = tmp_path / "t.csv"
    path.write_text(f"T (K),Qi,Qc,{header}\n" + "".join(
        f"{t:.6g},{1 / x:.10g},2e5,0.01\n" for t, x in zip(temperature, loss, strict=True)))
    with pytest.warns(UserWarning, match="another quality factor"):
        assert read_loss_table(path, power_column=False).sigma is None


@pytest.mark.parametrize("header", ["dQi/Qi", "u_rel(Qi)", "Qi_rel_err"])
def test_a_relative_error_of_qi_is_still_its_error(tmp_path, header):
    """The guard: a fraction of Qi itself stays Qi's error, 1 % of each loss."""
    from manybody.measured.tables import read_loss_table

    temperature, loss = _loss_rows()
    path = tmp_path / "t.csv"
    path.write_text(f"T (K),Qi,Qc,{header}\n" + "".join(
        f"{t:.6g},{1 / x:.10g},2e5,0.01\n" for t, x in zip(temperature, loss, strict=True)))
    table = read_loss_table(path, power_column=False)
    np.testing.assert_allclose(table.sigma, 0.01 * table.loss, rtol=1e-6)


@pytest.mark.parametrize("header", ["Qi_err", "e_Qi", "u(Qi)", "sd(Qi)", "dQi", "loss_err",
                                    "sd(1/Qi)", "tan delta error", "Qc_err"])
def test_an_error_of_a_loss_is_not_the_shifts(tmp_path, header):
    """helper-164: 'T (K),dv/v,Qi_err' took Qi_err (1000) as the shift's error: T_max +- 3.9e6 K."""
    from manybody.measured.velocity import read_velocity_table

    temperature, shift = _shift_rows()
    path = tmp_path / "v.csv"
    path.write_text(f"T (K),dv/v,{header}\n" + "".join(
        f"{t:.6g},{s:.8g},1000\n" for t, s in zip(temperature, shift, strict=True)))
    with pytest.warns(UserWarning, match="a loss or quality factor"):
        table = read_velocity_table(path)
    assert table.sigma is None


@pytest.mark.parametrize("header", ["u_rel(dv/v)", "dv/v rel err", "rel. error", "dv/v_rel_err"])
def test_a_relative_error_of_a_shift_is_refused(tmp_path, header):
    """helper-164: relative errors beside a shift were used as absolute ones (0.02 read as 0.02
    of the shift's unit); a shift's zero is arbitrary, so they are refused as '(%)' is."""
    from manybody.measured.velocity import read_velocity_table

    temperature, shift = _shift_rows()
    path = tmp_path / "v.csv"
    path.write_text(f"T (K),dv/v,{header}\n" + "".join(
        f"{t:.6g},{s:.8g},0.02\n" for t, s in zip(temperature, shift, strict=True)))
    with pytest.raises(ValueError, match="gives errors as a fraction of each shift value"):
        read_velocity_table(path)


@pytest.mark.parametrize("header", ["sd(df/f)", "sd(dv/v)", "df/f_err", "u(Δf/f)"])
def test_an_error_of_a_relative_shift_beside_an_absolute_one_is_refused(tmp_path, header):
    """helper-164: 'sd(df/f)' = 4e-10 beside 'df (kHz)' was taken as 4e-10 kHz (chi2/dof 3.8e18)."""
    from manybody.measured.velocity import read_velocity_table

    temperature, shift = _shift_rows(5e4)
    path = tmp_path / "v.csv"
    path.write_text(f"T (K),df (kHz),{header}\n" + "".join(
        f"{t:.6g},{s:.8g},4e-10\n" for t, s in zip(temperature, shift, strict=True)),
        encoding="utf-8")
    with pytest.raises(ValueError, match=r"is the error of a relative shift .*an absolute shift "
                                         r"in kHz"):
        read_velocity_table(path)


def test_a_plain_error_beside_an_absolute_shift_is_still_taken(tmp_path):
    """The guard: 'sd(df)' and a bare 'sigma' beside 'df (kHz)' are the shift's errors, in kHz."""
    from manybody.measured.velocity import read_velocity_table

    temperature, shift = _shift_rows(5e4)
    for header in ("sd(df)", "sigma"):
        path = tmp_path / "v.csv"
        path.write_text(f"T (K),df (kHz),{header}\n" + "".join(
            f"{t:.6g},{s:.8g},0.002\n" for t, s in zip(temperature, shift, strict=True)))
        np.testing.assert_allclose(read_velocity_table(path).sigma, 0.002)
