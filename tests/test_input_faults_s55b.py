"""Faults of the shift-column reader found by a break tester (helper-179): a shift negated in words
('minus df/f') or inside LaTeX, backticks or quotes ('$-\\Delta f/f_0$') read with its sign wrong;
a negated resonance below 100 MHz read as a shift; 'σ×2' taken as one sigma and a variance as a
standard deviation; clear headers refused ('f(T)/f(0) - 1', 'df, sign flipped (Hz)'); messages
quoting a value or a header the user never wrote.

Tables are ';'-separated (a comma inside a header is the header's). Each test writes the values
the header says it holds and asserts the shift read, with its sign, or the one-line refusal."""

from __future__ import annotations

import numpy as np
import pytest
from shift_tables import log_shift_rows, read_strict, refusal, write_table

from manybody.measured.velocity import read_velocity_table

TEMPERATURE, RELATIVE = log_shift_rows()
#: The relative shift df/f0 (0 at 0.01 K is not required: the reference may lie anywhere).
SHIFT_HZ = RELATIVE * 5e9


def _table(path, headers, columns):
    return write_table(path, headers, columns, TEMPERATURE, sep=";")


_read, _refusal = read_strict, refusal


def _fraction(path, **kw) -> np.ndarray:
    return _read(path, **kw).as_fraction()[0]


# ------------------------------------------------ a negation in words or inside typesetting


@pytest.mark.parametrize("header,scale", [
    ("minus df/f", 1.0), ("minus dv/v", 1.0), ("minus Δf/f (ppm)", 1e6),
    ("minus fractional frequency shift", 1.0), ("negative of df/f", 1.0), ("Minus df/f0", 1.0),
    ("$-\\Delta f/f_0$", 1.0), ("$-\\delta f/f_0$ (ppm)", 1e6), ("$-df/f$", 1.0), ("`-df/f`", 1.0),
    ("'-df/f'", 1.0), ("−(Δf/f) (ppm)", 1e6), ("-(df/f)", 1.0), ("(-1)*df/f", 1.0),
    ("-1 × Δf/f (ppm)", 1e6)])
