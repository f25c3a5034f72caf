"""Internals of the Chebyshev solver that decide speed but must not change numbers (session 13):
the GEMMs as fixed tasks on a thread pool, node values by a DCT, and compiled kernels whose disk
cache is found again by the next process."""

from __future__ import annotations

import os
import types

import numpy as np
import pytest

from manybody.config.model import CouplingParams, ModelParams
from manybody.simulation.ensembles import draw_realisation, realisation_rng
from manybody.simulation.solvers.chebyshev import gemm
from manybody.simulation.solvers.chebyshev.kpm import (
    ScaledOperator,
    ShiftedDiagonal,
    chebyshev_nodes,
    node_values,
    quadrature_matrix,
    spectral_bounds,
)
from manybody.simulation.solvers.chebyshev.matrix_free import matrix_free_operators
from manybody.simulation.solvers.chebyshev.moments import (
    correlation_moments,
    node_correlation_moments,
)


@pytest.fixture
def small_inner(monkeypatch):
    """Blocks of the summed dimension small enough that a test size has several."""
    monkeypatch.setattr(gemm, "INNER_PER_TASK", 64)


def test_matmul_inner_equals_matmul_and_ignores_the_thread_count(small_inner):
    """Partial products over fixed blocks of D, added in order: numpy's product to float32
    round-off, and the same bits on one thread and on three."""
    rng = np.random.default_rng(0)
    left = rng.standard_normal((3, 17, 1000)).astype(np.float32)
    buffer = rng.standard_normal((3, 9, 1000)).astype(np.float32)
    right = buffer.transpose(0, 2, 1)  # the solver's transposed view
    assert gemm.inner_block(1000) == 125  # D / 8 here: 8 tasks per vector
    one, three = np.empty((2, 3, 17, 9))
    gemm.matmul_inner(left, right, one, threads=1)
    gemm.matmul_inner(left, right, three, threads=3)
    np.testing.assert_array_equal(one, three)
    exact = np.matmul(left.astype(np.float64), right.astype(np.float64))
    np.testing.assert_allclose(one, exact, rtol=0, atol=1e-5 * np.abs(exact).max())


def test_matmul_columns_writes_and_accumulates(small_inner):
    """Shared left factor times column blocks of D: written, then added to; thread count does
    not change a bit."""
    rng = np.random.default_rng(1)
    left = rng.standard_normal((5, 12)).astype(np.float32)
    right = rng.standard_normal((2, 12, 300)).astype(np.float32)
    results = []
    for threads in (1, 2):
        out = np.empty((2, 5, 300), dtype=np.float32)
        gemm.matmul_columns(left, right, out, 64, threads)
        first = out.copy()
        gemm.matmul_columns(left, right, out, 64, threads, accumulate=True)
        results.append((first, out))
        np.testing.assert_allclose(first, left @ right, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(out, 2 * (left @ right), rtol=1e-5, atol=1e-5)
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)


def test_run_tasks_reraises_a_task_error():
    def bad():
        raise RuntimeError("task failed")
    with pytest.raises(RuntimeError, match="task failed"):
        gemm.run_tasks([lambda: None, bad, lambda: None], threads=2)


@pytest.mark.parametrize(("count", "n_nodes"), [(7, 7), (7, 16), (1, 3), (40, 80)])
def test_node_values_by_dct_equal_the_quadrature_matrix(count, n_nodes):
    """C @ m by a DCT-III equals the explicit cosine matrix (also zero-padded, K < n)."""
    m = np.random.default_rng(count).standard_normal((2, 3, count))
    theta = chebyshev_nodes(n_nodes)[0]
    expected = m @ quadrature_matrix(theta, count).T
    np.testing.assert_allclose(node_values(m, n_nodes), expected, rtol=0, atol=1e-13)


def test_node_values_refuse_more_moments_than_nodes():
    with pytest.raises(ValueError, match="at least as many nodes as moments, got 3 < 4"):
        node_values(np.ones(4), 3)


def test_quadrature_matrix_of_a_subset_of_the_grid():
    """Rows of the n-point matrix for a subset of its nodes, normalised by n (not the subset)."""
    theta = chebyshev_nodes(20)[0]
    full = quadrature_matrix(theta, 15)
    np.testing.assert_allclose(quadrature_matrix(theta[4:9], 15, 20), full[4:9], atol=1e-15)


