"""Parameters that have no effect, given the others: a value that changes nothing.

A user who sets ``coupling.min_distance`` with Gaussian couplings, or a growth temperature for a
GOE block, believes something changed; nothing did, and nothing said so (testers of sessions 24
and 25). These are warned about, not refused: the value is harmless, and a spec may carry it for
another model of the same study. :func:`manybody.runs.spec.preflight` warns once per parameter
for a whole sweep (one line naming the key, its values and why it has no effect).

Only values that differ from the parameter's default are reported here (in Python a default
cannot be told from a value left alone); with ``include_defaults`` every value is, and the
preflight warns about those of keys a spec's file gave, at their defaults too (a key typed at its
default value was not warned; a tester, bt189).
"""

from __future__ import annotations

import dataclasses
from contextvars import ContextVar
from typing import Any

from manybody.config.keys import spec_keys
from manybody.config.model import CouplingParams, ModelParams, RandomMatrixParams, StressParams
from manybody.config.probe import (
    KERNEL_OBSERVABLES,
    OBSERVABLE_DIMS,
    RELAXATION_OBSERVABLES,
    SATURATION_OBSERVABLES,
    Broadening,
    Probe,
)
from manybody.config.solver import ChebyshevParams, SolverParams

__all__ = ["KERNEL_OBSERVABLES", "STRESS_FREE_OBSERVABLES", "unused_parameters"]

_COUPLING = CouplingParams()
_RANDOM_MATRIX = RandomMatrixParams()
_STRESS = StressParams()
_CHEBYSHEV = ChebyshevParams()
_SOLVER = SolverParams()
_BROADENING = Broadening()
#: Chebyshev options whose defaults are computed from others.
_DERIVED = ("max_vectors", "window_sigmas", "window_temperatures")


class UnusedParameterWarning(UserWarning):
    """A parameter whose value changes nothing, given the others (:func:`unused_parameters`):
    raised by :func:`manybody.simulation.observe.observe` for each such value (the API said
    nothing where a run's preflight warned; note_s60), and by a run's preflight once for its
    whole sweep (a sweep's realisations do not repeat it)."""


def unused_parameters(model: ModelParams, probe: Probe | None = None,
                      solver: SolverParams | None = None,
                      method: str | None = None, *,
                      include_defaults: bool = False) -> list[tuple[str, Any, str]]:
    """The parameters of one sweep point whose values change nothing, given the others.

    Parameters
    ----------
    model : ModelParams
    probe : Probe, optional
    solver : SolverParams, optional
    method : {"dense", "chebyshev"}, optional
        The solver this point resolves to (``solver.method`` with "auto" resolved); default
        ``solver.method``.
    include_defaults : bool
        Also report parameters at their default values (which a user cannot have meant to
        change anything): the preflight uses them to tell whether a parameter has an effect
        anywhere in a sweep.

    Returns
    -------
    list of (str, object, str)
        (key as in a run specification, e.g. ``"model.coupling.min_distance"``
        (:func:`manybody.config.keys.spec_keys`); its value; why it has no effect), in the
        order model, probe, solver. Empty when every given value is used.
    """
    token = _WITH_DEFAULTS.set(include_defaults)
    try:
        found = _unused(model, probe, solver, method)
    finally:
        _WITH_DEFAULTS.reset(token)
    return [(spec_keys(key), value, spec_keys(reason)) for key, value, reason in found]


def _unused(model, probe, solver, method) -> list[tuple[str, Any, str]]:
    found: list[tuple[str, Any, str]] = []
    found += _coupling(model.coupling, model, probe)
    found += _random_matrix(model.random_matrix, model.stress)
    found += _stress(model.stress, model.n_tls)
    if probe is not None:
        found += _probe(probe, model, method or (solver.method if solver else None))
    if solver is not None:
        found += _solver(solver, method or solver.method, 2**model.n_tls)
    return found


#: Whether :func:`_changed` reports fields at their defaults too (``include_defaults``).
_WITH_DEFAULTS: ContextVar[bool] = ContextVar("with_defaults", default=False)


def _changed(params: Any, default: Any, names: tuple[str, ...],
             given: frozenset[str] = frozenset()) -> list[tuple[str, Any]]:
    """(name, value) of the fields of ``params`` among ``names`` that differ from ``default`` or
    were ``given`` (the keys of the table they were read from: set, if to the default; all of
    them under ``include_defaults``)."""
    every = _WITH_DEFAULTS.get()
    return [(name, getattr(params, name)) for name in names
            if every or name in given or getattr(params, name) != getattr(default, name)]


