"""The matrix-free operator of the Chebyshev solver: equal to the sparse (QuSpin) operators to
round-off for every model family and dtype, and the solver's results unchanged with it."""

from __future__ import annotations

import json
import logging
import os

import numpy as np
import pytest

from manybody.config.model import (
    CouplingParams,
    ModelParams,
    RandomMatrixParams,
    StressParams,
    TLSParams,
)
from manybody.config.probe import Broadening
from manybody.config.solver import ChebyshevParams
from manybody.simulation.ensembles import Realisation, draw_realisation, realisation_rng
from manybody.simulation.operators import build_operators, pauli_sum
from manybody.simulation.solvers.chebyshev import matrix_free as mf
from manybody.simulation.solvers.chebyshev import solver as ch
from manybody.simulation.solvers.chebyshev.kpm import ScaledOperator, commutator, spectral_bounds
from manybody.simulation.solvers.chebyshev.matrix_free import (
    MAX_WIDTH,
    MatrixFreeOperator,
    matrix_free_operators,
    matrix_free_refusal,
)

FAMILIES = {
    "independent": ModelParams(n_tls=6, coupling=None),
    "gaussian": ModelParams(n_tls=7, coupling=CouplingParams(strength=0.2)),
    "dipolar": ModelParams(n_tls=8, coupling=CouplingParams(kind="dipolar", strength=0.05)),
    "xz_components": ModelParams(n_tls=6, coupling=CouplingParams(
        strength=0.2, components=("zz", "xx", "xz", "zx"))),
    "x_only": ModelParams(n_tls=5, coupling=CouplingParams(strength=0.3, components=("xx",))),
}


def _realisation(name: str, index: int = 0) -> Realisation:
    return draw_realisation(FAMILIES[name], realisation_rng(11, index))


#: Every family with a block of 3 in float64; one vector on a family without (dipolar) and float32
#: on one with (xz) z-signed flips. Each (width, dtype, kind) is compiled once per source version
#: (cached on disk), so the cases are chosen to keep first runs fast.
CASES = ([(name, np.float64, 3) for name in sorted(FAMILIES)]
         + [("dipolar", np.float64, 1), ("xz_components", np.float32, 3)])


@pytest.mark.parametrize(("name", "dtype", "width"), CASES)
def test_matrix_free_equals_sparse_operators(name, dtype, width):
    """H X, C X = [H, T] X and diag T equal the sparse operators to round-off, for blocks of one
    and several vectors (wider than one compiled strip too) and both dtypes."""
    real = _realisation(name)
    h, t = build_operators(real, np.float64, dense=False)
    op, t_diag = matrix_free_operators(real)
    x = np.random.default_rng(width).standard_normal((real.dimension, width))
    xd = x.astype(dtype)
    tol = 1e-12 if dtype == np.float64 else 2e-6
    scale = abs(h).sum(axis=1).max()
    hx = op @ xd
    assert hx.dtype == dtype and hx.shape == x.shape
    assert np.max(np.abs(hx - h @ xd.astype(np.float64))) <= tol * scale * np.abs(x).max()
    c = commutator(h, t)
    cx = op.commutator_product(xd)
    assert np.max(np.abs(cx - c @ xd.astype(np.float64))) <= tol * abs(c).sum(axis=1).max() * 4
    np.testing.assert_allclose(t_diag, t.diagonal(), rtol=1e-13, atol=1e-13)


def test_blocks_wider_than_one_compiled_strip(monkeypatch):
    """A block wider than MAX_WIDTH is processed in strips with the same result."""
    op, _ = matrix_free_operators(_realisation("xz_components"))
    x, prev = np.random.default_rng(1).standard_normal((2, 64, 3))
    whole = op.scaled_product(x, 2.0, 0.5, prev), op.commutator_product(x)
    monkeypatch.setattr(mf, "MAX_WIDTH", 2)
    strips = op.scaled_product(x, 2.0, 0.5, prev), op.commutator_product(x)
    for a, b in zip(whole, strips, strict=True):
        np.testing.assert_array_equal(a, b)
    assert MAX_WIDTH >= 8


def _gathered(op, x, alpha, shift, prev):
    """The per-row gather kernel on an operator without z-signed flips (reference)."""
    out = np.empty_like(x)
    mf._product_kernel(x.shape[1], False, False)(
        x, out, op._diagonal, alpha, shift, x if prev is None else prev, prev is not None,
        op.masks, op._weights, op._pointers, op._coefficients, op._zmasks, op._diagonal[:0])
    return out


def _run_reference(x, diagonal, alpha, shift, prev, masks, weights):
    """Y = alpha ((d - shift) X + sum_m w_m X[r ^ m]) - P term by term in numpy, in the run
    kernel's order (diagonal, then the masks in increasing order; each a multiply, then an add)."""
    rows = np.arange(x.shape[0])
    acc = (diagonal - shift)[:, None] * x.astype(np.float64)
    for mask, weight in zip(masks, weights, strict=True):
        acc = acc + weight * x[rows ^ mask].astype(np.float64)
    out = alpha * acc
    return (out if prev is None else out - prev).astype(x.dtype)


