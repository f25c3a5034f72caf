"""Session 59 (a tester, bt200): fit-data's messages. The order hint of --powers named
qint_100dBm and qint_80dBm whatever files were given; the --tmin/--tmax "in K" hint followed a
value written with its unit; a name's power that the column contradicts was not noted in a fit
that does not use the powers; a curve split by a jittering power column and emptied by the
window lost the --power-column none hint; two multi-power files refused as one measurement did
not name the shared curve."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from loss_tables import saturating_loss_table

from manybody.cli.x_range import Kelvin, note_window_unused


def _main(argv) -> int:
    from manybody.cli import main

    return main(["fit-data", *argv])


def _loss_table(path: Path, powers=(-80.0,), column=None, header="Power (dBm)") -> Path:
    return saturating_loss_table(path, powers, column, header)


# ------------------------------------------------------------------------------- F4 addendum
def test_the_order_hint_names_the_users_own_files(tmp_path, capsys):
    a = _loss_table(tmp_path / "qi_100dBm.csv", powers=(-100.0,))
    b = _loss_table(tmp_path / "qi_80dBm.csv", powers=(-80.0,))
    argv = ["--frequency", "5.61989GHz", "--powers=-80,-100", "--out", str(tmp_path / "o")]
    assert _main([str(a), str(b), *argv]) == 2  # text order, as a glob gives: the hint fits
    err = capsys.readouterr().err
    assert "(a shell glob sorts them as text: qi_100dBm.csv before qi_80dBm.csv)" in err, err
    assert _main([str(b), str(a), "--frequency", "5.61989GHz", "--powers=-100,-80", "--out",
                  str(tmp_path / "p")]) == 2  # not in text order: no glob to blame
    err = capsys.readouterr().err
    assert "follow the files in the order given on the command line; give" in err, err
    assert "shell glob" not in err and "qint_" not in err, err


# ------------------------------------------------------------------------------- bt200 item 3
@pytest.mark.parametrize("text, hinted", [("20", True), ("20K", False), ("0.5mK", False)])
def test_the_in_kelvin_hint_follows_only_a_bare_number(tmp_path, capsys, text, hinted):
    from manybody.cli.fit_data import temperature_argument

    value = temperature_argument(text)
    assert isinstance(value, Kelvin) and value.unit_given is not hinted
    tmin, tmax = (value, None) if text.endswith("mK") else (None, value)
    note_window_unused([0.1, 0.5, 1.7], tmin, tmax)
    err = capsys.readouterr().err
    assert "excludes no point and changes nothing" in err, err
    assert ("--tmin/--tmax are in K" in err) is hinted, err


def test_a_tmax_with_its_unit_gets_no_in_kelvin_hint_from_the_cli(tmp_path, capsys):
    table = _loss_table(tmp_path / "t.csv")
    assert _main([str(table), "--frequency", "5.61989GHz", "--tmax", "1K", "--out",
                  str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "--tmax 1 K is at or above" in err and "are in K" not in err, err


def test_a_far_tmax_written_with_its_unit_is_taken_a_bare_one_asked_about(tmp_path, capsys):
    """Data from 20 to 600 mK: --tmax 20 may be 20 mK (refused, asked); --tmax 20K is what the
    user wrote (it was refused the same way; helper-201 left it)."""
    table = _loss_table(tmp_path / "t.csv")
    assert _main([str(table), "--frequency", "5.61989GHz", "--tmax", "20", "--out",
                  str(tmp_path / "o")]) == 2
    assert "a temperature in mK?" in capsys.readouterr().err
    assert _main([str(table), "--frequency", "5.61989GHz", "--tmax", "20K", "--out",
                  str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "--tmax 20 K is at or above" in err and "in mK?" not in err, err


# ------------------------------------------------------------------------------- bt200 item 1
def test_two_multi_power_files_sharing_a_curve_name_it(tmp_path, capsys):
    a = _loss_table(tmp_path / "m3a.csv", powers=(-80.0, -100.0, -120.0))
    b = _loss_table(tmp_path / "m3b.csv", powers=(-120.0, -140.0))
    assert _main([str(a), str(b), "--frequency", "5.61989GHz", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert (f"input files {str(a)!r} (its -120 dBm curve) and {str(b)!r} (its -120 dBm curve) "
            "hold the same temperatures and losses") in err, err


# ------------------------------------------------------------------------------------ bt200 F9
def test_a_curve_split_off_by_the_power_column_and_emptied_by_the_window_gets_the_hint(
        tmp_path, capsys):
    cells = [f"{-80 - 0.1 * (k % 3):g}" for k in range(11)] + ["-75"]  # jitter, one stray row
    table = _loss_table(tmp_path / "t.csv", column=cells)
    argv = [str(table), "--frequency", "5.61989GHz", "--out", str(tmp_path / "o")]
    assert _main([*argv, "--tmax", "0.55"]) == 2
    err = capsys.readouterr().err
    assert "no points of 't -75 dBm' in the window" in err, err
    assert err.rstrip().endswith("(fit-data --power-column none reads none)"), err
    single = _loss_table(tmp_path / "u.csv")  # a curve of its own file: no split to blame
    assert _main([str(single), "--frequency", "5.61989GHz", "--tmin", "0.7", "--out",
                  str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "no points of" in err and "--power-column none" not in err, err


@pytest.mark.parametrize("mode", ["--power-sweep", "--shift"])
def test_the_split_hint_is_given_by_the_power_sweep_and_the_joint_fit_too(tmp_path, capsys, mode):
    cells = [f"{-80 - 0.1 * (k % 3):g}" for k in range(11)] + ["-75"]
    table = _loss_table(tmp_path / "t.csv", column=cells)
    other = _loss_table(tmp_path / "u.csv", powers=(-100.0,))
    shift = tmp_path / "s.csv"
    shift.write_text("T (K),df/f\n" + "".join(f"{t:.6g},{1e-5 * np.log(t):.6g}\n"
                                              for t in np.linspace(0.02, 0.6, 12)))
    option = [mode] if mode == "--power-sweep" else [mode, str(shift)]
    assert _main([str(table), str(other), "--frequency", "5.61989GHz", "--tmax", "0.55", *option,
                  "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no points of 't -75 dBm' in the window" in err, err
    assert err.rstrip().endswith("(fit-data --power-column none reads none)"), err
