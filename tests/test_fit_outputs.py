"""The options every kind of fit-data fit shares (cli/fit_outputs.py): one check each, so that
every mode words its refusal the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from manybody.cli.app import main

AL_DATA = Path("/work/shared/data/resonator_al_inp_s21")


def _table(tmp_path: Path) -> Path:
    path = tmp_path / "loss.csv"
    path.write_text("T (mK),Qi\n" + "".join(f"{t},{1e6 * (1 + t / 400):.6g}\n"
                                            for t in range(50, 400, 25)))
    return path


def _velocity(tmp_path: Path) -> Path:
    path = tmp_path / "dv.csv"
    path.write_text("T (mK),dv/v\n" + "".join(f"{t},{1e-5 * (t % 7)}\n" for t in range(20, 800, 40)))
    return path


MODES = {
    "tables": lambda p: [str(_table(p))],
    "velocity": lambda p: [str(_velocity(p)), "--velocity"],
    "power sweep": lambda p: [str(_table(p)), "--power-sweep"],
    "sweeps": lambda p: ["--sweeps", str(AL_DATA / "*.csv")],
}


@pytest.mark.parametrize("mode", list(MODES))
def test_a_bad_frequency_names_the_option_in_every_mode(tmp_path, capsys, mode):
    """--frequency 5 GHz (a blank) is refused naming --frequency; with --sweeps the message said
    'frequency must ...' (the fit-data option is --frequency; session 37)."""
    if mode == "sweeps" and not AL_DATA.is_dir():
        pytest.skip("shipped data not present")
    argv = ["fit-data", *MODES[mode](tmp_path), "--frequency", "five GHz",
            "--out", str(tmp_path / "out")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--frequency must" in err, err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


@pytest.mark.parametrize("mode", list(MODES))
def test_tmin_above_tmax_is_refused_in_every_mode(tmp_path, capsys, mode):
    if mode == "sweeps" and not AL_DATA.is_dir():
        pytest.skip("shipped data not present")
    extra = [] if mode in ("velocity", "power sweep") else ["--frequency", "5.6GHz"]
    argv = ["fit-data", *MODES[mode](tmp_path), *extra, "--tmin", "0.3", "--tmax", "0.2",
            "--out", str(tmp_path / "out")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--tmin must be below --tmax, got --tmin 0.3 K, --tmax 0.2 K" in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("head", "name", "words"), [
    (b"\x89HDF\r\n\x1a\n", "run.nc", "a results file of manybody run? fit it with --simulated"),
    (b"name = 'x'\n", "spec.toml", "a TOML file (a run specification?)")])
def test_a_file_that_is_no_table_is_named_before_any_option_is_asked_for(tmp_path, capsys,
                                                                           head, name, words):
    """A results file given without --simulated was first told '--frequency is required for loss
    tables'; only with --frequency did it learn the file is a results file (a new user, session
    37)."""
    path = tmp_path / name
    path.write_bytes(head + b"\0" * 64)
    assert main(["fit-data", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert words in err and "--frequency" not in err, err
