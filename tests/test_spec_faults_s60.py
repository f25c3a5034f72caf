"""Session 60 (a tester, bt207): ``manybody run``, run specs and the Python API. A non-string key
in a dict given to the API ended in difflib's TypeError; ``--chunk-size 100001`` was noted as
valid before it was refused; the temperatures of a run without a temperature axis were dropped
without a word (and the frequencies' warning gave a reason about them); the hard-core checks
spoke of the pairs of one TLS; a model's warning came once per sweep point; the sweep key
'model.tls' was told 'did you mean model.n_tls'; a loop of symbolic links was "does not exist"
or a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from manybody import ModelParams, RunSpec
from manybody.cli.app import main

BASE = {"seed": 1, "realisations": 2, "model": {"n_tls": 2},
        "probe": {"frequencies": [0.1], "temperatures": [0.1]}}
TOP = 'name = "x"\nseed = 1\nrealisations = 2\n'
PROBE = ('[probe]\nfrequencies = [0.1]\ntemperatures = [0.05, 0.1]\nobservables = ["absorption"]\n'
         '[probe.broadening]\nkind = "gaussian"\nwidth = 0.02\n')


def _run(tmp_path, capsys, text: str, *options: str) -> tuple[int, str]:
    spec = tmp_path / "s.toml"
    spec.write_text(text)
    status = main(["run", str(spec), "-o", str(tmp_path / "o.nc"), "--no-progress", *options])
    return status, capsys.readouterr().err


def _run_process(tmp_path, text: str, *options: str) -> tuple[int, str]:
    """``manybody run`` in its own process: warnings reach stderr as a user sees them (pytest
    records those of a command run in the test's process)."""
    spec = tmp_path / "s.toml"
    spec.write_text(text)
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-m", "manybody", "run", str(spec), "-o",
                           str(tmp_path / "o.nc"), "--no-progress", *options], text=True,
                          capture_output=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(root)))
    return done.returncode, done.stderr


@pytest.mark.parametrize("data, where, key", [
    ({**BASE, 3: 4}, "the run specification", "3 (int)"),
    ({**BASE, None: 4}, "the run specification", "None (NoneType)"),
    ({**BASE, "model": {"n_tls": 2, 5: 1}}, "model", "5 (int)"),
    ({**BASE, "model": {"n_tls": 2, "tls": {1.5: 1}}}, "model.tls", "1.5 (float)"),
    ({**BASE, "sweep": {"model.n_tls": [2, 3], (1,): [1]}}, "sweep", "(1,) (tuple)"),
])
def test_a_key_that_is_not_a_string_is_named_with_its_table(data, where, key):
    with pytest.raises(TypeError) as info:
        RunSpec.from_dict(data)
    assert str(info.value) == (f"{where} has the key {key}; every key of a table must be a "
                               "string, as in a TOML file")


def test_model_params_from_dict_names_a_key_that_is_not_a_string():
    with pytest.raises(TypeError, match=r"^model has the key 3 \(int\); every key"):
        ModelParams.from_dict({"n_tls": 2, 3: 1})


def test_a_chunk_size_above_the_limit_is_refused_alone(tmp_path, capsys):
    status, err = _run(tmp_path, capsys, TOP + "[model]\nn_tls = 2\n" + PROBE,
                       "--chunk-size", "100001")
    assert status == 2, err
    assert err == ("manybody run: error: --chunk-size must be an integer between 1 and 100000, "
                   "got 100001\n"), err


def test_temperatures_no_observable_uses_are_warned_and_the_frequencies_reason_fits(tmp_path):
    probe = ("[probe]\nfrequencies = [0.1, 0.2]\ntemperatures = [0.1, 0.2, 0.3]\n"
             'observables = ["spacing_ratio"]\n')
    status, err = _run_process(tmp_path, TOP + "[model]\nn_tls = 3\n" + probe)
    assert status == 0, err
    assert ("probe.temperatures = [0.1, 0.2, 0.3] has no effect: no observable asked for has a "
            "temperature axis (probe.observables: spacing_ratio)") in err, err
    assert ("probe.frequencies = [0.1, 0.2] has no effect: no observable asked for has a "
            "frequency axis (probe.observables: spacing_ratio)\n") in err, err
    # with a temperature axis the temperatures are used, and the first frequency is read
    status, err = _run_process(tmp_path, TOP + "[model]\nn_tls = 3\n" + probe.replace(
        '"spacing_ratio"', '"specific_heat"'), "--overwrite")
    assert status == 0 and "probe.temperatures" not in err, err
    assert "the first frequency is read only where the temperatures are given as x" in err, err


