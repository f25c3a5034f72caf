"""Faults of the shift-column reader (helper-174): headers it refused with only "cannot tell which
column is the shift" though they say what they hold ('f0/f - 1', 'f_res,0 - f_res', 'downshift
(Hz)'), headers whose sign is unclear refused without naming the word ('df_rev', 'negative shift
(Hz)'), and a resonance frequency negated (about -5 GHz under a shift's name) read as a shift.

Tables are ';'-separated: a comma inside a header ('f_res,0', 'f0 - f, Hz') is the header's."""

from __future__ import annotations

import re

import numpy as np
import pytest
from shift_tables import read_strict, refusal, write_table

TEMPERATURE = np.geomspace(0.01, 1.0, 12)
#: A shift f - f0 (Hz): -8e4 at the lowest temperature, rising as ln T, +4.5e4 at the highest.
SHIFT = 3.5e4 * np.log(TEMPERATURE / 0.1) + 0.5e4
#: A relative shift df/f0 up to 1.6e-2 (a kinetic-inductance size): y/(1 - y) and y differ by
#: ~1e-2 relative, so a first-order reading of a ratio over f fails the tests.
RELATIVE = SHIFT / 5e9 * 1e3


def _table(path, headers, columns):
    return write_table(path, headers, columns, TEMPERATURE, sep=";")


def _read(path, **kw):
    return read_strict(path, **kw)


def _refusal(path, **kw) -> str:
    """The one-line message of a refused table, not the generic one."""
    text = refusal(path, **kw)
    assert "cannot tell which column is the shift" not in text, text
    return text


# --------------------------------------- a difference with a comma or braces in its subscripts


@pytest.mark.parametrize("header,factor,flipped", [
    ("f_res,0 - f_res (Hz)", 1.0, True), ("f_{res,0} - f_{res} (Hz)", 1.0, True),
    ("f_r,0 − f_r [kHz]", 1e-3, True), ("f_{r,0} - f_r (MHz)", 1e-6, True),
    ("ν_res,0 - ν_res (Hz)", 1.0, True), ("f_res,0 - f_res in Hz", 1.0, True),
    ("f_res,0 - f_res, Hz", 1.0, True)])
def test_a_difference_with_a_comma_in_a_subscript_is_read_with_its_sign(tmp_path, header, factor,
                                                                        flipped):
    """'f_res,0 - f_res (Hz)' was split at the comma of its subscript: "cannot tell which column
    is the shift"."""
    written = (-SHIFT if flipped else SHIFT) * factor
    table = _read(_table(tmp_path / "v.csv", [header], [written]))
    assert (table.kind, table.sign_flipped, table.shift_column) == ("df", flipped, header)
    np.testing.assert_allclose(table.shift, SHIFT * factor, rtol=1e-9)


@pytest.mark.parametrize("header,factor,flipped", [
    ("f_res - f_res,0 (Hz)", 1.0, False), ("f0 - f, Hz", 1.0, True), ("f0 − f, kHz", 1e-3, True)])
def test_guard_a_unit_after_a_comma_keeps_its_reading(tmp_path, header, factor, flipped):
    """The guard (read right before helper-174 too): 'f0 - f, Hz' in a ';' table is f - f0 in Hz
    (in an unquoted CSV its comma splits the cell, refused naming it since session 53)."""
    written = (-SHIFT if flipped else SHIFT) * factor
    table = _read(_table(tmp_path / "v.csv", [header], [written]))
    assert (table.kind, table.sign_flipped) == ("df", flipped)
    np.testing.assert_allclose(table.shift, SHIFT * factor, rtol=1e-9)


def test_a_difference_with_a_comma_and_no_unit_is_refused_asking_for_it(tmp_path):
    with pytest.raises(ValueError, match=re.escape("Column(s) 'f_res,0 - f_res' name a frequency "
                                                   "shift without its unit")):
        _read(_table(tmp_path / "v.csv", ["f_res,0 - f_res"], [-SHIFT]))


# ---------------------------------------------- a relative shift over the measured frequency


@pytest.mark.parametrize("header,kind,sign,scale", [
    ("f0/f - 1", "df/f", -1, 1.0), ("f₀/f − 1 (ppm)", "df/f", -1, 1e6),
    ("ν0/ν - 1", "df/f", -1, 1.0), ("f_r,0/f_r - 1 [1e-6]", "df/f", -1, 1e6),
    ("f_0/f(T) - 1", "df/f", -1, 1.0), ("1 - f0/f", "df/f", 1, 1.0),
    ("1 - f_0/f_meas (ppm)", "df/f", 1, 1e6), ("(f0 - f)/f", "df/f", -1, 1.0),
    ("(f - f0)/f (ppm)", "df/f", 1, 1e6), ("(f_0 − f)/f(T) [1e-6]", "df/f", -1, 1e6),
    ("v0/v - 1", "delta v/v", -1, 1.0), ("(v - v0)/v", "delta v/v", 1, 1.0)])