@pytest.mark.parametrize("width", [1, 4, 8])
@pytest.mark.parametrize("low", [(), (1, 2, 4), (1, 3, 5, 6)])
def test_run_kernel_row_operations_are_the_scalar_arithmetic(width, low):
    """The run kernel's vector row operations (session 24: the tile pass and runs shorter than
    16 rows, :mod:`.vector_rows`) give numpy's term-by-term arithmetic in the same order to the
    last bit: float32 and float64 blocks, no flips below the tile, pair flips inside it, a group
    of four short runs, a short run left alone after the groups of four, and long runs."""
    from manybody.simulation.solvers.chebyshev.run_kernel import run_kernel

    dim, tile = 2048, 8
    # after the masks below the tile: a group of four runs of 8 rows, a group whose runs are
    # 128 rows long, then a single mask whose runs are 8 rows (1032 = 2^10 + 2^3)
    high = (8, 16, 32, 64, 128, 256, 512, 768, 1032)
    masks = np.array(sorted(low + high), dtype=np.int64)
    rng = np.random.default_rng(width + len(low))
    weights = rng.standard_normal(masks.size)
    diagonal = rng.standard_normal(dim)
    chunk = mf._run_chunk(width)
    for dtype in (np.float64, np.float32):
        x, prev = rng.standard_normal((2, dim, width)).astype(dtype)
        for p in (None, prev):
            for threads in (1, 2):
                out = np.empty_like(x)
                run_kernel(width, tile, low)(
                    x.reshape(-1), out.reshape(-1), diagonal, 0.7, -0.3,
                    (x if p is None else p).reshape(-1), p is not None, masks, weights, chunk,
                    threads)
                np.testing.assert_array_equal(
                    out, _run_reference(x, diagonal, 0.7, -0.3, p, masks, weights))


@pytest.mark.parametrize("n_tls", [6, 11])
def test_run_kernel_equals_gather_kernel_bit_for_bit(n_tls):
    """Operators without z-signed flips (single and pair flips) take the contiguous-run kernel;
    it gives the gather kernel's numbers to the last bit for odd and wide blocks, both dtypes,
    with and without the recursion term, whether D is below or above one row chunk."""
    params = ModelParams(n_tls=n_tls, coupling=CouplingParams(
        strength=0.3, components=("zz", "xx")))
    op, _ = matrix_free_operators(draw_realisation(params, realisation_rng(5, 0)))
    assert op._zmasks.size == 0 and (np.bitwise_count(op.masks) == 2).any()
    rng = np.random.default_rng(n_tls)
    for width in (1, 3, 4, 5, 17):
        assert mf._run_chunk(width) & (mf._run_chunk(width) - 1) == 0
        for dtype in (np.float64, np.float32):
            x, prev = rng.standard_normal((2, op.shape[0], width)).astype(dtype)
            for p in (None, prev):
                fast = op.scaled_product(x, 0.7, -0.3, p)
                assert fast.dtype == dtype
                np.testing.assert_array_equal(fast, _gathered(op, x, 0.7, -0.3, p))
    vector = rng.standard_normal(op.shape[0])
    np.testing.assert_array_equal(op @ vector, _gathered(op, vector[:, None], 1.0, 0.0, None)[:, 0])


def test_pauli_strings_with_repeated_sites_and_signs():
    """Any x/z string, a site repeated within a term included, matches QuSpin exactly (dense)."""
    terms = [("x", [[0.5, 0], [0.25, 2]]), ("z", [[1.5, 1]]), ("zz", [[0.3, 0, 2]]),
             ("xz", [[0.7, 0, 1], [0.2, 1, 1]]), ("zx", [[-0.4, 2, 0], [0.6, 2, 2]]),
             ("xx", [[0.9, 1, 2]]), ("zxz", [[0.35, 0, 1, 2]])]
    np.testing.assert_allclose(MatrixFreeOperator(3, terms).toarray(),
                               pauli_sum(3, terms).toarray(), rtol=0, atol=1e-15)


def test_fused_step_is_the_chebyshev_recursion():
    """ScaledOperator with a matrix-free H gives the same steps as with the sparse H."""
    real = _realisation("xz_components", 1)
    h, _ = build_operators(real, np.float64, dense=False)
    op, _ = matrix_free_operators(real)
    scale = spectral_bounds(h)
    sparse, free = ScaledOperator(h, scale), ScaledOperator(op, scale)
    assert free.matrix_free and not sparse.matrix_free
    rng = np.random.default_rng(0)
    x, prev = rng.standard_normal((2, real.dimension, 4))
    np.testing.assert_allclose(free.apply(x), sparse.apply(x), rtol=0, atol=1e-13)
    np.testing.assert_allclose(free.step(x, prev), sparse.step(x, prev), rtol=0, atol=1e-13)
    assert free.products == 8
    b_sparse, b_free = spectral_bounds(h), spectral_bounds(op)  # D = 64: exact eigenvalues
    assert b_free.lower == pytest.approx(b_sparse.lower, abs=1e-12)
    assert b_free.upper == pytest.approx(b_sparse.upper, abs=1e-12)


def test_spectral_bounds_by_lanczos_on_the_matrix_free_operator():
    """Above 512 states the bounds come from ARPACK on the operator itself (LinearOperator)."""
    real = draw_realisation(ModelParams(n_tls=10, coupling=CouplingParams(strength=0.2)),
                            realisation_rng(2, 0))
    h, _ = build_operators(real, np.float64, dense=False)
    op, _ = matrix_free_operators(real)
    levels = np.linalg.eigvalsh(h.toarray())
    bounds = spectral_bounds(op)
    assert bounds.ground == pytest.approx(levels[0], abs=1e-8)
    assert bounds.lower < levels[0] and bounds.upper > levels[-1]


