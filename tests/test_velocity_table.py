"""The study's velocity rows (manybody.study.velocity_table): slopes recovered from synthetic
ensembles, fallback windows for a maximum near an end, a row that says why instead of NaN, and the
paired change against the reference, whose shared disorder noise cancels."""

import math

import numpy as np
import pytest

from manybody.study.velocity_table import (
    WINDOW_RULES,
    format_velocity_table,
    paired_change,
    velocity_row,
)

LABEL = dict(study="relaxation", parameter="strength", value=0.0, n_tls=8)


def kinked(t, t_max, below=1.0, above=-0.5, width=0.15):
    """A smooth curve with log slopes ``below`` / ``above`` far from its maximum at ``t_max``
    (the kink of a narrow softplus in u = ln T; exact maximum for below = -2 above)."""
    u = np.log(np.asarray(t) / t_max)
    z = (below - above) * width * np.logaddexp(0.0, u / width)
    return below * u - z


def ensemble(t, t_max, n, noise, rng, **kw):
    """n realisations: the curve plus independent noise at each T and a random offset."""
    base = kinked(t, t_max, **kw)
    return base + noise * rng.standard_normal((n, t.size)) + rng.standard_normal((n, 1))


def test_row_recovers_the_slopes_the_maximum_and_the_ratio_with_errors_that_cover():
    rng = np.random.default_rng(1)
    t = np.geomspace(0.005, 0.5, 17)
    t_max = 0.04 * 2 ** (1 / 3)  # the vertex of y = u - 1.5 w ln(1 + e^(u/w)): u = w ln 2
    curves = ensemble(t, 0.04, 400, 0.3, rng)
    row = velocity_row(t, curves, LABEL)
    assert row.note == "" and row.realisations == 400 and row.margin == WINDOW_RULES[0][0]
    assert abs(row.slope_below - 1.0) < 4 * row.slope_below_error + 0.01
    assert abs(row.slope_above + 0.5) < 4 * row.slope_above_error + 0.01
    assert abs(row.ratio + 2.0) < 4 * row.ratio_error + 0.05
    assert 0.02 < row.slope_below_error < 0.1 and 0.02 < row.ratio_error < 0.5
    assert abs(math.log(row.temperature_max / t_max)) < 0.3
    assert row.below_to <= row.temperature_max / 3 < row.above_from / 9
    assert math.isnan(row.below_change)  # no reference: no paired change


def test_a_maximum_near_the_top_gets_the_fallback_window_and_at_the_edge_a_reason():
    rng = np.random.default_rng(2)
    t = np.geomspace(0.005, 0.5, 17)
    near = velocity_row(t, ensemble(t, 0.095, 50, 0.01, rng), LABEL)  # vertex 0.12 K
    assert near.note == "" and near.margin == WINDOW_RULES[1][0]  # factor 3 leaves < 3 points
    assert abs(near.slope_above + 0.5) < 0.1
    edge = velocity_row(t, ensemble(t, 2.0, 50, 0.01, rng), LABEL)
    assert "highest temperature" in edge.note and math.isnan(edge.slope_below)
    table = format_velocity_table([near, edge])
    assert "no slopes: the maximum of delta v/v lies at the highest temperature" in table
    assert "nan" not in table


def test_paired_change_cancels_the_shared_disorder_and_recovers_a_known_change():
    rng = np.random.default_rng(3)
    t = np.geomspace(0.005, 0.5, 17)
    reference = ensemble(t, 0.04, 64, 1.0, rng)  # large disorder noise, shared by both models
    changed = reference + 0.2 * np.log(t) + 0.001 * rng.standard_normal(reference.shape)
    row = velocity_row(t, changed, LABEL, reference)
    assert row.slope_below_error > 0.1  # alone, the disorder noise hides a change of 0.2
    assert row.below_change == pytest.approx(0.2, abs=0.002)
    assert row.above_change == pytest.approx(0.2, abs=0.002)
    assert row.below_change_error < 0.002 and row.above_change_error < 0.002
    below, below_err, above, above_err = paired_change(t, changed[:10], reference, _fit(t, changed))
    assert below == pytest.approx(0.2, abs=0.005) and below_err > 0  # first min(n) realisations


def _fit(t, curves):
    from manybody.study.velocity_table import fit_with_fallback

    return fit_with_fallback(t, curves)
