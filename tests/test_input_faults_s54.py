"""Faults found by a tester of the shift-table reader (session 54): expanded uncertainties named by
their level alone dropped, and the combined standard uncertainty u_c not taken; resonance
frequencies falling by more than 10 % read as a shift; a positive power of ten on a relative shift
refused without naming it; Unicode subscripts, a word 'minus' and a reference at a named
temperature not read as a difference; the error of a relative shift given in Hz."""

from __future__ import annotations

import re

import numpy as np
import pytest
from shift_tables import log_shift_rows, write_table

from manybody.measured.tables import read_loss_table
from manybody.measured.velocity import read_velocity_table

_rows = log_shift_rows


def _table(path, headers, columns):
    return write_table(path, headers, columns, _rows()[0])


# ------------------------------------------ 1. expanded and combined uncertainties


@pytest.mark.parametrize("error_header", ["U (Hz)", "U95", "err95", "CI95", "U_95", "U95 (Hz)",
                                          "k = 2", "df (k = 2)", "u95 (Hz)", "U (ppm)",
                                          "95% CI (Hz)", "CI (95%)", "U(k=2) (Hz)"])
def test_an_expanded_uncertainty_named_by_its_level_alone_is_refused(tmp_path, error_header):
    """A tester: 'U (Hz)', 'U95', 'err95', 'CI95' beside 'df (Hz)' were dropped without a word
    (no error column); 'df (k = 2)' was a second shift column."""
    shift = _rows(5e3)[1]
    path = _table(tmp_path / "v.csv", ["df (Hz)", error_header], [shift, np.full(shift.size, 2.0)])
    with pytest.raises(ValueError, match=re.escape(f"error column {error_header!r} is an expanded "
                                                   "uncertainty") + r".*not the standard "
                       r"uncertainty the fit of 'df \(Hz\)' needs: divide it by its coverage factor"):
        read_velocity_table(path)


@pytest.mark.parametrize("error_header", ["U95", "CI95", "k = 2"])
def test_an_expanded_uncertainty_of_qi_named_by_its_level_is_refused(tmp_path, error_header):
    """Beside a loss it was set aside as "the error of 'u95', not a loss"."""
    path = tmp_path / "q.csv"
    path.write_text(f"T (K),Qi,{error_header}\n" + "".join(
        f"{t:.6g},{1e5 * (1 + t):.6g},2000\n" for t in _rows()[0]))
    with pytest.raises(ValueError, match=re.escape(repr(error_header)) + " is an expanded"):
        read_loss_table(path)


@pytest.mark.parametrize("shift_header,error_header,expected", [
    ("df (Hz)", "u_c", 2.0), ("df (Hz)", "u_c (Hz)", 2.0), ("df (kHz)", "u_c (Hz)", 0.002),
    ("df (Hz)", "uc (Hz)", 2.0), ("df (Hz)", "u_c(df) (Hz)", 2.0),
    ("df (Hz)", "combined standard uncertainty", 2.0)])
def test_the_combined_standard_uncertainty_is_the_error(tmp_path, shift_header, error_header,
                                                        expected):
    """u_c is a standard uncertainty (the GUM's combined one): 'u_c (Hz)' was dropped."""
    shift = _rows(5e3)[1]
    path = _table(tmp_path / "v.csv", [shift_header, error_header],
                  [shift, np.full(shift.size, 2.0)])
    table = read_velocity_table(path)
    assert table.error_column == error_header
    np.testing.assert_allclose(table.sigma, expected)


def test_a_voltage_u_and_a_coverage_factor_of_one_are_not_expanded(tmp_path):
    shift = _rows(5e3)[1]
    path = _table(tmp_path / "v.csv", ["df (Hz)", "U (V)"], [shift, np.full(shift.size, 2.0)])
    assert read_velocity_table(path).error_column is None
    path = _table(tmp_path / "w.csv", ["df (Hz)", "df err (k = 1)"], [shift, np.full(shift.size, 2.0)])
    np.testing.assert_allclose(read_velocity_table(path).sigma, 2.0)


# ------------------------------------------ 2. resonance frequencies falling by more than 10 %


