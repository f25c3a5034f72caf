"""Session 63 (a tester, bt223 F2, F3): the lone-point check looked at one point at a time, so
two adjacent typos hid each other (not named), and two a row or two apart were told "two
resonators interleaved" without their rows. The lone points are now the largest set that stands
alone off a curve that is smooth without them. An end point extrapolated over a long lever (a
first temperature far below two close ones) is no longer named on a clean curve."""

from __future__ import annotations

import math

import numpy as np
import pytest
from loss_tables import read_warnings, velocity_warnings

from manybody.measured.tables import lone_points

W_KELVIN = 0.24
T = np.geomspace(0.02, 1.0, 20)


def _loss(t: np.ndarray, law: str = "tls") -> np.ndarray:
    x = W_KELVIN / t
    return 1e-5 * (np.tanh(x / 2) if law == "tls" else 1 - np.exp(-x)) + 2e-6


def _warnings(tmp_path, t, qi) -> list[str]:
    path = tmp_path / "qi.csv"
    path.write_text("T (K),Qi\n" + "".join(f"{a:.6g},{q:.6g}\n" for a, q in zip(t, qi, strict=True)))
    return read_warnings(path)


@pytest.mark.parametrize("rows, factors", [((8, 9), (10, 10)), ((8, 9), (3, 3)), ((8, 10), (10, 10)),
                                           ((8, 10), (3, 1 / 3)), ((8, 9), (10, 0.1)),
                                           ((5, 13), (5, 0.2)), ((2, 3), (0.25, 0.25))])
def test_two_typos_near_each_other_are_both_named_with_their_rows(tmp_path, rows, factors):
    rng = np.random.default_rng(sum(rows))
    qi = 1 / (_loss(T) * (1 + 0.01 * rng.standard_normal(T.size)))
    for row, factor in zip(rows, factors, strict=True):
        qi[row] *= factor
    said = _warnings(tmp_path, T, qi)
    assert len(said) == 1, said
    assert "interleaved" not in said[0]
    for row in rows:
        assert f"data row(s) {row + 1}: {qi[row]:.4g}" in said[0], said[0]


def test_the_factor_named_is_off_the_curve_of_the_clean_points():
    log_loss = np.log(_loss(T))
    spiked = log_loss.copy()
    spiked[[8, 9]] += math.log(4.0)  # each alone would be only 2x off the line through the other
    found = lone_points(T, spiked)
    assert [i for i, _ in found] == [8, 9]
    assert all(ratio == pytest.approx(4.0, rel=0.05) for _, ratio in found)


def test_rows_of_two_resonators_interleaved_are_still_told_so(tmp_path):
    qi = 1 / _loss(T)
    qi[1::2] *= 4  # every other row another resonator
    said = _warnings(tmp_path, T, qi)
    assert len(said) == 1 and "interleaved" in said[0] and "data row" not in said[0], said


def test_two_adjacent_points_climbing_at_the_top_are_no_lone_points():
    log_loss = np.log(_loss(T))
    log_loss[-2:] += np.log([4.0, 16.0])  # a quasiparticle onset over the last two points
    assert lone_points(T, log_loss) == []


@pytest.mark.parametrize("seed", range(40))
def test_clean_curves_on_uneven_grids_name_no_lone_end_point(seed):
    """A first point far below two close ones was extrapolated to over a long lever and named
    (about one clean curve in fifteen on random grids before)."""
    rng = np.random.default_rng(seed)
    t = np.unique(rng.uniform(rng.choice([0.01, 0.02, 0.05]), rng.choice([0.3, 0.6, 1.0]),
                              int(rng.integers(6, 30))))
    law = "tls" if seed % 2 else "generic"
    noise = (0.0, 0.01, 0.03, 0.05)[seed % 4]
    log_loss = np.log(_loss(t, law) * (1 + noise * rng.standard_normal(t.size)))
    assert lone_points(t, log_loss) == []


def test_a_six_point_grid_names_its_typo():
    t = np.geomspace(0.02, 1.0, 6)
    for row in range(6):  # the second point too (its lower neighbour an end: bt223 F4)
        log_loss = np.log(_loss(t))
        log_loss[row] -= math.log(10)
        assert [i for i, _ in lone_points(t, log_loss)] == [row]


# the second round (bt229) ----------------------------------------------------------------------


@pytest.mark.parametrize("grid, rows, factors", [
    (np.geomspace(0.015, 1.0, 20), (3, 4), (5.0, 3.0)),
    (np.linspace(0.02, 1.0, 30), (17, 18), (3.0, 10.0)),
    (np.linspace(0.02, 1.0, 12), (7, 8), (0.2, 1 / 3)),
])
def test_two_adjacent_typos_of_unequal_factors_are_both_named(grid, rows, factors):
    """The smaller lay near the line from its clean neighbour to the larger, and was no
    candidate; alone, the larger's neighbour was not smooth: neither was named (bt229 F1)."""
    log_loss = np.log(_loss(grid))
    for row, factor in zip(rows, factors, strict=True):
        log_loss[row] -= math.log(factor)  # a Qi typed factor x too high
    assert [i for i, _ in lone_points(grid, log_loss)] == list(rows)


def test_a_clean_row_is_not_named_in_place_of_a_typo_beside_a_far_end():
    """Rows 1 (10x high) and 3 (10x low) of a 12-point linear grid: row 2, clean, was named,
    judged against the typo of row 1, an end too far out to tell (bt229 F2)."""
    t = np.linspace(0.02, 0.6, 12)
    log_loss = np.log(_loss(t))
    log_loss[0] -= math.log(10)
    log_loss[2] += math.log(10)
    assert 1 not in [i for i, _ in lone_points(t, log_loss)]


def test_a_clean_point_before_a_gap_and_a_quasiparticle_climb_is_not_named():
    """bt229 F3: 1/Q = 1e-5 tanh(0.135/T) + 2e-7 + 1e-3 exp(-1.5/T), exact, at a gap of 2x in T
    before the climb: the point before it lies below the line across the gap, as a convex
    curve does."""
    t = np.array([131, 259.5, 488, 509.4, 578.2, 600.2, 625.2, 675.7, 710.8, 745.2]) * 1e-3
    loss = 1e-5 * np.tanh(0.135 / t) + 2e-7 + 1e-3 * np.exp(-1.5 / t)
    assert lone_points(t, np.log(loss)) == []
    typo = np.log(loss)
    typo[5] += math.log(5)  # a typo inside the climb is still named
    assert [i for i, _ in lone_points(t, typo)] == [5]


@pytest.mark.parametrize("grid", [np.linspace(0.02, 1.0, 6), np.linspace(0.02, 1.0, 15),
                                  np.linspace(0.02, 1.0, 30)])
def test_a_clean_base_point_below_the_velocity_maximum_is_not_named(tmp_path, grid):
    """bt229 F7b: delta v/v rising as ln T to T_max ~ 0.13 K, then falling: on linear grids from
    20 mK the base point, alone below the maximum, was named "90-100 % of the span below the
    line" through two points at or past the peak."""
    u = np.log(grid / 0.1)
    shift = 1e-5 * (np.log(grid / 0.01) - 1.5 * np.logaddexp(0, 3 * u) / 3)
    said = velocity_warnings(tmp_path / "v.csv", "T (mK),delta v/v", grid * 1e3, shift)
    assert not [w for w in said if "neighbouring temperatures" in w]
