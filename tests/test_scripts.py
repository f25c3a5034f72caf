"""The benchmark scripts run end to end on tiny inputs and write their JSON records.

Timings are never asserted (the machine is shared); only that each script runs, writes a
well-formed record, and that the records carry the ratios the README quotes.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
#: A memory cap (GB) small enough to make an N = 10 plan chunk its k bank.
CAP_GB = "0.05"


def run_script(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.mark.slow
def test_bench_sweep_tiny(tmp_path):
    out = tmp_path / "sweep.json"
    run_script("scripts/bench_sweep.py", "--small-n", "4", "--large-n", "5", "--n8-realisations",
               "6", "--n12-realisations", "2", "--repeats", "1", "--output", str(out))
    record = json.loads(out.read_text())
    assert record["n8"]["ratio"] > 0 and record["n12"]["ratio"] > 0
    assert record["n8_chunking"]["realisations"] == 6 and record["n8_chunking"]["speedup"] > 0


def test_bench_relaxation_tiny(tmp_path):
    out = tmp_path / "relaxation.json"
    run_script("scripts/bench_relaxation.py", "--n-tls", "4", "--temperatures", "3", "--repeats",
               "1", "--output", str(out))
    assert json.loads(out.read_text())


def test_bench_pipeline_tiny(tmp_path):
    out = tmp_path / "bench.json"
    run_script("scripts/bench.py", "--n-min", "4", "--n-max", "5", "--repeats", "1",
               "--naive-max", "5", "--output", str(out))
    assert json.loads(out.read_text())["per_n"]


def test_crosscheck_index_tiny(tmp_path):
    out = tmp_path / "index.json"
    run_script("scripts/crosscheck_index.py", "--n-tls", "5", "--realisations", "6", "--vectors",
               "2", "--jobs", "1", "--output", str(out))
    record = json.loads(out.read_text())
    assert record["n_tls"] == 5 and record["realisations"] == 6
    assert set(record) >= {"dense", "chebyshev", "difference", "paired_bootstrap_error"}
    assert len(record["mean_absorption_z"]) == len(record["temperatures_K"])


@pytest.mark.slow
def test_configuration_bath_check_tiny(tmp_path):
    out = tmp_path / "configuration_bath.json"
    run_script("scripts/configuration_bath_check.py", "--realisations", "3", "--bootstrap", "2",
               "--output", str(out))
    record = json.loads(out.read_text())
    assert record["settings"]["realisations"] == 3 and "git_commit" in record["provenance"]
    for case in record["cases"].values():
        assert case["integrated_relative_error"] >= 0
        assert all(0 <= f <= 1 for f in case["single_tls_fraction"].values())


def test_bench_saturation_tiny(tmp_path):
    out = tmp_path / "saturation.json"
    run_script("scripts/bench_saturation.py", "--n-tls", "4", "--amplitudes", "3", "--output",
               str(out))
    record = json.loads(out.read_text())
    assert record["n_amplitudes"] == 3 and record["steady_state_over_dense_solve"] > 0
    low, high = record["saturation_range"]  # Q^-1(e0) / Q^-1(0) over the amplitudes
    assert 0 < low < 1.0 <= high  # the strongest drive saturates; e0 = 0 is the linear value


def test_figure_of_merit_spec_takes_a_hard_core():
    """bench_figure_of_merit.py --min-distance: the headline spec at N TLS with the hard core set
    and nothing else changed (same seed, probe and coupling strength)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import bench_figure_of_merit as fom
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    solver = {"method": "chebyshev", "chebyshev": {"n_vectors": 4}}
    plain = fom.spec_for(16, 3, solver)
    core = fom.spec_for(16, 3, solver, min_distance=0.2)
    assert plain.model.coupling.min_distance == 0.0
    assert core.model.coupling.min_distance == 0.2
    assert core.model.n_tls == 16 and core.realisations == 3
    assert core.model.coupling.strength == plain.model.coupling.strength
    assert core.seed == plain.seed and core.probe == plain.probe


