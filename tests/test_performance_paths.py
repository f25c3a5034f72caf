"""Fast paths against straightforward implementations (accuracy, not timing).

The pipeline takes shortcuts to run at the speed of its eigensolver: a compiled (numba) pair
deposit with a lookup-table grid index and its numpy fallback, only the upper block triangle of
T_mn multiplied out and mirrored, LAPACK on the transposed view to avoid a copy, float32 end to
end. Each is checked here against the plain way of computing the
same quantity. The benchmark's own workload, its naive QuSpin reference, the BLAS inspection and
the memory guard are checked on tiny inputs.
"""

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import bench  # scripts/bench.py (pytest pythonpath)
import numpy as np
import pytest
import scipy.sparse as sp

from manybody.config.model import CouplingParams, ModelParams, StressParams
from manybody.config.probe import Broadening, Probe
from manybody.config.solver import SolverParams
from manybody.simulation.ensembles import absorption_normalisation, draw_realisation, realisation_rng
from manybody.simulation.observables.absorption import absorption, frequency_grid, pair_spectrum
from manybody.simulation.observe import observe
from manybody.simulation.operators import build_operators
from manybody.simulation.solvers.dense import (
    Spectrum,
    check_memory,
    diagonalise,
    estimate_memory,
    solve,
    stress_matrix_elements,
)
from manybody.support import blas

ROOT = Path(__file__).resolve().parents[1]


def reference_deposits(energies, tmn, nodes):
    """Per-pair tent deposit, written plainly: M[n, k] += sign(w_mn)|T_mn|^2 tent_k(|w_mn|)."""
    dim, n_nodes = energies.size, nodes.size
    out = np.zeros((dim, n_nodes))
    omega = energies[:, None] - energies[None, :]  # rows m, columns n
    weight = np.sign(omega) * np.asarray(tmn, dtype=np.float64) ** 2
    a = np.abs(omega)
    idx = np.clip(np.searchsorted(nodes, a, side="right") - 1, 0, n_nodes - 2)
    frac = np.clip((a - nodes[idx]) / (nodes[idx + 1] - nodes[idx]), 0.0, 1.0)
    cols = np.broadcast_to(np.arange(dim)[None, :], (dim, dim))
    np.add.at(out, (cols, idx), weight * (1 - frac))
    np.add.at(out, (cols, idx + 1), weight * frac)
    return out


def random_spectrum(rng, dim, degenerate=False, dtype=np.float64):
    e = np.sort(rng.normal(0.0, 1.0, dim))
    if degenerate:  # exact degeneracies and pairs exactly one node apart
        e[1::4] = e[::4][: e[1::4].size]
        e = np.sort(e)
    t = rng.normal(size=(dim, dim))
    t = (t + t.T).astype(dtype)
    return Spectrum(e), t


def tls_realisation(n, seed=3, two_body=0.0):
    params = ModelParams(
        n_tls=n,
        coupling=CouplingParams(kind="dipolar", strength=0.1, min_distance=0.5,
                                components=("zz", "xx")),
        stress=StressParams(two_body=two_body))
    return params, draw_realisation(params, realisation_rng(seed, 0))


# ------------------------------------------------------------------------------------------------
# pair deposit
# ------------------------------------------------------------------------------------------------

@pytest.fixture(params=["compiled", "numpy"])
def backend(request, monkeypatch):
    """Run a test with the numba deposit and with the numpy one."""
    import manybody.simulation.observables.absorption as a

    if request.param == "compiled" and a._compiled_deposit() is None:
        pytest.skip("numba not available")
    monkeypatch.setattr(a, "_USE_COMPILED", request.param == "compiled")
    return request.param


@pytest.mark.parametrize("degenerate", [False, True])
@pytest.mark.parametrize("chunk_pairs", [50, 4_000_000])
@pytest.mark.parametrize("order", ["C", "F"])
def test_pair_deposit_matches_per_pair_reference(rng, backend, degenerate, chunk_pairs, order):
    spectrum, tmn = random_spectrum(rng, 97, degenerate)
    tmn = np.asarray(tmn, order=order)
    b = Broadening(width=0.05, resolution=8)
    w = np.array([0.3, 0.9, 1.5])
    ps = pair_spectrum(spectrum, tmn, w, b, chunk_pairs=chunk_pairs)
    ref = reference_deposits(spectrum.energies, tmn, ps.nodes)
    np.testing.assert_allclose(ps.deposits, ref, rtol=0, atol=1e-11 * np.abs(ref).max())


