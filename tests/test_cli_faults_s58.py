"""Session 58 (a tester, bt193, F13-F14): fit-data's --power-column none and --powers, which
replace a file's power column: a column holding several drive powers merged into one curve with
only a warning that blamed "two resonators"; a column not read was still warned about; a given
power that the column contradicts was taken without a word."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from loss_tables import saturating_loss_table


def _main(argv) -> int:
    from manybody.cli import main

    return main(["fit-data", *argv])


def _loss_table(path: Path, powers=(-80.0,), column=None) -> Path:
    return saturating_loss_table(path, powers, column)


@pytest.mark.parametrize("option", [["--power-column", "none"], ["--powers=-80"],
                                    ["--power-column", "NONE"]])
def test_replacing_a_column_of_several_drive_powers_is_refused_before_any_warning(
        tmp_path, capsys, option):
    multi = _loss_table(tmp_path / "multi.csv", powers=(-120.0, -100.0, -80.0))
    assert _main([str(multi), "--frequency", "5.61989GHz", *option, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "the power column 'Power (dBm)' of" in err and "holds 3 drive powers (-120, -100, -80 dBm)" in err
    assert "would be merged into one" in err
    assert "two resonators" not in err and "warning" not in err  # the refusal, not the symptom
    assert not (tmp_path / "o").exists()
    # the column read: one curve per power
    assert _main([str(multi), "--frequency", "5.61989GHz", "--out", str(tmp_path / "p")]) == 0
    assert "36 points in 3 curve(s)" in capsys.readouterr().out


def test_a_power_per_row_without_a_temperature_twice_can_still_be_ignored(tmp_path, capsys):
    """A photon number computed per row (no temperature at two powers) is what --power-column
    none is for (test_input_faults_s50); --powers takes such a file as one curve too."""
    cells = [f"{-80 + 0.6 * k:g}" for k in range(12)]  # 0.6 dB apart: 12 "drives" as read
    table = _loss_table(tmp_path / "t.csv", column=cells)
    for option in (["--power-column", "none"], ["--powers=-80"]):
        assert _main([str(table), "--frequency", "5.61989GHz", *option, "--out",
                      str(tmp_path / option[-1].strip("-="))]) == 0
        captured = capsys.readouterr()
        assert "12 points in 1 curve(s)" in captured.out
        assert "would be merged" not in captured.err


def test_powers_do_not_warn_about_the_column_they_replace(tmp_path, capsys):
    cells = ["-80.2" if k % 2 else "-80" for k in range(12)]  # a VNA's power, read per row
    table = _loss_table(tmp_path / "jitter.csv", column=cells)
    assert _main([str(table), "--frequency", "5.61989GHz", "--out", str(tmp_path / "a")]) == 0
    assert "varies from row to row within a drive" in capsys.readouterr().err  # read: warned
    assert _main([str(table), "--frequency", "5.61989GHz", "--powers=-80", "--out",
                  str(tmp_path / "b")]) == 0
    err = capsys.readouterr().err
    assert "varies from row to row" not in err and "power column" not in err  # agrees: silent


def test_powers_that_a_file_column_contradicts_are_noted_and_taken(tmp_path, capsys):
    a = _loss_table(tmp_path / "a.csv", powers=(-80.0,))
    b = _loss_table(tmp_path / "b.csv", powers=(-100.0,))
    out = tmp_path / "o"
    assert _main([str(a), str(b), "--frequency", "5.61989GHz", "--powers=-90,-100", "--saturation",
                  "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "--powers gives -90 dBm to" in err and "'Power (dBm)' says -80 dBm: --powers is taken" in err
    assert "-100 dBm to" not in err  # b's column agrees
    record = json.loads((out / "fit_results.json").read_text())
    assert [c["power"] for c in record["data"]] == [-90.0, -100.0]  # the given powers are fitted
    assert [i["power_column"] for i in record["inputs"]] == [None, None]  # the columns not read


def test_two_files_of_one_shape_at_two_given_powers_are_two_measurements(tmp_path, capsys):
    """The given powers are the tables' powers: the same losses at -80 and -90 dBm are not one
    measurement given twice (they were compared with the powers of the columns, now not read)."""
    a = _loss_table(tmp_path / "a.csv", powers=(-80.0,))
    b = tmp_path / "b.csv"
    b.write_text(a.read_text())
    argv = [str(a), str(b), "--frequency", "5.61989GHz", "--out", str(tmp_path / "o")]
    assert _main([*argv, "--powers=-80,-90"]) == 0
    assert "24 points in 2 curve(s)" in capsys.readouterr().out
    assert _main([*argv, "--powers=-80,-80", "--overwrite"]) == 2
    assert "hold the same temperatures and losses" in capsys.readouterr().err


def test_powers_in_another_order_than_the_columns_are_refused_and_one_offset_is_noted(
        tmp_path, capsys):
    """The columns' powers swapped between two files (a shell glob's order) fitted a critical
    power of -0.012 +- 2.4e11 dBm and turned the verdict without a word (a tester, bt197)."""
    a = _loss_table(tmp_path / "a.csv", powers=(-80.0,))
    b = _loss_table(tmp_path / "b.csv", powers=(-100.0,))
    argv = [str(a), str(b), "--frequency", "5.61989GHz", "--saturation"]
    assert _main([*argv, "--powers=-100,-80", "--out", str(tmp_path / "swapped")]) == 2
    err = capsys.readouterr().err
    assert "--powers gives -100 dBm to" in err and "'Power (dBm)' says -80 dBm" in err
    assert "follow the files in the order given" in err
    assert not (tmp_path / "swapped").exists()
    assert _main([*argv, "--powers=-90,-110", "--out", str(tmp_path / "offset")]) == 0
    err = capsys.readouterr().err
    assert "--powers are the powers in the files' power columns -10 dB in every file" in err
    assert err.count("note:") == 1


def _rows(path: Path) -> list[str]:
    return path.read_text().splitlines()


@pytest.mark.parametrize("variant", ["rounded", "one_row_more", "no_power_column", "inverse_q",
                                     "rows_outside_the_window_rounded"])
def test_a_copy_of_one_measurement_is_refused_whatever_its_rounding_rows_or_columns(
        tmp_path, capsys, variant):
    """A copy rounded to fewer digits, with one row more, without its power column or written
    as 1/Q was fitted as a second measurement: every error sqrt(2) too small (a tester, bt197)."""
    a = _loss_table(tmp_path / "a.csv")
    header, *rows = _rows(a)
    cells = [r.split(",") for r in rows]
    b = tmp_path / "b.csv"
    if variant == "rounded":
        b.write_text("T (mK),Power (dBm),Qi\n" + "".join(f"{t},{p},{float(q):.5g}\n" for t, p, q in cells))
    elif variant == "one_row_more":
        b.write_text(a.read_text() + "1800,-80,9e5\n")
    elif variant == "no_power_column":
        b.write_text("T (mK),Qi\n" + "".join(f"{t},{q}\n" for t, _, q in cells))
    elif variant == "inverse_q":
        b.write_text("T (mK),1/Qi\n" + "".join(f"{t},{1 / float(q):.7g}\n" for t, _, q in cells))
    else:  # the 6 rows from 0.3 K rounded to 2 digits (more than 1e-3): the 6 below agree
        b.write_text(header + "\n" + "".join(
            f"{t},{p},{float(q) if float(t) < 300 else float(f'{float(q):.2g}'):.8g}\n"
            for t, p, q in cells))
    assert _main([str(a), str(b), "--frequency", "5.61989GHz", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "hold the same temperatures and losses" in err and "count twice" in err
    assert not (tmp_path / "o").exists()


def test_two_measurements_that_scatter_by_a_percent_are_not_one(tmp_path, capsys):
    a = _loss_table(tmp_path / "a.csv")
    header, *rows = _rows(a)
    rng = np.random.default_rng(58)
    b = tmp_path / "b.csv"
    b.write_text(header + "\n" + "".join(
        f"{t},{p},{float(q) * (1 + 0.01 * rng.standard_normal()):.8g}\n"
        for t, p, q in (r.split(",") for r in rows)))
    assert _main([str(a), str(b), "--frequency", "5.61989GHz", "--power-column", "none",
                  "--out", str(tmp_path / "o")]) == 0
    assert "24 points in 2 curve(s)" in capsys.readouterr().out


def test_two_measurements_written_with_two_digits_are_warned_about_not_refused(tmp_path, capsys):
    """At 2 significant digits the rounding step (1-10 %) exceeds the 0.1 % of the check: two
    measurements with 0.5 % noise shared 15 of 17 written values (here 2 % noise) and were refused (a tester,
    bt200). They are warned about; an exact copy is still refused."""
    t = np.arange(100, 1800, 100)
    rng = np.random.default_rng(200)
    files = []
    for name in ("a", "b"):
        q = 1 / (2e-8 * np.tanh(269.7 / (2 * t)) + 9e-8) * (1 + 0.02 * rng.standard_normal(t.size))
        path = tmp_path / f"{name}.csv"
        path.write_text("T (mK),Qi\n" + "".join(f"{a},{b:.2g}\n" for a, b in zip(t, q, strict=True)))
        files.append(str(path))
    assert Path(files[0]).read_text() != Path(files[1]).read_text()
    assert _main([*files, "--frequency", "5.61989GHz", "--out", str(tmp_path / "o")]) == 0
    captured = capsys.readouterr()
    assert "within the rounding of their losses as written" in captured.err
    assert "34 points in 2 curve(s)" in captured.out
    copy = tmp_path / "copy.csv"
    copy.write_text(Path(files[0]).read_text().replace(",", ";"))
    assert _main([files[0], str(copy), "--frequency", "5.61989GHz", "--out", str(tmp_path / "p")]) == 2
    assert "hold the same temperatures and losses" in capsys.readouterr().err


def test_saturation_refuses_powers_in_dbm_beside_photon_numbers(tmp_path, capsys):
    """A dBm file and a photon-number file shared one critical power axis: Pc = +101 'dBm'
    +- 1e11 without a word (a tester, bt200); the power sweep refused the mix already."""
    a = _loss_table(tmp_path / "a.csv", powers=(-80.0,))
    photons = tmp_path / "photons.csv"
    photons.write_text(a.read_text().replace("Power (dBm)", "photons").replace(",-80,", ",1.35,"))
    assert _main([str(a), str(photons), "--frequency", "5.61989GHz", "--saturation", "--out",
                  str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "different units (dB(photons): 'photons'; dBm: 'a')" in err
    import manybody as mb
    from manybody.measured.tables import curves_from_table, read_loss_table

    curves = [c for p in (a, photons) for c in curves_from_table(read_loss_table(p))]
    with pytest.raises(ValueError, match=r"saturation=True puts the drive powers on one axis"):
        mb.compare_laws(curves, "5.61989GHz", saturation=True)


def test_a_column_power_handed_to_a_file_without_a_column_is_a_swap(tmp_path, capsys):
    a = _loss_table(tmp_path / "a.csv", powers=(-80.0,))
    header, *rows = a.read_text().splitlines()
    c = tmp_path / "c.csv"
    c.write_text("T (mK),Qi\n" + "".join(f"{r.split(',')[0]},{r.split(',')[2]}\n" for r in rows))
    argv = [str(a), str(c), "--frequency", "5.61989GHz", "--out", str(tmp_path / "o")]
    assert _main([*argv, "--powers=-120,-80"]) == 2
    assert "says -80 dBm, and -80 dBm to another file" in capsys.readouterr().err


def test_a_power_other_than_the_name_is_noted_unless_it_is_another_files(tmp_path, capsys):
    """--powers=-85,-100 for qint_80dBm, qint_100dBm was refused with the order blamed (a
    tester, bt200): a power no other file's name says is noted; -100,-80 stays refused."""
    a = _loss_table(tmp_path / "qi_80dBm.csv", powers=(-80.0,))
    b = _loss_table(tmp_path / "qi_100dBm.csv", powers=(-100.0,))
    argv = [str(a), str(b), "--frequency", "5.61989GHz"]
    assert _main([*argv, "--powers=-85,-100", "--out", str(tmp_path / "o")]) == 0
    assert "--powers gives -85 dBm to" in capsys.readouterr().err
    assert _main([*argv, "--powers=-100,-80", "--out", str(tmp_path / "p")]) == 2
    assert "and that power to another file" in capsys.readouterr().err


def test_a_copy_rounded_to_three_digits_is_warned_about(tmp_path, capsys):
    """A copy of a full-precision table with its losses rounded to 3 digits (steps up to 1 %,
    above the 0.1 % of the check) and T to 1 mK passed without a word (a tester, bt200): it
    agrees within its rounding, which two measurements may do by chance, so it is warned about."""
    a = _loss_table(tmp_path / "a.csv")
    rows = [r.split(",") for r in a.read_text().splitlines()[1:]]
    b = tmp_path / "b.csv"
    b.write_text("T (mK),Qi\n" + "".join(f"{float(t):.0f},{float(q):.3g}\n" for t, _, q in rows))
    assert _main([str(a), str(b), "--frequency", "5.61989GHz", "--out", str(tmp_path / "o")]) == 0
    assert "agree at 12 of their 12 and 12 points within the rounding" in capsys.readouterr().err
