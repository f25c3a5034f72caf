"""Faults of the shift-column reader found by a break tester (helper-181): a shift in Hz referenced
at a high temperature, written 'f0 - f (Hz)', refused as a resonance negated with no way out (the
rule judged the values before the header's sign flip and took any one-sign column constant to 1 %
for a resonance); 'reverse sweep', 'inverted Q channel' refused as sign words; 'df_down (Hz)' read
as f0 - f although it may be a down-sweep's export; '±' and '+/-' read as an error column's unit;
the half-of---frequency refusal garbled; --shift refusing a shift in Hz given --frequency.

Each test writes the values the header says it holds and asserts the shift read, with its sign,
or the one-line refusal."""

from __future__ import annotations

import numpy as np
import pytest
from shift_tables import log_shift_rows, read_strict, refusal, write_table

from manybody.measured.velocity import read_velocity_table

TEMPERATURE, RELATIVE = log_shift_rows()  # df/f0 from 0 down to -2.3e-5
F0 = 5.62e9


def _table(path, headers, columns):
    return write_table(path, headers, columns, TEMPERATURE, sep=";")


_read, _refusal = read_strict, refusal


# ------------------------------------------------ F2: a shift referenced far from the data


def _high_reference(scale: float) -> np.ndarray:
    """f(T) - f(T_ref) in Hz of a 5.62 GHz resonator referenced at a high temperature: +562 kHz
    (the quasiparticle offset, 1e-4 of f0) plus a TLS shift of ``scale`` x 1e-5 per e-fold."""
    return 1e-4 * F0 + log_shift_rows(scale)[1] * F0


@pytest.mark.parametrize("scale", [0.005, 0.02, 0.1])  # a spread of 1.2e-3 to 2.3e-2 of 562 kHz
@pytest.mark.parametrize("header,sign,factor,flipped", [
    ("f0 - f (Hz)", -1, 1.0, True), ("df (Hz)", 1, 1.0, False), ("f - f0 (kHz)", 1, 1e-3, False),
    ("f(T_ref) - f(T) (kHz)", -1, 1e-3, True), ("Δf (Hz)", 1, 1.0, False)])
@pytest.mark.parametrize("frequency_hz", [None, F0])
def test_a_shift_referenced_at_a_high_temperature_is_read(tmp_path, scale, header, sign, factor,
                                                          flipped, frequency_hz):
    """'f0 - f (Hz)' of -562 kHz +- 300 Hz was "a resonance frequency negated" even chosen by
    name; 'df (Hz)' of +562 kHz refused unless chosen by name."""
    shift = _high_reference(scale)
    table = _read(_table(tmp_path / "v.csv", [header], [sign * shift * factor]),
                  frequency_hz=frequency_hz)
    assert (table.kind, table.sign_flipped) == ("df", flipped)
    np.testing.assert_allclose(table.shift, shift * factor, rtol=1e-9)


@pytest.mark.parametrize("header,sign", [("df (Hz)", 1), ("f0 - f (Hz)", -1), ("df (Hz)", -1)])
def test_a_nearly_constant_shift_of_megahertz_is_decided_by_the_frequency(tmp_path, header, sign):
    """2 MHz +- 1 kHz (5e-4 of itself) is a shift of a 5.62 GHz resonator (3.6e-4 of it), or a
    2 MHz resonance: read given --frequency, refused without it naming both ways out, read with a
    warning when chosen by name."""
    values = sign * (2e6 + log_shift_rows(0.01)[1] * F0)
    path = _table(tmp_path / "v.csv", [header], [values])
    shift = -values if header.startswith("f0") else values
    np.testing.assert_allclose(_read(path, frequency_hz=F0).shift, shift, rtol=1e-9)
    text = _refusal(path)
    assert "--frequency" in text and "--shift-column" in text
    with pytest.warns(UserWarning, match="chosen by name, is read as a shift"):
        table = read_velocity_table(path, shift_column=header)
    np.testing.assert_allclose(table.shift, shift, rtol=1e-9)