@pytest.mark.parametrize("name", ["dipolar", "xz_components"])
def test_solver_results_equal_with_matrix_free_and_sparse(name):
    """Q^-1 and the velocity shift: float64 to ~1e-10 relative, float32 far inside the errors."""
    real = _realisation(name, 2)
    t = np.geomspace(0.05, 0.4, 4)
    kernel = Broadening(kind="gaussian", width=0.05)
    for dtype, tol in (("float64", 1e-10), ("float32", 1e-6)):
        sparse, free = (ch.chebyshev_absorption(
            real, [0.2], t, kernel, ChebyshevParams(n_vectors=3, dtype=dtype, operator=o), seed=5)
            for o in ("sparse", "matrix_free"))
        assert (sparse.operator, free.operator) == ("sparse", "matrix_free")
        assert free.operator_fallback is None
        top = np.abs(sparse.absorption).max()
        assert np.max(np.abs(free.absorption - sparse.absorption)) <= tol * top
        assert np.max(np.abs(free.velocity_shift - sparse.velocity_shift)) <= (
            tol * np.abs(sparse.velocity_shift).max())
        assert np.all(np.abs(free.absorption - sparse.absorption) <= 1e-3 * sparse.absorption_error)
        assert [d["n_moments"] for d in free.diagnostics] == [
            d["n_moments"] for d in sparse.diagnostics]


def test_random_matrix_model_falls_back_and_says_so(caplog):
    """TLS + GOE has no matrix-free form: the solver uses the sparse/dense path and reports why."""
    params = ModelParams(n_tls=5, tls=TLSParams(), coupling=CouplingParams(strength=0.1),
                         random_matrix=RandomMatrixParams(kind="goe", weight=0.5))
    real = draw_realisation(params, realisation_rng(3, 0))
    assert "random_matrix" in matrix_free_refusal(real)
    with pytest.raises(ValueError, match="random_matrix"):
        matrix_free_operators(real)
    ch._FALLBACKS_SAID.clear()
    with caplog.at_level(logging.WARNING, logger=ch.__name__):
        res = ch.chebyshev_absorption(real, [0.2], [0.1, 0.2], Broadening(width=0.05),
                                      ChebyshevParams(n_vectors=2, operator="matrix_free"), seed=1)
    assert res.operator == "sparse" and "random_matrix" in res.operator_fallback
    said = [r.getMessage() for r in caplog.records if "random_matrix" in r.getMessage()]
    assert len(said) == 1 and "cannot be used for this model" in said[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=ch.__name__):  # the next realisation: quiet
        again = ch.chebyshev_absorption(real, [0.2], [0.1, 0.2], Broadening(width=0.05),
                                        ChebyshevParams(n_vectors=2, operator="matrix_free"), seed=1)
    assert again.operator_fallback == res.operator_fallback
    assert not [r for r in caplog.records if "random_matrix" in r.getMessage()]
    assert matrix_free_refusal(_realisation("dipolar")) is None


def test_auto_keeps_sparse_below_the_dimension_threshold():
    """"auto" leaves small D on the sparse path (recorded results bit for bit)."""
    ops = ch.ChebyshevOperators(_realisation("gaussian"), ChebyshevParams())
    assert ops.operator == "sparse" and ops.fallback is None
    assert ch.AUTO_MATRIX_FREE_DIMENSION >= 2**7


ROUTE_MODELS = {
    **FAMILIES,
    "goe": ModelParams(n_tls=5, coupling=CouplingParams(strength=0.2),
                       random_matrix=RandomMatrixParams(kind="goe", weight=0.5)),
    "stress_goe": ModelParams(n_tls=5, stress=StressParams(random_matrix=0.3)),
}


@pytest.mark.parametrize("option", ["auto", "matrix_free", "sparse"])
@pytest.mark.parametrize("name", sorted(ROUTE_MODELS))
def test_route_names_the_operator_the_solver_uses(name, option, monkeypatch):
    """The results' provenance (solver_routes) says, from the parameters alone, the operator form
    ChebyshevOperators builds for every model family and operator option ("auto" with the
    dimension threshold below and above the model's D)."""
    from manybody.config.solver import SolverParams
    from manybody.simulation.solvers import solver_route
    from manybody.simulation.solvers.chebyshev import resources

    model = ROUTE_MODELS[name]
    real = draw_realisation(model, realisation_rng(3, 0))
    solver = SolverParams(method="chebyshev", chebyshev=ChebyshevParams(operator=option))
    for threshold in (2 ** model.n_tls, 2 ** (model.n_tls - 1)):
        monkeypatch.setattr(resources, "AUTO_MATRIX_FREE_DIMENSION", threshold)
        built = ch.ChebyshevOperators(real, solver.chebyshev)
        said = solver_route(model, solver)
        assert said.startswith("chebyshev, ")
        assert ("matrix_free" in said.split("(")[0]) == (built.operator == "matrix_free")
        assert ("random-matrix" in said) == (built.fallback is not None)
    dense = SolverParams(method="dense", dtype="float32")
    assert solver_route(model, dense) == "dense, float32"


def test_bad_operator_option_is_refused():
    with pytest.raises(ValueError, match=r"chebyshev\.operator.*'dense'"):
        ChebyshevParams(operator="dense")
    with pytest.raises(ValueError, match="previous must have shape"):
        op, _ = matrix_free_operators(_realisation("independent"))
        x = np.zeros((64, 2))
        op.scaled_product(x, 1.0, 0.0, np.zeros((64, 3)))


