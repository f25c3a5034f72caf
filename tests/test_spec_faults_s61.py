"""Session 61 (the leftovers of a tester's report, bt210, and helper-207's): ``manybody run``'s
and ``manybody info``'s messages. [model]'s list of valid keys named one of them 'model.n_tls'
beside bare 'tls'; a run of spacing_ratio alone was told its temperatures were required without
a word that they are not used; ``info`` recommended the recorded command after the spec file was
edited (the rerun refuses the checkpoint), and lost the caveat of a spec read from /dev/stdin
once the checkpoint's copy was deleted."""

from __future__ import annotations

import pytest
from interrupted_runs import interrupted_command

from manybody.cli.app import main

TOP = 'name = "x"\nseed = 1\nrealisations = 6\n'
MODEL = "[model]\nn_tls = 3\n"
PROBE = "[probe]\nfrequencies = [0.1]\ntemperatures = [0.02, 0.05]\nobservables = [\"absorption\"]\n"
BROADENING = '[probe.broadening]\nkind = "gaussian"\nwidth = 0.02\n'


def _run(tmp_path, capsys, text: str) -> tuple[int, str]:
    spec = tmp_path / "s.toml"
    spec.write_text(text)
    status = main(["run", str(spec), "-o", str(tmp_path / "o.nc"), "--no-progress"])
    return status, capsys.readouterr().err


def test_the_valid_keys_of_a_table_are_named_within_it(tmp_path, capsys):
    status, err = _run(tmp_path, capsys, TOP + MODEL + "bogus = 1\n" + PROBE + BROADENING)
    assert status == 2, err
    assert ("unknown key(s) 'bogus' in model; valid keys are n_tls, tls, coupling, random_matrix, "
            "stress, equilibration") in err, err


def test_a_bare_n_tls_elsewhere_is_still_named_by_its_key(tmp_path, capsys):
    """The guard of the other side: outside the list of valid keys n_tls is model.n_tls."""
    status, err = _run(tmp_path, capsys, TOP + "[model]\n" + PROBE + BROADENING)
    assert status == 2, err
    assert "model.n_tls is required" in err, err


@pytest.mark.parametrize("probe, key, axis", [
    ('[probe]\nobservables = ["spacing_ratio"]\n', "frequencies", "frequency"),
    ('[probe]\nobservables = ["spacing_ratio"]\nfrequencies = [0.1]\n', "temperatures",
     "temperature"),
    ('[probe]\nobservables = ["specific_heat"]\ntemperatures = [0.1]\n', "frequencies",
     "frequency"),
])
def test_an_axis_no_observable_has_is_required_with_the_reason(tmp_path, capsys, probe, key, axis):
    """spacing_ratio alone was told "probe.temperatures is required", then warned that two
    temperatures have no effect (bt210 F10): the requirement says one value will do."""
    status, err = _run(tmp_path, capsys, TOP + MODEL + probe)
    assert status == 2, err
    assert (f"probe.{key} is required: every probe has {key}, though no observable asked for has "
            f"a {axis} axis") in err and f"one value will do, e.g. {key} = [0.1]" in err, err


@pytest.mark.parametrize("probe", [
    '[probe]\nobservables = ["absorption"]\ntemperatures = [0.1]\n',
    '[probe]\nobservables = ["specific_heat"]\ntemperatures = {x_min = 1, x_max = 2, count = 3}\n',
    '[probe]\nfrequencies = [0.1]\n',
])
def test_an_axis_an_observable_reads_is_required_plainly(tmp_path, capsys, probe):
    """Where an observable has the axis, or the x grid of temperatures reads the first
    frequency, or the default observables are asked for, the requirement stands alone."""
    status, err = _run(tmp_path, capsys, TOP + MODEL + probe)
    assert status == 2, err
    assert err.rstrip().endswith("is required"), err


def _interrupted(tmp_path, monkeypatch, spec_arg: str):
    """A run of 6 realisations stopped after 4 (tests/interrupted_runs.py)."""
    return interrupted_command(tmp_path, monkeypatch, TOP + MODEL + PROBE + BROADENING, spec_arg)


