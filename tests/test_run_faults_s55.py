"""Faults of the run specification's surface found by session 55's break test (helper-176), each
with the right behaviour.

- A repeated whole number on a sweep axis was shown as a float: "[3, 3] (3.0 twice)".
"""

from __future__ import annotations

import numpy as np
import pytest

from manybody.runs.spec import normalise_sweep
from manybody.support import validate as v


def test_a_repeated_whole_number_is_shown_as_given():
    with pytest.raises(ValueError, match=r"\[3, 3\] \(3 twice\); give each once"):
        normalise_sweep({"model.n_tls": [3, 3]})
    with pytest.raises(ValueError, match=r"\(0\.01 twice\)"):
        normalise_sweep({"model.coupling.strength": [0.01, 0.02, 0.01]})


def test_near_repeats_keep_the_numbers_as_given_and_find_the_same_pairs():
    assert v.near_repeats([3, 5, 3]) == [(3, 3)]
    assert v.near_repeats(np.array([2, 1, 2])) == [(2, 2)]
    assert v.near_repeats([0.1, 0.1 * (1 + 1e-12), 0.2]) == [(0.1, 0.1 * (1 + 1e-12))]
    assert v.near_repeats([1, 2.0, 3]) == []
    assert v.describe_repeats(v.near_repeats([7, 7.0])) == "7 twice"


@pytest.mark.parametrize(("body", "words"), [
    ("[model]\nn_tls = 1\n", "probe.observables entry 'spacing_ratio'"),
    ("[model]\nn_tls = 3\n[sweep]\n\"model.n_tls\" = [1, 3]\n",
     "sweep point model.n_tls=1: probe.observables entry 'spacing_ratio'"),
    ("[model]\nn_tls = 16\n", "needs about"),  # dense ED's memory refusal
], ids=["n_tls 1", "a sweep point", "memory"])
def test_a_refused_sweep_point_is_named_by_its_spec_file(body, words, tmp_path, capsys):
    """helper-176 F3: these refusals began "run specification: " or "sweep point ...", where
    every other refusal of a spec begins with its file."""
    from manybody.cli import main

    spec = tmp_path / "mine.toml"
    spec.write_text('seed = 1\nrealisations = 1\n' + body + '[probe]\nfrequencies = [0.1]\n'
                    'temperatures = [0.1]\nobservables = ["spacing_ratio"]\n'
                    '[solver]\nmethod = "dense"\n')
    assert main(["run", str(spec), "-o", str(tmp_path / "o.nc")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"manybody run: error: {spec}: ") and words in err, err
    assert "run specification:" not in err and not (tmp_path / "o.nc").exists()