def test_bench_apply_against_stream_on_a_tiny_size():
    """scripts/bench_chebyshev.py apply: the step timings, the stream bound and their ratios."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "bench_chebyshev.py"
    spec = importlib.util.spec_from_file_location("bench_chebyshev", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = bench.apply_against_stream(6, 3)
    assert out["bytes_moved"] == 3 * 64 * 3 * 8 + 8 * 64
    for key in ("stream_seconds", "matrix_free_step_seconds", "sparse_step_seconds",
                "matrix_free_step_seconds_one_vector", "step_over_stream",
                "parallel_stream_seconds", "step_over_parallel_stream",
                "matrix_free_in_place_step_seconds", "in_place_step_over_parallel_stream"):
        assert out[key] > 0
    single = bench.apply_against_stream(6, 3, "float32")  # the dtype of the benchmark runs
    assert single["dtype"] == "float32" and single["bytes_moved"] == 3 * 64 * 3 * 4 + 8 * 64
    assert out["gemm_flops_per_second"] > 0
    # the step's arithmetic floor: (diagonal + one term per flip mask) x D x b terms at the
    # in-core rate of the run kernel's inner loop
    from manybody.simulation.ensembles import draw_realisation, realisation_rng

    real = draw_realisation(bench._model(6, bench.BENCH),
                            realisation_rng(bench.BENCH["seed"], bench.BENCH["realisation"]))
    masks = matrix_free_operators(real)[0].masks.size
    assert masks == 6  # the benchmark model: one flip per site (Delta_i s^x_i)
    assert out["in_core_term_rate"] > 0
    assert out["term_floor_seconds"] == pytest.approx((masks + 1) * 64 * 3
                                                      / out["in_core_term_rate"])
    assert out["term_floor_over_parallel_stream"] == pytest.approx(
        out["term_floor_seconds"] / out["parallel_stream_seconds"])
    assert out["step_over_term_floor"] == pytest.approx(
        out["matrix_free_step_seconds"] / out["term_floor_seconds"])
    # the roofline: the larger of the stream bound and the terms at the best in-core rate
    assert out["peak_term_rate"] >= out["in_core_term_rate"] > 0  # the faster loop of the two
    assert out["compute_floor_seconds"] == pytest.approx((masks + 1) * 64 * 3
                                                         / out["peak_term_rate"])
    assert out["roofline_seconds"] == max(out["parallel_stream_seconds"],
                                          out["compute_floor_seconds"])
    assert out["step_over_roofline"] == pytest.approx(
        out["matrix_free_step_seconds"] / out["roofline_seconds"])
    assert out["compute_floor_over_parallel_stream"] == pytest.approx(
        out["compute_floor_seconds"] / out["parallel_stream_seconds"])
    # the floor of a solve: GEMMs at the measured rate plus every step at the stream bound
    rungs = [{"n_moments": 99, "filter_terms": 10}, {"n_moments": 49, "filter_terms": 20}]
    apply = {"gemm_flops_per_second": 1e9, "parallel_stream_seconds": 1e-3}
    floor = bench.solve_floor(rungs, 6, 3, apply, recorded=10.0, measured=2.0)
    gemm = 2 * (100**2 + 50**2) * 64 * 3 / 1e9
    steps = 10 + 199 + 20 + 99
    assert floor["steps"] == steps
    assert floor["gemm_seconds"] == pytest.approx(gemm)
    assert floor["floor_seconds"] == pytest.approx(gemm + steps * 1e-3)
    assert floor["recorded_over_floor"] == pytest.approx(10.0 / (gemm + steps * 1e-3))

    assert floor["measured_over_floor"] == pytest.approx(2.0 / (gemm + steps * 1e-3))
    assert "recorded_over_floor" not in bench.solve_floor(rungs, 6, 3, apply, None, 2.0)
    # node-projected moments: 4 R (M + 1) D b flops for R nodes
    projected = [dict(r, nodes=n, node_rows=n) for r, n in zip(rungs, (31, 12), strict=True)]
    node_floor = bench.solve_floor(projected, 6, 3, apply, None, 2.0)
    assert node_floor["gemm_seconds"] == pytest.approx(4 * (31 * 100 + 12 * 50) * 64 * 3 / 1e9)
    mixed = [projected[0], dict(projected[1], node_rows=0)]  # the second keeps the full matrix
    assert bench.solve_floor(mixed, 6, 3, apply, None, 2.0)["gemm_seconds"] == pytest.approx(
        (4 * 31 * 100 + 2 * 50**2) * 64 * 3 / 1e9)
    # one k-recursion of K = 120 rows for both rungs (session 21 records: no shared_first), and
    # the same as a run of session 22: the top rung's filter, K steps, M + 1 per rung
    shared = [dict(r, formed_rows=n, shared_bank=120) for r, n in zip(projected, (31, 12),
                                                                       strict=True)]
    run = [dict(shared[0], shared_first=True), dict(shared[1], shared_first=False)]
    for rungs_k in (shared, run):
        floor_k = bench.solve_floor(rungs_k, 6, 3, apply, None, 2.0)
        assert floor_k["steps"] == 10 + 120 + 100 + 50
        assert floor_k["gemm_seconds"] == pytest.approx(
            2 * (31 * 220 + 12 * 170) * 64 * 3 / 1e9)
    # a run of the lower two rungs of three, the top one alone
    three = [dict(projected[0], formed_rows=31),
             dict(shared[0], shared_first=True, filter_terms=15),
             dict(shared[1], shared_first=False)]
    assert bench.solve_floor(three, 6, 3, apply, None, 2.0)["steps"] == (
        10 + 199 + 15 + 120 + 100 + 50)


def test_bench_sources_replaces_far_masks_and_records_the_levels(monkeypatch):
    """scripts/bench_chebyshev.py sources (session 28): the step with every far mask replaced by
    one inside the chunk keeps the number of terms, and the record gives the step, that step and
    the terms at each source level against the stream."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "bench_chebyshev.py"
    spec = importlib.util.spec_from_file_location("bench_chebyshev", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    masks = np.array([1 << k for k in range(16)])
    near = bench.local_masks(masks, 1024)
    assert near.size == masks.size and near.max() < 1024
    assert np.all(np.diff(near) >= 0)
    assert sorted(near.tolist()) == sorted(masks[:10].tolist() + [8, 16, 32, 64, 128, 256])
    monkeypatch.setattr(bench, "SOURCE_TERMS", 1e6)
    monkeypatch.setattr(bench, "SOURCE_FOOTPRINTS", {"l1": 32 * 1024, "memory": 64 * 1024})
    out = bench.source_levels(12, 2)
    assert out["terms"] == (12 + 1) * 2**12 * 2
    for key in ("parallel_stream_seconds", "step_seconds", "local_masks_step_seconds",
                "term_rate_sources_in_l1", "term_rate_sources_in_memory"):
        assert out[key] > 0
    assert out["step_over_parallel_stream"] == pytest.approx(
        out["step_seconds"] / out["parallel_stream_seconds"])
    assert out["terms_over_parallel_stream_sources_in_l1"] == pytest.approx(
        out["terms"] / out["term_rate_sources_in_l1"] / out["parallel_stream_seconds"])



def test_fused_record_equals_the_numpy_passes():
    """fused.record: the bank row is numpy's (t x - c x) cast to the bank dtype, bit for bit, and
    the dots are numpy's to round-off, for one and several probes, with and without T."""
    from manybody.simulation.solvers.chebyshev.fused import record

    rng = np.random.default_rng(3)
    dim = 5000  # not a multiple of the row chunk
    t = rng.standard_normal(dim)
    for width, dtype in ((3, np.float32), (3, np.float64), (1, np.float32), (2, np.float32)):
        new, current = rng.standard_normal((2, dim, width))  # width 1 once failed to compile
        probes = rng.standard_normal((2, dim, width))
        bank = np.zeros((width, 4, dim), dtype=dtype)
        dots = record(new, bank[:, 2, :], current=current, probes=probes, stress=t, shift=0.3)
        np.testing.assert_array_equal(bank[:, 2, :], (t[:, None] * new - 0.3 * new).T.astype(dtype))
        assert not bank[:, [0, 1, 3], :].any()  # only its own row written
        expected = [np.einsum("ij,ij->j", new, u) for u in (new, current, *probes)]
        np.testing.assert_allclose(dots, np.stack(expected), rtol=1e-12)
        plain = record(new, bank[:, 0, :])
        np.testing.assert_array_equal(bank[:, 0, :], new.T.astype(dtype))
        assert plain.shape == (2, width) and not plain[1].any()
        one = record(new, bank[:, 1, :], current=current, probes=probes[:1], stress=t)
        np.testing.assert_allclose(one, np.stack(expected[:3]), rtol=1e-12)
    with pytest.raises(ValueError, match="bank_row must have shape"):
        record(new, np.zeros((width, dim - 1)))
    for dim, width in ((4099, 3), (5, 2), (1, 1)):  # rows not a multiple of the 8-row partial sums
        new, current = rng.standard_normal((2, dim, width))
        bank = np.zeros((width, dim))
        dots = record(new, bank, current=current, probes=new[None] * 0.5)
        np.testing.assert_array_equal(bank, new.T)
        expected = [np.einsum("ij,ij->j", new, u) for u in (new, current, 0.5 * new)]
        np.testing.assert_allclose(dots, np.stack(expected), rtol=1e-12)


def test_correlation_moments_fused_path_equals_the_numpy_path():
    """The matrix-free path's fused bookkeeping and in-place steps give the moments of the
    generic path (same operator applied through a plain callable) to round-off, also when the
    bank is split into chunks."""
    from manybody.simulation.solvers.chebyshev.kpm import ShiftedDiagonal
    from manybody.simulation.solvers.chebyshev.moments import correlation_moments

    real = _realisation("gaussian")
    op, t = matrix_free_operators(real)
    scaled = ScaledOperator(op, spectral_bounds(op))
    v = np.random.default_rng(2).standard_normal((real.dimension, 2))
    probe = np.random.default_rng(3).standard_normal((real.dimension, 2))
    fused_left = ShiftedDiagonal(t, 0.2)
    plain_left = lambda x: t[:, None] * x - 0.2 * x  # noqa: E731
    for rows in (None, 7):
        a = correlation_moments(scaled, fused_left, op.commutator_product, v.copy(), 40,
                                probes=[probe], left_commutator=True, bank_rows=rows)
        b = correlation_moments(scaled, plain_left, op.commutator_product, v.copy(), 40,
                                probes=[probe], left_commutator=True, bank_rows=rows)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-9 * np.abs(y).max())