@pytest.mark.parametrize("min_distance", [0.5, 0.9])
def test_the_hard_core_of_one_tls_is_only_said_to_have_no_effect(tmp_path, min_distance):
    """At N = 1 a hard core warned of "52% of the pairs of 1 TLS" (0.5) or refused the spec
    (0.9: "reaches the largest distance two of 1 TLS can have"), also as one point of an N
    sweep, while the preflight said it has no effect."""
    model = ('[model]\nn_tls = 1\n[model.coupling]\nkind = "dipolar"\nstrength = 0.01\n'
             f'min_distance = {min_distance}\n')
    status, err = _run_process(tmp_path, TOP + PROBE + model)
    assert status == 0, err
    assert "pairs of 1 TLS" not in err and "two of 1 TLS" not in err, err
    assert f"model.coupling.min_distance = {min_distance} has no effect: model.n_tls = 1" in err, err
    status, err = _run_process(tmp_path, TOP + PROBE + model.replace("n_tls = 1", "n_tls = 2")
                               + '[sweep]\n"model.n_tls" = [1, 2]\n', "--overwrite")
    assert status == 0 and "1 TLS" not in err, err


def test_a_models_warning_is_printed_once_for_a_sweep(tmp_path):
    """The preflight checks each point under catch_warnings, which resets Python's once-per-place
    registry: the hard core's warning came 7 times for 5 sweep points."""
    model = ('[model]\nn_tls = 8\n[model.coupling]\nkind = "dipolar"\nstrength = 0.01\n'
             'min_distance = 0.9\n[sweep]\n"model.coupling.strength" = [0.01, 0.02, 0.03]\n')
    status, err = _run_process(tmp_path, TOP + PROBE + model)
    assert status == 0, err
    assert err.count("holds about 38% of the pairs of 8 TLS") == 1, err


@pytest.mark.parametrize("table, fields", [
    ("model.tls", "model.tls.asymmetry_max, model.tls.tunnelling_min, model.tls.tunnelling_max"),
    ("probe.broadening", "probe.broadening.kind, probe.broadening.width"),
])
def test_a_table_swept_as_a_whole_is_told_its_fields(table, fields):
    with pytest.raises(ValueError) as info:
        RunSpec.from_dict({**BASE, "sweep": {table: [1, 2]}})
    assert str(info.value).startswith(f"sweep key {table!r} is a table, which cannot be swept as a "
                                      f"whole; sweep its keys instead: {fields}"), info.value
    assert "n_tls" not in str(info.value)


@pytest.mark.parametrize("table, fix", [
    ("model", "sweep its keys instead: model.n_tls, model.tls.asymmetry_max"),
    ("solver", "none of its keys can be swept"),
])
def test_a_top_level_table_swept_is_not_told_to_move_to_the_top(table, fix):
    """'model = [1, 2]' in [sweep] was told to write model at the top of the file, which makes
    invalid TOML (a tester, bt210)."""
    with pytest.raises(ValueError) as info:
        RunSpec.from_dict({**BASE, "sweep": {table: [1, 2]}})
    assert str(info.value).startswith(f"{table} = [1, 2] is inside [sweep]: {table} is a table, "
                                      "which cannot be swept as a whole; " + fix), info.value
    assert "at the top of the file" not in str(info.value)


@pytest.mark.parametrize("argv", [["info", "{loop}"], ["run", "{loop}", "-o", "x.nc"],
                                  ["run", "{spec}", "-o", "{loop}"],
                                  ["fit-data", "{loop}", "--frequency", "5GHz", "--out", "o"]])