@pytest.mark.parametrize("header,scale,unit", [("shift (GHz)", 1e-9, "GHz"), ("shift (MHz)", 1e-6, "MHz"),
                                               ("shift (Hz)", 1.0, "Hz"), ("df (GHz)", 1e-9, "GHz"),
                                               ("Δf (MHz)", 1e-6, "MHz")])
def test_a_resonance_falling_by_15_percent_is_no_shift(tmp_path, header, scale, unit):
    """A tester: 'shift (GHz)' of 5 GHz falling to 4.25 GHz (a kinetic-inductance fall) was read
    as a shift: the rule was a spread below 10 % of the median."""
    temperature = _rows()[0]
    frequency = 5e9 * (1 - 0.15 * temperature / temperature.max())
    path = _table(tmp_path / "v.csv", [header], [frequency * scale])
    with pytest.raises(ValueError, match=re.escape(repr(header)) + r", data row 1: [0-9.e+]+ "
                       + unit + r": the values .* are an absolute \(resonance\) frequency, not a "
                       r"shift: a shift f - f0"):
        read_velocity_table(path)


@pytest.mark.parametrize("header,values", [
    ("df (MHz)", lambda t: -50 * (t / t.max()) ** 2),           # a fall of MHz from near 0
    ("df (Hz)", lambda t: -1e4 - 1e5 * np.log(t / t.min())),    # reference below the data
    ("shift (MHz)", lambda t: -2 - 3 * (t / t.max()))])          # one sign, a factor 2.5
def test_a_shift_of_one_sign_spanning_more_than_a_factor_two_is_read(tmp_path, header, values):
    temperature = _rows()[0]
    table = read_velocity_table(_table(tmp_path / "v.csv", [header], [values(temperature)]))
    assert table.kind == "df"
    np.testing.assert_allclose(table.shift, values(temperature), rtol=1e-9)


# ------------------------------------------ 3. a positive power of ten on a relative shift


@pytest.mark.parametrize("header,scale", [("dv/v × 10⁶", "10^6"), ("dv/v x 1e6", "1e6"),
                                          ("dv/v*1e6", "1e6"), ("dv/v (×10⁶)", "10^6"),
                                          ("df/f x10^5", "10^5"), ("shift (x1e6)", "1e6")])
def test_a_positive_power_of_ten_on_a_relative_shift_is_refused_naming_it(tmp_path, header, scale):
    """A tester: 'dv/v × 10⁶' was refused as "not a relative shift ... a scale belongs in the
    header": the scale it read was not named."""
    path = _table(tmp_path / "v.csv", [header], [_rows(1e6)[1]])
    with pytest.raises(ValueError, match=re.escape(f"shift column {header!r}: its scale {scale!r} "
                                                   "reads two ways") + r".*write the unit the "
                       r"values are in, e\.g\. '\(1e-\d\)'"):
        read_velocity_table(path)


def test_an_error_in_a_positive_power_of_ten_is_refused_naming_it(tmp_path):
    shift = _rows()[1]
    path = _table(tmp_path / "v.csv", ["dv/v (ppm)", "sigma (x1e6)"],
                  [shift * 1e6, np.full(shift.size, 2.0)])
    with pytest.raises(ValueError, match=r"error column 'sigma \(x1e6\)': its scale '1e6' reads "
                                         r"two ways"):
        read_velocity_table(path)


@pytest.mark.parametrize("header,factor", [("dv/v [ppm]", 1e-6), ("dv/v x10^-6", 1e-6),
                                           ("dv/v (10⁻⁶)", 1e-6), ("dv/v × 10⁻⁶", 1e-6)])
def test_a_relative_shift_in_ppm_or_a_negative_power_is_scaled(tmp_path, header, factor):
    shift = _rows()[1]
    table = read_velocity_table(_table(tmp_path / "v.csv", [header], [shift / factor]))
    np.testing.assert_allclose(table.as_fraction()[0], shift, rtol=1e-9)


# ------------------------------------------ 4, 5, 6. differences however written


@pytest.mark.parametrize("header,unit", [("Δf/f₀ (Hz)", "Hz"), ("df/f₀ [kHz]", "kHz")])
def test_a_relative_shift_with_a_subscript_zero_in_hz_is_refused_as_df_f0_hz(tmp_path, header, unit):
    """A tester: 'Δf/f₀ (Hz)' got the generic "cannot tell which column is the shift"."""
    path = _table(tmp_path / "v.csv", [header], [_rows(5e3)[1]])
    with pytest.raises(ValueError, match=re.escape(repr(header)) + r": its name is a relative "
                       r"shift .* but its unit, " + unit + r", is an absolute frequency"):
        read_velocity_table(path)


