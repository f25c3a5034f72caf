"""Session 59 (a tester, bt203): a stop that arrived as a finished sweep's checkpoint was removed
was swallowed (``manybody study`` ran on to its end, exit 0) and left the renamed checkpoint
behind; a resume of a sweep whose realisations had all finished said "computing 14
realisations"; a damaged results file in the study's folder was told to be rerun; info said "to
compute the rest" of nothing; a study into a folder of other files said nothing, and '//' for
-o /."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from manybody.cli.app import main

SPEC = ('name = "c"\nseed = 5\nrealisations = 3\n[model]\nn_tls = 3\n'
        '[probe]\nfrequencies = [0.1]\ntemperatures = [0.05, 0.1]\n')


@pytest.fixture
def stop_after_rename(monkeypatch):
    """A stop the moment a finished run's checkpoint has been renamed away for deletion."""
    import manybody.runs.checkpoint as checkpoint

    real = os.rename
    calls = []

    def rename(src, dst, *args, **kwargs):
        real(src, dst, *args, **kwargs)
        if ".removed-" in str(dst) and not calls:
            calls.append(dst)
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint.os, "rename", rename)
    return calls


def test_a_stop_during_the_removal_is_raised_once_the_checkpoint_is_gone(tmp_path,
                                                                           stop_after_rename):
    from manybody.runs.checkpoint import checkpoint_dir
    from manybody.runs.spec import RunSpec
    from manybody.runs.sweep import run_sweep

    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    output = tmp_path / "r.nc"
    with pytest.raises(KeyboardInterrupt) as stop:
        run_sweep(RunSpec.from_toml(spec), output=output, n_jobs=1, chunk_size=1)
    assert stop_after_rename  # the stop came after the rename
    assert output.is_file() and not checkpoint_dir(output).exists()
    assert not list(tmp_path.glob(".*removed-*"))  # the renamed checkpoint deleted too
    assert stop.value.finished_result.sizes["realisation"] == 3


def test_manybody_run_ends_as_finished_and_says_the_stop_came_late(tmp_path, capsys,
                                                                    stop_after_rename):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    assert main(["run", str(spec), "-o", str(tmp_path / "r.nc"), "--no-progress"]) == 0
    said = capsys.readouterr()
    assert "a stop arrived as the run finished" in said.err and "wrote " in said.out + said.err
    assert not list(tmp_path.glob(".*removed-*"))


def test_a_study_stops_at_a_stop_that_came_as_a_sweep_finished(tmp_path, capsys,
                                                               stop_after_rename):
    out = tmp_path / "st"
    argv = ["study", "--tiny", "--only", "dipolar", "-j", "1", "--no-figures", "-o", str(out)]
    assert main(argv) == 130  # it ran on to its end, exit 0
    err = capsys.readouterr().err
    assert "the run had finished" in err and "rerun the same command to continue" in err, err
    assert (out / "dipolar.nc").is_file() and not (out / "summary.json").exists()
    assert not list(out.glob(".*removed-*"))
    assert main(argv) == 0
    assert "dipolar: reusing finished results" in capsys.readouterr().err


def test_a_resume_says_how_many_realisations_it_took_and_info_what_is_left(tmp_path, capsys,
                                                                           monkeypatch):
    import manybody.runs.sweep as sweep

    real = sweep._save
    monkeypatch.setattr(sweep, "_save", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    out = tmp_path / "st"
    argv = ["study", "--tiny", "--only", "dipolar", "-j", "1", "--no-figures", "-o", str(out)]
    assert main(argv) == 130
    assert "had finished and are kept in the checkpoint" in capsys.readouterr().err
    assert main(["info", str(out / "dipolar.nc.checkpoint")]) == 0
    info = capsys.readouterr().out
    assert "to write the results file (nothing is computed again)" in info
    assert "to compute the rest" not in info
    monkeypatch.setattr(sweep, "_save", real)
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "dipolar: 14 of 14 realisations taken from the checkpoint, 0 computed" in err, err


def test_a_damaged_results_file_of_the_study_is_to_be_deleted_not_rerun(tmp_path, capsys):
    out = tmp_path / "st"
    argv = ["study", "--tiny", "--only", "dipolar", "-j", "1", "--no-figures", "-o", str(out)]
    assert main(argv) == 0
    capsys.readouterr()
    data = (out / "dipolar.nc").read_bytes()
    (out / "dipolar.nc").write_bytes(data[: len(data) // 2])
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "is damaged" in err and "delete it (or move it away) and rerun the study" in err
    assert "rerun the sweep that wrote it" not in err and err.count("\n") == 1, err


def test_a_study_into_a_folder_of_other_files_says_so(tmp_path):
    from manybody.cli.study import _folder
    from manybody.study.run import _other_entries

    assert _folder("/") == "/" and _folder("results/study") == "results/study/"
    assert _folder("results/study/") == "results/study/"
    (tmp_path / "notes.txt").write_text("x")
    assert _other_entries(tmp_path) == ["notes.txt"]
    (tmp_path / "dipolar.nc").write_text("x")  # a study folder (with the user's notes)
    assert _other_entries(tmp_path) == []
    assert _other_entries(Path(tmp_path / "missing")) == []


def test_a_summary_md_that_is_not_the_studys_is_refused_before_work(tmp_path, capsys):
    """A user's notes in summary.md were replaced by the study's table (a tester, bt205 F8)."""
    from manybody.study.run import SUMMARY_MARKDOWN_START
    from manybody.study.summary import format_summary

    assert format_summary([], []).startswith(SUMMARY_MARKDOWN_START)
    out = tmp_path / "st"
    out.mkdir()
    (out / "summary.md").write_text("# my notes, precious\n")
    argv = ["study", "--tiny", "--only", "dipolar", "-j", "1", "--no-figures", "-o", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "summary.md' is not a study's summary table" in err and "move it away" in err, err
    assert (out / "summary.md").read_text() == "# my notes, precious\n"
    assert sorted(p.name for p in out.iterdir()) == ["summary.md"]  # nothing computed


def test_a_checkpoint_of_another_spec_in_the_study_folder_is_told_to_be_moved(tmp_path, capsys):
    """The study was told to 'rerun with the original spec, or pass overwrite=True
    (--overwrite)': it has neither (a tester, bt205 F16)."""
    from manybody.runs.spec import RunSpec
    from manybody.runs.sweep import run_sweep

    out = tmp_path / "st"

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(RunSpec.from_dict({"name": "other", "seed": 5, "realisations": 3,
                                     "model": {"n_tls": 3},
                                     "probe": {"frequencies": [0.1], "temperatures": [0.05, 0.1]}}),
                  output=out / "dipolar.nc", progress=stop, chunk_size=1)
    assert (out / "dipolar.nc.checkpoint").is_dir()
    argv = ["study", "--tiny", "--only", "dipolar", "-j", "1", "--no-figures", "-o", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "move the checkpoint away (or delete it)" in err and "overwrite" not in err, err
