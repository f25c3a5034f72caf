"""Session 61 (a tester, bt211 F3): the Chebyshev solver gave Q^-1 = 0 +- 0 where dense ED gives
a strong line, for a kernel narrower than the spacing of the nodes on which the moment planner
samples it: the kernel fell between them, its slices looked smooth, and a few moments were
planned. Every kernel is now either resolved or refused."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import manybody as mb
from manybody.config.solver import ChebyshevParams
from manybody.simulation.solvers.chebyshev.kpm import SpectralScale, jackknife_ratio
from manybody.simulation.solvers.chebyshev.plan import (
    FIRST_TAIL_NODES,
    TAIL_NODES,
    first_tail_nodes,
)

PARAMS = mb.ModelParams(n_tls=4, tls=mb.TLSParams(asymmetry_max=0.3, tunnelling_min=1e-3,
                                                  tunnelling_max=0.3))


def _line() -> float:
    spectrum, _ = mb.solve(mb.draw_realisation(PARAMS, mb.realisation_rng(1, 0)))
    return float(spectrum.energies[1] - spectrum.energies[0])


@pytest.mark.parametrize("kind", ["gaussian", "lorentzian"])
@pytest.mark.parametrize("width", [1e-7, 3e-7, 1e-6, 3e-6, 1e-5, 1e-4, 1e-3])
def test_a_narrow_kernel_on_a_line_is_resolved_or_refused(kind, width):
    """Probed exactly on a line: dense ED gives a strong Q^-1 (123 at 1e-6 K); the Chebyshev
    solver agrees within its error, or refuses naming its moments, never 0 +- 0."""
    probe = mb.Probe(frequencies=(_line(),), temperatures=(0.02,), observables=("absorption",),
                     broadening=mb.Broadening(kind=kind, width=width))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dense = float(mb.observe(PARAMS, 1, 0, probe)["absorption"].ravel()[0])
        try:
            found = mb.observe(PARAMS, 1, 0, probe, mb.SolverParams(
                method="chebyshev", chebyshev=ChebyshevParams(trace="exact")))
        except ValueError as exc:
            assert "is too few moments" in str(exc), exc
            if width <= 1e-6:  # far below the nodes' spacing: the kernel's degree is named,
                # not "M > 16384" beside a larger max_moments (bt217 F5)
                assert "(the kernel's own degree)" in str(exc), exc
            return
    value = float(found["absorption"].ravel()[0])
    assert dense > 0.1
    assert abs(value - dense) <= 1e-3 * dense + 5 * float(found["absorption_error"].ravel()[0])


def test_the_first_node_count_puts_a_node_within_the_kernel_of_every_line():
    scale = SpectralScale(-0.3, 0.3, -0.29)
    assert first_tail_nodes(scale, 1.0) == FIRST_TAIL_NODES
    for width in (1e-3, 1e-4, 5e-5):
        n = first_tail_nodes(scale, width)
        assert np.pi / n * scale.half_width <= width < 2 * np.pi / n * scale.half_width \
            or n == FIRST_TAIL_NODES
    assert first_tail_nodes(scale, 1e-6) > TAIL_NODES


def _typicality_z(weights: np.ndarray, observable: np.ndarray, vectors: int, draws: int = 1500
                  ) -> np.ndarray:
    """(estimate - exact) / jackknife error of <O> = sum w O / sum w estimated with real Gaussian
    random vectors (the typicality trace), over ``draws`` sets of ``vectors`` vectors."""
    rng = np.random.default_rng(5)
    exact = float(np.sum(weights * observable) / np.sum(weights))
    squares = rng.standard_normal((draws, vectors, weights.size)) ** 2
    z = []
    for c2 in squares:
        value, error = jackknife_ratio(c2 @ (weights * observable), c2 @ weights)
        z.append((float(value) - exact) / float(error))
    return np.array(z)


def test_jackknife_errors_of_the_typicality_trace_are_calibrated_with_many_vectors():
    """The calibration README states (bt212 F1): with 32 vectors and ~20 levels in the thermal
    weight the jackknife error is the noise within 10 %; with 8 vectors and ~1.5 levels it
    understates it (rms z above 1.2), as the README and ChebyshevParams.n_vectors say."""
    energy = np.sort(np.random.default_rng(2).uniform(0.0, 1.0, 128))
    energy -= energy[0]
    for temperature, vectors, low, high in ((0.3, 32, 0.85, 1.15), (0.004, 8, 1.2, 3.0)):
        weights = np.exp(-energy / temperature)
        z = _typicality_z(weights, energy, vectors)
        assert low <= float(np.sqrt(np.mean(z**2))) <= high, (temperature, vectors)