def test_a_relative_shift_negated_in_words_or_typesetting_is_flipped(tmp_path, header, scale):
    """'minus df/f' and '$-\\delta f/f_0$ (ppm)' were read as written: a dip fitted as a maximum,
    'sign_flipped: false'."""
    path = _table(tmp_path / "v.csv", [header], [-RELATIVE * scale])
    table = _read(path)
    assert table.sign_flipped, header
    np.testing.assert_allclose(table.as_fraction()[0], RELATIVE, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("header,factor", [
    ("minus frequency shift (Hz)", 1.0), ("minus df (Hz)", 1.0), ("minus Δf (kHz)", 1e-3),
    ("negative of df (Hz)", 1.0), ("(-1)*df (Hz)", 1.0), ("-1*df (Hz)", 1.0), ("-(df) (Hz)", 1.0),
    ("$-\\Delta f$ (Hz)", 1.0), ("df, sign flipped (Hz)", 1.0), ("df, sign inverted (Hz)", 1.0)])
def test_an_absolute_shift_negated_in_words_is_flipped(tmp_path, header, factor):
    """'minus frequency shift (Hz)' was read as written, 'minus df (Hz)' and '(-1)*df (Hz)'
    refused, 'df, sign flipped (Hz)' refused as an unclear word although the rule lists it."""
    table = _read(_table(tmp_path / "v.csv", [header], [-SHIFT_HZ * factor]))
    assert (table.kind, table.sign_flipped) == ("df", True), header
    np.testing.assert_allclose(table.shift, SHIFT_HZ * factor, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("header,scale", [
    ("$\\Delta f/f_0$", 1.0), ("\\delta f / f_{0}", 1.0), ("`df/f`", 1.0), ("'df/f (ppm)'", 1e6),
    ("delta_f_over_f", 1.0), ("df over f", 1.0), ("fractional shift (x1e-6)", 1e6),
    ("f(T)/f(0) - 1", 1.0), ("f(T)/f0 - 1 (ppm)", 1e6), ("f(T)/f_0 - 1", 1.0)])
def test_a_relative_shift_written_plainly_is_read_as_it_is(tmp_path, header, scale):
    """Typeset and spelled-out names of df/f, read unflipped ('f(T)/f(0) - 1' was "cannot tell
    which column is the shift" while 'f/f0 - 1' was read)."""
    table = _read(_table(tmp_path / "v.csv", [header], [RELATIVE * scale]))
    assert not table.sign_flipped, header
    np.testing.assert_allclose(table.as_fraction()[0], RELATIVE, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("header,scale", [
    ("1 - f(T)/f_0", 1.0), ("1 - f(T)/f(0)", 1.0), ("(f(T0)-f(T))/f(T0) (ppm)", 1e6),
    ("(f(0) - f(T))/f(0)", 1.0), ("Δf/f_0 = (f_0 - f)/f_0", 1.0), ("Δf/f = f0 - f (ppm)", 1e6),
    ("df/f (f0 - f)", 1.0), ("df/f0 (ppm), f0-f", 1e6)])
def test_a_reference_over_itself_minus_the_measured_is_flipped(tmp_path, header, scale):
    """'1 - f(T)/f_0' and '(f(T0)-f(T))/f(T0)' were refused; 'Δf/f_0 = (f_0 - f)/f_0' was
    refused quoting '-df/f (f_0)', a header the user never wrote; 'Δf/f = f0 - f (ppm)' was read
    unflipped (helper-180), 'df/f (f0 - f)' refused."""
    table = _read(_table(tmp_path / "v.csv", [header], [-RELATIVE * scale]))
    assert table.sign_flipped, header
    np.testing.assert_allclose(table.as_fraction()[0], RELATIVE, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("header,factor", [
    ("\\Delta f (Hz)", 1.0), ("$\\Delta f$ (Hz)", 1.0), ("frequency change (Hz)", 1.0),
    ("resonance frequency change (kHz)", 1e-3), ("df in Hz", 1.0), ("Δf in kHz", 1e-3)])
def test_an_absolute_shift_written_plainly_is_read_as_it_is(tmp_path, header, factor):
    table = _read(_table(tmp_path / "v.csv", [header], [SHIFT_HZ * factor]))
    assert (table.kind, table.sign_flipped) == ("df", False), header
    np.testing.assert_allclose(table.shift, SHIFT_HZ * factor, rtol=1e-9, atol=1e-9)


# ------------------------------------------------ a resonance by its values, at any size


@pytest.mark.parametrize("header,values", [
    ("Δf (MHz)", -100 * (1 + RELATIVE)), ("df (MHz)", -80 * (1 + RELATIVE)),
    ("df (kHz)", -500 * (1 + RELATIVE)), ("f0 - f (kHz)", -500 * (1 + RELATIVE)),
    ("df (Hz)", -2e4 * (1 + RELATIVE))])
def test_a_negated_resonance_of_any_size_is_refused(tmp_path, header, values):
    """-100 MHz x (1 + df/f), -80 MHz and -500 kHz were read as shifts (only -100 MHz and
    beyond was a resonance): the sign of a resonance read as the shift's."""
    text = _refusal(_table(tmp_path / "v.csv", [header], [values]))
    assert "all negative and far from 0 against their spread" in text and "negated" in text


def test_a_resonance_of_500_khz_is_refused(tmp_path):
    text = _refusal(_table(tmp_path / "v.csv", ["df (kHz)"], [500 * (1 + RELATIVE)]))
    assert "nearly constant" in text and "absolute (resonance) frequency" in text


@pytest.mark.parametrize("values", [
    -10e6 - 5e6 * np.linspace(0, 1, TEMPERATURE.size) ** 3,   # a kinetic-inductance fall
    -1.0 - np.abs(SHIFT_HZ) / 100, SHIFT_HZ - SHIFT_HZ.max() - 1.0])  # small all-negative shifts
def test_shifts_of_one_sign_spread_as_far_as_they_reach_are_read(tmp_path, values):
    table = _read(_table(tmp_path / "v.csv", ["df (Hz)"], [values]))
    np.testing.assert_allclose(table.shift, values)


def test_the_frequency_option_help_says_it_is_used_with_a_shift():
    import argparse

    from manybody.cli.fit_data import configure
    parser = argparse.ArgumentParser()
    configure(parser)
    text = next(a.help for a in parser._actions if "--frequency" in a.option_strings)
    assert "recorded only with --velocity" not in text and "refused" in text


# ------------------------------------------------ error columns


@pytest.mark.parametrize("error", ["σ×2 (Hz)", "2×σ (Hz)", "sigma x 2 (Hz)", "sd*2 (Hz)"])
def test_a_multiple_of_sigma_is_refused_as_an_expanded_uncertainty(tmp_path, error):
    """'σ×2 (Hz)' was taken as one sigma: every error doubled."""
    path = _table(tmp_path / "v.csv", ["df (Hz)", error], [SHIFT_HZ, np.full(TEMPERATURE.size, 2.0)])
    assert "is an expanded uncertainty" in _refusal(path)


@pytest.mark.parametrize("error", ["std (ppm²)", "std (ppm^2)", "variance (ppm^2)"])
def test_a_variance_is_refused_as_the_error(tmp_path, error):
    """'std (ppm²)' was read as ppm (sigma 1e-6 from 1 ppm²)."""
    path = _table(tmp_path / "v.csv", ["df/f (ppm)", error],
                  [RELATIVE * 1e6, np.full(TEMPERATURE.size, 1.0)])
    assert "names a variance" in _refusal(path, error_column=error)
    if "std" in error:
        assert "names a variance" in _refusal(path)


@pytest.mark.parametrize("error,factor", [("+/-", 1.0), ("+/- (Hz)", 1.0), ("+/- (kHz)", 1e3)])
def test_plus_minus_is_read_as_the_error(tmp_path, error, factor):
    """'+/-' (common in CSV) was no error column: dropped without a word."""
    path = _table(tmp_path / "v.csv", ["df (Hz)", error], [SHIFT_HZ, np.full(TEMPERATURE.size, 3.0)])
    table = _read(path)
    assert table.error_column == error
    np.testing.assert_allclose(table.sigma, 3.0 * factor)


@pytest.mark.parametrize("error", ["u(f) (Hz)", "variance (Hz^2)", "var (Hz²)", "Fehler (Hz)"])
def test_a_column_that_looks_like_an_uncertainty_is_not_dropped_silently(tmp_path, error):
    path = _table(tmp_path / "v.csv", ["df (Hz)", error], [SHIFT_HZ, np.full(TEMPERATURE.size, 3.0)])
    with pytest.warns(UserWarning, match="look like an uncertainty but are not used"):
        table = read_velocity_table(path)
    assert table.error_column is None


# ------------------------------------------------ messages


def test_an_unclear_sign_is_refused_naming_no_value(tmp_path):
    """'negative of df/f' quoted 'data row 1: -0' and suggested '-df (Hz)' for a relative shift;
    'negative of' is now read as a minus, 'neg' stays unclear."""
    text = _refusal(_table(tmp_path / "v.csv", ["neg df/f"], [RELATIVE]))
    assert "its word 'neg'" in text and "data row" not in text and "'-df/f'" in text
    assert "(Hz)" not in text.split("its word")[1]


def test_a_relative_name_beside_an_absolute_difference_in_hz_is_refused(tmp_path):
    text = _refusal(_table(tmp_path / "v.csv", ["Δf/f = f0 - f (Hz)"], [SHIFT_HZ]))
    assert "the name and the unit contradict" in text


def test_softening_is_not_said_to_hold_an_absolute_frequency(tmp_path):
    text = _refusal(_table(tmp_path / "v.csv", ["frequency softening (Hz)"], [SHIFT_HZ]))
    assert "absolute (resonance) frequency" not in text


def test_a_header_that_cannot_be_read_is_quoted_as_written(tmp_path):
    """'-df/f (f_0)', a form read from the header, was quoted instead of the header."""
    text = _refusal(_table(tmp_path / "v.csv", ["(f0 - f)/f0 (20)"], [RELATIVE]))
    assert "'(f0 - f)/f0 (20)'" in text and "'-df/f" not in text
