"""Session 62 (a tester, bt219 F1, F3): one Qi typed 10x or 3x off, or a last line cut short,
among 19 clean tanh(x/2) points was fitted without a word and turned "TLS" into a confident
"beyond generic" (or "undecided"). Such a lone point is now named, and clean curves, noisy ones
and a quasiparticle climb are not."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from loss_tables import read_warnings, velocity_warnings

from manybody.measured.tables import LONE_RATIO, lone_points, read_loss_table
from manybody.measured.velocity import read_velocity_table

W_KELVIN = 0.24  # 5 GHz


def _loss(t: np.ndarray, law: str = "tls", background: float = 2e-6) -> np.ndarray:
    x = W_KELVIN / t
    shape = np.tanh(x / 2) if law == "tls" else 1 - np.exp(-x)
    return 1e-5 * shape + background


def _table(tmp_path: Path, qi: np.ndarray, t: np.ndarray, name: str = "qi.csv",
           end: str = "\n") -> Path:
    path = tmp_path / name
    path.write_text("T (K),Qi\n" + "\n".join(f"{a:.6g},{q:.6g}" for a, q in zip(t, qi, strict=True))
                    + end)
    return path




T = np.geomspace(0.02, 1.0, 20)


@pytest.mark.parametrize("row", [0, 10, 19])
@pytest.mark.parametrize("factor", [10.0, 0.1, 3.0, 1 / 3])
def test_one_qi_off_its_neighbours_is_named_with_its_row_and_side(tmp_path, row, factor):
    rng = np.random.default_rng(row)
    qi = 1 / (_loss(T) * (1 + 0.01 * rng.standard_normal(T.size)))
    qi[row] *= factor
    found = [w for w in read_warnings(_table(tmp_path, qi, T)) if "neighbouring temperatures" in w]
    assert len(found) == 1, found
    side = "above" if factor > 1 else "below"  # of Q: a Qi typed 10x is above the curve
    assert f"data row(s) {row + 1}: {qi[row]:.4g}" in found[0]
    assert f"x {side} the curve" in found[0]
    # the quasiparticle reading only for a loss climbing at the highest temperature
    assert ("quasiparticle" in found[0]) == (row == 19 and factor < 1)


@pytest.mark.parametrize("law", ["tls", "generic"])
@pytest.mark.parametrize("noise", [0.0, 0.01, 0.03])
@pytest.mark.parametrize("seed", range(4))
def test_clean_and_noisy_curves_name_no_lone_point(tmp_path, law, noise, seed):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0.01, 1.2, 16))
    qi = 1 / (_loss(t, law) * (1 + noise * rng.standard_normal(t.size)))
    assert read_warnings(_table(tmp_path, qi, t)) == []


def test_a_quasiparticle_climb_over_several_points_is_no_lone_point(tmp_path):
    t = np.linspace(0.05, 1.0, 20)
    loss = _loss(t) + 1e-3 * np.exp(-1.76 * 1.2 / t)  # aluminium, Tc = 1.2 K
    assert loss[-1] / _loss(t)[-1] > 3  # the climb is large, but gradual
    assert read_warnings(_table(tmp_path, 1 / loss, t)) == []


def test_a_last_line_cut_short_is_named(tmp_path):
    """The tester's file: '1,313' for '1,313882' and no line end."""
    qi = 1 / _loss(T)
    text = "T (K),Qi\n" + "\n".join(f"{a:.6g},{q:.6g}" for a, q in zip(T, qi, strict=True))
    path = tmp_path / "cut.csv"
    path.write_text(text[:-3])
    found = read_warnings(path)
    assert len(found) == 1 and "data row(s) 20:" in found[0] and "cut short" in found[0]


def test_a_lone_point_of_one_power_is_named_at_that_power(tmp_path):
    rows = []
    for power, scale in ((-80, 3.0), (-120, 1.0)):
        qi = 1 / (_loss(T) / scale)
        if power == -120:
            qi[7] /= 5
        rows += [f"{a:.6g},{power},{q:.6g}" for a, q in zip(T, qi, strict=True)]
    path = tmp_path / "p.csv"
    path.write_text("T (K),power (dBm),Qi\n" + "\n".join(rows) + "\n")
    found = read_warnings(path)
    assert len(found) == 1 and "(at the power -120 dBm)" in found[0] and "data row(s) 28:" in found[0]


def test_lone_points_of_a_power_law_and_of_a_spike():
    t = np.geomspace(0.01, 1, 12)
    log_loss = np.log(3e-6 * t ** -0.7)
    assert lone_points(t, log_loss) == []
    spiked = log_loss.copy()
    spiked[5] += math.log(4.0)
    [(index, ratio)] = lone_points(t, spiked)
    assert index == 5 and ratio == pytest.approx(4.0, rel=1e-9)
    spiked[5] = log_loss[5] + 0.9 * math.log(LONE_RATIO)  # inside the ratio: not named
    assert lone_points(t, spiked) == []
    assert lone_points(t[:5], log_loss[:5]) == []  # too few temperatures to tell


# the same kind of fault in shift tables (velocity and frequency shifts) -----------------------


def _velocity(tmp_path: Path, dv: np.ndarray, t: np.ndarray) -> list[str]:
    return velocity_warnings(tmp_path / "v.csv", "T (K),dv/v (ppm)", t, dv * 1e6)


def _slopes(t: np.ndarray, seed: int = 1, noise: float = 2e-7) -> np.ndarray:
    """The TLS velocity shift: slope 1e-5 per e-fold below T_max = 0.3 K, -0.5e-5 above."""
    rng = np.random.default_rng(seed)
    return (np.where(t < 0.3, 1e-5 * np.log(t / 0.3), -0.5e-5 * np.log(t / 0.3))
            + noise * rng.standard_normal(t.size))


@pytest.mark.parametrize("row, factor", [(12, 10.0), (24, -1.0), (5, 3.0), (0, 0.2)])
def test_one_shift_off_the_curve_is_named_with_its_row(tmp_path, row, factor):
    t = np.geomspace(0.02, 2, 25)
    dv = _slopes(t)
    dv[row] *= factor
    found = [w for w in _velocity(tmp_path, dv, t) if "neighbouring temperatures" in w]
    assert len(found) == 1 and f"data row(s) {row + 1}:" in found[0], found


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("points", [8, 12, 30])
def test_clean_shift_curves_and_their_peak_name_no_lone_point(tmp_path, seed, points):
    t = np.geomspace(0.02, 2, points)
    assert _velocity(tmp_path, _slopes(t, seed, noise=5e-7), t) == []


@pytest.mark.parametrize("reader", ["loss", "velocity"])
def test_a_temperature_named_as_a_unit_slip_is_not_named_again_as_lone(tmp_path, reader):
    t = list(np.geomspace(0.02, 0.5, 12))
    t[4] = 50.17  # 50.17 mK typed in a K column: its value sits far from its neighbours too
    values = 1e-6 * np.tanh(0.27 / np.array(t) / 2) + 2e-7  # its loss is the 50 K one
    header = "loss" if reader == "loss" else "dv/v"
    path = tmp_path / "t.csv"
    path.write_text(f"T (K),{header}\n" + "".join(f"{a:g},{b:.6g}\n"
                                                  for a, b in zip(t, values, strict=True)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (read_loss_table if reader == "loss" else read_velocity_table)(path)
    said = [str(w.message) for w in caught]
    assert any("a value in mK?" in m for m in said), said
    assert not any("neighbouring temperatures" in m for m in said), said
