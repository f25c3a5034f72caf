"""Faults found by a second tester of the shift-table reader (helper-172, after session 54): a
reversed difference written after a shift's name or in brackets read with its sign unchanged, and
many spellings of one refused as "cannot tell which column is the shift"; resonance frequencies
falling by more than half read as a shift, while real shifts of one sign in MHz were refused as
resonances; expanded uncertainties and intervals dropped without a word; 'Uc' and 'U_c' read two
ways."""

from __future__ import annotations

import re

import numpy as np
import pytest
from shift_tables import read_strict, write_table

from manybody.measured.velocity import read_velocity_table

TEMPERATURE = np.geomspace(0.01, 1.0, 12)
#: A shift f - f0 (Hz): -8e4 at the lowest temperature, rising as ln T, +4.5e4 at the highest.
SHIFT = 3.5e4 * np.log(TEMPERATURE / 0.1) + 0.5e4


def _table(path, headers, columns):
    return write_table(path, headers, columns, TEMPERATURE)


_read = read_strict


# ------------------------------------------ F1, F6: a reversed difference wherever it stands


@pytest.mark.parametrize("header,factor", [
    ("shift (f0 - f) (Hz)", 1.0), ("Δf (f₀−f) [Hz]", 1.0), ("frequency shift f0-f (Hz)", 1.0),
    ("f(T → 0) - f(T) (Hz)", 1.0), ("f(T->0) - f(T) (kHz)", 1e-3), ("Δf = f0 - f (Hz)", 1.0),
    ("df = f0 - f (Hz)", 1.0), ("shift f0-f (Hz)", 1.0), ("f0-f shift (Hz)", 1.0),
    ("Delta f = f_0 - f (Hz)", 1.0), ("resonance shift (f_r0 - f_r) [kHz]", 1e-3),
    ("f0 — f (Hz)", 1.0), ("f0 ‒ f (Hz)", 1.0), ("f⁰ - f (Hz)", 1.0), ("fᵣ₀ - fᵣ (Hz)", 1.0),
    ("f0 - f_meas (Hz)", 1.0), ("f_ref−f_meas (Hz)", 1.0), ("ν0 - ν (Hz)", 1.0),
    ("ν₀ − ν (Hz)", 1.0), ("(f0-f) (Hz)", 1.0), ("(f0 - f)/Hz", 1.0), ("[f0 - f] (MHz)", 1e-6),
    ("-df (Hz)", 1.0), ("-Δf (Hz)", 1.0), ("−Δf (Hz)", 1.0), ("-(f - f0) (Hz)", 1.0),
    ("f0 - f(T) in Hz", 1.0), ("f(base) - f(T) (Hz)", 1.0), ("f(lowest T) - f(T) (Hz)", 1.0),
    ("f0_minus_f_Hz", 1.0), ("f0 - f_kHz", 1e-3)])
def test_a_reversed_difference_is_read_with_its_sign_flipped(tmp_path, header, factor):
    """helper-172: the first five were read with their sign unchanged (a wrong sign through the
    API, caught in the CLI only by the fit's shape check); the others were "cannot tell which
    column is the shift" ('f(base) - f(T) (Hz)' said to have no unit, 'f0_minus_f_Hz' to hold
    an absolute frequency)."""
    table = _read(_table(tmp_path / "v.csv", [header], [-SHIFT * factor]))
    assert (table.kind, table.sign_flipped, table.shift_column) == ("df", True, header)
    np.testing.assert_allclose(table.shift, SHIFT * factor, rtol=1e-9)


@pytest.mark.parametrize("header", ["shift (f - f0) (Hz)", "Δf = f - f0 (Hz)", "-(f0 - f) (Hz)",
                                    "f(T) - f(T → 0) (Hz)", "frequency shift f-f0 (Hz)",
                                    "ν - ν0 (Hz)", "f_meas - f_ref (Hz)"])
