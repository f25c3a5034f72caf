"""A sweep stopped part way, as an interrupted run leaves it: its checkpoint holds the tasks that
finished (shared by tests/test_lifecycle.py, test_spec_cli_faults_s59.py, s60 and s61)."""

from __future__ import annotations

from pathlib import Path

import pytest


class Stopped(Exception):
    """Raised from the progress callback: the run stops there, as after a Ctrl-C."""


def interrupted_run(spec_path: Path | str, output: Path | str, after: int = 4,
                    chunk_size: int = 2) -> None:
    """Run the spec at ``spec_path`` into ``output`` and stop it once ``after`` realisations
    have finished (tasks of ``chunk_size``); the checkpoint stays beside ``output``."""
    from manybody.runs.spec import RunSpec
    from manybody.runs.sweep import run_sweep

    def stop(done, total):
        if done >= after:
            raise Stopped

    with pytest.raises(Stopped):
        run_sweep(RunSpec.from_toml(spec_path), output=output, progress=stop,
                  chunk_size=chunk_size)


def interrupted_command(tmp_path: Path, monkeypatch, text: str, spec_arg: str) -> tuple[Path, Path]:
    """A run of the spec ``text`` written to ``tmp_path/s.toml``, recorded as ``manybody run
    SPEC_ARG -o o.nc --no-progress`` (its meta.json's command) and stopped after 4 of its
    realisations (tasks of 2): the checkpoint directory and the spec file."""
    from manybody.runs.checkpoint import checkpoint_dir

    spec = tmp_path / "s.toml"
    spec.write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["manybody", "run", spec_arg, "-o", "o.nc", "--no-progress"])
    interrupted_run(spec, "o.nc", after=4, chunk_size=2)
    return checkpoint_dir(tmp_path / "o.nc"), spec