@pytest.fixture
def moment_inputs():
    """A matrix-free N = 8 realisation: H~, C applied as op.commutator_product, T, a block of
    three starting vectors and a probe block."""
    real = draw_realisation(ModelParams(n_tls=8, coupling=CouplingParams(strength=0.2)),
                            realisation_rng(3, 0))
    op, t = matrix_free_operators(real)
    scaled = ScaledOperator(op, spectral_bounds(op))
    v = np.random.default_rng(2).standard_normal((real.dimension, 3))
    probe = np.random.default_rng(3).standard_normal((real.dimension, 3))
    return op, scaled, t, v, probe


def test_moments_do_not_depend_on_the_gemm_threads(small_inner, moment_inputs):
    """Full and node-projected moments on the matrix-free path: the same bits with the GEMMs on
    one thread and on two (a chunked bank and node passes included)."""
    op, scaled, t, v, probe = moment_inputs
    theta = chebyshev_nodes(40)[0][22:]
    left = ShiftedDiagonal(t, 0.2)
    for kwargs in ({}, {"node_rows": 5, "bank_rows": 9}):
        one, two = (node_correlation_moments(scaled, left, op.commutator_product, v.copy(), 40,
                                             theta, probes=[probe], threads=k, **kwargs)
                    for k in (1, 2))
        for a, b in zip(one, two, strict=True):
            np.testing.assert_array_equal(a, b)
    one, two = (correlation_moments(scaled, left, op.commutator_product, v.copy(), 30,
                                    probes=[probe], left_commutator=True, bank_rows=11,
                                    threads=k) for k in (1, 2))
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


def test_summed_moments_are_the_sum_of_the_per_vector_moments(small_inner, moment_inputs):
    """An exact trace uses only the block's sum of the full moment matrix; ``summed`` forms it
    chunk by chunk (a D = 64 exact solve at M ~ 3400 peaked at 6.9 GB with the 64 per-vector
    matrices): equal to the sum of the per-vector mu and q to round-off, with a chunked bank
    and l-columns; m and p are per vector as before."""
    op, scaled, t, v, probe = moment_inputs
    left = ShiftedDiagonal(t, 0.2)
    for kwargs in ({}, {"bank_rows": 11, "chunk": 7}):
        each, summed = (correlation_moments(scaled, left, op.commutator_product, v.copy(), 30,
                                            probes=[probe], left_commutator=True, summed=flag,
                                            **kwargs) for flag in (False, True))
        assert summed[0].shape == (1, 30, 30) and summed[3].shape == (1, 30)
        scale = np.abs(each[0]).max()
        np.testing.assert_allclose(summed[0], each[0].sum(axis=0, keepdims=True), rtol=0,
                                   atol=1e-12 * scale)
        np.testing.assert_allclose(summed[3], each[3].sum(axis=0, keepdims=True), rtol=0,
                                   atol=1e-12 * np.abs(each[3]).max())
        for a, b in zip(each[1:3], summed[1:3], strict=True):
            np.testing.assert_array_equal(a, b)


def test_an_exact_trace_plans_one_moment_matrix_not_one_per_vector():
    """The plan counted 4 block M^2 float64 for an exact trace's full moment matrix (12 GB
    planned for a solve that, summed, peaks at 3.5 GB; it halved the block and cut the bank to
    246 rows, 14 reruns of the l-recursion); an exact trace now counts one matrix."""
    from manybody.simulation.solvers.chebyshev.costs import solve_bytes

    rungs = [(3434, 3433, 3434, 3434)]  # a full-matrix rung (too many nodes to project)
    per_vector = solve_bytes(64, 64, rungs, 256, 8, 1)
    summed = solve_bytes(64, 64, rungs, 256, 8, 1, summed=True)
    m = 3434
    assert per_vector - summed >= 4 * 63 * m * m * 8 - 3 * 64 * m * 256 * 8
    assert summed < per_vector / 5


def _closure_values(dispatcher) -> list:
    func = dispatcher.py_func
    return [cell.cell_contents for cell in func.__closure__ or ()]


