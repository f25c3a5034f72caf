"""Faults of ``fit-data`` reported by a break test (session 36), each tested as a kind: a table
or option that was read in the wrong unit, or a fit that failed, without a useful word."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from loss_tables import read_warnings

from manybody.measured.tables import read_loss_table

NB_DATA = Path("/work/shared/data/resonator_nb_cpw")
T_MK = [100, 200, 300, 400, 500, 600, 700, 800]
Q_MILLIONS = [2.91, 3.46, 3.86, 4.25, 4.23, 4.51, 4.67, 4.74]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _main(argv):
    from manybody.cli import main

    return main(["fit-data", *argv])




# ------------------------------------------------------------------ 1: a loss above 1e-2


@pytest.mark.parametrize("header,values,hint", [
    ("Qi", Q_MILLIONS, "'Qi (1e6)'"),                       # Qi in millions, no scale
    ("Qint", [v * 10 for v in Q_MILLIONS], "'Qint (1e6)'"),  # Q ~ 30-50
    ("tan delta", [0.34, 0.29, 0.26, 0.24, 0.24, 0.22, 0.21, 0.21], "'tan delta (ppm)'"),
    ("1/Q", [0.034, 0.029, 0.026, 0.024, 0.024, 0.022, 0.021, 0.021], "'1/Q (ppm)'"),
])
def test_a_loss_above_1e_2_warns_naming_the_column_the_values_and_the_missing_scale(
        tmp_path, capsys, header, values, hint):
    """A Qi written in millions without a scale in the header ('Qi' then 2.91) was read as Q ~ 3
    (loss 0.34), a tan delta in ppm without its unit as 0.34, and fitted without a word."""
    text = f"T (mK),{header}\n" + "".join(f"{t},{v}\n" for t, v in zip(T_MK, values, strict=True))
    path = _write(tmp_path, "t.csv", text)
    messages = read_warnings(path)
    assert len(messages) == 1, messages
    msg = messages[0]
    assert repr(header) in msg and f"{min(values):.4g} to {max(values):.4g}" in msg
    assert "above 0.01" in msg and hint in msg
    assert _main([str(path), "--frequency", "5.62GHz", "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and hint in err


@pytest.mark.parametrize("header,values", [
    ("Qi", [99.0, 150.0, 200.0]),                  # one Q just below 100: a loss above 1e-2
    ("tan delta", [1.01e-2, 5e-3, 4e-3]),
])
def test_the_loss_warning_starts_just_above_1e_2(tmp_path, header, values):
    path = _write(tmp_path, "t.csv", f"T (mK),{header}\n100,{values[0]}\n200,{values[1]}\n"
                                     f"300,{values[2]}\n")
    assert any("above 0.01" in m for m in read_warnings(path))


@pytest.mark.parametrize("header,values", [
    ("Qi", [101.0, 150.0, 200.0]),
    ("tan delta", [0.99e-2, 5e-3, 4e-3]),
    ("Qi (1e6)", [2.91, 3.46, 3.86]),
    ("tan delta (ppm)", [0.34, 0.29, 0.26]),
])
def test_plausible_losses_and_scaled_headers_do_not_warn(tmp_path, header, values):
    path = _write(tmp_path, "t.csv", f"T (mK),{header}\n100,{values[0]}\n200,{values[1]}\n"
                                     f"300,{values[2]}\n")
    assert read_warnings(path) == []


@pytest.mark.skipif(not NB_DATA.is_dir(), reason="shipped data not present")
def test_the_shipped_nb_tables_do_not_warn():
    for path in sorted(NB_DATA.glob("qint_*.csv")):
        assert read_warnings(path) == [], path


# ------------------------------------------------------------------ 2: --tmin/--tmax in mK


def _nb_like(tmp_path: Path, t_mk=T_MK) -> Path:
    rows = "".join(f"{t},{q * 1e6:.6g}\n" for t, q in zip(t_mk, Q_MILLIONS, strict=False))
    return _write(tmp_path, "qi.csv", "T (mK),Qi\n" + rows)


@pytest.mark.parametrize("option,value", [("--tmax", "800"), ("--tmax", "300"),
                                          ("--tmin", "100"), ("--tmax", "100")])
def test_a_bare_tmin_tmax_in_mk_is_refused_with_the_mk_spelling(tmp_path, capsys, option, value):
    """--tmax 800 meant as 0.8 K was read as 800 K: the cut did nothing and the verdict changed
    without a word; a bare number of 100 or more is refused, naming the mK spelling."""
    path = _nb_like(tmp_path)
    with pytest.raises(SystemExit):
        _main([str(path), "--frequency", "5.62GHz", option, value, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert f"argument {option}" in err and f"write {value}mK for millikelvin" in err
    assert not (tmp_path / "o").exists()


def test_tmax_with_a_unit_is_the_same_cut_as_in_kelvin(tmp_path, capsys):
    """--tmax 800mK, 0.8K and 0.8 are one cut (units were refused although --frequency takes
    them); 99 without a unit is still taken as K."""
    import json

    from manybody.cli.fit_data import temperature_argument

    assert temperature_argument("800mK") == pytest.approx(0.8)
    assert temperature_argument("0.8 K") == pytest.approx(0.8)
    assert temperature_argument("99") == 99.0 and temperature_argument("100K") == 100.0
    path = _nb_like(tmp_path)
    fitted = []
    for value in ("800mK", "0.8K", "0.8"):
        out = tmp_path / value
        assert _main([str(path), "--frequency", "5.62GHz", "--tmax", value, "--tmin", "150mK",
                      "--out", str(out)]) == 0
        record = json.loads((out / "fit_results.json").read_text())
        assert record["options"]["tmax"] == pytest.approx(0.8)
        fitted.append(record["data"][0]["temperature_K"])
    assert fitted[0] == fitted[1] == fitted[2] and min(fitted[0]) == pytest.approx(0.2)
    capsys.readouterr()


@pytest.mark.parametrize("tmax,refused", [("50", True), ("80", True), ("2.6", False),
                                           ("2.5", False)])
def test_a_tmax_far_above_all_data_is_refused(tmp_path, capsys, tmax, refused):
    """A --tmax more than 10 times the highest temperature of the data (50 meant as 50 mK, data
    from 50 mK to 0.25 K) cuts nothing: it warned (session 36) and is refused since session 50,
    as in the Python fits (tests/test_input_faults_s50.py), before any fit; one 10 times or
    less is not, nor one that read in mK would lie below every point (2.6: a generous edge, not
    a slip; a second round, helper-155)."""
    path = _write(tmp_path, "q.csv", "T (mK),Qi\n" + "".join(
        f"{t},{q * 1e6:.6g}\n" for t, q in zip((50, 75, 100, 125, 150, 175, 200, 250),
                                               Q_MILLIONS, strict=True)))
    code = _main([str(path), "--frequency", "5.62GHz", "--tmax", tmax, "--out",
                  str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert (code == 2) is refused and (code == 0) is not refused, err
    assert ("a temperature in mK?" in err and f"--tmax {tmax}mK" in err) is refused, err
    assert (tmp_path / "o").exists() is not refused


# ------------------------------------------------------------------ 3: conflicting repeats


def _curve_text(pairs, header="T (mK),Qi") -> str:
    return header + "\n" + "".join(f"{t},{q:.6g}\n" for t, q in pairs)


NB_CURVE = list(zip(T_MK, [q * 1e6 for q in Q_MILLIONS], strict=True))


@pytest.mark.parametrize("ratio,warns", [(3.0, True), (1.6, True), (1.4, False), (1.0, False)])
def test_a_repeated_temperature_with_a_conflicting_loss_warns_naming_it(tmp_path, capsys, ratio,
                                                                         warns):
    """300 mK twice, once with 3x the Qi, was fitted without a word (only identical repeats were
    warned about); repeats within 1.5x of each other (TLS fluctuations) are not."""
    pairs = [*NB_CURVE, (300, 3.86e6 * ratio)]
    path = _write(tmp_path, "d.csv", _curve_text(pairs))
    conflict = [m for m in read_warnings(path) if "different values at one temperature" in m]
    assert bool(conflict) is warns, conflict
    if warns:
        assert "at 300 mK" in conflict[0] and "3.86e+06" in conflict[0]
        assert f"{3.86e6 * ratio:.4g}" in conflict[0] and repr("Qi") in conflict[0]
        assert _main([str(path), "--frequency", "5.62GHz", "--out", str(tmp_path / "o")]) == 0
        assert "warning:" in capsys.readouterr().err


def test_a_second_resonator_at_the_same_temperatures_warns(tmp_path):
    """A second resonator (5x the Qi) at the same temperatures, rows appended."""
    pairs = NB_CURVE + [(t, 5 * q) for t, q in NB_CURVE]
    path = _write(tmp_path, "m.csv", _curve_text(pairs))
    assert any("different values at one temperature" in m for m in read_warnings(path))


@pytest.mark.parametrize("factor,warns", [(5.0, True), (2.5, True), (1.5, False)])
def test_a_second_resonator_interleaved_between_the_temperatures_warns(tmp_path, factor, warns):
    """A second resonator's rows (5x the Qi) at +50 mK, appended: its points interleave with the
    first's, the loss jumps back and forth, and one 'curve' was fitted without a word."""
    pairs = NB_CURVE + [(t + 50, factor * q) for t, q in NB_CURVE]
    path = _write(tmp_path, "m.csv", _curve_text(pairs))
    jumps = [m for m in read_warnings(path) if "jumps back and forth" in m]
    assert bool(jumps) is warns, jumps
    if warns:
        assert "at 150 mK" in jumps[0] and repr("Qi") in jumps[0]