def test_a_relative_shift_with_a_subscript_zero_is_read(tmp_path):
    shift = _rows()[1]
    table = read_velocity_table(_table(tmp_path / "v.csv", ["Δf/f₀"], [shift]))
    assert table.kind == "df/f"
    np.testing.assert_allclose(table.shift, shift)


@pytest.mark.parametrize(("header", "flipped"), [
    ("f₀ − f (Hz)", True), ("f_r₀ - f_r (Hz)", True), ("f - f₀ (Hz)", False),
    ("f0 minus f (Hz)", True), ("f minus f0 (Hz)", False), ("f(0) minus f(T) (Hz)", True),
    ("f(10 mK) − f(T) (Hz)", True), ("f(T_min) - f(T) (Hz)", True), ("f(20mK)-f (Hz)", True),
    ("f(0.01 K) - f(T) (Hz)", True), ("f(T) - f(T_min) (Hz)", False),
    ("f(T) - f(10 mK) (Hz)", False), ("f_r(10 mK) - f_r(T) (Hz)", True),
    ("f(T_base) - f(T) (Hz)", True), ("f₀ − f(T) (Hz)", True), ("f(T)-f(T₀) (Hz)", False)])
def test_a_difference_is_read_with_the_sign_of_its_reference(tmp_path, header, flipped):
    """A tester: 'f₀ − f (Hz)' was "cannot tell which column is the shift", 'f0 minus f (Hz)' a
    resonance frequency, 'f(10 mK) − f(T)' and 'f(T_min) - f(T)' not found."""
    shift = _rows(5e3)[1]
    table = read_velocity_table(_table(tmp_path / "v.csv", [header], [shift]))
    assert table.shift_column == header and table.kind == "df"
    assert table.sign_flipped is flipped
    np.testing.assert_allclose(table.shift, -shift if flipped else shift)


def test_a_word_minus_without_a_unit_is_a_shift_without_its_unit(tmp_path):
    path = _table(tmp_path / "v.csv", ["f0 minus f"], [_rows(5e3)[1]])
    with pytest.raises(ValueError, match=r"'f0 minus f' name a frequency shift without its unit"):
        read_velocity_table(path)


# ------------------------------------------ 7. the error of a relative shift in Hz


@pytest.mark.parametrize("shift_header,error_header,unit,expected", [
    ("df (Hz)", "sd(df/f) (Hz)", "Hz", "'sd(df) (Hz)'"),
    ("df (Hz)", "u(dv/v) (Hz)", "Hz", "'sd(df) (Hz)'"),
    ("df (kHz)", "sigma(df/f) (kHz)", "kHz", "'sd(df) (kHz)'"),
    ("df (Hz)", "df/f err (Hz)", "Hz", "'sd(df) (Hz)'"),
    ("df/f", "sd(df/f) (Hz)", "Hz", "'sd(df/f)'")])
def test_the_error_of_a_relative_shift_in_a_unit_of_frequency_is_refused(
        tmp_path, shift_header, error_header, unit, expected):
    """A tester: 'sd(df/f) (Hz)' beside 'df (Hz)' was converted as Hz."""
    shift = _rows(5e3 if "Hz" in shift_header else 1.0)[1]
    path = _table(tmp_path / "v.csv", [shift_header, error_header],
                  [shift, np.full(shift.size, 2.0)])
    with pytest.raises(ValueError, match=re.escape(
            f"error column {error_header!r}: its name is the error of a relative shift")
            + r" .* its unit, " + unit + r", is an absolute frequency: the name and the unit "
            r"contradict; give the error of " + re.escape(f"{shift_header!r} as {expected}")):
        read_velocity_table(path)


def test_the_error_of_an_absolute_shift_in_hz_is_still_converted(tmp_path):
    shift = _rows(5e3)[1]
    path = _table(tmp_path / "v.csv", ["df (kHz)", "sd(df) (Hz)"], [shift, np.full(shift.size, 2.0)])
    np.testing.assert_allclose(read_velocity_table(path).sigma, 0.002)