def test_cached_kernels_close_over_plain_values_only():
    """numba keys a cached closure on its pickled closure values; a compiled function among them
    pickles with a random id, so the next process never found the cache (the run kernel
    recompiled, ~3 s, in every process until session 13). Every disk-cached kernel closes over
    numbers, tuples of numbers and modules only, and two builds of one give equal keys."""
    from numba.core.serialize import dumps

    from manybody.simulation.solvers.chebyshev import fused
    from manybody.simulation.solvers.chebyshev import matrix_free as mf
    from manybody.simulation.solvers.chebyshev.run_kernel import run_kernel

    kernels = [run_kernel(4, 8, (1, 2, 4)), run_kernel(3, 2, ()), mf._product_kernel(2, True, True),
               fused._record_kernel(4, True, True, True), fused._store_kernel(4)]
    for kernel in kernels:
        for value in _closure_values(kernel):
            items = value if isinstance(value, tuple) else (value,)
            assert all(isinstance(x, int | float | bool | types.ModuleType) for x in items), (
                kernel, value)  # a module pickles by its name
    from manybody.simulation.observables import absorption, pair_kernels, pair_sum

    for kernel in (pair_sum._compiled_pair_sum(), absorption._compiled_deposit()):
        assert kernel.py_func.__module__ == pair_kernels.__name__
        assert kernel.py_func.__closure__ is None  # helpers are module globals
    key = dumps(tuple(_closure_values(kernels[0])))
    run_kernel.cache_clear()
    assert dumps(tuple(_closure_values(run_kernel(4, 8, (1, 2, 4))))) == key


