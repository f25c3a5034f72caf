"""Break test bt206 of ``manybody fit-data`` on measured data (fixed by bt209).

F1: a Qi of 1e12 (loss 1e-12) in one row of a loss table was taken silently;
F8: an error column three times the value it belongs to was taken silently;
F4: a value pasted with a Unicode minus was told to be typed as '--100,\u2212120';
F5: S21 sweep files with the Unicode minus were refused as "cannot be read";
F2: Re/Im sweeps with gain got the hint 'linear-deg' only;
F3: a sweep coarser than its linewidth was reported as "no resonance dip";
F7: the default --sweep-pattern was printed as a Python repr (doubled backslashes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from loss_tables import read_warnings

from manybody.measured.resonance import notch_s21
from manybody.measured.sweeps import read_sweep

TEMPS = (0.02, 0.03, 0.04, 0.06, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25)


def _table(path: Path, qi: list[float], err: list[float] | None = None) -> Path:
    """A loss table T (K), Qi[, Qi_err] whose Qi follow a smooth rise with temperature."""
    head = "T (K),Qi" + (",Qi_err" if err is not None else "")
    rows = [f"{t},{q:g}" + (f",{e:g}" if err is not None else "")
            for t, q, e in zip(TEMPS, qi, err or qi, strict=True)]
    path.write_text("\n".join([head, *rows]) + "\n")
    return path




SMOOTH = [8.0e4 + 1.3e4 * i for i in range(len(TEMPS))]


@pytest.mark.parametrize("huge", [1e12, 1e30])
def test_absurd_qi_row_is_warned_naming_the_row(tmp_path, huge):
    """F1: Qi far above any resonator's (loss below 1e-11) is named with its data row."""
    qi = list(SMOOTH)
    qi[5] = huge
    found = [m for m in read_warnings(_table(tmp_path / "qi.csv", qi)) if "data row(s) 6" in m]
    assert len(found) == 1, found  # one warning for the row, not two
    assert "loss below 1e-11" in found[0] and f"{huge:g}" in found[0]


def test_isolated_row_is_named_as_an_outlier(tmp_path):
    """F1: a plausible Q (1e9) a factor 1e4 from every other row is named as an outlier."""
    qi = list(SMOOTH)
    qi[2] = 1e9
    found = [m for m in read_warnings(_table(tmp_path / "qi.csv", qi)) if "outlier" in m]
    assert len(found) == 1 and "data row(s) 3" in found[0] and "1e+09" in found[0]


@pytest.mark.parametrize("row, named", [(9, False), (0, True)])
def test_a_climb_at_the_highest_temperature_is_not_an_outlier(tmp_path, row, named):
    """A loss that climbs 1000x at the highest temperature is the quasiparticles' onset, which
    --quasiparticle fits: it was called an outlier to remove (a tester, bt210); the same Qi at
    the lowest temperature is still named."""
    qi = [1e6] * len(TEMPS)
    qi[row] = 4e2
    found = [m for m in read_warnings(_table(tmp_path / "qi.csv", qi)) if "outlier" in m]
    assert bool(found) is named, found


def test_smooth_table_is_not_warned(tmp_path):
    """F1: the new checks stay quiet on a smooth table spanning two decades."""
    qi = [1e4 * 10 ** (2 * i / (len(TEMPS) - 1)) for i in range(len(TEMPS))]
    assert read_warnings(_table(tmp_path / "qi.csv", qi)) == []


def test_error_larger_than_value_is_warned(tmp_path):
    """F8: Qi_err = 3 Qi (median relative error 3, inside the old plausible range) warns."""
    err = [3 * q for q in SMOOTH]
    found = [m for m in read_warnings(_table(tmp_path / "qi.csv", SMOOTH, err))
             if "exceeds its value" in m]
    assert len(found) == 1 and "10 of 10 row(s)" in found[0] and "'Qi_err'" in found[0]
    assert "a relative error needing '(%)'" in found[0]


def test_an_error_column_in_percent_is_not_told_to_write_percent(tmp_path):
    """'Qi error (%)' of 150 in every row: told "a relative error needing '(%)'?" (bt210)."""
    path = tmp_path / "pct.csv"
    path.write_text("T (K),Qi,Qi error (%)\n" + "".join(f"{t},{q:g},150\n"
                                                       for t, q in zip(TEMPS, SMOOTH, strict=True)))
    found = [m for m in read_warnings(path) if "exceeds its value" in m]
    assert len(found) == 1 and "'(%)'?" not in found[0], found


def test_ordinary_errors_are_not_warned(tmp_path):
    """F8: errors of 1 % of Qi stay quiet."""
    err = [0.01 * q for q in SMOOTH]
    assert read_warnings(_table(tmp_path / "qi.csv", SMOOTH, err)) == []


def _cli_error(capsys, argv: list[str]) -> str:
    from manybody.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize("argv, suggested", [
    (["fit-data", "a.csv", "--powers", "\u2212100,\u2212120"], "'--powers=-100,-120'"),
    # a temperature cannot be negative: the option's own refusal, not a form it refuses next
    # (session 62)
    (["fit-data", "a.csv", "--tmin", "\u221250mK"],
     "read as '-50mK' it is refused: argument --tmin: expected a temperature"),
    (["fit-data", "a.csv", "--tmin=\u221250mK"],
     "read as '-50mK' it is refused: argument --tmin: expected a temperature"),
    (["fit-data", "a.csv", "--powers=-100,\u2212120"], "'--powers=-100,-120'"),
    (["fit-data", "\u2014frequency", "5GHz", "a.csv"], "type it as '--frequency'"),
])
def test_unicode_minus_value_gets_a_working_suggestion(capsys, argv, suggested):
    """F4: a value pasted with U+2212 is told the '--option=value' form with hyphens (it was
    told '--100,\u2212120', which failed); a pasted option name keeps '--frequency'."""
    err = _cli_error(capsys, argv)
    assert suggested in err, err
    assert "--100" not in err and "\u2212" not in err.split("; ")[-1]