def _coupling(coupling: CouplingParams | None, model: ModelParams,
              probe: Probe | None = None) -> list[tuple[str, Any, str]]:
    if coupling is None:
        return []
    if model.n_tls < 2 and not _drawn_after_couplings(model, probe):
        # one TLS has no pair, so no K_ij: a sweep of coupling.strength at N = 1 gave identical
        # points without a word (a break test, session 55)
        return [(f"coupling.{name}", value, f"model.n_tls = {model.n_tls}: one TLS has no pair "
                 "to couple, and nothing random is drawn after the couplings")
                for name, value in _changed(coupling, _COUPLING,
                                            ("kind", "strength", "orientation", "min_distance",
                                             "components"))]
    if coupling.strength == 0 and not _drawn_after_couplings(model, probe):
        # at strength 0 the kind, orientation and minimum distance decide only how many random
        # numbers the draw takes: unused unless something is drawn after the couplings (a sweep
        # of coupling.kind at strength 0 with nothing drawn after gave identical points without
        # a word; a tester, session 37)
        return [(f"coupling.{name}", value, "coupling.strength = 0: every K_ij is 0, and "
                 "nothing random is drawn after the couplings")
                for name, value in _changed(coupling, _COUPLING,
                                            ("kind", "orientation", "min_distance",
                                             "components"))]
    if coupling.kind != "gaussian":
        return []
    return [(f"coupling.{name}", value, "only dipolar couplings have distances and orientation "
             "factors (coupling.kind = 'gaussian' draws K_ij ~ N(0, J0^2))")
            for name, value in _changed(coupling, _COUPLING, ("min_distance", "orientation"))]


def _random_matrix(block: RandomMatrixParams | None,
                   stress: StressParams) -> list[tuple[str, Any, str]]:
    if block is None:
        return []
    if block.weight == 0:
        # every level is 0 whatever the kind and growth temperature, and the seed is drawn
        # whatever they are; an 'eth' stress still uses the block's Haar eigenbasis, drawn after
        # levels whose draw depends on level_statistics
        eth = stress.random_matrix > 0 and stress.random_matrix_kind == "eth"
        names = ("kind", "growth_temperature") + (() if eth else ("level_statistics",))
        return [(f"random_matrix.{name}", value, "the block has weight 0 "
                 "(random_matrix.weight = 0): it adds nothing to H")
                for name, value in _changed(block, _RANDOM_MATRIX, names)]
    found = []
    if block.kind != "exponential":
        found += [("random_matrix.growth_temperature", value, "only the 'exponential' density "
                   f"has a growth temperature (random_matrix.kind = {block.kind!r})")
                  for _, value in _changed(block, _RANDOM_MATRIX, ("growth_temperature",))]
    if block.kind == "goe":
        found += [("random_matrix.level_statistics", value, "a GOE term has GOE statistics by "
                   "construction; level_statistics applies to the 'flat' and 'exponential' "
                   "blocks")
                  for _, value in _changed(block, _RANDOM_MATRIX, ("level_statistics",))]
    return found


def _stress(stress: StressParams, n_tls: int = 2) -> list[tuple[str, Any, str]]:
    found = []
    if n_tls < 2:  # one TLS has no pair: the two-body stress was not warned (helper-185)
        found += [("stress.two_body", value, f"model.n_tls = {n_tls}: one TLS has no pair for "
                   "a two-body stress") for _, value in _changed(stress, _STRESS, ("two_body",))]
    return found + _stress_random_matrix(stress)


def _stress_random_matrix(stress: StressParams) -> list[tuple[str, Any, str]]:
    if stress.random_matrix == 0:
        return [(f"stress.{name}", value, "there is no random-matrix stress "
                 "(stress.random_matrix = 0)")
                for name, value in _changed(stress, _STRESS,
                                            ("random_matrix_kind", "eth_energy_scale"))]
    if stress.random_matrix_kind != "eth":
        return [("stress.eth_energy_scale", value, "only the 'eth' random-matrix stress has an "
                 f"energy scale (stress.random_matrix_kind = {stress.random_matrix_kind!r})")
                for _, value in _changed(stress, _STRESS, ("eth_energy_scale",))]
    return []


#: Observables that do not involve the stress operator (nor its normalisation).
STRESS_FREE_OBSERVABLES = ("specific_heat", "spacing_ratio")
#: Observables of |T_mn|^2 normalised by gamma^2 (units of pi*C0): unchanged when T only scales
#: with gamma (checked by computing, tests/test_unused_parameters.py).
_GAMMA_NORMALISED_OBSERVABLES = ("absorption", "velocity_shift", "relaxation_absorption",
                                  "relaxation_velocity_shift", "configuration_bath_absorption",
                                  "configuration_bath_absorption_infinite", "single_tls_fraction")
# (the relaxation rates go with |T_mn / gamma|^2, and the decomposition is of the absorption:
# gamma was not warned with them; helper-185. The saturation is not: its Rabi frequency is
# e0 T_mn, which gamma scales)