def test_every_variant_of_a_cached_kernel_has_a_name_of_its_own():
    """Session 22: numba names a compiled function and its environment after its qualified name,
    the compiling process's counter and the argument types, so two variants of one closure with
    the same argument types, compiled in two processes and both loaded from the disk cache, could
    share one name (a test process failed with numba's "'descr' is NULL" after a stress-scaled
    and an unscaled record pass of width 1). Each variant is compiled under a name of its own,
    made of its constants, and its results are unchanged (a scaled and an unscaled store of
    width 1 in one process, against numpy)."""
    from manybody.simulation.solvers.chebyshev import fused
    from manybody.simulation.solvers.chebyshev import matrix_free as mf
    from manybody.simulation.solvers.chebyshev.run_kernel import run_kernel

    variants = [fused._record_kernel(1, c, p, s) for c in (True, False) for p in (True, False)
                for s in (True, False)]
    variants += [fused._store_kernel(w, s) for w in (1, 4) for s in (True, False)]
    variants += [mf._product_kernel(w, c, s) for w in (1, 2) for c in (True, False)
                 for s in (True, False)]
    variants += [run_kernel(4, 8, (1, 2, 4)), run_kernel(4, 8, (1, 2)), run_kernel(1, 8, ())]
    names = [kernel.py_func.__qualname__ for kernel in variants]
    assert len(set(names)) == len(names), names
    assert all(name.isidentifier() for name in names)
    assert fused._record_kernel(1, True, False, True).py_func.__qualname__ == (
        "record_rows_width1_current1_probe0_scale1")
    rng = np.random.default_rng(0)
    new, t = rng.standard_normal((3000, 1)), rng.standard_normal(3000)
    for stress in (t, None, t):
        bank = np.zeros((1, 3000))
        fused.store(new, bank, stress=stress, shift=0.25)
        expected = new.T if stress is None else (t[:, None] * new - 0.25 * new).T
        np.testing.assert_array_equal(bank, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_store_equals_the_bank_row_of_record(dtype):
    """The l-recursion's store (session 14: no dots) writes the bank row record writes, bit for
    bit, over several parallel chunks and a ragged width; a wrong shape is refused."""
    from manybody.simulation.solvers.chebyshev.fused import record, store

    new = np.random.default_rng(3).standard_normal((3 * 4096 + 8, 3))
    bank = np.zeros((3, 2, new.shape[0]), dtype=dtype)
    record(new, bank[:, 0, :])
    store(new, bank[:, 1, :])
    np.testing.assert_array_equal(bank[:, 1, :], bank[:, 0, :])
    np.testing.assert_array_equal(bank[:, 1, :], new.T.astype(dtype))
    with pytest.raises(ValueError, match="bank_row must have shape"):
        store(new, bank[:2, 1, :])


def test_gemm_tasks_in_a_forked_child_of_a_process_with_a_pool():
    """A process forked after the pool was made (multiprocessing's default on Linux) runs its
    GEMM tasks on a pool of its own instead of waiting forever on the parent's threads."""
    import multiprocessing

    out = np.zeros(4)
    gemm.run_tasks([lambda i=i: out.__setitem__(i, i) for i in range(4)], threads=2)
    assert out.tolist() == [0.0, 1.0, 2.0, 3.0]
    with multiprocessing.get_context("fork").Pool(1) as pool:
        result = pool.apply_async(_tasks_in_child)
        assert result.get(timeout=60) == [0.0, 1.0, 2.0, 3.0]


def _tasks_in_child() -> list[float]:
    out = np.zeros(4)
    gemm.run_tasks([lambda i=i: out.__setitem__(i, i) for i in range(4)], threads=2)
    return out.tolist()


def test_matrix_free_operator_pickles_without_its_compiled_kernels():
    """The operator caches its compiled run kernel per block width (session 14); a pickled copy
    leaves the cache behind, builds its own, and gives the same product bit for bit."""
    import pickle

    params = ModelParams(n_tls=6, coupling=CouplingParams(kind="gaussian", strength=0.05))
    h, _ = matrix_free_operators(draw_realisation(params, realisation_rng(2, 0)))
    x = np.random.default_rng(1).standard_normal((64, 3))
    y = h.scaled_product(x, 0.7, 0.1)
    assert 3 in h._run_setups
    copy = pickle.loads(pickle.dumps(h))
    assert copy._run_setups == {}
    np.testing.assert_array_equal(copy.scaled_product(x, 0.7, 0.1), y)
    assert 3 in copy._run_setups and 3 in h._run_setups


class _PoisonedWorkspace:
    """A workspace whose every array starts as NaN, and which records the bytes it held."""

    def __init__(self):
        from manybody.simulation.solvers.chebyshev.workspace import Workspace

        self.inner = Workspace()
        self.peak = 0

    def take(self, role, shape, dtype):
        array = self.inner.take(role, shape, dtype)
        array[...] = np.nan
        self.peak = max(self.peak, self.inner.nbytes)
        return array

    def take_rows(self, role, shape, dtype):
        array = self.inner.take_rows(role, shape, dtype)
        array[...] = np.nan
        self.peak = max(self.peak, self.inner.nbytes)
        return array

    def fit(self, role_bytes):
        self.inner.fit(role_bytes)


def test_workspace_blocks_keep_vectors_off_power_of_two_distances():
    """Workspace.take_rows (session 21): a (b, rows, D) block with each vector's rows
    C-contiguous; where one vector's rows take 4 MB or more, the distance between vectors is not
    a multiple of 2^17 bytes (at 2^27 and beyond the compiled stores took 6-20x as long), and the
    buffer holds exactly plan's count of it (block_bytes); small blocks have no gap. Stores into
    a block give the same rows as into a plain array."""
    from manybody.simulation.solvers.chebyshev.fused import store
    from manybody.simulation.solvers.chebyshev.workspace import (
        GAP_FROM,
        Workspace,
        block_bytes,
    )

    for rows, dim, dtype in ((64, 1 << 20, np.float32), (256, 1 << 18, np.float32),
                             (128, 1 << 18, np.float64), (1024, 1 << 16, np.float32),
                             (3, 1 << 10, np.float32)):
        work = Workspace()
        block = work.take_rows("scratch", (4, rows, 1), dtype)  # a small one first: grows
        block = work.take_rows("scratch", (4, rows, dim), dtype)
        itemsize = np.dtype(dtype).itemsize
        assert block.shape == (4, rows, dim) and block.dtype == dtype
        assert all(block[i].flags.c_contiguous for i in range(4))
        per_vector = rows * dim * itemsize
        if per_vector >= GAP_FROM:
            assert block.strides[0] > per_vector and block.strides[0] % (1 << 17) != 0
        else:
            assert block.strides[0] == per_vector
        assert work.nbytes == block_bytes((4, rows, dim), itemsize)
    work = Workspace()
    block = work.take_rows("left", (4, 3, 1 << 20), np.float32)
    new = np.random.default_rng(0).standard_normal((1 << 20, 4))
    store(new, block[:, 1, :])
    np.testing.assert_array_equal(block[:, 1, :], new.T.astype(np.float32))


def _mapping_of(address: int) -> dict[str, str] | None:
    """The /proc/self/smaps fields of the mapping holding ``address`` (None if there is none)."""
    fields, inside = None, False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split()[0]
            if "-" in head and ":" not in head:  # a mapping's first line: "start-end perms ..."
                start, end = (int(x, 16) for x in head.split("-"))
                inside = start <= address < end
                fields = {} if inside else fields
            elif inside:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        return fields


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="Linux /proc only")
def test_workspace_buffers_are_small_pages_and_go_back_to_the_system():
    """Session 22: the workspace's buffers are anonymous maps of 4 KB pages (on this VM a huge
    page faulted in for the first time cost 3-4x the system time of a first solve), marked
    'no huge pages' where the system has that advice, and unmapped when the workspace lets go."""
    import mmap

    from manybody.simulation.solvers.chebyshev.workspace import Workspace

    work = Workspace()
    block = work.take_rows("scratch", (2, 8, 1 << 20), np.float32)  # 64 MB, touched
    block[...] = 1.0
    address = block.ctypes.data
    assert address % mmap.PAGESIZE == 0
    fields = _mapping_of(address)
    assert fields is not None
    assert fields["AnonHugePages"] == "0 kB"
    if hasattr(mmap, "MADV_NOHUGEPAGE"):
        assert "nh" in fields["VmFlags"].split()
    assert float(block.sum()) == 2 * 8 * (1 << 20)
    del block
    work.fit({})  # the plan of a solve that needs nothing from the role: the buffer goes
    assert work.nbytes == 0
    assert _mapping_of(address) is None


