"""Level-spacing ratios: exact degeneracies are collapsed with a tolerance that follows the
precision of the eigenvalues, so float32 and float64 solves agree."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import manybody as mb
from manybody.config.solver import SolverParams
from manybody.simulation.observables.statistics import (
    degeneracy_tolerance,
    eigenvalue_precision,
    mean_spacing_ratio,
    spacing_ratios,
)


def _both_dtypes(real):
    return [mb.solve(real, SolverParams(dtype=d))[0].energies for d in ("float64", "float32")]


def test_zero_field_tls_among_others_same_in_both_dtypes():
    rng = np.random.default_rng(0)
    eps = rng.uniform(-0.3, 0.3, 8)
    delta = np.exp(rng.uniform(np.log(1e-3), np.log(0.3), 8))
    eps[:4] = 0.0
    delta[:4] = 0.0    # four zero-field TLS: every level 16-fold degenerate
    e64, e32 = _both_dtypes(mb.Realisation.from_arrays(asymmetry=eps, tunnelling=delta))
    # the float32 solver splits the degenerate levels by rounding, far below the tolerance
    assert 0 < np.diff(e32)[np.diff(e32) < 1e-3].max() < degeneracy_tolerance(e32) / 4
    assert eigenvalue_precision(e32) == np.float32 and eigenvalue_precision(e64) == np.float64
    # the distinct levels are the 16 sums of +-E_i/2 over the four other TLS
    e_i = np.hypot(eps[4:], delta[4:])
    signs = ((np.arange(16)[:, None] >> np.arange(4)) & 1) * 2 - 1
    distinct = np.sort(0.5 * signs @ e_i)
    expected = np.mean(spacing_ratios(np.repeat(distinct, 16), tolerance=1e-12))
    assert mean_spacing_ratio(e64) == pytest.approx(expected, abs=1e-9)
    assert mean_spacing_ratio(e32) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("n_tls", [8, 9])
def test_identical_tls_give_r_one_in_both_dtypes(n_tls):
    """N identical TLS: N + 1 equally spaced (binomially degenerate) levels, so every r = 1."""
    real = mb.Realisation.from_arrays(asymmetry=np.full(n_tls, 0.1),
                                      tunnelling=np.full(n_tls, 0.05))
    for e in _both_dtypes(real):
        assert mean_spacing_ratio(e) == pytest.approx(1.0, abs=1e-5)


def test_no_distinct_spacings_gives_nan_with_reason():
    # all 8 levels degenerate (H = 0: a Realisation refuses it since session 34, so the levels
    # are given as they would come out)
    for e in (np.zeros(8), np.zeros(8, dtype=np.float32)):
        with pytest.warns(RuntimeWarning, match="distinct levels"):
            assert np.isnan(mean_spacing_ratio(e))
        with pytest.raises(ValueError, match="at least 3 distinct levels"):
            spacing_ratios(e)


def test_generic_spectrum_keeps_every_spacing_in_float64():
    """No genuine spacing of a float64 GOE spectrum is mistaken for a degeneracy."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal((300, 300))
    e = np.linalg.eigvalsh(a + a.T)
    assert spacing_ratios(e, window=1).size == e.size - 2


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_levels=st.integers(4, 60),
       scale=st.floats(1e-3, 1e3), shift=st.floats(-2.0, 2.0),
       window=st.sampled_from([0.5, 0.8, 1.0]))
def test_planted_degeneracies_same_ratios_in_both_precisions(seed, n_levels, scale, shift, window):
    """Random distinct levels (spacings >= 1e-3 of the scale), each repeated 1-5 times; the
    float32 version carries an eigensolver-like error of up to sqrt(D) eps32 |E|max, far
    below the tolerance: both give the ratios of the distinct levels."""
    rng = np.random.default_rng(seed)
    gaps = rng.uniform(1e-3, 1.0, n_levels)
    distinct = scale * (np.cumsum(gaps) - gaps.sum() * (0.5 + 0.25 * shift))
    mult = rng.integers(1, 6, n_levels)
    e64 = np.repeat(distinct, mult)
    err = np.finfo(np.float32).eps * np.abs(e64).max() * np.sqrt(e64.size)
    e32 = (e64 + rng.uniform(-err, err, e64.size)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        r64 = mean_spacing_ratio(e64, window)
        r32 = mean_spacing_ratio(e32.astype(np.float64), window)   # as Spectrum stores it
        r32_native = mean_spacing_ratio(e32, window)
    if np.isnan(r64):
        assert np.isnan(r32) and np.isnan(r32_native)
        return
    # the reference: the distinct levels inside the same (multiplicity-counted) window
    cut = int(round(0.5 * (1 - window) * e64.size))
    kept = np.unique(np.sort(e64)[cut:e64.size - cut])
    s = np.diff(kept)
    ref = np.mean(np.minimum(s[:-1], s[1:]) / np.maximum(s[:-1], s[1:]))
    assert r64 == pytest.approx(ref, abs=1e-9)
    # float32 rounding of spacings >= 1e-3 scale: relative error <= ~1e-4
    assert r32 == pytest.approx(ref, abs=2e-3)
    assert r32_native == r32


def test_degeneracy_tolerance_scales_with_the_spectrum_and_the_precision():
    """4 sqrt(D) eps max|E|: linear in the energy scale (a spectrum in mK or in K is the same
    spectrum), and eps of the precision the eigenvalues were computed in."""
    from manybody.simulation.observables.statistics import degeneracy_tolerance

    e = np.random.default_rng(3).uniform(-1.0, 2.0, 64)
    tol = degeneracy_tolerance(e, np.float64)
    assert tol == pytest.approx(4 * 8 * np.finfo(np.float64).eps * np.abs(e).max(), rel=1e-12)
    assert degeneracy_tolerance(1e3 * e, np.float64) == pytest.approx(1e3 * tol, rel=1e-12)
    assert degeneracy_tolerance(e, np.float32) == pytest.approx(
        tol * np.finfo(np.float32).eps / np.finfo(np.float64).eps, rel=1e-12)
