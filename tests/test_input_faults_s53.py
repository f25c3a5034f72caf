"""Faults found by a tester of the shift-table reader (helper-165): absolute frequencies chosen
as the shift, a reversed difference 'f0 - f', a relative name with an absolute unit, scales of a
relative shift, a temperature spread with its unit after the name, 'ddf' as an error of 'df', and
an expanded uncertainty 'U(...)' taken as a standard one."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from shift_tables import log_shift_rows, write_table

from manybody.measured.tables import read_loss_table
from manybody.measured.velocity import read_velocity_table

_rows = log_shift_rows


def _table(path, headers, columns):
    return write_table(path, headers, columns, _rows()[0])


# ------------------------------------------ 1. absolute frequencies are no shift


@pytest.mark.parametrize("header,scale", [
    ("f_meas", 1.0), ("fc", 1.0), ("f1", 1.0), ("center frequency", 1.0),
    ("resonance_frequency_GHz", 1e-9), ("fr (GHz)", 1e-9), ("f_meas (Hz)", 1.0), ("fc (Hz)", 1.0),
    ("f1 (Hz)", 1.0), ("Centre frequency (MHz)", 1e-6), ("f_res_kHz", 1e-3), ("ν (GHz)", 1e-9)])
def test_a_frequency_chosen_as_the_shift_is_refused_naming_it_and_its_value(tmp_path, header,
                                                                               scale):
    """A tester: '--shift-column f_meas (Hz)' (and 'fc (Hz)', 'f1 (Hz)',
    'resonance_frequency_GHz') fitted the resonance frequency as a shift of 5e9 Hz."""
    frequency = 5e9 * (1 + _rows()[1])
    path = _table(tmp_path / "v.csv", [header], [frequency * scale])
    with pytest.raises(ValueError, match=re.escape(repr(header)) + r" is no shift \(data row 1: "
                       r"[0-9.e+]+.*a shift f - f0 or df/f expected\).*absolute \(resonance\) "
                       r"frequency, not a shift"):
        read_velocity_table(path, shift_column=header)


@pytest.mark.parametrize("header,scale,unit", [("y (GHz)", 1e-9, "GHz"), ("detuning (Hz)", 1.0, "Hz"),
                                               ("shift (kHz)", 1e-3, "kHz")])
def test_a_shift_column_holding_resonance_frequencies_is_refused_by_its_values(tmp_path, header,
                                                                               scale, unit):
    """A name that says nothing (or says 'shift') but values of 5 GHz, spread over 1e-4 of it.
    Since helper-173 a column chosen by name (shift_column) is read with a warning saying why
    it looks like a resonance (helper-172: real one-sign shifts of MHz had no way in; a slope
    against ln T does not depend on the reference); found by its name, it is refused."""
    frequency = 5e9 * (1 + _rows()[1])
    path = _table(tmp_path / "v.csv", [header], [frequency * scale])
    with pytest.warns(UserWarning, match=re.escape(repr(header)) + r", chosen by name, is read as "
                      r"a shift f - f0 although the values .* are all positive, of 1e\+06 Hz or "
                      r"more, and never near 0, as resonance frequencies are"):
        np.testing.assert_allclose(read_velocity_table(path, shift_column=header).shift,
                                   frequency * scale)
    if header.startswith("shift"):
        with pytest.raises(ValueError, match=re.escape(repr(header)) + r", data row 1: [0-9.e+]+ "
                           + unit + r": the values .* are an absolute \(resonance\) frequency, not "
                           r"a shift: a shift f - f0"):
            read_velocity_table(path)


@pytest.mark.parametrize("header", ["df/f", "shift", "dv/v"])
def test_resonance_frequencies_in_a_relative_column_are_named_as_such(tmp_path, header):
    """Without a unit, 5e9 was refused as "not a relative shift ... needs its frequency unit":
    adding '(Hz)' would then have fitted f0. The message now says the values are frequencies."""
    path = _table(tmp_path / "v.csv", [header], [5e9 * (1 + _rows()[1])])
    with pytest.raises(ValueError, match=re.escape(repr(header)) + r", data row 1: 4\.99988e\+09 "
                       r"and the others .* look like an absolute \(resonance\) frequency in Hz, "
                       r"not a shift: a shift f - f0 .* or a relative df/f"):
        read_velocity_table(path, shift_column=header)


@pytest.mark.parametrize("header,scale", [("df (Hz)", 5e9), ("f - f0 (kHz)", 5e6),
                                          ("detuning (Hz)", 5e9), ("shift (MHz)", 5e3)])
def test_a_true_shift_in_a_frequency_unit_is_still_read(tmp_path, header, scale):
    """The guard: a shift whose zero is its reference (values near and across 0) is a shift,
    even a large one (a kinetic-inductance fall of MHz)."""
    shift = _rows(scale)[1]
    table = read_velocity_table(_table(tmp_path / "v.csv", [header], [shift]), shift_column=header)
    assert table.kind == "df"
    np.testing.assert_allclose(table.shift, shift, rtol=1e-9)


def test_a_shift_beside_the_resonance_frequency_is_still_found(tmp_path):
    temperature, shift = _rows(5e9)
    path = _table(tmp_path / "v.csv", ["fc (GHz)", "f_meas (Hz)", "Δf (Hz)"],
                  [5 + shift * 1e-9, 5e9 + shift, shift])
    assert read_velocity_table(path).shift_column == "Δf (Hz)"


# ------------------------------------------ 2. the reference minus the frequency


@pytest.mark.parametrize("header", ["f0 - f (Hz)", "f_0 - f (Hz)", "f_r0 - f_r (Hz)",
                                    "f(T0) - f(T) (Hz)", "f_ref - f (Hz)"])
def test_the_reference_minus_the_frequency_is_read_with_its_sign_flipped(tmp_path, header):
    """A tester: 'f0 - f (Hz)' was fitted with its sign unchanged (the maximum became a minimum);
    'f_r0 - f_r (Hz)' was not found."""
    shift = _rows(5e9)[1]
    table = read_velocity_table(_table(tmp_path / "v.csv", [header], [-shift]))
    assert table.shift_column == header and table.kind == "df" and table.sign_flipped
    np.testing.assert_allclose(table.shift, shift, rtol=1e-9)
    assert table.metadata()["sign_flipped"] is True


@pytest.mark.parametrize("header", ["f - f0 (Hz)", "f_r - f_r0 (Hz)", "df (Hz)"])
def test_the_frequency_minus_the_reference_keeps_its_sign(tmp_path, header):
    shift = _rows(5e9)[1]
    table = read_velocity_table(_table(tmp_path / "v.csv", [header], [shift]))
    assert not table.sign_flipped
    np.testing.assert_allclose(table.shift, shift, rtol=1e-9)


def test_the_cli_fits_a_reversed_difference_at_the_same_maximum(tmp_path):
    from manybody.cli import main

    shift = _rows(5e4)[1]
    path = _table(tmp_path / "v.csv", ["f0 - f (Hz)"], [-shift])
    assert main(["fit-data", "--velocity", str(path), "--out", str(tmp_path / "o")]) == 0
    import json
    record = json.loads((tmp_path / "o" / "velocity_results.json").read_text())
    assert record["fit"]["temperature_max"] == pytest.approx(0.1, rel=0.1)


# ------------------------------------------ 3. a relative name with an absolute unit


@pytest.mark.parametrize("header,unit", [("df/f (Hz)", "Hz"), ("dv/v (kHz)", "kHz"),
                                         ("Δf/f0 [MHz]", "MHz"), ("velocity shift (Hz)", "Hz"),
                                         ("fractional frequency shift (Hz)", "Hz")])
def test_a_relative_shift_in_a_unit_of_frequency_is_refused(tmp_path, header, unit):
    """A tester: 'df/f (Hz)' and 'dv/v (kHz)' were read as an absolute df in Hz, kHz."""
    path = _table(tmp_path / "v.csv", [header], [_rows(5e3)[1]])
    with pytest.raises(ValueError, match=re.escape(repr(header)) + r": its name is a relative "
                       r"shift .* but its unit, " + unit + r", is an absolute frequency: the name "
                       r"and the unit contradict"):
        read_velocity_table(path)


# ------------------------------------------ 4. scales of a relative shift


@pytest.mark.parametrize("header,factor,kind", [
    ("shift (1e-6)", 1e-6, "df/f"), ("shift (ppm)", 1e-6, "df/f"), ("shift (‰)", 1e-3, "df/f"),
    ("df/f (1e-6)", 1e-6, "df/f"), ("dv/v [10^-6]", 1e-6, "delta v/v"),
    ("shift (x1e-6)", 1e-6, "df/f"), ("dv/v (‰)", 1e-3, "delta v/v"), ("Δf (10^-6)", 1e-6, "df/f"),
    ("df/f (permil)", 1e-3, "df/f")])
def test_a_scale_as_the_unit_of_a_relative_shift_is_read(tmp_path, header, factor, kind):
    """A tester: 'shift (1e-6)' and 'shift (‰)' were "cannot tell which column is the shift"
    while 'shift (ppm)' was read; 'dv/v (‰)' was refused as an unknown unit."""
    shift = _rows()[1]
    table = read_velocity_table(_table(tmp_path / "v.csv", [header], [shift / factor]))
    assert table.kind == kind and table.shift_column == header
    np.testing.assert_allclose(table.as_fraction()[0], shift, rtol=1e-9)


def test_an_unknown_scale_of_a_shift_is_refused_naming_it(tmp_path):
    """'ppt' (a thousand or a trillion?) is read as neither."""
    path = _table(tmp_path / "v.csv", ["shift (ppt)"], [_rows(1e3)[1]])
    with pytest.raises(ValueError, match=r"'shift \(ppt\)' \(unit 'ppt'\) name a shift in a unit "
                                         r"that is neither a frequency unit"):
        read_velocity_table(path)
    with pytest.raises(ValueError, match=r"'dv/v \(ppt\)': its unit 'ppt' is neither"):
        read_velocity_table(_table(tmp_path / "w.csv", ["dv/v (ppt)"], [_rows(1e3)[1]]))


# ------------------------------------------ 5. a temperature spread with its unit after the name


@pytest.mark.parametrize("header", ["sd_K", "sd (K)", "sd_mK", "std_K", "sigma_mK"])
def test_a_temperature_spread_beside_a_shift_is_set_aside_however_spelt(tmp_path, header):
    """A tester: 'sd_K' beside 'df (Hz)' refused the whole table ("its unit is not one of the
    shift column"), while 'sd (K)' was set aside with a warning."""
    shift = _rows(5e9)[1]
    path = _table(tmp_path / "v.csv", ["df (Hz)", header], [shift, np.full(shift.size, 0.01)])
    with pytest.warns(UserWarning, match=re.escape(repr(header)) + r" \(the error of the "
                                                                   r"temperature\?\) not used"):
        table = read_velocity_table(path)
    assert table.error_column is None and table.sigma is None


def test_a_temperature_spread_after_the_name_beside_qi_is_set_aside(tmp_path):
    with pytest.warns(UserWarning, match=r"'sd_K' \(the error of the temperature\?\)"):
        table = read_loss_table(_qi_table(tmp_path, "sd_K", 0.01))
    assert table.sigma is None


def _qi_table(tmp_path, error_header: str, error: float):
    """A loss table 'T (K), Qi, <error_header>' on the temperatures of ``_rows``."""
    path = tmp_path / "q.csv"
    path.write_text(f"T (K),Qi,{error_header}\n" + "".join(
        f"{t:.6g},{1e5 * (1 + t):.6g},{error:g}\n" for t in _rows()[0]))
    return path


# ------------------------------------------ 6. 'ddf' is the error of 'df'


@pytest.mark.parametrize("shift_header,error_header,error,expected", [
    ("df (Hz)", "ddf (Hz)", 2.0, 2.0), ("df (kHz)", "ddf (Hz)", 2.0, 0.002),
    ("df (Hz)", "d(df) (Hz)", 2.0, 2.0), ("Δf (Hz)", "δΔf (Hz)", 2.0, 2.0),
    ("dv/v (ppm)", "ddv/v (ppm)", 0.5, 0.5), ("df (Hz)", "ddf", 2.0, 2.0)])
def test_a_difference_of_a_shift_is_its_error(tmp_path, shift_header, error_header, error,
                                              expected):
    """A tester: 'ddf (Hz)' beside 'df (Hz)' was neither read nor named; 'sd(df) (Hz)' was."""
    shift = _rows(5e3)[1]
    path = _table(tmp_path / "v.csv", [shift_header, error_header],
                  [shift, np.full(shift.size, error)])
    table = read_velocity_table(path)
    assert table.shift_column == shift_header and table.error_column == error_header
    np.testing.assert_allclose(table.sigma, expected)


def test_delta_f_is_still_a_shift_not_an_error(tmp_path):
    shift = _rows(5e3)[1]
    table = read_velocity_table(_table(tmp_path / "v.csv", ["delta f (Hz)"], [shift]))
    assert table.shift_column == "delta f (Hz)" and table.error_column is None


# ------------------------------------------ 7. an expanded uncertainty U = k u


@pytest.mark.parametrize("shift_header,error_header", [
    ("df (Hz)", "U(df)"), ("df (Hz)", "U(df) (Hz)"), ("dv/v", "U(dv/v)"), ("df (Hz)", "U_df"),
    ("df (Hz)", "expanded uncertainty"), ("df (Hz)", "df err (k=2)")])
def test_an_expanded_uncertainty_of_a_shift_is_refused(tmp_path, shift_header, error_header):
    """A tester: 'U(df)' (an expanded uncertainty, k = 2) was taken as the standard one."""
    shift = _rows(5e3 if "Hz" in shift_header else 1.0)[1]
    path = _table(tmp_path / "v.csv", [shift_header, error_header], [shift, np.full(shift.size, 2.0)])
    with pytest.raises(ValueError, match=re.escape(repr(error_header)) + r" is an expanded "
                       r"uncertainty .* divide it by its coverage factor"):
        read_velocity_table(path)
    table = read_velocity_table(path, error_column=False)  # ignored when asked: read
    assert table.sigma is None


def test_an_expanded_uncertainty_of_qi_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"'U\(Qi\)' is an expanded uncertainty"):
        read_loss_table(_qi_table(tmp_path, "U(Qi)", 2000))