def test_a_ratio_over_the_measured_frequency_is_read_exactly(tmp_path, header, kind, sign, scale):
    """'f0/f - 1' was "cannot tell which column is the shift". It is (f0 - f)/f = -y with
    y = (f - f0)/f = r/(1 + r), r = df/f0: read as r exactly, not as -y to first order."""
    y = RELATIVE / (1 + RELATIVE)
    table = _read(_table(tmp_path / "v.csv", [header], [sign * y * scale]))
    assert (table.kind, table.sign_flipped) == (kind, sign < 0)
    np.testing.assert_allclose(table.as_fraction()[0], RELATIVE, rtol=1e-9)


def test_the_errors_of_a_ratio_over_the_measured_frequency_are_propagated(tmp_path):
    """d(df/f0)/dy = 1/(1 - y)^2."""
    y = RELATIVE / (1 + RELATIVE)
    sd = np.full(y.size, 1e-4)
    table = _read(_table(tmp_path / "v.csv", ["f0/f - 1", "sigma"], [-y, sd]))
    np.testing.assert_allclose(table.sigma, sd / (1 - y) ** 2, rtol=1e-9)


# ------------------------------------------------------ a shift counted downwards or upwards


@pytest.mark.parametrize("header,factor,flipped", [
    ("downshift (Hz)", 1.0, True), ("down-shift [kHz]", 1e-3, True), ("shift down (Hz)", 1.0, True),
    ("frequency downshift (Hz)", 1.0, True), ("resonance frequency decrease (Hz)", 1.0, True),
    ("delta f downward (Hz)", 1.0, True),
    ("frequency drop, kHz", 1e-3, True), ("downshift in Hz", 1.0, True),
    ("f_r downshift (MHz)", 1e-6, True), ("upshift (Hz)", 1.0, False),
    ("frequency increase (kHz)", 1e-3, False), ("shift up (Hz)", 1.0, False),
    ("shift (downward) (Hz)", 1.0, True),
    ("resonator frequency drop (MHz)", 1e-6, True)])
def test_a_shift_counted_downwards_is_read_as_reference_minus_frequency(tmp_path, header, factor,
                                                                         flipped):
    """'downshift (Hz)', 'shift down (Hz)' were "cannot tell which column is the shift". A
    downshift is counted positive where the frequency fell: f0 - f. ('Δf down (Hz)', 'df_down_Hz'
    are unclear since helper-181, a down-sweep's export? tests/test_input_faults_s55c.py.)"""
    written = (-SHIFT if flipped else SHIFT) * factor
    table = _read(_table(tmp_path / "v.csv", [header], [written]))
    assert (table.kind, table.sign_flipped) == ("df", flipped)
    np.testing.assert_allclose(table.shift, SHIFT * factor, rtol=1e-9)


def test_a_fractional_downshift_is_a_relative_shift_with_its_sign_flipped(tmp_path):
    table = _read(_table(tmp_path / "v.csv", ["fractional frequency decrease (ppm)"],
                         [-RELATIVE * 1e6]))
    assert (table.kind, table.sign_flipped) == ("df/f", True)
    np.testing.assert_allclose(table.as_fraction()[0], RELATIVE, rtol=1e-9)


@pytest.mark.parametrize("header", ["downshift (Hz)", "frequency decrease (kHz)", "upshift (Hz)"])
def test_a_shift_counted_one_way_with_every_value_negative_is_refused(tmp_path, header):
    """Every value negative contradicts the name: the opposite shift at every temperature, or
    the other difference written under it."""
    text = _refusal(_table(tmp_path / "v.csv", [header], [-np.abs(SHIFT) - 1.0]))
    assert f"shift column {header!r}, data row 1: " in text
    assert "every value is negative" in text and "'f0 - f (Hz)'" in text


@pytest.mark.parametrize("header", ["df negated (Hz)", "Δf, sign reversed (Hz)",
                                    "df × (-1) (Hz)", "shift, sign flipped [kHz]",
                                    "delta f (negated) [Hz]"])
