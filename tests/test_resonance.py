"""Raw S21 sweeps: readers, the notch fit (synthetic truth, library cross-check, flags), the
batch table, the file-name parser, the real Al-on-InP sweeps and ``fit-data --sweeps``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from manybody.measured.resonance import fit_notch, notch_s21
from manybody.measured.resonator_table import (
    fit_sweeps,
    loss_table,
    parse_sweep_name,
    read_sweep_index,
    resonator_csv,
    shift_curves,
    sweep_files,
)
from manybody.measured.sweeps import MIN_POINTS, S21Sweep, read_sweep
from manybody.measured.tables import curves_from_table

ROOT = Path(__file__).resolve().parents[1]
AL = ROOT / "data" / "resonator_al_inp_s21"

#: Truth of the synthetic sweeps: Qi, |Qc|, phi, f0 (Hz), amplitude, alpha, cable delay (s).
TRUE = {"qi": 2.0e4, "qc_abs": 8.0e3, "phi": 0.25, "f0": 5.0e9, "amplitude": 0.05,
        "alpha": 1.1, "delay": 45e-9}


def synthetic(seed: int, noise: float = 2e-3, n: int = 801, half_width: float = 8.0,
              centre: float = 0.0) -> S21Sweep:
    """Notch S21 from TRUE with complex white noise of ``noise`` times the amplitude per
    component; window f0 +- half_width linewidths, shifted by ``centre`` linewidths."""
    t = TRUE
    ql = 1.0 / (1.0 / t["qi"] + math.cos(t["phi"]) / t["qc_abs"])
    width = t["f0"] / ql
    f = t["f0"] + width * (centre + np.linspace(-half_width, half_width, n))
    z = notch_s21(f, t["f0"], ql, t["qc_abs"], t["phi"], t["amplitude"], t["alpha"], t["delay"])
    rng = np.random.default_rng(seed)
    z = z + noise * t["amplitude"] * (rng.standard_normal(n) + 1j * rng.standard_normal(n))
    return S21Sweep(f, z, f"synthetic seed {seed}", "real-imag")


# ----------------------------------------------------------------------------- the fit


def test_synthetic_sweeps_are_recovered_within_their_errors():
    qc_true = TRUE["qc_abs"] / math.cos(TRUE["phi"])
    pulls = {"f0": [], "qi": [], "qc": [], "phi": []}
    for seed in range(5):
        fit = fit_notch(synthetic(seed))
        assert not fit.flag, fit.reason
        for name, truth in (("f0", TRUE["f0"]), ("qi", TRUE["qi"]), ("qc", qc_true),
                            ("phi", TRUE["phi"])):
            value, error = getattr(fit, name), getattr(fit, name + "_err")
            assert 0 < error < 0.2 * abs(value)
            pulls[name].append((value - truth) / error)
        assert fit.delay == pytest.approx(TRUE["delay"], rel=1e-2)
        assert 0.5 < fit.misfit < 2.0  # white noise: residual power = noise power
    for name, p in pulls.items():
        assert np.max(np.abs(p)) < 4, (name, p)
    # errors are honest on average: the pulls scatter by ~1, not by 0.1 or 10
    rms = math.sqrt(np.mean(np.concatenate([np.square(p) for p in pulls.values()])))
    assert 0.3 < rms < 2.0


def test_refined_fit_agrees_with_the_library_on_clean_synthetic_data():
    fit = fit_notch(synthetic(11, noise=5e-4))
    assert fit.qi == pytest.approx(fit.qi_library, abs=3 * fit.qi_err + 1e-3 * fit.qi)
    assert fit.f0 == pytest.approx(fit.f0_library, abs=3 * fit.f0_err + 1.0)


def test_flat_sweep_is_flagged_as_no_resonance():
    rng = np.random.default_rng(0)
    f = np.linspace(5e9, 5.01e9, 400)
    z = 0.1 * np.exp(-2j * np.pi * f * 40e-9) * (1 + 1e-3 * rng.standard_normal(400))
    fit = fit_notch(S21Sweep(f, z, "flat.csv", "real-imag"))
    assert fit.flag and "no resonance dip" in fit.reason
    assert math.isnan(fit.qi)


def test_resonance_at_the_window_edge_is_flagged():
    fit = fit_notch(synthetic(1, centre=7.5))
    assert fit.flag and ("edge" in fit.reason or "outside the window" in fit.reason), fit.reason


def test_gross_misfit_is_flagged():
    s = synthetic(2, noise=1e-4)
    f = s.frequency
    second = notch_s21(f, TRUE["f0"] + 3 * (f[-1] - f[0]) / 16, 3e3, 3e3, 0.0)
    fit = fit_notch(S21Sweep(f, s.s21 * second, "two resonances", "real-imag"))
    assert fit.flag and "chi^2 grossly off" in fit.reason


def test_bad_fit_options_are_refused_by_name():
    with pytest.raises(ValueError, match="max_misfit"):
        fit_notch(synthetic(0), max_misfit=0.5)


# ----------------------------------------------------------------------------- readers


def _write_csv(path: Path, f, a, b, header: str | None = None) -> Path:
    lines = ([header] if header else []) + [f"{x:.17g},{y:.17g},{z:.17g}" for x, y, z in zip(f, a, b,
                                                                                strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("layout", ["db-deg", "db-rad", "linear-deg", "linear-rad", "real-imag"])
def test_every_csv_layout_reads_back_the_same_s21(tmp_path, layout):
    s = synthetic(3)
    z = s.s21
    mag = 20 * np.log10(np.abs(z)) if layout.startswith("db") else np.abs(z)
    ph = np.angle(z) if layout.endswith("rad") else np.degrees(np.angle(z))
    a, b = (z.real, z.imag) if layout == "real-imag" else (mag, ph)
    path = _write_csv(tmp_path / "s.csv", s.frequency, a, b, header="f,a,b")
    back = read_sweep(path, layout)
    np.testing.assert_allclose(back.s21, z, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(back.frequency, s.frequency)


def test_a_downward_sweep_is_read_in_increasing_order(tmp_path):
    """Session 31: a VNA sweep recorded from high to low frequency was refused; it is the same
    measurement (its fit equal to the upward file's)."""
    s = synthetic(4)
    db, deg = 20 * np.log10(np.abs(s.s21)), np.degrees(np.angle(s.s21))
    up = read_sweep(_write_csv(tmp_path / "up.csv", s.frequency, db, deg))
    down = read_sweep(_write_csv(tmp_path / "down.csv", s.frequency[::-1], db[::-1], deg[::-1]))
    np.testing.assert_array_equal(down.frequency, up.frequency)
    np.testing.assert_array_equal(down.s21, up.s21)
    assert fit_notch(down).qi == fit_notch(up).qi


def test_malformed_csv_sweeps_are_refused_by_name(tmp_path):
    s = synthetic(4)
    db, deg = 20 * np.log10(np.abs(s.s21)), np.degrees(np.angle(s.s21))
    short = _write_csv(tmp_path / "short.csv", s.frequency[:10], db[:10], deg[:10])
    with pytest.raises(ValueError, match=r"short\.csv: too few points: 10.*" + str(MIN_POINTS)):
        read_sweep(short)
    bad = db.copy()
    bad[7] = np.nan
    with pytest.raises(ValueError, match=r"nan\.csv: 1 NaN .*data row 8"):
        read_sweep(_write_csv(tmp_path / "nan.csv", s.frequency, bad, deg))
    f = s.frequency.copy()
    f[[5, 6]] = f[[6, 5]]
    with pytest.raises(ValueError, match=r"order\.csv: frequency not strictly increasing"):
        read_sweep(_write_csv(tmp_path / "order.csv", f, db, deg))
    with pytest.raises(ValueError, match=r"rad\.csv.*layout='db-rad' says radians"):
        read_sweep(_write_csv(tmp_path / "rad.csv", s.frequency, db, deg), "db-rad")
    with pytest.raises(ValueError, match=r"lin\.csv.*negative.*layout='linear-deg'"):
        read_sweep(_write_csv(tmp_path / "lin.csv", s.frequency, db, deg), "linear-deg")
    with pytest.raises(ValueError, match=r"deg\.csv.*says degrees; radians"):
        read_sweep(_write_csv(tmp_path / "deg.csv", s.frequency, db, np.angle(s.s21)), "db-deg")
    with pytest.raises(ValueError, match=r"dblin\.csv.*between 0 and 1.*linear"):
        read_sweep(_write_csv(tmp_path / "dblin.csv", s.frequency, np.abs(s.s21), deg))
    with pytest.raises(ValueError, match=r"ghz\.csv.*frequency_unit"):
        read_sweep(_write_csv(tmp_path / "ghz.csv", s.frequency / 1e9, db, deg))
    assert read_sweep(_write_csv(tmp_path / "ghz2.csv", s.frequency / 1e9, db, deg),
                      frequency_unit="GHz").frequency[0] == pytest.approx(s.frequency[0])
    with pytest.raises(ValueError, match="layout must be one of"):
        read_sweep(short, "dB")


@pytest.mark.parametrize(("header", "scale"), [
    ("Frequency (kHz),S21 (dB),Phase (deg)", 1e3), ("# freq[GHz] mag[dB] phase[deg]", 1e9),
    ("f / MHz; |S21| dB; arg deg", 1e6), ("frequency_Hz\tdB\tdeg", 1.0),
    # a reviewer's (session 26), read as Hz before: blanks between cells, a comment after the
    # header, a units line, glued or spelled-out units, another language
    ("Frequency (kHz)   S21 (dB)   Phase (deg)", 1e3), ("# Frequency (kHz) S21 (dB) Phase (deg)", 1e3),
    ("Frequency (kHz),S21 (dB),Phase (deg)\n# T = 30 mK", 1e3), ("FreqkHz,S21dB,Phasedeg", 1e3),
    ("freq in kHz,mag dB,phase deg", 1e3), ("Frequency,S21,Phase\nkHz,dB,deg", 1e3),
    ("f (kHz),S21 at 7.7 GHz (dB),phase", 1e3), ("Frequenz (kHz);S21 (dB);Phase (deg)", 1e3),
    ("# T = 30 mK, f0 = 7.7 GHz\nFrequency (kilohertz),S21 (dB),Phase (deg)", 1e3),
])
def test_the_frequency_unit_of_a_sweep_header_is_read_and_a_contrary_one_refused(tmp_path,
                                                                                header, scale):
    """A sweep in kHz was read as Hz without a word (f0 = 6 MHz, session 25): the unit the header
    names for the first column is used, and a frequency_unit that contradicts it is refused."""
    s = synthetic(3)
    db, deg = 20 * np.log10(np.abs(s.s21)), np.degrees(np.angle(s.s21))
    path = _write_csv(tmp_path / "h.csv", s.frequency / scale, db, deg, header)
    np.testing.assert_allclose(read_sweep(path).frequency, s.frequency, rtol=1e-15)
    stated = {1.0: "Hz", 1e3: "kHz", 1e6: "MHz", 1e9: "GHz"}[scale]
    assert read_sweep(path, frequency_unit=stated).frequency[0] == pytest.approx(s.frequency[0])
    other = "GHz" if stated != "GHz" else "Hz"
    with pytest.raises(ValueError, match=rf"h\.csv: the header gives the frequency in {stated}.*"
                                         rf"frequency_unit='{other}'"):
        read_sweep(path, frequency_unit=other)


def test_millihertz_conflicting_headers_and_terahertz_are_refused(tmp_path):
    s = synthetic(3)
    db, deg = 20 * np.log10(np.abs(s.s21)), np.degrees(np.angle(s.s21))
    with pytest.raises(ValueError, match=r"m\.csv: the header gives the frequency in mHz"):
        read_sweep(_write_csv(tmp_path / "m.csv", s.frequency / 1e6, db, deg,
                              "Frequency (mHz),S21 (dB),Phase (deg)"))
    with pytest.raises(ValueError, match=r"in GHz .* and kHz .*give frequency_unit"):
        read_sweep(_write_csv(tmp_path / "two.csv", s.frequency / 1e3, db, deg,
                              "# freq in GHz\n# Frequency in kHz"))
    with pytest.raises(ValueError, match=r"in kHz .* and GHz .*give frequency_unit"):
        read_sweep(_write_csv(tmp_path / "rows.csv", s.frequency / 1e3, db, deg,
                              "Frequency (kHz),S21 (dB),Phase (deg)\nGHz,dB,deg"))
    with pytest.raises(ValueError, match=r"names Hz and MHz; give frequency_unit"):
        read_sweep(_write_csv(tmp_path / "both.csv", s.frequency / 1e6, db, deg,
                              "Frequency [Hz] (MHz shown),S21,Phase"))
    with pytest.raises(ValueError, match="above 1 THz"):
        read_sweep(_write_csv(tmp_path / "t.csv", s.frequency * 1e3, db, deg))


@pytest.mark.parametrize("header, scale, separator", [
    ("Freq. (kHz),S21 (dB),Phase (deg)", 1e3, ","),
    ("Frequency (in kHz),S21 (dB),Phase (deg)", 1e3, ","),
    ("Frequency, kHz;S21, dB;Phase, deg", 1e3, ";"),
    ('"Frequency","S21","Phase"\n"kHz","dB","deg"', 1e3, ","),
    ("Frequency S21 Phase\nkHz dB deg", 1e3, " "),
    ("Stimulus (kHz),S21 (dB),Phase (deg)", 1e3, ","),
    ("Fréquence (kHz);S21 (dB);Phase (°)", 1e3, ";"),
    ("频率 (kHz),S21 (dB),相位 (deg)", 1e3, ","),
    ("Frequency|kHz,S21,Phase", 1e3, ","),
    ("Fr (MHz),S21 (dB),Phase (deg)", 1e6, ","),
    ("Frequency (Hz x 1e3),S21,Phase", 1e3, ","),
    ("Frequency (1e9 Hz),S21 (dB),Phase (deg)", 1e9, ","),
    ("Frequency (x10^6 Hz),S21 (dB),Phase (deg)", 1e6, ","),
    ("# Start frequency (GHz): 7.71\nFreq(Hz),S21(dB),Phase(deg)", 1.0, ","),
    ("IFBW: 1 kHz, Power: -20 dBm, Avg: 10\nFreq(GHz),S21(dB),Phase(deg)", 1e9, ","),
    ('"Frequency (GHz)","S21 (dB)","Phase (deg)"', 1e9, ","),
    # a second reviewer's (session 27): scales written out or as superscripts, a prefix apart
    # from its unit, quoted cells holding the separator
    ("Frequency (Hz x 1000),S21,Phase", 1e3, ","), ("Frequency (Hz*1000),S21,Phase", 1e3, ","),
    ("Frequency (Hz) ×10³,S21,Phase", 1e3, ","), ("Frequency (k Hz),S21,Phase", 1e3, ","),
    ("Frequency [K Hz],S21,Phase", 1e3, ","), ("Frequency (kilo Hz),S21,Phase", 1e3, ","),
    ('"Frequency, MHz","S21, dB","Phase, deg"', 1e6, ","),
])
def test_the_unit_in_the_frequency_columns_header_is_read_whatever_word_stands_beside_it(
        tmp_path, header, scale, separator):
    """A unit in the first cell of the column header (or a units line) is the frequency
    column's, whatever the word beside it, with a power-of-ten scale where one is written;
    metadata lines do not override it; quoted cells are read. Eleven of these spellings read kHz
    as Hz before (f0 = 7.7 MHz; a reviewer, session 27)."""
    s = synthetic(3)
    db, deg = 20 * np.log10(np.abs(s.s21)), np.degrees(np.angle(s.s21))
    path = tmp_path / "h.csv"
    lines = [header] + [separator.join(f'"{a!r}"' if header.startswith('"') else repr(a)
                                       for a in (float(f), float(d), float(p)))
                        for f, d, p in zip(s.frequency / scale, db, deg, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    np.testing.assert_allclose(read_sweep(path).frequency, s.frequency, rtol=1e-12)


@pytest.mark.parametrize("metadata", [
    "# IFBW (Hz): 1000, Power (dBm): -20, Averages: 10", "# IFBW (kHz): 1, Power: -20, Avg: 10",
    "# Span (Hz), Points, Power (dBm)"])
def test_a_metadata_line_of_three_cells_is_not_the_columns_header(tmp_path, metadata):
    """A metadata line with as many cells as the data, above a header without a unit, gave the
    column its unit (kHz data read as Hz, f0 = 7.7 MHz; a reviewer, session 27): only the line
    above the data (or above its units line) is the columns' header, and a cell with a value is
    metadata; here nothing states the unit, so the sweep is refused."""
    s = synthetic(3)
    db, deg = 20 * np.log10(np.abs(s.s21)), np.degrees(np.angle(s.s21))
    path = _write_csv(tmp_path / "m.csv", s.frequency / 1e3, db, deg,
                      metadata + "\nFrequency,S21,Phase")
    with pytest.raises(ValueError, match="nothing in the file states the frequency unit"):
        read_sweep(path)


@pytest.mark.parametrize("metadata, scale", [
    ("# Start Frequency (MHz): {start_mhz:.4f}\n# Stop Frequency (MHz): 1", 1e9),
    ("# Start Frequency (GHz): {start_ghz:.6f}", 1.0),
    ("# Center frequency [kHz] = 7.7e6", 1e9),
])
def test_a_metadata_line_with_a_value_states_the_unit_of_its_value(tmp_path, metadata, scale):
    """'Start Frequency (MHz): 5995.8' above 'freq,mag,phase' gave a GHz column the unit MHz
    (f0 = 6 MHz, silently) and refused frequency_unit='GHz' as contradicting it (a tester,
    session 34). Such a line states its value's unit: the column's is then read (GHz data by
    the frequency_unit given; Hz data as Hz)."""
    s = synthetic(3)
    db, deg = 20 * np.log10(np.abs(s.s21)), np.degrees(np.angle(s.s21))
    header = metadata.format(start_mhz=s.frequency[0] / 1e6, start_ghz=s.frequency[0] / 1e9)
    path = _write_csv(tmp_path / "m.csv", s.frequency / scale, db, deg, header + "\nfreq,mag,phase")
    unit = {1e9: "GHz", 1.0: "Hz"}[scale]
    np.testing.assert_allclose(read_sweep(path, frequency_unit=unit).frequency, s.frequency,
                               rtol=1e-12)
    if scale == 1.0:
        np.testing.assert_allclose(read_sweep(path).frequency, s.frequency, rtol=1e-12)
    else:
        with pytest.raises(ValueError, match="nothing in the file states the frequency unit"):
            read_sweep(path)


def test_a_sweep_without_a_stated_unit_below_100_mhz_as_hz_is_refused(tmp_path):
    """Nothing states the unit and the numbers, as Hz, are 1-100 MHz: a GHz resonator's sweep in
    kHz was read as 7.7 MHz; refused, and read once the unit is given. A Keysight block's END line
    closes the data."""
    s = synthetic(3)
    db, deg = 20 * np.log10(np.abs(s.s21)), np.degrees(np.angle(s.s21))
    path = _write_csv(tmp_path / "u.csv", s.frequency / 1e3, db, deg, "Frequency,S21,Phase")
    with pytest.raises(ValueError, match=r"u\.csv: nothing in the file states the frequency unit"
                                         r".*frequency_unit="):
        read_sweep(path)
    np.testing.assert_allclose(read_sweep(path, frequency_unit="kHz").frequency, s.frequency,
                               rtol=1e-12)
    hz = _write_csv(tmp_path / "hz.csv", s.frequency, db, deg, "BEGIN CH1_DATA\nFreq(Hz),S21,Phase")
    hz.write_text(hz.read_text() + "END\n")
    np.testing.assert_allclose(read_sweep(hz).frequency, s.frequency)
    hz.write_text(hz.read_text() + "BEGIN CH2_DATA\n1e9,2,3\nEND\n")
    with pytest.raises(ValueError, match="several blocks in one file"):
        read_sweep(hz)


def test_a_header_that_is_not_a_column_header_gives_no_unit(tmp_path):
    """A comment naming a frequency is not the columns' header (three cells, the first with a
    unit): the numbers stay in the given unit (Hz by default)."""
    s = synthetic(3)
    db, deg = 20 * np.log10(np.abs(s.s21)), np.degrees(np.angle(s.s21))
    path = _write_csv(tmp_path / "c.csv", s.frequency, db, deg, "# resonator near 7.7 GHz, run 3")
    assert read_sweep(path, frequency_unit="Hz").frequency[0] == s.frequency[0]
    assert read_sweep(path).frequency[0] == s.frequency[0]


def test_fit_data_names_its_option_for_a_contrary_sweep_unit(tmp_path, capsys):
    from manybody.cli import main

    s = synthetic(3)
    db, deg = 20 * np.log10(np.abs(s.s21)), np.degrees(np.angle(s.s21))
    folder = tmp_path / "sweeps"
    folder.mkdir()
    _write_csv(folder / "s21_-20dB_030.0mK.csv", s.frequency / 1e3, db, deg, "f (kHz),dB,deg")
    assert main(["fit-data", "--sweeps", str(folder), "--sweep-frequency-unit", "Hz", "--out",
                 str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--sweep-frequency-unit 'kHz'" in err and "frequency_unit" not in err, err
    assert not (tmp_path / "o").exists()


def test_fit_data_refuses_sweeps_that_resonate_far_from_the_frequency_given(tmp_path, capsys):
    """Sweeps whose fitted f0 is a factor 1000 from --frequency (a file in kHz read as Hz) ran
    the law fits on (a reviewer, session 27): refused naming both, nothing written."""
    from manybody.cli import main

    folder = tmp_path / "sweeps"
    folder.mkdir()
    for seed, t in enumerate((30, 60, 90, 120), start=3):  # four: fewer than the law fit's
        # parameters are refused before any sweep is fitted (session 49); four noise draws, as
        # one sweep saved under two temperatures is refused (helper-175 F3)
        s = synthetic(seed)
        db, deg = 20 * np.log10(np.abs(s.s21)), np.degrees(np.angle(s.s21))
        _write_csv(folder / f"s21_-20dB_{t:05.1f}mK.csv", s.frequency, db, deg, "f (Hz),dB,deg")
    f0 = float(np.median(s.frequency)) / 1e9
    # the right frequency is not refused for it (these flat sweeps may fail the law fits later)
    main(["fit-data", "--sweeps", str(folder), "--frequency", f"{f0 * 1e3:g}MHz", "--out",
          str(tmp_path / "same")])
    assert "resonate" not in capsys.readouterr().err
    assert main(["fit-data", "--sweeps", str(folder), "--frequency", f"{f0:g}MHz", "--out",
                 str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "the sweeps resonate at" in err and "--frequency" in err, err
    assert "frequency unit" in err
    assert not (tmp_path / "o").exists()
    # 8 % off moved a tanh data set's index to 1.46, "beyond TLS" (session 33): refused too,
    # without the unit hint; 0.5 % off is taken
    assert main(["fit-data", "--sweeps", str(folder), "--frequency", f"{f0 * 1.08:.9g}GHz",
                 "--out", str(tmp_path / "o8")]) == 2
    err = capsys.readouterr().err
    assert "8 % away (at most 1 % is taken" in err and "leave out --frequency" in err, err
    assert "frequency unit" not in err
    assert not (tmp_path / "o8").exists()
    main(["fit-data", "--sweeps", str(folder), "--frequency", f"{f0 * 1.005:.9g}GHz", "--out",
          str(tmp_path / "near")])
    assert "resonate" not in capsys.readouterr().err


def test_touchstone_s2p_is_read_and_other_layouts_refused(tmp_path):
    import skrf
    s = synthetic(5)
    n = s.frequency.size
    full = np.zeros((n, 2, 2), dtype=complex)
    full[:, 1, 0] = s.s21
    full[:, 0, 1] = 0.5 * s.s21
    full[:, 0, 0] = full[:, 1, 1] = 0.1
    freq = skrf.Frequency.from_f(s.frequency, unit="Hz")
    skrf.Network(frequency=freq, s=full).write_touchstone(str(tmp_path / "res"))
    back = read_sweep(tmp_path / "res.s2p")
    np.testing.assert_allclose(back.s21, s.s21, rtol=1e-6)
    np.testing.assert_allclose(read_sweep(tmp_path / "res.s2p", parameter="S12").s21,
                               0.5 * s.s21, rtol=1e-6)
    one = skrf.Network(frequency=freq, s=s.s21.reshape(n, 1, 1))
    one.write_touchstone(str(tmp_path / "refl"))
    with pytest.raises(ValueError, match=r"refl\.s1p: Touchstone file is a 1-port file"):
        read_sweep(tmp_path / "refl.s1p")
    four = skrf.Network(frequency=freq, s=np.tile(full, (1, 2, 2)))
    four.write_touchstone(str(tmp_path / "quad"))
    with pytest.raises(ValueError, match=r"quad\.s4p: Touchstone file is a 4-port file"):
        read_sweep(tmp_path / "quad.s4p")
    text = (tmp_path / "res.s2p").read_text().replace("# Hz S", "# Hz Y")
    (tmp_path / "y.s2p").write_text(text)
    with pytest.raises(ValueError, match=r"y\.s2p: Touchstone file holds Y parameters"):
        read_sweep(tmp_path / "y.s2p")


# ----------------------------------------------------------------------------- names, batch


def test_file_name_parser_default_and_custom():
    assert parse_sweep_name("a/s21_7.7182GHz_-20dB_030.0mK.csv") == (pytest.approx(0.030), -20)
    assert parse_sweep_name("x_-85.5dBm_120mK.s2p") == (pytest.approx(0.12), -85.5)
    t, p = parse_sweep_name("run3_T0.25K.csv", r"T(?P<K>[\d.]+)K")
    assert (t, p) == (pytest.approx(0.25), None)
    with pytest.raises(ValueError, match="does not match the name pattern"):
        parse_sweep_name("sweep.csv")
    with pytest.raises(ValueError, match="needs a group"):
        parse_sweep_name("sweep.csv", r"(?P<T>\d+)")


def test_index_file_and_batch_on_synthetic_sweeps(tmp_path):
    names = ["a.csv", "b.csv"]
    for seed, name in enumerate(names, start=6):  # two noise draws: one sweep saved twice is
        s = synthetic(seed)  # refused (helper-175 F3, tests/test_data_faults_s55.py)
        _write_csv(tmp_path / name, s.frequency, s.s21.real, s.s21.imag)
    (tmp_path / "index.txt").write_text("file,temperature_mK,power_dBm\na.csv,50,-90\n"
                                        "b.csv,20,-90\n")
    index = read_sweep_index(tmp_path / "index.txt")
    assert index["b.csv"] == (pytest.approx(0.02), -90.0)
    results = fit_sweeps(sweep_files(tmp_path / "*.csv"), layout="real-imag", index=index)
    assert [r.temperature for r in results] == [pytest.approx(0.02), pytest.approx(0.05)]
    text = resonator_csv(results)
    assert text.splitlines()[0].startswith("file,temperature_K,power_dBm,f0_Hz,f0_err_Hz,Qi")
    table = loss_table(results, tmp_path / "fits.csv")
    (curve,) = curves_from_table(table)
    assert curve.power == -90.0
    np.testing.assert_allclose(curve.loss, [1 / r.fit.qi for r in results])
    (shift,) = shift_curves(results)
    assert shift.shift[0] == 0.0  # the reference, and one truth: no shift beyond the noise
    assert abs(shift.shift[1]) < 5 * shift.sigma[1]
    with pytest.raises(ValueError, match="not listed in the sweep index"):
        fit_sweeps([str(tmp_path / "c.csv")], index=index)


# ----------------------------------------------------------------------------- the Al data


@pytest.fixture(scope="module")
def al_results():
    files = sweep_files(AL)
    assert len(files) == 20
    return fit_sweeps(files)


def test_every_al_sweep_fits_with_plausible_parameters(al_results):
    for r in al_results:
        fit = r.fit
        assert not fit.flag, (r.file, fit.reason)
        sweep = read_sweep(r.file)
        assert sweep.frequency[0] < fit.f0 < sweep.frequency[-1]
        assert 1e3 < fit.qi < 1e6 and 0 < fit.qi_err < 0.05 * fit.qi
        assert 1e3 < fit.qc < 1e5
    t = np.array([r.temperature for r in al_results])
    assert np.all(np.diff(t) > 0) and t[0] == pytest.approx(0.030) and t[-1] == pytest.approx(0.315)
    # above ~150 mK quasiparticles lower f0 and Qi: both fall monotonically from 150 to 315 mK
    hot = [r for r in al_results if r.temperature >= 0.15]
    assert np.all(np.diff([r.fit.f0 for r in hot]) < 0)
    assert np.all(np.diff([r.fit.qi for r in hot]) < 0)
    (shift,) = shift_curves(al_results)
    assert shift.reference_temperature == pytest.approx(0.030)
    assert -2e-5 < shift.shift[-1] < -5e-6  # ~ -17 ppm at 315 mK
    # a reference temperature is one of the sweeps' (within 5 %) or refused: 5 K took the sweep
    # at 315 mK, -1 K the one at 30 mK, silently (session 25)
    (shift,) = shift_curves(al_results, reference_temperature=0.152)
    assert shift.reference_temperature == pytest.approx(0.150)
    for bad, words in ((5.0, r"no sweep at power -20 dB within 5 % of it \(the nearest is at "
                              r"0\.315 K"), (-1.0, "reference_temperature must be > 0"),
                       (float("nan"), "reference_temperature must be a finite real number")):
        with pytest.raises(ValueError, match=words):
            shift_curves(al_results, reference_temperature=bad)


def test_cli_fit_data_sweeps_end_to_end(tmp_path, capsys):
    from manybody.cli import main

    out = tmp_path / "al"
    pattern = str(AL / "*_0[0-9][0-9].0mK.csv")  # 5 of the 20 sweeps (30-90 mK): keeps it fast
    assert main(["fit-data", "--sweeps", pattern, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "s21_7.7182GHz_-20dB_030.0mK.csv" in printed and "median fitted f0" in printed
    for name in ("resonator_fits.csv", "resonance_fits.png", "fit_data.png",
                 "fit_results.json", "fit_table.txt"):
        assert (out / name).is_file(), name
    record = json.loads((out / "fit_results.json").read_text())
    assert len(record["sweep_inputs"]) == 5
    assert record["options"]["frequency"].endswith("GHz")
    assert len((out / "resonator_fits.csv").read_text().splitlines()) == 6
    assert main(["fit-data", "x.csv", "--sweeps", pattern, "--out", str(out)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["fit-data", "--sweeps", str(tmp_path / "none*.csv"), "--out",
                 str(tmp_path / "o")]) == 2
    assert "no sweep files found" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # a refused run leaves no empty output folder


def test_negative_qi_and_errors_larger_than_values_are_flagged():
    from dataclasses import replace

    from manybody.measured.resonance import _implausible

    s = synthetic(7)
    good = fit_notch(s)
    assert _implausible(good, s.frequency, 400.0) == []
    bad = replace(good, qi=-5e4, qi_err=1e3)
    assert any("Qi = -5e+04 is not positive" in r for r in _implausible(bad, s.frequency, 400.0))
    noisy = replace(good, qc_err=2 * good.qc)
    assert any("Qc error" in r and "exceeds its value" in r
               for r in _implausible(noisy, s.frequency, 400.0))


def test_an_al_sweep_read_with_the_wrong_layout_is_refused_by_name():
    path = AL / "s21_7.7182GHz_-20dB_030.0mK.csv"
    with pytest.raises(ValueError, match=r"030\.0mK\.csv: phase column reaches .*degrees"):
        read_sweep(path, "db-rad")
    with pytest.raises(ValueError, match=r"030\.0mK\.csv: magnitude column has negative"):
        read_sweep(path, "linear-deg")


# ----------------------------------------------------------------------------- break test 25


def _db_deg(s: S21Sweep) -> tuple[np.ndarray, np.ndarray]:
    return 20 * np.log10(np.abs(s.s21)), np.degrees(np.angle(s.s21))


#: Enough sweeps for the law fit (three parameters): fewer are refused before any sweep is fitted
#: (session 49), which would come before the refusals some tests are about.
FOUR_SWEEPS = (20, 50, 80, 110)


def _sweep_folder(folder: Path, temperatures_mk=(20, 50), n: int = 301) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, t in enumerate(temperatures_mk):
        s = synthetic(20 + i, n=n)
        _write_csv(folder / f"s21_-90dBm_{t:05.1f}mK.csv", s.frequency, *_db_deg(s))
    return folder


def test_bad_name_pattern_is_refused_naming_the_option_before_any_fit(tmp_path, capsys):
    from manybody.cli import main

    folder = _sweep_folder(tmp_path / "sw")
    with pytest.raises(ValueError, match=r"--sweep-pattern\) '\(' is not a valid regular "
                                         r"expression .*\(\?P<mK>"):
        fit_sweeps(sweep_files(folder), pattern="(")
    assert main(["fit-data", "--sweeps", str(folder), "--sweep-pattern", "(", "--out",
                 str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--sweep-pattern" in err and "Traceback" not in err and len(err.splitlines()) == 1
    with pytest.raises(ValueError, match="needs a group"):
        fit_sweeps(sweep_files(folder), pattern=r"(?P<T>\d+)mK")


def test_a_refused_sweep_step_writes_nothing(tmp_path, capsys, monkeypatch):
    from manybody.cli import main

    folder = _sweep_folder(tmp_path / "sw", temperatures_mk=FOUR_SWEEPS)
    # every fit flagged (dB/degree columns read as Re/Im): refused after the fits, no file
    out = tmp_path / "flagged"
    assert main(["fit-data", "--sweeps", str(folder), "--sweep-layout", "real-imag", "--out",
                 str(out)]) == 2
    assert "every sweep's fit is flagged" in capsys.readouterr().err
    assert not out.exists()
    # a negative temperature in the index: refused when the index is read, no file
    (tmp_path / "index.csv").write_text("file,temperature_K\ns21_-90dBm_020.0mK.csv,-0.02\n"
                                        "s21_-90dBm_050.0mK.csv,0.05\n")
    out = tmp_path / "neg"
    assert main(["fit-data", "--sweeps", str(folder), "--sweep-index",
                 str(tmp_path / "index.csv"), "--out", str(out)]) == 2
    assert not out.exists()
    # several files are written together: a failure on one leaves every destination unchanged
    from manybody.support.files import atomic_write_all

    (tmp_path / "a.txt").write_text("old")
    with pytest.raises(OSError):
        atomic_write_all({tmp_path / "a.txt": b"new", tmp_path / "missing" / "b.txt": b"new"})
    assert (tmp_path / "a.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "index.csv", "sw"]


def test_sweep_index_is_checked_when_read_naming_file_row_and_value(tmp_path):
    folder = _sweep_folder(tmp_path / "sw")
    names = [Path(f).name for f in sweep_files(folder)]
    index = tmp_path / "index.csv"
    for value, words in (("-0.02", r"data row 1 .*temperature -0\.02 K; expected a finite"),
                         ("nan", r"data row 1 .*temperature nan K")):
        index.write_text(f"file,temperature_K\n{names[0]},{value}\n{names[1]},0.05\n")
        with pytest.raises(ValueError, match=r"index\.csv'.*" + words):
            read_sweep_index(index)
    index.write_text(f"file,temperature_K,power_dBm\n{names[0]},0.02,inf\n")
    with pytest.raises(ValueError, match=r"data row 1 .*drive power inf dBm"):
        read_sweep_index(index)
    with pytest.raises(ValueError, match=r"--sweep-index\) '.*nope\.csv' not found; expected a "
                       r"CSV file"):
        read_sweep_index(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match=r"--sweep-index\) '/dev/null' is not a regular file"):
        read_sweep_index("/dev/null")  # session 32: it said 'no such file'
    # session 31: 100000 dBm was refused only after every fit and without the row; a NaN power
    # named the temperature column; power_W was ignored; a decimal comma split a cell
    for power, shown in (("100000", "100000"), ("nan", "nan")):
        index.write_text(f"file,temperature_K,power_dBm\n{names[0]},0.02,{power}\n")
        with pytest.raises(ValueError, match=rf"data row 1 \('{names[0]}'\), column power_dBm: "
                           rf"drive power {shown} dBm; expected a power between -300 and 100"):
            read_sweep_index(index)
    index.write_text(f"file,temperature_K,power_W\n{names[0]},0.02,1e-9\n")
    with pytest.raises(ValueError, match=r"unknown column\(s\) \['power_W'\]; the columns are"):
        read_sweep_index(index)
    index.write_text(f"file,temperature_K,temperature_mK\n{names[0]},0.02,20\n")
    with pytest.raises(ValueError, match=r"give a quantity twice"):
        read_sweep_index(index)
    index.write_text(f"file,temperature_mK,power_dBm\n{names[0]},30,5,-80\n")
    with pytest.raises(ValueError, match=r"data row 1: more cells than the header's 3 columns "
                       r"\(extra \['-80'\]\)"):
        read_sweep_index(index)
    index.write_text(f"file;temperature_mK;power_dBm\n{names[0]};30,5;-80\n")
    assert read_sweep_index(index)[names[0]] == (0.0305, -80.0)
    index.write_text(f"file,temperature_K\n{names[0]},0.02\n{names[1]},0.05\nghost.csv,0.1\n")
    with pytest.raises(ValueError, match=r"data row 3 lists 'ghost\.csv', which does not exist"):
        fit_sweeps(sweep_files(folder), index=read_sweep_index(index))
    # the index inside the sweep folder is not a sweep; two sweeps at one T and power warn
    (folder / "index.csv").write_text(f"file,temperature_mK\n{names[0]},50\n{names[1]},50\n")
    with pytest.warns(UserWarning, match=r"2 sweeps at T = 0\.05 K: .*repeated points"):
        results = fit_sweeps(str(folder), index=read_sweep_index(folder / "index.csv"))
    assert len(results) == 2


def test_a_temperature_window_without_sweeps_is_refused_before_any_fit(tmp_path, monkeypatch):
    """Session 32: --tmax below every sweep's temperature was refused after all the sweeps had
    been fitted."""
    from manybody.measured import resonator_table

    folder = _sweep_folder(tmp_path / "sw")

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted before the window was checked")
    monkeypatch.setattr(resonator_table, "fit_notch", no_fit)
    with pytest.raises(ValueError, match=r"no sweep in the window --tmin/--tmax T <= 0.001 K "
                       r"\(the sweeps span"):
        fit_sweeps(str(folder), window=(None, 0.001))
    with pytest.raises(ValueError, match=r"window --tmin/--tmax T >= 5 K \("):
        fit_sweeps(str(folder), window=(5.0, None))


def test_touchstone_s2p_with_one_port_lines_is_refused(tmp_path):
    s = synthetic(5, n=101)
    lines = ["# Hz S RI R 50"] + [f"{f:.6f} {z.real:.9g} {z.imag:.9g}"
                                  for f, z in zip(s.frequency, s.s21, strict=True)]
    (tmp_path / "one.s2p").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"one\.s2p: data line 2 holds 3 numbers .*1-port.*"
                                         r"has 9 per line"):
        read_sweep(tmp_path / "one.s2p")


def test_linear_magnitude_with_gain_read_as_db_is_flagged_with_a_hint(tmp_path):
    s = synthetic(8)
    gain = np.abs(s.s21) * 600  # a linear |S21| of ~30 (an amplified chain)
    path = _write_csv(tmp_path / "lin.csv", s.frequency, gain, np.degrees(np.angle(s.s21)))
    fit = fit_notch(read_sweep(path))  # default layout db-deg: read as dB
    assert fit.flag
    assert "line shape off" in fit.reason and "layout='linear-deg'" in fit.reason, fit.reason
    assert fit.shape_residual > 0.05
    good = fit_notch(read_sweep(path, "linear-deg"))
    assert not good.flag and good.shape_residual < 0.01


def test_layout_and_unit_mixups_are_named(tmp_path, capsys):
    from manybody.cli import main

    s = synthetic(9)
    db, deg = _db_deg(s)
    # an unwrapped phase in radians (beyond +-pi, no wraps) read as degrees: flagged, and the
    # reason says so
    path = _write_csv(tmp_path / "rad.csv", s.frequency, db, np.unwrap(np.angle(s.s21)) + 4.0)
    fit = fit_notch(read_sweep(path))
    assert fit.flag and "radians read as degrees? (layout='db-rad')" in fit.reason, fit.reason
    # dB and degrees read as Re and Im
    path = _write_csv(tmp_path / "dbdeg.csv", s.frequency, db, deg)
    fit = fit_notch(read_sweep(path, "real-imag"))
    assert fit.flag and "layout='db-deg'?" in fit.reason, fit.reason
    # ';' separators with decimal commas are read
    text = "\n".join(f"{f:.17g};{a:.17g};{b:.17g}".replace(".", ",")
                     for f, a, b in zip(s.frequency, db, deg, strict=True))
    (tmp_path / "semi.csv").write_text("f;dB;deg\n" + text + "\n")
    np.testing.assert_allclose(read_sweep(tmp_path / "semi.csv").s21, s.s21, rtol=1e-9)
    # an unquoted glob expanded by the shell
    folder = _sweep_folder(tmp_path / "sw", n=101)
    files = sweep_files(folder)
    assert main(["fit-data", "--sweeps", *files, "--out", str(tmp_path / "o")]) == 2
    assert "unquoted glob; quote it" in capsys.readouterr().err


def test_frequency_from_the_fits_is_named_as_such(tmp_path, capsys):
    from manybody.cli import main

    folder = _sweep_folder(tmp_path / "sw", temperatures_mk=(20, 50, 80), n=201)
    names = [Path(f).name for f in sweep_files(folder)]
    (tmp_path / "index.csv").write_text("file,temperature_K\n" + "".join(
        f"{n},{t}\n" for n, t in zip(names, (20, 50, 80), strict=True)))  # mK labelled K
    out = tmp_path / "o"
    assert main(["fit-data", "--sweeps", str(folder), "--sweep-index",
                 str(tmp_path / "index.csv"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    # since session 45 refused before any fit, against the sweeps' own centre frequency, naming
    # the index (it was refused after every fit, naming the median fitted f0), and without the
    # --frequency advice, as no --frequency was given
    assert "the sweeps' centre frequency" in err and "in the sweep index" in err, err
    assert "frequency in the wrong unit" not in err, err
    assert not out.exists()


def test_a_sweep_run_refused_by_the_law_fit_writes_nothing_and_overwrite_leaves_no_stale_step(
        tmp_path, capsys):
    """One sweep fits, but the law fit needs more points: the sweep step's table and figure were
    written before the law fit refused (session 25). And a loss-table run that replaces, with
    --overwrite, the law fit of an earlier --sweeps run removes that run's sweep table and
    figure, which no longer belong to the results beside them."""
    from manybody.cli import main

    folder = _sweep_folder(tmp_path / "one", temperatures_mk=(50,))
    out = tmp_path / "out"
    assert main(["fit-data", "--sweeps", str(folder), "--out", str(out)]) == 2
    assert "need more points than parameters" in capsys.readouterr().err
    assert not out.exists()
    folder = _sweep_folder(tmp_path / "four", temperatures_mk=(20, 50, 100, 200))
    assert main(["fit-data", "--sweeps", str(folder), "--frequency", "5GHz", "--no-background",
                 "--out", str(out)]) == 0
    assert (out / "resonator_fits.csv").is_file()
    table = tmp_path / "q.csv"
    table.write_text("T (mK),Qi\n" + "".join(f"{t},{1e6 / (1 + t / 100)}\n"
                                            for t in (20, 40, 60, 80, 100, 150, 200)))
    assert main(["fit-data", str(table), "--frequency", "6GHz", "--out", str(out),
                 "--overwrite"]) == 0
    assert "removed the earlier --sweeps run's resonator_fits.csv" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["fit_data.pdf", "fit_data.png",
                                                     "fit_results.json", "fit_table.txt"]


def test_overwrite_keeps_a_sweep_step_that_feeds_other_results(tmp_path, capsys):
    """A loss-table run replacing, with --overwrite, a loss-table fit removed the sweep table of a
    --sweeps --joint run beside it, whose results name it as their source (a reviewer, session
    25): only results made from the sweeps take their sweep step with them."""
    from manybody.cli import main
    from manybody.cli.fit_sweeps import made_by_sweeps

    out = tmp_path / "out"
    table = tmp_path / "q.csv"
    table.write_text("T (mK),Qi\n" + "".join(f"{t},{1e6 / (1 + t / 100)}\n"
                                            for t in (20, 40, 60, 80, 100, 150, 200)))
    assert main(["fit-data", str(table), "--frequency", "6GHz", "--out", str(out)]) == 0
    assert not made_by_sweeps(out / "fit_results.json")
    (out / "loss_shift_results.json").write_text('{"options": {"sweeps": {"folder": "sw"}}}')
    for name in ("resonator_fits.csv", "resonance_fits.png", "resonance_fits.pdf"):
        (out / name).write_text("the joint run's")
    assert made_by_sweeps(out / "loss_shift_results.json")
    assert main(["fit-data", str(table), "--frequency", "6GHz", "--out", str(out),
                 "--overwrite"]) == 0
    assert "removed" not in capsys.readouterr().out
    assert (out / "resonator_fits.csv").read_text() == "the joint run's"


@pytest.mark.parametrize(("scale", "unit"), [(1e-9, "GHz"), (1e-6, "MHz"), (1e-3, "kHz")])
def test_a_sweep_without_a_unit_names_the_unit_its_numbers_fit(tmp_path, capsys, scale, unit):
    """The CLI turned "frequency_unit=, e.g. 'kHz'" into "--sweep-frequency-unit , e.g. 'kHz'",
    an empty placeholder, and blamed kHz for a file in GHz (session 33): the message names the
    unit that puts the numbers at a microwave resonance, as the option a user types."""
    from manybody.cli import main

    s = synthetic(3)
    db, deg = 20 * np.log10(np.abs(s.s21)), np.degrees(np.angle(s.s21))
    folder = tmp_path / "sweeps"
    folder.mkdir()
    _write_csv(folder / "s21_-20dB_050.0mK.csv", s.frequency * scale, db, deg, "Frequency,S21,Phase")
    assert main(["fit-data", "--sweeps", str(folder), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"--sweep-frequency-unit '{unit}' if the numbers are in {unit}" in err, err
    assert " , " not in err and " ." not in err and "frequency_unit" not in err


def test_fit_data_hints_name_the_options_without_empty_placeholders(tmp_path, capsys):
    """A table without a loss column said "or pass --loss-column . A header is read ..." and
    the power sweep's remedy read "(--no-background, --no-background)" (session 33)."""
    from manybody.cli import main

    table = tmp_path / "t.csv"
    table.write_text("T (mK),whatever\n" + "".join(f"{t},{t * 2}\n" for t in (20, 40, 60, 80)))
    assert main(["fit-data", str(table), "--frequency", "5GHz", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "or pass --loss-column NAME. A header" in err, err
    table.write_text("whatever,Qi\n" + "".join(f"{t},{t * 2}\n" for t in (20, 40, 60, 80)))
    assert main(["fit-data", str(table), "--frequency", "5GHz", "--out", str(tmp_path / "o")]) == 2
    assert "or pass --temperature-column NAME" in capsys.readouterr().err
    nb = sorted((Path(__file__).resolve().parents[1] / "data" / "resonator_nb_cpw")
                .glob("qint_1[24]0dBm.csv")) + [Path(__file__).resolve().parents[1] / "data"
                                                / "resonator_nb_cpw" / "qint_80dBm.csv"]
    assert main(["fit-data", *map(str, nb), "--power-sweep", "--powers=-120,-140,-80",
                 "--frequency", "5.6GHz", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "needs at least 4 powers here; or fit without the background (--no-background)" in err
    assert not (tmp_path / "o").exists()


# -- session 34: the column header's words against the layout (a tester's report) ---------------

def test_an_unwrapped_phase_in_radians_is_read_when_the_header_says_radians(tmp_path):
    """A valid export with a long cable delay: 'Phase (rad)' running to 26 rad was refused under
    db-rad ('beyond 2 pi, degrees?') and flagged under db-deg ('radians?')."""
    s = synthetic(3)
    long_delay = s.s21 * np.exp(-2j * np.pi * s.frequency * 5e-7)
    phase = np.unwrap(np.angle(long_delay))
    assert np.ptp(phase) > 2 * np.pi
    path = _write_csv(tmp_path / "u.csv", s.frequency, 20 * np.log10(np.abs(long_delay)), phase,
                      "Frequency (Hz),S21 (dB),Phase (rad)")
    np.testing.assert_allclose(read_sweep(path, "db-rad").s21, long_delay, rtol=1e-12)
    with pytest.raises(ValueError, match=r"the phase in radians, but layout='db-deg' says "
                                         r"degrees; layout='db-rad'\?"):
        read_sweep(path, "db-deg")
    bare = _write_csv(tmp_path / "b.csv", s.frequency, 20 * np.log10(np.abs(long_delay)), phase,
                      "Frequency (Hz),S21 (dB),Phase")
    with pytest.raises(ValueError, match=r"beyond 2 pi.*'Phase \(rad\)'"):
        read_sweep(bare, "db-rad")  # nothing says radians: it may be degrees


@pytest.mark.parametrize("header, layout, words", [
    ("Frequency (Hz),Phase (deg),S21 (dB)", "db-deg", r"the phase before the magnitude"),
    ("Frequency (Hz),Re S21,Im S21", "db-deg", r"Re and Im S21, but layout='db-deg'.*"
                                               r"layout='real-imag'\?"),
    ("Frequency (Hz),S21 (dB),Phase (deg)", "real-imag", r"a magnitude and a phase, but "
                                                         r"layout='real-imag'"),
    ("Frequency (Hz),|S21|,Phase (deg)", "linear-rad", r"the phase in degrees, but "
                                                       r"layout='linear-rad'.*'linear-deg'"),
])
def test_a_header_that_contradicts_the_layout_is_named(tmp_path, header, layout, words):
    s = synthetic(3)
    path = _write_csv(tmp_path / "h.csv", s.frequency, s.s21.real, s.s21.imag, header)
    with pytest.raises(ValueError, match=words):
        read_sweep(path, layout)


def test_re_and_im_read_as_db_and_degrees_get_the_real_imag_hint(tmp_path):
    """Re and Im with Re changing sign, read with the default db-deg: every sweep was flagged and
    no layout suggested (a tester, session 34)."""
    s = synthetic(3)
    turned = s.s21 * 1j / abs(TRUE["amplitude"]) * 0.5  # Re changes sign, both within +-1
    path = _write_csv(tmp_path / "r.csv", s.frequency, turned.real, turned.imag,
                      "Frequency (Hz),A,B")
    fit = fit_notch(read_sweep(path, "db-deg"))
    assert fit.flag and "Re and Im? (layout='real-imag')" in fit.reason
    assert not fit_notch(read_sweep(path, "real-imag")).flag


@pytest.mark.parametrize("tilt_db", [0.25, 0.5])
def test_a_tilted_baseline_leaves_f0_and_qi_unbiased(tilt_db):
    """|S21|'s baseline tilted by 0.25-0.5 dB across the window (the Al-on-InP sweeps have ~0.5
    dB): the constant-baseline fit put f0 12 of its errors high and Qi 3 high, unflagged (a
    tester, session 34); the default fit, with the baseline's slope, is within its errors over
    8 noise draws, and the constant one is still biased (so the test can fail)."""
    t = TRUE
    ql = 1.0 / (1.0 / t["qi"] + math.cos(t["phi"]) / t["qc_abs"])
    f = t["f0"] + t["f0"] / ql * np.linspace(-10, 10, 801)
    clean = notch_s21(f, t["f0"], ql, t["qc_abs"], t["phi"], t["amplitude"], t["alpha"], t["delay"])
    tilted = clean * 10 ** (tilt_db * (f - f.mean()) / (f[-1] - f[0]) / 20)
    pulls = {"slope": [], "constant": []}
    for seed in range(8):
        rng = np.random.default_rng(seed)
        z = tilted + 2e-3 * t["amplitude"] * (rng.standard_normal(f.size)
                                              + 1j * rng.standard_normal(f.size))
        for background in pulls:
            fit = fit_notch(S21Sweep(f, z, "tilted", "real-imag"), background=background)
            assert not fit.flag, fit.reason
            pulls[background].append(((fit.f0 - t["f0"]) / fit.f0_err,
                                      (fit.qi - t["qi"]) / fit.qi_err))
    slope, constant = np.array(pulls["slope"]), np.array(pulls["constant"])
    assert np.all(np.abs(slope.mean(axis=0)) < 3 / math.sqrt(8)), slope.mean(axis=0)
    assert np.sqrt(np.mean(slope**2)) < 2.0
    assert abs(constant[:, 0].mean()) > 3.0, constant.mean(axis=0)


def test_the_slope_fit_of_a_flat_baseline_finds_no_slope():
    fit = fit_notch(synthetic(4))
    assert abs(fit.slope) < 3 * fit.slope_err and fit.slope_err > 0
    flat = fit_notch(synthetic(4), background="constant")
    assert flat.slope == 0.0 and flat.slope_err == 0.0
    assert abs(fit.f0 - flat.f0) < fit.f0_err and abs(fit.qi - flat.qi) < fit.qi_err
    with pytest.raises(ValueError, match=r"background must be one of 'slope', 'constant'"):
        fit_notch(synthetic(4), background="linear")


def test_a_steep_tilt_does_not_leave_the_fit_in_a_spurious_minimum():
    """A baseline tilted by 3 dB across 10 linewidths: from the library's start (taken on the
    tilted sweep) with slope 0, 8 in 40 fits stopped 2 MHz off, flagged (seed 11 among them; a
    tester, session 34). A second start from the edges' tilt finds the true minimum."""
    from manybody.measured.resonance import edge_slope
    f0, qi, qc, phi = 6e9, 5e4, 3e4, 0.2
    ql = 1 / (1 / qi + 1 / qc)
    ratio = 10 ** (3.0 / 20)
    slope = (ratio - 1) / (ratio + 1) * ql / 5
    f = np.linspace(f0 - 5 * f0 / ql, f0 + 5 * f0 / ql, 401)
    clean = notch_s21(f, f0, ql, qc * np.cos(phi), phi, 0.05, 1.0, 5e-8, slope)
    tilt, centre = edge_slope(f, clean)
    assert tilt == pytest.approx(slope, rel=0.3) and centre == pytest.approx(f0)
    for seed in (11, 0, 1, 2, 3, 4):
        rng = np.random.default_rng(seed)
        z = clean + 1.5e-4 * (rng.normal(size=f.size) + 1j * rng.normal(size=f.size))
        fit = fit_notch(S21Sweep(f, z, f"tilt seed {seed}", "real-imag"))
        assert not fit.flag, (seed, fit.reason)
        assert abs(fit.f0 - f0) < 4 * fit.f0_err and abs(fit.qi / qi - 1) < 4 * fit.qi_err / qi
        assert fit.slope == pytest.approx(slope, abs=4 * fit.slope_err)


@pytest.mark.parametrize("header", ["freq[Hz];Trc1_S21[dB];Trc2_S21[rad]",
                                    "Freq (Hz), S21_dB, S21_Phase_rad"])
def test_glued_instrument_names_do_not_hide_the_header(tmp_path, header):
    """'Trc2_S21' and 'S21_Phase_rad' read as values (the 1 of S21 behind an underscore), so the
    line was taken for metadata and 'rad' was not seen: an unwrapped phase was refused (a
    tester, session 34)."""
    s = synthetic(3)
    long_delay = s.s21 * np.exp(-2j * np.pi * s.frequency * 5e-7)
    phase = np.unwrap(np.angle(long_delay))
    separator = ";" if ";" in header else ","
    decimal = "," if separator == ";" else "."
    rows = zip(s.frequency, 20 * np.log10(np.abs(long_delay)), phase, strict=True)
    lines = [header] + [separator.join(repr(float(x)).replace(".", decimal) for x in row)
                        for row in rows]
    path = tmp_path / "g.csv"
    path.write_text("\n".join(lines) + "\n")
    np.testing.assert_allclose(read_sweep(path, "db-rad").s21, long_delay, rtol=1e-12)


@pytest.mark.parametrize("metadata, scale", [("# Frequency (MHz) 2-port S21", 1e6),
                                              ("# Frequency (GHz) 1 port", 1e9)])
def test_a_number_after_the_unit_without_a_colon_is_not_a_value(tmp_path, metadata, scale):
    """Only ':' or '=' before the number makes a line state its value's unit: '# Frequency (MHz)
    2-port S21' lost its unit (a tester, session 34)."""
    s = synthetic(3)
    db, deg = 20 * np.log10(np.abs(s.s21)), np.degrees(np.angle(s.s21))
    path = _write_csv(tmp_path / "m.csv", s.frequency / scale, db, deg,
                      metadata + "\nFreq,S21 (dB),Phase (deg)")
    np.testing.assert_allclose(read_sweep(path).frequency, s.frequency, rtol=1e-12)


@pytest.mark.parametrize("header, words", [
    ("Freq (Hz),Im(S21),Re(S21)", r"Im before Re"),
    ("Freq (Hz),LogMag,Deg", r"a magnitude and a phase, but layout='real-imag'"),
])
def test_real_imag_headers_are_checked_too(tmp_path, header, words):
    s = synthetic(3)
    path = _write_csv(tmp_path / "r.csv", s.frequency, s.s21.imag, s.s21.real, header)
    with pytest.raises(ValueError, match=words):
        read_sweep(path, "real-imag")


@pytest.mark.parametrize("header", ["Frequency (Hz),In-phase (V),Quadrature (V)",
                                    "Frequency (Hz),I (in-phase),Q (quadrature)",
                                    "Frequency (Hz),I amplitude (V),Q amplitude (V)"])
def test_iq_headers_are_re_and_im(tmp_path, header):
    """'In-phase' matched 'phase' and 'amplitude' a magnitude: IQ exports were refused under
    real-imag, and the hints led to linear-rad, which fitted Qi 28 % low (a tester, session 34)."""
    s = synthetic(3)
    path = _write_csv(tmp_path / "iq.csv", s.frequency, s.s21.real, s.s21.imag, header)
    np.testing.assert_allclose(read_sweep(path, "real-imag").s21, s.s21, rtol=1e-12)


def test_a_sweep_without_a_power_among_sweeps_with_one_is_refused(tmp_path, capsys):
    """One empty power_dBm cell in a sweep index (or a name the pattern read without its power)
    dropped every sweep's power: sweeps at -20 and -60 dBm became one loss curve without a word,
    while the shift made the powerless sweep a curve of its own (a tester, session 37). Refused
    before any fit, naming the sweep; the library's loss table and shift curves refuse it too."""
    from manybody.cli import main
    from manybody.measured.resonance import _failed
    from manybody.measured.resonator_table import SweepResult, loss_table, shift_curves

    folder = tmp_path / "sw"
    folder.mkdir()
    for i in range(3):
        s = synthetic(20 + i, n=301)
        _write_csv(folder / f"run_{i}.csv", s.frequency, *_db_deg(s))
    index = tmp_path / "index.csv"
    index.write_text("file,temperature_K,power_dBm\nrun_0.csv,0.03,-20\nrun_1.csv,0.05,-60\n"
                     "run_2.csv,0.07,\n")
    assert main(["fit-data", "--sweeps", str(folder), "--sweep-index", str(index), "--out",
                 str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "1 sweep(s) have no drive power (run_2.csv) while the others have -60, -20 dBm" in err
    assert not (tmp_path / "o").exists()
    fit = _failed("x", "")
    fit = type(fit)(**{**fit.to_dict(), "f0": 7e9, "f0_err": 1e3, "flag": False, "qi": 1e5,
                       "qi_err": 1e3, "qc": 4e4, "qc_err": 30.0})
    results = [SweepResult("a.csv", 0.03, -20.0, fit), SweepResult("b.csv", 0.05, None, fit)]
    with pytest.raises(ValueError, match=r"no drive power \(b.csv\)"):
        loss_table(results, "t.csv")
    with pytest.raises(ValueError, match=r"no drive power \(b.csv\)"):
        shift_curves(results)


def test_a_refused_sweep_run_points_at_the_reasons_it_printed(tmp_path, capsys):
    """A refused run said 'reasons in resonator_fits.csv', a file a refused run does not write
    (with --overwrite an earlier run's stale file stood there; a tester, session 37): the reasons
    are the flag column printed above."""
    from manybody.cli import main

    folder = _sweep_folder(tmp_path / "sw", temperatures_mk=FOUR_SWEEPS)
    assert main(["fit-data", "--sweeps", str(folder), "--sweep-layout", "real-imag", "--out",
                 str(tmp_path / "o")]) == 2
    captured = capsys.readouterr()
    assert "reasons in the flag column above" in captured.err
    assert "resonator_fits.csv" not in captured.err and not (tmp_path / "o").exists()


def test_a_stated_unit_that_puts_the_sweep_below_100_mhz_is_warned_about(tmp_path):
    """'Frequency (MHz)' over values in GHz read as a 7.7 MHz resonator without a word (a helper,
    session 36; 1 MHz is the lower limit): read, with a warning naming the header and the unit
    that fits; a given unit gets the same warning; a sweep at 7.7 GHz gets none."""
    import warnings

    s = synthetic(3)
    db, deg = 20 * np.log10(np.abs(s.s21)), np.degrees(np.angle(s.s21))
    path = _write_csv(tmp_path / "m.csv", s.frequency / 1e9, db, deg, "Frequency (MHz),S21,Phase")
    with pytest.warns(UserWarning, match=r"m\.csv: the sweep reads as [45]\.\d+ to 5\.\d+ MHz \(MHz "
                                         r"as the header states.*in GHz, correct the header"):
        sweep = read_sweep(path)
    assert sweep.frequency[0] == pytest.approx(s.frequency[0] / 1e3)
    bare = _write_csv(tmp_path / "b.csv", s.frequency / 1e9, db, deg, "Frequency,S21,Phase")
    with pytest.warns(UserWarning, match=r"MHz as given\).*in GHz, correct the unit"):
        read_sweep(bare, frequency_unit="MHz")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_sweep(_write_csv(tmp_path / "g.csv", s.frequency / 1e9, db, deg,
                              "Frequency (GHz),S21,Phase"))
        # a contrary frequency_unit is refused without the warning before it
        with pytest.raises(ValueError, match="the header gives the frequency in MHz"):
            read_sweep(path, frequency_unit="GHz")
