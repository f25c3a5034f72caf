"""Which rungs of the temperature ladder share one thermal-index recursion (sessions 21-22).

A lower rung's filtered vectors are a polynomial in H of a higher rung's (:func:`.kpm.relative_filter`),
so one k-recursion can serve a run of consecutive rungs (:func:`.moments.shared_node_moments`).
:func:`shares` says whether a run may share and the rows of its bank; :func:`grouped_sharing`
splits the ladder into runs where the whole ladder's sharing does not fit or is refused. The
memory and time they weigh are :mod:`.costs`'s.
"""

from __future__ import annotations

import math

from manybody.config.solver import ChebyshevParams
from manybody.simulation.solvers.chebyshev.costs import (
    _rung_other_bytes,
    _shared_parts,
    balanced_rows,
    rung_seconds,
    shared_seconds,
    stored_rows,
)
from manybody.simulation.solvers.chebyshev.kpm import SpectralScale, relative_filter
from manybody.simulation.solvers.chebyshev.workspace import block_bytes

__all__ = ["MAX_SPLIT_SEARCH", "RELATIVE_FILTER_LIMIT", "SHARED_RECURSION", "grouped_sharing",
           "may_share", "shares"]

#: Whether a plan may serve every rung from one k-recursion (:func:`.moments.shared_node_moments`)
#: where it fits; False gives the rung-by-rung solve of session 20 (tests compare the two).
SHARED_RECURSION = True


#: Largest amplification sum_n |psi_n| of a relative filter that a shared recursion accepts
#: (:func:`shares`). Session 22: psi's coefficients sum to e^{(1/2T0 - 1/2T_top)(E_0 - E_lower)}
#: (the exponential's series sums to 1 in absolute value, times the prefactor of its value 1 at
#: E_0), and the one-operator moments of the lower rung, sums over psi^2's coefficients of the top
#: rung's moments, carry the top rung's float64 rounding times about its square. With a rung at
#: 0.005 K under one at 0.3 K (N = 8 dipolar, E_0 - E_lower = 0.12 K) it was 1.3e5: the moments
#: off by 2.5e-5 and the specific heat at 0.005 K 1.9 (+- 1.8) where it is 4e-42 (rung by rung
#: 2e-9). The rung's own filter has the same prefactor, but its error changes only the state,
#: whose moments stay exact, so it enters the variance squared. At 10 the amplified rounding
#: stays within 100x float64's.
RELATIVE_FILTER_LIMIT = 10.0

#: Ladders of up to this many rungs are split into runs by trying every split (2^(n-1), each
#: checked for memory as a whole); longer ones by dynamic programming over runs that fit one by
#: one (session 22: every split of 16 rungs took 16 s to plan).
MAX_SPLIT_SEARCH = 10


def may_share(params: ChebyshevParams, diagonal_stress: bool) -> bool:
    """Whether a solve may share k-recursions among rungs at all: not for an exact trace (the
    reference of the calibration, kept on the path it was calibrated on), with ``target_error``
    (vectors are added per rung), with a stress that is not diagonal (its T - c moves to the
    l-vectors), or when :data:`SHARED_RECURSION` is off."""
    return (SHARED_RECURSION and params.trace != "exact" and params.target_error is None
            and diagonal_stress)


def shares(rungs: list, scale: SpectralScale, params: ChebyshevParams, diagonal_stress: bool
           ) -> int:
    """Rows of the one k-recursion that can serve every rung of a run (``rungs``: its
    :class:`.plan.Rung`s, the first the top; :func:`.moments.shared_node_moments`), 0 where the
    rungs run their own: with one rung, where :func:`may_share` says no, or where a rung's
    relative filter amplifies the top rung's rounding more than :data:`RELATIVE_FILTER_LIMIT`
    allows. The rows: max over the rungs of M + the terms of the filter that takes the top
    rung's vectors to the rung's (:func:`.kpm.relative_filter`)."""
    if len(rungs) < 2 or not may_share(params, diagonal_stress):
        return 0
    top = rungs[0].temperature
    # the coefficients sum to the prefactor e^{(1/2T0 - 1/2T_top)(E_0 - E_lower)} at most (the
    # exponential's series sums to 1 in absolute value): refused from the exponent, before a
    # series is built (a deep rung's has ~ its exponent x half-width / gap terms)
    gap = scale.ground - scale.lower
    if any(0.5 * (1.0 / r.temperature - 1.0 / top) * gap > math.log(RELATIVE_FILTER_LIMIT)
           for r in rungs):
        return 0
    return max(r.n_moments + relative_filter(scale, r.temperature, top).size for r in rungs)


def _partitions(n: int):
    """Every split of rungs 0..n-1 into contiguous runs, as lists of (first, stop)."""
    for cuts in range(1 << max(n - 1, 0)):
        bounds = [0] + [i + 1 for i in range(n - 1) if cuts >> i & 1] + [n]
        yield list(zip(bounds[:-1], bounds[1:], strict=True))


