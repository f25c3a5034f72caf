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
from manybody.simulation.solvers.chebyshev.kpm import SpectralScale
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