def test_a_difference_in_its_own_order_keeps_its_sign(tmp_path, header):
    """The guard: f - f0 written the same ways is read as it is."""
    table = _read(_table(tmp_path / "v.csv", [header], [SHIFT]))
    assert (table.kind, table.sign_flipped) == ("df", False)
    np.testing.assert_allclose(table.shift, SHIFT, rtol=1e-9)


@pytest.mark.parametrize("header,kind,flipped", [
    ("(f0-f)/f0", "df/f", True), ("(f-f0)/f0", "df/f", False), ("1 - f/f0", "df/f", True),
    ("f/f0 - 1", "df/f", False), ("(v0-v)/v0", "delta v/v", True), ("(v-v0)/v0", "delta v/v", False),
    ("(f0 - f)/f0 (ppm)", "df/f", True), ("(f_0 − f)/f_0 [1e-6]", "df/f", True)])
def test_a_relative_difference_written_out_is_read_with_its_sign(tmp_path, header, kind, flipped):
    """helper-172: '(f0-f)/f0', '(f-f0)/f0', '1 - f/f0', '(v0-v)/v0' were "cannot tell which
    column is the shift"."""
    relative = SHIFT / 5e9
    scale = 1e6 if re.search(r"ppm|1e-6", header) else 1.0
    written = (-relative if flipped else relative) * scale
    table = _read(_table(tmp_path / "v.csv", [header], [written]))
    assert (table.kind, table.sign_flipped) == (kind, flipped)
    np.testing.assert_allclose(table.as_fraction()[0], relative, rtol=1e-9)


@pytest.mark.parametrize("header", ["shift (f0 - f) (f - f0) (Hz)", "Δf = f0 - f (f - f0) (Hz)",
                                    "f0 - f and more (Hz)"])
def test_a_difference_that_says_no_one_sign_is_not_read(tmp_path, header):
    """Two differences of opposite order ('shift (f0 - f) (f - f0)' was read with its sign
    unchanged), or words that are not a shift's: not read as a shift of either sign."""
    with pytest.raises(ValueError, match="cannot tell which column is the shift"):
        _read(_table(tmp_path / "v.csv", [header], [SHIFT]))


# ------------------------------------------ F2, F3: a resonance against a shift of one sign


@pytest.mark.parametrize("header,f0", [("shift (GHz)", 5.0), ("df (MHz)", 5000.0), ("Δf (Hz)", 5e9),
                                       ("f - f0 (kHz)", 5e6), ("df (GHz)", 0.5), ("df (MHz)", 2.0),
                                       ("shift (Hz)", 2e6)])
@pytest.mark.parametrize("fall", [0.55, 0.7, 0.9, 0.94])
def test_a_resonance_falling_by_more_than_half_is_no_shift(tmp_path, header, f0, fall):
    """helper-172: a resonance column under a shift's name falling by more than half (near Tc)
    was read as a shift of GHz: the rule was a spread within a factor 2."""
    x = (TEMPERATURE - TEMPERATURE[0]) / (TEMPERATURE[-1] - TEMPERATURE[0])
    path = _table(tmp_path / "v.csv", [header], [f0 * (1 - fall * x)])
    with pytest.raises(ValueError, match=re.escape(repr(header)) + r", data row 1: .* are an "
                       r"absolute \(resonance\) frequency, not a shift.*\(all positive, of 1e\+06 "
                       r"Hz or more, and never near 0, as resonance frequencies are\).*or choose the "
                       r"column by name"):
        _read(path)


@pytest.mark.parametrize("header,values", [
    ("df (MHz)", lambda x: -(10 + 5 * x)), ("df (kHz)", lambda x: -(1 + x) * 1e3),
    ("df (kHz)", lambda x: -(1 + 0.5 * x) * 1e3), ("Δf (GHz)", lambda x: -0.02 * (1 + x)),
    ("f - f0 (Hz)", lambda x: -5e9 * (1 - 0.2 * x))])