@pytest.mark.parametrize("resonance", [1e8, 5e8, 1e9, 5.62e9, 1e10])
@pytest.mark.parametrize("header", ["df (Hz)", "f0 - f (Hz)", "Δf (MHz)"])
@pytest.mark.parametrize("sign", [1, -1])
def test_a_resonance_negated_or_not_is_still_refused(tmp_path, resonance, header, sign):
    """The other side: resonance frequencies of 100 MHz to 10 GHz with a TLS shift (2e-5 of
    themselves), negated or not, under any shift header; given --frequency, refused by comparison."""
    factor = 1e-6 if "MHz" in header else 1.0
    values = sign * resonance * (1 + RELATIVE) * factor
    path = _table(tmp_path / "v.csv", [header], [values])
    text = _refusal(path)
    assert "resonance" in text and "frequency" in text, text
    assert "times the resonance frequency given as frequency_hz" in _refusal(
        path, frequency_hz=resonance)


@pytest.mark.parametrize("header,values", [
    ("df (Hz)", -1.5e8 * (1 + RELATIVE)), ("f0 - f (MHz)", -150 * (1 + RELATIVE)),
    ("df (GHz)", -5.0 * (1 + RELATIVE))])
def test_a_negated_resonance_of_100_mhz_or_more_is_refused_even_by_name(tmp_path, header, values):
    """Below 100 MHz a nearly constant column chosen by name is read with a warning (a shift far
    from its reference, or a resonance: the name decides); from 100 MHz negative values within
    10 % of each other are refused whatever the name."""
    text = _refusal(_table(tmp_path / "v.csv", [header], [values]), shift_column=header)
    assert "a resonance frequency negated" in text


@pytest.mark.parametrize("header,values", [
    ("df (kHz)", 500 * (1 + RELATIVE)), ("df (kHz)", -500 * (1 + RELATIVE)),
    ("f0 - f (kHz)", -500 * (1 + RELATIVE)), ("f0 - f (kHz)", 500 * (1 + RELATIVE)),
    ("df (Hz)", -2e4 * (1 + RELATIVE))])
def test_a_resonance_below_a_megahertz_constant_to_a_tls_shift_is_refused(tmp_path, header, values):
    """500 kHz x (1 + df/f) spreads 2.3e-5 of itself: a resonance, whatever the header's sign."""
    text = _refusal(_table(tmp_path / "v.csv", [header], [values]))
    assert "far from 0 against their spread" in text or "nearly constant" in text, text


def test_a_resonance_falling_under_a_reversed_header_is_refused(tmp_path):
    """'f0 - f (Hz)' of -5 to -4 GHz is +4 to +5 GHz as the shift: resonance frequencies, refused
    as the values are read (they were judged as written, negative and spread 20 %)."""
    values = -5e9 * (1 - 0.2 * np.linspace(0, 1, TEMPERATURE.size))
    text = _refusal(_table(tmp_path / "v.csv", ["f0 - f (Hz)"], [values]))
    assert "positive as the header reverses them" in text


# ------------------------------------------------ F8: the half-of---frequency refusal


@pytest.mark.parametrize("header,factor", [("df (Hz)", 1.0), ("f0 - f (kHz)", -1e-3)])
def test_a_shift_beyond_half_the_frequency_names_both_remedies(tmp_path, header, factor):
    """It read "the values (...) are |shift| of 0.5 of the resonance frequency (7000 Hz,
    --frequency) or more is no shift of it; ... subtract the reference" for a wrong --frequency."""
    values = RELATIVE * F0 * factor  # down to -129 kHz
    text = _refusal(_table(tmp_path / "v.csv", [header], [values]), frequency_hz=7e3)
    assert f"shift column {header!r}" in text
    largest = np.max(np.abs(values))
    assert f"its largest |value|, {largest:g}" in text
    assert "frequency_hz (7000 Hz)" in text and "either frequency_hz is wrong" in text
    assert "the column holds the resonance frequency" in text and "or more is no shift" not in text


# ------------------------------------------------ F3: a condition of the measurement


@pytest.mark.parametrize("header,factor", [
    ("df (Hz, reverse sweep)", 1.0), ("df/f reverse sweep", 1 / F0),
    ("df/f (inverted Q channel)", 1 / F0), ("Δf reverse scan (kHz)", 1e-3),
    ("df/f (ppm), sweep reversed", 1e6 / F0), ("df (Hz) [reversed sweep direction]", 1.0),
    ("df_rev_sweep (Hz)", 1.0)])
