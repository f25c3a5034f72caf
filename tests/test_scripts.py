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
    run_script("scripts/bench_sweep.py", "--small-n", "4", "--large-n", "5", "--small-n-realisations",
               "6", "--large-n-realisations", "2", "--repeats", "1", "--output", str(out))
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
    run_script("scripts/configuration_bath_check.py", "--realisations", "3", "--bootstrap", "20",
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


# -- refusals: bad options at parse time (exit 2), run-time refusals in one line (exit 1) --------

def _script(name: str):
    """A script of scripts/ imported as a module (for its functions, without running it)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(ROOT / "scripts"))


def refused(args: list[str], out: Path, status: int = 2, code: str | None = None) -> str:
    """Run a script (or ``python -c code`` with ``args`` as its argv) that must refuse: exit
    ``status``, no traceback, one error line (returned), and ``out`` not written."""
    cmd = [sys.executable, *(["-c", code] if code else []), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == status, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, proc.stderr[-3000:]
    assert not out.exists()
    return errors[0]


BAD_OPTIONS = [
    ("crosscheck_index.py", ["--n-tls", "0"], "--n-tls", "0"),
    ("crosscheck_index.py", ["--realisations", "1"], "--realisations", "1"),
    ("crosscheck_index.py", ["--vectors", "1"], "--vectors", "1"),
    ("crosscheck_index.py", ["--jobs", "0"], "--jobs", "0"),
    ("crosscheck_ftlm.py", ["--sizes", "6", "--steps", "0"], "--steps", "0"),
    ("crosscheck_ftlm.py", ["--sizes", "6", "--cheb-vectors", "0"], "--cheb-vectors", "0"),
    ("crosscheck_ftlm.py", ["--sizes", "6", "--ftlm-vectors", "1"], "--ftlm-vectors", "1"),
    ("bench_figure_of_merit.py", ["--sizes", "8", "--realisations", "2", "--vectors", "0"],
     "--vectors", "0"),
    ("bench_figure_of_merit.py", ["--sizes", "8", "--realisations", "2", "--max-moments", "0"],
     "--max-moments", "0"),
    ("bench_figure_of_merit.py", ["--sizes", "8", "--realisations", "2", "--min-distance",
                                  "-1"], "--min-distance", "-1"),
    ("bench_figure_of_merit.py", ["--sizes", "8", "--realisations", "2",
                                  "--before-realisations", "3"], "--before-realisations", "3"),
    ("profile_chebyshev.py", ["--sizes", "0"], "--sizes", "0"),
    ("bench_chebyshev.py", ["matfree", "--sizes", "0"], "--sizes", "0"),
    ("bench_chebyshev.py", ["matfree", "--sizes", "6", "--vectors", "1"], "--vectors", "1"),
    ("bench_chebyshev.py", ["matfree", "--sizes", "6", "--memory-gb", "0"], "--memory-gb", "0"),
    ("bench_chebyshev.py", ["run", "--sizes", "6", "--dense-sizes", "--timeout", "0"],
     "--timeout", "0"),
    ("bench_chebyshev.py", ["tolerance", "--sizes", "6", "--tolerances", "1"],
     "--tolerances", "1"),
    ("min_distance_effect.py", ["physics", "--jobs", "0"], "--jobs", "0"),
    ("min_distance_effect.py", ["--min-distances", "0", "0.2", "0.2"], "--min-distances", "0.2"),
    ("min_distance_effect.py", ["cost", "--cost-realisations", "0"], "--cost-realisations",
     "0"),
    ("ratio_bias_check.py", ["--n-tls", "4", "--realisations", "1"], "--realisations", "1"),
    ("ratio_bias_check.py", ["--n-tls", "4", "--vectors", "1"], "--vectors", "1"),
    # repeated list values (a reviewer, session 24: each ran its case twice, one record kept)
    ("bench_chebyshev.py", ["matfree", "--sizes", "12", "12"], "--sizes", "12 12"),
    ("bench_chebyshev.py", ["ladder", "--sizes", "6", "--ratios", "1.5", "1.5"], "--ratios",
     "1.5 1.5"),
    ("bench_chebyshev.py", ["tolerance", "--sizes", "6", "--tolerances", "1e-3", "1e-3"],
     "--tolerances", "0.001 0.001"),
    ("crosscheck_ftlm.py", ["--sizes", "2", "2"], "--sizes", "2 2"),
    ("crosscheck_ftlm.py", ["--sizes", "6", "--steps", "1000000000000"], "--steps",
     "1000000000000"),
    ("bench_figure_of_merit.py", ["--sizes", "8", "8", "--realisations", "2", "2"], "--sizes",
     "8 8"),
    ("profile_chebyshev.py", ["--sizes", "8", "8"], "--sizes", "8 8"),
    # plain type=int/float options (session 32: a traceback from deep inside, or none at all)
    ("bench_relaxation.py", ["--n-tls", "-3"], "--n-tls", "-3"),
    ("bench_relaxation.py", ["--seed", "-1"], "--seed", "-1"),
    ("bench_saturation.py", ["--seed", "-1"], "--seed", "-1"),
    ("bench_saturation.py", ["--amplitudes", "0"], "--amplitudes", "0"),
    ("bench_sweep.py", ["--repeats", "0"], "--repeats", "0"),
    ("configuration_bath_check.py", ["--realisations", "0"], "--realisations", "0"),
    ("configuration_bath_check.py", ["--bootstrap", "1"], "--bootstrap", "1"),
    ("bench_pair_sum.py", ["--sizes", "-2"], "--sizes", "-2"),
    ("mutation_check.py", ["--timeout", "nan"], "--timeout", "nan"),
    ("mutation_check.py", ["--limit", "0"], "--limit", "0"),
]

#: Scripts whose output option is --output rather than --out.
OUTPUT_FLAG = {"crosscheck_index.py", "bench_relaxation.py", "bench_saturation.py",
               "bench_sweep.py", "configuration_bath_check.py"}


@pytest.mark.parametrize(("script", "args", "option", "value"), BAD_OPTIONS,
                         ids=[f"{s[:-3]}{''.join(a)}" for s, a, _, _ in BAD_OPTIONS])
def test_scripts_refuse_bad_options_before_any_work(tmp_path, script, args, option, value):
    """An option out of the range the code accepts: one line naming the option and the value,
    exit status 2, no traceback and no output file, before any solve."""
    out = tmp_path / "out.json"
    flag = "--output" if script in OUTPUT_FLAG else "--out"
    line = refused([f"scripts/{script}", *args, flag, str(out)], out)
    assert option in line and value in line.split(option, 1)[1], line


def test_no_command_line_option_is_a_plain_int_or_float():
    """Every numeric option of the scripts and the CLI goes through a bounded parser
    (``validate.cli_integer``/``cli_real`` or the command's own): ``type=int`` took -3 N's and
    'nan' timeouts into a traceback from deep inside (session 32)."""
    import ast

    plain = []
    for path in [*sorted((ROOT / "scripts").glob("*.py")),
                 *sorted((ROOT / "manybody" / "cli").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
                for kw in node.keywords:
                    if kw.arg == "type" and isinstance(kw.value, ast.Name) \
                            and kw.value.id in ("int", "float"):
                        plain.append(f"{path.name}:{node.lineno}")
    assert not plain, plain


def test_every_script_option_has_help_text(monkeypatch):
    """Every option and positional of every script says what it is in ``--help`` (its unit and
    default where it has them): a new user found 89 options without a word of help."""
    import argparse
    import contextlib
    import io
    import runpy

    missing = []
    current = [""]
    original = argparse._ActionsContainer.add_argument

    def recording(self, *args, **kwargs):
        if not kwargs.get("help") and args and args[0] != "-h":
            missing.append(f"{current[0]}: {args[0]}")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(argparse._ActionsContainer, "add_argument", recording)
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))
    environ = os.environ.copy()  # some scripts set the BLAS thread variables on import
    try:
        for path in sorted((ROOT / "scripts").glob("*.py")):
            current[0] = path.name
            monkeypatch.setattr(sys, "argv", [str(path), "--help"])
            with contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()):
                try:
                    runpy.run_path(str(path), run_name="__main__")
                except SystemExit:
                    pass
    finally:
        os.environ.clear()
        os.environ.update(environ)
    assert not missing, "options without help=: " + ", ".join(missing)


def test_profile_chebyshev_memory_refusal_is_one_line(tmp_path):
    """The plan's MemoryError (needs about X GB) under a tiny cap: one line, exit 1, nothing
    written."""
    out = tmp_path / "phases.json"
    line = refused(["scripts/profile_chebyshev.py", "--sizes", "8", "--memory-gb", "0.0001",
                    "--out", str(out)], out, status=1)
    assert "MemoryError" in line and "GB" in line and "N=8" in line


def test_crosscheck_ftlm_every_case_refused_exits_nonzero(tmp_path):
    """A run in which the Chebyshev solver refused every case (at run time) exits 1 with one line
    and writes nothing."""
    out = tmp_path / "ftlm.json"
    code = ("import sys; sys.path.insert(0, 'scripts'); import crosscheck_ftlm as c; "
            "c.run_case = lambda name, n, *rest: {'n_tls': n, 'dimension': 2**n, "
            "'chebyshev_refused': 'MemoryError: needs about 9 GB'}; "
            "sys.exit(c.main(sys.argv[1:]))")
    line = refused(["--sizes", "6", "--out", str(out)], out, status=1, code=code)
    assert "refused every case" in line and "needs about 9 GB" in line


def test_figure_of_merit_every_size_refused_exits_nonzero(tmp_path, monkeypatch, capsys):
    """Every size refused at run time (e.g. a close pair needing too many moments): exit 1, one
    line, nothing written."""
    fom = _script("bench_figure_of_merit")

    def refuse(*args, **kwargs):
        raise MemoryError("the chebyshev solver needs about 9 GB")

    monkeypatch.setattr(fom, "measure", refuse)
    out = tmp_path / "fom.json"
    assert fom.main(["--sizes", "8", "10", "--realisations", "2", "2", "--jobs", "1",
                     "--out", str(out)]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(errors) == 1 and "every size was refused" in errors[0] and "9 GB" in errors[0]
    assert not out.exists()


def _refused_record(method: str, n: int) -> dict:
    """A child's record of a refused solve, as ``_run_child`` makes it (with seconds)."""
    return {"method": method, "n_tls": n, "seconds": 1.5,
            "error": "MemoryError: the chebyshev solver needs about 0.0318 GB"}


def test_bench_chebyshev_comparisons_use_finished_runs_only():
    """The ratios of a matfree size (against the recorded figure, sparse against matrix-free,
    baseline against this code, steady pairs) come from finished runs only: a refused run carries
    "error" and "seconds" too."""
    bench = _script("bench_chebyshev")
    refused_free = _refused_record("chebyshev", 10)
    sparse = {"method": "chebyshev", "n_tls": 10, "seconds": 2.0, "peak_memory_gb": 0.1,
              "absorption": [[1.0]], "absorption_error": [[0.1]], "steady_seconds": 1.0,
              "system_seconds": 0.1, "steady_system_seconds": 0.0, "steady_q_identical": True}
    rec = bench._compare({"sparse": [_refused_record("chebyshev", 10)],
                          "matrix_free": [refused_free]}, recorded=17.0)
    assert rec["recorded_seconds"] == 17.0 and rec["matrix_free"]["error"]
    assert not {"recorded_over_matrix_free", "recorded_over_sparse", "seconds_ratio"} & set(rec)
    # the sparse run finished: its ratio to the recorded figure only
    rec = bench._compare({"sparse": [sparse], "matrix_free": [refused_free]}, recorded=17.0)
    assert rec["recorded_over_sparse"] == 8.5
    assert not {"recorded_over_matrix_free", "seconds_ratio", "memory_ratio"} & set(rec)
    # a baseline pair with a refused half is left out of the pairs
    free = {**sparse, "seconds": 1.0}
    runs = {"matrix_free": [free, {**refused_free, "steady_seconds": 0.1}],
            "baseline": [{**sparse, "seconds": 3.0}, {**sparse, "seconds": 30.0}]}
    rec = bench._compare(runs, recorded=None)
    assert rec["baseline_over_matrix_free"]["pairs"] == [3.0]
    assert "recorded_over_matrix_free" not in rec
    steady = bench._steady_summary(runs, None)
    assert steady["baseline_over_matrix_free_steady"]["pairs"] == [1.0]


def test_bench_chebyshev_matfree_every_solve_refused(tmp_path, monkeypatch, capsys):
    """matfree with every solve refused at run time: no ratios printed, no apply measurement,
    nothing written, one error line and exit 1."""
    bench = _script("bench_chebyshev")
    monkeypatch.setattr(bench, "_run_child", lambda method, n, *a, **k: _refused_record(method, n))
    monkeypatch.setattr(bench, "_recorded_seconds", lambda n: 17.0)

    def no_apply(*args, **kwargs):
        raise AssertionError("apply measured for a size whose every solve was refused")

    monkeypatch.setattr(bench, "_apply_child", no_apply)
    out = tmp_path / "matfree.json"
    assert bench.main(["matfree", "--sizes", "10", "--memory-gb", "0.0001",
                       "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "recorded_over" not in captured.out and "every solve refused" in captured.out
    errors = [line for line in captured.err.splitlines() if line]
    assert len(errors) == 1 and ": error: " in errors[0] and "MemoryError" in errors[0]
    assert not out.exists()


def test_bench_chebyshev_floor_above_the_measurement_is_flagged():
    """A floor built from rates measured on a busy machine can exceed the measured solve: the
    numbers are kept and the record says the floor is unreliable."""
    bench = _script("bench_chebyshev")
    rungs = [{"n_moments": 99, "nodes": 8, "node_rows": 8, "formed_rows": 8, "filter_terms": 10}]
    apply = {"gemm_flops_per_second": 1e9, "parallel_stream_seconds": 1e-3}
    floor = bench.solve_floor(rungs, 10, 4, apply, recorded=None, measured=0.01)
    assert floor["measured_over_floor"] < 1 and "busy" in floor["floor_unreliable"]
    assert floor["floor_seconds"] == pytest.approx(floor["gemm_seconds"] + floor["stream_seconds"])
    fine = bench.solve_floor(rungs, 10, 4, apply, recorded=None, measured=10.0)
    assert fine["measured_over_floor"] > 1 and "floor_unreliable" not in fine


def test_golden_set_help_and_bad_paths_refused_before_any_work(tmp_path):
    """``golden_set.py check --help`` printed a traceback (it took --help for the path, session
    28's tester); a missing or non-.npz path is one error line naming it, before the minute of
    computing, and ``write`` to a name numpy would silently extend is refused."""
    proc = subprocess.run([sys.executable, "scripts/golden_set.py", "check", "--help"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0 and "usage:" in proc.stdout and "Traceback" not in proc.stderr
    missing = tmp_path / "missing.npz"
    line = refused(["scripts/golden_set.py", "check", str(missing)], missing)
    assert str(missing) in line and "not a file" in line
    text = tmp_path / "notes.txt"
    text.write_text("not an archive\n")
    line = refused(["scripts/golden_set.py", "check", str(text)], tmp_path / "never")
    assert str(text) in line and ".npz archive" in line
    line = refused(["scripts/golden_set.py", "write", str(tmp_path / "set.txt")],
                   tmp_path / "set.txt")
    assert "set.txt" in line and "must end in .npz" in line
    refused(["scripts/golden_set.py", "frob", "x.npz"], tmp_path / "x.npz")


OUTPUT_OPTIONS = [("golden_set.py", ["write"]), ("canonical_velocity_slopes.py", ["--output"]),
                  ("bench.py", ["--output"]), ("bench_chebyshev.py", ["run", "--out"]),
                  ("bench_figure_of_merit.py", ["--out"]), ("bench_pair_sum.py", ["--out"]),
                  ("bench_relaxation.py", ["--output"]), ("bench_saturation.py", ["--output"]),
                  ("bench_sweep.py", ["--output"]), ("configuration_bath_check.py", ["--output"]),
                  ("crosscheck_ftlm.py", ["--out"]), ("crosscheck_index.py", ["--output"]),
                  ("min_distance_effect.py", ["--out"]), ("mutation_check.py", ["--out"]),
                  ("profile_chebyshev.py", ["--out"]), ("ratio_bias_check.py", ["--out"])]
OUTPUT_DIRECTORY_OPTIONS = ["al_loss_shift_systematics.py", "nb_loss_shift_systematics.py",
                            "make_figures.py"]


@pytest.mark.parametrize("script, option", OUTPUT_OPTIONS)
def test_script_outputs_that_cannot_be_written_are_refused_before_any_work(tmp_path, script,
                                                                           option):
    """A file among the parents, a trailing '/', a directory or a device was a traceback after
    the work (golden_set.py: a minute of computing) or, for 'd.npz/', a file 'd.npz' (session
    31); each is one error line naming the output, and nothing is written."""
    afile = tmp_path / "afile"
    afile.write_text("")
    ext = ".npz" if script == "golden_set.py" else ".json"
    cases = [(str(afile / f"x{ext}"), "is a file, not a directory"),
             (str(tmp_path / f"d{ext}") + "/", "names a directory"),
             ("/dev/null" if ext == ".json" else str(tmp_path / "folder.npz"), "")]
    (tmp_path / "folder.npz").mkdir()
    if script != "golden_set.py":
        ext, cases = ".json", cases[:2] + [("/dev/null", "not a regular file"),
                                            (str(tmp_path / "folder.npz"), "is a directory")]
        cases[0] = (str(afile / "x.json"), "is a file, not a directory")
        cases[1] = (str(tmp_path / "d.json") + "/", "names a directory")
    for path, why in cases:
        line = refused([f"scripts/{script}", *option, path], tmp_path / f"d{ext}")
        assert path.rstrip("/") in line and why in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "folder.npz"]


@pytest.mark.parametrize("script", OUTPUT_DIRECTORY_OPTIONS)
def test_script_output_directories_that_cannot_be_written_are_refused(tmp_path, script):
    """A file given for a directory of outputs, or below a file, is one error line naming it
    (session 31: the scripts found out after their work)."""
    afile = tmp_path / "afile"
    afile.write_text("")
    for path, why in ((afile, "is not a directory"), (afile / "sub", "is a file, not a directory")):
        line = refused([f"scripts/{script}", "--out", str(path)], tmp_path / "never")
        assert str(path) in line and why in line
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]


def test_every_script_ends_through_script_main():
    """Ctrl-C, SIGTERM and a full disk are one line in every script (session 31: golden_set.py
    and canonical_velocity_slopes.py printed a traceback for each)."""
    for path in sorted((ROOT / "scripts").glob("*.py")):
        tail = path.read_text().rstrip().rsplit('if __name__ == "__main__":', 1)[-1]
        assert "SystemExit(script_main(main" in tail, path.name


def _default_sigint() -> None:
    """In the child before exec: SIGINT back to its default. A runner started in the background
    (``cmd &``, nohup) ignores SIGINT, ignored signals are inherited, and Python then installs no
    KeyboardInterrupt handler: the script ran to its end and exited 0 (a CI run, session 42)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_an_interrupted_script_says_so_in_one_line(tmp_path, signame):
    import signal
    import time

    out = tmp_path / "g.npz"
    proc = subprocess.Popen([sys.executable, "scripts/golden_set.py", "write", str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MPLBACKEND": "Agg"},
                            preexec_fn=_default_sigint)
    try:
        time.sleep(4)  # into the computing (the set takes 10-60 s)
        proc.send_signal(getattr(signal, signame))
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    status = 128 + getattr(signal, signame)
    assert proc.returncode == status, err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    how = "" if signame == "SIGINT" else f" ({signame})"
    # the script's own line, or, when the signal lands inside one of its run_sweep calls, the
    # run's account of what it kept (which realisations had finished: a run without an output
    # file keeps nothing); either way one line, the script named (the second came at 4 s in a
    # faster hour, session 34)
    last = err.strip().splitlines()[-1]
    assert last in (f"golden_set.py: interrupted{how}; files written before it are complete, "
                    "none is half-written",) or (
        last.startswith(f"golden_set.py: interrupted{how}; ")
        and last.endswith("the run has no output file, hence no checkpoint: nothing is kept")), last
    assert not out.exists() and not list(tmp_path.iterdir())


def test_script_main_reports_a_full_disk_in_one_line(capsys, monkeypatch):
    import errno

    from manybody.cli.signals import script_main

    def full():
        raise OSError(errno.ENOSPC, "No space left on device", "/x/out.json")

    def other():
        raise OSError(errno.EIO, "Input/output error", "/x/out.json")

    def denied():
        raise OSError(errno.EACCES, "Permission denied", "/x/out.json")
    monkeypatch.setattr(sys, "argv", ["bench.py"])
    assert script_main(full) == 1
    assert capsys.readouterr().err == (
        "bench.py: error: out of disk space writing '/x/out.json' (No space left on device); "
        "nothing half-written is left: free some space and rerun\n")
    with pytest.raises(OSError):  # other errors are not disguised
        script_main(other)
    # a refusal as the commands give it (session 59: script_main takes the same refusals)
    assert script_main(denied) == 2
    assert capsys.readouterr().err == "bench.py: error: [Errno 13] Permission denied: '/x/out.json'\n"
    assert script_main(lambda: 3) == 3 and script_main(lambda: None) == 0


@pytest.mark.parametrize(("script", "option", "extra"), [
    ("crosscheck_index.py", "--output", ["--n-tls", "4", "--realisations", "5"]),
    ("bench_sweep.py", "--output", []),
    ("bench_saturation.py", "--output", []),
    ("bench_relaxation.py", "--output", []),
    ("bench_pair_sum.py", "--out", []),
    ("configuration_bath_check.py", "--output", []),
    ("canonical_velocity_slopes.py", "--output", []),
    ("mutation_check.py", "--out", []),
    ("bench.py", "--output", ["--n-min", "4", "--n-max", "4"]),
])
def test_a_script_that_writes_one_file_does_not_replace_it_without_overwrite(tmp_path, script,
                                                                             option, extra):
    """A small trial of crosscheck_index.py replaced the committed record the README quotes,
    without a word (a new user, session 37): an existing output is refused before any work,
    naming the file and --overwrite, and left as it was."""
    out = tmp_path / "record.json"
    out.write_text('{"kept": true}\n')
    proc = subprocess.run([sys.executable, f"scripts/{script}", option, str(out), *extra],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 2, proc.stderr
    assert f"{option} '{out}' already exists" in proc.stderr and "--overwrite" in proc.stderr
    assert "Traceback" not in proc.stderr and out.read_text() == '{"kept": true}\n'


@pytest.mark.parametrize(("script", "args", "record"), [
    ("bench_chebyshev.py", ["run", "--sizes", "4", "--dense-sizes"], {"benchmark": {}}),
    ("bench_chebyshev.py", ["validate"], {"validation": {}}),
    ("bench_chebyshev.py", ["width", "--sizes", "4"], {"spectral_width": {}}),
    ("bench_chebyshev.py", ["tolerance", "--sizes", "4", "--label", "mine"], {"mine": {}}),
    ("profile_chebyshev.py", ["--sizes", "4"], {"phases": {"sizes": {}}}),
    ("ratio_bias_check.py", ["--n-tls", "4", "--realisations", "2"], {"ratio_bias": {}}),
    ("bench_figure_of_merit.py", ["--sizes", "8", "16", "--realisations", "2", "2"],
     {"figure_of_merit": {"sizes": {"16": {}}}}),
    ("crosscheck_ftlm.py", ["--sizes", "4", "--cases", "bench"], {"results": {"bench_n4": {}}}),
    ("min_distance_effect.py", ["cost"], {"min_distance": {"cost": {}}}),
])
def test_a_script_that_merges_labelled_records_does_not_replace_one_without_overwrite(
        tmp_path, script, args, record):
    """The scripts that merge labelled entries into one record file replaced a committed entry
    of the same label (or size, case, part) without a word (session 37's note): refused before
    any work, naming the entry and --overwrite; the file is left as it was."""
    out = tmp_path / "record.json"
    text = json.dumps({**record, "other": 1})
    out.write_text(text)
    proc = subprocess.run([sys.executable, f"scripts/{script}", *args, "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 2, proc.stderr
    assert f"--out '{out}' already holds '" in proc.stderr and "--overwrite" in proc.stderr
    assert "Traceback" not in proc.stderr and out.read_text() == text


def test_refuse_replaced_records_names_only_the_entries_present(tmp_path, capsys):
    """Entries of other labels or sizes pass; a nested entry is named by its key path; a
    damaged or missing file refuses nothing (the script's reader reports it)."""
    import argparse

    from manybody.runs.results import refuse_replaced_records
    parser = argparse.ArgumentParser(prog="x.py")
    out = tmp_path / "r.json"
    out.write_text('{"fom": {"sizes": {"12": {}}}, "flat": 3}')
    refuse_replaced_records(parser, "--out", out, [("fom", "sizes", "14"), ("new",),
                                                   ("flat", "deeper")], overwrite=False)
    refuse_replaced_records(parser, "--out", out, [("fom", "sizes", "12")], overwrite=True)
    refuse_replaced_records(parser, "--out", tmp_path / "missing.json", [("fom",)],
                            overwrite=False)
    (tmp_path / "bad.json").write_text("{not json")
    refuse_replaced_records(parser, "--out", tmp_path / "bad.json", [("fom",)], overwrite=False)
    with pytest.raises(SystemExit) as exc:
        refuse_replaced_records(parser, "--out", out, [("fom", "sizes", "12"), ("flat",)],
                                overwrite=False)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "already holds 'fom/sizes/12', 'flat'" in err and "replace them" in err


def test_sizes_added_to_a_figure_of_merit_label_must_share_its_settings(tmp_path, capsys):
    """Adding a size under an existing label replaced the label's one set of settings (vectors,
    dtype, hard core, jobs), so its committed sizes read as measured with the new ones (a
    tester, session 38): refused, naming the settings that differ; equal settings pass."""
    import argparse

    import bench_figure_of_merit as fom
    parser = argparse.ArgumentParser(prog="bench_figure_of_merit.py")
    out = tmp_path / "fom.json"
    args = argparse.Namespace(out=str(out), label="fom", overwrite=False, vectors=4,
                              dtype="float32", jobs=2, min_distance=0.0)
    out.write_text(json.dumps({"fom": {**json.loads(json.dumps(fom._shared_settings(args))),
                                       "sizes": {"16": {}}}}))
    fom._refuse_other_settings(parser, args)  # the same settings: a size may be added
    changed = argparse.Namespace(**{**vars(args), "vectors": 16, "min_distance": 0.2})
    with pytest.raises(SystemExit):
        fom._refuse_other_settings(parser, changed)
    err = capsys.readouterr().err
    assert "holds sizes measured with other settings" in err and "'n_vectors': 16" in err
    assert "min_distance_r0 0.0 -> 0.2" in err
    fom._refuse_other_settings(parser, argparse.Namespace(**{**vars(changed), "overwrite": True}))
