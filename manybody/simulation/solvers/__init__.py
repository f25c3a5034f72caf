"""The solver registry: every way of computing the raw responses of one realisation.

An entry (:class:`SolverEntry`) answers, for its solver: what to refuse before the draw
(``prepare``), the operators of a realisation (``build``, after its memory check), the raw responses
in the one convention of :mod:`manybody.simulation.observables.responses` (``respond``), the preflight
of a sweep point (``check_point``: observables, memory, nothing built), and the remedy it offers when
dense ED does not fit (``dense_alternative``). :func:`manybody.simulation.observe.observe` and
:func:`manybody.runs.spec.check_point` ask the registry; adding a solver is one new entry in ``SOLVERS``
(and its name in ``manybody.config.solver.SOLVER_METHODS``).

``solver.method = "auto"`` is resolved by :func:`choose_solver`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from manybody.config.model import ModelParams
from manybody.config.solver import SolverParams
from manybody.simulation.solvers import dense

# not ``as chebyshev``: that name would shadow the subpackage on this package, and
# ``import manybody.simulation.solvers.chebyshev.fused as f`` would fail (found in session 15)
from manybody.simulation.solvers.chebyshev import solver as chebyshev_solver
from manybody.simulation.solvers.chebyshev.resources import dense_operator_bytes
from manybody.simulation.solvers.memory import available_memory

__all__ = ["AUTO_DENSE_MAX_TLS", "SOLVERS", "SolverEntry", "choose_solver", "dense_alternatives",
           "reports_errors", "solver_for", "solver_for_realisation", "solver_route"]


@dataclass(frozen=True)
class SolverEntry:
    """One solver behind the common interface (module docstring).

    ``prepare(model, probe, solver)``; ``build(real, solver)`` -> operators;
    ``respond(real, operators, probe, solver, *, model, seed, realisation)`` -> Responses;
    ``check_point(model, probe, solver)``; ``dense_alternative(n_tls, random_matrix, observables)``
    -> (lower bound in bytes, remedy) or None. ``errors``: whether it reports error components
    (statistical, truncation) with its responses. ``route(model, solver)`` -> str, how a point is
    solved, for the results' provenance (None: the name).
    """

    name: str
    prepare: Callable
    build: Callable
    respond: Callable
    check_point: Callable
    dense_alternative: Callable | None = None
    errors: bool = False
    route: Callable | None = None


def _dense_build(real, solver: SolverParams):
    """Dense H and T; a refusal names the other solvers that would fit."""
    has_rm = real.random_matrix is not None or real.stress_random_matrix is not None
    return dense.build(real, solver, dense_alternatives(real.n_tls, has_rm))


def _dense_check_point(model, probe, solver: SolverParams) -> None:
    """Dense preflight; a refusal names the other solvers that could compute ``probe``."""
    has_rm = model.random_matrix is not None or model.stress.random_matrix > 0
    dense.check_point(model, probe, solver,
                      dense_alternatives(model.n_tls, has_rm, probe.observables))


SOLVERS: dict[str, SolverEntry] = {
    "dense": SolverEntry("dense", dense.prepare, _dense_build, dense.respond, _dense_check_point),
    "chebyshev": SolverEntry("chebyshev", chebyshev_solver.prepare, chebyshev_solver.build,
                             chebyshev_solver.respond, chebyshev_solver.check_point,
                             chebyshev_solver.dense_alternative, errors=True,
                             route=chebyshev_solver.route),
}


def dense_alternatives(n_tls: int, random_matrix: bool = False, observables=()
                       ) -> list[tuple[int, str]]:
    """(lower bound in bytes, remedy) of every registered solver that could replace dense ED for
    N TLS and compute ``observables``."""
    offers = (entry.dense_alternative(n_tls, random_matrix, observables)
              for entry in SOLVERS.values() if entry.dense_alternative is not None)
    return [offer for offer in offers if offer is not None]


#: Largest N for which "auto" prefers dense ED. Measured on the 2-core reference machine
#: (results/bench/chebyshev.json, 20 temperatures, 2 frequencies, eta = 0.02 K): dense ED takes
#: 6.5, 16, 31, 72 s at N = 10..13 (x ~2.3 per TLS, ~7 GB at N = 14); chebyshev with 4 vectors
#: 3.2, 3.4, 4.4, 6.0 s, with 32 vectors see "benchmark_32_vectors". Dense is exact and gives
#: every observable, so it is kept while it costs well under a minute per realisation.
AUTO_DENSE_MAX_TLS = 12


def choose_solver(params: ModelParams, dense_dtype: str = "float64",
                  memory_fraction: float = 0.9, n_tls: int | None = None) -> str:
    """"dense" or "chebyshev" for ``solver = "auto"``; ``n_tls`` (default ``params.n_tls``) the
    number of TLS actually solved (fewer when equilibration freezes some).

    Dense ED when it fits in memory and N <= AUTO_DENSE_MAX_TLS, or whenever the model has
    random-matrix terms (they are dense anyway); chebyshev otherwise.

    Raises
    ------
    MemoryError
        A model with random-matrix terms that dense ED cannot hold.
    """
    n = params.n_tls if n_tls is None else n_tls
    has_rm = params.random_matrix is not None or params.stress.random_matrix > 0
    dense_fits = (dense.estimate_memory(n, dense_dtype, has_rm)
                  <= memory_fraction * available_memory())
    if has_rm:
        if dense_fits:
            return "dense"
        if dense_operator_bytes(n, params.random_matrix is not None,
                                params.stress.random_matrix > 0) <= (
                memory_fraction * available_memory()):
            return "chebyshev"
        raise MemoryError(
            f"n_tls={n} with random-matrix terms: their dense 2^N x 2^N matrices do not fit in "
            "memory for either solver; drop the random-matrix terms or use fewer TLS")
    return "dense" if dense_fits and n <= AUTO_DENSE_MAX_TLS else "chebyshev"


def reports_errors(solver: SolverParams) -> bool:
    """Whether a run under ``solver`` may use a solver that reports errors, so that every task
    carries "<name>_error" variables (zeros from exact solvers)."""
    names = SOLVERS if solver.method == "auto" else (solver.method,)
    return any(SOLVERS[name].errors for name in names)


def solver_for(model: ModelParams, solver: SolverParams) -> str:
    """The registered solver that runs ``model`` under ``solver`` ("auto" resolved)."""
    if solver.method == "auto":
        return choose_solver(model, solver.dtype, solver.memory_fraction)
    return solver.method


def solver_for_realisation(model: ModelParams, solver: SolverParams, n_tls: int) -> str:
    """The registered solver of one realisation of ``model`` with ``n_tls`` active TLS: the
    point's solver (:func:`solver_for`), except that under "auto" a realisation that
    equilibration leaves with few active TLS (model.equilibration; PHYSICS.md section 6) is
    chosen for by its own size. Such a reduced problem of D = 4 went to the Chebyshev solver,
    whose exact trace there reported Q^-1 with errors 1e5 times too small (a break test, session
    53); dense ED solves it exactly in milliseconds."""
    if solver.method == "auto" and n_tls < model.n_tls:
        return choose_solver(model, solver.dtype, solver.memory_fraction, n_tls=n_tls)
    return solver_for(model, solver)


def solver_route(model: ModelParams, solver: SolverParams) -> str:
    """How a point of ``model`` is solved under ``solver``, for the results' provenance: the
    solver ("auto" resolved) and, for the chebyshev solver, the operator form (e.g. "chebyshev,
    matrix_free operator"); dense ED gives "dense, <dtype>"."""
    name = solver_for(model, solver)
    entry = SOLVERS[name]
    if entry.route is not None:
        route = entry.route(model, solver)
    else:
        route = f"{name}, {solver.dtype}" if name == "dense" else name
    if solver.method == "auto" and name != "dense" and model.equilibration is not None:
        route += (f" (dense ED at temperatures where equilibration leaves at most "
                  f"{AUTO_DENSE_MAX_TLS} TLS active)")
    return route
