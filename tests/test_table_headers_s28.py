"""Loss-table headers that carry conditions and a scale (session 28), and ``manybody info`` on a
directory.

Headers such as ``Qi (-80 dBm, x1e6)`` or ``Qi, P_in = -80 dBm (x10^6)`` were refused as "cannot
tell which column is the loss"; ``Qi at 1e6`` was read as a condition and its values taken as
plain numbers; a ``Qc @ -80 dBm`` column beside the loss was taken for the drive power. ``manybody
info`` on a directory said only "is a directory".
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from manybody.cli import main
from manybody.measured.headers import parse_header
from manybody.measured.tables import curves_from_table, read_loss_table
from manybody.measured.velocity import read_velocity_table
from manybody.runs.checkpoint import checkpoint_dir
from manybody.runs.spec import RunSpec
from manybody.runs.sweep import run_sweep

Q_SHOWN = np.array([1.2, 1.25, 1.3, 1.4])
LOSS_SHOWN = np.array([3.0, 3.1, 3.2, 3.3])


def _table(tmp_path: Path, header: str, shown: np.ndarray, name: str = "t.csv") -> Path:
    cell = '"' + header.replace('"', '""') + '"'
    path = tmp_path / name
    path.write_text(f"T (mK),{cell}\n" + "".join(
        f"{t},{v}\n" for t, v in zip((20, 40, 60, 80), shown, strict=True)), encoding="utf-8")
    return path


# ------------------------------------------------------------- conditions and a scale together


@pytest.mark.parametrize(("header", "kind", "scale"), [
    # the faults of session 27's review
    ("Qi (-80 dBm, x1e6)", "Q", 1e6), ("Qi, P_in = -80 dBm (x10^6)", "Q", 1e6),
    ("1/Qi (x1e-6, -80 dBm)", "Q^-1", 1e-6), ("tan delta [1e-6] @ -80 dBm", "tan delta", 1e-6),
    # conditions of each kind, before or after the scale, in or out of brackets
    ("Qi (-80 dBm; x1e6)", "Q", 1e6), ("Qi (x1e6) (-80 dBm)", "Q", 1e6),
    ("Qi (-80 dBm) (x1e6)", "Q", 1e6), ("Qi (x1e6) @ -80 dBm", "Q", 1e6),
    ("Qi @ -80 dBm, x1e6", "Q", 1e6), ("Qi (10^6) @ P_in = -80 dBm", "Q", 1e6),
    ("Qi (<n> ~ 10)", "Q", 1.0), ("Qi, <n> ~ 10", "Q", 1.0), ("Qi <n>~10", "Q", 1.0),
    ("Qi (n = 1e3 photons)", "Q", 1.0), ("Qi_-80dBm", "Q", 1.0), ("Qi -80dBm", "Q", 1.0),
    ("Qi (T = 20 mK) [x1e5]", "Q", 1e5), ("Qi (low power)", "Q", 1.0),
    ("Qint, T=10mK, P=-120dBm, x1e5", "Q", 1e5), ("Qint [1e5] | -120 dBm", "Q", 1e5),
    ("Q_i (x10^6) @ P_in=-80dBm", "Q", 1e6), ("Qi (−80 dBm, ×10⁶)", "Q", 1e6),
    ("Q_{i} [×10^{6}]", "Q", 1e6), ("Qi (1 x 10^6)", "Q", 1e6), ("Qi in units of 1e6", "Q", 1e6),
    ("Qi/10^6", "Q", 1e6), ("Qint / 10^5 @ -100 dBm", "Q", 1e5), ("Q_int / 1e5", "Q", 1e5),
    ("1/Qi / 10^-6 @ -80 dBm", "Q^-1", 1e-6), ("loss (10^-6) @ n = 100", "Q^-1", 1e-6),
    ("tan delta (x 10^-6), 20 mK, -80 dBm", "tan delta", 1e-6),
    ("tan δ_TLS (10^-6) @ <n>≈1", "tan delta", 1e-6), ("tan(δ) (ppm)", "tan delta", 1e-6),
    ("1/Qi (ppm) at <n> = 10", "Q^-1", 1e-6), ("loss%", "Q^-1", 1e-2),
    ("Q_i^{-1} (×10^{-6})", "Q^-1", 1e-6), ("Qi⁻¹ (10⁻⁶)", "Q^-1", 1e-6),
])
@pytest.mark.filterwarnings("ignore:.*no resonator or glass has a loss:UserWarning")  # toy values
def test_a_header_with_conditions_and_a_scale_is_read(tmp_path, header, kind, scale):
    """The condition is set aside and the scale applied in the direction of a unit: 'Qi (x1e6)'
    or 'Qi/10^6' with 1.2 is Q = 1.2e6, '1/Qi (x1e-6)' with 3 is 3e-6."""
    shown = Q_SHOWN if kind == "Q" else LOSS_SHOWN
    table = read_loss_table(_table(tmp_path, header, shown))
    assert table.loss_column == header and table.units["loss"] == kind
    expected = 1 / (shown * scale) if kind == "Q" else shown * scale
    np.testing.assert_allclose(table.loss, expected, rtol=1e-12)
    assert table.power_column is None


@pytest.mark.parametrize(("header", "part"), [
    ("Qi at 1e6", "'at 1e6' is a number without a unit after 'at'"),
    ("Qi @ 1e6", "'@ 1e6' is a number without a unit after '@'"),
    ("Qi (x1e6) at 1e6", "'at 1e6' is a number without a unit"),
    ("Qi at -80", "'at -80' is a number without a unit"),
    ("Qi (20)", "'20' is a number without a unit"),
    ("Qi (10e6)", "'10e6' is a number without a unit"),
    ("Qi (2e6)", "'2e6' is a number without a unit"),
    ("Qi (scale = 1e6)", "'scale' is not a condition this reader knows"),
    ("Qi (1e6, 1e6)", "2 scales or units"), ("Qi (x1e6) [ppm]", "2 scales or units"),
    ("1e6 x Qi", "a scale before the name ('1e6')"),
    ("loss 2", "'2' after the name is a number without a unit"),
    ("Qi @", "nothing after '@'"),
])
def test_an_ambiguous_header_is_refused_naming_the_cell_and_the_spellings_read(tmp_path, header,
                                                                             part):
    """'Qi at 1e6' was read as a condition (values taken as plain Q); the others were read as no
    scale or refused without saying what was wrong."""
    with pytest.raises(ValueError) as err:
        read_loss_table(_table(tmp_path, header, Q_SHOWN))
    message = str(err.value)
    assert repr(header) in message and part in message, message
    assert "A header is read as" in message and "'Qi (x1e6)'" in message


@pytest.mark.parametrize(("header", "shown", "what", "spelling"), [
    ("Qi x 1e-6", Q_SHOWN, "a quality factor in units of 1e-6 would be below 1", "'Qi (x1e6)'"),
    ("Qi (1e-6)", Q_SHOWN, "a quality factor in units of 1e-6 would be below 1", "'Qi/1e6'"),
    ("tan δ × 10^6", LOSS_SHOWN, "a loss tangent in units of 1e6 would be above 1",
     "'tan δ (1e-6)'"),
    ("loss (x1e6)", LOSS_SHOWN, "a loss in units of 1e6 would be above 1", "'loss (x1e-6)'"),
])
def test_a_scale_pointing_the_wrong_way_is_refused_with_the_spelling_to_use(
        tmp_path, header, shown, what, spelling):
    """'Qi x 1e-6' most likely holds Q x 10^-6 (the opposite of a unit): it was refused as a
    'Q/loss swap', the header not named as the cause."""
    with pytest.raises(ValueError) as err:
        read_loss_table(_table(tmp_path, header, shown))
    message = str(err.value)
    assert repr(header) in message and what in message and spelling in message, message
    assert "swapped" not in message


def test_a_condition_in_another_columns_header_is_not_a_power(tmp_path):
    """A 'Qc @ -80 dBm (x1e6)' column was taken for the drive power (dBm in its header): its Q_c
    values became powers of 0.5 and 0.6 'x1e6' and the curve was split in two."""
    path = tmp_path / "qc.csv"
    path.write_text("T (mK),Qi @ -80 dBm (x1e6),Qc @ -80 dBm (x1e6)\n"
                    "20,1.2,0.5\n40,1.3,0.6\n60,1.4,0.5\n")
    table = read_loss_table(path)
    assert table.power_column is None and table.power is None
    assert len(curves_from_table(table)) == 1
    np.testing.assert_allclose(table.loss, 1 / np.array([1.2e6, 1.3e6, 1.4e6]), rtol=1e-12)


@pytest.mark.parametrize(("header", "factor"), [("T (mK) @ -80 dBm", 1e-3),
                                                ("T [K] (P = -80 dBm)", 1.0)])
def test_a_condition_in_the_temperature_header_is_not_its_unit(tmp_path, header, factor):
    """It was read as the unit: "temperature column ... has unit 'dbm'; expected mK or K"."""
    path = tmp_path / "t.csv"
    path.write_text(f"{header},Qi (x1e6)\n20,1.2\n40,1.3\n60,1.4\n")
    table = read_loss_table(path)
    np.testing.assert_allclose(table.temperature, np.array([20, 40, 60]) * factor)


def test_an_error_column_with_conditions_and_a_scale(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text('T (mK),"Qi (-80 dBm, x1e6)",Qi err (-80 dBm; x1e4)\n'
                    "20,1.2,1\n40,1.3,2\n60,1.4,1\n")
    table = read_loss_table(path)
    q, dq = np.array([1.2e6, 1.3e6, 1.4e6]), np.array([1e4, 2e4, 1e4])
    np.testing.assert_allclose(table.sigma, dq / q**2, rtol=1e-12)
    path.write_text('T (mK),"Qi (-80 dBm, x1e6)",dQi @ 1e4\n20,1.2,1\n40,1.3,2\n60,1.4,1\n')
    with pytest.raises(ValueError, match=r"the header of the error column, 'dQi @ 1e4', cannot "
                                         r"be read without guessing: '@ 1e4'"):
        read_loss_table(path)


def test_a_header_split_by_the_separator_is_named_with_the_fix(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("T (mK),Qi (-80 dBm, x1e6)\n20,1.2\n40,1.3\n")
    with pytest.raises(ValueError, match=r"column 'Qi \(-80 dBm' starts like a loss column.*"
                                         r"unbalanced brackets.*quote the cell"):
        read_loss_table(path)


def test_the_parts_of_a_header():
    parts = parse_header("Qi, P_in = -80 dBm (x10^6)")
    assert (parts.quantity, parts.unit, parts.problems) == ("qi", "10^6", ())
    assert parts.conditions == ("p_in = -80 dbm",)


def test_a_shift_header_with_a_condition_keeps_its_unit(tmp_path):
    """The unit of 'Δf/f (1e-6) @ -80 dBm' was reported as 'dbm'."""
    path = tmp_path / "v.csv"
    path.write_text("T (mK),Δf/f (1e-6) @ -80 dBm\n20,1\n40,2\n60,3\n")
    table = read_velocity_table(path)
    assert table.units["shift"] == "1e-6"
    np.testing.assert_allclose(table.as_fraction()[0], [1e-6, 2e-6, 3e-6])


def test_fit_data_refuses_an_ambiguous_header_in_one_line(tmp_path, capsys):
    path = _table(tmp_path, "Qi at 1e6", Q_SHOWN * 1e6)
    status = main(["fit-data", str(path), "--frequency", "5GHz", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status == 2 and "'Qi at 1e6'" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "o").exists()


# ------------------------------------------------------------------- manybody info on a folder

SPEC = """\
name = "info-test"
seed = 5
realisations = 3
[model]
n_tls = 4
[model.coupling]
kind = "dipolar"
strength = 0.0
[sweep]
"model.coupling.strength" = [0.0, 0.02]
[probe]
frequencies = [0.1]
temperatures = { x_min = 0.5, x_max = 5.0, count = 4 }
observables = ["absorption", "specific_heat"]
[probe.broadening]
kind = "gaussian"
width = 0.01
"""


@pytest.fixture(scope="module")
def partial_run(tmp_path_factory) -> Path:
    """The output of a run stopped after 2 of its 6 tasks (its checkpoint left behind)."""
    folder = tmp_path_factory.mktemp("partial")
    (folder / "spec.toml").write_text(SPEC)

    class Stop(Exception):
        pass

    def stop(done, total):
        if done >= 2:
            raise Stop

    argv = sys.argv  # the command line the checkpoint records, as `manybody run` has it
    sys.argv = ["/somewhere/.venv/bin/manybody", "run", "spec.toml", "-o", "part.nc"]
    cwd = os.getcwd()  # ... in the folder of its spec (recorded: a spec no longer where the
    os.chdir(folder)  # command names it is resumed from the checkpoint's copy, session 59)
    try:
        with pytest.raises(Stop):
            run_sweep(RunSpec.from_toml(folder / "spec.toml"), output=folder / "part.nc",
                      progress=stop, chunk_size=1, n_jobs=1)
    finally:
        sys.argv = argv
        os.chdir(cwd)
    assert checkpoint_dir(folder / "part.nc").is_dir()
    return folder / "part.nc"


def _info(path, capsys) -> tuple[int, str, str]:
    status = main(["info", str(path)])
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.mark.parametrize("inside", ["", "tasks", "meta.json"])
def test_info_describes_a_checkpoint_directory(partial_run, capsys, inside):
    directory = checkpoint_dir(partial_run)
    status, out, err = _info(directory / inside if inside else directory, capsys)
    assert status == 0, err
    for text in (f"writing: {partial_run} (not written yet)", "run: 'info-test'",
                 "finished: 2 of 6 realisation(s) (over every sweep point)", "0 of 2 sweep point(s) complete",
                 "model.coupling.strength (2)", "in use: no",
                 "the command that wrote it (manybody run spec.toml -o part.nc) to compute the "
                 "rest"):
        assert text in out, (text, out)


@pytest.mark.parametrize(("argv", "command"), [
    (["/x/bin/manybody", "study", "-o", "my results"], "(manybody study -o 'my results')"),
    (["/x/manybody/__main__.py", "run", "s.toml", "-o", "o.nc", "--overwrite"],
     "(manybody run s.toml -o o.nc --overwrite)"),
    (["my sweep.py", "--fast"], "(python 'my sweep.py' --fast)"),
    (["-c", "x"], "(manybody run SPEC -o {output} --overwrite, or the same manybody study"),
    (None, "(manybody run SPEC -o {output} --overwrite, or the same manybody study command"),
])
def test_info_gives_the_command_that_wrote_the_checkpoint(tmp_path, capsys, argv, command):
    """info told a study's user to run 'manybody run SPEC -o ...' (there is no spec file of
    theirs), and without the --overwrite an existing output needs (two helpers, session 36).
    The checkpoint records its command line and folder; one of an earlier version (None) gets
    the general line, with --overwrite when the output exists."""
    import json

    output = tmp_path / "out.nc"
    output.write_text("an earlier run's results")
    directory = checkpoint_dir(output)
    (directory / "tasks").mkdir(parents=True)
    meta = {"version": 2, "spec_sha256": "0", "blas_threads": 1, "code": "x",
            "spec": RunSpec.from_dict(tomllib.loads(SPEC)).to_dict()}
    if argv is not None:
        meta.update(command=argv, cwd="/data/runs")
    (directory / "meta.json").write_text(json.dumps(meta))
    status, out, err = _info(directory, capsys)
    assert status == 0, err
    assert command.format(output=output) in out, out
    assert ("rerun in /data/runs the command" in out) == (argv not in (None, ["-c", "x"])), out


def test_info_says_when_a_run_holds_the_checkpoint(partial_run, capsys):
    with open(checkpoint_dir(partial_run) / "lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        status, out, _ = _info(checkpoint_dir(partial_run), capsys)
    assert status == 0 and "in use: yes, a run holds its lock now" in out


def test_info_calls_a_stretch_without_an_end_killed_and_counts_its_task_files(
        partial_run, tmp_path, capsys):
    """A run killed outright (SIGKILL) records no end: info showed its stretch as "? computed,
    running" while nothing held the lock (session 40). It is killed, with the realisations its
    task files hold; while a run holds the lock its stretch is running."""
    import json
    import shutil

    directory = tmp_path / "killed.nc.checkpoint"
    shutil.copytree(checkpoint_dir(partial_run), directory)
    meta = json.loads((directory / "meta.json").read_text())
    first = {**meta["stretches"][0], "outcome": "running", "tasks_computed": None,
             "wall_time_s": None}
    meta["stretches"] = [first, {**first, "started": "later"}]  # a resume, killed too
    (directory / "meta.json").write_text(json.dumps(meta))
    status, out, err = _info(directory, capsys)
    assert status == 0, err
    line = next(text for text in out.splitlines() if "stretches of the run" in text)
    assert line.count("killed (no end recorded)") == 2 and "running" not in line, line
    assert ", 2 computed, killed" in line and ", 0 computed, killed" in line, line
    with open(directory / "lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        _, out, _ = _info(directory, capsys)
    line = next(text for text in out.splitlines() if "stretches of the run" in text)
    assert line.endswith("? computed, running"), line


def test_info_on_an_unfinished_runs_output_names_its_checkpoint(partial_run, capsys):
    status, _, err = _info(partial_run, capsys)
    assert status == 2 and "does not exist" in err
    assert f"its checkpoint is {str(checkpoint_dir(partial_run))!r}" in err


def test_info_on_the_folder_holding_a_checkpoint_points_at_it(partial_run, capsys):
    status, _, err = _info(partial_run.parent, capsys)
    assert status == 2 and "is a directory, not a results file" in err
    assert "1 checkpoint(s) of unfinished runs (part.nc.checkpoint)" in err
    assert f"manybody info {checkpoint_dir(partial_run)}" in err


def test_info_on_a_results_folder_names_the_files_to_give(tmp_path, capsys):
    tmp_path = tmp_path / "outer" / "results"  # its parent holds nothing else (other tests'
    tmp_path.mkdir(parents=True)  # folders sit beside pytest's tmp_path)
    (tmp_path / "a.nc").write_bytes(b"")
    (tmp_path / "summary.md").write_text("x")
    status, _, err = _info(tmp_path, capsys)
    assert status == 2 and ("1 .nc file(s) (a.nc; results files if manybody wrote them): give "
                            "one, e.g. manybody info") in err
    assert str(tmp_path / "a.nc") in err and "a study's summary" in err
    status, _, err = _info(tmp_path.parent, capsys)  # one level down
    assert status == 2 and f"{tmp_path.name}/a.nc" in err


def test_info_on_an_empty_or_unrelated_folder_says_what_it_reads(tmp_path, capsys):
    status, _, err = _info(tmp_path, capsys)
    assert status == 2 and "(it is empty)" in err
    assert "results file written by manybody run (.nc) or the checkpoint directory" in err
    (tmp_path / "x.txt").write_text("x")
    status, _, err = _info(tmp_path, capsys)
    assert status == 2 and "1 entry, none of them a results file or checkpoint" in err


def test_info_on_a_damaged_checkpoint_is_one_line(tmp_path, capsys):
    directory = tmp_path / "o.nc.checkpoint"
    (directory / "tasks").mkdir(parents=True)
    (directory / "meta.json").write_text('{"spec": ')
    status, _, err = _info(directory, capsys)
    assert status == 2 and "meta.json' is damaged" in err and len(err.splitlines()) == 1


def test_info_on_a_directory_in_a_real_process(partial_run):
    for path in (partial_run.parent, checkpoint_dir(partial_run)):
        proc = subprocess.run([sys.executable, "-m", "manybody", "info", str(path)],
                              capture_output=True, text=True, timeout=120)
        assert "Traceback" not in proc.stderr and "is a directory\n" not in proc.stderr
        assert proc.returncode == (0 if path.name.endswith(".checkpoint") else 2), proc.stderr


def test_info_on_a_checkpoint_swept_over_n_names_the_swept_sizes(tmp_path, capsys):
    """Session 31: a checkpoint of a sweep over model.n_tls said 'N = 4 TLS', the base model's."""
    import json

    spec = RunSpec.from_dict({"name": "sizes", "seed": 1, "realisations": 2,
                              "model": {"n_tls": 4}, "sweep": {"model.n_tls": [3, 5, 6]},
                              "probe": {"frequencies": [0.1], "temperatures": [0.05, 0.1]}})
    directory = tmp_path / "o.nc.checkpoint"
    (directory / "tasks").mkdir(parents=True)
    (directory / "meta.json").write_text(json.dumps({"spec": spec.to_dict(), "version": 1}))
    status, out, err = _info(directory, capsys)
    assert status == 0, err
    assert "N = 3, 5, 6 TLS (swept)" in out and "N = 4" not in out
