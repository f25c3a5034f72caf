"""Session 59 (testers bt200, bt196): ``manybody run``'s messages. ``seed = [1, 2]`` in [sweep]
was told to write seed at the top of the file although it was there; missing requirements of a
spec came one at a time; a run from /dev/stdin recorded a resume command that cannot be
replayed."""

from __future__ import annotations

import pytest

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
