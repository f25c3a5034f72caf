"""One realisation from parameters to small arrays: draw, build, diagonalise, observe.

This is the unit of work of a sweep: it receives parameters and a (seed, realisation index) pair,
and returns a dict of small arrays (never eigenvectors).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from manybody import _validate as v
from manybody.config.model import ModelParams
from manybody.simulation.ensembles import absorption_normalisation, draw_realisation, realisation_rng
from manybody.simulation.observables.absorption import Broadening, pair_spectrum
from manybody.simulation.observables.statistics import mean_spacing_ratio
from manybody.simulation.observables.thermo import specific_heat
from manybody.simulation.solvers.dense import SolverParams, solve

#: Observables a run can ask for: name -> (dimensions of one realisation's array, units).
#: A sweep stacks them along its sweep axes and "realisation"; new observables register here.
OBSERVABLE_DIMS: dict[str, tuple[tuple[str, ...], str]] = {
    "absorption": (("temperature", "frequency"), "pi*C0"),
    "velocity_shift": (("temperature", "frequency"), "C0"),
    "specific_heat": (("temperature",), "k_B"),
    "spacing_ratio": ((), "1"),
    "relaxation_absorption": (("temperature", "frequency"), "pi*C0"),
    "relaxation_velocity_shift": (("temperature", "frequency"), "C0"),
}
#: Statistical errors reported by the Chebyshev solver (and as zeros by dense ED in runs whose
#: solver method is "chebyshev" or "auto", so every task of a run has the same variables).
for _name in ("absorption", "velocity_shift", "specific_heat"):
    OBSERVABLE_DIMS[f"{_name}_error"] = OBSERVABLE_DIMS[_name]
OBSERVABLES = tuple(k for k in OBSERVABLE_DIMS if not k.endswith("_error"))
ERROR_OBSERVABLES = tuple(k for k in OBSERVABLE_DIMS if k.endswith("_error"))
#: Observables computed when a probe names none.
DEFAULT_OBSERVABLES = ("absorption", "velocity_shift", "specific_heat", "spacing_ratio")
#: Observables that need a phonon bath (``Probe.phonon_rate_prefactor``).
RELAXATION_OBSERVABLES = ("relaxation_absorption", "relaxation_velocity_shift")


@dataclass(frozen=True, kw_only=True)
class Probe:
    """What is measured on each realisation.

    Parameters
    ----------
    frequencies : tuple of float
        w (K) at which Q^-1 and delta v / v are computed.
    temperatures : tuple of float
        T (K).
    broadening : Broadening
        Line kernel.
    observables : tuple of str
        Subset of ``OBSERVABLES`` (default ``DEFAULT_OBSERVABLES``).
    phonon_rate_prefactor : float or str, optional
        K_ph (s^-1 K^-3) of the one-phonon bath, or a material preset name such as "a-SiO2";
        required by the relaxation observables (PHYSICS.md section 4).
    """

    frequencies: tuple[float, ...]
    temperatures: tuple[float, ...]
    broadening: Broadening = field(default_factory=Broadening)
    observables: tuple[str, ...] = DEFAULT_OBSERVABLES
    phonon_rate_prefactor: float | str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "frequencies",
                           tuple(float(x) for x in v.probe_axis("frequencies", self.frequencies)))
        object.__setattr__(self, "temperatures",
                           tuple(float(x) for x in v.probe_axis("temperatures", self.temperatures)))
        if isinstance(self.observables, str) or not isinstance(self.observables,
                                                               list | tuple):
            raise TypeError(f"observables must be a list of names from {', '.join(OBSERVABLES)}, "
                            f"got {self.observables!r}")
        object.__setattr__(self, "observables", tuple(self.observables))
        if not self.observables:
            raise ValueError(f"observables must name at least one of {', '.join(OBSERVABLES)}")
        for name in self.observables:
            v.choice("observables entry", name, OBSERVABLES)
        if len(set(self.observables)) != len(self.observables):
            raise ValueError(f"observables has repeated entries: {list(self.observables)!r}")
        if set(RELAXATION_OBSERVABLES) & set(self.observables):
            if self.phonon_rate_prefactor is None:
                raise ValueError("observables 'relaxation_absorption'/'relaxation_velocity_shift' "
                                 "need phonon_rate_prefactor (K_ph in s^-1 K^-3, or a material "
                                 "preset such as 'a-SiO2')")
        if isinstance(self.phonon_rate_prefactor, str):
            from manybody.simulation.materials import PRESETS

            v.choice("phonon_rate_prefactor (a material preset name or K_ph in s^-1 K^-3)",
                     self.phonon_rate_prefactor, tuple(PRESETS))
        elif self.phonon_rate_prefactor is not None:
            object.__setattr__(self, "phonon_rate_prefactor",
                               v.positive("phonon_rate_prefactor", self.phonon_rate_prefactor))
        if not isinstance(self.broadening, Broadening):
            raise TypeError(f"broadening must be a Broadening, got {type(self.broadening).__name__}")


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

        check_chebyshev_memory(params, solver.chebyshev_params)  # before anything is built
        return observe_chebyshev(params, seed, realisation, probe, solver.chebyshev_params)
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