def test_a_refused_workspace_map_is_a_memory_error(monkeypatch):
    """The system refusing a workspace buffer raises MemoryError (what numpy.empty raised and
    the callers handle), not mmap's OSError (session 22's first version)."""
    from manybody.simulation.solvers.chebyshev import workspace as ws

    def refuse(*args, **kwargs):
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(ws.mmap, "mmap", refuse)
    with pytest.raises(MemoryError, match="Chebyshev workspace"):
        ws.Workspace().take("scratch", (1 << 20,), np.float32)


def test_workspace_reuses_one_buffer_per_role_and_grows_it():
    from manybody.simulation.solvers.chebyshev.workspace import Workspace

    work = Workspace()
    a = work.take("left", (2, 3, 8), np.float32)
    assert a.shape == (2, 3, 8) and a.dtype == np.float32 and a.flags.c_contiguous
    b = work.take("left", (2, 2, 8), np.float64)  # 256 bytes, more than the 192 held: grows
    assert b.dtype == np.float64 and not np.shares_memory(a, b)
    c = work.take("left", (4, 8), np.float32)  # fits: the same memory
    assert np.shares_memory(b, c)
    d = work.take("scratch", (4, 8), np.float32)  # another role: its own buffer
    assert not np.shares_memory(c, d)
    assert work.nbytes == 2 * 2 * 8 * 8 + 4 * 8 * 4