def test_one_outlier_and_a_power_sweep_table_do_not_warn_as_conflicts(tmp_path):
    """One point 4x off is an outlier, not a second resonator (since session 62 it is named as
    a lone point, bt219 F3); a power sweep repeats every temperature (one per power) with very
    different losses, which is normal."""
    pairs = list(NB_CURVE)
    pairs[4] = (500, pairs[4][1] * 4)
    found = read_warnings(_write(tmp_path, "o.csv", _curve_text(pairs)))
    assert len(found) == 1 and "data row(s) 5:" in found[0] and "lies" in found[0]
    assert "two resonators" not in found[0]
    rows = "".join(f"{t},{p},{q * 10 ** ((p + 140) / 20):.6g}\n"
                   for p in (-80, -100, -120, -140) for t, q in NB_CURVE)
    path = _write(tmp_path, "p.csv", "T (mK),Power (dBm),Qi\n" + rows)
    assert read_warnings(path) == []


# ------------------------------------------------------------------ 4: a header's wrong unit


def _sweep_file(tmp_path: Path, name: str, header: str, divisor: float) -> Path:
    from manybody.measured.resonance import notch_s21

    f = np.linspace(7.7107e9, 7.7257e9, 201)
    s21 = notch_s21(f, 7.7182e9, 2e4, 7e3, 0.0)
    db, deg = 20 * np.log10(np.abs(s21)), np.degrees(np.angle(s21))
    folder = tmp_path / name
    folder.mkdir()
    path = folder / "s21_-20dB_030.0mK.csv"
    path.write_text(header + "\n" + "".join(f"{a / divisor:.12g},{b:.10g},{c:.10g}\n"
                                            for a, b, c in zip(f, db, deg, strict=True)))
    return path


