"""Session 63 (a tester, bt219 F3; session 62's note): a decisively negative fitted background,
a loss below zero that no resonator has, was not named. It is now warned about, naming the
curve, the value and its errors; the verdict is left as the fits give it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import manybody as mb
from manybody.laws.inputs import LossCurve

T = np.geomspace(0.02, 1.0, 20)
W_KELVIN = 0.2399  # 5 GHz


def _compare(loss: np.ndarray, label: str = "c") -> tuple[object, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = mb.compare_laws(LossCurve(T, loss, label=label), "5GHz")
    return result, [str(w.message) for w in caught if "background is negative" in str(w.message)]


def test_a_loss_falling_faster_than_the_law_is_told_its_negative_background():
    rng = np.random.default_rng(0)
    loss = 1e-5 * np.tanh(W_KELVIN / T / 2) ** 2 * (1 + 0.01 * rng.standard_normal(T.size))
    result, said = _compare(loss, "steep")
    background = result.fits["family"].parameters["background"]
    assert background < 0
    assert len(said) == 1 and f"background = {background:.3g} +- " in said[0], said
    assert "errors below 0" in said[0] and "never below zero" in said[0]


@pytest.mark.parametrize("law", ["tanh", "generic"])
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("floor", [0.0, 2e-6])
def test_the_laws_with_or_without_a_floor_are_not_told(law, seed, floor):
    rng = np.random.default_rng(seed)
    x = W_KELVIN / T
    shape = np.tanh(x / 2) if law == "tanh" else 1 - np.exp(-x)
    loss = (1e-5 * shape + floor) * (1 + 0.02 * rng.standard_normal(T.size))
    _, said = _compare(loss)
    assert said == []


def test_fit_data_prints_it(tmp_path):
    """(In a process of its own: pytest keeps the warnings of an in-process main.)"""
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    loss = 1e-5 * np.tanh(W_KELVIN / T / 2) ** 2 * (1 + 0.01 * rng.standard_normal(T.size))
    path = tmp_path / "steep.csv"
    path.write_text("T (K),loss\n" + "".join(f"{a:.6g},{b:.6g}\n" for a, b in zip(T, loss, strict=True)))
    done = subprocess.run([sys.executable, "-m", "manybody", "fit-data", str(path), "--frequency",
                           "5GHz", "--out", str(tmp_path / "o")], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "the family fit's background is negative" in done.stderr, done.stderr


# bt226 F2: given errors 20x too large were taken without a word ------------------------------


def _with_errors(relative_error: float, seed: int, scatter: float = 0.005):
    rng = np.random.default_rng(seed)
    t = np.geomspace(0.015, 0.4, 13)
    loss = (1e-5 * np.tanh(W_KELVIN / t / 2) + 2e-6) * (1 + scatter * rng.standard_normal(t.size))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = mb.compare_laws(LossCurve(t, loss, relative_error * loss, label="c"), "5GHz")
    return result, [str(w.message) for w in caught if "overstated" in str(w.message)]


def test_errors_far_larger_than_the_scatter_are_named():
    result, said = _with_errors(0.10, seed=0)
    assert len(said) == 1 and "chi^2/dof = 0.00" in said[0] and "percent or 2-sigma" in said[0]
    assert result.verdict == "undecided"  # the fit is left as given


@pytest.mark.parametrize("seed", range(8))
def test_errors_of_the_scatter_s_size_are_not_named(seed):
    _, said = _with_errors(0.005, seed)
    assert said == []


def test_the_simulated_data_sets_do_not_repeat_the_data_s_diagnostics():
    """--simulate printed the negative-background warning once per simulated set (bt229 F4)."""
    from manybody.measured.comparison import discrimination_power

    rng = np.random.default_rng(0)
    loss = 1e-5 * np.tanh(W_KELVIN / T / 2) ** 2 * (1 + 0.01 * rng.standard_normal(T.size))
    result, said = _compare(loss, "steep")
    assert len(said) == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        discrimination_power(result, 5, np.random.default_rng(1))
    assert not [w for w in caught if "background is negative" in str(w.message)]


def test_the_loss_of_a_loss_and_shift_fit_gets_the_same_diagnostics():
    """--shift and --joint ran neither warning (bt229 F5): the loss fit's own are said once."""
    from manybody.laws.inputs import ShiftCurve
    from manybody.laws.joint import compare_loss_shift
    from manybody.laws.shift import shift_tls

    rng = np.random.default_rng(0)
    loss = 1e-5 * np.tanh(W_KELVIN / T / 2) ** 2 * (1 + 0.01 * rng.standard_normal(T.size))
    shift = ShiftCurve(T, 1e-5 / np.pi * shift_tls(W_KELVIN / T))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare_loss_shift([LossCurve(T, loss, label="steep")], shift, "5GHz")
    said = [str(w.message) for w in caught if "background is negative" in str(w.message)]
    assert len(said) == 1, said
