"""Faults found by a break test of the Chebyshev solver (session 53), each with the right
behaviour: an empty or unprintable --label of the benchmark scripts, a missing default spec file
of ``bench_figure_of_merit.py``, no memory check before the Chebyshev API allocates, a
``truncation_tol`` too large to give a useful Q, and no warning from the Chebyshev API where the
kernel is at least half of w."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script(script: str, *args: str, cwd: Path, root: Path = ROOT) -> subprocess.CompletedProcess:
    """``script`` (under ``root``/scripts) run with the package of this checkout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, str(root / "scripts" / script), *args], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)


def _refused(proc: subprocess.CompletedProcess, *words: str) -> str:
    """The one-line argparse-style refusal of ``proc`` (exit 2, no traceback)."""
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    for word in words:
        assert word in last, last
    return last


# ------------------------------------------------------------------ --label of the scripts

BAD_LABELS = ["", "a\nb", " padded"]


@pytest.mark.parametrize("label", BAD_LABELS)
@pytest.mark.parametrize("script,args", [
    ("bench_chebyshev.py", ["run", "--sizes", "4", "--dense-sizes"]),
    ("bench_chebyshev.py", ["tolerance", "--sizes", "4"]),
    ("bench_chebyshev.py", ["matfree", "--sizes", "4"]),
    ("bench_figure_of_merit.py", ["--sizes", "8", "--realisations", "2"]),
])
def test_a_label_that_is_not_a_printable_name_is_refused_up_front(tmp_path, script, args, label):
    """``bench_chebyshev.py run --label ""`` ended in ``KeyError: 'run'`` after the measurement;
    ``bench_figure_of_merit.py --label ""`` wrote its record under the key ""."""
    out = tmp_path / "out.json"
    proc = _script(script, *args, "--out", str(out), "--label", label, cwd=tmp_path)
    _refused(proc, "--label", repr(label))
    assert not out.exists()


# ------------------------------------------------- the spec file of bench_figure_of_merit.py

def _copy_scripts(tmp_path: Path) -> Path:
    """A copy of the scripts without the repository's results/ (the tester's setup)."""
    root = tmp_path / "copy"
    (root / "scripts").mkdir(parents=True)
    for name in ("bench_chebyshev.py", "bench_figure_of_merit.py", "min_distance_effect.py"):
        shutil.copy(ROOT / "scripts" / name, root / "scripts" / name)
    return root


@pytest.mark.parametrize("script,args", [
    ("bench_figure_of_merit.py", ["--sizes", "8", "--realisations", "2"]),
    ("min_distance_effect.py", ["physics", "--n-physics", "4", "--realisations", "2"]),
])
def test_a_missing_default_spec_is_named_with_the_option_to_pass_another(tmp_path, script, args):
    """A FileNotFoundError traceback where results/finite_size_n12/spec.toml was not there."""
    root = _copy_scripts(tmp_path)
    out = tmp_path / "out.json"
    proc = _script(script, *args, "--out", str(out), cwd=tmp_path, root=root)
    _refused(proc, "--spec", "results/finite_size_n12/spec.toml", "no such spec file")
    assert not out.exists()


def test_another_spec_file_is_checked_before_any_work(tmp_path):
    """--spec: missing, not TOML, or with another kernel than the script analyses."""
    out = tmp_path / "out.json"
    base = ["--sizes", "8", "--realisations", "2", "--out", str(out)]
    _refused(_script("bench_figure_of_merit.py", *base, "--spec", str(tmp_path / "no.toml"),
                     cwd=tmp_path), "--spec", "no.toml", "no such spec file")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = = 1\n")
    _refused(_script("bench_figure_of_merit.py", *base, "--spec", str(bad), cwd=tmp_path),
             "--spec", "bad.toml", "not valid TOML")
    other = tmp_path / "other.toml"
    other.write_text((ROOT / "results" / "finite_size_n12" / "spec.toml").read_text().replace(
        "width = 0.02", "width = 0.03"))
    _refused(_script("bench_figure_of_merit.py", *base, "--spec", str(other), cwd=tmp_path),
             "--spec", "other.toml", "width = 0.02")
    assert not out.exists()


# ------------------------------------------- memory before the Chebyshev API allocates anything

def _not_built(*_args, **_kwargs):
    raise AssertionError("an operator was built before the memory check")


@pytest.mark.parametrize("entry", ["chebyshev_absorption", "plan_chebyshev"])
def test_the_chebyshev_api_refuses_a_size_that_cannot_fit_before_building(monkeypatch, entry):
    """N = 30 through the API built the matrix-free diagonal of 2^30 entries (17 GB, minutes)
    where ``manybody run`` refused the same N in a second with a memory message."""
    import numpy as np

    from manybody.config.model import CouplingParams, ModelParams
    from manybody.simulation.ensembles import draw_realisation, realisation_rng
    from manybody.simulation.solvers.chebyshev import resources
    from manybody.simulation.solvers.chebyshev import solver as ch

    monkeypatch.setattr(resources, "available_memory", lambda: 2**30)  # 1 GB
    monkeypatch.setattr(ch, "matrix_free_operators", _not_built)
    monkeypatch.setattr(ch, "build_operators", _not_built)
    model = ModelParams(n_tls=24, coupling=CouplingParams(kind="gaussian", strength=0.05))
    real = draw_realisation(model, realisation_rng(1, 0))
    with pytest.raises(MemoryError, match=r"n_tls=24 with the chebyshev solver needs at least "
                       r"[\d.]+ GB .* but only 0\.8 GB is allowed .*what would fit: n_tls <= \d+"):
        getattr(ch, entry)(real, [0.1], np.geomspace(0.02, 0.2, 4))