def _drawn_after_couplings(model: ModelParams, probe: Probe | None = None) -> bool:
    """Whether :func:`~manybody.simulation.ensembles.draw_realisation` takes random numbers after
    the couplings that reach an observable of ``probe`` (random deformation potentials,
    two-body stress, a random-matrix term or stress), whose values then depend on how many the
    couplings took. A block of weight 0 adds nothing to H (its Haar basis still serves an 'eth'
    stress), and the stress reaches no observable of :data:`STRESS_FREE_OBSERVABLES`: the
    kind of couplings at strength 0 was not warned beside them (a tester, bt190). Without
    ``probe`` every observable is assumed."""
    stress = model.stress
    uses_stress = probe is None or not set(probe.observables) <= set(STRESS_FREE_OBSERVABLES)
    block = model.random_matrix
    in_hamiltonian = block is not None and block.weight != 0
    stressed = uses_stress and (
        stress.distribution not in ("fixed", "none") or (stress.two_body > 0 and model.n_tls > 1)
        or stress.random_matrix > 0)
    return in_hamiltonian or stressed


def _draw_counters(model: ModelParams) -> tuple[str, ...]:
    """Stress parameters whose values change how many random numbers
    :func:`~manybody.simulation.ensembles.draw_realisation` takes before a later random term
    (its order: TLS, couplings, deformation potentials, stress couplings, then the seed of
    the random-matrix block): with a block, they change its seed, hence H and every observable
    (a reviewer, session 27: stress.distribution warned beside a GOE term)."""
    if model.random_matrix is None:
        return ()
    return ("distribution", "two_body") if model.n_tls > 1 else ("distribution",)


def _probe(probe: Probe, model: ModelParams, method: str | None) -> list[tuple[str, Any, str]]:
    found = []
    uses_bath = set(RELAXATION_OBSERVABLES + SATURATION_OBSERVABLES) & set(probe.observables)
    if probe.phonon_rate_prefactor is not None and not uses_bath:
        found.append(("phonon_rate_prefactor", probe.phonon_rate_prefactor, "only the "
                      f"observables {', '.join(RELAXATION_OBSERVABLES + SATURATION_OBSERVABLES)} "
                      "use the phonon bath, and probe.observables names none of them"))
    asked = ", ".join(probe.observables)
    with_temperature = any("temperature" in OBSERVABLE_DIMS[name][0] for name in probe.observables)
    if len(probe.frequencies) > 1 and not any("frequency" in OBSERVABLE_DIMS[name][0]
                                              for name in probe.observables):
        # the second frequency of a run of specific heat alone changed nothing, and nothing said
        # so while the unused line width was warned about (helper-183)
        found.append(("probe.frequencies", list(probe.frequencies), "no observable asked for "
                      f"has a frequency axis (probe.observables: {asked})"
                      + ("; the first frequency is read only where the temperatures are given "
                         "as x = hbar w / k_B T (x_min, x_max, count), to turn them into kelvin"
                         if with_temperature else "")))
    if len(probe.temperatures) > 1 and not with_temperature:
        # spacing_ratio alone: the temperatures were dropped without a word while the unused
        # frequencies were warned about, with a reason about temperatures (a tester, bt207)
        found.append(("probe.temperatures", list(probe.temperatures), "no observable asked for "
                      f"has a temperature axis (probe.observables: {asked})"))
    kernel = probe.broadening
    if not set(KERNEL_OBSERVABLES) & set(probe.observables):
        found += [(f"probe.broadening.{name}", value, "no observable asked for uses the line "
                   "kernel (probe.observables: " + ", ".join(probe.observables) + ")")
                  for name, value in _changed(kernel, _BROADENING,
                                              ("kind", "width", "resolution", "scaling"))]
    elif method in ("dense", "chebyshev"):
        how = ("dense ED sums the exact pairs" if method == "dense" else
               "the Chebyshev solver expands the kernel in moments")
        found += [("probe.broadening.resolution", value, f"{how}; the grid resolution is used "
                   "only by absorption(method='binned') of the Python API")
                  for _, value in _changed(kernel, _BROADENING, ("resolution",))]
    stress = model.stress
    if (set(probe.observables) <= set(STRESS_FREE_OBSERVABLES)
            and model.equilibration is None):
        names = tuple(name for name in ("deformation_potential", "distribution", "two_body",
                                        "random_matrix") if name not in _draw_counters(model))
        found += [(f"stress.{name}", value, "no observable asked for involves the stress "
                   "(probe.observables: " + ", ".join(probe.observables) + ")")
                  for name, value in _changed(stress, _STRESS, names)]
    elif (set(probe.observables) <= set(STRESS_FREE_OBSERVABLES + _GAMMA_NORMALISED_OBSERVABLES)
          and method == "dense"  # the Chebyshev solver's truncation is not scale-free (5e-7)
          and model.equilibration is None and stress.distribution != "none"
          and stress.two_body == 0 and stress.random_matrix == 0):
        found += [("stress.deformation_potential", value, "it only scales the stress "
                   f"(stress.distribution = {stress.distribution!r}, no two-body or "
                   "random-matrix stress), and " + ", ".join(
                       o for o in probe.observables if o in _GAMMA_NORMALISED_OBSERVABLES)
                   + " are normalised by gamma^2 (the absorption and velocity in units of "
                   "pi*C0, fractions as ratios of such sums)")
                  for _, value in _changed(stress, _STRESS, ("deformation_potential",))]
    return found


