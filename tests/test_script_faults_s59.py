"""Faults a break test (bt203 F5-F9) found in the scripts: bad input ended in tracebacks or in
lines that named the wrong file; each is now one ``error:`` line naming the argument (exit 2),
and the finite-size window prints undetermined errors as the study summary does."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env=env)


def refused(*args: str, cwd: Path = ROOT) -> str:
    """Run a script that must refuse: exit 2, no traceback, one ``error:`` line (returned)."""
    proc = run(*args, cwd=cwd)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 or all(": error: " not in line for line in lines[:-1]), proc.stderr
    assert ": error: " in lines[-1], proc.stderr
    return lines[-1]


# -- F5: nb_loss_shift_systematics.py --tmax / --powers ----------------------------------------

@pytest.mark.parametrize("args, option, expected", [
    (["--tmax", "-1"], "--tmax", "0 < T"),
    (["--tmax", "abc"], "--tmax", "'abc'"),
    (["--tmax", "0.6,inf"], "--tmax", "'inf'"),
    (["--powers", "99"], "--powers", "have 80, 100, 120, 140, 160"),
    (["--powers", "x"], "--powers", "'x'"),
])
def test_nb_systematics_refuses_bad_tmax_and_powers_at_parsing(tmp_path, args, option, expected):
    out = tmp_path / "nbj"
    line = refused("scripts/nb_loss_shift_systematics.py", *args, "--out", str(out))
    assert line.startswith("nb_loss_shift_systematics.py: error: argument " + option), line
    assert expected in line, line
    assert not out.exists()


def test_nb_systematics_tmax_takes_the_unit_its_advice_names(tmp_path):
    """A bare --tmax 100 was told to write '--tmax 100mK', which the script's --tmax refused
    (note_s59): it now parses --tmax as fit-data does, so the advice is one it takes."""
    out = tmp_path / "nbj"
    line = refused("scripts/nb_loss_shift_systematics.py", "--tmax", "100", "--out", str(out))
    assert "write 100mK" in line, line
    line = refused("scripts/nb_loss_shift_systematics.py", "--tmax", "100mK,0.8", "--out", str(out))
    assert "argument --tmax" not in line and "(window T <= 0.1 K)" in line, line
    assert not out.exists()


# -- F6: readme_table.py --summary that is not a study summary ---------------------------------

@pytest.mark.parametrize("content, expected", [
    ("", "is empty"),
    ('{"a": 1}', "holds a JSON dict"),
    ("[1, 2]", "row 1 is a JSON int"),
    ("[]", "holds no rows"),
    ('[{"study": "x", "value": 1}]', "row 1 has no parameter"),
])
def test_readme_table_names_a_bad_summary_not_the_readme(tmp_path, content, expected):
    summary = tmp_path / "summary.json"
    summary.write_text(content)
    readme = tmp_path / "README.md"
    text = (ROOT / "README.md").read_text()
    readme.write_text(text)
    line = refused("scripts/readme_table.py", "--summary", str(summary), "--readme", str(readme),
                   "--extra")
    assert line.startswith(f"readme_table.py: error: argument --summary: '{summary}'"), line
    assert expected in line and "README" not in line.split("--summary")[1], line
    assert readme.read_text() == text


# -- F7/F8: finite_size_window.py -------------------------------------------------------------

RUN = ROOT / "results" / "finite_size_n12" / "finite_size_n12.nc"


def test_finite_size_window_refuses_unusable_results_in_one_line(tmp_path):
    """A text, empty, truncated or foreign file, a folder or a missing path: one line naming the
    argument and the file (tracebacks before; a folder got "error: 'base' is not a file")."""
    text = tmp_path / "text.txt"
    text.write_text("hello\n")
    empty = tmp_path / "empty.nc"
    empty.write_bytes(b"")
    trunc = tmp_path / "trunc.nc"
    data = RUN.read_bytes()
    trunc.write_bytes(data[: len(data) // 2])
    foreign = tmp_path / "foreign.nc"
    import xarray as xr
    xr.Dataset({"a": ("x", [1.0, 2.0])}).to_netcdf(foreign)
    for path, expected in [(text, "text file"), (empty, "empty file"), (trunc, "is damaged"),
                           (foreign, "no 'spec' attribute"), (tmp_path, "is not a file"),
                           (tmp_path / "missing", "is not a file")]:
        line = refused("scripts/finite_size_window.py", str(path))
        assert line.startswith(f"finite_size_window.py: error: argument results: '{path}'"), line
        assert expected in line, line


@pytest.mark.parametrize("x_max, expected", [
    ("1.01", "argument --x-max: expected a finite number >= 2, got '1.01'"),
    ("2", "argument results: "),  # the file has no x within 1e-9 of 2 (1.96 is the last below)
])
def test_finite_size_window_needs_x_to_span_the_shape_ratio(x_max, expected):
    line = refused("scripts/finite_size_window.py", "--x-max", x_max, str(RUN))
    assert expected in line, line
    if x_max == "2":
        assert "the shape ratio needs x to span [0.5, 2]" in line, line


FAKE_FIT = """
import math, runpy, sys, types, warnings
import manybody.laws.analysis as analysis, manybody.study.decomposition as decomposition
def analyse_shape(x, q, smearing=None):
    warnings.warn("analyse_shape: few realisations", UserWarning)
    return types.SimpleNamespace(index=-0.999, index_error=math.nan, index_high_x=0.5,
                                 index_high_x_error=0.1)