def test_a_loop_of_symbolic_links_is_named_as_one(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    os.symlink("b", "a")
    os.symlink("a", "b")
    (tmp_path / "s.toml").write_text(TOP + "[model]\nn_tls = 2\n" + PROBE)
    with pytest.raises(SystemExit) as stop:
        main([arg.format(loop="a", spec="s.toml") for arg in argv])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "'a' is a loop of symbolic links" in err and "Traceback" not in err, err
    assert not (tmp_path / "o").exists() and not (tmp_path / "x.nc").exists()


def test_an_os_error_about_a_path_is_one_line_and_others_are_not_disguised(monkeypatch, capsys):
    import errno

    from manybody.cli import info

    def looped(args):
        raise OSError(errno.ELOOP, "Too many levels of symbolic links", "d/x")
    monkeypatch.setattr(info, "run", looped)
    assert main(["info", "anything"]) == 2
    assert capsys.readouterr().err == ("manybody info: error: 'd/x': Too many levels of symbolic "
                                       "links\n")

    def broken(args):
        raise OSError(errno.EIO, "Input/output error", "d/x")
    monkeypatch.setattr(info, "run", broken)
    with pytest.raises(OSError, match="Input/output"):
        main(["info", "anything"])


def test_an_unused_parameter_is_given_each_reason_where_it_holds(tmp_path):
    """Gaussian couplings with a hard core, strength swept over 0 and 0.01: the hard core was
    said to have no effect because "coupling.strength = 0", the first point's reason, also for
    the point at 0.01 (a tester, bt208); each reason now names its sweep points."""
    model = ('[model]\nn_tls = 4\n[model.coupling]\nkind = "gaussian"\nstrength = 0.0\n'
             'min_distance = 0.2\n[sweep]\n"model.coupling.strength" = [0.0, 0.01]\n')
    status, err = _run_process(tmp_path, TOP + PROBE + model)
    assert status == 0, err
    line = next(x for x in err.splitlines() if "min_distance = 0.2 has no effect" in x)
    assert ("every K_ij is 0, and nothing random is drawn after the couplings (at sweep point "
            "model.coupling.strength=0.0); only dipolar couplings have distances") in line, line
    assert line.endswith("(at sweep point model.coupling.strength=0.01)"), line


def test_info_reads_a_checkpoint_copied_to_another_name_through_its_parts(tmp_path, capsys,
                                                                         monkeypatch):
    """A checkpoint copied to 'backup' was described, but its meta.json was "a JSON file ...
    not a results file" and an intact task file "damaged ... restore it from a copy" (a
    tester, bt207); and the command to resume did not say that no run finds the copy."""
    import shutil

    from interrupted_runs import interrupted_run

    spec = tmp_path / "s.toml"
    spec.write_text(TOP.replace("realisations = 2", "realisations = 6")
                    + "[model]\nn_tls = 2\n" + PROBE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["manybody", "run", "s.toml", "-o", "o.nc"])
    interrupted_run(spec, "o.nc", after=4, chunk_size=2)
    shutil.copytree("o.nc.checkpoint", "backup")
    task = sorted(os.listdir("backup/tasks"))[0]
    for part in ("backup", "backup/meta.json", "backup/tasks", f"backup/tasks/{task}"):
        assert main(["info", part]) == 0, capsys.readouterr().err
        out = capsys.readouterr().out
        assert "finished: 4 of 6 realisation(s)" in out and "damaged" not in out, out
        assert ("but this folder is not named <output>.checkpoint, so no run finds it: that "
                f"command resumes {tmp_path / 'o.nc.checkpoint'}; to resume this one, rename it") \
            in out, out


def test_a_users_file_in_a_finished_runs_checkpoint_is_kept_and_named(tmp_path, monkeypatch):
    """A note put into the checkpoint of an interrupted run was deleted with the checkpoint
    when the rerun finished, without a word (a tester, bt207 F9): the run deletes its own files
    only and names the user's."""
    from interrupted_runs import interrupted_run

    spec = tmp_path / "s.toml"
    spec.write_text(TOP.replace("realisations = 2", "realisations = 6")
                    + "[model]\nn_tls = 2\n" + PROBE)
    interrupted_run(spec, tmp_path / "o.nc", after=4, chunk_size=2)
    checkpoint = tmp_path / "o.nc.checkpoint"
    (checkpoint / "notes.txt").write_text("precious")
    (checkpoint / "tasks" / "mine.csv").write_text("mine")
    status, err = _run_process(tmp_path, spec.read_text())
    assert status == 0, err
    assert (tmp_path / "o.nc").is_file()
    assert sorted(p.relative_to(checkpoint).as_posix() for p in checkpoint.rglob("*")) == [
        "notes.txt", "tasks", "tasks/mine.csv"]
    assert (checkpoint / "notes.txt").read_text() == "precious"
    assert ("held files manybody did not write (notes.txt, tasks/mine.csv): its own files are "
            "deleted, the folder is kept with them") in err, err


def test_the_sweeps_pool_is_shut_down_before_the_fits_start_deaf_to_ctrl_c(tmp_path, monkeypatch):
    """The summary's fitting workers start with SIGINT ignored (bt205 F17). The sweep's pool,
    started with other arguments, was shut down inside that window, so a Ctrl-C in the 0.2-1.5
    s it took was lost and the study ran to its end (a tester, bt210: five in five). It is now
    shut down before the window: no pool with workers is shut down while SIGINT is ignored."""
    import contextlib

    from joblib.externals.loky.process_executor import ProcessPoolExecutor

    import manybody.study.summary as summary
    from manybody.runs.results import load_results
    from manybody.runs.sweep import run_sweep

    spec = tmp_path / "s.toml"
    spec.write_text(TOP + '[model]\nn_tls = 3\n[model.coupling]\nkind = "gaussian"\n'
                    'strength = 0.01\n[sweep]\n"model.coupling.strength" = [0.0, 0.02]\n'
                    + PROBE.replace("[0.05, 0.1]", "[0.01, 0.02, 0.05, 0.1, 0.2, 0.5]"))
    run_sweep(RunSpec.from_toml(spec), output=tmp_path / "o.nc", n_jobs=2)  # its pool stays
    inside, shut_inside = [False], []
    original_shutdown, original_window = ProcessPoolExecutor.shutdown, summary.terminal_signals_blocked

    def shutdown(self, *args, **kwargs):  # a pool with worker processes (an empty one costs
        if getattr(self, "_processes", None):  # nothing)
            shut_inside.append(inside[0])
        return original_shutdown(self, *args, **kwargs)

    @contextlib.contextmanager
    def window():
        with original_window():
            inside[0] = True
            try:
                yield
            finally:
                inside[0] = False
    monkeypatch.setattr(ProcessPoolExecutor, "shutdown", shutdown)
    monkeypatch.setattr(summary, "terminal_signals_blocked", window)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few realisations: the fits warn, as they should
        rows, _ = summary.summarise(load_results(tmp_path / "o.nc"), "x", n_jobs=2)
    assert len(rows) == 2
    assert shut_inside and not any(shut_inside), shut_inside  # the sweep's pool: before
