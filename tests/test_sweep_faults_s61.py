"""Session 61 (a tester's leftovers, bt210 F17): Re and Im S21 with gain read as a magnitude and
a phase were told real-imag only where the first column stayed above 0 dB; a cable delay that
turns Re negative in places (or a gain of ~3, whose Im reads as a phase within +-pi) got no word
of it, or first the advice of radians."""

from __future__ import annotations

import numpy as np
import pytest

from manybody.measured.resonance import notch_s21
from manybody.measured.resonator_table import NAME_PATTERN, parse_sweep_name
from manybody.measured.sweeps import layout_hint, read_sweep

FREQUENCY = np.linspace(6e9 - 1e6, 6e9 + 1e6, 401)


def _write(path, gain: float, delay: float, as_db_deg: bool = False):
    s21 = gain * notch_s21(FREQUENCY, 6e9, 5e4, 1e5, 0.1, delay=delay)
    if as_db_deg:  # a genuine |S21| in dB and phase in degrees
        rows = zip(FREQUENCY, 20 * np.log10(np.abs(s21)), np.degrees(np.angle(s21)), strict=True)
    else:
        rows = zip(FREQUENCY, s21.real, s21.imag, strict=True)
    path.write_text("".join(f"{f:.1f},{a:.10g},{b:.10g}\n" for f, a, b in rows))
    return path


@pytest.mark.parametrize("delay", [-300e-9, -2e-6])
def test_re_im_with_gain_and_a_negative_re_are_told_real_imag(tmp_path, delay):
    path = _write(tmp_path / "s.csv", 30.0, delay)
    sweep = read_sweep(path)
    assert float(sweep.s21.real.min()) < 1.0  # below 0 dB somewhere: the old hint's test fails
    assert "Re and Im? (layout='real-imag')" in layout_hint(sweep)


def test_re_im_with_a_gain_of_3_is_told_real_imag_beside_radians(tmp_path):
    with pytest.raises(ValueError, match=r"radians\? \(layout='db-rad'\); or Re and Im S21 with "
                                         r"gain.*\(layout='real-imag'\)\?"):
        read_sweep(_write(tmp_path / "s.csv", 3.0, -50e-9))


@pytest.mark.parametrize("gain, delay", [(0.3, 0.0), (0.3, -50e-9), (0.3, -2e-6)])
def test_a_genuine_magnitude_and_phase_gets_no_such_hint(tmp_path, gain, delay):
    assert layout_hint(read_sweep(_write(tmp_path / "s.csv", gain, delay, as_db_deg=True))) == ""


@pytest.mark.parametrize("name, pattern, expected", [
    ("s21_-20dB_030,5mK.csv", None, (0.0305, -20.0)),
    ("s21_-20p5dBm_030p5mK.csv", None, (0.0305, -20.5)),
    ("s21_7.7182GHz_-20dB_030.0mK.csv", None, (0.03, -20.0)),
    ("s_0p030K.csv", r"_(?P<K>\d+p\d+)K", (0.03, None)),
    ("s_0,030K.csv", r"_(?P<K>[\d,]+)K", (0.03, None)),
])
def test_a_decimal_comma_or_p_in_a_file_name_is_the_decimal_point(name, pattern, expected):
    """'030,5mK' and '0p030K' (names that avoid a '.') were read by no --sweep-pattern (a
    tester, bt206; the index file was the only way)."""
    found = parse_sweep_name(name, pattern or NAME_PATTERN)
    assert found == pytest.approx(expected)
