"""One realisation from parameters to small arrays: the per-realisation pipeline.

This is the unit of work of a sweep: it receives parameters and a (seed, realisation index) pair,
and returns a dict of small arrays (never eigenvectors). It reads straight through::

    realisation_rng(seed, r) -> draw_realisation -> solver.build (operators)
        -> solver.respond (raw responses) -> physical_observables (units) -> small arrays

with the solver taken from the registry (:mod:`manybody.simulation.solvers`). With
``params.equilibration`` the TLS slower than the measurement time are frozen: the temperatures are
grouped by frozen set and the solver runs once per group on the active TLS
(:mod:`manybody.simulation.equilibration`, docs/PHYSICS.md section 7.5).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

from manybody.config.model import ModelParams, model_params
from manybody.config.probe import Probe
from manybody.config.solver import SolverParams
from manybody.config.unused import UnusedParameterWarning, unused_parameters
from manybody.simulation.ensembles import (
    Realisation,
    absorption_normalisation,
    draw_realisation,
    realisation_rng,
)
from manybody.simulation.equilibration import (
    check_equilibration,
    freezing_temperatures,
    frozen_configuration,
    frozen_masks,
    frozen_rng,
    observe_frozen,
)
from manybody.simulation.observables.absorption import warn_if_far_above_spectrum
from manybody.simulation.observables.responses import physical_observables
from manybody.simulation.solvers import SOLVERS, reports_errors, solver_for, solver_for_realisation
from manybody.simulation.solvers.chebyshev.workspace import release_kept_workspace


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
    from its own stream of the same seed and realisation, and so do the frozen configurations of
    ``params.equilibration`` (``SeedSequence(seed, spawn_key=(realisation, 2))``). When no TLS is
    frozen at any probe temperature the numbers are those of the model without equilibration,
    bit for bit.

    Parameters
    ----------
    params : ModelParams
        The ensemble (docs/PHYSICS.md section 1).
    seed : int
        The run's seed, >= 0.
    realisation : int
        The realisation index r, >= 0.
    probe : Probe
        Frequencies and temperatures (K), line kernel, observables. A mapping (a TOML
        ``[probe]`` table) is refused: build the Probe with
        ``manybody.runs.spec.probe_from_dict(table)`` (the run-specification layer; the pipeline
        does not read tables).
    solver : SolverParams, optional
        Which solver and its options (default dense ED).

    Returns
    -------
    dict of str to numpy.ndarray
        "absorption" (n_T, n_w) in units of pi*C0, "velocity_shift" (n_T, n_w) in units of C0,
        "specific_heat" (n_T,) in units of k_B, "spacing_ratio" () the mean <r>, the relaxation
        observables; in runs that may use a solver reporting errors ("chebyshev", "auto"),
        "<name>_error" companions (zeros from an exact solver). Units: docs/PHYSICS.md sections
        2-5.

    Raises
    ------
    TypeError
        params not a ModelParams, probe not a Probe (a dict is refused, see above), solver not
        a SolverParams, seed or realisation not ints.
    ValueError
        seed or realisation negative; what the solver refuses before drawing (observables the
        model cannot give, memory).
    Warns
    -----
    FarAboveSpectrumWarning
        A probe frequency far above every transition the model can drive (the absorption and
        the saturation there are the tails of far lines; the relaxation terms assume
        hbar w << E and are ~0 there): most likely a unit mistake (w is in K; 1 kHz is
        4.8e-8 K, 1 GHz is 0.048 K). A run says it once per sweep point, not per realisation.
    WideKernelWarning
        An absolute line kernel at least half the lowest probe frequency, where the kernel's
        observables are asked for (:meth:`Probe.kernel_wider_than_frequency`): it smears Q^-1
        over a range as wide as the frequency. A run says it once for its whole sweep.
    UnusedParameterWarning
        A parameter whose value changes nothing given the others (a phonon bath no observable
        uses, a hard core without couplings: :func:`manybody.config.unused.unused_parameters`),
        one warning each, named by its key in a run specification. A run says it once.
    """
    _check_arguments(params, probe, solver)
    solver = solver or SolverParams()
    name = solver_for(params, solver)
    if name != "chebyshev":  # another solver finds the memory a Chebyshev solve kept free
        release_kept_workspace()
    entry = SOLVERS[name]
    entry.prepare(params, probe, solver)  # refusals before anything is drawn or built
    check_equilibration(params, probe)
    warn_if_far_above_spectrum(params, probe, stacklevel=3)  # 5 for 5 GHz gave Q = 0 silently
    probe.warn_if_kernel_wider_than_frequency(stacklevel=2)
    for key, value, reason in unused_parameters(params, probe, solver, name):
        warnings.warn(f"{key} = {value!r} has no effect: {reason}", UnusedParameterWarning,
                      stacklevel=2)
    real = draw_realisation(params, realisation_rng(seed, realisation))
    normalisation = absorption_normalisation(params)  # per TLS of the whole ensemble
    errors = reports_errors(solver)

    def solve(part: Realisation, what: Probe) -> dict[str, np.ndarray]:
        # a reduced part (frozen TLS) under "auto" is chosen for by its own size
        chosen = SOLVERS[solver_for_realisation(params, solver, part.n_tls)]
        raw = chosen.respond(part, chosen.build(part, solver), what, solver, model=params,
                             seed=seed, realisation=realisation)
        return physical_observables(raw, normalisation, what.observables, errors=errors)

    if params.equilibration is None:
        return solve(real, probe)
    freezing = freezing_temperatures(real, params.equilibration, params.stress.deformation_potential)
    masks = frozen_masks(freezing, probe.temperatures)
    if not masks.any():
        return solve(real, probe)
    configuration = frozen_configuration(real, freezing, frozen_rng(seed, realisation))
    return observe_frozen(solve, real, probe, masks, configuration, errors)


def _check_arguments(params, probe, solver) -> None:
    """TypeError for arguments of :func:`observe` of the wrong type (before anything is drawn)."""
    model_params("params", params)
    if not isinstance(probe, Probe):
        hint = (" (build one from a table with manybody.runs.spec.probe_from_dict(table))"
                if isinstance(probe, Mapping) else "")
        raise TypeError(f"probe must be a Probe{hint}, got {type(probe).__name__}")
    if solver is not None and not isinstance(solver, SolverParams):
        got = repr(solver) if isinstance(solver, str) else type(solver).__name__
        raise TypeError(f"solver must be a SolverParams or None, got {got}")