def decompose(x, data, smearing):
    return types.SimpleNamespace(resonant_density_rise=5.0, resonant_density_rise_error=3.3e14)
analysis.analyse_shape, decomposition.decompose = analyse_shape, decompose
sys.argv = ["scripts/finite_size_window.py", *sys.argv[1:]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_finite_size_window_prints_undetermined_errors_as_the_summary_does():
    """An index at the family's bound, a rise whose error is not determined and a warning of
    the fit: "<= -0.999 (at bound)", "n.d." and one warning line, as in summary.md (the script
    printed "-0.999 ± nan", "5.012 ± 328439760395098.750" and Python's file:line warning)."""
    proc = run("-c", FAKE_FIT, str(RUN))
    assert proc.returncode == 0, proc.stderr
    row = proc.stdout.splitlines()[-1]
    assert "<= -0.999 (at bound)" in row and row.rstrip().endswith("n.d."), proc.stdout
    assert "nan" not in proc.stdout and "e+14" not in proc.stdout and "330000" not in proc.stdout
    assert proc.stderr.strip().splitlines() == ["warning (UserWarning): analyse_shape: few "
                                                "realisations"], proc.stderr


# -- F9: summarise_study.py --recompute and make_figures.py on a damaged <spec>.nc -------------

@pytest.mark.parametrize("script", [["scripts/summarise_study.py", "--recompute"],
                                    ["scripts/make_figures.py"]])
def test_study_scripts_refuse_a_damaged_results_file_in_one_line(tmp_path, script):
    study = tmp_path / "cor2"
    study.mkdir()
    (study / "summary.json").write_text((ROOT / "results/study/summary.json").read_text())
    data = RUN.read_bytes()
    (study / "dipolar.nc").write_bytes(data[: len(data) // 2])  # a half-copied file
    line = refused(*script, str(study))
    name = Path(script[0]).name
    assert line.startswith(f"{name}: error: '{study / 'dipolar.nc'}' is "), line
    assert "damaged" in line, line
    assert not (study / "figures").exists()


# -- bt205 F9, F10: the library's refusals inside a script ----------------------------------------

def test_a_library_refusal_inside_a_script_is_one_line(tmp_path):
    """A --tmax that leaves one point passes the argument check and is refused by the fit: a
    traceback, exit 1 (bt205 F9); script_main gives the line the commands give. (A --tmax below
    every temperature is refused with the arguments since session 61.)"""
    line = refused("scripts/nb_loss_shift_systematics.py", "--tmax", "0.1", "--out",
                   str(tmp_path / "o"))
    assert line.startswith("nb_loss_shift_systematics.py: error: need more points than parameters")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("tmax, expected", [
    ("0.6,0.05", "argument --tmax: 0.05 K: no points of '-160 dBm' in the window T <= 0.05 K"),
    ("0.6,600mK", "argument --tmax: 0.6 K given twice in '0.6,600mK'"),
])
def test_every_tmax_is_checked_against_the_data_before_any_fit(tmp_path, tmax, expected):
    """A limit below the data ended the run after the fits of the limits before it, and a
    repeated limit gave a repeated row (note_s60; session 61)."""
    line = refused("scripts/nb_loss_shift_systematics.py", "--tmax", tmax, "--out",
                   str(tmp_path / "o"))
    assert expected in line, line
    assert not (tmp_path / "o").exists()


def test_script_main_refuses_the_commands_refusals_in_one_line(capsys):
    from manybody.cli.signals import REFUSALS, script_main

    for kind in REFUSALS:
        def main(kind=kind):
            raise kind("bad input, named")
        assert script_main(main) == 2
        assert capsys.readouterr().err.endswith(": error: bad input, named\n")


def test_another_specs_results_in_a_study_folder_are_refused_by_the_scripts(tmp_path):
    """A `manybody run` output of another spec saved as dipolar.nc was summarised as the
    dipolar study's rows (summarise_study.py --recompute --write) and drawn into a KeyError
    (make_figures.py); manybody study refuses it (bt205 F11, F12)."""
    from manybody.runs.spec import RunSpec
    from manybody.runs.sweep import run_sweep
    from manybody.study.summary import unreadable_results

    spec = RunSpec.from_dict({"name": "other", "seed": 1, "realisations": 2, "model": {"n_tls": 3},
                              "probe": {"frequencies": [0.1], "temperatures": [0.05, 0.1]}})
    run_sweep(spec, output=tmp_path / "dipolar.nc")
    expected = "holds the results of spec 'other', not the study's 'dipolar'"
    assert expected in unreadable_results(tmp_path, ("dipolar", "gaussian"))
    assert unreadable_results(tmp_path, ("gaussian",)) is None
    line = refused("scripts/summarise_study.py", str(tmp_path), "--recompute")
    assert expected in line
    assert not (tmp_path / "summary.json").exists()


def test_one_power_with_the_saturation_row_is_refused_before_any_fit(tmp_path):
    """--powers 160 ran the per-file fits, then ended in fit_joint's 'saturation=True needs
    curves at two or more drive powers' (bt216 F10)."""
    line = refused("scripts/nb_loss_shift_systematics.py", "--powers", "160", "--out",
                   str(tmp_path / "o"))
    assert "argument --powers: the all-powers saturation row needs two or more powers" in line
    assert not (tmp_path / "o").exists()
