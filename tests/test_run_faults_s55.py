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
