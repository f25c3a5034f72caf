"""Memory (bytes) and time (s) of a planned Chebyshev solve, per rung, per solve and per shared run.

The accounting behind :func:`.plan.plan_solve` and :func:`.sharing.grouped_sharing`, and the cost
estimate of :mod:`.resources`: which rungs form node-projected moments (:func:`projects`), the rows
of D numbers each rung or shared run takes from the solve's :class:`.workspace.Workspace`
(:func:`stored_rows`, :func:`role_bytes`, :func:`shared_role_bytes`), the memory of a solve
(:func:`solve_bytes`, :func:`shared_bytes`) and its time per vector (:func:`rung_seconds`,
:func:`shared_seconds`). Pure functions of the plan's numbers; nothing is allocated.
"""

from __future__ import annotations

import math

from manybody.simulation.solvers.chebyshev.workspace import block_bytes

__all__ = ["MIN_NODE_ROWS", "NODE_FRACTION", "balanced_rows", "projects", "role_bytes",
           "rows_that_fit", "rung_bytes", "rung_seconds", "shared_bytes", "shared_role_bytes",
           "shared_seconds", "solve_bytes", "stored_rows"]

#: A rung forms node-projected moments when its window nodes (+ 1) are at most this fraction of
#: M + 1 (GEMM work 4 (R + 1)(M + 1) D against 2 (M + 1)^2 D; the GEMMs with R rows run at a
#: lower rate, so the break-even lies below 1/2); wider windows (high T0, small N) keep the full
#: moment matrix of :func:`.moments.correlation_moments`.
NODE_FRACTION = 0.4


#: Fewest node rows per pass a memory cap may bring a rung down to (each pass reruns both
#: recursions).
MIN_NODE_ROWS = 16