def test_a_standard_uncertainty_beside_an_expanded_one_is_taken(tmp_path):
    shift = _rows(5e3)[1]
    path = _table(tmp_path / "v.csv", ["df (Hz)", "u(df)", "U(df)"],
                  [shift, np.full(shift.size, 1.0), np.full(shift.size, 2.0)])
    with pytest.warns(UserWarning, match=r"'U\(df\)' \(an expanded uncertainty U = k u\) not used"):
        table = read_velocity_table(path)
    assert table.error_column == "u(df)"
    np.testing.assert_allclose(table.sigma, 1.0)


@pytest.mark.parametrize("error_header", ["u(df)", "u(df) (Hz)", "sd(df)"])
def test_a_standard_uncertainty_in_lower_case_is_still_taken(tmp_path, error_header):
    shift = _rows(5e3)[1]
    path = _table(tmp_path / "v.csv", ["df (Hz)", error_header], [shift, np.full(shift.size, 2.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = read_velocity_table(path)
    assert table.error_column == error_header
    np.testing.assert_allclose(table.sigma, 2.0)


def test_a_voltage_column_u_is_not_an_uncertainty(tmp_path):
    shift = _rows(5e3)[1]
    path = _table(tmp_path / "v.csv", ["df (Hz)", "U (V)"], [shift, np.full(shift.size, 2.0)])
    assert read_velocity_table(path).error_column is None


# ------------------------------------------ 8. errors at 2 sigma or at a confidence level (session 53)


@pytest.mark.parametrize("error_header", ["df err (2σ)", "df err 2 sigma", "df err (95%)",
                                          "df err 95 % CI", "d(df) (ci95)", "df err (99.7%)"])
def test_an_error_at_a_coverage_beyond_one_sigma_is_refused(tmp_path, error_header):
    """helper-165 left it: 'df err (2σ)' or '(95%)' was taken as one standard deviation, the
    weights 4 times too small; it is refused as an expanded uncertainty is."""
    shift = _rows(5e3)[1]
    path = _table(tmp_path / "v.csv", ["df (Hz)", error_header], [shift, np.full(shift.size, 2.0)])
    with pytest.raises(ValueError, match=re.escape(repr(error_header)) + r" is an expanded "
                       r"uncertainty .* divide it by its coverage factor"):
        read_velocity_table(path)


@pytest.mark.parametrize("error_header", ["Qi err (2σ)", "Qi err (95%)"])
def test_a_qi_error_at_a_coverage_beyond_one_sigma_is_refused(tmp_path, error_header):
    with pytest.raises(ValueError, match=r"is an expanded uncertainty"):
        read_loss_table(_qi_table(tmp_path, error_header, 2000))


@pytest.mark.parametrize("error_header", ["df err (1σ)", "df err 1 sigma", "df err (68%)",
                                          "sd(df) (Hz)", "sigma"])
def test_an_error_at_one_sigma_is_still_taken(tmp_path, error_header):
    shift = _rows(5e3)[1]
    path = _table(tmp_path / "v.csv", ["df (Hz)", error_header], [shift, np.full(shift.size, 2.0)])
    table = read_velocity_table(path)
    assert table.error_column == error_header
    np.testing.assert_allclose(table.sigma, 2.0)


# ------------------------------------------ 9. a second round (helper-169, session 53)


@pytest.mark.parametrize(("header", "flipped"), [
    ("f(0) - f(T) (Hz)", True), ("f(T=0) - f(T) (Hz)", True), ("f(0)-f (Hz)", True),
    ("f(T) - f(0) (Hz)", False), ("f - f(10 mK) (Hz)", False)])
def test_the_reference_written_as_a_condition_keeps_its_side(tmp_path, header, flipped):
    """'f(0) - f(T) (Hz)' was read with its sign unchanged (the parser drops the bracket, leaving
    'f - f_t'): the reference's side decides the sign, as for 'f0 - f'."""
    shift = _rows(5e3)[1]
    table = read_velocity_table(_table(tmp_path / "v.csv", [header], [shift]))
    assert table.shift_column == header and table.sign_flipped is flipped
    np.testing.assert_allclose(table.shift, -shift if flipped else shift)


@pytest.mark.parametrize("header", ["-dv/v", "-df/f (ppm)", "\u2212dv/v"])
def test_a_negated_relative_shift_is_read_with_its_sign_flipped(tmp_path, header):
    """'-dv/v' was read as dv/v: the values' sign was wrong without a word."""
    shift = _rows(1.0)[1]
    table = read_velocity_table(_table(tmp_path / "v.csv", [header], [shift]))
    assert table.sign_flipped
    np.testing.assert_allclose(table.shift, -shift)


@pytest.mark.parametrize("error_header", ["2σ (Hz)", "2*sd (Hz)", "2-sigma (Hz)", "two sigma (Hz)",
                                          "err (2 sigma) (Hz)"])
def test_more_spellings_of_two_sigma_are_refused(tmp_path, error_header):
    shift = _rows(5e3)[1]
    path = _table(tmp_path / "v.csv", ["df (Hz)", error_header], [shift, np.full(shift.size, 7.0)])
    with pytest.raises(ValueError, match=r"is an expanded uncertainty"):
        read_velocity_table(path)
