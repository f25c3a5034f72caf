"""Session 59 (testers bt200, bt196): ``manybody run``'s messages. ``seed = [1, 2]`` in [sweep]
was told to write seed at the top of the file although it was there; missing requirements of a
spec came one at a time; a run from /dev/stdin recorded a resume command that cannot be
replayed."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from interrupted_runs import interrupted_command

from manybody.cli.app import main

TOP = 'name = "x"\nseed = 1\nrealisations = 2\n'
MODEL = "[model]\nn_tls = 3\n"
PROBE = "[probe]\nfrequencies = [0.1]\ntemperatures = [0.02, 0.05]\nobservables = [\"absorption\"]\n"
BROADENING = '[probe.broadening]\nkind = "gaussian"\nwidth = 0.02\n'


def _run(tmp_path, capsys, text: str, *options: str) -> tuple[int, str]:
    spec = tmp_path / "s.toml"
    spec.write_text(text)
    status = main(["run", str(spec), "-o", str(tmp_path / "o.nc"), "--no-progress", *options])
    return status, capsys.readouterr().err


# ------------------------------------------------------------------------------ bt200 item 5
@pytest.mark.parametrize("line, key, why", [
    ("seed = [1, 2]", "seed", "derived from the one seed of the run"),
    ('name = ["a", "b"]', "name", "a run has one name"),
])
def test_a_top_level_key_swept_is_told_it_cannot_be_swept(tmp_path, capsys, line, key, why):
    status, err = _run(tmp_path, capsys, TOP + MODEL + PROBE + BROADENING + f"[sweep]\n{line}\n")
    assert status == 2, err
    assert f"{key} cannot be swept: " in err and why in err and "remove it from [sweep]" in err, err
    assert "at the top of the file" not in err, err


# ----------------------------------------------------------------------------------- bt196 F6
def test_every_missing_requirement_of_the_observables_is_told_at_once(tmp_path, capsys):
    probe = PROBE.replace('["absorption"]', '["relaxation_absorption", "pair_count", "saturation"]')
    status, err = _run(tmp_path, capsys, TOP + MODEL + probe + BROADENING)
    assert status == 2, err
    assert err.count("\n") == 1, err  # one line
    for said in ("observables 'relaxation_absorption', 'saturation' need probe.phonon_rate_prefactor",
                 "observable 'pair_count' needs probe.matrix_element_bins",
                 "observable 'saturation' needs probe.saturation"):
        assert said in err, err


def test_what_the_model_cannot_give_is_told_at_once_too(tmp_path, capsys):
    """A random block of 2 levels (n_tls = 1, no TLS term): spacing_ratio needs 3 levels and
    single_tls_fraction a TLS term; both in one message (they came one at a time)."""
    model = ('[model]\nn_tls = 1\ntls = false\n[model.random_matrix]\nkind = "flat"\nweight = 10.0\n'
             '[model.stress]\ndistribution = "none"\nrandom_matrix = 1.0\n')
    probe = PROBE.replace('["absorption"]', '["absorption", "spacing_ratio", "single_tls_fraction"]')
    status, err = _run(tmp_path, capsys, TOP + model + probe + BROADENING)
    assert status == 2, err
    assert err.count("\n") == 1, err
    assert "'spacing_ratio' needs at least 3 levels" in err and "['single_tls_fraction']" in err, err


def _interrupted(tmp_path, monkeypatch, spec_arg: str):
    """A run of 6 realisations stopped after 4 (tests/interrupted_runs.py)."""
    text = TOP.replace("realisations = 2", "realisations = 6") + MODEL + PROBE + BROADENING
    return interrupted_command(tmp_path, monkeypatch, text, spec_arg)


def test_a_run_from_standard_input_is_resumed_from_the_checkpoints_copy_of_its_spec(
        tmp_path, capsys, monkeypatch):
    directory, spec = _interrupted(tmp_path, monkeypatch, "/dev/stdin")
    copy = directory / "spec.toml"
    assert copy.read_text() == spec.read_text()
    assert main(["info", str(directory)]) == 0
    out = capsys.readouterr().out
    assert "the spec was read from /dev/stdin, which the recorded command does not replay" in out, out
    command = ["run", str(copy.resolve()), "-o", "o.nc", "--no-progress"]
    assert f"with the copy ({shlex.join(['manybody', *command])})" in out, out
    spec.unlink()  # the copy is all the user has
    assert main(command) == 0
    assert "resumed 4" in capsys.readouterr().out


@pytest.mark.parametrize("edit, said", [
    (lambda text: text.replace("seed = 1", "seed = 2"), "gives another spec_sha256 than the run"),
    (lambda text: text + "[[[", "is no longer a readable spec ("),
])
def test_an_edited_copy_of_the_spec_is_not_recommended(tmp_path, capsys, monkeypatch, edit, said):
    """info recommended resuming with the checkpoint's copy of a spec read from /dev/stdin even
    after the copy was edited: that rerun refuses the checkpoint as another spec's (bt205 F14)."""
    directory, _ = _interrupted(tmp_path, monkeypatch, "/dev/stdin")
    copy = directory / "spec.toml"
    copy.write_text(edit(copy.read_text()))
    assert main(["info", str(directory)]) == 0
    out = capsys.readouterr().out
    assert said in out and "a rerun with it would not resume this checkpoint" in out, out
    assert "with the copy (" not in out, out
    assert "(manybody run /dev/stdin -o o.nc --no-progress" in out, out


def test_a_run_from_a_file_is_resumed_by_its_own_command(tmp_path, capsys, monkeypatch):
    directory, _ = _interrupted(tmp_path, monkeypatch, "s.toml")
    assert main(["info", str(directory)]) == 0
    out = capsys.readouterr().out
    assert "(manybody run s.toml -o o.nc --no-progress)" in out and "copy" not in out, out


def test_a_spec_piped_to_dev_stdin_is_read_once_and_kept(tmp_path):
    """``cat spec.toml | manybody run /dev/stdin`` found the spec empty (the sweep's size was
    read from the pipe first); the run notes that the checkpoint keeps a copy to resume from."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-m", "manybody", "run", "/dev/stdin", "-o", "o.nc",
                           "--no-progress"], input=TOP + MODEL + PROBE + BROADENING, text=True,
                          capture_output=True, cwd=tmp_path, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(root)))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o.nc").is_file()
    assert ("note: the spec is read from /dev/stdin: the checkpoint keeps a copy of it "
            "(o.nc.checkpoint/spec.toml)") in done.stderr, done.stderr