def test_node_moments_fused_path_equals_the_numpy_path():
    """node_correlation_moments on the matrix-free path (fused bookkeeping, in-place steps)
    equals the generic path through plain callables, also with a chunked bank and several
    passes over the nodes."""
    from manybody.simulation.solvers.chebyshev.kpm import ShiftedDiagonal, chebyshev_nodes
    from manybody.simulation.solvers.chebyshev.moments import node_correlation_moments

    real = _realisation("gaussian")
    op, t = matrix_free_operators(real)
    scaled = ScaledOperator(op, spectral_bounds(op))
    v = np.random.default_rng(2).standard_normal((real.dimension, 2))
    probe = np.random.default_rng(3).standard_normal((real.dimension, 2))
    theta = chebyshev_nodes(40)[0][25:]
    plain_left = lambda x: t[:, None] * x - 0.2 * x  # noqa: E731
    for node_rows, bank_rows in ((None, None), (4, 9)):
        a = node_correlation_moments(scaled, ShiftedDiagonal(t, 0.2), op.commutator_product,
                                     v.copy(), 40, theta, probes=[probe], node_rows=node_rows,
                                     bank_rows=bank_rows)
        b = node_correlation_moments(scaled, plain_left, op.commutator_product, v.copy(), 40,
                                     theta, probes=[probe], node_rows=node_rows,
                                     bank_rows=bank_rows)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-9 * np.abs(y).max())

