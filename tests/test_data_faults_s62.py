"""Break test bt219 of ``manybody fit-data`` on experimentalists' files (fixed by helper-221).

F2: thermometer headers ('Mixing chamber temperature [mK]', 'Fridge T (mK)', 'MC RuOx (mK)')
    were "cannot tell which column is the temperature";
F4: an error of the loss beside a Qi column (1e-12 of Q) only warned and fitted to chi2/dof 2e20
    and "neither law"; the table printed AIC as '3752981457059351887872.00';
F5: a lab note (``notes.txt``) or a small ``fit_params.csv`` in a ``--sweeps`` folder stopped the
    run with "does not match the name pattern ... give the pattern";
F6: a header's scale that does not match the values ('1/Qi (ppm)' over plain losses, 'Qi (1e6)'
    over plain Q) warned naming half the rows ("correct or remove it") and fitted amplitudes 1e6
    off; 'dv/v (ppm)' over plain fractions gave no warning;
F7: the tool's own ``resonator_fits.csv`` fed back as a loss table was fitted with its flagged
    sweeps.
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from test_sweeps_joint import write_tls_sweeps

from manybody.cli import fit_outputs, main
from manybody.measured import resonator_table
from manybody.measured.headers import is_temperature
from manybody.measured.resonator_table import fit_sweeps, sweep_files
from manybody.measured.tables import read_loss_table
from manybody.measured.velocity import read_velocity_table

W = 0.2399619  # 5 GHz in K
TEMPS = np.geomspace(0.02, 1.0, 20)


def _loss(t=TEMPS, f_delta=1e-5, background=2e-6):
    return f_delta * np.tanh(W / t / 2) + background


def _table(path: Path, header: str, rows) -> Path:
    path.write_text(header + "\n" + "".join(",".join(f"{c:.8g}" if not isinstance(c, str) else c
                                                     for c in row) + "\n" for row in rows))
    return path


def run_cli(args, capsys):
    status = main(["fit-data", *map(str, args)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# F2 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("header", ["Mixing chamber temperature [mK]", "Fridge T (mK)",
                                    "MC RuOx (mK)", "MXC [mK]", "Sample temperature (K)",
                                    "RuOx thermometer (mK)", "Still T / K"])
def test_thermometer_headers_are_the_temperature(tmp_path, header):
    milli = "mk" in header.lower()
    t = TEMPS * (1e3 if milli else 1)
    path = _table(tmp_path / "t.csv", f'"{header}",Qi', zip(t, 1 / _loss(), strict=True))
    table = read_loss_table(path)
    assert table.temperature_column == header
    np.testing.assert_allclose(table.temperature, TEMPS, rtol=1e-7)


@pytest.mark.parametrize("header", ["Tc (K)", "Delta T (mK)", "Qi at 20 mK", "sd (K)",
                                    "Mixing chamber temperature", "MC RuOx"])
def test_other_headers_are_no_temperature(header):
    assert not is_temperature(header)


def test_two_thermometers_stay_ambiguous(tmp_path):
    path = _table(tmp_path / "t.csv", "T (mK),MC RuOx (mK),Qi",
                  zip(TEMPS * 1e3, TEMPS * 1.01e3, 1 / _loss(), strict=True))
    with pytest.raises(ValueError, match=r"cannot tell which column is the temperature: "
                                         r"'T \(mK\)', 'MC RuOx \(mK\)' all qualify"):
        read_loss_table(path)


def test_thermometer_header_in_velocity_table(tmp_path):
    path = _table(tmp_path / "v.csv", "Fridge T (mK),dv/v (ppm)",
                  zip(TEMPS * 1e3, 10 * np.log(TEMPS / 0.02), strict=True))
    assert read_velocity_table(path).temperature_column == "Fridge T (mK)"


# F5 ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sweeps")
    write_tls_sweeps(folder)
    return folder


@pytest.mark.parametrize("name, text", [("notes.txt", "cooldown 12, sample A3\nVNA IFBW 100 Hz\n"),
                                        ("fit_params.csv", "file,T\nx,1\n"),
                                        ("summary.csv", "T,Qi\n0.02,1e5\n0.03,1.1e5\n")])
def test_note_beside_sweeps_is_left_out_by_name(sweep_folder, tmp_path, name, text, capsys):
    folder = tmp_path / "sw"
    shutil.copytree(sweep_folder, folder)
    (folder / name).write_text(text)
    with pytest.warns(UserWarning, match=rf"left out 1 file\(s\) that hold no sweep .*{name!r}.*"
                                         r"give a glob .*/s21_-90dBm_\*\.csv'"):
        kept = resonator_table.leave_out_non_sweeps(sweep_files(folder))
    assert len(kept) == 8 and all(Path(f).name != name for f in kept)
    out = tmp_path / "out"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, stdout, err = run_cli(["--sweeps", folder, "--sweep-layout", "real-imag",
                                       "--frequency", "5GHz", "--out", out], capsys)
    assert status == 0, err
    told = [str(w.message) for w in caught if "left out" in str(w.message)]
    assert len(told) == 1 and name in told[0]  # once per run
    assert "does not match the name pattern" not in err
    record = json.loads((out / "fit_results.json").read_text())
    assert len(record["sweep_inputs"]) == 8 and name not in json.dumps(record)


def test_a_list_of_single_numbers_is_told_what_was_counted(sweep_folder, tmp_path):
    """bt223 F8: ten lines of one number each were said to hold 'no lines of numbers'."""
    folder = tmp_path / "sw"
    shutil.copytree(sweep_folder, folder)
    (folder / "temps.txt").write_text("".join(f"{k}\n" for k in range(1, 11)))
    with pytest.warns(UserWarning, match=r"'temps.txt' \(no lines of two or more numbers\)"):
        resonator_table.leave_out_non_sweeps(sweep_files(folder))


def test_python_fit_sweeps_leaves_a_note_out(sweep_folder, tmp_path):
    folder = tmp_path / "sw"
    shutil.copytree(sweep_folder, folder)
    (folder / "notes.txt").write_text("cooldown 12\n")
    with pytest.warns(UserWarning, match="'notes.txt'"):
        results = fit_sweeps(folder, layout="real-imag", window=(0.02, 0.05))
    assert len(results) == 8


def test_misnamed_sweep_is_refused_with_a_glob(sweep_folder, tmp_path, capsys):
    folder = tmp_path / "sw"
    shutil.copytree(sweep_folder, folder)
    shutil.copy(next(folder.glob("*.csv")), folder / "extra_sweep.csv")  # numbers enough
    status, _, err = run_cli(["--sweeps", folder, "--sweep-layout", "real-imag",
                              "--frequency", "5GHz", "--out", tmp_path / "out"], capsys)
    assert status == 2
    assert "'extra_sweep.csv' does not match the name pattern" in err
    assert "8 other file(s) match the pattern" in err and "s21_-90dBm_*.csv" in err
    assert not (tmp_path / "out").exists()


def test_all_misnamed_keeps_the_pattern_refusal(sweep_folder, tmp_path):
    folder = tmp_path / "sw"
    folder.mkdir()
    for i, f in enumerate(sorted(sweep_folder.glob("*.csv"))):
        shutil.copy(f, folder / f"run{i}.csv")
    (folder / "notes.txt").write_text("note\n")
    with pytest.raises(ValueError, match=r"does not match the name pattern .*; give the pattern"):
        fit_sweeps(folder, layout="real-imag")


# F6 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("header, values, plain", [
    ("1/Qi (ppm)", _loss(), "loss"), ("Qi (1e6)", 1 / _loss(), "Q"),
    ("tan d (1e-6)", _loss(background=1e-7) / 10, "loss")])
def test_header_scale_against_values_is_one_column_refusal(tmp_path, header, values, plain):
    path = _table(tmp_path / "t.csv", f"T (K),{header}", zip(TEMPS, values, strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no per-row warning before it
        with pytest.raises(ValueError, match=rf"column {re.escape(repr(header))}.*every row at or beyond the "
                                             rf"lowest loss .* look like a plain {plain} .* drop"):
            read_loss_table(path)


def test_header_scale_refusal_in_cli(tmp_path, capsys):
    path = _table(tmp_path / "t.csv", "T (K),1/Qi (ppm)", zip(TEMPS, _loss(), strict=True))
    status, _, err = run_cli([path, "--frequency", "5GHz", "--out", tmp_path / "o"], capsys)
    assert status == 2 and "drop 'ppm' from the header (write '1/Qi')" in err
    assert "remove it" not in err and not (tmp_path / "o").exists()


def test_right_scales_and_cavity_q_are_read(tmp_path):
    path = _table(tmp_path / "a.csv", "T (K),1/Qi (ppm)", zip(TEMPS, 1e6 * _loss(), strict=True))
    np.testing.assert_allclose(read_loss_table(path).loss, _loss(), rtol=1e-7)
    path = _table(tmp_path / "b.csv", "T (K),Qi (1e6)", zip(TEMPS, 1e-6 / _loss(), strict=True))
    np.testing.assert_allclose(read_loss_table(path).loss, _loss(), rtol=1e-7)
    # a niobium cavity near Q 1e11 at its best points, in units of 1e10: read, a row warned
    q0 = np.linspace(2.0, 12.0, 20)
    path = _table(tmp_path / "c.csv", "T (K),Qi (1e10)", zip(TEMPS, q0, strict=True))
    with pytest.warns(UserWarning, match="read as Q above 1e"):
        np.testing.assert_allclose(read_loss_table(path).loss, 1e-10 / q0)


def test_velocity_scale_against_values_warns(tmp_path):
    shift = 1e-5 * np.log(TEMPS / 0.02)
    path = _table(tmp_path / "v.csv", "T (K),dv/v (ppm)", zip(TEMPS, shift, strict=True))
    with pytest.warns(UserWarning, match=r"'dv/v \(ppm\)' .* read with the header's scale 'ppm' "
                                         r"\(1e-06\) as fractions spanning 3.9\de-11.*drop 'ppm'"):
        read_velocity_table(path)
    path = _table(tmp_path / "w.csv", "T (K),dv/v (ppm)", zip(TEMPS, 1e6 * shift, strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_velocity_table(path)


# F7 ------------------------------------------------------------------------------------------

def _own_fits(path: Path, flags, reasons) -> Path:
    q = 1 / _loss(TEMPS[:12])
    lines = ["file,temperature_K,power_dBm,Qi,Qi_err,flag,reason"]
    for i, (t, qi, flag, why) in enumerate(zip(TEMPS[:12], q, flags, reasons, strict=True)):
        qi = qi * (0.3 if flag else 1.0)  # a rejected fit's Qi, far off
        lines.append(f"sw/s21_{i}.csv,{t:.6g},-90.0,{qi:.8g},{0.01 * qi:.6g},{flag},{why}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_own_resonator_fits_leave_flagged_rows_out(tmp_path, capsys):
    flags = [0] * 12
    flags[5] = 1
    reasons = [""] * 12
    reasons[5] = "resonance at the window edge: f0 = 4999991646 Hz"
    path = _own_fits(tmp_path / "resonator_fits.csv", flags, reasons)
    with pytest.warns(UserWarning, match=r"column 'flag': left out 1 flagged row\(s\) of 12 \(data "
                                         r"row 6 \(line 7, 'sw/s21_5.csv'\): resonance at the "
                                         r"window edge.*set it to 0 to keep"):
        table = read_loss_table(path)
    assert table.loss.size == 11
    np.testing.assert_allclose(table.loss, np.delete(_loss(TEMPS[:12]), 5), rtol=1e-7)
    status, stdout, err = run_cli([path, "--frequency", "5GHz", "--out", tmp_path / "o"], capsys)
    assert status == 0 and "11 points in 1 curve(s)" in stdout and "resonance at the window" in err


def test_flag_column_of_zeros_or_text_changes_nothing(tmp_path):
    path = _own_fits(tmp_path / "a.csv", [0] * 12, [""] * 12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_loss_table(path).loss.size == 12
    path = tmp_path / "b.csv"
    path.write_text("T (K),Qi,flag\n" + "".join(f"{t:.6g},{1 / x:.8g},{'ok' if i % 2 else 'bad'}\n"
                                               for i, (t, x) in enumerate(zip(TEMPS, _loss(),
                                                                              strict=True))))
    assert read_loss_table(path).loss.size == 20


def test_every_row_flagged_is_refused(tmp_path):
    path = _own_fits(tmp_path / "a.csv", [1] * 12, ["no dip"] * 12)
    with pytest.raises(ValueError, match=r"column 'flag' flags every row \(12\)"):
        read_loss_table(path)


# F4 ------------------------------------------------------------------------------------------

def test_loss_error_beside_q_is_refused(tmp_path, capsys):
    loss = _loss()
    path = _table(tmp_path / "t.csv", "T (mK),Qi,err", zip(TEMPS * 1e3, 1 / loss, 0.01 * loss,
                                                            strict=True))
    with pytest.raises(ValueError, match=r"error column 'err': its errors are a median [\d.]+e-1\d "
                                         r"of the values .* errors of the loss 1/Q beside the Q "
                                         r"column 'Qi', a median 0.01 of the loss"):
        read_loss_table(path)
    status, stdout, err = run_cli([path, "--frequency", "5GHz", "--out", tmp_path / "o"], capsys)
    assert status == 2 and "--error-column none" in err and "verdict" not in stdout


def test_q_error_beside_loss_is_refused(tmp_path):
    loss = _loss()
    path = _table(tmp_path / "t.csv", "T (K),1/Qi,err", zip(TEMPS, loss, 0.01 / loss, strict=True))
    with pytest.raises(ValueError, match=r"errors of Q beside the 1/Q column '1/Qi', a median "
                                         r"0.01 of Q"):
        read_loss_table(path)


def test_right_errors_still_read(tmp_path):
    loss = _loss()
    path = _table(tmp_path / "t.csv", "T (K),Qi,dQi", zip(TEMPS, 1 / loss, 0.01 / loss,
                                                          strict=True))
    np.testing.assert_allclose(read_loss_table(path).sigma, 0.01 * loss, rtol=1e-6)


def test_large_information_criteria_print_in_g_form(tmp_path, capsys):
    criterion = fit_outputs.criterion
    assert criterion(12.184) == "12.18" and criterion(-202.95, True) == "-202.95"
    assert criterion(3752981457059351887872.0) == "3.753e+21"
    assert criterion(3.36e23, True) == "+3.36e+23"
    # errors 1e-8 of Q, neither reading plausible: warned, fitted, the table stays readable
    loss = _loss()
    path = _table(tmp_path / "t.csv", "T (K),Qi,sigma", zip(TEMPS, 1 / loss, [1e-3] * 20,
                                                            strict=True))
    status, stdout, err = run_cli([path, "--frequency", "5GHz", "--out", tmp_path / "o"], capsys)
    assert status == 0, err
    assert "errors of column 'sigma' are a median" in err
    assert not any(len(word) > 15 and word.replace(".", "").lstrip("+-").isdigit()
                   for word in stdout.replace(",", " ").replace(")", " ").split()), stdout
    assert "e+" in stdout.split("law ")[1].split("preferred")[0]