def test_pair_deposit_keeps_weight_and_first_moment(rng, backend):
    spectrum, tmn = random_spectrum(rng, 64)
    ps = pair_spectrum(spectrum, tmn, [0.5, 1.0], Broadening(width=0.02))
    e = spectrum.energies
    omega = e[:, None] - e[None, :]
    signed = np.sign(omega) * tmn**2
    np.testing.assert_allclose(ps.deposits.sum(axis=1), signed.sum(axis=0), atol=1e-10)
    np.testing.assert_allclose(ps.deposits @ ps.nodes, (signed * np.abs(omega)).sum(axis=0),
                               atol=1e-9)


def test_pair_deposit_grid_edges_and_non_symmetric_input(rng, backend):
    """Lines beyond the last node and an input symmetric only to round-off are deposited as
    the plain per-pair sum; an input that is not symmetric (beyond round-off) is refused before
    any work, naming stress_elements (T_mn = T_nm, PHYSICS.md section 6.5)."""
    spectrum, tmn = random_spectrum(rng, 40)
    rounded = tmn + 1e-13 * rng.normal(size=tmn.shape)
    nodes = frequency_grid(float(np.ptp(spectrum.energies)), np.array([0.4]), Broadening())
    ps = pair_spectrum(spectrum, rounded, [0.4], Broadening())
    np.testing.assert_allclose(ps.nodes, nodes)
    ref = reference_deposits(spectrum.energies, rounded, ps.nodes)
    np.testing.assert_allclose(ps.deposits, ref, atol=1e-11 * np.abs(ref).max())
    with pytest.raises(ValueError, match=r"stress_elements must be real symmetric"):
        pair_spectrum(spectrum, tmn + 1e-3 * rng.normal(size=tmn.shape), [0.4], Broadening())


def test_pair_deposit_float32_elements(rng, backend):
    spectrum, tmn = random_spectrum(rng, 50, dtype=np.float32)
    ps = pair_spectrum(spectrum, tmn, [0.5], Broadening(width=0.05))
    ref = reference_deposits(spectrum.energies, tmn.astype(np.float64), ps.nodes)
    assert ps.deposits.dtype == np.float64
    np.testing.assert_allclose(ps.deposits, ref, atol=1e-10 * np.abs(ref).max())


def test_binned_absorption_matches_exact_kernel_sum(backend):
    params, real = tls_realisation(6)
    spectrum, tmn = solve(real)
    w = np.linspace(0.05, 1.0, 12)
    t = np.geomspace(0.05, 1.0, 5)
    b = Broadening(width=0.05, resolution=10)
    q_bin = absorption(spectrum, tmn, w, t, b)
    q_exact = absorption(spectrum, tmn, w, t, b, method="exact")
    assert np.max(np.abs(q_bin - q_exact)) < 2e-3 * np.max(np.abs(q_exact))


# ------------------------------------------------------------------------------------------------
# T_mn and the eigensolver
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("two_body", [0.0, 0.3])
@pytest.mark.parametrize("chunk", [7, 1024])
def test_stress_elements_diagonal_fast_path(two_body, chunk):
    _, real = tls_realisation(6, two_body=two_body)
    h, t = build_operators(real)
    assert sp.issparse(t)
    spectrum = diagonalise(h.copy())
    v = spectrum.vectors
    ref = v.T @ t.toarray() @ v
    got = stress_matrix_elements(v, t, chunk=chunk)
    np.testing.assert_allclose(got, ref, atol=1e-12 * np.abs(ref).max())
    np.testing.assert_array_equal(got, got.T)


def test_stress_elements_with_zero_and_negative_diagonal(rng):
    dim = 64
    v = np.linalg.qr(rng.normal(size=(dim, dim)))[0]
    diag = rng.normal(size=dim)
    diag[::5] = 0.0
    t = sp.diags(diag).tocsr()
    ref = v.T @ np.diag(diag) @ v
    np.testing.assert_allclose(stress_matrix_elements(v, t, chunk=10), ref, atol=1e-12)
    np.testing.assert_allclose(stress_matrix_elements(np.asfortranarray(v), t), ref, atol=1e-12)