@pytest.mark.parametrize("header_unit,values_unit,divisor", [
    ("MHz", "Hz", 1.0), ("GHz", "MHz", 1e6), ("kHz", "GHz", 1e9), ("GHz", "kHz", 1e3),
])
def test_a_header_unit_that_contradicts_the_values_asks_to_correct_the_header(
        tmp_path, capsys, header_unit, values_unit, divisor):
    """'Frequency (MHz)' over numbers in Hz: the refusal suggested --sweep-frequency-unit 'Hz',
    which was then refused because the header says MHz ('Frequency (GHz)' over MHz suggested
    'Hz' too); it now says the header's unit contradicts the values and names the unit that fits
    them, with or without the option."""
    from manybody.measured.sweeps import read_sweep

    path = _sweep_file(tmp_path, "s", f"Frequency ({header_unit}),S21 (dB),Phase (deg)", divisor)
    wanted = f"correct the header to 'Frequency ({values_unit})'"
    with pytest.raises(ValueError, match="the header's unit contradicts the values") as err:
        read_sweep(path)
    assert wanted in str(err.value) and f"in {header_unit}" in str(err.value)
    for extra in ([], ["--sweep-frequency-unit", values_unit]):
        assert _main(["--sweeps", str(path.parent), *extra, "--out", str(tmp_path / "o")]) == 2
        err_text = capsys.readouterr().err
        assert wanted in err_text and "--sweep-frequency-unit 'Hz'" not in err_text, err_text


