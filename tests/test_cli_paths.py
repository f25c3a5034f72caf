"""Paths on the command line (session 27): links to missing targets anywhere in a path,
permissions, a trailing slash, a quoted ``~``, and what a refused run leaves behind. Each
refusal is one line in the words of the command that was run, before any work, and leaves
nothing behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from manybody.cli import main
from manybody.cli.app import build_parser
from manybody.cli.run import STUDY_WORDS, cli_words
from manybody.simulation import observe as pipeline

SPEC = """\
name = "paths"
seed = 1
realisations = 2
[model]
n_tls = 2
[model.tls]
asymmetry_max = 0.3
tunnelling_min = 0.001
tunnelling_max = 0.3
[probe]
frequencies = [0.1]
temperatures = [0.1]
observables = ["absorption"]
"""
STUDY = ["study", "--tiny", "--only", "saturation", "--no-figures"]


@pytest.fixture
def spec(tmp_path, monkeypatch):
    """A tiny spec in a fresh working directory; computing anything fails the test."""
    path = tmp_path / "spec.toml"
    path.write_text(SPEC)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)

    def forbidden(*args, **kwargs):
        raise AssertionError("computed before the refusal")

    monkeypatch.setattr(pipeline, "observe", forbidden)
    return path


def cli(args, capsys) -> tuple[int, str]:
    status = main([str(a) for a in args])
    err = capsys.readouterr().err
    return status, err


def refused(status: int, err: str, *words: str) -> None:
    assert status == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "Errno" not in err and "File exists" not in err, err
    for word in words:
        assert word in err, (word, err)


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# -- 1, 2: the words of the command that was run --------------------------------------------

def test_study_never_offers_an_option_it_does_not_have():
    """Every library phrase that names run's --overwrite is given in study's own words."""
    parser = build_parser()
    study_options = {o for a in parser._subparsers._group_actions[0].choices["study"]._actions
                     for o in a.option_strings}
    message = ("output 'd/x.nc' already exists (a link to a missing file); pass overwrite=True "
               "(--overwrite) to replace it")
    said = cli_words(message, None, STUDY_WORDS)
    assert "--overwrite" not in study_options
    assert "--overwrite" not in said and "overwrite=" not in said, said
    assert "remove it or choose another output directory (-o)" in said


def test_study_with_a_dangling_link_for_a_result_says_what_study_offers(spec, tmp_path, capsys):
    out = tmp_path / "d1"
    out.mkdir()
    (out / "saturation.nc").symlink_to("/nonexistent/x.nc")
    status, err = cli([*STUDY, "-o", out], capsys)
    refused(status, err, "saturation.nc", "link to a missing file", "remove it", "-o")
    assert "--overwrite" not in err and "overwrite=" not in err
    assert tree(out) == ["saturation.nc"]


def test_resume_without_a_checkpoint_names_the_option(spec, capsys):
    status, err = cli(["run", spec, "-o", "a/b/out.nc", "--resume"], capsys)
    refused(status, err, "nothing to resume", "without --resume")
    assert not Path("a").exists()


# -- 3: links to missing targets anywhere in the path ---------------------------------------

@pytest.mark.parametrize("output", ["dl/out.nc", "dl/sub/out.nc", "real/dl/out.nc",
                                    "real/dl/sub/deeper/out.nc"])
def test_run_names_a_dangling_link_among_the_directories_of_its_output(spec, output, capsys):
    Path("real").mkdir()
    for link in ("dl", "real/dl"):
        os.symlink("/nonexistent/dir", link)
    status, err = cli(["run", spec, "-o", output], capsys)
    link = "real/dl" if output.startswith("real") else "dl"
    refused(status, err, f"--output {output!r}", f"{link!r} is a link to a missing directory",
            "/nonexistent/dir")
    assert tree(Path(".")) == ["dl", "real", "real/dl"]


@pytest.mark.parametrize("output", ["d6", "d6/sub", "real/d6"])
def test_study_names_a_dangling_link_for_its_output_directory(spec, output, capsys):
    Path("real").mkdir()
    for link in ("d6", "real/d6"):
        os.symlink("/nonexistent/out", link)
    status, err = cli([*STUDY, "-o", output], capsys)
    link = "real/d6" if output.startswith("real") else "d6"
    refused(status, err, f"{link!r} is a link to a missing directory", "-o")
    assert tree(Path(".")) == ["d6", "real", "real/d6"]


def test_a_checkpoint_in_a_loop_of_links_is_named(spec, capsys):
    os.symlink("loop2", "out.nc.checkpoint")
    os.symlink("out.nc.checkpoint", "loop2")
    status, err = cli(["run", spec, "-o", "out.nc"], capsys)
    refused(status, err, "'out.nc.checkpoint'", "loop of links")


# -- 4: permissions (root's override dropped with setpriv) ----------------------------------

def _without_override() -> list[str]:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    assert setpriv, "running as root, the permission tests need setpriv (util-linux)"
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


def _manybody(args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([*_without_override(), sys.executable, "-m", "manybody",
                           *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


@pytest.mark.parametrize(("setup", "output", "words"), [
    ("ro", "ro/out.nc", ["--output 'ro/out.nc'", "cannot write in 'ro' (permission denied)"]),
    ("ro", "ro/sub/out.nc", ["--output 'ro/sub/out.nc'", "cannot write in 'ro'"]),
    ("nox", "nox/out.nc", ["--output 'nox/out.nc'", "'nox' cannot be searched"]),
    ("nox", "nox/sub/out.nc", ["'nox' cannot be searched"]),
    ("none", "none/out.nc", ["'none' cannot be searched"]),
    ("rochk", "out.nc", ["checkpoint location 'out.nc.checkpoint' of --output 'out.nc'",
                         "cannot write in 'out.nc.checkpoint' (permission denied)"]),
    ("rotasks", "out.nc", ["checkpoint location 'out.nc.checkpoint'",
                           "cannot write in 'out.nc.checkpoint/tasks' (permission denied)"]),
])
def test_run_names_a_path_it_may_not_write(spec, tmp_path, setup, output, words):
    work = Path.cwd()
    modes = {"ro": 0o555, "nox": 0o666, "none": 0o000}
    if setup in modes:
        Path(setup).mkdir()
        os.chmod(setup, modes[setup])
    elif setup == "rochk":
        Path("out.nc.checkpoint").mkdir()
        os.chmod("out.nc.checkpoint", 0o555)
    else:
        Path("out.nc.checkpoint/tasks").mkdir(parents=True)
        os.chmod("out.nc.checkpoint/tasks", 0o555)
    try:
        proc = _manybody(["run", spec, "-o", output, "--no-progress"], work)
    finally:
        for path in work.rglob("*"):
            os.chmod(path, 0o755)
        for path in ("ro", "nox", "none"):
            if Path(path).exists():
                os.chmod(path, 0o755)
    refused(proc.returncode, proc.stderr, *words)
    assert not list(work.rglob("*.nc")) and not list(work.rglob("sub"))


def test_study_names_an_output_directory_it_may_not_write(spec, tmp_path):
    Path("d5").mkdir()
    os.chmod("d5", 0o555)
    try:
        proc = _manybody([*STUDY, "-o", "d5"], Path.cwd())
    finally:
        os.chmod("d5", 0o755)
    refused(proc.returncode, proc.stderr, "output directory 'd5'", "permission denied", "-o")
    assert tree(Path("d5")) == []


# -- 5: a refused run leaves no directories behind ------------------------------------------

def test_an_unusable_scheduler_leaves_no_new_directories(spec, capsys):
    pytest.importorskip("distributed")
    status, err = cli(["run", spec, "-o", "c/d/out.nc", "--no-progress", "--backend", "dask", "--scheduler",
                       "not a url"], capsys)
    refused(status, err, "--scheduler 'not a url'")
    status, err = cli([*STUDY, "-o", "e/f", "--backend", "dask", "--scheduler", "not a url"],
                      capsys)  # the study says its plan first
    assert status == 2 and "--scheduler 'not a url'" in err.strip().splitlines()[-1], err
    assert tree(Path(".")) == []
    # the failed Client left dask.distributed as the process's default scheduler, and a later
    # test's netCDF write failed with "no Client active" (session 32)
    import dask

    assert dask.config.get("scheduler", None) in (None, "threads", "sync")


# -- 6: a trailing slash names a directory ----------------------------------------------------

@pytest.mark.parametrize("output", ["newdir/", "new/dir/", "existing.nc/"])
def test_run_refuses_an_output_that_names_a_directory(spec, output, capsys):
    Path("existing.nc").write_text("")
    status, err = cli(["run", spec, "-o", output], capsys)
    refused(status, err, f"--output {output!r}")
    assert tree(Path(".")) == ["existing.nc"]


# -- 7: a quoted ~ is the home directory ------------------------------------------------------

@pytest.mark.parametrize(("argv", "dest"), [
    (["run", "~/s.toml", "-o", "~/o.nc"], ("spec", "output")),
    (["study", "-o", "~/study"], ("output",)),
    (["info", "~/o.nc"], ("file",)),
    (["fit-data", "~/a.csv", "~/b.csv", "--out", "~/fits", "--shift", "~/s.csv"],
     ("files", "out", "shift")),
    (["fit-data", "--sweeps", "~/s21/*.csv", "--sweep-index", "~/index.csv"],
     ("sweeps", "sweep_index")),
])
def test_every_path_option_expands_a_quoted_tilde(argv, dest, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    args = build_parser().parse_args(argv)
    for name in dest:
        values = getattr(args, name)
        for value in values if isinstance(values, list) else [values]:
            assert value.startswith(str(tmp_path) + "/") and "~" not in value, (name, value)


def test_run_writes_a_quoted_tilde_output_into_the_home_directory(tmp_path, monkeypatch,
                                                                  capsys):
    home = tmp_path / "home"
    home.mkdir()
    (home / "spec.toml").write_text(SPEC)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    status, err = cli(["run", "~/spec.toml", "-o", "~/results/x.nc", "--no-progress"], capsys)
    assert status == 0, err
    assert (home / "results" / "x.nc").is_file() and tree(work) == []


@pytest.mark.parametrize("out", ["dl", "dl/fits", "real/dl/fits"])
def test_fit_data_names_a_dangling_link_in_its_out_path(spec, out, capsys):
    """fit-data --out through a link to a missing directory said 'File exists' (a reviewer,
    session 27): the link is named as run names it, before any fit."""
    Path("real").mkdir()
    for link in ("dl", "real/dl"):
        os.symlink("/nonexistent/dir", link)
    table = Path(__file__).resolve().parents[1] / "data" / "resonator_nb_cpw" / "qint_160dBm.csv"
    status, err = cli(["fit-data", table, "--frequency", "5.62GHz", "--out", out], capsys)
    link = "real/dl" if out.startswith("real") else "dl"
    refused(status, err, f"--out {out!r}", f"{link!r} is a link to a missing directory")
    assert tree(Path(".")) == ["dl", "real", "real/dl"]


@pytest.mark.parametrize("argv,option", [
    (["info", ""], "PATH"), (["run", ""], "SPEC.toml"),
    (["run", "s.toml", "-o", ""], "-o/--output"),
    (["study", "-o", ""], "-o/--output"), (["fit-data", "--sweeps", ""], "--sweeps"),
    (["fit-data", "x.csv", "--frequency", "5GHz", "--out", ""], "--out"),
    (["fit-data", "x.csv", "--shift", "", "--frequency", "5GHz"], "--shift"),
    (["fit-data", "", "--frequency", "5GHz"], "FILE"),
])
def test_an_empty_path_is_refused_by_its_option(argv, option, capsys):
    """Session 31: an empty path argument meant the current directory."""
    from manybody.cli.app import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert f"argument {option}: expected a path, got ''" in capsys.readouterr().err


@pytest.mark.parametrize("what,module,reader", [
    ("loss table", "manybody.measured.tables", "read_loss_table"),
    ("velocity table", "manybody.measured.velocity", "read_velocity_table"),
    ("sweep", "manybody.measured.sweeps", "read_sweep"),
])
def test_a_device_is_not_a_table_or_a_sweep(what, module, reader, tmp_path):
    """Session 31: fit-data /dev/null said 'not found'."""
    import importlib

    call = getattr(importlib.import_module(module), reader)
    with pytest.raises(ValueError, match=rf"{what} '/dev/null' is not a regular file \(a device"):
        call("/dev/null")
    with pytest.raises(IsADirectoryError, match=rf"{what} '.*' is a directory, not a file"):
        call(tmp_path)
    (tmp_path / "gone").symlink_to(tmp_path / "missing.csv")
    with pytest.raises(FileNotFoundError, match=r"not found \('.*gone' is a link to a missing "
                       r"file"):
        call(tmp_path / "gone")


def test_negative_option_values_need_no_equals_sign():
    """Session 31: '--powers -80,-100' was "expected one argument" (argparse read the value as
    an option); dBm powers are negative."""
    from manybody.cli.app import attach_negative_values

    parser = build_parser()
    argv = ["-v", "fit-data", "a.csv", "b.csv", "--powers", "-80,-100", "--frequency", "-5GHz",
            "--tmax", "1", "--overwrite", "--out", "-dir"]
    assert attach_negative_values(parser, argv) == [
        "-v", "fit-data", "a.csv", "b.csv", "--powers=-80,-100", "--frequency=-5GHz", "--tmax",
        "1", "--overwrite", "--out", "-dir"]
    args = parser.parse_args(attach_negative_values(parser, argv[:-2]))  # '-dir': an option
    assert args.powers == "-80,-100" and args.frequency == "-5GHz"
    assert attach_negative_values(parser, ["fit-data", "--", "--powers", "-8,-9"]) == [
        "fit-data", "--", "--powers", "-8,-9"]
    assert attach_negative_values(parser, ["fit-data", "--powers"]) == ["fit-data", "--powers"]


@pytest.mark.parametrize("length", [242, 253, 300])
def test_an_output_name_too_long_for_its_checkpoint_is_refused_before_any_work(spec, length,
                                                                              capsys):
    """A 253-byte output name is legal, its checkpoint's (+ '.checkpoint') is not: the run ended
    in an OSError traceback, and info on a 300-byte name too (a new user, session 35)."""
    name = "a" * (length - 3) + ".nc"
    status, err = cli(["run", spec, "-o", name], capsys)
    refused(status, err, "--output", f"the file name is {length} bytes long",
            "use a name of at most 241 bytes")
    assert tree(Path.cwd()) == []
    status, err = cli(["info", "b" * 300 + ".nc"], capsys)
    refused(status, err, "manybody info: error: the file name", "longer than the file system")


def test_an_output_name_that_leaves_room_for_its_checkpoint_is_taken(spec):
    from manybody.support.paths import name_too_long_reason

    assert name_too_long_reason(Path("a" * 241), Path.cwd()) is None
    assert "241" in name_too_long_reason(Path("a" * 242), Path.cwd())
    assert "folder name" in name_too_long_reason(Path("b" * 256) / "x.nc", Path.cwd())


def test_verbose_is_taken_after_the_command_as_before_it():
    """'manybody run SPEC -o X -v' was 'unrecognized arguments: -v' (a new user, session 35)."""
    parser = build_parser()
    for argv in (["-v", "run", "s.toml", "-o", "x.nc"], ["run", "s.toml", "-o", "x.nc", "-v"],
                 ["info", "x.nc", "--verbose"], ["-v", "fit-data", "t.csv", "-v"]):
        assert parser.parse_args(argv).verbose is True, argv
    assert parser.parse_args(["run", "s.toml", "-o", "x.nc"]).verbose is False


def test_a_missing_dask_is_refused_before_the_study_plan(spec, tmp_path, capsys, monkeypatch):
    """Without dask the study printed its plan and started the first sweep before 'the dask
    backend needs dask.distributed' (a new user, session 36); run is refused as early."""
    import manybody.runs.sweep as sweep

    monkeypatch.setattr(sweep, "dask_import_error", lambda: "it is not installed")
    status, err = cli([*STUDY, "--backend", "dask", "-o", tmp_path / "study"], capsys)
    refused(status, err, "needs dask.distributed", "pip install")
    assert not (tmp_path / "study").exists()
    status, err = cli(["run", spec, "-o", tmp_path / "o.nc", "--backend", "dask"], capsys)
    refused(status, err, "needs dask.distributed")