def test_a_spec_file_edited_since_the_run_started_is_replaced_by_the_copy(
        tmp_path, capsys, monkeypatch):
    """info said "rerun ... the command that wrote it; finished tasks are kept" after the spec
    file itself was edited: that rerun refuses the checkpoint (bt210). It points to the copy of
    the spec the run started with, and the command with it resumes."""
    directory, spec = _interrupted(tmp_path, monkeypatch, "s.toml")
    spec.write_text(spec.read_text().replace("seed = 1", "seed = 2"))
    assert main(["run", "s.toml", "-o", "o.nc", "--no-progress"]) == 2  # as info says
    capsys.readouterr()
    assert main(["info", str(directory)]) == 0
    out = capsys.readouterr().out
    copy = (directory / "spec.toml").resolve()
    assert ("the spec file s.toml gives another spec_sha256 than the run recorded (edited since "
            "it started): the recorded command would refuse this checkpoint") in out, out
    assert f"with the copy (manybody run {copy} -o o.nc --no-progress)" in out, out
    assert main(["run", str(copy), "-o", "o.nc", "--no-progress"]) == 0
    assert "resumed 4" in capsys.readouterr().out


@pytest.mark.parametrize("spec_arg, problem", [
    ("/dev/stdin", "the spec was read from /dev/stdin, which the recorded command does not replay"),
    ("s.toml", "the spec file s.toml gives another spec_sha256"),
])
def test_without_the_checkpoints_copy_info_says_to_put_the_spec_back(
        tmp_path, capsys, monkeypatch, spec_arg, problem):
    """The copy deleted: the caveat of a spec read from /dev/stdin was lost ("rerun the command
    that wrote it", which reads the terminal; bt210), as was that of an edited file."""
    directory, spec = _interrupted(tmp_path, monkeypatch, spec_arg)
    (directory / "spec.toml").unlink()
    spec.write_text(spec.read_text().replace("seed = 1", "seed = 2"))
    assert main(["info", str(directory)]) == 0
    out = capsys.readouterr().out
    assert problem in out and "and the checkpoint's copy of it" in out and "is gone" in out, out
    # a stream has nothing to put back: its text is fed again (session 62, bt216 F4)
    assert ("feed the command that wrote it the spec the run started with again" in out
            if spec_arg == "/dev/stdin" else "put back the spec the run started with" in out), out
    assert "to resume: rerun" not in out, out


def test_an_unedited_spec_file_keeps_the_recorded_command(tmp_path, capsys, monkeypatch):
    directory, _ = _interrupted(tmp_path, monkeypatch, "s.toml")
    (directory / "spec.toml").unlink()  # the file is the spec: the copy is not needed
    assert main(["info", str(directory)]) == 0
    out = capsys.readouterr().out
    assert "the command that wrote it (manybody run s.toml -o o.nc --no-progress)" in out, out
    assert "put back" not in out, out


def test_a_task_file_or_tasks_folder_copied_out_is_named_not_damaged(tmp_path, capsys,
                                                                      monkeypatch):
    """A checkpoint's task file copied out of it was "not a readable netCDF4/HDF5 results file:
    it is damaged", and its tasks folder "none of them a results file" (bt210)."""
    import shutil

    directory, _ = _interrupted(tmp_path, monkeypatch, "s.toml")
    first = sorted((directory / "tasks").glob("*.npz"))[0]
    shutil.copy(first, tmp_path / "lone.npz")
    shutil.copytree(directory / "tasks", tmp_path / "copied")
    assert main(["info", "lone.npz"]) == 2
    err = capsys.readouterr().err
    assert "'lone.npz' is a task file of a run's checkpoint (spec_sha256 " in err, err
    assert "sweep point 0, realisations from 0" in err and "put it back there" in err, err
    assert "damaged" not in err, err
    assert main(["info", "copied"]) == 2
    err = capsys.readouterr().err
    assert "'copied' is a directory of 3 task file(s) of a run's checkpoint" in err, err
    assert "put them back there" in err, err


def test_another_npz_file_is_still_not_a_results_file(tmp_path, capsys):
    import numpy as np

    np.savez(tmp_path / "x.npz", a=np.arange(3))
    assert main(["info", str(tmp_path / "x.npz")]) == 2
    assert "task file" not in capsys.readouterr().err