def test_numbers_without_a_unit_far_off_name_the_unit_that_fits_them(tmp_path):
    """No unit stated, numbers in mHz-like 7.7e15: read as Hz they are above 1 THz; the unit that
    puts them at a resonator's frequency is named (none fits: no suggestion)."""
    from manybody.measured.sweeps import read_sweep

    path = _sweep_file(tmp_path, "g", "Frequency,S21 (dB),Phase (deg)", 1e-3)  # mHz, as Hz
    with pytest.raises(ValueError, match="above 1 THz") as err:
        read_sweep(path, frequency_unit="GHz")
    assert "frequency_unit='mHz'" not in str(err.value)
    path = _sweep_file(tmp_path, "m", "Frequency,S21 (dB),Phase (deg)", 1e6)
    with pytest.raises(ValueError, match=r"above 1 THz.*frequency_unit='MHz'"):
        read_sweep(path, frequency_unit="GHz")


# ------------------------------------------------------------------ 5: smoothed sweeps


def _smoothed(seed: int, points: int):
    """A synthetic notch sweep (white noise) after a VNA's moving average over ``points``."""
    from manybody.measured.resonance import notch_s21
    from manybody.measured.sweeps import S21Sweep

    f = np.linspace(7.7107e9, 7.7257e9, 801)
    z = notch_s21(f, 7.7182e9, 5e3, 7e3, 0.1, 0.1, 0.3, 5e-8)
    rng = np.random.default_rng(seed)
    z = z + 2e-4 * (rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size))
    if points > 1:
        z = np.convolve(z, np.ones(points) / points, mode="same")
    keep = slice(points, -points)
    return S21Sweep(f[keep], z[keep], f"smoothed {points}", "real-imag")


def test_a_misfit_of_smoothed_data_says_the_residuals_correlate_and_names_max_misfit():
    """Sweeps smoothed on the VNA (correlated noise) were all flagged 'chi^2 grossly off: misfit
    572 times the noise power (limit 400)' with no hint: the noise is estimated from neighbouring
    points. The flag now gives the residuals' correlation and names --max-misfit; white noise
    flagged by a tight limit does not blame smoothing but still names the limit."""
    from manybody.measured.resonance import fit_notch

    fit = fit_notch(_smoothed(1, 11), max_misfit=5.0)
    assert fit.flag and fit.reason.startswith("chi^2 grossly off"), fit.reason
    assert "neighbouring residuals correlate (r = 0.9" in fit.reason
    assert "smoothed or interpolated data?" in fit.reason and "--max-misfit" in fit.reason
    white = fit_notch(_smoothed(1, 1), max_misfit=1.0001)
    if white.flag:  # misfit ~ 1 for white noise: flagged only when just above the limit
        assert "correlate" not in white.reason and "--max-misfit" in white.reason
    assert not fit_notch(_smoothed(1, 11)).flag  # this smoothing stays under the default