def _solver(solver: SolverParams, method: str, dimension: int) -> list[tuple[str, Any, str]]:
    options = solver.chebyshev
    given = _given_options(solver)
    if method == "dense":
        how = ("solver.method = 'dense'" if solver.method == "dense" else
               "solver.method = 'auto' (which resolves to dense ED here)")
        return [(f"solver.chebyshev.{name}", value, f"{how} does not use the Chebyshev options")
                for name, value in given.items()]
    # dense ED's precision and memory share ("auto" uses them to choose): under 'chebyshev' a
    # [solver] dtype = "float64" ran float32 vectors without a word (a break test, session 54)
    found = [] if solver.method != "chebyshev" else [
        (f"solver.{name}", value, f"it is dense ED's, and solver.method = 'chebyshev' (the "
         f"Chebyshev solver's is solver.chebyshev.{name})")
        for name, value in _changed(solver, _SOLVER, ("dtype", "memory_fraction"),
                                    given=solver._keys)]
    if options.n_moments is not None and "max_moments" in given:
        found.append(("solver.chebyshev.max_moments", options.max_moments,
                      "solver.chebyshev.n_moments fixes the number of moments"))
    if options.ladder is not None and "max_rungs" in given:
        found.append(("solver.chebyshev.max_rungs", options.max_rungs, "it caps the rungs of the "
                      "automatic ladder, and solver.chebyshev.ladder gives the rungs explicitly"))
    if options.trace == "exact" or (method == "chebyshev" and options.exact_at(dimension)):
        # the solver's own switch at a tiny D said nothing of the vector options it made unused
        # (helper-183). An option counts as unused where the trace is exact without it too: at
        # D = 32, n_vectors = 32 is what makes it exact (8 vectors would sample it)
        why = ("solver.chebyshev.trace = 'exact'" if options.trace == "exact" else
               f"at D = {dimension} the solver takes the exact trace with or without this "
               "option")
        found += [(f"solver.chebyshev.{name}", given[name], "the exact trace uses every basis "
                   f"vector ({why})")
                  for name in ("n_vectors", "max_vectors", "target_error")
                  if name in given and _exact_without(options, name, dimension)]
        if options.trace == "stochastic" and method == "chebyshev":
            # the solver's switch replaces the stochastic trace and its precision: trace and
            # dtype given then changed nothing, bit for bit (a tester, bt190)
            found += [(f"solver.chebyshev.{name}", given[name], f"at D = {dimension} the solver "
                       "takes the exact trace in float64 instead of random vectors")
                      for name in ("trace", "dtype") if name in given]
    elif options.target_error is None and "max_vectors" in given:
        found.append(("solver.chebyshev.max_vectors", options.max_vectors, "it caps the vectors "
                      "added for solver.chebyshev.target_error, which is not set"))
    return found


def _exact_without(options: ChebyshevParams, name: str, dimension: int) -> bool:
    """Whether the trace at ``dimension`` is exact also with the Chebyshev option ``name`` at its
    default (so that the value given changes nothing)."""
    default = None if name == "max_vectors" else getattr(_CHEBYSHEV, name)
    try:
        return dataclasses.replace(options, **{name: default}).exact_at(dimension)
    except ValueError:  # e.g. max_vectors below the n_vectors given: the option is needed
        return False


def _given_options(solver: SolverParams) -> dict[str, Any]:
    """The Chebyshev options the user gave (the table of a run specification, or the fields of a
    ChebyshevParams that differ from its defaults), with their validated values; an option equal
    to its default is left out (``max_vectors`` and the window options default to values computed
    from ``n_vectors`` and ``truncation_tol``), unless ``include_defaults``."""
    options = solver.chebyshev
    derived = ChebyshevParams(n_vectors=options.n_vectors, truncation_tol=options.truncation_tol,
                              trace="exact")
    given = {}
    every = _WITH_DEFAULTS.get()  # include_defaults: also those given at their defaults
    for name in solver._given or {}:
        default = derived if name in _DERIVED else _CHEBYSHEV
        if every or getattr(options, name) != getattr(default, name):
            given[name] = getattr(options, name)
    if options._dtype_given and solver._given is not None:
        # a dtype given at the stochastic trace's default, float32, is still one the user chose
        given.setdefault("dtype", options.dtype)
    return given