def grouped_sharing(rungs: list, nodes: list[int], windows: list[int], scale: SpectralScale,
                    params: ChebyshevParams, diagonal_stress: bool, dim: int, block: int,
                    rows: int, bank: int, columns: int, itemsize: int, n_frequencies: int,
                    budget: float, seconds_per_product: float, gemm_rate: float,
                    choice_costs: tuple[float, float] | None = None):
    """Runs of consecutive rungs (``rungs``: the ladder's :class:`.plan.Rung`s, top first) that
    each share one k-recursion, where the whole ladder's does not fit or is refused (session 22):
    the split of the ladder estimated fastest among those that fit ``budget``, given the block,
    node rows per pass, bank rows and l-columns the plan chose for the rung-by-rung solve. A run
    of two or more rungs forms all its rungs' node vectors at once and its bank in chunks of at
    most ``bank`` rows (:func:`.moments.shared_node_moments`); a rung alone is solved as before.
    The workspace is counted as :func:`.costs.solve_bytes` and :func:`.costs.shared_bytes` count
    it (per role the largest rows of any run or rung, plus the largest other bytes).
    ``choice_costs``: (seconds per product, GEMM rate) of a fixed cost model that makes the
    choice (default: the given ones), so that the plan, and with it the numbers' last bits, does
    not depend on timings; the seconds returned are with the given ones.

    Returns
    -------
    tuple or None
        (groups, bytes, seconds per vector, role bytes, bank rows per rung) with groups a tuple of
        (first, stop, K) per shared run; None where no split with a shared run fits or is
        estimated faster than the rung-by-rung solve.
    """
    count = len(rungs)
    if count < 2 or not may_share(params, diagonal_stress):
        return None
    triples = [(n, r.n_moments, w) for r, n, w in zip(rungs, nodes, windows, strict=True)]
    solo_banks = [balanced_rows(r.n_moments + 1, bank) for r in rungs]
    cache: dict[tuple[int, int], tuple | None] = {}
    costs = [(seconds_per_product, gemm_rate), choice_costs or (seconds_per_product, gemm_rate)]

    def unit(first, stop):
        """(other bytes, left rows, scratch rows, seconds for the choice, K, chunk, seconds) of a
        rung alone or a run; None for a run whose rungs cannot share (:func:`shares`). Computed
        once per run."""
        if (first, stop) in cache:
            return cache[first, stop]
        if stop - first == 1:
            j = first
            other = _rung_other_bytes(dim, block, nodes[j], rungs[j].n_moments, n_frequencies,
                                      windows[j])
            left, scratch = stored_rows(nodes[j], rungs[j].n_moments, rows, bank, columns)
            times = [rung_seconds(nodes[j], rungs[j].n_moments, rows, solo_banks[j],
                                  rungs[j].filter_terms, dim, t, rate) for t, rate in costs]
            value = (other, left, scratch, times[1], 0, solo_banks[j], times[0])
        else:
            k_rows = shares(rungs[first:stop], scale, params, diagonal_stress)
            if k_rows == 0:
                value = None
            else:
                chunk = balanced_rows(k_rows, bank)
                other, left, scratch = _shared_parts(dim, block, triples[first:stop], chunk,
                                                     columns, n_frequencies)
                times = [shared_seconds(triples[first:stop], k_rows, rungs[first].filter_terms,
                                        dim, t, rate, chunk < k_rows) for t, rate in costs]
                value = (other, left, scratch, times[1], k_rows, chunk, times[0])
        cache[first, stop] = value
        return value

    def total(split):
        parts = [unit(first, stop) for first, stop in split]
        roles = {"left": block_bytes((block, max(p[1] for p in parts), dim), itemsize),
                 "scratch": block_bytes((block, max(p[2] for p in parts), dim), itemsize)}
        return max(p[0] for p in parts) + sum(roles.values()), roles

    def fits_alone(first, stop):
        return total([(first, stop)])[0] <= budget

    if count <= MAX_SPLIT_SEARCH:  # every split (2^(n-1)), the memory of the split as a whole
        candidates = (split for split in _partitions(count)
                      if any(stop - first > 1 for first, stop in split)
                      and all(unit(first, stop) is not None for first, stop in split))
    else:  # the fastest split whose runs fit one by one (dynamic programming), checked whole
        best_to = [(0.0, [])] + [None] * count
        for stop in range(1, count + 1):
            for first in range(stop):
                value = unit(first, stop)
                if best_to[first] is None or value is None or not fits_alone(first, stop):
                    continue
                seconds = best_to[first][0] + value[3]
                if best_to[stop] is None or seconds < best_to[stop][0]:
                    best_to[stop] = (seconds, best_to[first][1] + [(first, stop)])
        candidates = [best_to[count][1]] if best_to[count] is not None else []
    best = None
    for split in candidates:
        memory, roles = total(split)
        seconds = sum(unit(first, stop)[3] for first, stop in split)
        if memory <= budget and (best is None or seconds < best[2]):
            groups = tuple((first, stop, unit(first, stop)[4]) for first, stop in split
                           if stop - first > 1)
            banks = tuple(unit(first, stop)[5] for first, stop in split
                          for _ in range(first, stop))
            best = (groups, memory, seconds, roles, banks, split)
    if (best is None or not best[0]
            or best[2] >= sum(unit(j, j + 1)[3] for j in range(count))):
        return None
    groups, memory, _, roles, banks, split = best
    return groups, memory, sum(unit(first, stop)[6] for first, stop in split), roles, banks


