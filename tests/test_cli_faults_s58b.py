"""Session 58 (a tester, bt197, F1-F3, F7-F10): fit-data's verdict on a loss rising with
temperature ("no temperature dependence detectable" for a 10x rise), window options that change
nothing, argparse's usage block before a one-line error, the joint --shift table without the loss
background, joint "need more points" errors naming no table, "value ± error" cells and --velocity
windows cut by the data's ends."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "resonator_nb_cpw"
FREQ = ["--frequency", "5.61989GHz"]


def _main(argv) -> int:
    from manybody.cli import main

    return main(["fit-data", *argv])


def _nb(tmp_path: Path, name: str = "qint_100dBm.csv") -> str:
    return str(shutil.copy(DATA / name, tmp_path / name))


def _rising(path: Path) -> Path:
    """Qi(T) of the shipped Nb table over 0.1-1.7 K: flat, then falling 10x (quasiparticles)."""
    qi = [9.19e6, 9.53e6, 1.03e7, 1.04e7, 1.07e7, 1.08e7, 1.07e7, 1.06e7, 1.05e7, 9.97e6, 9.0e6,
          5257928, 4262427, 3251229, 2234339, 1460122, 948314]
    path.write_text("T (mK),Qi\n" + "".join(f"{100 * (i + 1)},{q:.8g}\n" for i, q in enumerate(qi)))
    return path


# ------------------------------------------------------------------ F1 verdict on a rising loss

def test_a_loss_rising_with_temperature_is_neither_law_with_a_hint(tmp_path, capsys):
    assert _main([str(_rising(tmp_path / "r.csv")), *FREQ, "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    verdict = next(line for line in out.splitlines() if "verdict:" in line)
    assert "verdict: neither law" in verdict, verdict
    assert "no temperature dependence detectable" not in out, out
    assert "loss rising with temperature" in verdict
    assert "hint: a loss rising with temperature" in out and "--tmax" in out
    assert "--quasiparticle" in out
    assert "hint:" in (tmp_path / "o" / "fit_table.txt").read_text()


def test_compare_laws_on_a_synthetic_rising_loss_says_neither_law():
    from manybody.laws.inputs import LossCurve
    from manybody.measured.comparison import compare_laws

    t = np.linspace(0.1, 1.7, 17)
    rng = np.random.default_rng(3)
    loss = (1e-7 + 1e-6 * np.exp(-1.5 / t) / np.exp(-1.5 / 1.7)) * (1 + 0.02 * rng.normal(size=17))
    cmp = compare_laws([LossCurve(t, loss, label="r")], "5.61989GHz")
    assert cmp.verdict == "neither law", (cmp.verdict, cmp.reason)
    assert "no temperature dependence detectable" not in cmp.reason
    assert "rising with temperature" in cmp.reason


def test_a_flat_noisy_loss_stays_undecided():
    from manybody.laws.inputs import LossCurve
    from manybody.measured.comparison import compare_laws

    t = np.linspace(0.1, 0.8, 12)
    loss = 1e-7 * (1 + 0.05 * np.random.default_rng(1).normal(size=12))
    cmp = compare_laws([LossCurve(t, loss, label="f")], "5.61989GHz")
    assert "rises with temperature" not in cmp.reason and "Kendall" not in cmp.reason


def test_rising_loss_needs_a_measurable_rise():
    from manybody.laws.fit import rising_loss
    from manybody.laws.inputs import LossCurve

    t = np.linspace(0.1, 1.0, 10)
    assert rising_loss([LossCurve(t, 1e-7 * (1 + t), label="a")]) is not None
    assert rising_loss([LossCurve(t, 1e-7 * (2 - t), label="a")]) is None
    assert rising_loss([LossCurve(t[:3], 1e-7 * (1 + t[:3]), label="a")]) is None


# ------------------------------------------------------------------ F2 a window that cuts nothing

@pytest.mark.parametrize(("window", "noted"), [
    (["--tmax", "8"], "--tmax 8 K"), (["--tmax", "0.8", "--tmin", "0.05"], "--tmin 0.05 K"),
    (["--tmin", "0.1"], "--tmin 0.1 K")])
def test_a_window_edge_that_excludes_nothing_is_noted(tmp_path, capsys, window, noted):
    assert _main([_nb(tmp_path), *FREQ, *window, "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert f"note: {noted} is at or" in err and "excludes no point" in err, err
    assert err.count("excludes no point") == 1, err


def test_a_window_edge_that_cuts_is_not_noted(tmp_path, capsys):
    assert _main([_nb(tmp_path), *FREQ, "--tmax", "0.8", "--out", str(tmp_path / "o")]) == 0
    assert "excludes no point" not in capsys.readouterr().err


def test_velocity_and_shift_note_a_window_edge_that_excludes_nothing(tmp_path, capsys):
    shift = _nb(tmp_path, "freq_shift.csv")
    assert _main(["--velocity", shift, "--margin", "1.5", "--tmax", "5",
                  "--out", str(tmp_path / "v")]) == 0
    assert "note: --tmax 5 K is at or above" in capsys.readouterr().err
    loss = _nb(tmp_path, "qint_160dBm.csv")
    assert _main([loss, "--shift", shift, *FREQ, "--tmax", "1.0", "--tmin", "0.01",
                  "--out", str(tmp_path / "j")]) == 0
    err = capsys.readouterr().err
    assert "note: --tmin 0.01 K is at or below" in err and "--tmax 1 K" not in err, err


def test_power_sweep_notes_a_window_edge_that_excludes_nothing(tmp_path, capsys):
    files = [_nb(tmp_path, f"qint_{p}dBm.csv") for p in (80, 100, 120)]
    _main([*files, "--power-sweep", "--tmax", "3", "--out", str(tmp_path / "p")])
    assert "note: --tmax 3 K is at or above" in capsys.readouterr().err


# ------------------------------------------------------------------ F3 one-line option errors

@pytest.mark.parametrize("argv", [
    ["fit-data", "x.csv", "--frequency", "5GHz", "--tmax", "0,8"],
    ["fit-data", "x.csv", "--frequency", "5GHz", "--tmin", "0"],
    ["run", "spec.toml", "--bogus"], ["info"], ["study", "--only", "dipoler"]])
def test_option_errors_are_one_line_and_a_help_pointer(capsys, argv):
    from manybody.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert "usage:" not in err and ": error: " in lines[1]
    assert lines[0] == f"manybody {argv[0]}: see 'manybody {argv[0]} --help' for the options"


# ------------------------------------------------------------------ F7 the joint table's background

def test_the_joint_table_shows_the_loss_background(tmp_path, capsys):
    loss, shift = _nb(tmp_path, "qint_160dBm.csv"), _nb(tmp_path, "freq_shift.csv")
    assert _main([loss, "--shift", shift, *FREQ, "--tmax", "1.0", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    table = (tmp_path / "o" / "loss_shift_table.txt").read_text()
    for text in (out, table):
        loss_rows = text.split("[loss]")[1].split("[shift]")[0]
        joint_rows = text.split("[joint]")[1]
        assert loss_rows.count("background = ") == 3, loss_rows
        assert joint_rows.count("background = ") == 3, joint_rows
        assert "background: the loss's constant" in text


# ------------------------------------------------------------------ F8 joint "need more points"

def test_joint_too_few_points_name_the_table_and_window(tmp_path, capsys):
    loss = _nb(tmp_path, "qint_160dBm.csv")
    shift = tmp_path / "sh3.csv"
    shift.write_text("T (mK),df/f\n100,0\n700,1e-6\n1300,5e-7\n")
    assert _main([loss, "--shift", str(shift), *FREQ, "--tmax", "1.0",
                  "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "need more points than parameters" in err
    assert "the shift-only fit of 'sh3' (window T <= 1 K)" in err
    assert f"from the shift table --shift {shift}" in err
    assert _main([loss, "--shift", str(shift), *FREQ, "--tmin", "0.9", "--tmax", "1.0",
                  "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "the loss-only fit of 'qint_160dBm' (window 0.9 K <= T <= 1 K)" in err, err
    assert f"from the loss table(s) {loss}" in err


# ------------------------------------------------------------------ F9 'value ± error' cells

@pytest.mark.parametrize(("text", "where"), [
    ("T (mK),Qi ± err\n100,9.19e+06 ± 459500\n200,9.53e+06 ± 476500\n300,1.03e+07 ± 5e5\n",
     "column 'Qi ± err', line 2"),
    ("T (mK),P (dBm),Qi\n100,-100,9.19e+06 +/- 459500\n200,-100,9.53e+06\n300,-100,1.03e+07\n"
     "400,-100,1.04e7\n", "column 'Qi', data row 1")])
def test_a_value_with_its_error_in_one_cell_is_named(tmp_path, capsys, text, where):
    path = tmp_path / "pm.csv"
    path.write_text(text, encoding="utf-8")
    assert _main([str(path), *FREQ, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert where in err and "holds a value and its error in one cell" in err, err
    assert "'Qi' and 'Qi_err'" in err and "no numeric rows found" not in err
    assert len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------ F10 --velocity windows

def test_velocity_decades_cut_by_the_data_are_noted(tmp_path, capsys):
    shift = _nb(tmp_path, "freq_shift.csv")
    assert _main(["--velocity", shift, "--margin", "1.5", "--decades", "3",
                  "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "note: --decades 3 changes nothing" in err and "same points as --decades 1" in err
    assert _main(["--velocity", shift, "--margin", "1.5", "--out", str(tmp_path / "b")]) == 0
    err = capsys.readouterr().err
    assert "changes nothing" not in err
    assert "window above T_max holds points over 0.12 decade(s) of the 1 requested" in err, err
    assert "the data end at 1.7 K" in err