def test_every_sweep_flagged_for_smoothing_names_max_misfit_in_the_error(tmp_path, capsys):
    """The CLI's refusal when every sweep is flagged quotes the hint and names --max-misfit."""
    folder = tmp_path / "sm"
    folder.mkdir()
    for i, t in enumerate((30, 60, 90, 120)):  # four: fewer than the law fit's parameters
        s = _smoothed(i, 11)  # are refused before any sweep is fitted (session 49)
        db, deg = 20 * np.log10(np.abs(s.s21)), np.degrees(np.angle(s.s21))
        (folder / f"s21_-20dB_{t:03d}.0mK.csv").write_text(
            "Frequency (Hz),S21 (dB),Phase (deg)\n" + "".join(
                f"{a:.12g},{b:.10g},{c:.10g}\n" for a, b, c in zip(s.frequency, db, deg,
                                                                  strict=True)))
    assert _main(["--sweeps", str(folder), "--max-misfit", "5", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "every sweep's fit is flagged" in err and "--max-misfit" in err
    assert "neighbouring residuals correlate" in err


# ------------------------------------------------------------------ 6: thousands separators


@pytest.mark.parametrize("sep,cells", [
    (";", ["2.910.000", "3.460.000", "884.973"]),            # German
    (",", ['"2,910,000"', '"3,460,000"', '"884,973"']),      # English, quoted
    (";", ["2'910'000", "3'460'000", "884'973"]),           # Swiss
])
def test_a_thousands_separator_is_refused_naming_the_cell(tmp_path, capsys, sep, cells):
    """';'-separated with German thousands separators ('100;2.910.000') gave "cannot tell which
    column is the temperature; columns found: '1600', '1.316.992'" (a data row taken for the
    header); the refusal now names the cell and the thousands separator."""
    rows = "".join(f"{t}{sep}{c}\n" for t, c in zip((100, 200, 1700), cells, strict=True))
    path = tmp_path / "k.csv"
    path.write_text(f"T (mK){sep}Qi\n{rows}", encoding="utf-8")
    with pytest.raises(ValueError, match="thousands separator") as err:
        read_loss_table(path)
    msg = str(err.value)
    assert "line 2, column 2" in msg and repr(cells[0].strip('"')) in msg
    assert "columns found" not in msg
    assert _main([str(path), "--frequency", "5.62GHz", "--out", str(tmp_path / "o")]) == 2
    assert "thousands separator" in capsys.readouterr().err


def test_digits_grouped_by_blanks_of_any_kind_are_read(tmp_path):
    """A blank, a thin or narrow no-break space and, since session 46, a no-break space (French
    Excel) between groups of digits are read as one number, as they were refused before only
    because the no-break space was not dropped."""
    cells = ["2 910 000", "3\u2009460\u2009000", "884\u202f973", "1\u00a0700\u00a0000"]
    rows = "".join(f"{t};{c}\n" for t, c in zip((100, 200, 300, 400), cells, strict=True))
    path = _write(tmp_path, "k.csv", f"T (mK);Qi\n{rows}")
    np.testing.assert_allclose(1 / read_loss_table(path).loss, [2910000, 3460000, 884973, 1700000])


@pytest.mark.parametrize("cell", ["2910000", "2,91E+06", "1.234.567,5", "884,97", "2910.5"])
def test_numbers_without_grouped_thousands_are_still_read(tmp_path, cell):
    path = _write(tmp_path, "k.csv", f"T (mK);Qi\n100;{cell}\n200;3460000\n")
    assert read_loss_table(path).loss.size == 2


def test_one_group_of_three_digits_is_read_as_a_decimal_only_where_the_column_says_so(tmp_path):
    """'884,973' beside '3460000' was read as 884.973 here until session 46; a column of
    integers around one such cell is a thousands separator as often (884973), so it is now
    refused by name (tests/test_input_faults_s46.py). Beside decimal commas it is a decimal."""
    path = _write(tmp_path, "k.csv", "T (mK);Qi\n100;884,973\n200;3460000\n")
    with pytest.raises(ValueError, match="most likely 884973 written with a thousands separator"):
        read_loss_table(path)
    path = _write(tmp_path, "d.csv", "T (mK);Qi\n100;884,973\n200;3460,5\n")
    np.testing.assert_allclose(np.sort(1 / read_loss_table(path).loss), [884.973, 3460.5])


# ------------------------------------------------------------------ 7: a shift of the wrong sign


@pytest.mark.skipif(not NB_DATA.is_dir(), reason="shipped data not present")
def test_a_sign_flipped_shift_is_blamed_in_the_joint_rows(tmp_path, capsys):
    """With the shift table's sign flipped (f(T_ref) - f(T)), the joint rows said 'negative
    amplitude (loss rising with temperature)' though the loss alone was fine; only the shift-only
    row asked about the sign convention. The joint rows now blame the shift's sign too; with the
    right sign nothing is said."""
    import json

    from manybody.measured.tables import read_grid

    grid = read_grid(NB_DATA / "freq_shift.csv")
    t, shift = grid.column(grid.columns[0])[0], grid.column(grid.columns[1])[0]
    for sign, name in ((-1.0, "neg"), (1.0, "pos")):
        path = _write(tmp_path, f"{name}.csv", "Temperature (mK),df/f\n" + "".join(
            f"{a:g},{sign * b:.6g}\n" for a, b in zip(t, shift, strict=True)))
        out = tmp_path / f"o_{name}"
        assert _main([str(NB_DATA / "qint_160dBm.csv"), "--shift", str(path), "--frequency",
                      "5.61989GHz", "--tmax", "1.2", "--out", str(out)]) == 0
        text = capsys.readouterr().out
        joint = text[text.index("[joint]"):text.index("Kramers")]
        loss = text[text.index("[loss]"):text.index("[shift]")]
        assert "negative amplitude" not in loss
        assert "loss rising with temperature" not in joint
        assert ("is it f(T) - f(T_ref), not f(T_ref) - f(T)?" in joint) is (sign < 0), joint
        if sign < 0:
            assert "the loss alone gives a positive one: the shift pulls it negative" in joint
            record = json.loads((out / "loss_shift_results.json").read_text())
            assert "f(T) - f(T_ref)" in json.dumps(record)


def test_a_tmin_above_all_data_warns_before_the_refusal(tmp_path, capsys):
    """--tmin 50 meant as 50 mK, on data from 0.1 to 1.7 K: refused (no points in the window),
    now with the mK spelling."""
    path = _nb_like(tmp_path)
    assert _main([str(path), "--frequency", "5.62GHz", "--tmin", "50", "--out",
                  str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--tmin 50 K is above every temperature" in err and "write e.g. 50mK" in err


def test_unquoted_thousands_separators_in_a_comma_file_are_named(tmp_path):
    """'100,2,910,000' splits into four cells: the refusal names a thousands separator too."""
    path = _write(tmp_path, "k.csv", "T (mK),Qi\n100,2,910,000\n200,3,460,000\n")
    with pytest.raises(ValueError, match=r"line 2 has 4 filled cells.*thousands separator"):
        read_loss_table(path)


@pytest.mark.skipif(not NB_DATA.is_dir(), reason="shipped data not present")
def test_a_direct_joint_fit_blames_a_sign_flipped_shift():
    """``fit_loss_shift(mode="joint")`` called directly kept the words 'loss rising with
    temperature' for a shift of the wrong sign (only the CLI's comparison blamed the shift; left
    alone in session 36). The words now come from the fit itself, with the right sign none."""
    from manybody.laws.inputs import ShiftCurve
    from manybody.laws.joint import fit_loss_shift
    from manybody.measured.tables import curves_from_table, read_grid

    grid = read_grid(NB_DATA / "freq_shift.csv")
    t, shift = grid.column(grid.columns[0])[0], grid.column(grid.columns[1])[0]
    curves = curves_from_table(read_loss_table(NB_DATA / "qint_160dBm.csv"))
    for sign in (-1.0, 1.0):
        sh = ShiftCurve(np.asarray(t, float) * 1e-3, sign * np.asarray(shift, float))
        fit = fit_loss_shift(curves, sh, "5.61989GHz", law="tls", mode="joint", tmax=1.2)
        words = "; ".join(fit.fit.unphysical)
        assert "loss rising with temperature" not in words
        assert ("is it f(T) - f(T_ref), not f(T_ref) - f(T)?" in words) is (sign < 0), words


# ------------------------------------------------------------------ session 40: too few points


@pytest.mark.parametrize(("rows", "window", "named"), [
    (T_MK[:1], [], ""),  # a one-row table
    (T_MK, ["--tmax", "0.15"], "; window --tmax 0.15 K"),  # a window that keeps one point
])
def test_too_few_points_names_the_tables_and_the_window(tmp_path, capsys, rows, window, named):
    """"need more points than parameters" did not say which table or window (session 40)."""
    body = "".join(f"{t};-140;{q:.3g}E+06\n" for t, q in zip(rows, Q_MILLIONS, strict=False))
    table = _write(tmp_path, "few.csv", "Temperatur (mK);Power (dBm);Qint\n" + body)
    status = _main([str(table), "--frequency", "5.62GHz", *window, "--out",
                    str(tmp_path / "fits")])
    err = capsys.readouterr().err
    assert status == 2 and "need more points than parameters: 1 point(s)" in err, err
    assert f"(from {table}{named})" in err, err
    assert not (tmp_path / "fits").exists()