def test_profile_chebyshev_tiny(tmp_path):
    """The phase split of a solve: the steps, bookkeeping and GEMMs of both recursions are
    found, the plan and bounds are timed whole, and the parts add up to at most the solve."""
    out = tmp_path / "phases.json"
    run_script("scripts/profile_chebyshev.py", "--sizes", "9", "--label", "tiny", "--out", str(out))
    record = json.loads(out.read_text())["tiny"]
    assert record["finished"]
    size = record["sizes"]["9"]
    phases = size["phases"]
    assert {"step", "record", "gemm"} <= set(phases["k"]) and {"step", "store", "gemm"} <= set(
        phases["l"])
    assert phases["plan"]["total"]["calls"] == 1 and phases["bounds"]["total"]["calls"] >= 1
    assert phases["filter"]["step"]["calls"] > 0
    assert 0.0 <= size["other_seconds"] < size["seconds"]
    assert len(size["moments"]) >= 1
    assert size["memory_cap_gb"] is None and size["block"] >= 1 and size["steady"] is False
    # --steady: the second solve of the realisation, in the kept workspace, is the one profiled
    run_script("scripts/profile_chebyshev.py", "--sizes", "9", "--label", "steady", "--out",
               str(out), "--steady")
    steady = json.loads(out.read_text())["steady"]["sizes"]["9"]
    assert steady["steady"] is True and steady["moments"] == size["moments"]
    assert steady["phases"]["k"]["step"]["calls"] == phases["k"]["step"]["calls"]


