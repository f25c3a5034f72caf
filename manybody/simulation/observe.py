"""One realisation from parameters to small arrays: the per-realisation pipeline.

This is the unit of work of a sweep: it receives parameters and a (seed, realisation index) pair,
and returns a dict of small arrays (never eigenvectors). It reads straight through::

    realisation_rng(seed, r) -> draw_realisation -> solver.build (operators)
        -> solver.respond (raw responses) -> physical_observables (units) -> small arrays

with the solver taken from the registry (:mod:`manybody.simulation.solvers`).
"""

from __future__ import annotations

import numpy as np

from manybody.config.model import ModelParams
from manybody.config.probe import Probe
from manybody.config.solver import SolverParams
from manybody.simulation.ensembles import absorption_normalisation, draw_realisation, realisation_rng
from manybody.simulation.observables.responses import physical_observables
from manybody.simulation.solvers import SOLVERS, reports_errors, solver_for


def observe(
    params: ModelParams,
    seed: int,
    realisation: int,
    probe: Probe,
    solver: SolverParams | None = None,
) -> dict[str, np.ndarray]:
    """Compute the observables of realisation ``realisation`` of ``params``.

    The disorder comes from ``SeedSequence(seed, spawn_key=(realisation,))`` only, so the result
    does not depend on which worker runs it or when; a stochastic solver draws its random vectors
    from its own stream of the same seed and realisation.

    Returns
    -------
    dict of str to numpy.ndarray
        "absorption" (n_T, n_w) in units of pi*C0, "velocity_shift" (n_T, n_w) in units of C0,
        "specific_heat" (n_T,) in units of k_B, "spacing_ratio" () the mean <r>, the relaxation
        observables; in runs that may use a solver reporting errors ("chebyshev", "auto"),
        "<name>_error" companions (zeros from an exact solver).
    """
    solver = solver or SolverParams()
    entry = SOLVERS[solver_for(params, solver)]
    entry.prepare(params, probe, solver)  # refusals before anything is drawn or built
    real = draw_realisation(params, realisation_rng(seed, realisation))
    raw = entry.respond(real, entry.build(real, solver), probe, solver, model=params, seed=seed,
                        realisation=realisation)
    return physical_observables(raw, absorption_normalisation(params), probe.observables,
                                errors=reports_errors(solver))
