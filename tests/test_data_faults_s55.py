"""Break test helper-175 of ``manybody fit-data`` on measured data (fixed by helper-177).

F1: a Q column in millions without its scale was told only "Q/loss swapped (name it '1/Q')";
F2: sweep options (and --seed, --shift-column with --joint, ...) were ignored with exit 0;
F3: a copy of one S21 sweep under a second temperature was fitted as a new measurement;
F4: the "left out" warning printed three times, .log/.json left out unnamed, "[None, 0.05] K";
F5: '-20dB' in the names (an instrument setting) written out as power_dBm = -20 without a note.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from manybody.cli.fit_data import critical_power_notes
from manybody.laws.inputs import LossCurve, window_curves
from manybody.measured.resonance import notch_s21
from manybody.measured.resonator_table import (
    fit_sweeps,
    loss_table,
    read_sweep_index,
    resonator_csv,
    sweep_files,
)
from manybody.measured.sweeps import S21Sweep
from manybody.measured.tables import curves_from_table, read_loss_table

#: Truth of the synthetic sweeps (as tests/test_resonance.py).
TRUE = {"qi": 2.0e4, "qc_abs": 8.0e3, "phi": 0.25, "f0": 5.0e9, "amplitude": 0.05,
        "alpha": 1.1, "delay": 45e-9}
FOUR = (20, 50, 80, 110)


def _synthetic(seed: int, n: int = 301, noise: float = 2e-3) -> S21Sweep:
    t = TRUE
    ql = 1.0 / (1.0 / t["qi"] + math.cos(t["phi"]) / t["qc_abs"])
    width = t["f0"] / ql
    f = t["f0"] + width * np.linspace(-8.0, 8.0, n)
    z = notch_s21(f, t["f0"], ql, t["qc_abs"], t["phi"], t["amplitude"], t["alpha"], t["delay"])
    rng = np.random.default_rng(seed)
    z = z + noise * t["amplitude"] * (rng.standard_normal(n) + 1j * rng.standard_normal(n))
    return S21Sweep(f, z, f"synthetic seed {seed}", "real-imag")


def _db_deg_text(s: S21Sweep, header: str | None = None, ghz: bool = False) -> str:
    db, deg = 20 * np.log10(np.abs(s.s21)), np.degrees(np.angle(s.s21))
    f = s.frequency / 1e9 if ghz else s.frequency
    lines = ([header] if header else []) + [f"{a:.17g},{b:.17g},{c:.17g}"
                                            for a, b, c in zip(f, db, deg, strict=True)]
    return "\n".join(lines) + "\n"


def _folder(folder: Path, temperatures=FOUR, power: str = "-90dBm") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, t in enumerate(temperatures):
        (folder / f"s21_{power}_{t:05.1f}mK.csv").write_text(_db_deg_text(_synthetic(20 + i)))
    return folder


def _main(argv) -> int:
    from manybody.cli import main

    return main(["fit-data", *argv])


def _loss_table(tmp_path: Path, name: str = "qint_80dBm.csv") -> Path:
    t = np.linspace(0.02, 0.6, 12)
    x = 0.2697 / t
    q = 1.0 / (1e-6 * np.tanh(x / 2) + 2e-7)
    path = tmp_path / name
    path.write_text("T (mK),Qi\n" + "".join(f"{1e3 * a:.6g},{b:.8g}\n" for a, b in zip(t, q,
                                                                                       strict=True)))
    return path


# ----------------------------------------------------------------------------- F3


def test_a_byte_copy_of_a_sweep_under_another_temperature_is_refused_naming_both(tmp_path,
                                                                                  capsys):
    folder = _folder(tmp_path / "sw")
    copy = folder / "s21_-90dBm_140.0mK.csv"
    copy.write_bytes((folder / "s21_-90dBm_080.0mK.csv").read_bytes())
    with pytest.raises(ValueError, match=r"'s21_-90dBm_080\.0mK\.csv' \(80 mK.*'s21_-90dBm_140\.0mK"
                                         r"\.csv' \(140 mK.*byte for byte.*count twice"):
        fit_sweeps(sweep_files(folder))
    for extra in ([], ["--joint"]):
        assert _main(["--sweeps", str(folder), "--out", str(tmp_path / "o"), *extra]) == 2
        err = capsys.readouterr().err
        assert "s21_-90dBm_140.0mK.csv" in err and "count twice" in err, err
        assert len(err.strip().splitlines()) == 1
        assert not (tmp_path / "o").exists()


def test_the_same_sweep_in_another_format_is_refused_too(tmp_path):
    """GHz with a header, Re/Im instead of dB/deg: the same numbers after reading."""
    folder = _folder(tmp_path / "sw")
    s = _synthetic(21)  # the 50 mK sweep's data
    (folder / "s21_-90dBm_140.0mK.csv").write_text(
        _db_deg_text(s, header="Frequency (GHz),S21 (dB),Phase (deg)", ghz=True))
    with pytest.raises(ValueError, match=r"050\.0mK.*140\.0mK.*same sweep .*other formats"):
        fit_sweeps(sweep_files(folder))


def test_two_index_rows_with_the_same_data_are_refused(tmp_path):
    s = _synthetic(5)
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text(_db_deg_text(s))
    (tmp_path / "index.txt").write_text("file,temperature_mK,power_dBm\na.csv,50,-90\n"
                                        "b.csv,20,-90\n")
    with pytest.raises(ValueError, match=r"'a\.csv' \(50 mK, -90 dBm\) and 'b\.csv' \(20 mK, -90 dBm\)"):
        fit_sweeps(sweep_files(tmp_path / "*.csv"), index=read_sweep_index(tmp_path / "index.txt"))
    # one file named twice in the index (also through a folder) stays refused by its rows
    (tmp_path / "index2.txt").write_text("file,temperature_mK\na.csv,50\n./a.csv,20\n")
    with pytest.raises(ValueError, match=r"'a\.csv' listed twice \(data rows 1 and 2\)"):
        read_sweep_index(tmp_path / "index2.txt")


def test_two_measurements_of_one_resonator_are_not_taken_for_copies():
    """Same truth, other noise draws of 2e-4 of the amplitude (a quarter of the Al sweeps')."""
    sweeps = [_synthetic(1, noise=2e-4), _synthetic(2, noise=2e-4)]
    from manybody.measured.resonator_table import refuse_same_sweeps

    refuse_same_sweeps(["a.csv", "b.csv"], [(0.02, None), (0.05, None)], sweeps)


# ----------------------------------------------------------------------------- F2


@pytest.mark.parametrize("option", [["--conjugate"], ["--sweep-layout", "real-imag"],
                                    ["--sweep-frequency-unit", "GHz"],
                                    ["--sweep-pattern", r"_(?P<mK>\d+)mK"],
                                    ["--sweep-index", "/nonexistent.csv"],
                                    ["--sweep-background", "constant"], ["--max-misfit", "5"]])
@pytest.mark.parametrize("mode", [[], ["--velocity"], ["--power-sweep"]])
def test_sweep_options_without_sweeps_are_refused_naming_them(tmp_path, capsys, option, mode):
    table = _loss_table(tmp_path)
    out = tmp_path / "o"
    assert _main([str(table), "--frequency", "5.61989GHz", *mode, *option, "--out",
                  str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{option[0]} applies to raw S21 sweeps only: add --sweeps" in err, err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_seed_without_simulate_is_refused(tmp_path, capsys):
    assert _main([str(_loss_table(tmp_path)), "--frequency", "5.61989GHz", "--seed", "5",
                  "--out", str(tmp_path / "o")]) == 2
    assert "--seed 5 seeds the repeats of --simulate N" in capsys.readouterr().err


def test_shift_column_with_joint_and_pattern_beside_index_are_refused(tmp_path, capsys):
    folder = _folder(tmp_path / "sw")
    assert _main(["--sweeps", str(folder), "--joint", "--shift-column", "df/f", "--out",
                  str(tmp_path / "o")]) == 2
    assert "--shift-column names the column of a --shift or --velocity table" in \
        capsys.readouterr().err
    (tmp_path / "index.csv").write_text("file,temperature_mK\n" + "".join(
        f"{p.name},{20 + i}\n" for i, p in enumerate(sorted(folder.iterdir()))))
    assert _main(["--sweeps", str(folder), "--sweep-index", str(tmp_path / "index.csv"),
                  "--sweep-pattern", r"_(?P<mK>\d+)mK", "--out", str(tmp_path / "o")]) == 2
    assert "--sweep-pattern and --sweep-index both give" in capsys.readouterr().err


def test_text_layout_options_on_touchstone_sweeps_only_are_refused(tmp_path, capsys):
    folder = tmp_path / "ts"
    folder.mkdir()
    for t in FOUR:
        (folder / f"s21_-90dBm_{t:05.1f}mK.s2p").write_text("# Hz S RI R 50\n")
    for option in (["--sweep-layout", "real-imag"], ["--sweep-frequency-unit", "GHz"]):
        assert _main(["--sweeps", str(folder), *option, "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert f"{option[0]} describes delimited-text sweeps" in err and "Touchstone" in err


# ----------------------------------------------------------------------------- F1


def test_a_q_column_in_millions_names_the_missing_scale_as_well_as_the_swap(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text("T (mK),Qi\n100,15.8\n200,17.2\n300,0.987\n400,19.3\n")
    with pytest.raises(ValueError) as info:
        read_loss_table(path)
    text = str(info.value)
    assert "0.987 to 19.3" in text and "'Qi (1e6)'" in text and "Q/loss swapped" in text
    # values that are plausible losses keep the plain advice
    path.write_text("T (mK),Qi\n100,1e-5\n200,2e-5\n")
    with pytest.raises(ValueError, match=r"probably Q/loss swapped \(name it e\.g\. '1/Q'\)"):
        read_loss_table(path)


def test_a_loss_column_in_ppm_names_the_missing_unit_as_well_as_the_swap(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("T (mK),tan d\n100,0.5\n200,3\n")
    with pytest.raises(ValueError, match=r"0\.5 to 3.*'tan d \(ppm\)'.*Q/loss swapped"):
        read_loss_table(path)
    path.write_text("T (mK),tan d\n100,1e6\n200,2e6\n")
    with pytest.raises(ValueError, match=r"probably Q/loss swapped \(name it e\.g\. 'Qi'\)"):
        read_loss_table(path)


# ----------------------------------------------------------------------------- F4


def test_the_left_out_warning_is_printed_once_and_names_log_and_json(tmp_path):
    folder = _folder(tmp_path / "sw")
    for name in ("sweep_400mK.xlsx", "notes.log", "fit_results.json"):
        (folder / name).write_text("x\n")
    (folder / "README.md").write_text("notes\n")
    (folder / "plot.png").write_bytes(b"\x89PNG")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert _main(["--sweeps", str(folder), "--out", str(tmp_path / "o")]) == 0
    lines = [str(w.message) for w in caught if "left out" in str(w.message)]
    assert len(lines) == 1, lines
    assert all(name in lines[0] for name in ("sweep_400mK.xlsx", "notes.log", "fit_results.json"))
    assert "README.md" not in lines[0] and "plot.png" not in lines[0]


def test_an_unset_window_edge_is_not_shown_as_none(tmp_path, capsys):
    curve = LossCurve(np.array([0.1, 0.2, 0.3]), np.array([1e-6, 2e-6, 3e-6]), label="c")
    with pytest.raises(ValueError, match=r"window T <= 0\.05 K \(data span") as info:
        window_curves([curve], None, 0.05)
    assert "None" not in str(info.value)
    assert _main([str(_loss_table(tmp_path)), "--frequency", "5.61989GHz", "--tmax", "0.01",
                  "--out", str(tmp_path / "o")]) == 2
    assert "None" not in capsys.readouterr().err


# ----------------------------------------------------------------------------- F5


def test_a_power_named_in_db_is_kept_as_the_names_label_in_db(tmp_path):
    folder = _folder(tmp_path / "sw", power="-20dB")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = fit_sweeps(sweep_files(folder))
    notes = [str(w.message) for w in caught if "state the drive power in dB" in str(w.message)]
    assert len(notes) == 1 and "not a calibrated power at the device" in notes[0]
    assert {r.power_unit for r in results} == {"dB"} and results[0].power == -20.0
    assert resonator_csv(results).splitlines()[0].startswith("file,temperature_K,power_dB,f0_Hz")
    (curve,) = curves_from_table(loss_table(results, tmp_path / "fits.csv"))
    assert curve.power == -20.0 and curve.power_unit == "dB"
    note = critical_power_notes({"saturation": True, "power_unit": "dB"})[0]
    assert "Pc (dB as the file names state the power: an instrument setting" in note
    # names in dBm stay dBm, silently; names mixing the two are refused
    plain = fit_sweeps(sweep_files(_folder(tmp_path / "dbm")))
    assert {r.power_unit for r in plain} == {"dBm"}
    assert resonator_csv(plain).splitlines()[0].startswith("file,temperature_K,power_dBm,")
    mixed = _folder(tmp_path / "mixed", temperatures=FOUR[:2])
    _folder(mixed, temperatures=FOUR[2:], power="-20dB")
    with pytest.raises(ValueError, match=r"state powers in dB and in dBm"):
        fit_sweeps(sweep_files(mixed))


# ------------------------------------------------------------- helper-181: F7, F1 (same sweeps)


def test_a_copy_cropped_by_rows_is_refused_and_noise_free_twins_are_warned_about():
    """helper-181 F7: the 90 mK sweep without its last row, saved as 135 mK, was fitted as a new
    point (only sweeps of equal length were compared). F1: noise-free (simulated) sweeps with the
    same f0 and Q at two temperatures were refused; a measurement never repeats to its noise, a
    simulation does, so those are warned about and counted."""
    import warnings

    from manybody.measured.resonator_table import refuse_same_sweeps

    measured = _synthetic(3, noise=2e-4)
    cropped = S21Sweep(measured.frequency[:-1], measured.s21[:-1], "cropped", "real-imag")
    halved = S21Sweep(measured.frequency[::3], measured.s21[::3], "every third", "real-imag")
    for copy in (cropped, halved):
        with pytest.raises(ValueError, match=r"'a\.csv' \(20 mK\) and 'b\.csv' \(50 mK\) hold the "
                           r"same sweep \(every shared frequency with the same S21"):
            refuse_same_sweeps(["a.csv", "b.csv"], [(0.02, None), (0.05, None)],
                               [measured, copy])
    smooth = _synthetic(0, noise=0.0)
    with pytest.warns(UserWarning, match=r"hold the same noise-free data \(simulated sweeps\?\)"):
        refuse_same_sweeps(["a.csv", "b.csv"], [(0.02, None), (0.05, None)], [smooth, smooth])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # other noise draws: neither refused nor warned about
        refuse_same_sweeps(["a.csv", "b.csv"], [(0.02, None), (0.05, None)],
                           [measured, _synthetic(4, noise=2e-4)])