def test_profile_chebyshev_memory_cap(tmp_path):
    """--memory-gb (session 18) reaches the plan: under a cap the k bank holds fewer rows than
    uncapped, and a cap that is not a positive number is refused before any solve."""
    out = tmp_path / "phases.json"
    for label, cap in (("free", []), ("capped", ["--memory-gb", CAP_GB])):
        run_script("scripts/profile_chebyshev.py", "--sizes", "10", "--label", label,
                   "--out", str(out), *cap)
    record = json.loads(out.read_text())
    free, capped = (record[k]["sizes"]["10"] for k in ("free", "capped"))
    assert capped["memory_cap_gb"] == float(CAP_GB)
    assert capped["moments"] == free["moments"]
    assert sum(capped["bank_rows"]) < sum(free["bank_rows"])
    proc = subprocess.run([sys.executable, "scripts/profile_chebyshev.py", "--memory-gb", "0",
                           "--out", str(tmp_path / "bad.json")], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 2 and "--memory-gb" in proc.stderr
    assert not (tmp_path / "bad.json").exists()


def test_ratio_bias_check_tiny(tmp_path):
    """ratio_bias_check.py (session 17): the corrected ratio is the jackknife bias correction
    n Q - (n - 1) mean Q_(-i), computed here by explicit loops, and leaves an exact ratio (every
    N_i = c Z_i) unchanged; the script solves the same realisations three ways and restores the
    solver's own ratio afterwards."""
    import numpy as np

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import ratio_bias_check as check
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    from manybody.simulation.solvers.chebyshev import solver as cheb

    plain = cheb.jackknife_ratio
    rng = np.random.default_rng(1)
    num, den = rng.uniform(0.5, 2.0, (5, 3, 2)), rng.uniform(0.5, 2.0, (5, 3))
    value, error = check.corrected_ratio(plain)(num, den)
    full = num.sum(0) / den.sum(0)[:, None]
    loo = [np.delete(num, i, 0).sum(0) / np.delete(den, i, 0).sum(0)[:, None] for i in range(5)]
    np.testing.assert_allclose(value, 5 * full - 4 * np.mean(loo, axis=0), rtol=1e-13)
    np.testing.assert_array_equal(error, plain(num, den)[1])
    exact, _ = check.corrected_ratio(plain)(2.5 * den[..., None] * np.ones(2), den)
    np.testing.assert_allclose(exact, 2.5, rtol=1e-13)
    out = tmp_path / "bias.json"
    run_script("scripts/ratio_bias_check.py", "--n-tls", "6", "--realisations", "6", "--out",
               str(out), "--label", "tiny")
    record = json.loads(out.read_text())["tiny"]
    summary = record["summary"]
    assert summary["realisations"] + summary["skipped"] == 6 and record["vectors"] == 4
    assert len(summary["plain"]["relative_bias"]) == len(summary["x"]) == 25
    assert cheb.jackknife_ratio is plain


def test_bench_chebyshev_ladder_scan_tiny(tmp_path):
    """bench_chebyshev.py ladder (session 18): the same realisations at each ladder_ratio; the
    reference ratio compares as exactly 1, a larger ratio never has more rungs and its rungs are
    at most the ratio apart, the cost is the product of its parts, and Q at the highest
    temperature (served without reweighting by the same top rung, same vectors) agrees within
    its error bars; the next rung is the first temperature below the last one's reach."""
    out = tmp_path / "ladder.json"
    run_script("scripts/bench_chebyshev.py", "ladder", "--sizes", "6", "--ratios", "1.6", "3.2",
               "--realisations", "2", "--vectors", "4", "--out", str(out), "--label", "tiny")
    record = json.loads(out.read_text())["tiny"]
    assert record["finished"] and record["ratios"] == [1.6, 2.0, 3.2]
    size = record["sizes"]["6"]
    summary = size["summary"]
    assert summary["2.0"]["seconds_over_reference"] == 1.0
    assert summary["2.0"]["variance_over_reference"] == 1.0
    assert summary["2.0"]["worst_temperature_variance_over_reference"] == 1.0
    assert summary["1.6"]["rungs"] >= summary["2.0"]["rungs"] >= summary["3.2"]["rungs"] >= 1
    for key, entry in summary.items():
        assert entry["cost_at_equal_error"] == pytest.approx(
            entry["seconds_over_reference"] * entry["variance_over_reference"])
        for run in size["runs"][key]:
            rungs = run["reference_temperatures"]
            assert rungs[0] == pytest.approx(0.2)
            step = 10 ** (1 / 19)  # of the benchmark's temperatures, geomspace(0.02, 0.2, 20)
            assert all(float(key) < a / b <= float(key) * step * (1 + 1e-9)
                       for a, b in zip(rungs, rungs[1:], strict=False))
    for bad, named in ((["--ratios", "1.0"], "ratio"), (["--vectors", "1"], "--vectors")):
        proc = subprocess.run([sys.executable, "scripts/bench_chebyshev.py", "ladder", *bad,
                               "--out", str(tmp_path / "bad.json")], capture_output=True,
                              text=True, cwd=ROOT, timeout=120)
        assert proc.returncode == 2 and named in proc.stderr and "Traceback" not in proc.stderr
        assert not (tmp_path / "bad.json").exists()
    top = [np.array(size["runs"][key][0]["absorption"])[-1] for key in ("1.6", "3.2")]
    errors = [np.array(size["runs"][key][0]["absorption_error"])[-1] for key in ("1.6", "3.2")]
    assert np.all(np.abs(top[0] - top[1]) <= 3 * np.hypot(*errors))


def test_bench_chebyshev_tolerance_scan_tiny(tmp_path):
    """bench_chebyshev.py tolerance (session 17): the same realisation at each truncation_tol;
    the tightest is the reference (deviation 0), a looser one plans no more moments on any rung,
    and every deviation is a finite number."""
    out = tmp_path / "tol.json"
    run_script("scripts/bench_chebyshev.py", "tolerance", "--sizes", "6", "--tolerances", "1e-2",
               "1e-5", "--out", str(out), "--label", "tiny")
    record = json.loads(out.read_text())["tiny"]
    assert record["finished"] and record["reference_tolerance"] == 1e-5
    tight, loose = record["sizes"]["6"]
    assert tight["truncation_tol"] == 1e-5 and loose["truncation_tol"] == 1e-2
    assert tight["max_deviation_over_error"] == 0.0
    assert all(a <= b for a, b in zip(loose["moments"], tight["moments"], strict=True))
    assert sum(loose["moments"]) < sum(tight["moments"])
    assert 0 < loose["max_relative_deviation"] < 1 and loose["seconds"] > 0