def test_scaled_product_into_out_and_refusals():
    """scaled_product(out=previous) equals the new-array result; an out aliasing x is refused."""
    op, _ = matrix_free_operators(_realisation("xz_components"))
    x, prev = np.random.default_rng(4).standard_normal((2, op.shape[0], 3))
    expected = op.scaled_product(x, 2.0, 0.5, prev)
    buffer = prev.copy()
    assert op.scaled_product(x, 2.0, 0.5, buffer, out=buffer) is buffer
    np.testing.assert_array_equal(buffer, expected)
    with pytest.raises(ValueError, match="out must be"):
        op.scaled_product(x, 2.0, 0.5, prev, out=x)
    with pytest.raises(ValueError, match="out must be"):
        op.scaled_product(x, 2.0, 0.5, prev, out=np.zeros((op.shape[0], 2)))


def test_min_distance_script_on_a_tiny_size(tmp_path):
    """scripts/min_distance_effect.py: both parts run and record a paired, monotone table (the
    share of realisations with a closer pair grows with the distance; no change at d = 0)."""
    import importlib.util
    import json
    import sys
    from pathlib import Path

    scripts = Path(__file__).resolve().parents[1] / "scripts"
    sys.path.insert(0, str(scripts))
    try:
        spec = importlib.util.spec_from_file_location("min_distance_effect",
                                                      scripts / "min_distance_effect.py")
        script = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(script)
        out = tmp_path / "md.json"
        script.main(["--n-physics", "5", "--realisations", "6", "--bootstrap", "20",
                     "--min-distances", "0", "0.5", "0.9", "--cost-sizes", "6",
                     "--cost-realisations", "2", "--jobs", "1", "--out", str(out)])
    finally:
        sys.path.remove(str(scripts))
    rec = json.loads(out.read_text())["min_distance"]
    rows = rec["physics"]["rows"]
    assert [r["min_distance"] for r in rows] == [0.0, 0.5, 0.9]
    shares = [r["realisations_with_a_closer_pair"] for r in rows]
    assert shares[0] == 0 and shares == sorted(shares) and shares[-1] > 0
    assert "change" not in rows[0] and np.isfinite(rows[2]["change_error"])
    cost = rec["cost"]["records"]
    assert [c["min_distance"] for c in cost] == [0.0, 0.5, 0.9]
    assert cost[0]["mean_work_over_no_hard_core"] == 1.0