def test_a_negative_shift_of_one_sign_is_never_a_resonance(tmp_path, header, values):
    """helper-172: -10 to -15 MHz (a kinetic-inductance fall, its reference away from the data)
    was refused as "an absolute (resonance) frequency", even chosen by name: a resonance
    frequency is never negative."""
    x = (TEMPERATURE - TEMPERATURE[0]) / (TEMPERATURE[-1] - TEMPERATURE[0])
    table = _read(_table(tmp_path / "v.csv", [header], [values(x)]))
    assert table.kind == "df"
    np.testing.assert_allclose(table.shift, values(x), rtol=1e-9)


@pytest.mark.parametrize("header,values", [("df (MHz)", lambda x: 1 + 0.9 * x),
                                           ("df (GHz)", lambda x: 1e-3 * (1 + 0.3 * x)),
                                           ("df (Hz)", lambda x: 2e6 + 1e5 * x)])
def test_a_positive_shift_of_mhz_is_read_when_chosen_by_name(tmp_path, header, values):
    """helper-172: positive one-sign values of MHz had no way in; found by name they are a
    resonance (refused, saying how to keep them), chosen by name read with a warning saying why
    they looked like one."""
    x = (TEMPERATURE - TEMPERATURE[0]) / (TEMPERATURE[-1] - TEMPERATURE[0])
    path = _table(tmp_path / "v.csv", [header], [values(x)])
    with pytest.raises(ValueError, match="or choose the column by name"):
        _read(path)
    with pytest.warns(UserWarning, match=re.escape(repr(header)) + r", chosen by name, is read as "
                      r"a shift f - f0 although the values \(.*\) are all positive"):
        table = read_velocity_table(path, shift_column=header)
    np.testing.assert_allclose(table.shift, values(x), rtol=1e-9)


@pytest.mark.parametrize("header,values", [("df (Hz)", lambda x: 2 * np.sin(6 * x)),
                                           ("df (kHz)", lambda x: 80 * x),
                                           ("df (MHz)", lambda x: 0.9 + 0.05 * x)])
def test_a_shift_near_zero_or_below_a_megahertz_is_read(tmp_path, header, values):
    """The guard: across zero, from zero, or all below 1 MHz: a shift."""
    x = (TEMPERATURE - TEMPERATURE[0]) / (TEMPERATURE[-1] - TEMPERATURE[0])
    np.testing.assert_allclose(_read(_table(tmp_path / "v.csv", [header], [values(x)])).shift,
                               values(x), rtol=1e-9)


# ------------------------------------------ F4, F5: expanded uncertainties and u_c


@pytest.mark.parametrize("error_header", ["2sd (Hz)", "confidence interval (Hz)",
                                          "half-width 95% (Hz)", "95 % half-width (Hz)",
                                          "3 sd (Hz)", "interval (95%) (Hz)"])
def test_a_multiple_of_sigma_or_an_interval_is_refused_as_expanded(tmp_path, error_header):
    """helper-172: beside 'df (Hz)' these were dropped without a word (no error column), while
    '2σ (Hz)' and '95 % CI (Hz)' were refused as expanded."""
    path = _table(tmp_path / "v.csv", ["df (Hz)", error_header], [SHIFT, np.full(SHIFT.size, 2.0)])
    with pytest.raises(ValueError, match=re.escape(f"error column {error_header!r} is an expanded "
                                                   "uncertainty")):
        _read(path)


@pytest.mark.parametrize("error_header,factor", [("Uc (Hz)", 1.0), ("U_c (Hz)", 1.0), ("U c (Hz)", 1.0),
                                                 ("U_C (kHz)", 1e3), ("U_c(df) (Hz)", 1.0)])
def test_a_capital_uc_is_the_combined_standard_uncertainty_as_u_c(tmp_path, error_header, factor):
    """helper-172: 'Uc (Hz)' was taken as the standard uncertainty and 'U_c (Hz)' refused as
    expanded: the subscript c names the GUM's combined standard uncertainty u_c either way (a
    capital U alone, 'U (Hz)', 'U_df', stays expanded)."""
    path = _table(tmp_path / "v.csv", ["df (Hz)", error_header], [SHIFT, np.full(SHIFT.size, 2.0)])
    table = _read(path)
    assert table.error_column == error_header
    np.testing.assert_allclose(table.sigma, 2.0 * factor)