def test_solves_inside_reusing_workspace_share_one_workspace():
    """reusing_workspace: the solves of a thread inside the block take the same buffers (the
    second allocates none) and give the same bits as a solve on its own; after the block nothing
    is kept, unless keep_after, whose bytes count as available memory until released, until they
    grow past KEEP_GROWTH_LIMIT or until the thread is idle for KEEP_IDLE_SECONDS; another thread
    never gets this thread's workspace; a generator's block closed from another thread ends in its
    own thread's state; Workspace.fit frees what a plan does not need."""
    import threading
    import time

    from manybody.config.probe import Broadening
    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.solvers import memory
    from manybody.simulation.solvers.chebyshev import workspace as ws
    from manybody.simulation.solvers.chebyshev.solver import chebyshev_absorption

    real = draw_realisation(ModelParams(n_tls=8, coupling=CouplingParams(strength=0.05)),
                            realisation_rng(1, 0))
    w, t = np.array([0.1, 0.2]), np.geomspace(0.02, 0.2, 8)
    b = Broadening(kind="gaussian", width=0.02)
    params = ChebyshevParams(n_vectors=4, block=2, dtype="float32", operator="matrix_free")
    alone = chebyshev_absorption(real, w, t, b, params, seed=3)
    assert ws.kept_bytes() == 0 and ws.current_workspace() is not ws.current_workspace()
    with ws.reusing_workspace() as kept:
        assert ws.current_workspace() is kept
        first = chebyshev_absorption(real, w, t, b, params, seed=3)
        buffers = dict(kept._buffers)
        assert kept.nbytes > 0 and ws.kept_bytes() == kept.nbytes
        second = chebyshev_absorption(real, w, t, b, params, seed=3)
        assert {k: id(v) for k, v in kept._buffers.items()} == {k: id(v) for k, v in
                                                                 buffers.items()}
        with ws.reusing_workspace() as inner:  # nested: the same workspace, kept on exit
            assert inner is kept
        assert ws.kept_bytes() == kept.nbytes
        seen = {}

        def other_thread():
            seen["workspace"] = ws.current_workspace()
            seen["kept"] = ws.kept_bytes()

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert seen["workspace"] is not kept and seen["kept"] == 0
    for res in (first, second):
        for name in ("absorption", "absorption_error", "velocity_shift", "specific_heat"):
            np.testing.assert_array_equal(getattr(res, name), getattr(alone, name))
    assert ws.kept_bytes() == 0 and ws.current_workspace() is not kept  # released
    # a solve that needs less (a wider kernel: fewer moments) frees what its plan does not count
    with ws.reusing_workspace() as kept:
        chebyshev_absorption(real, w, t, b, params, seed=3)
        narrow = kept.nbytes
        wide = chebyshev_absorption(real, w, t, Broadening(kind="gaussian", width=0.06), params,
                                    seed=3)
        assert max(r.n_moments for r in wide.plan.rungs) < max(
            r.n_moments for r in first.plan.rungs)
        assert 0 < kept.nbytes < narrow
    system, idle = memory._system_available, ws.KEEP_IDLE_SECONDS
    try:
        memory._system_available = lambda: 10**9
        ws.KEEP_IDLE_SECONDS = 3600.0  # no idle release in the parts that do not test it
        with ws.reusing_workspace(keep_after=True) as kept:
            kept.take("left", (1000,), np.float64)
        assert ws.kept_bytes() == 8000 and ws.current_workspace() is kept
        assert memory.available_memory() == 10**9 + 8000  # resident, but ours to reuse
        ws.release_kept_workspace()
        assert ws.kept_bytes() == 0 and memory.available_memory() == 10**9
        # kept after a block only while it holds at most KEEP_GROWTH_LIMIT over what the thread
        # kept after its first such block (loky restarts a worker whose memory grows by more)
        ws._STATES.pop(memory.thread_key(), None)
        limit, ws.KEEP_GROWTH_LIMIT = ws.KEEP_GROWTH_LIMIT, 4000
        try:
            with ws.reusing_workspace(keep_after=True) as kept:
                kept.take("left", (1000,), np.float64)  # the reference: 8000 bytes
            with ws.reusing_workspace(keep_after=True) as again:
                assert again is kept
                again.take("scratch", (500,), np.float64)  # + 4000: at the limit, kept
            assert ws.kept_bytes() == 12000
            with ws.reusing_workspace(keep_after=True) as again:
                again.take("scratch", (501,), np.float64)  # + 4008 over the reference
            assert ws.kept_bytes() == 0 and ws.current_workspace() is not kept
        finally:
            ws.KEEP_GROWTH_LIMIT = limit
        # a kept workspace is given back when its thread starts no block for KEEP_IDLE_SECONDS
        ws.KEEP_IDLE_SECONDS = 0.05
        with ws.reusing_workspace(keep_after=True) as kept:
            kept.take("left", (10,), np.float64)
        deadline = time.monotonic() + 10
        while ws.kept_bytes() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ws.kept_bytes() == 0
        ws.KEEP_IDLE_SECONDS = 3600.0
        threads = threading.active_count()
        for _ in range(20):  # one idle timer per kept workspace, not one per block
            with ws.reusing_workspace(keep_after=True) as kept:
                kept.take("left", (10,), np.float64)
        deadline = time.monotonic() + 10  # cancelled timers' threads end when they next wake
        while threading.active_count() > threads + 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert threading.active_count() <= threads + 1
        ws.release_kept_workspace()
        # a block held open by a generator and closed from another thread ends in the state of
        # the thread that opened it
        def held():
            with ws.reusing_workspace() as kept:
                kept.take("left", (10,), np.float64)
                yield ws.kept_bytes()

        generator = held()
        assert next(generator) == 80
        thread = threading.Thread(target=generator.close)
        thread.start()
        thread.join()
        assert ws.kept_bytes() == 0 and ws._STATES[memory.thread_key()].depth == 0
        # a solve frees the kept buffers larger than its plan needs for their role
        work = ws.Workspace()
        work.take("left", (100,), np.float64)
        work.take("scratch", (10,), np.float64)
        work.take("other", (10,), np.float64)
        work.fit({"left": 400, "scratch": 80})
        assert set(work._buffers) == {"scratch"} and work.nbytes == 80
    finally:
        memory._system_available, ws.KEEP_IDLE_SECONDS = system, idle
        ws.release_kept_workspace()
        ws._STATES.pop(memory.thread_key(), None)