def test_a_reverse_sweep_is_no_sign_word(tmp_path, header, factor):
    """'df/f reverse sweep' was refused: "its word 'reverse' leaves the sign unclear"."""
    shift = RELATIVE * F0 * factor
    table = _read(_table(tmp_path / "v.csv", [header], [shift]))
    assert not table.sign_flipped
    np.testing.assert_allclose(table.shift, shift, rtol=1e-9)


@pytest.mark.parametrize("header,word", [
    ("df_rev (Hz)", "rev"), ("Δf inverted (Hz)", "inverted"), ("df/f reversed", "reversed")])
def test_a_sign_word_without_a_sweep_is_still_unclear(tmp_path, header, word):
    text = _refusal(_table(tmp_path / "v.csv", [header], [RELATIVE * F0]))
    assert f"its word {word!r} leaves the sign unclear" in text


# ------------------------------------------------ F11: a bare 'down' or 'up'


@pytest.mark.parametrize("header,word", [
    ("df_down (Hz)", "down"), ("df down (Hz)", "down"), ("Δf_down (kHz)", "down"),
    ("Δν down (Hz)", "down"), ("df_down_Hz", "down"), ("df_up (Hz)", "up"), ("Δf up (kHz)", "up"),
    ("df/f down", "down")])
def test_a_bare_down_or_up_after_the_shift_is_unclear(tmp_path, header, word):
    """'df_down (Hz)' of a down-sweep's f - f0 was read as f0 - f: refused for "the maximum at the
    edge of the data" instead of naming the header."""
    text = _refusal(_table(tmp_path / "v.csv", [header], [RELATIVE * F0]))
    assert f"its word {word!r} leaves the sign unclear" in text and f"{word}-sweep" in text


@pytest.mark.parametrize("header,flipped", [
    ("downshift (Hz)", True), ("shift down (Hz)", True), ("downward shift (Hz)", True),
    ("frequency decrease (Hz)", True), ("delta f downward (Hz)", True), ("upshift (Hz)", False),
    ("frequency increase (Hz)", False)])
def test_a_shift_counted_downwards_in_words_is_still_read(tmp_path, header, flipped):
    shift = (RELATIVE + 1e-5) * F0  # of both signs
    table = _read(_table(tmp_path / "v.csv", [header], [-shift if flipped else shift]))
    assert table.sign_flipped == flipped
    np.testing.assert_allclose(table.shift, shift, rtol=1e-9)


# ------------------------------------------------ F4: '±' is no unit


@pytest.mark.parametrize("shift_header,error,scale", [
    ("df/f", "df/f err (+/-)", 1.0), ("df/f", "df/f err (±)", 1.0),
    ("df/f (ppm)", "df/f error (±ppm)", 1e6), ("df/f (ppm)", "df/f error (+/- ppm)", 1e6),
    ("df (Hz)", "df err (±Hz)", F0), ("df (Hz)", "df err (± kHz)", F0)])
def test_plus_minus_before_an_error_unit_is_no_unit(tmp_path, shift_header, error, scale):
    """'df/f err (+/-)' was refused: "its unit '±' is neither a frequency unit ... nor a scale"."""
    sigma = np.full(TEMPERATURE.size, 2e-8 * scale * (1e-3 if "kHz" in error else 1.0))
    table = _read(_table(tmp_path / "v.csv", [shift_header, error], [RELATIVE * scale, sigma]))
    assert table.error_column == error
    np.testing.assert_allclose(table.sigma, 2e-8 * scale, rtol=1e-9)


# ------------------------------------------------ --shift: a shift in Hz over --frequency


def test_a_shift_in_hertz_is_a_fraction_over_the_frequency(tmp_path):
    table = _read(_table(tmp_path / "v.csv", ["f0 - f (kHz)", "sd (Hz)"],
                         [-RELATIVE * F0 * 1e-3, np.full(TEMPERATURE.size, 3.0)]), frequency_hz=F0)
    shift, sigma = table.as_fraction(F0)
    np.testing.assert_allclose(shift, RELATIVE, rtol=1e-9, atol=1e-16)
    np.testing.assert_allclose(sigma, 3.0 / F0, rtol=1e-9)
    with pytest.raises(ValueError, match="without frequency_hz.*divide the shift by f0"):
        table.as_fraction()
