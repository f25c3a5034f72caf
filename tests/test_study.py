"""The built-in study end to end at a tiny size, through the CLI, plus the figure scripts."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from manybody.study import STUDY_SPECS, load_study_spec

ROOT = Path(__file__).resolve().parents[1]


def run(args, **kw):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=900, **kw)


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    proc = run(["-m", "manybody", "study", "--tiny", "-o", str(out), "-j", "2"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def test_shipped_specs_are_valid_and_physically_sensible():
    for name in STUDY_SPECS:
        if name == "relaxation":  # a velocity-shift study at 10 kHz: no resonant shape analysis
            continue
        spec = load_study_spec(name)
        probe = spec.probe
        w = probe.frequencies[0]
        assert probe.broadening.width <= 0.25 * w  # kernel width << w
        if spec.model.tls is not None:
            assert spec.model.tls.tunnelling_min <= 0.02 * w  # Delta_min << w
            assert w < spec.model.tls.asymmetry_max  # w < eps_max
        x = [w / t for t in probe.temperatures]
        assert min(x) <= 0.25 and max(x) >= 8  # x from ~0.2 to ~10


def test_tiny_study_writes_results_summary_and_figures(tiny_study):
    out, proc = tiny_study
    for name in STUDY_SPECS:
        assert (out / f"{name}.nc").stat().st_size > 0
    rows = json.loads((out / "summary.json").read_text())
    assert {r["study"] for r in rows} == set(STUDY_SPECS) - {"relaxation"}
    # per-point realisation counts survive the tiny size and reach the table
    assert [r["realisations"] for r in rows if r["study"] == "dipolar"] == [6, 8]
    assert [r["realisations"] for r in rows if r["study"] == "admixture"] == [6, 6]
    velocity = json.loads((out / "velocity_slopes.json").read_text())
    assert {r["study"] for r in velocity} == {"relaxation"}
    assert "| study | parameter |" in proc.stdout and "verdict" in proc.stdout
    for fig in ("absorption_shape", "tls_index", "specific_heat", "matrix_elements",
                "velocity_shift"):
        for ext in ("png", "pdf"):
            assert (out / "figures" / f"{fig}.{ext}").stat().st_size > 5000


def test_tiny_study_summary_values_are_recomputed_from_the_results_files(tiny_study):
    """summary.json against the results files: counts, <r> and its error (numpy here), the shape
    ratio R = Q(2)/Q(0.5) of the realisation mean (spline in ln x here), the fitted index, its
    error and the verdict (analyse_shape on the file's absorption); plus the physics at this size:
    the weakly coupled finite-size points (J0 = 0.01 << eps_max) have TLS index 1 and the flat
    block index 0, each within 3 of its stated errors."""
    from scipy.interpolate import CubicSpline

    from manybody.analysis import analyse_shape
    from manybody.results import load_results
    from manybody.spec import RunSpec
    from manybody.study import kernel_smearing

    out, _ = tiny_study
    rows = json.loads((out / "summary.json").read_text())
    assert rows
    for row in rows:
        ds = load_results(out / f"{row['study']}.nc")
        spec = RunSpec.from_dict(json.loads(ds.attrs["spec"]))
        key = next(iter(spec.sweep))
        dim = spec.dims[0]
        point = ds.isel({dim: list(spec.sweep[key]).index(row["value"])})
        count = int(point["realisation_count"])
        assert row["realisations"] == count
        assert row["n_tls"] == (row["value"] if key == "model.n_tls" else spec.model.n_tls)
        r = point["spacing_ratio"].values[:count]
        assert np.all(np.isfinite(r)) and np.all(np.isnan(point["spacing_ratio"].values[count:]))
        assert row["spacing_ratio"] == pytest.approx(r.mean(), rel=1e-12)
        assert row["spacing_ratio_error"] == pytest.approx(r.std(ddof=1) / np.sqrt(count),
                                                           rel=1e-12)
        q = point["absorption"].values[:count, :, 0]
        x = spec.probe.frequencies[0] / point["temperature"].values
        order = np.argsort(x)
        spline = CubicSpline(np.log(x[order]), q.mean(axis=0)[order])
        assert row["ratio"] == pytest.approx(float(spline(np.log(2.0)) / spline(np.log(0.5))),
                                             rel=1e-9)
        shape = analyse_shape(x, q, smearing=kernel_smearing(spec))
        assert row["index"] == pytest.approx(shape.index, rel=1e-9, abs=1e-12)
        assert row["index_error"] == pytest.approx(shape.index_error, rel=1e-9, abs=1e-12)
        assert row["verdict"] == shape.verdict
        if row["study"] == "finite_size":
            assert abs(row["index"] - 1.0) < 3 * row["index_error"], row
        if row["study"] == "random_block" and row["value"] == "flat":
            assert abs(row["index"]) < 3 * row["index_error"], row


def test_rerun_reuses_finished_results(tiny_study):
    out, _ = tiny_study
    before = {p: p.stat().st_mtime_ns for p in out.glob("*.nc") if p.name != "matrix_elements.nc"}
    proc = run(["-m", "manybody", "study", "--tiny", "-o", str(out), "--no-figures"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert before == {p: p.stat().st_mtime_ns for p in before}


def test_scripts_redraw_and_summarise_from_files(tiny_study, tmp_path):
    out, _ = tiny_study
    proc = run(["scripts/make_figures.py", str(out), "--out", str(tmp_path)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "absorption_shape.png").exists()
    proc = run(["scripts/summarise_study.py", str(out)])
    assert proc.returncode == 0 and "TLS index a" in proc.stdout


def test_study_with_a_different_spec_in_the_way_is_refused(tiny_study, tmp_path):
    out, _ = tiny_study
    (tmp_path / "dipolar.nc").write_bytes((out / "dipolar.nc").read_bytes())
    proc = run(["-m", "manybody", "study", "-o", str(tmp_path), "--only", "dipolar"])
    assert proc.returncode == 2
    assert "holds a different specification" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_scheduler_without_dask_backend_is_refused_before_work(tmp_path):
    proc = run(["-m", "manybody", "study", "--tiny", "-o", str(tmp_path), "--only", "dipolar",
                "--scheduler", "tcp://127.0.0.1:1"])
    assert proc.returncode == 2 and "backend 'dask'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(tmp_path.glob("*.nc")) and not list(tmp_path.glob("*.checkpoint"))


@pytest.mark.slow
def test_tiny_study_on_a_dask_cluster_equals_loky(tiny_study, tmp_path):
    pytest.importorskip("distributed")
    from manybody.results import load_results

    out, _ = tiny_study
    proc = run(["-m", "manybody", "study", "--tiny", "-o", str(tmp_path), "--only", "random_block",
                "--backend", "dask", "--no-figures"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    dask_ds, loky_ds = load_results(tmp_path / "random_block.nc"), load_results(out / "random_block.nc")
    for name in loky_ds.data_vars:
        assert np.array_equal(dask_ds[name].values, loky_ds[name].values, equal_nan=True), name