def test_moments_never_read_what_they_did_not_write(small_inner, moment_inputs):
    """Node-projected and full moments (chunked banks, node passes, more than one call on one
    workspace) with every workspace array NaN when taken: the same bits as with fresh arrays."""
    op, scaled, t, v, probe = moment_inputs
    left = ShiftedDiagonal(t, 0.2)
    poisoned = _PoisonedWorkspace()
    for m_count, first in ((40, 22), (30, 10)):  # the second call reuses larger buffers
        theta = chebyshev_nodes(m_count)[0][first:]
        for kwargs in ({}, {"node_rows": 5, "bank_rows": 9}):
            fresh, reused = (node_correlation_moments(scaled, left, op.commutator_product,
                                                      v.copy(), m_count, theta, probes=[probe],
                                                      workspace=w, **kwargs)
                             for w in (None, poisoned))
            for a, b in zip(fresh, reused, strict=True):
                np.testing.assert_array_equal(a, b)
        fresh, reused = (correlation_moments(scaled, left, op.commutator_product, v.copy(),
                                             m_count, probes=[probe], left_commutator=True,
                                             bank_rows=11, workspace=w)
                         for w in (None, poisoned))
        for a, b in zip(fresh, reused, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("capped", [False, True, "shared", "grouped"])
def test_a_solve_shares_its_workspace_within_the_plan(monkeypatch, capped):
    """A whole solve (several rungs and blocks, a rung that keeps the full moment matrix and rungs
    that project; capped: one vector per block and 256-row banks, so the node vectors are
    accumulated over chunks and the full matrix reruns its l-recursion) with NaN-filled workspace
    arrays: the same results, bit for bit, and the workspace never holds more than the plan's
    count of its rows (plan.solve_bytes); uncapped, with the compressed node basis; "shared":
    one k-recursion for every rung (session 21), within plan.shared_role_bytes; "grouped": under
    the cap, runs of rungs sharing a recursion each with a chunked bank (session 22), within the
    plan's role bytes."""
    from manybody.config.probe import Broadening
    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.solvers.chebyshev import costs, sharing
    from manybody.simulation.solvers.chebyshev import plan as cp
    from manybody.simulation.solvers.chebyshev import solver as ch

    real = draw_realisation(ModelParams(n_tls=8, coupling=CouplingParams(strength=0.05)),
                            realisation_rng(1, 0))
    w, t = np.array([0.1, 0.2]), np.geomspace(0.02, 0.2, 8)
    b = Broadening(kind="gaussian", width=0.02)
    monkeypatch.setattr(cp, "available_memory", lambda: 2**30)  # the same plan on any machine
    shared = capped == "shared"
    grouped = capped == "grouped"
    capped = capped is True or grouped
    monkeypatch.setattr(sharing, "SHARED_RECURSION", shared or grouped)
    fraction = 38 / 1024 if capped else 0.8
    if not capped:  # the compressed node basis too (session 20; by default from N = 14)
        from manybody.simulation.solvers.chebyshev import contraction as cc
        monkeypatch.setattr(cc, "BASIS_MIN_DIMENSION", 0)
    params = ChebyshevParams(n_vectors=4, block=2, dtype="float32", operator="matrix_free",
                             memory_fraction=fraction)
    fresh = ch.chebyshev_absorption(real, w, t, b, params, seed=3)
    holder = {}

    def poisoned():
        holder["w"] = _PoisonedWorkspace()
        return holder["w"]

    monkeypatch.setattr(ch, "current_workspace", poisoned)
    again = ch.chebyshev_absorption(real, w, t, b, params, seed=3)
    plan = again.plan
    assert len(plan.rungs) >= 3
    if shared:
        assert plan.shared_bank > 0 and all(u is not None for u in plan.node_bases)
        for name in ("absorption", "velocity_shift", "specific_heat", "absorption_error"):
            np.testing.assert_array_equal(getattr(fresh, name), getattr(again, name))
        triples = [(u.shape[1] + 1, r.n_moments, cp.window_nodes(r, plan.scale).size + 1)
                   for r, u in zip(plan.rungs, plan.node_bases, strict=True)]
        roles = costs.shared_role_bytes(real.dimension, plan.block, triples, plan.shared_bank,
                                     plan.columns, 4)
        assert roles == plan.workspace_bytes
        assert 0 < holder["w"].peak <= sum(roles.values())
        return
    if grouped:
        assert plan.shared_groups and not plan.shared_bank
        for first, stop, k_rows in plan.shared_groups:
            assert stop - first >= 2 and all(plan.bank_rows[j] < k_rows
                                             for j in range(first, stop))
        for name in ("absorption", "velocity_shift", "specific_heat", "absorption_error"):
            np.testing.assert_array_equal(getattr(fresh, name), getattr(again, name))
        assert 0 < holder["w"].peak <= sum(plan.workspace_bytes.values())
        assert plan.memory_bytes <= fraction * 2**30
        return
    assert any(r == 0 for r in plan.node_rows) and any(r > 0 for r in plan.node_rows)
    if capped:
        assert plan.block == 1 and all(k < r.n_moments for k, r in zip(plan.bank_rows,
                                                                        plan.rungs, strict=True))
    else:
        assert plan.block == 2 and plan.bank_rows == tuple(r.n_moments + 1 for r in plan.rungs)
    for name in ("absorption", "velocity_shift", "specific_heat", "absorption_error"):
        np.testing.assert_array_equal(getattr(fresh, name), getattr(again, name))
    nodes = [cp.window_nodes(r, plan.scale).size + 1 if u is None else u.shape[1] + 1
             for r, u in zip(plan.rungs, plan.node_bases, strict=True)]  # the rows formed
    assert capped or any(u is not None for u in plan.node_bases)
    left = scratch = 0
    for rung, n, rows, bank in zip(plan.rungs, nodes, plan.node_rows, plan.bank_rows,
                                   strict=True):
        a, s = costs.stored_rows(n, rung.n_moments, rows if rows else n, bank, plan.columns)
        left, scratch = max(left, a), max(scratch, s)
    assert 0 < holder["w"].peak <= plan.block * (left + scratch) * real.dimension * 4


def test_a_capped_solve_reuses_every_kept_buffer(monkeypatch):
    """Under a memory cap (one vector per block, chunked banks, node passes) the plan's per-role
    bytes (plan.role_bytes) cover what the solve takes: a second solve with the same plan inside
    reusing_workspace frees nothing (Workspace.fit) and allocates nothing."""
    from manybody.config.probe import Broadening
    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.solvers.chebyshev import plan as cp
    from manybody.simulation.solvers.chebyshev import workspace as ws
    from manybody.simulation.solvers.chebyshev.solver import chebyshev_absorption

    real = draw_realisation(ModelParams(n_tls=8, coupling=CouplingParams(strength=0.05)),
                            realisation_rng(1, 0))
    w, t = np.array([0.1, 0.2]), np.geomspace(0.02, 0.2, 8)
    b = Broadening(kind="gaussian", width=0.02)
    monkeypatch.setattr(cp, "available_memory", lambda: 2**30)  # the same plan on any machine
    params = ChebyshevParams(n_vectors=4, block=2, dtype="float32", operator="matrix_free",
                             memory_fraction=38 / 1024)
    with ws.reusing_workspace() as kept:
        first = chebyshev_absorption(real, w, t, b, params, seed=3)
        assert first.plan.block == 1 and any(r > 0 for r in first.plan.node_rows)
        buffers = {k: id(v) for k, v in kept._buffers.items()}
        again = chebyshev_absorption(real, w, t, b, params, seed=3)
        assert {k: id(v) for k, v in kept._buffers.items()} == buffers
    np.testing.assert_array_equal(first.absorption, again.absorption)