def test_a_sign_flip_said_in_words_is_read(tmp_path, header):
    factor = 1e-3 if "kHz" in header else 1.0
    table = _read(_table(tmp_path / "v.csv", [header], [-SHIFT * factor]))
    assert (table.kind, table.sign_flipped) == ("df", True)
    np.testing.assert_allclose(table.shift, SHIFT * factor, rtol=1e-9)


# ----------------------------------------------------------------- a sign left unclear


@pytest.mark.parametrize("header,word", [
    ("df_rev", "rev"), ("df_rev (Hz)", "rev"), ("Δf_rev [Hz]", "rev"),
    ("negative shift (Hz)", "negative"), ("reverse shift (kHz)", "reverse"),
    ("df_inv (Hz)", "inv"), ("δf neg (Hz)", "neg"), ("shift reversed (Hz)", "reversed"),
    ("df/f rev (ppm)", "rev")])
def test_a_shift_whose_sign_is_unclear_is_refused_naming_the_word(tmp_path, header, word):
    """'df_rev' (a reversed sign, or a reverse sweep?) and 'negative shift (Hz)' (the shift,
    which is negative, or minus it?) were "cannot tell which column is the shift"."""
    text = _refusal(_table(tmp_path / "v.csv", [header], [SHIFT]))
    # the header's word, no value: a row's '-0' was quoted (helper-179); a relative shift is
    # shown relative differences
    assert f"shift column {header!r}: its word {word!r}" in text
    assert ("'(f0 - f)/f0' or '-df/f'" if "/" in header else "'f - f0 (Hz)' or 'f0 - f (Hz)'") in text


def test_a_shift_whose_sign_is_unclear_is_refused_when_chosen_by_name(tmp_path):
    path = _table(tmp_path / "v.csv", ["df_rev (Hz)"], [SHIFT])
    assert "its word 'rev'" in _refusal(path, shift_column="df_rev (Hz)")


# --------------------------------------------------------------- a resonance frequency negated


@pytest.mark.parametrize("header,values", [
    ("df (GHz)", -5.0 + SHIFT * 1e-9), ("shift (Hz)", -5e9 + SHIFT), ("Δf (MHz)", -5e3 + SHIFT * 1e-6),
    ("f0 - f (Hz)", -5e9 + SHIFT), ("f - f0 (kHz)", -5e6 + SHIFT * 1e-3),
    ("downshift (GHz)", -5.0 + SHIFT * 1e-9)])
def test_a_resonance_frequency_negated_is_refused(tmp_path, header, values):
    """-5 GHz under a shift's name was read as a shift of -5 GHz (negative values were never a
    resonance), or, reversed, as +5 GHz."""
    text = _refusal(_table(tmp_path / "v.csv", [header], [values]))
    assert f"shift column {header!r}, data row " in text and "a resonance frequency negated" in text


def test_a_resonance_frequency_negated_is_refused_when_chosen_by_name(tmp_path):
    path = _table(tmp_path / "v.csv", ["df (GHz)"], [-5.0 + SHIFT * 1e-9])
    assert "a resonance frequency negated" in _refusal(path, shift_column="df (GHz)")


def test_a_shift_of_half_the_resonance_frequency_is_refused_given_it(tmp_path):
    """-3 to -1 GHz is no resonance negated (it moves by a factor 3), but with --frequency 5 GHz
    no shift of the resonator."""
    values = np.linspace(-3e9, -1e9, TEMPERATURE.size)
    path = _table(tmp_path / "v.csv", ["df (Hz)"], [values])
    text = _refusal(path, frequency_hz=5e9)
    assert "times the resonance frequency given as frequency_hz (5e+09 Hz)" in text
    np.testing.assert_allclose(_read(path).shift, values, rtol=1e-9)  # without it: read


def test_a_negative_shift_of_megahertz_is_still_read(tmp_path):
    """The guard (helper-172): -10 to -15 MHz is a kinetic-inductance fall, given --frequency or
    not."""
    values = np.linspace(-10.0, -15.0, TEMPERATURE.size)
    path = _table(tmp_path / "v.csv", ["df (MHz)"], [values])
    np.testing.assert_allclose(_read(path, frequency_hz=5e9).shift, values, rtol=1e-9)


def test_fit_data_refuses_a_resonance_negated_in_one_line(tmp_path, capsys):
    from manybody.cli import main

    path = _table(tmp_path / "v.csv", ["df (GHz)"], [-5.0 + SHIFT * 1e-9])
    assert main(["fit-data", "--velocity", str(path), "--frequency", "5GHz",
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "'df (GHz)'" in err and "Traceback" not in err
    assert "times the resonance frequency given by --frequency (5e+09 Hz)" in err