def test_bench_single_solves_again_in_the_same_process(tmp_path, monkeypatch):
    """scripts/bench_chebyshev.py single --solves 2: the first solve is ``seconds`` as before,
    the same realisation solved again in the process is ``steady_seconds`` with the same Q; a bad
    count is refused naming the option; matfree --steady passes it to this script's children and
    not to a baseline script that lacks it, and summarises first against steady per operator."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("bench_chebyshev",
                                                  root / "scripts" / "bench_chebyshev.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = bench.single("chebyshev", 6, 2, "float64", "matrix_free", solves=2)
    assert out["steady_q_identical"] is True
    assert 0 < out["steady_seconds"] and 0 < out["seconds"]
    assert out["kept_workspace_bytes"] > 0  # the second solve ran in the first one's workspace
    assert out["system_seconds"] >= 0 and out["steady_system_seconds"] >= 0
    assert "steady_seconds" not in bench.single("chebyshev", 6, 2, "float64", "matrix_free")
    with pytest.raises(SystemExit):
        bench.main(["single", "chebyshev", "6", "--solves", "0"])
    # the children: --solves only where the script has it
    old_script = tmp_path / "scripts" / "bench_chebyshev.py"
    old_script.parent.mkdir()
    old_script.write_text("# a script of an older checkout, without the option\n")
    assert bench._accepts_solves(root / "scripts" / "bench_chebyshev.py")
    assert not bench._accepts_solves(old_script)
    commands = []

    class Done:
        returncode, stderr = 0, ""
        stdout = json.dumps({"seconds": 2.0, "steady_seconds": 1.0, "system_seconds": 0.5,
                             "steady_system_seconds": 0.1, "steady_q_identical": True})

    def fake_run(cmd, **kwargs):
        commands.append(cmd)
        return Done()

    monkeypatch.setattr(bench.subprocess, "run", fake_run)
    mine = bench._run_child("chebyshev", 7, 2, "float32", 10.0, "matrix_free", solves=2)
    theirs = bench._run_child("chebyshev", 7, 2, "float32", 10.0, "matrix_free",
                              checkout=tmp_path, solves=2)
    assert commands[0][-2:] == ["--solves", "2"] and "--solves" not in commands[1]
    assert "steady_seconds_unsupported" in theirs and "steady_seconds_unsupported" not in mine
    runs = {"matrix_free": [mine, dict(mine, seconds=4.0, steady_seconds=3.0)],
            "sparse": [dict(mine, steady_seconds=6.0)]}
    summary = bench._steady_summary(runs, recorded=12.0)
    assert summary["matrix_free"]["first_seconds"] == 3.0  # medians over the repeats
    assert summary["matrix_free"]["steady_seconds"] == 2.0
    assert summary["recorded_over_matrix_free_steady"] == 6.0
    assert summary["sparse_over_matrix_free_steady"] == 3.0
    assert summary["matrix_free"]["q_identical"] is True
    assert "baseline_over_matrix_free_steady" not in bench._steady_summary(  # sparse only
        {"sparse": runs["sparse"], "baseline": runs["sparse"]}, recorded=None)


def test_bench_matfree_with_the_sparse_operator_alone(tmp_path, monkeypatch):
    """scripts/bench_chebyshev.py matfree --operators sparse (the sparse path alone, as for a
    same-day figure beside the recorded one): the run is recorded with the recorded figure over
    the sparse solve, and no matrix-free ratios (session 20: it raised KeyError after the solve
    and recorded nothing)."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("bench_chebyshev",
                                                  root / "scripts" / "bench_chebyshev.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    def child(method, n, vectors, dtype, timeout, operator="auto", memory_gb=None,
              checkout=None, solves=1):
        assert operator == "sparse"
        return {"seconds": 8.0, "peak_memory_gb": 1.0, "absorption": [[1.0]],
                "absorption_error": [[0.1]], "rungs": [{"n_moments": 9, "filter_terms": 3}]}

    monkeypatch.setattr(bench, "_run_child", child)
    monkeypatch.setattr(bench, "_recorded_seconds", lambda n: 16.0)
    monkeypatch.setattr(bench, "_apply_child", lambda *a, **k: {"error": "not measured"})
    out = tmp_path / "bench.json"
    bench.main(["matfree", "--sizes", "7", "--operators", "sparse", "--out", str(out),
                "--label", "s"])
    rec = json.loads(out.read_text())["s"]["sizes"]["7"]
    assert rec["sparse"]["seconds"] == 8.0 and rec["recorded_over_sparse"] == 2.0
    assert "recorded_over_matrix_free" not in rec and "floor" not in rec