def test_stress_elements_general_sparse_and_dense(rng):
    dim = 48
    v = np.linalg.qr(rng.normal(size=(dim, dim)))[0]
    a = rng.normal(size=(dim, dim))
    a = a + a.T
    ref = v.T @ a @ v
    np.testing.assert_allclose(stress_matrix_elements(v, a, chunk=5), ref, atol=1e-12)
    np.testing.assert_allclose(stress_matrix_elements(v, sp.csr_matrix(a)), ref, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_diagonalise_matches_numpy(rng, dtype, order):
    a = rng.normal(size=(70, 70))
    a = np.asarray(a + a.T, dtype=dtype, order=order)
    ref = np.linalg.eigvalsh(a.astype(np.float64))
    s = diagonalise(a.copy(order=order))
    tol = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(s.energies, ref, atol=tol * np.abs(ref).max())
    assert s.vectors.dtype == dtype
    recon = (s.vectors * s.energies) @ s.vectors.T
    np.testing.assert_allclose(recon, a, atol=50 * tol * np.abs(ref).max())
    np.testing.assert_allclose(s.vectors.T @ s.vectors, np.eye(70), atol=50 * tol)


def test_diagonalise_does_not_touch_input_without_overwrite(rng):
    a = rng.normal(size=(30, 30))
    a = a + a.T
    keep = a.copy()
    diagonalise(a, overwrite=False)
    np.testing.assert_array_equal(a, keep)


def test_float32_pipeline_close_to_float64():
    params, real = tls_realisation(8)
    job = bench.workload(real)
    q = {}
    for dt in ("float64", "float32"):
        spectrum, tmn = solve(real, SolverParams(dtype=dt))
        assert tmn.dtype == np.dtype(dt)
        q[dt] = absorption(spectrum, tmn, job["frequencies"], job["temperatures"],
                           job["broadening"])
    err = np.max(np.abs(q["float32"] - q["float64"])) / np.max(np.abs(q["float64"]))
    assert err < 1e-4


# ------------------------------------------------------------------------------------------------
# the benchmark's workload and reference
# ------------------------------------------------------------------------------------------------

def test_bench_pipeline_is_observe():
    n = 6
    out, times = bench.run_pipeline(n, seed=5)
    assert set(times) == set(bench.PIPELINE_STAGES)
    real = bench.realisation(n, 5)
    job = bench.workload(real)
    probe = Probe(frequencies=tuple(job["frequencies"]), temperatures=tuple(job["temperatures"]),
                  broadening=job["broadening"], observables=("absorption", "specific_heat"))
    ref = observe(bench.model_params(n), 5, 0, probe)
    np.testing.assert_allclose(out["absorption"], ref["absorption"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out["specific_heat"], ref["specific_heat"], rtol=1e-12)


def test_naive_reference_agrees_with_pipeline():
    out, _ = bench.run_pipeline(7, seed=2)
    naive, times = bench.run_naive(7, seed=2)
    assert {"eigh", "stress_elements", "absorption"} <= set(times)
    q, qn = out["absorption"], naive["absorption"]
    assert np.max(np.abs(q - qn)) < 2e-2 * np.max(np.abs(q))
    np.testing.assert_allclose(naive["specific_heat"], out["specific_heat"], rtol=1e-9)


def test_bench_targets_and_tables():
    per_n = {12: {"variants": {"eigh64": {"total_s": 10.0}, "pipeline64": {
        "total_s": 11.0, "stage_fractions": dict.fromkeys(bench.PIPELINE_STAGES, 1 / 7)}},
        "ratios": {"pipeline64/eigh64": 1.1, "naive/pipeline64": 1.2, "q32_rel_error": 1e-6}}}
    rows = {(r["key"], r["n_tls"]): r["met"] for r in bench.evaluate_targets(per_n)}
    assert rows[("pipeline64/eigh64", 12)] is True
    assert rows[("naive/pipeline64", 12)] is False
    assert rows[("pipeline64/eigh64", 13)] is None
    table = bench.markdown_table(per_n)
    assert table.count("\n") == 2 and "| 12 | 4096 | 10 | 11 | 1.10 (-) |" in table
    assert "14.3%" in bench.stage_table(per_n)


def test_bench_report_rederives_composed_ratios(tmp_path):
    stages = dict.fromkeys(bench.PIPELINE_STAGES, 0.1)
    stages["eigh"] = 9.0
    variants = {"eigh64": {"total_s": 10.0}, "eigh32": {"total_s": 5.0},
                "pipeline64": {"total_s": 9.6, "stages_s": stages,
                               "stage_fractions": dict.fromkeys(bench.PIPELINE_STAGES, 0.1)},
                "pipeline32": {"total_s": 5.6, "stages_s": {**stages, "eigh": 5.0}}}
    ratios = bench.derive_ratios(variants, {"q32_rel_error": 2e-5})
    assert ratios["pipeline64/eigh64"] == pytest.approx(0.96)
    assert ratios["pipeline64_composed/eigh64"] == pytest.approx(1.06)  # 10 + 6 x 0.1
    assert ratios["pipeline32_composed/eigh64"] == pytest.approx(0.56)
    assert ratios["absorption/eigh64"] == pytest.approx(0.02)
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"metadata": {"workload": {"clock": "cpu", "blas_threads": 1}},
                                "per_n": {"12": {"variants": variants,
                                                 "accuracy": {"q32_rel_error": 2e-5}}}}))
    assert bench.report(path) == 0
    rec = json.loads(path.read_text())
    met = {(r["key"], r["n_tls"]): r["met"] for r in rec["targets"]}
    assert met[("pipeline32_composed/eigh64", 12)] is True
    assert "(1.06)" in rec["table_markdown"]