def rows_that_fit(total: int, fits, minimum: int = MIN_NODE_ROWS) -> int:
    """Node rows per pass under a memory cap: ceil(total / p) for the fewest passes p whose rows
    ``fits(rows)`` accepts, but not below ``minimum`` (``total`` itself when it is at most that).

    Parameters
    ----------
    total : int
        Node rows of the largest rung (window nodes + 1).
    fits : callable
        rows -> bool, whether the solve fits the memory budget with that many rows per pass.
    minimum : int
        The fewest rows per pass tried; the caller raises MemoryError when even these do not fit.
    """
    rows, passes = total, 1
    while rows > minimum and not fits(rows):
        passes += 1
        rows = max(minimum, -(-total // passes))
    return rows


def balanced_rows(total: int, limit: int) -> int:
    """Rows per pass (or per chunk) that cover ``total`` rows in as few passes of at most
    ``limit`` rows as possible, and no more rows per pass than that number of passes needs:
    ceil(total / ceil(total / limit)).

    Until session 18 the plan halved the node rows under a memory cap and cut the rung into
    passes of that many: at N = 20 within 1.9 GB the top rung's 381 node rows went as 190 + 190
    + 1, and the pass for the last row reran both recursions of the rung for it. Passes of 191
    need two (the bank's chunks likewise; a rung with the full moment matrix reruns its
    l-recursion per chunk).

    Raises
    ------
    ValueError
        When ``total`` < 0 or ``limit`` < 1.
    """
    if total < 0 or limit < 1:
        raise ValueError(f"balanced_rows needs total >= 0 and limit >= 1, got {total}, {limit}")
    if total <= limit:
        return total
    passes = -(-total // limit)
    return -(-total // passes)


def projects(nodes: int, n_moments: int) -> bool:
    """Whether a rung with ``nodes`` node rows (window nodes + 1) forms node-projected moments."""
    return nodes <= NODE_FRACTION * (n_moments + 1)


def stored_rows(nodes: int, n_moments: int, rows: int, bank: int, columns: int) -> tuple[int, int]:
    """Rows of D numbers per vector of the block that one rung takes from each role of the solve's
    :class:`.workspace.Workspace`: ("left", "scratch") = (the ``rows`` node vectors, the larger
    of the k bank and the l buffer) for a rung that projects on nodes (:func:`projects`), or
    (the l buffer, the k bank) for one that keeps the full moment matrix: the bank, the largest
    array of either form, is always "scratch", so a solve that mixes the forms holds about what
    its largest rung needs."""
    m = n_moments + 1
    bank, columns = min(bank, m), min(columns, m)
    if projects(nodes, n_moments):
        return min(rows, nodes), max(bank, columns)
    return columns, bank


def rung_bytes(dim: int, block: int, nodes: int, n_moments: int, rows: int, bank: int,
               columns: int, itemsize: int, n_frequencies: int) -> int:
    """Memory (bytes) of one rung of a solve: 16 float64 work vectors per vector of the block;
    per vector (``itemsize`` bytes per number) the rows of :func:`stored_rows`; the moment
    arrays (float64, with temporaries) and the contraction's kernel tables."""
    return (_rung_other_bytes(dim, block, nodes, n_moments, n_frequencies)
            + sum(block_bytes((block, r, dim), itemsize)
                  for r in stored_rows(nodes, n_moments, rows, bank, columns)))


def solve_bytes(dim: int, block: int, rungs: list[tuple[int, int, int, int]], columns: int,
                itemsize: int, n_frequencies: int, summed: bool = False) -> int:
    """Memory (bytes) of a solve whose rungs share one :class:`.workspace.Workspace`: the
    largest per-rung work (vectors, moments, tables) plus, per role, the largest rows any rung
    takes from it (so a solve whose largest bank and largest node vectors come from different
    rungs is counted with both).

    Parameters
    ----------
    rungs : list of (nodes, n_moments, rows, bank[, window])
        Per rung: node rows formed (+ 1: the window nodes, or the columns of the rung's
        compressed basis), M, node rows per pass, k bank rows, and optionally the window nodes
        (+ 1; default ``nodes``), which size the moment arrays and contraction tables.
    summed : bool
        An exact trace: a full moment matrix is the block's sum (:func:`_rung_other_bytes`).
    """
    other = max(_rung_other_bytes(dim, block, rung[0], rung[1], n_frequencies,
                                  rung[4] if len(rung) > 4 else None, summed) for rung in rungs)
    return other + sum(role_bytes(dim, block, rungs, columns, itemsize).values())


def role_bytes(dim: int, block: int, rungs: list[tuple[int, int, int, int]], columns: int,
               itemsize: int) -> dict[str, int]:
    """Bytes a solve takes from each role of its :class:`.workspace.Workspace` ("left",
    "scratch"): per role the largest rows any rung takes (:func:`stored_rows`), ``block`` vectors
    of D = ``dim`` numbers of ``itemsize`` bytes. ``rungs`` as in :func:`solve_bytes`."""
    left = scratch = 0
    for nodes, n_moments, rows, bank, *_ in rungs:
        a, b = stored_rows(nodes, n_moments, rows, bank, columns)
        left, scratch = max(left, a), max(scratch, b)
    return {"left": block_bytes((block, left, dim), itemsize),
            "scratch": block_bytes((block, scratch, dim), itemsize)}


def _rung_other_bytes(dim: int, block: int, nodes: int, n_moments: int,
                      n_frequencies: int, window: int | None = None, summed: bool = False) -> int:
    """The work vectors, moment arrays and contraction tables of one rung (bytes); ``nodes``
    the node rows formed (+ 1), ``window`` the window nodes (+ 1; default ``nodes``): the moments
    come back on every window node and the tables cover them all, compressed or not. ``summed``:
    an exact trace, whose full moment matrix is the block's sum (one M x M matrix, formed a
    chunk of at most 256 columns at a time from (block, M, columns) products, with the GEMMs'
    partial sums and their float64 total: :func:`.moments.correlation_moments`)."""
    m = n_moments + 1
    window = nodes if window is None else window
    vectors = 16 * dim * block * 8
    if projects(nodes, n_moments):
        moments = 4 * block * window * m * 8
    elif summed:
        moments = 4 * m * m * 8 + 3 * block * m * min(m, 256) * 8
    else:
        moments = 4 * block * m * m * 8
    return vectors + moments + _table_bytes(window, n_moments, n_frequencies)


def _table_bytes(window: int, n_moments: int, n_frequencies: int) -> int:
    """The contraction tables of one rung (bytes; with its truncation probes and temporaries)
    for ``window`` window nodes (+ 1) and M = ``n_moments``."""
    return 4 * window * (n_moments + 1) * 8 * (2 + 2 * n_frequencies)


def rung_seconds(nodes: int, n_moments: int, rows: int, bank: int, filter_terms: int, dim: int,
                 seconds_per_product: float, gemm_rate: float,
                 contraction_share: float = 1.0) -> float:
    """Time (s) of one vector on one rung: the filter and both recursions (M + 1 steps each),
    the GEMMs and the small contraction. Node-projected (:func:`projects`): both recursions rerun
    per pass of ``rows`` node rows, GEMMs of 4 nodes (M + 1) D flops at ``gemm_rate`` (forming
    the node vectors over a bank of fewer than M + 1 rows measured about twice as slow); else the
    full moment matrix, 2 (M + 1)^2 D flops, the l-recursion rerun per chunk of ``bank`` rows.

    ``contraction_share``: the small contractions per vector. An exact trace contracts the sum
    of each block once (``solver._contract``: blocks / vectors); its plan counted one per vector
    and estimated a D = 64 solve of 2.7 s at 15 s (of which 12.5 s the 8 M^3 flops of three
    full-matrix contractions per vector) and one of 8 s at 0.17 h (session 51's note)."""
    m = n_moments
    if projects(nodes, n_moments):
        products = filter_terms + 2 * (m + 1) * math.ceil(nodes / rows)
        gemm = (4.0 if bank > m else 6.0) * nodes * (m + 1) * dim / gemm_rate
        return (products * seconds_per_product + gemm
                + contraction_share * 8.0 * nodes * m * m / 1e10)
    products = filter_terms + (m + 1) * (1 + math.ceil((m + 1) / bank))
    return (products * seconds_per_product + 2.0 * (m + 1) ** 2 * dim / gemm_rate
            + contraction_share * 8.0 * m**3 / 1e10)


def shared_bytes(dim: int, block: int, rungs: list[tuple[int, int, int]], k_rows: int,
                 columns: int, itemsize: int, n_frequencies: int) -> int:
    """Memory (bytes) of a solve whose rungs share one k-recursion: the largest rung's work
    vectors and moments (:func:`_rung_other_bytes`, the rungs are contracted one after the
    other), the contraction tables of every rung (kept from the plan through the solve), a start
    vector (float64) per rung, and the workspace of :func:`.moments.shared_node_moments`
    (``shared_role_bytes``).

    Parameters
    ----------
    rungs : list of (nodes, n_moments, window)
        Per rung: node rows formed (+ 1), M and the window nodes (+ 1).
    k_rows : int
        Rows of the shared bank: all K rows, or (session 22, under a memory cap) the rows of one
        chunk of it.
    """
    other, left, scratch = _shared_parts(dim, block, rungs, k_rows, columns, n_frequencies)
    return other + block_bytes((block, left, dim), itemsize) + block_bytes((block, scratch, dim),
                                                                           itemsize)


def shared_role_bytes(dim: int, block: int, rungs: list[tuple[int, int, int]], k_rows: int,
                      columns: int, itemsize: int) -> dict[str, int]:
    """Bytes per workspace role of :func:`.moments.shared_node_moments`: "left" holds the node
    vectors of every rung at once, "scratch" the shared bank (or a chunk of it), then the l
    buffer."""
    _, left, scratch = _shared_parts(dim, block, rungs, k_rows, columns, 0)
    return {"left": block_bytes((block, left, dim), itemsize),
            "scratch": block_bytes((block, scratch, dim), itemsize)}


def _shared_parts(dim: int, block: int, rungs: list[tuple[int, int, int]], k_rows: int,
                  columns: int, n_frequencies: int) -> tuple[int, int, int]:
    """Of a shared recursion (``rungs``, ``k_rows`` as in :func:`shared_bytes`): its bytes outside
    the workspace, and the rows per vector it takes as "left" and as "scratch"."""
    other = max(_rung_other_bytes(dim, block, n, m, n_frequencies, w)
                - _table_bytes(w, m, n_frequencies) for n, m, w in rungs)
    tables = sum(_table_bytes(w, m, n_frequencies) for _, m, w in rungs)
    starts = len(rungs) * dim * block * 8
    scratch = max(k_rows, max(min(columns, m + 1) for _, m, _ in rungs))
    return other + tables + starts, sum(n for n, _, _ in rungs), scratch


def shared_seconds(rungs: list[tuple[int, int, int]], k_rows: int, filter_terms: int, dim: int,
                   seconds_per_product: float, gemm_rate: float, chunked: bool = False) -> float:
    """Time (s) of one vector of a shared solve: the top rung's filter, the shared k-recursion
    (``k_rows`` steps), each rung's l-recursion (M + 1 steps), the GEMMs (node vectors over at
    most ``k_rows`` bank rows, 2 nodes k_rows D flops per rung at most, and the l-GEMMs, 2 nodes
    (M + 1) D) and the small contractions. ``rungs`` as in :func:`shared_bytes`; ``chunked``:
    the bank is formed in chunks (the node GEMMs then counted 1.5x slower, as
    :func:`rung_seconds` counts a chunked bank)."""
    products = filter_terms + k_rows + sum(m + 1 for _, m, _ in rungs)
    factor = 3.0 if chunked else 2.0
    gemm = sum((factor * k_rows + 2.0 * (m + 1)) * n * dim for n, m, _ in rungs) / gemm_rate
    return products * seconds_per_product + gemm + sum(8.0 * n * m * m / 1e10
                                                       for n, m, _ in rungs)