def test_a_study_stopped_while_fitting_says_how_to_go_on(tmp_path, capsys, monkeypatch):
    """Ctrl-C between sweeps (the fits) said only that nothing was half-written, without the
    way on that an interruption while computing gives (a new user, session 36)."""
    import manybody.study.run as study_run

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(study_run, "summarise", interrupted)
    status = main(["study", "--tiny", "--only", "dipolar", "--no-figures", "-o",
                   str(tmp_path / "s")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 130
    assert err[-1].endswith("none is half-written; rerun the same command to continue (finished "
                            "sweeps are reused)"), err


@pytest.mark.parametrize(("given", "written"), [
    ("ghost.d/../out.nc", "out.nc"), ("a/b/../../out.nc", "out.nc"), ("a/new/../out.nc", "a/out.nc")])
def test_an_output_through_a_missing_folder_and_back_leaves_no_folder(tmp_path, monkeypatch,
                                                                       capsys, given, written):
    """-o ghost.d/../out.nc wrote out.nc and left an empty ghost.d behind (a helper, session
    36): the missing folder is not created at all."""
    (tmp_path / "spec.toml").write_text(SPEC)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "spec.toml", "-o", given, "--no-progress"]) == 0, capsys.readouterr().err
    made = tree(tmp_path)
    assert written in made and "ghost.d" not in made and "a/b" not in made, made
    assert "a/new" not in made, made