@pytest.mark.slow
def test_bench_cli_writes_record(tmp_path):
    out = tmp_path / "b.json"
    cmd = [sys.executable, str(ROOT / "scripts" / "bench.py"), "--n-min", "4", "--n-max", "4",
           "--repeats", "1", "--variants", "eigh64", "pipeline64", "pipeline32",
           "--threads", "1", "--clock", "cpu", "--output", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    rec = json.loads(out.read_text())
    assert rec["finished"] is True
    assert rec["metadata"]["blas"]["libraries"]
    per = rec["per_n"]["4"]
    assert per["variants"]["pipeline64"]["peak_rss_bytes"] > 10 * 2**20
    assert per["accuracy"]["q32_rel_error"] < 1e-4
    assert "pipeline64/eigh64" in per["ratios"]
    assert "| 4 | 16 |" in res.stdout
    assert rec["metadata"]["workload"]["clock"].startswith("process CPU")
    assert per["variants"]["pipeline64"]["blas_threads"] == [1]


# ------------------------------------------------------------------------------------------------
# BLAS inspection and the memory guard
# ------------------------------------------------------------------------------------------------

def _lib(arch):
    return {"user_api": "blas", "internal_api": "openblas", "version": "0.3.20",
            "architecture": arch, "filepath": "/x/libopenblas.so", "num_threads": 2}


def test_slow_kernel_detected():
    assert blas.cpu_simd_level({"sse2", "avx", "avx2", "fma"}) == 3
    assert blas.assess([_lib("Haswell")], 3) == []
    assert blas.assess([_lib("Haswell")], 4) == []  # AVX2 kernel on AVX-512: not flagged
    assert blas.assess([_lib("Zen")], 3) == []
    reasons = blas.assess([_lib("Prescott")], 3)
    assert reasons and "Prescott" in reasons[0]
    assert blas.assess([_lib("Sandybridge")], 3)
    assert blas.assess([_lib("Sandybridge")], 2) == []
    assert blas.assess([], 3)  # no optimised BLAS at all
    assert blas.assess([_lib("neoversen1")], 3) == []  # unknown names are not judged


def test_slow_kernel_warns_once_and_is_in_metadata(monkeypatch):
    monkeypatch.setattr(blas, "_libraries", lambda load_scipy: [_lib("Nehalem")])
    monkeypatch.setattr(blas, "cpu_simd_level", lambda flags=None: 3)
    monkeypatch.setattr(blas, "_warned", False)
    with pytest.warns(blas.SlowBLASWarning, match="Nehalem"):
        meta = blas.check_blas()
    assert meta["slow_kernel"] is True and meta["slow_reasons"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        blas.check_blas()  # only once per process
    assert "SLOW" in blas.summary(meta)


def test_real_blas_metadata_is_json_ready():
    meta = blas.blas_metadata()
    json.dumps(meta)
    assert any(lib["user_api"] == "blas" for lib in meta["libraries"])
    assert "OPENBLAS_CORETYPE" in blas.summary(meta)


def test_memory_guard_refuses_up_front_with_estimate(monkeypatch):
    import manybody.simulation.solvers.dense as d

    monkeypatch.setattr(d, "available_memory", lambda: 4 * 2**30)
    with pytest.raises(MemoryError, match=r"n_tls=15 with dtype=float32 needs about \d"):
        check_memory(15, SolverParams(dtype="float32"))
    assert estimate_memory(14, "float64") <= 8 * 2**30
    assert estimate_memory(15, "float32") == pytest.approx(estimate_memory(14, "float64") * 2)


def test_import_manybody_is_light():
    code = ("import sys, manybody; bad = [m for m in ('scipy', 'quspin', 'joblib', 'matplotlib',"
            " 'dask', 'threadpoolctl') if m in sys.modules]; print(','.join(bad))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == ""


def test_normalisation_used_by_bench_is_the_models():
    params = bench.model_params(5)
    assert absorption_normalisation(params) > 0


def test_small_solves_run_single_threaded_and_restore(rng, monkeypatch):
    from threadpoolctl import threadpool_info

    import manybody.simulation.solvers.dense as d

    before = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    seen = []
    real_eigh = d.eigh

    def spy(*args, **kwargs):
        seen.append(max(lib["num_threads"] for lib in threadpool_info()
                        if lib["user_api"] == "blas"))
        return real_eigh(*args, **kwargs)

    monkeypatch.setattr(d, "eigh", spy)
    a = rng.normal(size=(128, 128))
    diagonalise(a + a.T)
    assert seen == [1]
    assert d.SINGLE_THREAD_MAX_DIM >= 128
    after = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    assert after == before


def test_a_broken_quspin_does_not_switch_thread_control_off(tmp_path):
    """A QuSpin whose import raises something other than ImportError (an old QuSpin under numpy 2
    raises AttributeError) loads no OpenMP runtime: an all-pool limit goes on without it, and a
    BLAS limit after it still holds (before session 23 the error switched thread control off for
    the rest of the process). Found by a reviewer of session 23's change."""
    fake = tmp_path / "quspin"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise AttributeError('a broken QuSpin')\n")
    code = (
        "from threadpoolctl import threadpool_info\n"
        "from manybody.support.threads import blas_threads, thread_controller\n"
        "def blas():\n"
        "    return sorted({i['num_threads'] for i in threadpool_info() "
        "if i['user_api'] == 'blas'})\n"
        "with blas_threads(1, user_api=None):\n"
        "    print(blas())\n"
        "with blas_threads(1):\n"
        "    print(blas())\n"
        "print(thread_controller() is not None)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])]),
        OPENBLAS_NUM_THREADS="2")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True, env=env)
    assert res.stdout.split("\n")[:3] == ["[1]", "[1]", "True"]


@pytest.mark.parametrize("order", ["C", "F"])
def test_diagonalise_takes_either_memory_order_and_refuses_an_unsymmetric_h(rng, order):
    """LAPACK reads one triangle, whatever the memory order: the eigenvalues of a symmetric h in
    C or Fortran order are numpy's; an h whose triangles differ is refused (its lower triangle
    was diagonalised without a word until session 34)."""
    a = rng.normal(size=(40, 40))
    sym = np.tril(a) + np.tril(a, -1).T
    np.testing.assert_allclose(diagonalise(np.asarray(sym, order=order), overwrite=False).energies,
                               np.linalg.eigvalsh(sym), atol=1e-12)
    junk = np.asarray(np.tril(a) + 5 * np.triu(rng.normal(size=(40, 40)), 1), order=order)
    with pytest.raises(ValueError, match="h must be real symmetric"):
        diagonalise(junk)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_stress_elements_refuse_vectors_that_are_not_orthonormal(rng, dtype):
    """Unnormalised or non-orthogonal eigenvectors scaled every T_mn silently (session 35)."""
    dim = 64
    v = np.linalg.qr(rng.normal(size=(dim, dim)))[0].astype(dtype)
    t = sp.diags(rng.normal(size=dim)).tocsr()
    stress_matrix_elements(v, t)  # orthonormal in its own precision: accepted
    for bad in (2.0 * v, v + 1e-3 * rng.normal(size=(dim, dim)).astype(dtype),
                rng.normal(size=(dim, dim)).astype(dtype)):
        with pytest.raises(ValueError, match=r"vectors must have orthonormal columns"):
            stress_matrix_elements(bad, t)
    one_column_scaled = v.copy()
    one_column_scaled[:, 5] *= 1.01
    with pytest.raises(ValueError, match=r"orthonormal"):
        stress_matrix_elements(one_column_scaled, t)


def test_stress_elements_refuse_a_non_symmetric_stress_and_a_bad_chunk():
    """A non-symmetric stress gave a non-symmetric T_mn, refused only later in absorption, and
    chunk = 0 or -1 were taken (a new user, session 35)."""
    v = np.eye(2)
    bad = np.array([[0.0, 1.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match=r"stress must be real symmetric"):
        stress_matrix_elements(v, bad)
    with pytest.raises(ValueError, match=r"stress must be a real symmetric operator"):
        stress_matrix_elements(v, sp.csr_matrix(bad))
    for chunk in (0, -1):
        with pytest.raises(ValueError, match=rf"chunk must be an integer >= 1, got {chunk}"):
            stress_matrix_elements(v, np.eye(2), chunk=chunk)
