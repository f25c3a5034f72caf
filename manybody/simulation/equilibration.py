"""Equilibration on a measurement time scale: slow TLS freeze into static fields.

docs/PHYSICS.md section 7.5. Protocol (the sample is cooled slowly from high temperature and
measured at T on a time scale t_m = ``EquilibrationParams.measurement_time``):

1. TLS i relaxes by one phonon at the Jackle rate of the relaxation observables (PHYSICS.md
   section 4, :func:`manybody.simulation.observables.relaxation.jackle_rate`, same units)::

       1/tau_i(T) = K_ph (gamma_i/gamma)^2 Delta_i^2 E_i coth(E_i / 2T),   E_i = sqrt(eps_i^2 + Delta_i^2),

   with the bare parameters (couplings neglected). tau_i decreases with T, so TLS i is frozen at T
   iff T < T_f,i, the freezing temperature where tau_i(T_f,i) = t_m::

       T_f,i = E_i / (2 artanh(r_i)),   r_i = K_ph (gamma_i/gamma)^2 Delta_i^2 E_i t_m,

   and T_f,i = 0 (never frozen) when r_i >= 1 (faster than 1/t_m even at T -> 0).
2. A frozen TLS keeps the classical z-configuration s_i = +-1 it had when it fell out of
   equilibrium, drawn once per realisation with its single-TLS thermal populations at T_f,i::

       P(s_i = +1) = (1 + <s^z_i>) / 2,   <s^z_i> = -(eps_i/E_i) tanh(E_i / 2T_f,i)

   (approximation: the couplings are neglected at freezing). The uniform numbers come from the
   realisation's own stream ``SeedSequence(seed, spawn_key=(r, FROZEN_STREAM))``, one per TLS
   whether it freezes or not, so the disorder draws are untouched and the same TLS gets the same
   number at every measurement time (common random numbers).
3. At T the frozen set F(T) is removed from the Hilbert space. The others are solved exactly at T
   with the frozen s^z_j = s_j as static fields: every coupling term in which a frozen TLS enters
   through s^z becomes a field (zz: eps_i += 2 K^zz_ij s_j; xz and zx with the z on the frozen
   side: Delta_i += 2 K^xz_ij s_j; two-body stress: gamma_i += K^T_ij s_j), every term in which a
   frozen TLS enters through s^x is dropped (its mean is zero in a z-configuration), and terms
   among frozen TLS are constants. Frozen TLS do not absorb: their own resonant absorption would
   need non-thermal populations, which the model does not describe; they do not contribute to the
   specific heat either (they exchange no heat on the measurement time).
4. Absorption keeps the normalisation per TLS of the whole ensemble (N, not the active number),
   so frozen TLS simply stop contributing.

The frozen set shrinks monotonically as T rises, so the temperatures fall into at most N + 1
groups of equal frozen set; the solver runs once per group. The temperature-independent
observables of the Hamiltonian (``spacing_ratio``, the |T_mn|^2 statistics) are computed on the
full Hamiltonian with every TLS quantum (the Hamiltonian itself does not depend on the
measurement time); the relaxation observables are refused (their master equation would have to
include the frozen TLS' own slow dynamics).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable

import numpy as np

from manybody.config.model import EquilibrationParams, ModelParams, model_params
from manybody.config.probe import (
    MATRIX_ELEMENT_OBSERVABLES,
    OBSERVABLE_DIMS,
    RELAXATION_OBSERVABLES,
    SATURATION_OBSERVABLES,
    Probe,
)
from manybody.simulation.ensembles import Realisation, draw_realisation, realisation_rng
from manybody.simulation.materials import bath
from manybody.support import validate as v

__all__ = [
    "FROZEN_STREAM", "TEMPERATURE_INDEPENDENT", "check_equilibration", "freezing_temperatures",
    "warn_if_all_frozen",
    "frozen_configuration", "frozen_fraction", "frozen_masks", "frozen_rng", "observe_frozen",
    "reduce_realisation", "temperature_groups",
]

#: Spawn-key suffix of the frozen configurations of realisation r:
#: SeedSequence(seed, spawn_key=(r, FROZEN_STREAM)) (the Chebyshev trace vectors use (r, 1)).
FROZEN_STREAM = 2
#: Observables of the Hamiltonian alone (no temperature): computed with every TLS quantum.
TEMPERATURE_INDEPENDENT = ("spacing_ratio", *MATRIX_ELEMENT_OBSERVABLES)


def check_equilibration(model: ModelParams, probe: Probe) -> None:
    """Refuse, before anything is drawn, observables that freezing does not define.

    Raises
    ------
    ValueError
        Relaxation or saturation observables (both solve the phonon master equation) asked for
        together with ``model.equilibration``.
    """
    if model.equilibration is None:
        return
    refused = [name for name in probe.observables
               if name in RELAXATION_OBSERVABLES + SATURATION_OBSERVABLES]
    if refused:
        raise ValueError(
            f"observables {refused!r} are not defined with model.equilibration (frozen TLS would "
            "need their own slow relaxation in the master equation); drop them or "
            "[model.equilibration]")


def warn_if_all_frozen(model: ModelParams, probe: Probe) -> None:
    """Warn when every TLS the ensemble can draw is frozen at every probe temperature: the
    absorption is then exactly 0 and the single-TLS fraction NaN (measurement_time = 1e-30 s
    gave both silently; a tester, session 26). The fastest TLS has Delta = Delta_max and
    E = sqrt(eps_max^2 + Delta_max^2) (T_f = E / (2 artanh r) falls with E at fixed Delta);
    only for |gamma_i| <= gamma (fixed or random-sign deformation potentials). Called once per
    sweep point by the preflight (:func:`manybody.runs.spec.check_point`)."""
    if model.equilibration is None:
        return
    tls, stress = model.tls, model.stress
    if tls is None or stress.distribution not in ("fixed", "random_sign"):
        return
    eq = model.equilibration
    energy = math.hypot(tls.asymmetry_max, tls.tunnelling_max)
    ratio = bath(eq.bath).rate_prefactor * tls.tunnelling_max**2 * energy * eq.measurement_time
    if ratio >= 1.0:
        return  # the fastest TLS never freezes
    lowest_freezing = energy / (2.0 * math.atanh(ratio))
    if max(probe.temperatures) < lowest_freezing:
        warnings.warn(
            f"equilibration.measurement_time = {eq.measurement_time:g} s freezes every TLS at "
            f"every temperature (even the fastest, Delta = {tls.tunnelling_max:g} K, freezes "
            f"below {lowest_freezing:.3g} K, above the highest temperature "
            f"{max(probe.temperatures):g} K): the absorption is exactly 0 and the single-TLS "
            "fraction NaN", UserWarning, stacklevel=2)


def freezing_temperatures(real: Realisation, equilibration: EquilibrationParams,
                          stress_scale: float) -> np.ndarray:
    """Freezing temperatures T_f,i (K) of the TLS of a realisation, shape (N,).

    Parameters
    ----------
    real : Realisation
        Needs ``asymmetry``, ``tunnelling`` (K) and ``deformation_potential`` gamma_i.
    equilibration : EquilibrationParams
        Measurement time t_m (s) and phonon bath (K_ph in s^-1 K^-3).
    stress_scale : float
        gamma (K per unit strain, ``model.stress.deformation_potential``): the one-phonon rate
        scales with (gamma_i / gamma)^2, as in the relaxation observables.

    Returns
    -------
    numpy.ndarray
        T_f,i = E_i / (2 artanh(r_i)) with r_i = K_ph (gamma_i/gamma)^2 Delta_i^2 E_i t_m where
        r_i < 1, and 0 (never frozen) where r_i >= 1. TLS i is frozen at T iff T < T_f,i.
    """
    if real.asymmetry is None:
        raise ValueError("equilibration needs TLS (asymmetry and tunnelling), got a realisation "
                         "without a TLS term")
    stress_scale = v.positive("stress_scale", stress_scale)
    energy = real.energies
    prefactor = bath(equilibration.bath).rate_prefactor
    ratio = (prefactor * (real.deformation_potential / stress_scale) ** 2 * real.tunnelling**2
             * energy * equilibration.measurement_time)  # tau(T -> 0)^-1 * t_m
    out = np.zeros(real.n_tls)
    slow = ratio < 1.0
    with np.errstate(divide="ignore"):
        out[slow] = energy[slow] / (2.0 * np.arctanh(ratio[slow]))
    return out


def frozen_rng(seed: int, realisation: int) -> np.random.Generator:
    """Generator of the frozen configurations of realisation r (module docstring, step 2)."""
    seed = v.integer("seed", seed, 0, v.MAX_SEED)
    realisation = v.integer("realisation", realisation, 0)
    return np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(realisation, FROZEN_STREAM)))


def frozen_configuration(real: Realisation, freezing: np.ndarray,
                         rng: np.random.Generator) -> np.ndarray:
    """Classical z-configuration s_i = +-1 of every TLS at its freezing temperature, shape (N,).

    One uniform number per TLS is drawn (also for TLS that never freeze, whose entry is unused),
    so the configuration of a TLS does not depend on which others freeze. Where T_f,i = 0 the
    T -> 0 populations are used (a ground-state configuration).

    Parameters
    ----------
    real : Realisation
        eps_i, Delta_i (K).
    freezing : numpy.ndarray
        T_f,i (K), shape (N,), from :func:`freezing_temperatures`.
    rng : numpy.random.Generator
        :func:`frozen_rng` of the realisation.
    """
    energy = real.energies
    with np.errstate(divide="ignore"):
        polarisation = -(real.asymmetry / energy) * np.tanh(energy / (2.0 * freezing))
    uniform = rng.random(real.n_tls)
    return np.where(uniform < 0.5 * (1.0 + polarisation), 1.0, -1.0)


def frozen_masks(freezing: np.ndarray, temperatures) -> np.ndarray:
    """Boolean (n_T, N): TLS i is frozen at temperature T iff T < T_f,i."""
    t = np.asarray(temperatures, dtype=float)
    return t[:, None] < np.asarray(freezing)[None, :]


def reduce_realisation(real: Realisation, frozen: np.ndarray,
                       configuration: np.ndarray) -> Realisation:
    """The active TLS with the frozen ones as static fields (module docstring, step 3).

    Parameters
    ----------
    real : Realisation
        The full realisation (no random-matrix terms).
    frozen : numpy.ndarray
        Boolean (N,), at least one entry False.
    configuration : numpy.ndarray
        s_j = +-1, shape (N,) (only the frozen entries are used).

    Returns
    -------
    Realisation
        N_active TLS with eps_i + 2 sum_j K^zz_ij s_j, Delta_i + 2 sum_j (K^xz_ij + K^zx_ji) s_j,
        gamma_i + sum_j K^T_ij s_j (sums over frozen j), the couplings among active TLS and their
        positions.
    """
    if real.random_matrix is not None or real.stress_random_matrix is not None:
        raise ValueError("equilibration cannot reduce a realisation with random-matrix terms")
    frozen = np.asarray(frozen, dtype=bool)
    active = ~frozen
    if not active.any():
        raise ValueError("reduce_realisation needs at least one active (not frozen) TLS")
    s = np.asarray(configuration, dtype=float)[frozen]
    k = real.couplings
    asymmetry = real.asymmetry[active].copy()
    tunnelling = real.tunnelling[active].copy()
    if "zz" in k:
        asymmetry += 2.0 * k["zz"][np.ix_(active, frozen)] @ s
    if "xz" in k:
        tunnelling += 2.0 * k["xz"][np.ix_(active, frozen)] @ s
    if "zx" in k:
        tunnelling += 2.0 * k["zx"][np.ix_(frozen, active)].T @ s
    gamma = real.deformation_potential[active].copy()
    stress_coupling = None
    if real.stress_coupling is not None:
        gamma += real.stress_coupling[np.ix_(active, frozen)] @ s
        stress_coupling = real.stress_coupling[np.ix_(active, active)]
    return Realisation.from_arrays(
        asymmetry=asymmetry,
        tunnelling=tunnelling,
        couplings={c: m[np.ix_(active, active)] for c, m in k.items()},
        deformation_potential=gamma,
        stress_coupling=stress_coupling,
        positions=None if real.positions is None else real.positions[active],
        n_tls=int(active.sum()),
    )


#: Most realisations :func:`frozen_fraction` draws (a run's own bound, ``RunSpec``), and most
#: fractions it returns (0.8 GB): 2**70 realisations was numpy's "Maximum allowed dimension
#: exceeded" (a break test, session 46).
MAX_FROZEN_REALISATIONS = 10**7
MAX_FROZEN_ENTRIES = 10**8


def frozen_fraction(params: ModelParams, seed: int, realisations: int, temperatures) -> np.ndarray:
    """Fraction of the N TLS frozen at each temperature, per realisation: (n_realisations, n_T).

    Draws only the disorder (no solve), from the same streams as a run with ``seed``; zeros when
    ``params.equilibration`` is None.

    Parameters
    ----------
    params : ModelParams
        The model, with its ``equilibration`` (measurement time t_m, bath).
    seed : int
        The run's seed (realisation r draws from ``SeedSequence(seed, spawn_key=(r,))``).
    realisations : int
        Number of realisations, >= 1.
    temperatures : sequence of float
        Temperatures T (K), positive and finite, shape (n_T,).

    Returns
    -------
    numpy.ndarray
        (n_realisations, n_T), each entry in [0, 1].

    Raises
    ------
    TypeError
        ``params`` not a ModelParams; ``seed`` or ``realisations`` not an integer.
    ValueError
        ``seed`` negative or above the largest seed, ``realisations`` < 1 or above 1e7, more
        than 1e8 fractions asked for, or temperatures not positive and finite.

    Source: docs/PHYSICS.md section 7.5 (TLS with tau_i(T) > t_m frozen).
    """
    model_params("params", params)
    seed = v.integer("seed", seed, 0, v.MAX_SEED)  # checked with or without equilibration
    n_real = v.integer("realisations", realisations, 1, MAX_FROZEN_REALISATIONS)
    t = v.probe_axis("temperatures", temperatures)
    if n_real * t.size > MAX_FROZEN_ENTRIES:  # 1e9 x 1 was a numpy MemoryError (session 46)
        raise ValueError(f"realisations x temperatures = {n_real} x {t.size} = {n_real * t.size} "
                         f"fractions, more than {MAX_FROZEN_ENTRIES:.0e} ("
                         f"{MAX_FROZEN_ENTRIES * 8 / 1e9:g} GB); take fewer realisations or "
                         "temperatures")
    out = np.zeros((n_real, t.size))
    if params.equilibration is None:
        return out
    for r in range(n_real):
        real = draw_realisation(params, realisation_rng(seed, r))
        freezing = freezing_temperatures(real, params.equilibration,
                                         params.stress.deformation_potential)
        out[r] = frozen_masks(freezing, t).mean(axis=1)
    return out


def temperature_groups(masks: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(temperature indices, frozen mask) of every distinct frozen set, in order of first use."""
    unique, inverse = np.unique(masks, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    order = sorted(range(unique.shape[0]), key=lambda g: int(np.flatnonzero(inverse == g)[0]))
    return [(np.flatnonzero(inverse == g), unique[g]) for g in order]


def _sub_probe(probe: Probe, temperatures, observables) -> Probe:
    """``probe`` restricted to some temperatures and observables (bins only where used)."""
    bins = (probe.matrix_element_bins if set(observables) & set(MATRIX_ELEMENT_OBSERVABLES)
            else None)
    return dataclasses.replace(probe, temperatures=tuple(temperatures),
                               observables=tuple(observables), matrix_element_bins=bins)


def _zeros(names, n_temperatures: int, n_frequencies: int) -> dict[str, np.ndarray]:
    """Observables of a group whose TLS are all frozen: nothing absorbs or holds heat (zeros);
    the single-TLS fraction of an absorption that is zero is undefined (NaN)."""
    sizes = {"temperature": n_temperatures, "frequency": n_frequencies}
    return {name: np.full(tuple(sizes[d] for d in OBSERVABLE_DIMS[name][0]),
                          np.nan if name == "single_tls_fraction" else 0.0) for name in names}


def observe_frozen(
    solve: Callable[[Realisation, Probe], dict[str, np.ndarray]],
    real: Realisation,
    probe: Probe,
    masks: np.ndarray,
    configuration: np.ndarray,
    errors: bool,
) -> dict[str, np.ndarray]:
    """Observables of one realisation with frozen TLS, one solve per frozen set.

    Parameters
    ----------
    solve : callable
        ``solve(realisation, probe)`` -> observables in their units (the pipeline's solver and
        normalisation of the WHOLE ensemble, so frozen TLS simply stop contributing).
    real : Realisation
        The full realisation.
    probe : Probe
        What is measured.
    masks : numpy.ndarray
        Boolean (n_T, N) from :func:`frozen_masks`.
    configuration : numpy.ndarray
        s_i = +-1 (N,) from :func:`frozen_configuration`.
    errors : bool
        Whether the run carries "<name>_error" companions (zeros for an all-frozen group).

    Returns
    -------
    dict of str to numpy.ndarray
        Every observable of ``probe`` in the original temperature order; the temperature-
        independent ones (``TEMPERATURE_INDEPENDENT``) from the full Hamiltonian.
    """
    t = np.asarray(probe.temperatures)
    n_w = len(probe.frequencies)
    varying = [n for n in probe.observables if n not in TEMPERATURE_INDEPENDENT]
    fixed = [n for n in probe.observables if n in TEMPERATURE_INDEPENDENT]
    with_errors = varying + [f"{n}_error" for n in varying
                             if errors and f"{n}_error" in OBSERVABLE_DIMS]
    parts: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
    out: dict[str, np.ndarray] = {}
    for index, frozen in temperature_groups(masks) if varying else ():
        if frozen.all():
            parts.append((index, _zeros(with_errors, index.size, n_w)))
            continue
        full = not frozen.any()
        part = solve(real if full else reduce_realisation(real, frozen, configuration),
                     _sub_probe(probe, t[index], varying + (fixed if full else [])))
        out.update({k: part.pop(k) for k in list(part) if k in TEMPERATURE_INDEPENDENT})
        parts.append((index, part))
    for name in with_errors:
        values = [part[name] for _, part in parts]
        out[name] = np.zeros((t.size, *values[0].shape[1:]), dtype=np.result_type(*values))
        for (index, _), value in zip(parts, values, strict=True):
            out[name][index] = value
    missing = [n for n in fixed if n not in out]
    if missing:
        out.update(solve(real, _sub_probe(probe, t, missing)))
    order = {name: i for i, name in enumerate(OBSERVABLE_DIMS)}
    return {k: out[k] for k in sorted(out, key=lambda k: (order[k.removesuffix("_error")],
                                                          k.endswith("_error")))}