@pytest.mark.parametrize("error_header", ["U (Hz)", "U_df (Hz)", "U(df) (Hz)"])
def test_a_capital_u_without_c_stays_expanded(tmp_path, error_header):
    path = _table(tmp_path / "v.csv", ["df (Hz)", error_header], [SHIFT, np.full(SHIFT.size, 2.0)])
    with pytest.raises(ValueError, match="is an expanded uncertainty"):
        _read(path)


def test_a_half_width_without_a_level_is_no_error_column(tmp_path):
    """The guard: 'half-width (Hz)' (a resonance's linewidth) is another column."""
    path = _table(tmp_path / "v.csv", ["df (Hz)", "half-width (Hz)"], [SHIFT, np.full(SHIFT.size, 2e5)])
    assert _read(path).error_column is None


# ------------------------------------------ F7: messages


@pytest.mark.parametrize("header", ["dv/v ⋅ 10^6", "dv/v·10⁶"])
def test_the_dot_operator_scale_is_named_as_the_middle_dot_is(tmp_path, header):
    """helper-172: '⋅' (U+22C5) got the generic "a number without a unit" message."""
    path = _table(tmp_path / "v.csv", [header], [SHIFT / 5e9 * 1e6])
    with pytest.raises(ValueError, match=re.escape(f"shift column {header!r}: its scale '10^6' reads "
                                                   "two ways")):
        _read(path)


@pytest.mark.parametrize("header,scale", [("dv/v x 10-6", "x 10-6"), ("df/f (10-6)", "(10-6)")])
def test_a_power_of_ten_without_its_caret_is_named(tmp_path, header, scale):
    """helper-172: 'dv/v x 10-6' was "not a relative shift ... a scale belongs in the header"."""
    path = _table(tmp_path / "v.csv", [header], [SHIFT / 5e9 * 1e6])
    with pytest.raises(ValueError, match=re.escape(f"shift column {header!r}: its scale {scale!r} is "
                                                   "no power of ten as written (10 minus 6?): for "
                                                   "values in units of 10^-6 write '(1e-6)'")):
        _read(path)


def test_std_dev_is_an_error_word_as_a_whole(tmp_path):
    """helper-172: the message said "(dev df/f: a plain number)"."""
    path = _table(tmp_path / "v.csv", ["df (Hz)", "std dev df/f (Hz)"], [SHIFT, np.full(SHIFT.size, 2.0)])
    with pytest.raises(ValueError, match=re.escape("the error of a relative shift (df/f: a plain "
                                                   "number)")):
        _read(path)


@pytest.mark.parametrize("error_header", ["sd(f) (Hz)", "sd(f_r) (kHz)", "sd(f_res) (Hz)"])
def test_the_error_of_a_resonance_frequency_is_set_aside_however_subscripted(tmp_path,
                                                                              error_header):
    """helper-172: 'sd(f_r) (kHz)' was taken as the error of 'df (Hz)' (x1000) while 'sd(f) (Hz)'
    was set aside with a warning "the error of a frequency?"."""
    path = _table(tmp_path / "v.csv", ["df (Hz)", error_header], [SHIFT, np.full(SHIFT.size, 2.0)])
    with pytest.warns(UserWarning, match=re.escape(f"{error_header!r} (the error of a frequency?) "
                                                   "not used")):
        assert read_velocity_table(path).error_column is None


@pytest.mark.parametrize("header", ["frequency decrease (Hz)", "frequency drop (kHz)"])
def test_a_shift_named_in_words_is_not_called_a_resonance_frequency(tmp_path, header):
    """helper-172: 'frequency decrease (Hz)' was refused saying it holds "an absolute (resonance)
    frequency". Since helper-174 it is read as the shift counted downwards, f0 - f
    (tests/test_input_faults_s55.py)."""
    table = _read(_table(tmp_path / "v.csv", [header], [SHIFT]))
    assert (table.kind, table.sign_flipped) == ("df", True)
    np.testing.assert_allclose(table.shift, -SHIFT, rtol=1e-9)