def test_run_says_where_it_wrote(tmp_path, monkeypatch, capsys):
    """'wrote new/../out.nc' named a path through a folder that does not exist (left alone in
    session 36): the line names the file as written; '-o link/../x.nc' names real/x.nc."""
    (tmp_path / "spec.toml").write_text(SPEC)
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real" / "sub")
    monkeypatch.chdir(tmp_path)
    for given, written in (("new/../out.nc", "out.nc"), ("link/../x.nc",
                                                        str(tmp_path / "real" / "x.nc"))):
        assert main(["run", "spec.toml", "-o", given, "--no-progress"]) == 0
        assert capsys.readouterr().out.startswith(f"wrote {written}: "), given


def test_a_broken_dask_names_its_own_import_error(monkeypatch):
    """An installed but broken dask.distributed was reported as missing, hiding the real
    ImportError (a helper, session 36)."""
    import sys

    import manybody.runs.sweep as sweep

    pytest.importorskip("distributed")
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # its import now fails
    with pytest.raises(ImportError, match=r"needs dask.distributed, and its import fails: "
                                          r".*dask.distributed"):
        sweep.check_run_arguments(1, "dask", None)


def test_an_output_through_a_link_and_back_is_one_place(tmp_path, monkeypatch, capsys):
    """-o link/../x.nc (link -> real/sub) made the checkpoint under real/ and looked for its
    meta.json under the folder the path spells out: a bare Errno 2 and a stray folder (a helper,
    session 36). '..' after a link is its target's parent, for every file of the run."""
    (tmp_path / "spec.toml").write_text(SPEC)
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real" / "sub")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "spec.toml", "-o", "link/../x.nc", "--no-progress"]) == 0, \
        capsys.readouterr().err
    assert (tmp_path / "real" / "x.nc").is_file()
    assert not list(tmp_path.rglob("*.checkpoint")) and not (tmp_path / "x.nc").exists()


def test_fit_data_and_make_figures_through_a_missing_folder_and_back(tmp_path, monkeypatch,
                                                                      capsys):
    """fit-data --out new/../fd and make_figures --out new2/../figs left the empty folders
    behind (a helper, session 36), as run's -o did."""
    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(tmp_path)
    table = root / "data" / "resonator_nb_cpw" / "qint_140dBm.csv"
    assert main(["fit-data", str(table), "--frequency", "5.62GHz", "--out", "new/../fd"]) == 0, \
        capsys.readouterr().err
    study = tmp_path / "study"
    study.mkdir()
    shutil.copy(root / "results" / "study" / "summary.json", study / "summary.json")
    proc = subprocess.run([sys.executable, str(root / "scripts" / "make_figures.py"), str(study),
                           "--out", "new2/../figs"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    made = tree(tmp_path)
    assert "fd" in made and "figs" in made and "new" not in made and "new2" not in made, made