def test_bench_chebyshev_refuses_sizes_that_cannot_fit_before_running(tmp_path):
    """``bench_chebyshev.py run --sizes 30`` spent its whole --timeout on the N = 30 operators
    and reported "timeout"; a dense size too large is refused as the dense solver would."""
    out = tmp_path / "out.json"
    proc = _script("bench_chebyshev.py", "run", "--sizes", "30", "--dense-sizes", "--timeout",
                   "5", "--out", str(out), cwd=tmp_path)
    _refused(proc, "--sizes 30", "n_tls=30 with the chebyshev solver needs at least", "would fit")
    proc = _script("bench_chebyshev.py", "run", "--sizes", "--dense-sizes", "24", "--timeout",
                   "5", "--out", str(out), cwd=tmp_path)
    _refused(proc, "--dense-sizes 24", "n_tls=24", "dense ED")
    assert not out.exists()


# ------------------------------------------------------------------ chebyshev.truncation_tol

@pytest.mark.parametrize("tol", [0.11, 0.5, 0.9, 0.999])
def test_a_truncation_tol_too_large_for_a_useful_q_is_refused(tol):
    """0.5-0.999 was accepted: Q = 12 +- 18 where dense ED gives 1.18 (an honest error bar on a
    useless number)."""
    from manybody.config.solver import ChebyshevParams

    with pytest.raises(ValueError, match=rf"chebyshev.truncation_tol must be in \(0, 0.1\] .*"
                       rf"got {tol!r}"):
        ChebyshevParams(truncation_tol=tol)


def test_a_spec_with_a_truncation_tol_too_large_is_refused():
    """The same refusal from a run spec's [solver.chebyshev] table."""
    from manybody.runs.spec import RunSpec

    with pytest.raises(ValueError, match=r"truncation_tol must be in \(0, 0.1\] .*got 0.5"):
        RunSpec.from_dict({"name": "t", "seed": 1, "realisations": 2, "model": {"n_tls": 4},
                           "probe": {"frequencies": [0.1], "temperatures": [0.1]},
                           "solver": {"method": "chebyshev", "chebyshev": {"truncation_tol": 0.5}}})


def test_bench_chebyshev_tolerances_stop_at_the_cap(tmp_path):
    out = tmp_path / "out.json"
    proc = _script("bench_chebyshev.py", "tolerance", "--sizes", "4", "--tolerances", "1e-3",
                   "0.5", "--out", str(out), cwd=tmp_path)
    _refused(proc, "--tolerances", "0.5", "<= 0.1")
    assert not out.exists()


# ----------------------------------------- a kernel at least half of w: the same warning, once

def _small_realisation():
    from manybody.config.model import CouplingParams, ModelParams
    from manybody.simulation.ensembles import draw_realisation, realisation_rng

    model = ModelParams(n_tls=4, coupling=CouplingParams(kind="gaussian", strength=0.05))
    return draw_realisation(model, realisation_rng(1, 0))


def _kernel_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if "smears the response" in str(w.message)]


@pytest.mark.parametrize("w", [1e-5, 1e-3, 0.04])
def test_the_chebyshev_api_warns_as_dense_ed_where_the_kernel_is_half_of_w(w):
    """Dense ED warned that an absolute kernel of 0.02 K is at least half of w; the Chebyshev
    API said nothing and gave Q^-1 6 % off at 6.7 error bars for w = 1e-5 .. 1e-3 K. Both now
    give the same warning, once per call, pointing at the caller."""
    import warnings

    from manybody.config.probe import Broadening
    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.observables.absorption import absorption
    from manybody.simulation.solvers.chebyshev.solver import chebyshev_absorption
    from manybody.simulation.solvers.dense import solve

    real = _small_realisation()
    kernel = Broadening(width=0.02)
    with warnings.catch_warnings(record=True) as cheb:
        warnings.simplefilter("always")
        chebyshev_absorption(real, [w, 0.1], [0.05, 0.5], kernel,
                             ChebyshevParams(trace="exact", dtype="float64"))
    spectrum, elements = solve(real)
    with warnings.catch_warnings(record=True) as dense:
        warnings.simplefilter("always")
        absorption(spectrum, elements, [w, 0.1], [0.05, 0.5], kernel, method="exact")
    assert len(_kernel_warnings(cheb)) == 1 and _kernel_warnings(cheb) == _kernel_warnings(dense)
    assert f"lowest frequency {w:g} K" in _kernel_warnings(cheb)[0]
    assert [w.filename for w in cheb if "smears" in str(w.message)] == [__file__]


@pytest.mark.parametrize(("old", "new", "words"), [
    ('frequencies = [0.1]', 'frequencies = [0.1, 0.3]', "analyses one frequency"),
    ('temperatures = { x_min = 0.2, x_max = 10.0, count = 25 }', 'temperatures = [0.5]',
     "span [0.5, 2]"),
    ('observables = ["absorption", ', 'observables = [', 'lack "absorption"')])
def test_a_spec_the_script_cannot_analyse_is_refused_before_any_work(tmp_path, old, new, words):
    """helper-169 (session 53): a --spec without absorption ended in a KeyError traceback after the
    run, one temperature in "x must span [0.5, 2] ... got [0.2, 0.2]" after the run, and of two
    frequencies only the first was analysed, silently."""
    text = (ROOT / "results" / "finite_size_n12" / "spec.toml").read_text()
    assert text.count(old) == 1
    spec = tmp_path / "spec.toml"
    spec.write_text(text.replace(old, new))
    out = tmp_path / "out.json"
    _refused(_script("bench_figure_of_merit.py", "--sizes", "8", "--realisations", "2", "--out",
                     str(out), "--spec", str(spec), cwd=tmp_path), "--spec", "spec.toml", words)
    assert not out.exists()