def test_suggested_value_form_is_accepted(capsys):
    """F4: the suggested form parses (the options' values reach the command)."""
    from manybody.cli.parser import ManybodyParser

    parser = ManybodyParser(prog="t")
    parser.add_argument("--powers")
    assert parser.parse_args(["--powers=-100,-120"]).powers == "-100,-120"


def _sweep_lines(f: np.ndarray, s21: np.ndarray, layout: str = "db-deg") -> list[str]:
    if layout == "real-imag":
        a, b = s21.real, s21.imag
    else:
        a, b = 20 * np.log10(np.abs(s21)), np.degrees(np.angle(s21))
    return [f"{fi:.1f},{ai:.10g},{bi:.10g}" for fi, ai, bi in zip(f, a, b, strict=True)]


def _notch(n: int = 401, span: float = 2e6, ql: float = 5e4, noise: float = 0.0,
           seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    f = np.linspace(6e9 - span / 2, 6e9 + span / 2, n)
    s21 = 0.1 * notch_s21(f, 6e9, ql, 1e5, 0.1, delay=-1e-9)
    if noise:
        rng = np.random.default_rng(seed)
        s21 = s21 + noise * 0.1 * (rng.standard_normal(n) + 1j * rng.standard_normal(n))
    return f, s21


def test_sweep_with_unicode_minus_reads_as_with_hyphens(tmp_path):
    """F5: a sweep file written with U+2212 reads as the same file with '-' (it was refused as
    "line 1 starts like a number but cannot be read")."""
    f, s21 = _notch()
    lines = _sweep_lines(f, s21)
    plain, pasted = tmp_path / "plain.csv", tmp_path / "pasted.csv"
    plain.write_text("\n".join(lines) + "\n")
    pasted.write_text("\n".join(lines).replace("-", "\u2212") + "\n", encoding="utf-8")
    assert "\u2212" in pasted.read_text(encoding="utf-8")
    a, b = read_sweep(plain), read_sweep(pasted)
    np.testing.assert_array_equal(a.frequency, b.frequency)
    np.testing.assert_array_equal(a.s21, b.s21)


def test_re_im_with_gain_is_told_real_imag(tmp_path):
    """F2: Re and Im of S21 with gain (values above 1) read as dB and degrees are told
    'real-imag' beside 'linear-deg' (only 'linear-deg' was named); a linear |S21| with gain
    beside a phase in degrees is told 'linear-deg' alone."""
    from manybody.measured.sweeps import layout_hint

    f = np.linspace(6e9 - 1e6, 6e9 + 1e6, 401)
    s21 = 30 * notch_s21(f, 6e9, 5e4, 1e5, 0.1, delay=-50e-9)
    assert np.all(s21.real > 0)  # read as dB: 0 dB or more everywhere
    reim = tmp_path / "reim.csv"
    reim.write_text("\n".join(_sweep_lines(f, s21, "real-imag")) + "\n")
    hint = layout_hint(read_sweep(reim))
    assert "(layout='linear-deg')" in hint and "(layout='real-imag')" in hint, hint
    s21 = 30 * notch_s21(f, 6e9, 5e4, 1e5, 0.1, delay=-50e-9)
    linear = tmp_path / "linear.csv"
    linear.write_text("\n".join(f"{fi:.1f},{abs(z):.10g},{np.degrees(np.angle(z)):.10g}"
                                for fi, z in zip(f, s21, strict=True)) + "\n")
    hint = layout_hint(read_sweep(linear))
    assert "(layout='linear-deg')" in hint and "real-imag" not in hint, hint


def _coarse(resonance: bool, seed: int = 1):
    from manybody.measured.sweeps import S21Sweep

    f = np.linspace(6e9 - 1.5e6, 6e9 + 1.5e6, 101)  # step 30 kHz, f0 on a point
    s21 = 0.1 * (notch_s21(f, 6e9, 5e5, 1e6, 0.0) if resonance else np.ones(f.size))
    rng = np.random.default_rng(seed)
    s21 = s21 + 0.1 * 0.06 * (rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size))
    return S21Sweep(f, s21, "coarse.csv", "db-deg")


def test_under_resolved_sweep_names_the_step(tmp_path):
    """F3: a sweep whose step (30 kHz) is 2.5 linewidths (12 kHz) is told that the step
    under-resolves the resonance, not only "no resonance dip in the window"."""
    from manybody.measured.resonance import fit_notch

    fit = fit_notch(_coarse(True))
    assert fit.flag and fit.reason.startswith("no resonance dip"), fit.reason
    assert "under-resolves the resonance" in fit.reason and "3e+04 Hz" in fit.reason, fit.reason


def test_noise_without_a_dip_is_not_called_under_resolved():
    """F3: pure noise keeps the plain "no resonance dip" reason."""
    from manybody.measured.resonance import fit_notch

    for seed in range(5):
        fit = fit_notch(_coarse(False, seed))
        assert fit.flag and "under-resolves" not in fit.reason, fit.reason


def test_unmatched_name_prints_the_pattern_as_typed(tmp_path):
    """F7: the default pattern is printed so it can be pasted back (no doubled backslashes)."""
    from manybody.measured.resonator_table import NAME_PATTERN, parse_sweep_name

    with pytest.raises(ValueError, match="does not match the name pattern") as info:
        parse_sweep_name("res_thirty.csv", NAME_PATTERN)
    assert f"'{NAME_PATTERN}'" in str(info.value) and "\\\\d" not in str(info.value)
