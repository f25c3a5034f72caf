"""One realisation from parameters to small arrays: draw, build, diagonalise, observe.

This is the unit of work of a sweep: it receives parameters and a (seed, realisation index) pair,
and returns a dict of small arrays (never eigenvectors).
"""

from __future__ import annotations

import numpy as np

from manybody.config.model import ModelParams
from manybody.config.probe import OBSERVABLE_DIMS, RELAXATION_OBSERVABLES, Probe
from manybody.config.solver import SolverParams
from manybody.simulation.ensembles import absorption_normalisation, draw_realisation, realisation_rng
from manybody.simulation.observables.absorption import pair_spectrum
from manybody.simulation.observables.statistics import mean_spacing_ratio
from manybody.simulation.observables.thermo import specific_heat
from manybody.simulation.solvers.dense import solve


def observe(
    params: ModelParams,
    seed: int,
    realisation: int,
    probe: Probe,
    solver: SolverParams | None = None,
) -> dict[str, np.ndarray]:
    """Compute the observables of realisation ``realisation`` of ``params``.

    The disorder comes from ``SeedSequence(seed, spawn_key=(realisation,))`` only, so the result
    does not depend on which worker runs it or when.

    Returns
    -------
    dict of str to numpy.ndarray
        "absorption" (n_T, n_w) in units of pi*C0, "velocity_shift" (n_T, n_w) in units of C0,
        "specific_heat" (n_T,) in units of k_B, "spacing_ratio" () the mean <r>.
    """
    solver = solver or SolverParams()
    method = solver.method
    if method == "auto":
        from manybody.simulation.solvers.chebyshev.resources import choose_solver

        method = choose_solver(params, solver.dtype, solver.memory_fraction)
    if method == "chebyshev":
        from manybody.simulation.solvers.chebyshev.resources import check_chebyshev_memory
        from manybody.simulation.solvers.chebyshev.solver import observe_chebyshev

        check_chebyshev_memory(params, solver.chebyshev)  # before anything is built
        return observe_chebyshev(params, seed, realisation, probe, solver.chebyshev)
    out = _observe_dense(params, seed, realisation, probe, solver)
    if solver.method != "dense":  # same variables as the chebyshev tasks of this run
        for name in list(out):
            if f"{name}_error" in OBSERVABLE_DIMS:
                out[f"{name}_error"] = np.zeros_like(out[name])
    return out


def _observe_dense(params: ModelParams, seed: int, realisation: int, probe: Probe,
                   solver: SolverParams) -> dict[str, np.ndarray]:
    real = draw_realisation(params, realisation_rng(seed, realisation))
    spectrum, elements = solve(real, solver)
    out: dict[str, np.ndarray] = {}
    w = np.asarray(probe.frequencies)
    t = np.asarray(probe.temperatures)
    norm = absorption_normalisation(params)
    if "absorption" in probe.observables or "velocity_shift" in probe.observables:
        pairs = pair_spectrum(spectrum, elements, w, probe.broadening)
        if "absorption" in probe.observables:
            out["absorption"] = norm * pairs.absorption(w, t)
        if "velocity_shift" in probe.observables:
            out["velocity_shift"] = -0.5 * norm * pairs.dispersion(w, t)
    if "specific_heat" in probe.observables:
        out["specific_heat"] = specific_heat(spectrum.energies, t)
    if "spacing_ratio" in probe.observables:
        out["spacing_ratio"] = np.asarray(mean_spacing_ratio(spectrum.energies))
    if set(RELAXATION_OBSERVABLES) & set(probe.observables):
        from manybody.simulation.materials import bath
        from manybody.simulation.observables.relaxation import relaxation_susceptibility

        chi = relaxation_susceptibility(spectrum, elements, w, t,
                                        bath(probe.phonon_rate_prefactor).rate_prefactor,
                                        stress_scale=params.stress.deformation_potential)
        if "relaxation_absorption" in probe.observables:
            out["relaxation_absorption"] = norm * chi.imag / np.pi
        if "relaxation_velocity_shift" in probe.observables:
            out["relaxation_velocity_shift"] = -0.5 * norm * chi.real
    return out