def test_bench_matfree_against_a_baseline_checkout(tmp_path, monkeypatch):
    """scripts/bench_chebyshev.py matfree --baseline: the solve of another checkout is measured in
    turn with this one (A B A B), the median run of each kept whole, their time ratio pair by
    pair and the largest difference of Q in units of the baseline's error recorded; the child
    of the baseline runs that checkout's script with that checkout first on the import path."""
    import importlib.util
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("bench_chebyshev",
                                                  root / "scripts" / "bench_chebyshev.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    runs = [{"seconds": 3.0}, {"error": "x"}, {"seconds": 1.0}, {"seconds": 2.0}]
    assert bench._median_run(runs) == {"seconds": 2.0}
    assert bench._median_run([{"error": "x"}]) == {"error": "x"}
    order, times = [], iter([10.0, 30.0, 12.0, 24.0, 11.0, 33.0])  # new, old, new, old, ...

    def child(method, n, vectors, dtype, timeout, operator="auto", memory_gb=None,
              checkout=None, solves=1):
        assert solves == 1  # no --steady
        order.append("baseline" if checkout else operator)
        q = [[1.0, 2.0]] if checkout else [[1.0, 2.5]]
        seconds = next(times)
        return {"seconds": seconds, "peak_memory_gb": 2.0 if checkout else 1.0,
                "process_cpu_seconds": 2 * seconds,
                "absorption": q, "absorption_error": [[0.5, 0.25]],
                "rungs": [{"n_moments": 9, "filter_terms": 3}]}

    monkeypatch.setattr(bench, "_run_child", child)
    applied, steps = [], iter([1.5, 1.0])  # this code's step, the baseline's, this code's again

    def apply(n, vectors, timeout, dtype="float64", checkout=None):
        applied.append(checkout)
        return {"matrix_free_step_seconds": 3.0 if checkout else next(steps),
                "gemm_flops_per_second": 1e9, "parallel_stream_seconds": 1e-3}

    monkeypatch.setattr(bench, "_apply_child", apply)
    out = tmp_path / "bench.json"
    (tmp_path / "scripts").mkdir()  # --baseline must look like a checkout of the project
    (tmp_path / "scripts" / "bench_chebyshev.py").touch()
    bench.main(["matfree", "--sizes", "7", "--operators", "matrix_free", "--baseline",
                str(tmp_path), "--repeats", "3", "--out", str(out), "--label", "t"])
    rec = json.loads(out.read_text())["t"]["sizes"]["7"]
    assert order == ["matrix_free", "baseline"] * 3
    assert rec["repeats"] == {"matrix_free": [10.0, 12.0, 11.0], "baseline": [30.0, 24.0, 33.0]}
    assert rec["matrix_free"]["seconds"] == 11.0 and rec["baseline"]["seconds"] == 30.0
    assert rec["baseline_over_matrix_free"]["pairs"] == [3.0, 2.0, 3.0]
    assert rec["baseline_over_matrix_free"]["median"] == 3.0
    assert rec["baseline_memory_over_matrix_free"] == 2.0
    assert rec["baseline_q_difference_over_error"] == 2.0
    assert applied == [None, tmp_path.resolve(), None]  # the step, in turn, the faster of ours
    assert rec["apply"]["matrix_free_step_seconds"] == 1.0
    assert rec["baseline_step_over_step"] == 3.0
    assert rec["baseline_cpu_over_matrix_free"]["pairs"] == [3.0, 2.0, 3.0]
    assert rec["repeats_process_cpu"]["baseline"] == [60.0, 48.0, 66.0]

    seen = {}

    def fake_run(cmd, **kwargs):
        seen.update(cmd=cmd, env=kwargs.get("env"))
        return subprocess.CompletedProcess(cmd, 0, stdout='{"seconds": 1.0}\n', stderr="")

    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    spec.loader.exec_module(bench)  # the real _run_child again
    child = bench._run_child("chebyshev", 7, 2, "float32", 10.0, "matrix_free",
                             checkout=tmp_path)
    assert child["seconds"] == 1.0  # and the child's CPU, measured here (none: no child ran)
    assert child["process_cpu_seconds"] == child["process_system_seconds"] == 0.0
    assert seen["cmd"][1] == str(tmp_path / "scripts" / "bench_chebyshev.py")
    assert seen["env"]["PYTHONPATH"].split(os.pathsep) == [str(tmp_path), "/elsewhere"]
    bench._run_child("chebyshev", 7, 2, "float32", 10.0, "matrix_free")
    assert seen["cmd"][1] == str(root / "scripts" / "bench_chebyshev.py") and seen["env"] is None


def test_matrix_free_solve_does_not_import_quspin():
    """A matrix-free solve never uses QuSpin, and its BLAS thread limits no longer import it
    (session 23: 0.5 s of every new process's first solve); a limit of every pool still does,
    so that QuSpin's OpenMP kernels run later under it are limited too. N = 13: D > the solver's
    SMALL_DIMENSION, so the solve counts the BLAS threads for its GEMMs."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from manybody.config.model import CouplingParams, ModelParams\n"
        "from manybody.config.probe import Broadening\n"
        "from manybody.config.solver import ChebyshevParams\n"
        "from manybody.simulation.ensembles import draw_realisation, realisation_rng\n"
        "from manybody.simulation.solvers.chebyshev.solver import chebyshev_absorption\n"
        "from manybody.support.threads import blas_thread_count, blas_threads\n"
        "real = draw_realisation(ModelParams(n_tls=13, coupling=CouplingParams("
        "kind='dipolar', strength=0.05)), realisation_rng(11, 0))\n"
        "res = chebyshev_absorption(real, [0.2], [0.1, 0.2], Broadening(width=0.05), "
        "ChebyshevParams(n_vectors=2, operator='matrix_free'), seed=1)\n"
        "assert res.operator == 'matrix_free', res.operator\n"
        "assert blas_thread_count() >= 1\n"
        "with blas_threads(1):\n"
        "    pass\n"
        "print('quspin' in sys.modules)\n"
        "with blas_threads(1, user_api=None):\n"
        "    pass\n"
        "print('quspin' in sys.modules)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True)
    assert res.stdout.split() == ["False", "True"]


def test_gemm_rate_is_a_rate():
    """The plan's measured GEMM speed (constant factors since session 23): finite, positive, and
    of the order of this machine's (between 0.1 and 10^4 GFlop/s)."""
    from manybody.simulation.solvers.chebyshev.kpm import gemm_rate

    for dtype in (np.float32, np.float64):
        rate = gemm_rate(dtype, size=1 << 12)
        assert np.isfinite(rate) and 1e8 < rate < 1e13


def test_operator_inputs_outside_its_blocks_are_refused_or_empty():
    """Found by a reviewer (session 24): an operator without flips (a diagonal H, the stress
    operator) failed to compile in the vector row kernel (its weights were int64); a 3-D block
    came back with an uninitialised trailing half (5.7e288); integer and boolean blocks crashed
    the compiler or were truncated; a block of no columns crashed."""
    diagonal = MatrixFreeOperator(4, [("z", [[1.0, 0]]), ("zz", [[0.2, 1, 2]])])
    vector = np.arange(16, dtype=np.float64)
    np.testing.assert_allclose(diagonal @ vector, diagonal.toarray() @ vector, rtol=1e-15)
    assert np.count_nonzero(diagonal.toarray() - np.diag(np.diag(diagonal.toarray()))) == 0
    op, _ = matrix_free_operators(_realisation("xz_components"))
    dim = op.shape[0]
    for bad in (np.zeros((dim, 2, 2)), np.arange(dim), np.ones(dim, dtype=bool),
                np.zeros(dim, dtype=np.complex128), np.zeros(dim, dtype=np.float16)):
        with pytest.raises(TypeError, match="x must be a 1-D vector or a 2-D block"):
            op.scaled_product(bad)
    empty = op.scaled_product(np.zeros((dim, 0)))
    assert empty.shape == (dim, 0)
